"""Background training jobs: train in a thread, record progress for a page to poll, save with a card.

A :class:`TrainingJob` runs :func:`hdr.training.train.train_model` (data from :mod:`hdr.training.training_data`, card
from :mod:`hdr.training.cards`, as for the command line) in a daemon thread and records every batch and epoch
under a lock, so a page can poll a consistent :class:`JobStatus` while it reruns. One job trains
into a models folder at a time (:func:`start_job`). A finished job saves its model under a fresh
name, never activating it or overwriting the default. A stopped one keeps its best epoch so far, as
the command line's Ctrl-C does (nothing if no epoch ended); a failed one saves nothing. The active
model is never changed.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import numpy as np

from hdr.inference.evaluate import Metrics, evaluate_model
from hdr.inference.predict import Predictor
from hdr.storage import store
from hdr.storage.folder_lock import claim_folder, release_when_done
from hdr.storage.store import ModelCard, ModelStoreError, models_folder, rescue_model, save_model
from hdr.training.cards import make_card
from hdr.training.data import DataError, Mnist
from hdr.training.job_status import ETA_MIN_BATCHES, FAILED, FINISHED, PENDING, RUNNING, STOPPED, JobStatus
from hdr.training.models import build_model
from hdr.training.train import Progress, TrainConfig, train_model
from hdr.training.training_data import FineTuneConfig, TrainingData, accuracy_by_source, make_fine_tune_data


class JobBusyError(RuntimeError):
    """A training job is already running."""


class TrainingJob:
    """One training run in a background thread.

    Example:
        >>> job = start_job(config, data)
        >>> job.status().fraction  # poll from anywhere
        >>> job.stop()  # ends after the current batch, keeping the best epoch so far
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
        """Asks the job to end after the current batch; the best epoch so far is saved, if one has ended."""
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
            model = store.load_keras_model(store.model_paths(self.base_model, self.models_dir)[0])
            before = self._score(Predictor(model))
        else:
            model = _build(config)  # never clear_session() here: it resets every thread's Keras state
        self._set(message="training")
        result = train_model(
            data.x_train, data.y_train, data.x_val, data.y_val, config,
            model=model, progress=self._on_progress, should_stop=self._stop.is_set,
        )  # fmt: skip
        stopped = result.stopped or self._stop.is_set()
        if stopped and result.best_epoch == 0:
            self._set(STOPPED, "stopped before the first epoch ended: nothing saved, the active model is unchanged")
            return
        self._set(message="scoring on the MNIST test set")
        predictor = Predictor(result.model)
        test = evaluate_model(predictor, data.x_test, data.y_test)
        extra = {"val_accuracy_by_source": accuracy_by_source(predictor, data)}
        if self.base_model is not None:
            after = self._score(predictor, test)
            extra["fine_tune"] = {"before": before, "after": after}
        prefix = f"{self.base_model}-ft" if self.base_model is not None else config.model.arch
        name = store.new_model_name(prefix, self.models_dir)
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
        if stopped:
            ended = len(result.history.get("val_loss", []))  # Keras validates the epoch a stop cuts short
            self._set(STOPPED, f"stopped in epoch {ended}: saved {name}, its best epoch so far "
                      f"({result.best_epoch}), test accuracy {test.accuracy:.2%}")  # fmt: skip
        else:
            self._set(FINISHED, f"saved {name}: test accuracy {test.accuracy:.2%}")

    def _score(self, predictor: Predictor, test: Metrics | None = None) -> dict:
        """Accuracy on the MNIST test set and on the feedback samples."""
        test = test or evaluate_model(predictor, self.data.x_test, self.data.y_test)
        scores = {"mnist_test": test.accuracy, "mnist_test_n": test.n}
        if self.data.x_feedback is not None and len(self.data.x_feedback):  # never an accuracy on zero samples
            feedback = evaluate_model(predictor, self.data.x_feedback, self.data.y_feedback)
            scores.update(feedback=feedback.accuracy, feedback_n=feedback.n)
        return scores


def _build(config: TrainConfig, attempts: int = 3):
    """Builds ``config.model``, again if a Keras session cleared by another thread mid-build repeated a layer name."""
    for attempt in range(attempts):
        try:
            return build_model(config.model)
        except ValueError as exc:  # Keras' "All layers ... should have unique names"
            if "unique names" not in str(exc) or attempt == attempts - 1:
                raise


def start_job(
    config: TrainConfig,
    data: TrainingData,
    *,
    models_dir: str | Path | None = None,
    base_model: str | None = None,
    command: str = "",
    job_factory: Callable[..., TrainingJob] = TrainingJob,
) -> TrainingJob:
    """Starts a training job unless one is already training into the same models folder.

    The folder's lock (:mod:`hdr.storage.folder_lock`) holds across threads and processes alike.
    Which job a program shows, and whether it allows one per process, is the program's business
    (the app keeps its own in ``ui.jobs``).

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
        JobBusyError: Another job is still training into ``models_dir``.
        ValueError: Nonsense settings.
        hdr.storage.store.ModelStoreError: ``models_dir`` cannot hold the result (checked before training).
    """
    models_dir = store.check_models_dir(models_dir)
    job = job_factory(config, data, models_dir=models_dir, base_model=base_model, command=command)
    lock = claim_folder(job.models_dir)
    if lock is None:
        raise JobBusyError(
            f"a training job is already running on {job.models_dir} (here or in another process): "
            "stop it or wait for it to finish"
        )
    try:
        job.start()
    except BaseException:
        lock.close()
        raise
    release_when_done(lock, job.wait)
    return job


def start_fine_tune(
    mnist: Mnist,
    feedback: tuple[np.ndarray, np.ndarray],
    config: FineTuneConfig | None = None,
    *,
    models_dir: str | Path | None = None,
) -> TrainingJob:
    """Fine-tunes the active model on feedback samples mixed with MNIST, in the background.

    Raises:
        JobBusyError: Another job is still training into the models folder.
        hdr.training.data.DataError: There are no feedback samples.
        hdr.storage.store.ModelStoreError: The active model's card cannot be read.
    """
    config = config or FineTuneConfig()
    config.validate()
    models_dir = models_folder(models_dir)
    base = store.active_model(models_dir)
    arch = store.read_card(base, models_dir).arch
    data = make_fine_tune_data(mnist, feedback, config)
    return start_job(
        config.train_config(arch), data, models_dir=models_dir, base_model=base, command=f"fine-tune {base} on feedback"
    )
