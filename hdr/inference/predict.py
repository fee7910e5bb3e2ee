"""Fast prediction: load a model once, then classify an image in a few milliseconds.

``keras.Model.predict`` builds a data pipeline on every call (about 50 ms here even for one
image). :class:`Predictor` instead traces the model once into a ``tf.function`` with a fixed
input signature and calls it directly, so a single image costs the forward pass and little more.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from hdr.imaging.preprocess import ImageError, ImageInput, Preprocessed, preprocess_many, to_mnist
from hdr.inference.calibrate import apply_temperature
from hdr.inference.reject import Gate, verdicts
from hdr.settings import IMAGE_SIZE, NUM_CLASSES
from hdr.storage.store import ModelStoreError, load_keras_model, read_card, resolve_model_path

UNSURE_BELOW = 0.7  # below this confidence the app says the model is unsure; a calibrated card sets its own
_MAX_BATCH = 1024  # images per forward pass: bounds memory on large batches
# Confidences are written with one decimal; beyond these bounds that decimal would round to a
# certainty the model does not have ("100.0%") or to an impossibility ("0.0%").
_SHOWN_MAX, _SHOWN_MIN = 0.999, 0.001


def format_confidence(probability: float) -> str:
    """A probability as the app and the command line write it: ``"97.3%"``, ``">99.9%"``, ``"<0.1%"``.

    One decimal, and never ``"100.0%"`` or ``"0.0%"`` from rounding: above 99.9% it reads
    ``">99.9%"``, below 0.1% ``"<0.1%"`` (0 included).
    """
    if probability > _SHOWN_MAX:
        return f">{_SHOWN_MAX:.1%}"
    if probability < _SHOWN_MIN:
        return f"<{_SHOWN_MIN:.1%}"
    return f"{probability:.1%}"


@dataclass(frozen=True)
class Prediction:
    """The model's answer for one image."""

    digit: int | None  # None when the picture holds no digit: blank, or not a digit (see ``reason``)
    confidence: float  # probability of ``digit`` (0.0 when none)
    probabilities: np.ndarray  # (10,) float32; all zero when no digit was found
    preprocessed: Preprocessed  # what the model saw, and where in the image the digit is
    unsure_below: float = UNSURE_BELOW  # the model's threshold for "unsure" (see :class:`Predictor`)
    reason: str | None = None  # when ``digit`` is None: why, with a hint (:data:`hdr.inference.reject.REASONS`)

    @property
    def runner_up(self) -> int | None:
        """The second most likely digit."""
        return None if self.digit is None else int(np.argsort(self.probabilities)[-2])

    @property
    def unsure(self) -> bool:
        """True when a digit was found but the model is not confident about it."""
        return self.digit is not None and self.confidence < self.unsure_below

    def to_dict(self) -> dict:
        """``{"digit", "reason", "confidence", "unsure", "probabilities"}`` as plain JSON-able values.

        ``reason`` is None for a digit, and the sentence saying why not when ``digit`` is None.
        """
        return {
            "digit": self.digit,
            "reason": self.reason,
            "confidence": round(float(self.confidence), 6),
            "unsure": self.unsure,
            "probabilities": [round(float(p), 6) for p in self.probabilities],
        }


def batched_probabilities(
    forward: Callable[[np.ndarray], np.ndarray], x: np.ndarray, batch_size: int = _MAX_BATCH
) -> np.ndarray:
    """Runs a model's forward pass over MNIST-format inputs a bounded batch at a time.

    Args:
        forward: ``(B, 28, 28, 1)`` float32 -> ``(B, 10)`` probabilities.
        x: ``(N, 28, 28, 1)`` in [0, 1], any float dtype.
        batch_size: Most images per call: bounds the memory of one pass.

    Returns:
        ``(N, 10)`` float32 probabilities; ``(0, 10)`` for no input.
    """
    x = np.asarray(x, dtype=np.float32)
    if len(x) == 0:
        return np.zeros((0, NUM_CLASSES), np.float32)
    return np.concatenate([forward(x[i : i + batch_size]) for i in range(0, len(x), batch_size)]).astype(np.float32)


def model_version(
    model: str | os.PathLike | None = None, models_dir: str | os.PathLike | None = None
) -> tuple[str, float]:
    """A model's ``.keras`` file and its modification time: the key a server caches its Predictor under.

    A retrained or replaced file has a new time, so a cache keyed by it loads the new model.

    Raises:
        ModelStoreError: The model file is missing.
    """
    path = resolve_model_path(model, models_dir)
    try:
        if path.is_file():
            return str(path), path.stat().st_mtime
    except OSError:  # removed between the two calls
        pass
    raise ModelStoreError(f"{path}: model file not found")


