"""Background training jobs: train in a thread, record progress for a page to poll, save with a card.

A :class:`TrainingJob` runs :func:`hdr.train.train_model` in a daemon thread and records every
batch and epoch under a lock, so a Streamlit fragment (or anything else) can poll a consistent
:class:`JobStatus` while the script thread reruns or the user changes pages. Only one job runs
at a time (:func:`start_job`). A finished job saves its model under a fresh name with a card; it
never activates it and never overwrites the shipped default. A stopped or failed job saves
nothing, so the active model is untouched either way.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

from hdr.data import DataError, Mnist, split_validation
from hdr.evaluate import Metrics, evaluate_model
from hdr.models import build_model
from hdr.predict import Predictor
from hdr.store import (
    ModelCard,
    ModelStoreError,
    active_model,
    check_models_dir,
    load_keras_model,
    model_paths,
    models_folder,
    new_model_name,
    rescue_model,
    save_model,
)
from hdr.train import Progress, TrainConfig, TrainResult, train_model

PENDING, RUNNING, FINISHED, STOPPED, FAILED = "pending", "running", "finished", "stopped", "failed"
CARD_MISCLASSIFIED = 100  # mistakes kept in a card: enough for the Models page's gallery
# Batches after the first (which traces the graph and can take seconds) before a time-left
# estimate is shown: fewer give figures like "143251 s left" after one batch.
ETA_MIN_BATCHES = 20


class JobBusyError(RuntimeError):
    """A training job is already running."""


@dataclass(frozen=True)
class FineTuneConfig:
    """How the active model learns the user's hand from feedback without forgetting MNIST."""

    epochs: int = 3
    learning_rate: float = 1e-4  # a tenth of training from scratch: nudge the weights, don't reset them
    mnist_images: int = 10_000  # MNIST images mixed in (rehearsal) so the other digits are not forgotten
    feedback_repeat: int = 20  # each feedback sample is seen this many times per epoch: there are few of them
    batch_size: int = 128
    augment: bool = True
    seed: int = 0

    def validate(self) -> None:
        """Raises ValueError with a one-line reason when a setting is nonsense."""
        self.train_config().validate()
        if self.mnist_images < 0 or self.feedback_repeat < 1:
            raise ValueError("mnist images must be >= 0 and feedback repeat >= 1")

    def train_config(self, arch: str = "hdrnet") -> TrainConfig:
        """The :class:`TrainConfig` the fine-tuning run uses."""
        from hdr.models import ModelConfig

        return TrainConfig(
            model=ModelConfig(arch=arch),
            epochs=self.epochs,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            lr_decay=1.0,
            augment=self.augment,
            seed=self.seed,
        )


