"""What the network looked at: integrated-gradients attribution maps on the 28x28 input.

Integrated gradients (Sundararajan et al., 2017) credits each input pixel with its share of a
class's log-probability: the gradient of ``log p(digit)`` averaged along the straight path from a
baseline (a blank image, MNIST's background) to the input, times the pixel's change from the
baseline. The shares add up to ``log p(digit | input) - log p(digit | blank)`` (completeness):
red pixels are evidence for the digit, blue ones against it. The log (not the probability) keeps
the runner-up's map readable: a confident model gives the runner-up a probability near zero all
along the path, but a log-probability that still moves. Pixels that are background in the input
score zero by construction: the method explains the ink that is there, not the ink that is
missing. A digit the model already sees in a blank image (the shipped model calls it a 1) gets a
near-empty map: no ink was needed for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from hdr.settings import IMAGE_SIZE

_LOG_FLOOR = 1e-12  # keeps log p finite where float32 softmax underflows to 0
IG_STEPS = 64  # trapezoid steps from blank to input: the maps add up within ~2% on the shipped model (32: ~7%)
_INK_GREY = 0.55  # how dark the input's ink is drawn under the colours, so both stay visible
_EVIDENCE_FOR = np.array([214, 39, 40], np.float32)  # red: pixels that raise the class's probability
_EVIDENCE_AGAINST = np.array([31, 119, 180], np.float32)  # blue: pixels that lower it


@dataclass(frozen=True)
class Attribution:
    """Where the evidence for one digit lies in the 28x28 input."""

    digit: int
    probability: float  # the model's probability of ``digit`` for the input
    map: np.ndarray  # (28, 28) float32: each pixel's share of ``log probability - log p(digit | blank)``


@dataclass(frozen=True)
class Explanation:
    """The evidence for the predicted digit and for the runner-up."""

    predicted: Attribution
    runner_up: Attribution


class Explainer:
    """Computes integrated-gradients maps for a model; traces it once, like :class:`hdr.inference.predict.Predictor`.

    Example:
        >>> explainer = Explainer(predictor.model)
        >>> explanation = explainer.explain(prediction.preprocessed.image)
        >>> explanation.predicted.digit, explanation.predicted.map.shape
        (7, (28, 28))
    """

    def __init__(self, model: keras.Model, *, steps: int = IG_STEPS):
        if steps < 1:
            raise ValueError(f"steps must be at least 1, not {steps}")
        self.model = model
        self.steps = steps
        spec = tf.TensorSpec([None, IMAGE_SIZE, IMAGE_SIZE, 1], tf.float32)
        self._gradients = tf.function(self._path_gradients, input_signature=[spec, tf.TensorSpec([None], tf.int32)])

    def _path_gradients(self, images: tf.Tensor, digits: tf.Tensor) -> tf.Tensor:
        """Gradient of ``p(digits[i])`` at ``images[i]`` for every row: ``(N, 28, 28, 1)``.

        Rows are independent (inference mode), so the gradient of the sum is each row's own.
        """
        with tf.GradientTape() as tape:
            tape.watch(images)
            probs = self.model(images, training=False)  # (N, 10)
            chosen = tf.gather(probs, digits, axis=1, batch_dims=1)  # (N,)
            total = tf.reduce_sum(tf.math.log(chosen + _LOG_FLOOR))
        return tape.gradient(total, images)

    def attributions(self, image: np.ndarray, digits: Sequence[int]) -> np.ndarray:
        """Integrated-gradients maps of ``image`` for each of ``digits``, in one batched pass.

        Args:
            image: ``(28, 28, 1)`` or ``(28, 28)`` float32 in [0, 1], MNIST format (ink 1 on 0).
            digits: The classes to explain.

        Returns:
            ``(len(digits), 28, 28)`` float32; each map sums to ``log p(digit | image) - log p(digit | blank)``
            up to the error of :attr:`steps` trapezoid steps.
        """
        x = np.asarray(image, np.float32).reshape(IMAGE_SIZE, IMAGE_SIZE, 1)
        alphas = np.linspace(0.0, 1.0, self.steps + 1, dtype=np.float32)
        path = alphas[:, None, None, None] * x  # (S+1, 28, 28, 1): blank to input
        batch = np.concatenate([path] * len(digits))  # (K*(S+1), 28, 28, 1)
        classes = np.repeat(np.asarray(digits, np.int32), len(alphas))
        grads = self._gradients(batch, classes).numpy().reshape(len(digits), len(alphas), IMAGE_SIZE, IMAGE_SIZE)
        mean_grads = (grads[:, :-1] + grads[:, 1:]).mean(axis=1) / 2  # trapezoid rule along the path
        return (mean_grads * x[None, ..., 0]).astype(np.float32)

    def explain(self, image: np.ndarray) -> Explanation:
        """The maps for the digit the model predicts for ``image`` and for its runner-up.

        Args:
            image: ``(28, 28, 1)`` float32 in [0, 1] (``Prediction.preprocessed.image``).

        Returns:
            The two attributions.
        """
        x = np.asarray(image, np.float32).reshape(1, IMAGE_SIZE, IMAGE_SIZE, 1)
        probs = np.asarray(self.model(x, training=False))[0]
        runner_up, predicted = (int(d) for d in np.argsort(probs)[-2:])
        maps = self.attributions(x[0], [predicted, runner_up])
        return Explanation(
            Attribution(predicted, float(probs[predicted]), maps[0]),
            Attribution(runner_up, float(probs[runner_up]), maps[1]),
        )


def overlay(image: np.ndarray, attribution: np.ndarray, *, zoom: int = 8, scale: float | None = None) -> np.ndarray:
    """The input in grey with evidence for the digit in red and against it in blue.

    Args:
        image: ``(28, 28, 1)`` or ``(28, 28)`` float in [0, 1], ink 1 on 0.
        attribution: ``(28, 28)`` map from :class:`Explainer`.
        zoom: Each input pixel becomes a ``zoom x zoom`` block, so the 28x28 grid stays visible.
        scale: The attribution drawn at full colour; default: the map's own largest magnitude
            (pass one value for two maps to compare their strength).

    Returns:
        ``(28*zoom, 28*zoom, 3)`` uint8 RGB.
    """
    ink = np.asarray(image, np.float32).reshape(IMAGE_SIZE, IMAGE_SIZE)
    attribution = np.asarray(attribution, np.float32)
    scale = float(np.abs(attribution).max()) if scale is None else scale
    strength = np.clip(attribution / scale, -1.0, 1.0) if scale > 0 else np.zeros_like(attribution)
    rgb = _colour(255.0 * (1.0 - _INK_GREY * ink), strength)  # white paper, grey ink, under the colours
    return np.kron(rgb, np.ones((zoom, zoom, 1))).round().astype(np.uint8)


def legend(width: int = 224, height: int = 14) -> np.ndarray:
    """The maps' colour scale on paper, as :func:`overlay` draws it: a ``(height, width, 3)`` uint8 strip.

    Full blue (the strongest evidence against) on the left, paper white (no effect) in the middle,
    full red (the strongest evidence for) on the right.
    """
    strength = np.linspace(-1.0, 1.0, width, dtype=np.float32)[None, :]
    rgb = _colour(np.full_like(strength, 255.0), strength)
    return np.repeat(rgb, height, axis=0).round().astype(np.uint8)


def _colour(grey: np.ndarray, strength: np.ndarray) -> np.ndarray:
    """``(H, W)`` grey levels tinted by ``(H, W)`` strengths in [-1, 1]: red for, blue against; ``(H, W, 3)`` float."""
    colour = np.where(strength[..., None] > 0, _EVIDENCE_FOR, _EVIDENCE_AGAINST)
    weight = np.abs(strength)[..., None]
    return (1.0 - weight) * grey[..., None] + weight * colour
