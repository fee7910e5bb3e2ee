"""The model zoo: every architecture by name, each built from a :class:`ModelConfig`.

All models take ``(B, 28, 28, 1)`` float32 images in [0, 1] and return ``(B, 10)`` softmax
probabilities, so any of them can be trained, evaluated, saved and served the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import keras
import numpy as np
from keras import layers

from hdr.config import ARCHITECTURE_NOTES, ModelConfig  # noqa: F401  (the notes, importable beside the zoo)
from hdr.settings import IMAGE_SIZE, NUM_CLASSES

INPUT_SHAPE = (IMAGE_SIZE, IMAGE_SIZE, 1)


def _mlp(cfg: ModelConfig) -> keras.Model:
    """Seed 004: 784-512-512-10 MLP with dropout 0.3."""
    rate = 0.3 if cfg.dropout is None else cfg.dropout
    return keras.Sequential(
        [
            keras.Input(INPUT_SHAPE),
            layers.Flatten(),
            layers.Dense(512, activation="relu"),
            layers.Dropout(rate),
            layers.Dense(512, activation="relu"),
            layers.Dropout(rate),
            layers.Dense(NUM_CLASSES, activation="softmax"),
        ],
        name="mlp",
    )


def _simple_cnn(cfg: ModelConfig) -> keras.Model:
    """The classic Keras example: Conv32-Conv64-pool-dropout-Dense128."""
    rate = 0.25 if cfg.dropout is None else cfg.dropout
    w = cfg.width
    return keras.Sequential(
        [
            keras.Input(INPUT_SHAPE),
            layers.Conv2D(w, 3, activation="relu"),
            layers.Conv2D(2 * w, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Dropout(rate),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dropout(2 * rate),
            layers.Dense(NUM_CLASSES, activation="softmax"),
        ],
        name="simple_cnn",
    )


def _bn_cnn(cfg: ModelConfig) -> keras.Model:
    """The 99.47% project: three Conv-BN-pool blocks of 32, 64 and 128 filters with dropout."""
    rate = 0.25 if cfg.dropout is None else cfg.dropout
    w = cfg.width
    blocks = []
    for filters in (w, 2 * w, 4 * w):
        blocks += [
            layers.Conv2D(filters, 3, padding="same", use_bias=False),
            layers.BatchNormalization(),
            layers.ReLU(),
            layers.MaxPooling2D(2),
            layers.Dropout(rate),
        ]
    return keras.Sequential(
        [
            keras.Input(INPUT_SHAPE),
            *blocks,
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dropout(2 * rate),
            layers.Dense(NUM_CLASSES, activation="softmax"),
        ],
        name="bn_cnn",
    )


def _kaggle5(cfg: ModelConfig) -> keras.Model:
    """The 99.5% Kaggle entry: Conv32x2 (5x5), Conv64x2 (3x3), Dense256."""
    rate = 0.25 if cfg.dropout is None else cfg.dropout
    w = cfg.width
    return keras.Sequential(
        [
            keras.Input(INPUT_SHAPE),
            layers.Conv2D(w, 5, padding="same", activation="relu"),
            layers.Conv2D(w, 5, padding="same", activation="relu"),
            layers.MaxPooling2D(2),
            layers.Dropout(rate),
            layers.Conv2D(2 * w, 3, padding="same", activation="relu"),
            layers.Conv2D(2 * w, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(2, strides=2),
            layers.Dropout(rate),
            layers.Flatten(),
            layers.Dense(256, activation="relu"),
            layers.Dropout(2 * rate),
            layers.Dense(NUM_CLASSES, activation="softmax"),
        ],
        name="kaggle5",
    )


def _conv_bn(
    filters: int, kernel: int, strides: int = 1, padding: str = "same", momentum: float = 0.99
) -> list[layers.Layer]:
    """Conv (no bias: BN has one) + BatchNorm + ReLU."""
    return [
        layers.Conv2D(filters, kernel, strides=strides, padding=padding, use_bias=False),
        layers.BatchNormalization(momentum=momentum),
        layers.ReLU(),
    ]


def _hdrnet(cfg: ModelConfig) -> keras.Model:
    """The project's own: all-convolutional, BN everywhere, learned (strided) downsampling.

    Two stages of Conv3-Conv3-Conv5/2 replace pooling with strided 5x5 convolutions, which
    keeps more spatial detail than max-pooling on 28x28 digits; a final 4x4 convolution over
    the 4x4 map acts as the dense layer. About 330k parameters at ``width=32``.
    """
    rate = 0.4 if cfg.dropout is None else cfg.dropout
    w = cfg.width
    stack: list[layers.Layer] = [keras.Input(INPUT_SHAPE)]
    for filters in (w, 2 * w):  # (B, 28, 28, 1) -> (B, 12, 12, w) -> (B, 4, 4, 2w)
        stack += _conv_bn(filters, 3, padding="valid")
        stack += _conv_bn(filters, 3, padding="valid")
        stack += _conv_bn(filters, 5, strides=2)
        stack.append(layers.Dropout(rate))
    stack += _conv_bn(4 * w, 4, padding="valid")  # (B, 4, 4, 2w) -> (B, 1, 1, 4w)
    stack += [layers.Flatten(), layers.Dropout(rate), layers.Dense(NUM_CLASSES, activation="softmax")]
    return keras.Sequential(stack, name="hdrnet")


def _quicknet(cfg: ModelConfig) -> keras.Model:
    """Built for time to accuracy on a CPU: the ``quick`` and ``standard`` presets' network.

    Most of the compute sits at 14x14 and 7x7, where it buys the most accuracy per second; a
    single 3x3 convolution at full resolution. Batch-norm statistics follow the weights closely
    (momentum 0.9, not Keras' 0.99), so a model trained for a few hundred steps is already
    right in inference mode. About 140k parameters at ``width=32``.
    """
    rate = 0.3 if cfg.dropout is None else cfg.dropout
    w = cfg.width
    stack: list[layers.Layer] = [keras.Input(INPUT_SHAPE)]
    stack += _conv_bn(w, 3, momentum=0.9)
    stack.append(layers.MaxPooling2D(2))  # 14x14
    stack += _conv_bn(2 * w, 3, momentum=0.9) + _conv_bn(2 * w, 3, momentum=0.9)
    stack.append(layers.MaxPooling2D(2))  # 7x7
    stack += _conv_bn(4 * w, 3, momentum=0.9)
    stack += [layers.MaxPooling2D(2), layers.Flatten(), layers.Dropout(rate)]  # 3x3
    stack.append(layers.Dense(NUM_CLASSES, activation="softmax"))
    return keras.Sequential(stack, name="quicknet")


ARCHITECTURES: dict[str, Callable[[ModelConfig], keras.Model]] = {
    "mlp": _mlp,
    "simple_cnn": _simple_cnn,
    "bn_cnn": _bn_cnn,
    "kaggle5": _kaggle5,
    "hdrnet": _hdrnet,
    "quicknet": _quicknet,
}


def build_model(config: ModelConfig) -> keras.Model:
    """Builds an uncompiled model of the architecture that ``config`` names.

    Args:
        config: The architecture and its settings.

    Returns:
        A Keras model mapping ``(B, 28, 28, 1)`` images to ``(B, 10)`` probabilities.

    Raises:
        ValueError: Unknown architecture or nonsensical settings.
    """
    if config.arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {config.arch!r}; choose one of {', '.join(ARCHITECTURES)}")
    if config.dropout is not None and not 0.0 <= config.dropout < 0.5:
        raise ValueError(f"dropout must be in [0, 0.5), got {config.dropout}")
    if not 1 <= config.width <= 512:
        raise ValueError(f"width must be in 1..512, got {config.width}")
    return ARCHITECTURES[config.arch](config)


ENSEMBLE = "ensemble"  # the arch of a card whose model averages other models


def average_models(members: Sequence[keras.Model], weights: Sequence[float] | None = None) -> keras.Model:
    """An ensemble: one model whose output is the mean of its members' probabilities.

    Networks trained from different starting points make partly different mistakes, so their
    average is more accurate than each. The result is an ordinary Keras model (saved, loaded and
    fine-tuned like any other); predicting costs one forward pass per member.

    Args:
        members: Two or more models mapping ``(B, 28, 28, 1)`` images to ``(B, 10)``
            probabilities. They are renamed ``member_0``, ``member_1``, ... (Keras needs unique names).
        weights: How much each member counts, in order (scaled to sum to one): a weighted mean,
            so that a member which is itself an ensemble can count for all of its networks.
            None: every member counts the same.

    Raises:
        ValueError: Fewer than two members, weights that are not one positive number per member,
            or a member without exactly one output.
    """
    if len(members) < 2:
        raise ValueError(f"an ensemble needs at least two models, got {len(members)}")
    shares = ensemble_shares(weights, len(members)) if weights is not None else None
    for i, member in enumerate(members):
        if len(member.outputs) != 1:
            raise ValueError(
                f"model {i + 1} ({member.name}) has {len(member.outputs)} outputs; an ensemble averages one each"
            )
    inputs = keras.Input(INPUT_SHAPE, name="image")
    outputs = []
    for i, member in enumerate(members):
        member.name = f"member_{i}"
        out = member(inputs)
        # A Functional model saved with its one output in a list returns a list of one tensor.
        outputs.append(out[0] if isinstance(out, (list, tuple)) else out)
    if shares is None:
        return keras.Model(inputs, layers.Average(name="average")(outputs), name=ENSEMBLE)
    # Rescaling and Add are stock layers: the file loads anywhere Keras does, no custom code.
    scaled = [
        layers.Rescaling(share, name=f"weight_{i}")(out)
        for i, (share, out) in enumerate(zip(shares, outputs, strict=True))
    ]
    return keras.Model(inputs, layers.Add(name="average")(scaled), name=ENSEMBLE)


def ensemble_shares(weights: Sequence[float], count: int) -> list[float]:
    """``weights`` scaled to sum to one, checked: one finite, positive number per member.

    Raises:
        ValueError: Not ``count`` weights, or one of them not a positive number.
    """
    if len(weights) != count:
        raise ValueError(f"give one weight per model: {count} models, {len(weights)} weights")
    if not all(np.isfinite(w) and w > 0 for w in weights):
        raise ValueError(f"weights must be positive numbers, got {' '.join(f'{w:g}' for w in weights)}")
    total = float(sum(weights))
    return [float(w) / total for w in weights]


def interpolate_models(base: keras.Model, tuned: keras.Model, share: float) -> keras.Model:
    """A model whose weights lie ``share`` of the way from ``base``'s to ``tuned``'s.

    Fine-tuning on new writing moves a network away from what it knew; the straight line back to
    the weights it started from keeps much of the gain on the new data while losing less of the
    old (WiSE-FT: Wortsman et al., "Robust fine-tuning of zero-shot models", 2022). ``tuned``
    must have been fine-tuned from ``base`` (same architecture, same weight shapes).

    Args:
        base: The model before fine-tuning.
        tuned: The model after.
        share: 0 gives ``base``'s weights, 1 ``tuned``'s.

    Raises:
        ValueError: ``share`` outside [0, 1], or models with different weight shapes.
    """
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"the share of the fine-tuned weights must be between 0 and 1, got {share}")
    old, new = base.get_weights(), tuned.get_weights()
    if [w.shape for w in old] != [w.shape for w in new]:
        raise ValueError("the two models have different weights: the fine-tuned one must come from the base")
    blended = keras.models.clone_model(tuned)
    blended.set_weights(
        [
            (1.0 - share) * a + share * b if np.issubdtype(b.dtype, np.floating) else b
            for a, b in zip(old, new, strict=True)
        ]
    )
    return blended
