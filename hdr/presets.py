"""Named training recipes, the same on the command line and on the Train page, and how long each takes here.

A preset is a complete :class:`~hdr.train.TrainConfig`; settings given explicitly replace the
preset's (``python -m hdr train --preset quick --epochs 3``). Time is estimated from the
throughput of the real training step measured on this machine, not from a table of someone
else's computer.
"""

from __future__ import annotations

import dataclasses
import math
import time

import keras
import numpy as np

from hdr.models import ModelConfig, build_model
from hdr.train import TrainConfig, build_dataset, compile_model

# The best model we found that trains in under 3 minutes on 2 CPU cores (MNIST test >= 99.4%).
# Too few epochs for augmentation to pay: 6 epochs with it, 99.28% on validation; 7 without, 99.42%.
_QUICK = TrainConfig(
    model=ModelConfig(arch="quicknet"),
    epochs=7,
    batch_size=128,
    learning_rate=4e-3,
    schedule="one-cycle",
    augment=False,
    patience=7,
    # 7 epochs take ~145 s here at full speed; on a slower machine (we have seen one a third as
    # fast, nothing else running) the cycle anneals early and the run still ends in time.
    time_budget=150.0,
)
PRESETS: dict[str, TrainConfig] = {
    "quick": _QUICK,
    # The same network, twice as long, with rotation/shift/zoom augmentation.
    "standard": dataclasses.replace(_QUICK, epochs=15, augment=True, patience=15, time_budget=None),
    # The recipe of the shipped default's first member: the largest network, long and slow.
    "best": TrainConfig(
        model=ModelConfig(arch="hdrnet"),
        epochs=40,
        batch_size=128,
        learning_rate=1e-3,
        lr_decay=0.92,
        patience=15,
    ),
}
PRESET_NOTES = {  # measured on 2 CPU cores with nothing else running (README: "Training fast on a CPU")
    "quick": "under 3 min on 2 cores, 99.5% on MNIST test",
    "standard": "about 7 min, 99.5%",
    "best": "about 22 min (hdrnet, 40 epochs), 99.6%",
}


def preset_config(name: str | None, **overrides) -> TrainConfig:
    """A preset's config with some settings replaced.

    Args:
        name: A key of :data:`PRESETS`, or None for :class:`TrainConfig`'s defaults.
        **overrides: :class:`TrainConfig` fields to replace (``epochs=3``); ``arch`` and
            ``dropout`` replace the model's. A preset's ``time_budget`` is kept only while the
            network, epochs, batch size, augmentation, damage and schedule are the preset's.

    Raises:
        ValueError: Unknown preset or setting.
    """
    if name is not None and name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    config = TrainConfig() if name is None else PRESETS[name]
    model_fields = {k: overrides.pop(k) for k in ("arch", "dropout", "width") if k in overrides}
    unknown = set(overrides) - {f.name for f in dataclasses.fields(TrainConfig)}
    if unknown:
        raise ValueError(f"unknown training setting(s): {', '.join(sorted(unknown))}")
    if model_fields:
        overrides["model"] = dataclasses.replace(config.model, **model_fields)
    changed = dataclasses.replace(config, **overrides)
    if "time_budget" not in overrides and any(getattr(changed, f) != getattr(config, f) for f in _TIMED):
        changed = dataclasses.replace(changed, time_budget=None)  # the budget was fitted to the preset's run
    return changed


# What a preset's time budget was fitted to: change one and the budget goes, unless given anew.
_TIMED = ("model", "epochs", "batch_size", "augment", "damage", "damage_mix", "schedule")


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