@dataclass(frozen=True)
class TrainingData:
    """Everything a job trains and scores on: ``uint8 (N, 28, 28)`` images and ``int64 (N,)`` labels."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray  # MNIST test set: the number on every card
    y_test: np.ndarray
    info: dict  # where the data came from and how much of it, stored in the card
    x_feedback: np.ndarray | None = None  # the user's samples, scored before and after fine-tuning
    y_feedback: np.ndarray | None = None


def make_training_data(
    mnist: Mnist,
    config: TrainConfig,
    *,
    extra: tuple[np.ndarray, np.ndarray] | None = None,
    extra_name: str = "",
    replace_mnist: bool = False,
) -> TrainingData:
    """Splits the training images into train and validation sets, optionally with extra samples.

    Args:
        mnist: MNIST; its test set always scores the model.
        config: Supplies ``val_fraction``, ``seed`` and ``limit``. With a ``limit`` the validation
            set is capped at the same size, so a quick run is quick end to end.
        extra: More labelled images (feedback samples, a Kaggle CSV).
        extra_name: How ``extra`` is described in the card.
        replace_mnist: Train on ``extra`` alone instead of adding it to MNIST's training set.

    Returns:
        The data; extra samples come first so that ``config.limit`` never trims them away.

    Raises:
        hdr.data.DataError: ``extra`` is too small to split off a validation set.
    """
    if replace_mnist:
        if extra is None or len(extra[0]) < 2:
            raise DataError(f"{extra_name or 'the data'}: need at least 2 labelled images to train")
        split = split_validation(extra[0], extra[1], val_fraction=config.val_fraction, seed=config.seed)
        x_train, y_train = split.x_train, split.y_train
        source = extra_name
    else:
        split = split_validation(mnist.x_train, mnist.y_train, val_fraction=config.val_fraction, seed=config.seed)
        x_train, y_train = split.x_train, split.y_train
        source = mnist.source + (f" + {extra_name}" if extra is not None else "")
        if extra is not None:
            x_train, y_train = np.concatenate([extra[0], x_train]), np.concatenate([extra[1], y_train])
    x_val, y_val = split.x_val, split.y_val
    if config.limit is not None:
        x_val, y_val = x_val[: config.limit], y_val[: config.limit]
    info = {
        "source": source,
        "train": int(min(len(x_train), config.limit or len(x_train))),
        "val": int(len(y_val)),
        "test": int(len(mnist.y_test)),
    }
    return TrainingData(x_train, y_train, x_val, y_val, mnist.x_test, mnist.y_test, info)


def make_fine_tune_data(
    mnist: Mnist, feedback: tuple[np.ndarray, np.ndarray], config: FineTuneConfig, *, val_fraction: float = 0.1
) -> TrainingData:
    """Feedback samples, repeated, mixed with a slice of MNIST; validation on held-out MNIST.

    Raises:
        hdr.data.DataError: There are no feedback samples.
    """
    x_fb, y_fb = feedback
    if len(x_fb) == 0:
        raise DataError("no feedback samples yet: save some from the Draw or Upload page first")
    split = split_validation(mnist.x_train, mnist.y_train, val_fraction=val_fraction, seed=config.seed)
    n = min(config.mnist_images, len(split.x_train))
    x_train = np.concatenate([np.repeat(x_fb, config.feedback_repeat, axis=0), split.x_train[:n]])
    y_train = np.concatenate([np.repeat(y_fb, config.feedback_repeat, axis=0), split.y_train[:n]])
    n_val = max(1, min(len(split.x_val), n // 5 or 1))
    info = {
        "source": f"{mnist.source} ({n} images) + feedback ({len(x_fb)} samples x{config.feedback_repeat})",
        "train": int(len(x_train)),
        "val": int(n_val),
        "test": int(len(mnist.y_test)),
        "feedback": int(len(x_fb)),
    }
    return TrainingData(
        x_train, y_train, split.x_val[:n_val], split.y_val[:n_val], mnist.x_test, mnist.y_test, info, x_fb, y_fb
    )


def card_test_metrics(test: Metrics) -> dict:
    """A card's test-set entries, as every card writer stores them.

    ``test_accuracy``, ``test_loss`` and the full ``test`` metrics, with the
    :data:`CARD_MISCLASSIFIED` most confident mistakes.
    """
    return {
        "test_accuracy": test.accuracy,
        "test_loss": test.loss,
        "test": test.to_dict(max_misclassified=CARD_MISCLASSIFIED),
    }


def make_card(
    name: str,
    config: TrainConfig,
    result: TrainResult,
    test: Metrics | None,
    data_info: dict,
    *,
    command: str = "",
    parent: str | None = None,
    extra_metrics: dict | None = None,
) -> ModelCard:
    """The card of a freshly trained model (shared by the command line and the app).

    Args:
        name: The model's name.
        config: Its training settings.
        result: What :func:`hdr.train.train_model` returned.
        test: Its metrics on the MNIST test set; None when that evaluation was skipped (the card
            then has no test entries, and ``python -m hdr evaluate --update-card`` adds them).
        data_info: Where the data came from and how much of it.
        command: How to reproduce it.
        parent: The model it was fine-tuned from.
        extra_metrics: More entries for ``card.metrics`` (e.g. fine-tuning before/after).

    Returns:
        The card, ready for :func:`hdr.store.save_model`.
    """
    best = max(result.best_epoch, 1) - 1
    metrics = {
        **(card_test_metrics(test) if test is not None else {}),
        "val_accuracy": result.history.get("val_accuracy", [float("nan")])[best],
        "val_loss": result.history.get("val_loss", [float("nan")])[best],
    }
    metrics.update(extra_metrics or {})
    return ModelCard(
        name=name,
        arch=config.model.arch,
        config=config.to_dict(),
        data=dict(data_info),
        metrics=metrics,
        train_seconds=round(result.seconds, 1),
        best_epoch=result.best_epoch,
        history=result.history,
        command=command,
        parent=parent,
    )


@dataclass(frozen=True)
class JobStatus:
    """A consistent snapshot of a job, safe to read from any thread."""

    state: str  # pending, running, finished, stopped or failed
    epoch: int
    epochs: int
    batch: int
    batches: int
    elapsed: float  # seconds since the job started
    seconds_left: float | None  # estimate from the pace so far; None until ETA_MIN_BATCHES batches say what it is
    history: dict[str, list[float]]  # per-epoch loss, accuracy, val_loss, val_accuracy
    batch_logs: dict[str, list[float]]  # per-batch loss and accuracy, for a live curve inside an epoch
    message: str  # what is happening, or why it failed
    card: ModelCard | None = None  # the saved model's card once finished
    comparison: dict = field(default_factory=dict)  # fine-tuning: accuracy before/after on MNIST test and feedback

    @property
    def done(self) -> bool:
        """True once the job has ended, however it ended."""
        return self.state in (FINISHED, STOPPED, FAILED)

    @property
    def fraction(self) -> float:
        """Share of all planned batches done, in [0, 1]."""
        total = self.epochs * self.batches
        if self.state == FINISHED:
            return 1.0
        return 0.0 if total == 0 else min(1.0, ((self.epoch - 1) * self.batches + self.batch) / total)


class TrainingJob:
    """One training run in a background thread.

    Example:
        >>> job = start_job(config, data)
        >>> job.status().fraction  # poll from anywhere
        >>> job.stop()  # ends after the current batch; nothing is saved
    """

    def __init__(
        self,
        config: TrainConfig,
        data: TrainingData,
        *,
        models_dir: str | Path | None = None,
        base_model: str | None = None,
        command: str = "",
    ):
        """Prepares a job; :meth:`start` runs it.

        Args:
            config: Training settings (validated here).
            data: What to train, validate and test on.
            models_dir: Where the finished model is saved (None: the settings' models folder, read now).
            base_model: A model name to fine-tune; None trains ``config.model`` from scratch.
            command: How the job was started, for the card.

        Raises:
            ValueError: Nonsense settings.
        """
        config.validate()
        self.config, self.data = config, data
        self.models_dir, self.base_model, self.command = models_folder(models_dir), base_model, command
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._state, self._message = PENDING, "waiting to start"
        self._epoch, self._batch, self._batches = 0, 0, 0
        self._start = 0.0
        self._elapsed = 0.0
        self._train_elapsed = 0.0  # seconds inside model.fit, as the training callback reports
        self._pace_origin: tuple[float, int] | None = None  # (elapsed, batches done) at the first report
        self._history: dict[str, list[float]] = {}
        self._batch_logs: dict[str, list[float]] = {"loss": [], "accuracy": []}
        self._card: ModelCard | None = None
        self._comparison: dict = {}

    def start(self) -> None:
        """Starts the background thread."""
        with self._lock:
            if self._thread is not None:
                raise RuntimeError("job already started")
            self._state, self._message, self._start = RUNNING, "preparing", time.perf_counter()
            self._thread = threading.Thread(target=self._run, name="hdr-training", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Asks the job to end after the current batch; a stopped job saves nothing."""
        self._stop.set()

    def wait(self, timeout: float | None = None) -> JobStatus:
        """Blocks until the job ends (or ``timeout`` seconds pass) and returns its status."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.status()

    @property
    def running(self) -> bool:
        """True while the thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def status(self) -> JobStatus:
        """A snapshot of progress, curves and outcome."""
        with self._lock:
            elapsed = time.perf_counter() - self._start if self._state == RUNNING else self._elapsed
            snapshot = JobStatus(
                state=self._state,
                epoch=self._epoch,
                epochs=self.config.epochs,
                batch=self._batch,
                batches=self._batches,
                elapsed=elapsed,
                seconds_left=None,
                history={k: list(v) for k, v in self._history.items()},
                batch_logs={k: list(v) for k, v in self._batch_logs.items()},
                message=self._message,
                card=self._card,
                comparison=dict(self._comparison),
            )
        with self._lock:
            origin, now = self._pace_origin, (self._train_elapsed, self._batches_done())
        if snapshot.state == RUNNING and origin is not None and now[1] - origin[1] >= ETA_MIN_BATCHES:
            # The pace since the first batch (which also traced the graph), over the batches still
            # to go; validation and test evaluation are not included.
            per_batch = (now[0] - origin[0]) / (now[1] - origin[1])
            left = per_batch * (snapshot.epochs * snapshot.batches - now[1])
            return JobStatus(**{**snapshot.__dict__, "seconds_left": max(0.0, left)})
        return snapshot

    def _batches_done(self) -> int:
        """Training batches done so far, over all epochs (call with the lock held)."""
        return max(0, self._epoch - 1) * self._batches + self._batch

    def _on_progress(self, p: Progress) -> None:
        """Records one report from the training callback."""
        with self._lock:
            self._epoch, self._batch, self._batches = p.epoch, p.batch, p.batches
            self._train_elapsed = p.elapsed
            if self._pace_origin is None:
                self._pace_origin = (p.elapsed, self._batches_done())
            self._message = f"epoch {p.epoch}/{p.epochs}"
            if p.epoch_end:
                for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
                    if key in p.logs:
                        self._history.setdefault(key, []).append(p.logs[key])
            else:
                for key in self._batch_logs:
                    if key in p.logs:
                        self._batch_logs[key].append(p.logs[key])

    def _set(self, state: str | None = None, message: str | None = None) -> None:
        with self._lock:
            if state is not None:
                self._state = state
                if state in (FINISHED, STOPPED, FAILED):
                    self._elapsed = time.perf_counter() - self._start
            if message is not None:
                self._message = message

    def _run(self) -> None:
        """The thread body: never raises; failures end in the ``failed`` state with a message."""
        try:
            self._train_and_save()
        except (ValueError, DataError, OSError, RuntimeError) as exc:
            self._set(FAILED, f"training failed: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
        except Exception as exc:  # the thread must always record how it ended
            traceback.print_exc()
            self._set(FAILED, f"training failed: {type(exc).__name__}: {str(exc)[:200]}")

    def _train_and_save(self) -> None:
        data, config = self.data, self.config
        before = {}
        if self.base_model is not None:
            self._set(message=f"scoring {self.base_model} before fine-tuning")
            model = load_keras_model(model_paths(self.base_model, self.models_dir)[0])
            before = self._score(Predictor(model))
        else:
            model = _build_fresh(config)
        self._set(message="training")
        result = train_model(
            data.x_train, data.y_train, data.x_val, data.y_val, config,
            model=model, progress=self._on_progress, should_stop=self._stop.is_set,
        )  # fmt: skip
        if result.stopped or self._stop.is_set():
            self._set(STOPPED, "stopped: nothing saved, the active model is unchanged")
            return
        self._set(message="scoring on the MNIST test set")
        predictor = Predictor(result.model)
        test = evaluate_model(predictor, data.x_test, data.y_test)
        extra = {}
        if self.base_model is not None:
            after = self._score(predictor, test)
            extra["fine_tune"] = {"before": before, "after": after}
        prefix = f"{self.base_model}-ft" if self.base_model is not None else config.model.arch
        name = new_model_name(prefix, self.models_dir)
        card = make_card(
            name, config, result, test, data.info, command=self.command, parent=self.base_model, extra_metrics=extra
        )
        try:
            card = save_model(result.model, card, self.models_dir)
        except (OSError, ModelStoreError) as exc:  # the folder filled up or vanished during training
            rescued = rescue_model(result.model, card)
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            self._set(FAILED, f"cannot save in {self.models_dir} ({reason}); the model is kept in {rescued.parent}")
            return
        with self._lock:
            self._card, self._comparison = card, extra.get("fine_tune", {})
        self._set(FINISHED, f"saved {name}: test accuracy {test.accuracy:.2%}")

    def _score(self, predictor: Predictor, test: Metrics | None = None) -> dict:
        """Accuracy on the MNIST test set and on the feedback samples."""
        test = test or evaluate_model(predictor, self.data.x_test, self.data.y_test)
        scores = {"mnist_test": test.accuracy}
        if self.data.x_feedback is not None and len(self.data.x_feedback):
            scores["feedback"] = evaluate_model(predictor, self.data.x_feedback, self.data.y_feedback).accuracy
        return scores


_BUILD_ATTEMPTS = 3


def _build_fresh(config: TrainConfig) -> keras.Model:
    """Builds ``config.model`` in this thread, resetting Keras' layer-name counters first.

    Under a Streamlit server, building in a background thread occasionally failed with Keras'
    "All layers added to a Sequential model should have unique names" (auto-generated names
    repeating); a fresh session and another attempt always succeeded.
    """
    for attempt in range(_BUILD_ATTEMPTS):
        keras.backend.clear_session(free_memory=False)
        try:
            return build_model(config.model)
        except ValueError as exc:
            if "unique names" not in str(exc) or attempt == _BUILD_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


_registry_lock = threading.Lock()
_current: TrainingJob | None = None


def current_job() -> TrainingJob | None:
    """The job started last in this process (running or ended), or None."""
    return _current


def start_job(
    config: TrainConfig,
    data: TrainingData,
    *,
    models_dir: str | Path | None = None,
    base_model: str | None = None,
    command: str = "",
    job_factory: Callable[..., TrainingJob] = TrainingJob,
) -> TrainingJob:
    """Starts a training job unless one is already running.

    Args:
        config: Training settings.
        data: The data.
        models_dir: Where the finished model is saved (None: the settings' models folder, read now).
        base_model: A model to fine-tune, or None to train from scratch.
        command: How the job was started, for the card.
        job_factory: Builds the job (tests pass a subclass).

    Returns:
        The running job.

    Raises:
        JobBusyError: Another job is still running.
        ValueError: Nonsense settings.
        hdr.store.ModelStoreError: The finished model could not be saved in ``models_dir``
            (not writable, no room), found before training rather than after.
    """
    global _current
    with _registry_lock:
        if _current is not None and _current.running:
            raise JobBusyError("a training job is already running: stop it or wait for it to finish")
        models_dir = check_models_dir(models_dir)
        job = job_factory(config, data, models_dir=models_dir, base_model=base_model, command=command)
        job.start()
        _current = job
        return job


def start_fine_tune(
    mnist: Mnist,
    feedback: tuple[np.ndarray, np.ndarray],
    config: FineTuneConfig = FineTuneConfig(),
    *,
    models_dir: str | Path | None = None,
) -> TrainingJob:
    """Fine-tunes the active model on feedback samples mixed with MNIST, in the background.

    Raises:
        JobBusyError: Another job is still running.
        hdr.data.DataError: There are no feedback samples.
        hdr.store.ModelStoreError: The active model's card cannot be read.
    """
    from hdr.store import read_card

    config.validate()
    models_dir = models_folder(models_dir)
    base = active_model(models_dir)
    arch = read_card(base, models_dir).arch
    data = make_fine_tune_data(mnist, feedback, config)
    return start_job(
        config.train_config(arch), data, models_dir=models_dir, base_model=base, command=f"fine-tune {base} on feedback"
    )
