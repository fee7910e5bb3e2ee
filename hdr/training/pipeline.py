"""The input pipeline of training: batches of MNIST-format images, damaged, augmented and labelled.

:func:`build_dataset` feeds :func:`hdr.training.train.train_model` and the throughput measurement
of :mod:`hdr.training.presets`, so the time estimated for a run is the time of the real pipeline.
"""

from __future__ import annotations

import itertools
import os

import keras
import numpy as np
import tensorflow as tf

from hdr.config import TrainConfig
from hdr.imaging.damage import random_damage
from hdr.imaging.preprocess import to_mnist

_PARALLEL = os.cpu_count() or 1  # map calls at once: the pipeline is not autotuned (see build_dataset)


def _augmenter(config: TrainConfig, seed: int) -> keras.Sequential:
    """Random rotation, shift and zoom, filled with background (zero)."""
    return keras.Sequential(
        [
            keras.layers.RandomRotation(config.rotation_deg / 360.0, fill_mode="constant", seed=seed),
            keras.layers.RandomTranslation(config.shift, config.shift, fill_mode="constant", seed=seed + 1),
            keras.layers.RandomZoom(config.zoom, fill_mode="constant", seed=seed + 2),
        ]
    )


class _Damage:
    """Damages a share of a batch the ways real input is damaged and preprocesses it as the app would.

    The model then learns from exactly what :func:`hdr.imaging.preprocess.to_mnist` makes of a faint,
    blurred, low-resolution or noisy picture, and the damage is new in every epoch.
    """

    def __init__(self, share: float, mix: str, seed: int):
        self.share, self.mix, self.seed, self.calls = share, mix, seed, itertools.count()

    def on(self, batch: tf.Tensor) -> tf.Tensor:
        """The same as a step of a ``tf.data`` pipeline."""
        out = tf.numpy_function(self, [batch], tf.float32, stateful=True)
        out.set_shape(batch.shape)
        return out

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        """``uint8 (B, 28, 28, 1)`` -> ``float32`` of the same shape in 0-255, a share of it damaged."""
        rng = np.random.default_rng([self.seed, next(self.calls)])  # tf.data calls this from several threads
        out = batch.astype(np.float32)
        for i in np.flatnonzero(rng.random(len(batch)) < self.share):
            seen = to_mnist(random_damage(batch[i, ..., 0], rng, self.mix))
            if seen.found:
                out[i] = seen.image * 255.0
        return out


def stream_seed(seed: int, stream: int) -> int:
    """The seed of a run's random stream number ``stream``: ``seed`` itself for the first.

    A run resumed after ``k`` epochs draws stream ``k``, so its epochs still to come are not
    shuffled, damaged and augmented as its first ones were.
    """
    if stream == 0:
        return seed
    return int(np.random.SeedSequence([seed, stream]).generate_state(1)[0] % 2**30)


def build_dataset(
    x: np.ndarray,
    y: np.ndarray,
    config: TrainConfig,
    *,
    train: bool,
    teacher: keras.Model | None = None,
    taught: np.ndarray | None = None,
    stream: int = 0,
) -> tf.data.Dataset:
    """Batches ``uint8 (N, 28, 28)`` images as ``float32 (B, 28, 28, 1)`` in [0, 1].

    With ``config.distill`` above zero the targets are ten probabilities instead of a label: in a
    training set, each image that ``taught`` marks (``bool (N,)``; None marks every image) gets
    ``(1 - distill) * one_hot(label) + distill * teacher(image)``, ``image`` being exactly the
    damaged, augmented picture the model trains on in that epoch; the other images and a
    validation set get ``one_hot(label)``.

    The pipeline's parallelism is fixed, not autotuned: tf.data's autotuning runs a thread per
    iterator that sleeps up to a minute between rounds, and deleting the iterator waits for it.
    Keras makes a new iterator every epoch, so training stalled for 0-60 s between epochs (we
    measured 29-58 s on 2 cores); training is bound by the network here, not by this pipeline.

    ``stream`` picks the random stream of shuffling, damage and augmentation (see :func:`stream_seed`).

    Raises:
        ValueError: ``config.distill`` is set for a training set but no ``teacher`` is given.
    """
    seed = stream_seed(config.seed, stream)
    soft = config.distill > 0
    if soft and train and teacher is None:
        raise ValueError("distilling needs a teacher: the model training starts from (--init)")
    columns = (x[..., None], y)
    if soft and train:
        share = np.full(len(y), config.distill, np.float32)
        if taught is not None:
            share[~np.asarray(taught, bool)] = 0.0
        columns += (share,)
    ds = tf.data.Dataset.from_tensor_slices(columns)
    if train:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(config.batch_size)
    if train and config.damage > 0:
        damage = _Damage(config.damage, config.damage_mix, seed)
        ds = ds.map(lambda img, *rest: (damage.on(img), *rest), num_parallel_calls=_PARALLEL)
    ds = ds.map(lambda img, *rest: (tf.cast(img, tf.float32) / 255.0, *rest), num_parallel_calls=_PARALLEL)
    if train and config.augment:
        augment = _augmenter(config, seed)
        ds = ds.map(lambda img, *rest: (augment(img, training=True), *rest), num_parallel_calls=_PARALLEL)
    if soft and train:

        def mix(img, label, share):
            answers = tf.cast(teacher(img, training=False), tf.float32)
            return img, (1.0 - share[:, None]) * tf.one_hot(label, 10) + share[:, None] * answers

        ds = ds.map(mix, num_parallel_calls=_PARALLEL)
    elif soft:
        ds = ds.map(lambda img, label: (img, tf.one_hot(label, 10)), num_parallel_calls=_PARALLEL)
    options = tf.data.Options()
    options.autotune.enabled = False
    return ds.prefetch(2).with_options(options)
