"""Not a digit is an answer: the ink rules, the gate, the predictor's reason, and the non-digit pictures."""

from __future__ import annotations

import numpy as np
import pytest

from hdr.imaging.preprocess import Preprocessed, to_mnist
from hdr.inference.predict import Predictor
from hdr.inference.reject import GATE_NAME, REASONS, Gate, gate_rule, ink_rule, verdicts
from hdr.settings import IMAGE_SIZE
from hdr.storage.store import ModelCard, save_model
from hdr.training.gate import GateConfig, build_gate, choose_threshold, fit_gate
from synth.non_digits import FONT_SPLITS, HELD_OUT_KINDS, KINDS, SPLITS, font_files, kinds, make_non_digit

EMPTY = np.zeros((IMAGE_SIZE, IMAGE_SIZE, 1), np.float32)


def _item(box, size, found=True) -> Preprocessed:
    return Preprocessed(EMPTY, found, box if found else None, size)


@pytest.mark.parametrize(
    ("item", "rule"),
    [
        (_item(None, (280, 280), found=False), "blank"),
        (_item((0, 0, 640, 480), (640, 480)), "whole"),  # a box around the whole photo: texture, not writing
        (_item((10, 5, 600, 460), (640, 480)), "whole"),
        (_item((0, 0, 28, 28), (28, 28)), None),  # a small scan is filled by its digit
        (_item((100, 40, 80, 200), (640, 480)), None),
        (_item((0, 0, 640, 200), (640, 480)), None),  # wide, not whole
    ],
)
def test_ink_rules(item, rule):
    assert ink_rule(item) == rule


@pytest.mark.parametrize(
    ("box", "score", "rule"),
    [
        ((10, 10, 150, 200), 0.9, None),
        ((10, 10, 150, 200), 0.1, "gate"),
        ((10, 10, 20, 20), 0.1, "small"),  # a dot: "write bigger"
        ((10, 10, 20, 20), 0.9, None),  # a small digit the gate accepts stays a digit
    ],
)
def test_gate_rule_decides_and_the_ink_size_picks_the_hint(box, score, rule):
    assert gate_rule(_item(box, (280, 280)), score, threshold=0.5) == rule


class _FixedGate:
    """A gate stand-in that scores every picture the same."""

    def __init__(self, score: float, threshold: float = 0.5):
        self.score, self.threshold = score, threshold

    def scores(self, x: np.ndarray) -> np.ndarray:
        return np.full(len(x), self.score, np.float32)


def test_verdicts_run_the_gate_only_on_what_passes_the_rules():
    items = [_item(None, (280, 280), found=False), _item((50, 50, 150, 200), (280, 280))]
    assert [v.rule for v in verdicts(items, _FixedGate(0.0))] == ["blank", "gate"]
    assert [v.rule for v in verdicts(items, _FixedGate(1.0))] == ["blank", None]
    assert [v.rule for v in verdicts(items, None)] == ["blank", None]
    assert verdicts(items, None)[0].reason == REASONS["blank"] and verdicts(items, None)[1].reason is None


def test_every_reason_is_one_sentence_with_a_hint():
    for reason in REASONS.values():
        assert reason.startswith("No digit here: ") and reason.endswith(".") and "\n" not in reason


def test_choose_threshold_keeps_every_set_within_its_share():
    sets = {"big": np.linspace(0.5, 1.0, 1000), "small": np.linspace(0.2, 1.0, 100)}
    threshold = choose_threshold(sets, 0.05)
    assert all(np.mean(s < threshold) <= 0.05 + 1e-9 for s in sets.values())
    assert threshold == pytest.approx(np.quantile(sets["small"], 0.05))  # the hardest set decides


