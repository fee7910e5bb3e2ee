"""Background training jobs on a few hundred images, one epoch."""

from __future__ import annotations

import time

import numpy as np
import pytest

from hdr.storage.store import DEFAULT_NAME, ModelStoreError, active_model, list_models, read_card
from hdr.training import jobs
from hdr.training.feedback import load_feedback, save_sample
from hdr.training.models import ModelConfig
from hdr.training.train import Progress, TrainConfig
from hdr.training.training_data import FineTuneConfig, TrainingData, make_training_data
from tests.app_support import copy_models, mnist_digit_rgba, small

TINY = TrainConfig(model=ModelConfig(arch="mlp"), epochs=1, batch_size=32, augment=False, limit=200)
TIMEOUT = 120  # seconds; a tiny job takes a few


@pytest.fixture(scope="module")
def small_mnist(mnist):
    return small(mnist)


@pytest.fixture
def models_copy(tmp_path):
    return copy_models(tmp_path / "models")


def test_job_records_progress_and_saves_without_activating(small_mnist, models_copy):
    data = make_training_data(small_mnist, TINY)
    job = jobs.start_job(TINY, data, models_dir=models_copy)
    status = job.wait(TIMEOUT)
    assert status.state == jobs.FINISHED, status.message
    assert status.fraction == 1.0 and status.epoch == 1 and status.batches == 7
    assert len(status.history["val_accuracy"]) == 1 and len(status.batch_logs["loss"]) == status.batches
    card = read_card(status.card.name, models_copy)
    assert card.metrics["test"]["n"] == len(small_mnist.y_test)
    assert card.metrics["test_accuracy"] == pytest.approx(status.card.metrics["test_accuracy"])
    assert card.data["train"] == TINY.limit and card.data["val"] <= TINY.limit
    assert active_model(models_copy) == DEFAULT_NAME
    assert {c.name for c in list_models(models_copy)} == {DEFAULT_NAME, card.name}


def _next_name(name: str) -> str:
    """The auto-generated layer name Keras gives after ``name`` in the same thread: dense -> dense_1 -> dense_2."""
    base, _, n = name.rpartition("_")
    return f"{base}_{int(n) + 1}" if n.isdigit() else f"{name}_1"


def test_a_job_leaves_the_keras_state_of_other_threads_alone(small_mnist, models_copy):
    import keras

    before = keras.layers.Dense(1).name  # this thread's name counter, as a page's script thread has one
    status = jobs.start_job(TINY, make_training_data(small_mnist, TINY), models_dir=models_copy).wait(TIMEOUT)
    assert status.state == jobs.FINISHED, status.message
    # keras.backend.clear_session() in the job's thread would have reset this thread's counter too
    # (so two layers built here at that moment could share a name: Keras' "unique names" error).
    assert keras.layers.Dense(1).name == _next_name(before)


def test_a_job_stopped_after_some_epochs_keeps_the_best_one_as_ctrl_c_does(small_mnist, models_copy):
    config = TrainConfig(model=ModelConfig(arch="mlp"), epochs=50, batch_size=8, augment=False, limit=200)
    job = jobs.start_job(config, make_training_data(small_mnist, config), models_dir=models_copy)
    deadline = time.monotonic() + TIMEOUT
    while len(job.status().history.get("val_loss", [])) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    job.stop()
    status = job.wait(TIMEOUT)
    assert status.state == jobs.STOPPED and status.card is not None, status.message
    card = read_card(status.card.name, models_copy)
    val_loss = card.history["val_loss"]
    assert 2 <= len(val_loss) < config.epochs
    assert card.best_epoch == 1 + int(np.argmin(val_loss))  # the best epoch so far, not the last one
    assert f"best epoch so far ({card.best_epoch})" in status.message and status.card.name in status.message
    assert card.metrics["test"]["n"] == len(small_mnist.y_test)
    assert active_model(models_copy) == DEFAULT_NAME


def test_only_one_job_at_a_time(small_mnist, models_copy):
    config = TrainConfig(model=ModelConfig(arch="mlp"), epochs=50, batch_size=8, augment=False)
    data = make_training_data(small_mnist, config)
    job = jobs.start_job(config, data, models_dir=models_copy)
    try:
        with pytest.raises(jobs.JobBusyError, match="already running"):  # the folder's lock, in this process too
            jobs.start_job(config, data, models_dir=models_copy)
    finally:
        job.stop()
        job.wait(TIMEOUT)


def test_an_unwritable_models_folder_is_refused_before_training(small_mnist, tmp_path):
    not_a_folder = tmp_path / "models"
    not_a_folder.write_text("a file where the models folder should be")
    with pytest.raises(ModelStoreError, match="cannot save models there"):
        jobs.start_job(TINY, make_training_data(small_mnist, TINY), models_dir=not_a_folder)


def test_a_save_that_fails_after_training_keeps_the_model_elsewhere(small_mnist, models_copy, monkeypatch):
    import shutil
    from pathlib import Path

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(jobs, "save_model", disk_full)
    status = jobs.start_job(TINY, make_training_data(small_mnist, TINY), models_dir=models_copy).wait(TIMEOUT)
    assert status.state == jobs.FAILED and "No space left on device" in status.message
    rescued = Path(status.message.rsplit("the model is kept in ", 1)[1])
    [weights] = rescued.glob("*.keras")
    assert weights.with_suffix(".json").is_file()
    shutil.rmtree(rescued)


