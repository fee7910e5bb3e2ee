"""Learning-rate schedules for training: the one-cycle schedule and the time budget that can drive it.

:class:`OneCycle` is saved with a model's optimizer (registered as ``hdr>OneCycle``); a model
loaded for prediction or fine-tuning (``compile=False``) does not need it.
"""

from __future__ import annotations

import math
import time

import keras


@keras.saving.register_keras_serializable(package="hdr")
class OneCycle(keras.optimizers.schedules.LearningRateSchedule):
    """Smith's one-cycle learning rate: a linear warm-up to ``peak``, then a cosine anneal to zero.

    A high rate in the middle of training explores, the long anneal settles: on a small budget
    of epochs this reaches a given accuracy sooner than a per-epoch exponential decay.
    """

    def __init__(self, peak: float, total_steps: int, warmup: float = 0.25, start: float = 0.04):
        self.peak, self.total_steps, self.warmup, self.start = peak, total_steps, warmup, start
        # With a time budget, the share of it spent (a variable in [0, 1] that TimeBudget advances):
        # the cycle follows whichever of steps and time is further along.
        self.clock: keras.Variable | None = None

    def __call__(self, step):
        t = keras.ops.cast(step, "float32") / float(max(1, self.total_steps))
        if self.clock is not None:
            t = keras.ops.maximum(t, self.clock)
        rising = self.peak * (self.start + (1.0 - self.start) * t / self.warmup)
        falling_t = keras.ops.minimum(1.0, (t - self.warmup) / (1.0 - self.warmup))
        falling = self.peak * 0.5 * (1.0 + keras.ops.cos(math.pi * falling_t))
        return keras.ops.where(t < self.warmup, rising, falling)

    def get_config(self) -> dict:
        return {"peak": self.peak, "total_steps": self.total_steps, "warmup": self.warmup, "start": self.start}


class TimeBudget(keras.callbacks.Callback):
    """Advances a :class:`OneCycle`'s clock with the wall time spent and stops training when it is up.

    On a machine slower than planned (or slowed down mid-run) the learning rate still anneals to
    zero in time and the run ends within its budget, with the weights of its best validated epoch,
    instead of running over; on a machine fast enough the steps finish first and nothing changes.
    The epoch in progress when time is up ends early and is validated like any other.
    """

    def __init__(self, seconds: float, clock: keras.Variable):
        super().__init__()
        self.seconds, self.clock = seconds, clock

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()

    def _spent(self) -> float:
        return (time.perf_counter() - self.start) / self.seconds

    def on_train_batch_begin(self, batch, logs=None):
        self.clock.assign(min(1.0, self._spent()))

    def on_train_batch_end(self, batch, logs=None):
        spent = min(1.0, self._spent())
        self.clock.assign(spent)  # what the epoch's log reads as its learning rate: where the clock is now
        if spent >= 1.0:
            self.model.stop_training = True
