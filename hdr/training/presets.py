"""How long a training recipe takes here: measured throughput, estimated wall time.

The recipes themselves (:data:`hdr.config.PRESETS`, :func:`hdr.config.preset_config`) live in
:mod:`hdr.config`, which needs no TensorFlow; they are imported here too, beside what measures them.
Time is estimated from the throughput of the real training step measured on this machine, not
from a table of someone else's computer.
"""

from __future__ import annotations

import math
import threading
import time

import keras
import numpy as np

from hdr.config import PRESET_NOTES, PRESETS, TrainConfig, preset_config  # noqa: F401  (importable from here too)
from hdr.training.models import build_model
from hdr.training.pipeline import build_dataset
from hdr.training.train import compile_model
from hdr.training.training_data import FineTuneConfig

SCORING_COST = 1 / 3  # of a training image's time: scoring needs no backward pass and no augmentation

# Batches are timed at most this large: per image, a larger batch runs about as fast, and timing
# 11 batches of 8192 hdrnet images took 56 s and 7.5 GB (issue 23) where 256 takes seconds.
MEASURE_BATCH_MAX = 256
MEASURE_BATCHES, MEASURE_WARMUP = 8, 3  # batches timed, after this many that trace and warm up
_MEASURING = threading.Lock()  # one measurement at a time per process: two would slow each other and add up


def measured_config(config: TrainConfig) -> TrainConfig:
    """What :func:`measure_throughput` times for ``config``: its network and input pipeline, the batch capped.

    The learning rate, epochs, limit and budget change nothing in a step's speed, so they are
    left at their defaults: configs that differ only there are one measurement (and one cache entry).
    """
    return TrainConfig(
        model=config.model,
        batch_size=min(config.batch_size, MEASURE_BATCH_MAX),
        augment=config.augment,
        damage=config.damage,
        damage_mix=config.damage_mix,
    )


def measure_throughput(
    config: TrainConfig,
    *,
    model: keras.Model | None = None,
    batches: int = MEASURE_BATCHES,
    warmup: int = MEASURE_WARMUP,
) -> float:
    """Training images per second of ``config``'s network and input pipeline on this machine.

    Runs the real training step (model, optimizer, augmentation) on random images for
    ``warmup + batches`` batches of :func:`measured_config`'s size (at most
    :data:`MEASURE_BATCH_MAX`) and times the last ``batches``: a few seconds for the small
    networks. One measurement runs at a time in a process; others wait for it.

    Args:
        config: The run's settings: its network (unless ``model`` is given), batch size and augmentation.
        model: A model to time instead of a fresh ``config.model`` (a fine-tune's). It is trained
            on random images here: pass a copy, never a model in use.
        batches: Batches timed.
        warmup: Batches run first and not timed (the first one traces the graph).

    Returns:
        Images per second.
    """
    with _MEASURING:
        return _timed(measured_config(config), model, batches, warmup)


def _timed(config: TrainConfig, model: keras.Model | None, batches: int, warmup: int) -> float:
    """Images per second over the last ``batches`` of ``warmup + batches`` training steps."""
    rng = np.random.default_rng(0)
    n = (warmup + batches) * config.batch_size
    x = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, n)
    model = build_model(config.model) if model is None else model
    compile_model(model, config.learning_rate)
    stamps: list[float] = []
    timer = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: stamps.append(time.perf_counter()))
    model.fit(build_dataset(x, y, config, train=True), epochs=1, callbacks=[timer], shuffle=False, verbose=0)
    seconds = stamps[-1] - stamps[warmup - 1]
    return batches * config.batch_size / max(seconds, 1e-9)


def estimate_seconds(config: TrainConfig, n_train: int, n_val: int, images_per_second: float) -> float:
    """Wall time of a run: every epoch trains on ``n_train`` images and scores ``n_val``.

    Scoring is counted at :data:`SCORING_COST` of a training image. Early stopping can only make a run shorter; a time budget bounds it.
    """
    n_train = min(n_train, config.limit or n_train)
    n_val = min(n_val, config.limit or n_val)  # a limited run validates on as many images at most
    per_epoch = (n_train + n_val * SCORING_COST) / images_per_second
    return min(config.epochs * per_epoch, config.time_budget or math.inf)


def estimate_fine_tune_seconds(
    config: FineTuneConfig, n_samples: int, images_per_second: float, *, n_mnist: int = 54_000, n_test: int = 10_000
) -> float:
    """Wall time of a fine-tune (:func:`hdr.training.jobs.start_fine_tune`): its epochs, and the scoring before and after.

    Args:
        config: The fine-tune's settings.
        n_samples: Feedback samples; each is seen ``config.feedback_repeat`` times per epoch.
        images_per_second: Training speed of the model being fine-tuned, measured here.
        n_mnist: MNIST training images available (after the validation split) for rehearsal.
        n_test: MNIST test images, scored with the samples once before and once after training.
    """
    rehearsal = min(config.mnist_images, n_mnist)
    n_train = n_samples * config.feedback_repeat + rehearsal
    n_val = max(1, rehearsal // 5)  # as make_fine_tune_data holds out
    scoring = 2 * (n_test + n_samples) * SCORING_COST / images_per_second
    return estimate_seconds(config.train_config(), n_train, n_val, images_per_second) + scoring


def format_duration(seconds: float) -> str:
    """``95`` -> ``"1 min 35 s"``; ``4000`` -> ``"1 h 7 min"``."""
    seconds = max(0, math.ceil(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"