def test_failure_is_a_message_not_a_crash(small_mnist, models_copy):
    data = make_training_data(small_mnist, TINY)
    broken = TrainingData(
        data.x_train, data.y_train, data.x_val[:0], data.y_val[:0], data.x_test, data.y_test, data.info
    )
    status = jobs.start_job(TINY, broken, models_dir=models_copy).wait(TIMEOUT)
    assert status.state == jobs.FAILED and "must not be empty" in status.message
    assert active_model(models_copy) == DEFAULT_NAME


@pytest.mark.parametrize("bad", [{"epochs": 0}, {"batch_size": 0}, {"learning_rate": 5.0}, {"limit": 3}])
def test_nonsense_settings_are_refused_before_starting(small_mnist, models_copy, bad):
    config = TrainConfig(**{**TINY.__dict__, **bad})
    with pytest.raises(ValueError):
        jobs.TrainingJob(config, make_training_data(small_mnist, TINY), models_dir=models_copy)


def test_extra_samples_come_first_and_survive_the_limit(small_mnist):
    extra = (small_mnist.x_test[:5], np.full(5, 7, np.int64))
    data = make_training_data(small_mnist, TINY, extra=extra, extra_name="feedback")
    assert data.y_train[:5].tolist() == [7] * 5 and "feedback" in data.info["source"]
    csv_only = make_training_data(
        small_mnist, TINY, extra=(small_mnist.x_train, small_mnist.y_train), extra_name="train.csv", replace_mnist=True
    )
    assert csv_only.info["source"] == "train.csv"


def test_fine_tune_reports_before_and_after(small_mnist, models_copy, tmp_path, mnist):
    for i in range(6):
        save_sample(mnist_digit_rgba(mnist.x_test[i]), int(mnist.y_test[i]), tmp_path / "fb")
    config = FineTuneConfig(epochs=1, mnist_images=100, feedback_repeat=2)
    job = jobs.start_fine_tune(small_mnist, load_feedback(tmp_path / "fb"), config, models_dir=models_copy)
    status = job.wait(TIMEOUT)
    assert status.state == jobs.FINISHED, status.message
    assert set(status.comparison) == {"before", "after"}
    assert set(status.comparison["after"]) == {"mnist_test", "mnist_test_n", "feedback", "feedback_n"}
    assert status.comparison["before"]["feedback_n"] == 6  # how many samples the accuracy is on
    card = read_card(status.card.name, models_copy)
    assert card.parent == DEFAULT_NAME and card.name.startswith("default-ft")
    assert card.metrics["fine_tune"] == status.comparison
    assert active_model(models_copy) == DEFAULT_NAME


class _PacedJob(jobs.TrainingJob):
    """A job whose "training" reports batches at a steady pace after a slow first one, and records its status."""

    first_batch_s, batch_s, batches = 30.0, 0.5, 1000

    def _train_and_save(self) -> None:
        self.statuses = []
        for n in range(1, jobs.ETA_MIN_BATCHES + 2):
            elapsed = self.first_batch_s + (n - 1) * self.batch_s
            self._on_progress(Progress(1, self.config.epochs, n, self.batches, False, {"loss": 1.0}, elapsed))
            if n in (1, jobs.ETA_MIN_BATCHES + 1):
                self.statuses.append(self.status())
        self._set(jobs.STOPPED, "done")


def test_time_left_is_shown_only_once_the_pace_means_something(small_mnist, models_copy):
    job = jobs.start_job(TINY, make_training_data(small_mnist, TINY), models_dir=models_copy, job_factory=_PacedJob)
    job.wait(TIMEOUT)
    after_one, after_many = job.statuses
    assert after_one.seconds_left is None  # one slow batch (graph tracing) says nothing about the pace
    expected = _PacedJob.batch_s * (TINY.epochs * _PacedJob.batches - (jobs.ETA_MIN_BATCHES + 1))
    assert after_many.seconds_left == pytest.approx(expected)


_OTHER_PROCESS_JOB = """
import sys, time
from pathlib import Path
from hdr.training import jobs
from hdr.training.models import ModelConfig
from hdr.training.train import TrainConfig

class Waiting(jobs.TrainingJob):
    def _run(self):  # trains nothing: holds the folder until told to end (at most a minute)
        deadline = time.monotonic() + 60
        while not Path(sys.argv[2]).exists() and time.monotonic() < deadline:
            time.sleep(0.05)

config = TrainConfig(model=ModelConfig(arch="mlp"), epochs=1, batch_size=32, augment=False)
job = jobs.start_job(config, None, models_dir=sys.argv[1], job_factory=Waiting)
print("started", flush=True)
job.wait()
"""


def test_two_processes_never_train_into_one_models_folder_at_once(small_mnist, models_copy, tmp_path):
    import subprocess
    import sys

    done = tmp_path / "done"
    other = subprocess.Popen(
        [sys.executable, "-c", _OTHER_PROCESS_JOB, str(models_copy), str(done)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert other.stdout.readline().strip() == "started"
        with pytest.raises(jobs.JobBusyError, match="another process"):
            jobs.start_job(TINY, make_training_data(small_mnist, TINY), models_dir=models_copy)
    finally:
        done.touch()
        other.wait(TIMEOUT)
    job = jobs.start_job(TINY, make_training_data(small_mnist, TINY), models_dir=models_copy)  # free again
    assert job.wait(TIMEOUT).state == jobs.FINISHED
