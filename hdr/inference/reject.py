"""Not a digit is an answer: rules on the ink, and a small digit-or-not network beside the classifier.

The 10-class model always names a digit, so a letter, a smiley, a dot or a photo of blank paper
would get one, often at 99%. Before its answer counts, each picture passes two checks:

1. rules on what the preprocessing found (:func:`ink_rule`): nothing stands out (blank), or what
   stands out fills the whole photo (texture, shadow, a page edge, a test card);
2. the gate (:class:`Gate`), a network of a few thousand weights that sees the same 28x28 input
   as the classifier and says how much it looks like a digit at all. It was trained on MNIST and
   real handwriting against generated non-digits (letters, words, shapes, scribbles, dots, paper
   and test-card photos; ``tools/train_gate.py``), and its threshold was set on a validation split
   so that at most about half a percent of the digits of every validation set is turned away.

A rejected picture gets ``digit=None`` and a one-sentence reason with a hint
(:data:`REASONS`). The gate ships in ``models/gate/`` beside the default model and serves any
classifier, since it sees only the preprocessed input.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hdr.imaging.preprocess import Preprocessed
from hdr.settings import IMAGE_SIZE, MIN_PHOTO_SIDE, shipped_dir

GATE_NAME = "gate"  # the gate's files: models/gate/gate.keras and its card gate.json
GATE_FOLDER = "gate"  # a folder of its own, so the model store never lists it as a classifier
WHOLE_PICTURE = 0.9  # ink whose box spans this share of a photo's width and height is not writing
SMALL_INK = 0.12  # a rejected picture whose ink spans less than this share of its side gets "write bigger"
DEFAULT_THRESHOLD = 0.5  # the gate's cut when its card has none
ONE_ASPECT = 0.3  # ink at most this wide for its height in the 28x28 input is a 1, whatever the gate says
GATE_BATCH = 1024  # images per forward pass: bounds memory on large batches

REASONS = {
    "blank": "No digit here: the picture is blank. Write a digit, or retake the photo with the digit in view.",
    "whole": "No digit here: what stands out fills the whole picture (paper texture, a shadow or a pattern). "
    "Retake the photo closer, of one digit on plain paper.",
    "small": "No digit here: only a dot or a speck. Write a digit, bigger.",
    "gate": "No digit here: this does not look like a digit (a letter, a word, a drawing?). "
    "Write one digit, large and clear.",
}


@dataclass(frozen=True)
class Verdict:
    """Whether a picture holds a digit, and if not, why."""

    rule: str | None  # a key of REASONS, or None when the picture passed every check

    @property
    def reason(self) -> str | None:
        """The sentence shown to the user, or None for a digit."""
        return None if self.rule is None else REASONS[self.rule]


def ink_rule(item: Preprocessed) -> str | None:
    """The rule a picture fails before any network looks at it, or None.

    Args:
        item: What :func:`hdr.imaging.preprocess.to_mnist` made of the picture.

    Returns:
        ``"blank"`` when no ink stands out; ``"whole"`` when the ink's box spans
        :data:`WHOLE_PICTURE` of both sides of a photo-sized picture (small scans and crops,
        under ``MIN_PHOTO_SIDE`` a side, are filled by their digit and exempt); else None.
    """
    if not item.found or item.box is None:
        return "blank"
    width, height = item.source_size
    _, _, w, h = item.box
    if min(width, height) >= MIN_PHOTO_SIDE and w >= WHOLE_PICTURE * width and h >= WHOLE_PICTURE * height:
        return "whole"
    return None


def gate_rule(item: Preprocessed, score: float, threshold: float) -> str | None:
    """``"small"`` or ``"gate"`` when the gate's ``score`` is under ``threshold``, else None.

    The gate decides; the size of the ink only chooses the hint (a dot on a canvas, a speck on paper).
    """
    if score >= threshold or _is_a_one(item.image):
        return None
    width, height = item.source_size
    _, _, w, h = item.box or (0, 0, 0, 0)
    return "small" if max(w, h) < SMALL_INK * min(width, height) else "gate"


def _is_a_one(image: np.ndarray) -> bool:
    """Whether the 28x28 input is one tall, thin stroke: a 1 in every hand (a ruled bar, a pen's line).

    The gate learnt letters and strokes, and a bar with square ends is one of them; the shape of a 1
    needs no network, and turning it away would fail the commonest digit there is.
    """
    ink = np.asarray(image, np.float32).reshape(IMAGE_SIZE, IMAGE_SIZE) > 0.2 * float(np.max(image) or 1.0)
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if not len(rows):
        return False
    height, width = rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
    return width <= ONE_ASPECT * height


class Gate:
    """The digit-or-not network: ``(N, 28, 28, 1)`` inputs -> how much each looks like a digit.

    Example:
        >>> gate = Gate.load()
        >>> gate.scores(x) >= gate.threshold  # True for digits
    """

    def __init__(self, model, threshold: float = DEFAULT_THRESHOLD, name: str = GATE_NAME):
        """Wraps a Keras model with one sigmoid output (see :func:`hdr.training.gate.build_gate`).

        Args:
            model: Maps ``(B, 28, 28, 1)`` float32 to ``(B, 1)`` scores in [0, 1].
            threshold: Scores below this are not digits.
            name: How the gate is named in answers.
        """
        import tensorflow as tf

        self.model, self.threshold, self.name = model, float(threshold), name
        spec = tf.TensorSpec([None, IMAGE_SIZE, IMAGE_SIZE, 1], tf.float32)
        self._forward = tf.function(lambda x: model(x, training=False), input_signature=[spec])
        self.scores(np.zeros((1, IMAGE_SIZE, IMAGE_SIZE, 1), np.float32))  # trace now, not on first use

    @classmethod
    def load(cls, folder: str | os.PathLike | None = None) -> Gate | None:
        """Loads the gate from ``folder`` (default: the shipped ``models/gate/``); None when it has none.

        Raises:
            hdr.storage.store.ModelStoreError: The gate's file is there but corrupt.
        """
        from hdr.storage.store import ModelStoreError, load_keras_model, read_card

        folder = Path(folder) if folder is not None else gate_dir()
        path = folder / f"{GATE_NAME}.keras"
        if not path.is_file():
            return None
        try:
            threshold = float(read_card(GATE_NAME, folder).calibration.get("threshold", DEFAULT_THRESHOLD))
        except ModelStoreError:
            threshold = DEFAULT_THRESHOLD
        return cls(load_keras_model(path), threshold)

    def scores(self, x: np.ndarray) -> np.ndarray:
        """``(N,)`` float32 in [0, 1]: how much each of ``x`` ``(N, 28, 28, 1)`` looks like a digit."""
        x = np.asarray(x, np.float32)
        batches = [self._forward(x[i : i + GATE_BATCH]).numpy()[:, 0] for i in range(0, len(x), GATE_BATCH)]
        return np.concatenate(batches).astype(np.float32) if batches else np.zeros(0, np.float32)


def gate_dir() -> Path:
    """The folder of the shipped gate: ``gate/`` in the shipped models folder."""
    return shipped_dir() / GATE_FOLDER


def verdicts(items: list[Preprocessed], gate: Gate | None) -> list[Verdict]:
    """The rules and the gate on preprocessed pictures, the gate in one batched pass.

    Args:
        items: What :func:`hdr.imaging.preprocess.to_mnist` made of each picture.
        gate: The gate; None applies the ink rules alone.

    Returns:
        One :class:`Verdict` per item, in order.
    """
    rules = [ink_rule(item) for item in items]
    passed = [i for i, rule in enumerate(rules) if rule is None]
    if gate is not None and passed:
        scores = gate.scores(np.stack([items[i].image for i in passed]))
        for i, score in zip(passed, scores, strict=True):
            rules[i] = gate_rule(items[i], float(score), gate.threshold)
    return [Verdict(rule) for rule in rules]