class Predictor:
    """Loads a model once and classifies digits fast.

    Example:
        >>> predictor = Predictor.load()  # the active model
        >>> predictor.predict("seven.png").digit
        7
    """

    def __init__(
        self,
        model: keras.Model,
        name: str = "",
        *,
        temperature: float = 1.0,
        unsure_below: float = UNSURE_BELOW,
        gate: Gate | None = None,
    ):
        """Wraps a model.

        Args:
            model: Maps ``(B, 28, 28, 1)`` images to ``(B, 10)`` probabilities.
            name: How the model is named in answers; default: ``model.name``.
            temperature: Divides the log-probabilities (:func:`hdr.inference.calibrate.apply_temperature`); 1 keeps them.
            unsure_below: Confidence under which a prediction is flagged as unsure.
            gate: The digit-or-not network (:class:`hdr.inference.reject.Gate`); None applies the ink rules alone.
        """
        self.model = model
        self.name = name or model.name
        self.temperature = temperature
        self.unsure_below = unsure_below
        self.gate = gate
        spec = tf.TensorSpec([None, IMAGE_SIZE, IMAGE_SIZE, 1], tf.float32)
        self._forward = tf.function(lambda x: model(x, training=False), input_signature=[spec])
        self.probabilities(np.zeros((1, IMAGE_SIZE, IMAGE_SIZE, 1), np.float32))  # trace now, not on first use

    @classmethod
    def load(
        cls,
        model: str | os.PathLike | None = None,
        models_dir: str | os.PathLike | None = None,
        *,
        gate: bool = True,
    ) -> Predictor:
        """Loads a model by name or path; None loads the active model. The shipped gate is loaded beside it.

        ``models_dir`` None means the settings' models folder (``$HDR_MODELS_DIR`` or models/).
        ``gate`` False leaves the gate out: every picture with ink gets a digit, as before it existed.

        Raises:
            hdr.storage.store.ModelStoreError: The model file (or the gate's) is missing or corrupt.
        """
        path = resolve_model_path(model, models_dir)
        try:
            calibration = read_card(path.stem, path.parent).calibration
        except ModelStoreError:  # a model file without a readable card still predicts, uncalibrated
            calibration = {}
        return cls(
            load_keras_model(path),
            name=path.stem,
            temperature=float(calibration.get("temperature", 1.0)),
            unsure_below=float(calibration.get("unsure_below", UNSURE_BELOW)),
            gate=Gate.load() if gate else None,
        )

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities of MNIST-format inputs.

        Args:
            x: ``(N, 28, 28, 1)`` float32 in [0, 1].

        Returns:
            ``(N, 10)`` float32 probabilities.
        """
        return apply_temperature(batched_probabilities(lambda batch: self._forward(batch).numpy(), x), self.temperature)

    def predict(self, image: ImageInput) -> Prediction:
        """Preprocesses one image and classifies it (see :func:`hdr.imaging.preprocess.to_mnist` for inputs)."""
        return self.predict_preprocessed([to_mnist(image)])[0]

    def predict_many(self, images: Iterable[ImageInput]) -> list[Prediction]:
        """Preprocesses many images (on every core) and classifies them in one forward pass.

        Raises:
            ImageError: One of the images cannot be read (see :func:`hdr.imaging.preprocess.preprocess_many`
                to keep going past bad files).
        """
        items = preprocess_many(images)
        for item in items:
            if isinstance(item, ImageError):
                raise item
        return self.predict_preprocessed(items)

    def predict_each(self, images: Iterable[ImageInput | ImageError]) -> list[Prediction | ImageError]:
        """:meth:`predict_many` that goes past bad pictures: each keeps its :class:`ImageError` in place.

        Args:
            images: Pictures; an ``ImageError`` given in place of one (a file refused earlier, say as
                too large) is passed through as it is.

        Returns:
            One :class:`Prediction` or ``ImageError`` per picture, in order; every readable picture
            is classified in one forward pass.
        """
        items: list = list(images)
        readable = [i for i, item in enumerate(items) if not isinstance(item, ImageError)]
        for i, item in zip(readable, preprocess_many([items[i] for i in readable]), strict=True):
            items[i] = item
        predictions = iter(self.predict_preprocessed([item for item in items if isinstance(item, Preprocessed)]))
        return [next(predictions) if isinstance(item, Preprocessed) else item for item in items]

    def predict_preprocessed(self, items: Sequence[Preprocessed]) -> list[Prediction]:
        """Classifies already preprocessed images; those that hold no digit get ``digit=None`` and a reason.

        A picture holds no digit when it is blank, when its ink fills the whole photo, or when the
        gate finds it unlike a digit (:func:`hdr.inference.reject.verdicts`).
        """
        judged = verdicts(list(items), self.gate)
        found = [item.image for item, verdict in zip(items, judged, strict=True) if verdict.rule is None]
        probs = iter(self.probabilities(np.stack(found)) if found else [])
        results = []
        for item, verdict in zip(items, judged, strict=True):
            if verdict.rule is None:
                p = next(probs)
                digit = int(p.argmax())
                results.append(Prediction(digit, float(p[digit]), p, item, self.unsure_below))
            else:
                none = np.zeros(NUM_CLASSES, np.float32)
                results.append(Prediction(None, 0.0, none, item, self.unsure_below, verdict.reason))
        return results
