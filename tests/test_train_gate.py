"""tools/train_gate.py end to end, on a few hundred pictures: the gate, its threshold and its card."""

from __future__ import annotations

import numpy as np
import pytest

from hdr.storage.store import read_card
from tools.train_gate import main

pytestmark = pytest.mark.mnist  # the tool reads MNIST itself, before anything else


def test_a_dry_run_saves_a_gate_whose_threshold_counts_only_digits_read_right(tmp_path):
    out, cache = tmp_path / "gate", tmp_path / "data.npz"
    assert main(["--dry-run", "--out", str(out), "--cache", str(cache)]) == 0
    card = read_card("gate", out)
    assert 0 < card.calibration["threshold"] < 1 and (out / "gate.keras").is_file()
    left_out = card.metrics["val_digits_misread_left_out"]
    assert set(left_out) == set(card.metrics["val_digits_rejected"]) >= {"MNIST val, fat pen on a canvas"}
    with np.load(cache) as saved:  # the validation digits' labels are kept with them
        assert {k[4:] for k in saved.files if k.startswith("vdl:")} == set(left_out)


def test_a_cache_without_labels_is_refused_in_one_line(tmp_path, capsys):
    cache = tmp_path / "old.npz"
    np.savez_compressed(cache, **{"vdg:MNIST val, clean": np.zeros((1, 28, 28, 1), np.float32)})
    with pytest.raises(SystemExit):
        main(["--dry-run", "--out", str(tmp_path / "gate"), "--cache", str(cache)])
    assert "holds no labels" in capsys.readouterr().err
