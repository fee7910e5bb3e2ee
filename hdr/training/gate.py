"""Training the digit gate of :mod:`hdr.inference.reject`: a small digit-or-not network on the 28x28 model input.

The data comes from outside the library (``tools/train_gate.py`` makes it: digits from MNIST's
training split and real handwriting, non-digits from ``synth.non_digits``); here are the network,
its training on arrays, and the choice of its threshold on validation sets.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import keras
import numpy as np

from hdr.settings import IMAGE_SIZE


@dataclass(frozen=True)
class GateConfig:
    """The gate's architecture and training settings."""

    filters: tuple[int, int, int] = (16, 32, 32)  # three 3x3 convolutions, max-pooled after the first two
    dense: int = 32  # units of the hidden dense layer
    dropout: float = 0.2  # before the output
    epochs: int = 8
    batch_size: int = 128
    learning_rate: float = 2e-3
    seed: int = 0

    def to_dict(self) -> dict:
        """The settings as JSON-able values (for the gate's card)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


def build_gate(config: GateConfig = GateConfig()) -> keras.Model:
    """The gate network: ``(B, 28, 28, 1)`` float32 in [0, 1] -> ``(B, 1)`` how much it looks like a digit."""
    keras.utils.set_random_seed(config.seed)
    first, second, third = config.filters
    inputs = keras.Input((IMAGE_SIZE, IMAGE_SIZE, 1))
    x = keras.layers.Conv2D(first, 3, activation="relu", padding="same")(inputs)
    x = keras.layers.MaxPooling2D()(x)  # 14x14
    x = keras.layers.Conv2D(second, 3, activation="relu", padding="same")(x)
    x = keras.layers.MaxPooling2D()(x)  # 7x7
    x = keras.layers.Conv2D(third, 3, activation="relu")(x)  # 5x5
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(config.dense, activation="relu")(x)
    x = keras.layers.Dropout(config.dropout)(x)
    outputs = keras.layers.Dense(1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs, name="gate")


def fit_gate(
    x: np.ndarray, is_digit: np.ndarray, config: GateConfig = GateConfig(), *, verbose: int = 0
) -> tuple[keras.Model, dict]:
    """Trains a gate on balanced classes.

    Args:
        x: ``(N, 28, 28, 1)`` float32 in [0, 1], what :func:`hdr.imaging.preprocess.to_mnist` made of each picture.
        is_digit: ``(N,)`` 1 for digits, 0 for non-digits.
        config: Architecture and training settings.
        verbose: Keras's progress output.

    Returns:
        ``(model, history)``, the history with ``seconds`` added.
    """
    y = np.asarray(is_digit, np.float32)
    positives = max(float(y.sum()), 1.0)
    negatives = max(float(len(y) - y.sum()), 1.0)
    weights = np.where(y > 0.5, len(y) / (2 * positives), len(y) / (2 * negatives)).astype(np.float32)
    model = build_gate(config)
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate), loss="binary_crossentropy")
    start = time.perf_counter()
    history = model.fit(
        np.asarray(x, np.float32),
        y,
        sample_weight=weights,
        epochs=config.epochs,
        batch_size=config.batch_size,
        shuffle=True,
        verbose=verbose,
    )
    return model, {
        **{k: [float(v) for v in vs] for k, vs in history.history.items()},
        "seconds": time.perf_counter() - start,
    }


def choose_threshold(digit_scores: dict[str, np.ndarray], max_rejected: float) -> float:
    """The highest threshold that turns away at most ``max_rejected`` of every set of digits.

    Args:
        digit_scores: ``{set name: (N,) gate scores of its digits}``; every set counts alone, so a
            small set of real handwriting weighs as much as MNIST.
        max_rejected: Share of each set's digits that may score under the threshold.

    Returns:
        The threshold: the smallest of the sets' ``max_rejected`` quantiles.
    """
    return float(min(np.quantile(scores, max_rejected) for scores in digit_scores.values() if len(scores)))
