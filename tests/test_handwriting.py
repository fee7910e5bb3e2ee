"""Real handwriting beside MNIST: the loaders on tiny files written here, the split and the training mix."""

import gzip

import numpy as np
import pytest

from hdr.settings import HANDWRITING_DIR_ENV
from hdr.training.data import DataError, Mnist
from hdr.training.handwriting import ARDIS_FILE, USPS_FILE, as_scans, load_handwriting, read_ardis, read_usps
from hdr.training.train import TrainConfig
from hdr.training.training_data import make_training_data


def _bar(size: int, digit: int) -> np.ndarray:
    """A uint8 ink-high digit-like mark filling its box, as both sets store them; wider for higher labels."""
    image = np.zeros((size, size), np.uint8)
    half = 1 + digit // 3
    image[1:-1, size // 2 - half : size // 2 + half] = 255
    return image


def _write_usps(path, labels):
    lines = []
    for label in labels:
        values = _bar(16, label).astype(np.float32) / 127.5 - 1.0  # paper -1, ink 1
        lines.append(" ".join([f"{label:.4f}"] + [f"{v:.4f}" for v in values.ravel()]))
    with gzip.open(path, "wt") as f:
        f.write("\n".join(lines) + "\n")


def _write_ardis(path, labels):
    np.savez(path, x=np.stack([_bar(28, label) for label in labels]), y=np.asarray(labels, np.uint8))


def test_usps_is_read_as_ink_on_paper(tmp_path):
    _write_usps(tmp_path / USPS_FILE, [3, 7])
    x, y = read_usps(tmp_path / USPS_FILE)
    assert x.shape == (2, 16, 16) and x.dtype == np.uint8
    assert y.tolist() == [3, 7]
    np.testing.assert_array_equal(x[0], _bar(16, 3))


@pytest.mark.parametrize(
    "content",
    [b"not gzip at all", gzip.compress(b"1.0 0.5 0.5\n"), gzip.compress(b"12.0 " + b"0.0 " * 256 + b"\n")],
    ids=["not-gzip", "short-line", "label-out-of-range"],
)
def test_a_malformed_usps_file_is_one_clear_error(tmp_path, content):
    (tmp_path / USPS_FILE).write_bytes(content)
    with pytest.raises(DataError, match=USPS_FILE):
        read_usps(tmp_path / USPS_FILE)


def test_ardis_is_read_and_checked(tmp_path):
    _write_ardis(tmp_path / ARDIS_FILE, [0, 9])
    x, y = read_ardis(tmp_path / ARDIS_FILE)
    assert x.shape == (2, 28, 28) and y.tolist() == [0, 9]
    np.savez(tmp_path / "bad.npz", x=np.zeros((2, 16, 16), np.uint8), y=np.zeros(2, np.uint8))
    with pytest.raises(DataError, match="expected x"):
        read_ardis(tmp_path / "bad.npz")
    np.savez(tmp_path / "nokeys.npz", images=np.zeros(2))
    with pytest.raises(DataError, match="cannot read ARDIS"):
        read_ardis(tmp_path / "nokeys.npz")


def test_scans_get_a_margin_of_paper():
    scans = as_scans(np.full((1, 16, 16), 255, np.uint8))
    assert scans.shape == (1, 24, 24)
    assert scans[0, :4].max() == 0 and scans[0, 4:20, 4:20].min() == 255


def test_without_a_folder_there_is_no_real_handwriting(monkeypatch, tmp_path):
    monkeypatch.delenv(HANDWRITING_DIR_ENV, raising=False)
    assert load_handwriting() == []
    with pytest.raises(DataError, match="not found"):
        load_handwriting(tmp_path / "missing")
    with pytest.raises(DataError, match="neither"):
        load_handwriting(tmp_path)


@pytest.fixture()
def folder(tmp_path):
    labels = [d for d in range(10) for _ in range(10)]
    _write_usps(tmp_path / USPS_FILE, labels)
    _write_ardis(tmp_path / ARDIS_FILE, labels)
    return tmp_path


def test_each_source_is_split_stratified_and_preprocessed_like_a_picture(folder, monkeypatch):
    monkeypatch.setenv(HANDWRITING_DIR_ENV, str(folder))
    sets = load_handwriting(val_fraction=0.2)
    assert [s.name for s in sets] == ["usps", "ardis"]
    for s in sets:
        assert np.bincount(s.y_val, minlength=10).tolist() == [2] * 10
        assert len(s.y_train) == 80
        assert s.x_train.shape[1:] == (28, 28) and s.x_train.dtype == np.uint8
        # to_mnist fits the mark into MNIST's 20x20 box: nothing in the outer 4 pixels.
        assert s.x_train[:, :3].max() == 0 and s.x_train.max() == 255


def test_real_sources_join_training_and_keep_their_own_validation(folder):
    real = load_handwriting(folder, val_fraction=0.2)
    x = np.zeros((200, 28, 28), np.uint8)
    y = np.repeat(np.arange(10), 20)
    mnist = Mnist(x, y, x[:10], y[:10], "MNIST (test arrays)")
    data = make_training_data(mnist, TrainConfig(limit=170), real=real)
    assert list(data.val_by_source) == ["mnist", "usps", "ardis"]
    assert [len(v[1]) for v in data.val_by_source.values()] == [20, 20, 20]
    assert len(data.y_val) == 60
    # Real digits come first, so a limit trims MNIST alone (rehearsal beside the real sources).
    np.testing.assert_array_equal(data.x_train[:80], real[0].x_train)
    assert data.info["train"] == 170 and data.info["val_by_source"] == {"mnist": 20, "usps": 20, "ardis": 20}
    assert "usps (80 train, 20 val)" in data.info["source"]
    # A distilling run keeps its teacher's answers on MNIST's images alone: they come last.
    assert data.from_mnist.tolist() == [False] * 160 + [True] * 180


@pytest.mark.mnist  # reads MNIST itself (the command line or a page), not through the fixture
def test_train_mixes_real_sources_in_and_calibrate_writes_what_predict_uses(folder, tmp_path, capsys):
    import json

    from hdr.cli.main import main
    from hdr.inference.predict import Predictor

    out = tmp_path / "mixed.keras"
    args = ["--handwriting-dir", str(folder)]
    assert main(["train", "--dry-run", "--arch", "mlp", "--out", str(out), *args]) == 0
    card = json.loads(out.with_suffix(".json").read_text())
    assert set(card["metrics"]["val_accuracy_by_source"]) == {"mnist", "usps", "ardis"}
    assert card["data"]["val_by_source"] == {"mnist": 512, "usps": 10, "ardis": 10}
    assert "validation accuracy by source" in capsys.readouterr().err

    # An ensemble with a member trained on the real sources scores each source's own validation split.
    other = tmp_path / "other.keras"
    assert main(["train", "--dry-run", "--arch", "mlp", "--seed", "1", "--out", str(other), *args]) == 0
    both = tmp_path / "both.keras"
    assert main(["ensemble", str(out), str(other), "--out", str(both), *args]) == 0
    assert "; usps " in capsys.readouterr().out
    ensemble = json.loads(both.with_suffix(".json").read_text())
    assert set(ensemble["metrics"]["val_accuracy_by_source"]) == {"mnist", "usps", "ardis"}
    assert ensemble["data"]["train_by_source"] == {"usps": 90, "ardis": 90}  # 10% held out of 100 each

    assert main(["calibrate", "--model", str(out), "--json", *args]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["temperature"] > 0 and 0 <= report["unsure_below"] <= 1
    assert set(report["validation"]) == {"mnist", "usps", "ardis"}
    assert {"ece_before", "ece_after", "misreads_flagged", "correct_flagged"} <= set(report["validation"]["usps"])
    predictor = Predictor.load(out)
    assert predictor.temperature == pytest.approx(report["temperature"])
    assert predictor.unsure_below == pytest.approx(report["unsure_below"])
    prediction = predictor.predict(np.pad(_bar(16, 1), 6))
    assert prediction.to_dict()["unsure"] == (prediction.confidence < report["unsure_below"])
