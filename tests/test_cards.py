"""Model cards: one writer, so the command line and the app describe a model the same way."""

from __future__ import annotations

import pytest

from hdr.cli.main import main
from hdr.settings import HANDWRITING_DIR_ENV
from hdr.storage.store import ModelCard, read_card
from hdr.training.cards import common_split, make_card
from hdr.training.train import TrainConfig, TrainResult
from hdr.training.training_data import make_training_data

HISTORY = {"val_accuracy": [0.5, 0.9, 0.8], "val_loss": [1.0, 0.3, 0.4]}


def test_the_cli_describes_its_data_as_the_train_page_does(tmp_path, mnist, monkeypatch):
    monkeypatch.delenv(HANDWRITING_DIR_ENV, raising=False)  # MNIST alone, whatever the shell has set
    assert main(["train", "--dry-run", "--arch", "mlp", "--out", str(tmp_path / "m.keras")]) == 0
    card = read_card("m", tmp_path)
    assert card.data == make_training_data(mnist, TrainConfig(limit=512)).info  # --dry-run: 512 images
    assert card.data["val"] == 512 and card.data["test"] == len(mnist.y_test)


def test_a_card_without_a_test_evaluation_counts_no_test_images(tiny_model):
    result = TrainResult(tiny_model, HISTORY, best_epoch=2, seconds=12.34, stopped=False)
    info = {"source": "mnist", "train": 100, "val": 10, "test": 10_000}
    card = make_card("m", TrainConfig(), result, None, info, command="python -m hdr train")
    assert card.data == {**info, "test": 0} and "test_accuracy" not in card.metrics
    assert (card.metrics["val_accuracy"], card.metrics["val_loss"], card.train_seconds) == (0.9, 0.3, 12.3)


@pytest.mark.mnist  # reads MNIST itself (the command line or a page), not through the fixture
def test_an_ensemble_records_how_to_remake_a_fine_tuned_member(tmp_path):
    for argv in (["--out", "first.keras"], ["--init", "first.keras", "--out", "tuned.keras"], ["--out", "other.keras"]):
        assert (
            main(
                [
                    "train",
                    "--dry-run",
                    "--arch",
                    "mlp",
                    *[str(tmp_path / a) if a.endswith(".keras") else a for a in argv],
                ]
            )
            == 0
        )
    assert (
        main(
            [
                "ensemble",
                str(tmp_path / "other.keras"),
                str(tmp_path / "tuned.keras"),
                "--out",
                str(tmp_path / "both.keras"),
            ]
        )
        == 0
    )
    first, tuned, other = (read_card(name, tmp_path) for name in ("first", "tuned", "other"))
    members = read_card("both", tmp_path).config["members"]
    assert [m["command"] for m in members] == [other.command, f"{first.command} && {tuned.command}"]


def _member(train: int, *, split_seed: int = 0, **real: tuple[int, int]) -> ModelCard:
    """A member's card: MNIST's split plus real sources given as ``name=(train, val)``."""
    data = {"source": "MNIST", "train": train + sum(n for n, _ in real.values()), "val": 6000, "test": 10_000}
    if real:
        data["train_by_source"] = {name: n for name, (n, _) in real.items()}
        data["val_by_source"] = {"mnist": 6000, **{name: v for name, (_, v) in real.items()}}
    return ModelCard("m", "hdrnet", {"split_seed": split_seed, "val_fraction": 0.1}, data)


def test_an_ensemble_may_join_a_member_that_also_trained_on_real_handwriting():
    mnist_only, with_real = _member(54_001), _member(54_001, usps=(6_564, 727), ardis=(5_922, 659))
    assert common_split([mnist_only, with_real]) == (0, 0.1)


@pytest.mark.parametrize(
    "other",
    [
        _member(54_001, split_seed=1),  # another MNIST split
        _member(50_000),  # not all of MNIST's training split, or something more
        _member(54_001, usps=(6_000, 1_291)),  # USPS split otherwise than the first member's
    ],
)
def test_an_ensemble_refuses_members_that_held_out_different_digits(other):
    with pytest.raises(ValueError, match="not validated on one common split"):
        common_split([_member(54_001, usps=(6_564, 727)), other])
