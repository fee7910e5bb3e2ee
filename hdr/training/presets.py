"""How long a training recipe takes here: measured throughput, estimated wall time.

The recipes themselves (:data:`hdr.config.PRESETS`, :func:`hdr.config.preset_config`) live in
:mod:`hdr.config`, which needs no TensorFlow; they are imported here too, beside what measures them.
Time is estimated from the throughput of the real training step measured on this machine, not
from a table of someone else's computer.
"""

from __future__ import annotations

import math
import time

import keras
import numpy as np

from hdr.config import PRESET_NOTES, PRESETS, TrainConfig, preset_config  # noqa: F401  (importable from here too)
from hdr.training.models import build_model
from hdr.training.train import build_dataset, compile_model


def measure_throughput(config: TrainConfig, *, batches: int = 8, warmup: int = 3) -> float:
    """Training images per second of ``config``'s network and input pipeline on this machine.

    Runs the real training step (model, optimizer, augmentation) on random images for
    ``warmup + batches`` batches and times the last ``batches``: a few seconds for the small
    networks.

    Returns:
        Images per second.
    """
    rng = np.random.default_rng(0)
    n = (warmup + batches) * config.batch_size
    x = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, n)
    model = build_model(config.model)
    compile_model(model, config.learning_rate)
    stamps: list[float] = []
    timer = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: stamps.append(time.perf_counter()))
    model.fit(build_dataset(x, y, config, train=True), epochs=1, callbacks=[timer], shuffle=False, verbose=0)
    seconds = stamps[-1] - stamps[warmup - 1]
    return batches * config.batch_size / max(seconds, 1e-9)


def estimate_seconds(config: TrainConfig, n_train: int, n_val: int, images_per_second: float) -> float:
    """Wall time of a run: every epoch trains on ``n_train`` images and scores ``n_val``.

    Scoring needs no backward pass and no augmentation; it is counted at a third of a training
    image. Early stopping can only make a run shorter; a time budget bounds it.
    """
    n_train = min(n_train, config.limit or n_train)
    n_val = min(n_val, config.limit or n_val)  # a limited run validates on as many images at most
    per_epoch = (n_train + n_val / 3) / images_per_second
    return min(config.epochs * per_epoch, config.time_budget or math.inf)


def format_duration(seconds: float) -> str:
    """``95`` -> ``"1 min 35 s"``; ``4000`` -> ``"1 h 7 min"``."""
    seconds = max(0, math.ceil(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"