def _bars_and_blobs(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Tiny data: a vertical bar is a "digit", a filled square is not."""
    x = np.zeros((2 * n, IMAGE_SIZE, IMAGE_SIZE, 1), np.float32)
    for i in range(n):
        c = int(rng.integers(8, 20))
        x[i, 4:24, c : c + 3] = 1.0
        x[n + i, c - 4 : c + 4, c - 4 : c + 4] = 1.0
    return x, np.concatenate([np.ones(n), np.zeros(n)])


def test_a_gate_trained_on_tiny_data_saves_loads_and_separates_it(tmp_path):
    x, y = _bars_and_blobs(64, np.random.default_rng(0))
    model, history = fit_gate(x, y, GateConfig(filters=(4, 4, 4), dense=8, epochs=8, learning_rate=1e-2))
    assert len(history["loss"]) == 8 and history["seconds"] > 0
    card = ModelCard(name=GATE_NAME, arch="gate", config={}, data={}, calibration={"threshold": 0.4})
    save_model(model, card, tmp_path)
    gate = Gate.load(tmp_path)
    assert gate is not None and gate.threshold == pytest.approx(0.4)
    scores = gate.scores(x)
    assert scores.shape == (len(x),) and scores[y == 1].mean() > scores[y == 0].mean()
    assert Gate.load(tmp_path / "nothing-here") is None


def test_build_gate_is_small():
    assert build_gate().count_params() < 50_000  # a few milliseconds a drawing, beside the classifier


def test_the_predictor_answers_no_digit_with_a_reason_when_the_gate_refuses(shipped):
    from synth.canvas import draw_digit

    picture = draw_digit(7)
    refusing = Predictor(shipped.model, "default", gate=_FixedGate(0.0))
    accepting = Predictor(shipped.model, "default", gate=_FixedGate(1.0))
    no, yes = refusing.predict(picture), accepting.predict(picture)
    assert no.digit is None and no.reason == REASONS["gate"] and no.to_dict()["digit"] is None
    assert no.to_dict()["reason"] == REASONS["gate"] and no.confidence == 0.0
    assert yes.digit == 7 and yes.reason is None and yes.to_dict()["reason"] is None


def test_the_shipped_gate_loads_beside_the_default_model(shipped):
    assert shipped.gate is not None and 0.0 < shipped.gate.threshold < 1.0
    assert Predictor.load("default", gate=False).gate is None


def test_the_shipped_predictor_rejects_a_letter_a_dot_and_blank_paper_but_not_digits(shipped):
    from synth.canvas import draw_digit
    from synth.non_digits import LETTER_A, draw_shape

    letter = draw_shape(LETTER_A)
    dot = np.zeros((280, 280, 4), np.uint8)
    dot[130:148, 130:148, 3] = 255  # one click of an 18 px pen
    paper = make_non_digit("blank paper photo", "test", np.random.default_rng(1)).picture
    for picture in (letter, dot, paper):
        prediction = shipped.predict(picture)
        assert prediction.digit is None and prediction.reason.startswith("No digit here")
    assert [shipped.predict(draw_digit(d)).digit for d in range(10)] == list(range(10))


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_of_non_digit_makes_a_picture(kind):
    item = make_non_digit(kind, "test", np.random.default_rng(0), small_photos=True)
    assert item.kind == kind
    if isinstance(item.picture, bytes):
        assert item.picture[:2] == b"\xff\xd8"  # a JPEG
    else:
        assert item.picture.dtype == np.uint8 and item.picture.shape[2] == 4 and item.picture[..., 3].any()
    assert to_mnist(item.picture).image.shape == (IMAGE_SIZE, IMAGE_SIZE, 1)


def test_the_splits_share_no_font_and_the_held_out_kinds_are_only_in_test():
    for a in SPLITS:
        for b in SPLITS:
            if a < b:
                assert not set(font_files(a)) & set(font_files(b))
                assert not set(FONT_SPLITS[a]) & set(FONT_SPLITS[b])
    assert set(HELD_OUT_KINDS) <= set(kinds("test"))
    assert not set(HELD_OUT_KINDS) & (set(kinds("train")) | set(kinds("val")))


def test_a_straight_bar_is_a_one_whatever_the_gate_says(shipped):
    for side in (280, 4000):  # a canvas and a photo
        picture = np.full((side, side), 255, np.uint8)
        picture[side // 5 : side * 4 // 5, side // 2 - side // 60 : side // 2 + side // 60] = 0  # square ends
        prediction = shipped.predict(picture)
        assert prediction.digit == 1 and prediction.reason is None, (side, prediction.reason)
