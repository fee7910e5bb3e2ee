"""Training: Keras ``fit`` with on-the-fly augmentation, LR schedule, early stopping and cancellation.

Progress goes to a plain callable, so the command line can draw a progress bar and the app can
record curves for a page to poll, without this module knowing about either.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from hdr.config import TrainConfig
from hdr.training.checkpoints import Checkpoint, joined_history, read_state, restore_weights
from hdr.training.models import build_model
from hdr.training.pipeline import build_dataset, stream_seed
from hdr.training.schedules import OneCycle, TimeBudget


@dataclass(frozen=True)
class Progress:
    """One report from a running training: what a progress bar or a live chart needs."""

    epoch: int  # 1-based epoch in progress (or just finished when ``epoch_end``)
    epochs: int
    batch: int  # batches done in this epoch
    batches: int  # batches per epoch
    epoch_end: bool  # True once per epoch, with validation metrics in ``logs``
    logs: dict[str, float]  # loss, accuracy and, at epoch end, val_loss, val_accuracy, lr
    elapsed: float  # seconds since training began


@dataclass
class TrainResult:
    """What a finished (or stopped) training hands back."""

    model: keras.Model
    history: dict[str, list[float]]  # per-epoch metrics, as Keras' History, and "seconds" since the start
    best_epoch: int  # 1-based epoch whose weights the model holds (best validation loss)
    seconds: float
    stopped: bool  # True when cancelled before the planned end
    resumed_after: list[int] = field(default_factory=list)  # epochs after which a stopped run went on


ProgressFn = Callable[[Progress], None]
StopFn = Callable[[], bool]


class _Reporter(keras.callbacks.Callback):
    """Forwards Keras' batch and epoch events to a plain function and checks for cancellation."""

    def __init__(
        self,
        epochs: int,
        batches: int,
        progress: ProgressFn | None,
        should_stop: StopFn | None,
        seconds_before: float = 0.0,
    ):
        super().__init__()
        self.epochs, self.batches = epochs, batches
        self.progress, self.should_stop = progress, should_stop
        self.stopped = False
        self.seconds_before = seconds_before  # a resumed run's training time before this start

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter() - self.seconds_before
        self.epoch = 0
        self.stopped = False
        self.epoch_ends: list[float] = []  # seconds since the start at the end of each epoch

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch, self.done = epoch + 1, 0

    def _report(self, batch: int, epoch_end: bool, logs: dict | None) -> None:
        logs = logs or {}
        if self.progress is not None:
            clean = {k: float(v) for k, v in logs.items() if np.isscalar(v) or np.ndim(v) == 0}
            self.progress(
                Progress(
                    self.epoch, self.epochs, batch, self.batches, epoch_end, clean, time.perf_counter() - self.start
                )
            )
        if self.should_stop is not None and self.should_stop():
            self.stopped = True
            self.model.stop_training = True

    def on_train_batch_end(self, batch, logs=None):
        self.done = batch + 1
        self._report(self.done, False, logs)

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        logs["lr"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        self.epoch_ends.append(round(time.perf_counter() - self.start, 2))
        self._report(self.done, True, logs)  # fewer than planned when a time budget or a stop ends the epoch


class _BestWeights(keras.callbacks.Callback):
    """Keeps the weights of the epoch with the lowest validation loss and restores them at the end.

    Unlike ``EarlyStopping(restore_best_weights=True)`` this also restores when training is
    cancelled or runs to its last epoch, so the returned model is always the validated best.
    """

    def __init__(self, best: float = math.inf, best_epoch: int = 0, weights: list[np.ndarray] | None = None):
        super().__init__()
        self.initial = (best, best_epoch, weights)  # a resumed run's best so far

    def on_train_begin(self, logs=None):
        self.best, self.best_epoch, self.weights = self.initial

    def on_epoch_end(self, epoch, logs=None):
        loss = (logs or {}).get("val_loss", math.inf)
        if loss < self.best:
            self.best, self.best_epoch, self.weights = loss, epoch + 1, self.model.get_weights()

    def on_train_end(self, logs=None):
        if self.weights is not None:
            self.model.set_weights(self.weights)


class _EarlyStopping(keras.callbacks.EarlyStopping):
    """Keras' early stopping on validation loss, which a resumed run starts with its count so far."""

    def __init__(self, patience: int, best: float | None = None, wait: int = 0):
        super().__init__(monitor="val_loss", patience=patience)
        self.resumed = (best, wait)

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self.best, self.wait = self.resumed


PRECISE_BN_IMAGES = 1024  # training images the batch-norm statistics are re-estimated on after each epoch
PRECISE_BN_MAX_BATCHES = 100  # ... of runs whose epochs are this short; longer epochs' running statistics keep up


def _batch_norm_layers(layer: keras.layers.Layer) -> list[keras.layers.BatchNormalization]:
    """Every batch-norm layer in a model, ensemble members included."""
    if isinstance(layer, keras.layers.BatchNormalization):
        return [layer]
    return [bn for sub in getattr(layer, "layers", []) for bn in _batch_norm_layers(sub)]


class _PreciseBatchNorm(keras.callbacks.Callback):
    """Re-estimates batch-norm statistics with the epoch's final weights, before the epoch is validated.

    During training, a batch-norm layer keeps a running average of its batches' statistics, which
    lags weights that still move: after a short epoch (a few hundred images, a fine-tune) or at a
    high learning rate, the network scored in inference mode is not the one trained, and can read
    every digit as a 1. Averaging the statistics of a few batches passed through the final weights
    ("precise BN") costs a forward pass over :data:`PRECISE_BN_IMAGES` images per epoch; it is done
    for epochs of up to :data:`PRECISE_BN_MAX_BATCHES` batches only: on full MNIST epochs the running
    averages keep up, so the presets measured on full MNIST run exactly as measured.
    """

    def __init__(self, images: np.ndarray, batches_per_epoch: int, batch_size: int):
        super().__init__()
        self.images, self.batches_per_epoch, self.batch_size = images, batches_per_epoch, batch_size

    def on_train_batch_end(self, batch, logs=None):
        if batch + 1 != self.batches_per_epoch:
            return
        layers = _batch_norm_layers(self.model)
        momenta = [bn.momentum for bn in layers]
        try:
            for k, start in enumerate(range(0, len(self.images), self.batch_size)):
                for bn in layers:
                    bn.momentum = k / (k + 1)  # a plain mean over the batches, the first one replacing the old
                self.model(self.images[start : start + self.batch_size], training=True)
        finally:
            for bn, momentum in zip(layers, momenta, strict=True):
                bn.momentum = momentum


def make_strategy() -> tf.distribute.Strategy:
    """Mirrors training over all GPUs when there are several, else the default (CPU or one GPU)."""
    if len(tf.config.list_logical_devices("GPU")) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def compile_model(
    model: keras.Model,
    learning_rate: float | keras.optimizers.schedules.LearningRateSchedule,
    *,
    soft_targets: bool = False,
) -> None:
    """Adam with categorical cross-entropy and accuracy: the one recipe for every model.

    Targets are labels, or ten probabilities each with ``soft_targets`` (distillation).
    """
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="categorical_crossentropy" if soft_targets else "sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )


def train_model(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    config: TrainConfig,
    *,
    model: keras.Model | None = None,
    progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
    teacher: keras.Model | None = None,
    taught: np.ndarray | None = None,
    checkpoint: str | os.PathLike | None = None,
) -> TrainResult:
    """Trains a model and returns it with the weights of its best validation epoch.

    Args:
        x_train: ``uint8 (N, 28, 28)`` training images, ink 255 on background 0.
        y_train: ``(N,)`` labels 0-9.
        x_val: Validation images, same format; they choose the epoch, never the test set.
        y_val: Validation labels.
        config: Training settings (``config.limit`` trims the training set).
        model: A model to fine-tune; None builds ``config.model`` from scratch.
        progress: Called after every batch and every epoch with a :class:`Progress`.
        should_stop: Polled after every batch; returning True ends training cleanly.
        teacher: With ``config.distill``: the model whose answers part of the targets are (a copy of
            the starting model, never trained here); see :func:`hdr.training.pipeline.build_dataset`.
        taught: ``bool (N,)``: the training images whose targets mix in the teacher's (MNIST's);
            None: all.
        checkpoint: A folder the run's state is saved in after every epoch
            (:mod:`hdr.training.checkpoints`). If it already holds a stopped run's state, training
            goes on from there: its weights, optimizer state, learning-rate schedule, early-stopping
            count, best epoch and curves, with fresh random augmentation for the epochs still to
            come. The caller removes the folder once the model is saved.

    Returns:
        The trained model, its history, the chosen epoch and the time taken (of all its parts).

    Raises:
        ValueError: Nonsense settings, empty data, ``config.distill`` without a teacher, a
            checkpoint of a run with other settings or a damaged one, or a checkpoint with a time
            budget (the budget is of one uninterrupted run).
    """
    config.validate()
    if config.limit is not None:
        x_train, y_train = x_train[: config.limit], y_train[: config.limit]
        taught = None if taught is None else taught[: config.limit]
    if len(x_train) == 0 or len(x_val) == 0:
        raise ValueError("training and validation sets must not be empty")
    before = None
    if checkpoint is not None:
        if config.time_budget is not None:
            raise ValueError("a run with a time budget cannot be checkpointed: its budget is of one uninterrupted run")
        before = read_state(checkpoint)
        if before is not None and before.config != config.to_dict():
            raise ValueError(f"{checkpoint} holds a run with other settings: give the same options to resume it")
    done = before.epochs_done if before else 0
    keras.utils.set_random_seed(stream_seed(config.seed, done))
    batches = math.ceil(len(x_train) / config.batch_size)
    lr0, decay = config.learning_rate, config.lr_decay
    one_cycle = config.schedule == "one-cycle"
    schedule = OneCycle(lr0, batches * config.epochs) if one_cycle else None
    with make_strategy().scope():
        if model is None:
            model = build_model(config.model)
        if config.time_budget is not None:
            schedule.clock = keras.Variable(0.0, trainable=False, name="time_spent")
        compile_model(model, schedule or lr0, soft_targets=config.distill > 0)
    reporter = _Reporter(config.epochs, batches, progress, should_stop, before.seconds if before else 0.0)
    best = _BestWeights()
    stopping = _EarlyStopping(config.patience)
    if before is not None:
        best = _BestWeights(before.best_val_loss, before.best_epoch, restore_weights(checkpoint, before, model))
        stopping = _EarlyStopping(config.patience, before.best_val_loss, before.patience_used)
    callbacks = [stopping, best, reporter]
    if checkpoint is not None:
        callbacks.append(Checkpoint(Path(checkpoint), config, before, best, stopping, reporter))
    if batches <= PRECISE_BN_MAX_BATCHES:  # a limited run or a fine-tune: too few steps for running averages
        sample = x_train[:PRECISE_BN_IMAGES].astype(np.float32)[..., None] / 255.0
        callbacks.insert(0, _PreciseBatchNorm(sample, batches, config.batch_size))
    if not one_cycle:
        callbacks.insert(0, keras.callbacks.LearningRateScheduler(lambda epoch: lr0 * decay**epoch))
    if config.time_budget is not None:
        callbacks.insert(0, TimeBudget(config.time_budget, schedule.clock))
    start = time.perf_counter() - (before.seconds if before else 0.0)
    if before is not None and before.finished:  # it ended as planned and only its saving was cut off
        if best.initial[2] is not None:
            model.set_weights(best.initial[2])
        return TrainResult(model, before.history, before.best_epoch, before.seconds, False, before.resumed_after)
    train_set = build_dataset(x_train, y_train, config, train=True, teacher=teacher, taught=taught, stream=done)
    history = model.fit(
        train_set,
        validation_data=build_dataset(x_val, y_val, config, train=False),
        epochs=config.epochs,
        initial_epoch=done,
        callbacks=callbacks,
        shuffle=False,  # the dataset shuffles itself; Keras would only warn
        verbose=0,
    )
    hist = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    hist["seconds"] = reporter.epoch_ends  # for time to accuracy: when each epoch's validation score was known
    resumed_after = [*before.resumed_after, done] if before else []
    if before is not None:
        hist = joined_history(before.history, hist)
    return TrainResult(model, hist, best.best_epoch, time.perf_counter() - start, reporter.stopped, resumed_after)
