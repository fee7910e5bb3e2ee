"""AppTest for every page: it runs without exception, its main widgets are there, and they work."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from hdr.inference.predict import Predictor, format_confidence
from hdr.inference.read import read_digits, read_picture
from hdr.settings import FEEDBACK_DIR_ENV, MODELS_DIR_ENV
from hdr.storage import store
from hdr.storage.store import DEFAULT_NAME, active_model, list_models
from hdr.training import jobs
from hdr.training.feedback import count_samples, save_sample
from hdr.training.models import ModelConfig
from hdr.training.presets import PRESETS, estimate_seconds, format_duration
from hdr.training.train import TrainConfig
from hdr.training.training_data import make_training_data
from synth.non_digits import LETTER_A, draw_shape, make_non_digit
from tests.app_support import copy_models, mnist_digit_rgba, small

APP = str(Path(__file__).resolve().parent.parent / "app.py")
TIMEOUT = 120  # seconds per script run: the first one loads TensorFlow and the model on busy cores


@pytest.fixture
def app_dirs(tmp_path, monkeypatch):
    """Points the app at a copy of the models and an empty feedback folder."""
    models = copy_models(tmp_path / "models")
    monkeypatch.setenv(MODELS_DIR_ENV, str(models))
    monkeypatch.setenv(FEEDBACK_DIR_ENV, str(tmp_path / "feedback"))
    return models, tmp_path / "feedback"


def _run(page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    if page is not None:
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def _png(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def test_draw_page_starts_blank_under_the_app_name(app_dirs):
    at = _run()
    assert [t.value for t in at.title] == ["HDR"] and at.caption[0].value.startswith("HDR reads handwritten digits")
    assert at.slider(key="stroke_width").value > 0
    assert at.metric[0].label == "Prediction" and at.metric[0].value == "—"
    assert "Draw a digit" in [i.value for i in at.info]
    assert at.toggle(key="draw-explain").value is False  # shown on a blank canvas too, so that it keeps its state
    assert not at.button  # undo, redo and clear are the canvas's own


def test_upload_page_predicts_a_photo_and_rejects_junk(app_dirs, mnist):
    at = _run("pages/upload.py")
    paper = 255 - np.kron(mnist.x_test[0], np.ones((8, 8), np.uint8))  # dark ink on white paper
    uploader = at.file_uploader(key="uploads")
    uploader.set_value(
        [
            ("seven.png", _png(paper), "image/png"),
            ("notes.png", b"not an image at all", "image/png"),
            ("empty.png", b"", "image/png"),
        ]
    )
    at.run()
    assert not at.exception
    assert [m.value for m in at.metric if m.label == "Prediction"] == [str(mnist.y_test[0])]
    errors = [e.value for e in at.error]
    assert any(e.startswith("notes.png: not an image") for e in errors), errors
    assert any(e.startswith("empty.png:") and "empty" in e for e in errors), errors
    assert at.toggle(key="use_camera").value is False


def test_upload_page_says_no_digit_here_for_a_letter_and_blank_paper(app_dirs):
    at = _run("pages/upload.py")
    letter = draw_shape(LETTER_A)
    paper = make_non_digit("blank paper photo", "test", np.random.default_rng(1)).picture
    at.file_uploader(key="uploads").set_value(
        [("letter.png", _png(letter), "image/png"), ("paper.jpg", paper, "image/jpeg")]
    )
    at.run()
    assert not at.exception
    assert [m.value for m in at.metric if m.label == "Prediction"] == ["No digit here", "No digit here"]
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 2 and all(w.startswith("No digit here: ") for w in warnings), warnings


def test_upload_page_writes_confidence_as_everywhere_else(app_dirs, mnist):
    paper = 255 - np.kron(mnist.x_test[0], np.ones((8, 8), np.uint8))  # a clear 7: one decimal would say 100.0%
    at = _run("pages/upload.py")
    at.file_uploader(key="uploads").set_value(("seven.png", _png(paper), "image/png"))
    at.run()
    _, expected = read_picture(paper, Predictor.load(DEFAULT_NAME, app_dirs[0]))  # the library is the reference
    [metric] = [m for m in at.metric if m.label == "Prediction"]
    assert metric.proto.delta == f"{format_confidence(expected.confidence)} confident"
    assert "100.0%" not in metric.proto.delta


def test_upload_page_reads_a_number(app_dirs, mnist):
    at = _run("pages/upload.py")
    first, second = (int(np.flatnonzero(mnist.y_test == d)[0]) for d in (4, 2))
    pair = np.concatenate([mnist.x_test[first], mnist.x_test[second]], axis=1)
    paper = 255 - np.kron(np.pad(pair, 6), np.ones((8, 8), np.uint8))
    at.file_uploader(key="uploads").set_value(("number.png", _png(paper), "image/png"))
    at.run()
    assert not at.exception
    expected = read_digits(paper, Predictor.load(DEFAULT_NAME, app_dirs[0])).text  # the library is the reference
    assert len(expected) == 2
    assert [m.value for m in at.metric if m.label == "Number"] == [expected]


def test_upload_feedback_saves_a_sample(app_dirs, mnist):
    _, feedback_dir = app_dirs
    at = _run("pages/upload.py")
    at.file_uploader(key="uploads").set_value(
        ("digit.png", _png(255 - np.kron(mnist.x_test[1], np.ones((8, 8), np.uint8))), "image/png")
    )
    at.run()
    [label] = [s for s in at.selectbox if s.label.startswith("Wrong?")]
    label.set_value(5)
    for _ in range(10):  # ten quick clicks on "Save sample": one sample, and the page says which
        at.button[-1].click()
        at.run()
        assert not at.exception
        assert count_samples(feedback_dir)[5] == 1
        [saved] = [s.value for s in at.success if "Saved as a 5" in s.value]
        assert next((feedback_dir / "5").glob("*.png")).name in saved


@pytest.mark.parametrize("hostile", ["absolute", "relative"])
def test_train_page_never_writes_an_upload_under_its_client_supplied_name(app_dirs, tmp_path, hostile):
    target = tmp_path / "outside" / "x.csv"
    target.parent.mkdir()
    name = str(target) if hostile == "absolute" else "../" * 12 + str(target).lstrip("/")
    at = _run("pages/train.py")
    at.radio(key="data_source").set_value("Kaggle CSV (upload)")
    at.file_uploader(key="csv").set_value((name, b"label,a,b\n1,2,3\n", "text/csv"))
    at.button(key="start").click().run()
    assert not at.exception
    assert not target.exists() and not any(target.parent.iterdir())
    errors = [e.value for e in at.error]
    assert any(e.startswith(f"{name}: not a Kaggle digits CSV") for e in errors), errors
    assert not any("/tmp" in e.replace(name, "") for e in errors), errors  # no server path in the message


def test_train_page_starts_on_the_quick_preset_with_a_measured_estimate(app_dirs):
    at = _run("pages/train.py")
    assert not at.exception
    assert at.radio(key="preset").value == "quick"
    assert at.selectbox(key="arch").value == PRESETS["quick"].model.arch
    assert at.number_input(key="epochs").value == PRESETS["quick"].epochs
    [estimate] = [i.value for i in at.info if i.value.startswith("Estimated time")]
    speed = float(re.search(r"trains at ([\d,]+) images/s, measured on this machine", estimate)[1].replace(",", ""))
    quick = PRESETS["quick"]
    if estimate_seconds(quick, 54_000, 6_000, speed) < quick.time_budget - 1:  # this machine runs at full speed
        assert f"for {quick.epochs} epochs of 54,000 images" in estimate and "time budget" not in estimate
    else:  # a slower (or busy) machine: the preset's time budget bounds the run
        assert estimate.startswith(f"Estimated time: **{format_duration(quick.time_budget)}** for at most")
        assert "the time budget ends it by then" in estimate
    at.radio(key="preset").set_value("best").run()
    assert at.selectbox(key="arch").value == "hdrnet" and at.number_input(key="epochs").value == 40
    at.number_input(key="epochs").set_value(0).run()  # below the widget's minimum: clamped, never a traceback
    assert not at.exception


def test_train_page_refuses_nonsense_and_trains_a_small_model(app_dirs):
    models, _ = app_dirs
    at = _run("pages/train.py")
    assert at.selectbox(key="arch").value
    for key in ("epochs", "batch_size", "learning_rate", "limit"):
        assert at.number_input(key=key)
    at.radio(key="data_source").set_value("Kaggle CSV (upload)")
    at.button(key="start").click().run()
    assert not at.exception
    assert "upload a Kaggle train.csv first" in [e.value for e in at.error]
    at.file_uploader(key="csv").set_value(("train.csv", b"label,a,b\n1,2,3\n", "text/csv"))
    at.button(key="start").click().run()
    assert not at.exception
    assert any("not a Kaggle digits CSV" in e.value for e in at.error), [e.value for e in at.error]
    at.file_uploader(key="csv").set_value(None)

    at.radio(key="data_source").set_value("MNIST")
    at.selectbox(key="arch").set_value("mlp")
    at.number_input(key="epochs").set_value(1)
    at.number_input(key="limit").set_value(300)
    at.checkbox(key="augment").uncheck()
    at.button(key="start").click().run()
    assert not at.exception
    job = jobs.current_job()
    status = job.wait(TIMEOUT)
    assert status.state == jobs.FINISHED, status.message
    at.run()
    assert not at.exception
    assert at.button(key="activate-new")
    at.button(key="activate-new").click().run()
    assert active_model(models) == status.card.name


def test_models_page_lists_activates_and_deletes(app_dirs, mnist):
    models, _ = app_dirs
    config = TrainConfig(model=ModelConfig(arch="mlp"), epochs=1, augment=False, limit=200)
    status = jobs.start_job(config, make_training_data(small(mnist), config), models_dir=models).wait(TIMEOUT)
    assert status.state == jobs.FINISHED, status.message
    at = _run("pages/models.py")
    assert at.selectbox(key="chosen").value == DEFAULT_NAME
    assert at.button(key="delete").disabled  # never the default
    at.selectbox(key="chosen").set_value(status.card.name)
    at.run()
    at.button(key="activate").click().run()
    assert not at.exception and active_model(models) == status.card.name
    assert at.selectbox(key="compare-a") and at.selectbox(key="compare-b")
    at.selectbox(key="chosen").set_value(status.card.name)
    at.run()
    at.button(key="delete").click().run()
    assert not at.exception and (models / f"{status.card.name}.keras").is_file()  # not before it is confirmed
    at.button(key="cancel-delete").click().run()
    assert not at.exception and (models / f"{status.card.name}.keras").is_file()
    at.button(key="delete").click().run()
    at.button(key="confirm-delete").click().run()
    assert not at.exception
    assert [c.name for c in list_models(models)] == [DEFAULT_NAME]
    assert active_model(models) == DEFAULT_NAME


def _finished_job(mnist, models: Path) -> jobs.JobStatus:
    """A tiny training job run to its end, its model saved in ``models``."""
    config = TrainConfig(model=ModelConfig(arch="mlp"), epochs=1, augment=False, limit=200)
    status = jobs.start_job(config, make_training_data(small(mnist), config), models_dir=models).wait(TIMEOUT)
    assert status.state == jobs.FINISHED, status.message
    return status


def test_models_page_shows_damaged_cards_instead_of_hiding_them(app_dirs):
    models, _ = app_dirs
    (models / "other.keras").write_bytes((models / f"{DEFAULT_NAME}.keras").read_bytes())
    card = json.loads((models / f"{DEFAULT_NAME}.json").read_text())
    (models / "other.json").write_text(json.dumps({**card, "name": "other", "metrics": "99%", "created": None}))
    (models / f"{DEFAULT_NAME}.json").write_text("{truncated")
    at = _run("pages/models.py")
    assert not any("No models" in i.value for i in at.info)
    assert at.selectbox(key="chosen").options == [DEFAULT_NAME, "other"]
    warnings = " ".join(w.value for w in at.warning)
    assert f"{DEFAULT_NAME}: " in warnings and "other: " in warnings and "corrupt model card" in warnings
    assert at.header[0].value == f"Active model: {DEFAULT_NAME}" and at.caption  # its test figures, recomputed


def test_models_page_errors_are_one_line_and_the_page_goes_on(app_dirs, mnist, monkeypatch):
    models, _ = app_dirs
    name = _finished_job(mnist, models).card.name

    def read_only(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    at = _run("pages/models.py")
    at.selectbox(key="chosen").set_value(name).run()
    monkeypatch.setattr(store, "write_atomic", read_only)
    monkeypatch.setattr(Path, "unlink", read_only)
    at.button(key="activate").click().run()
    assert not at.exception and [e.value for e in at.error] == [
        f"cannot activate {name}: {models} is not writable (Permission denied)"
    ]
    at.button(key="delete").click().run()
    at.button(key="confirm-delete").click().run()
    assert not at.exception and [e.value for e in at.error] == [f"cannot delete {name}: Permission denied"]
    assert active_model(models) == DEFAULT_NAME and (models / f"{name}.keras").is_file()


def test_train_page_activate_on_a_model_deleted_elsewhere_is_a_message(app_dirs, mnist):
    models, _ = app_dirs
    name = _finished_job(mnist, models).card.name
    at = _run("pages/train.py")
    assert at.button(key="activate-new")
    store.delete_model(name, models)  # from the Models page in another tab
    at.button(key="activate-new").click().run()
    assert not at.exception
    assert any("deleted meanwhile" in e.value for e in at.error), [e.value for e in at.error]


def test_a_second_start_from_another_tab_says_a_job_is_running(app_dirs, mnist):
    models, _ = app_dirs
    at = _run("pages/train.py")  # this tab was drawn before the job started
    config = TrainConfig(model=ModelConfig(arch="mlp"), epochs=50, batch_size=8, augment=False)
    job = jobs.start_job(config, make_training_data(small(mnist), config), models_dir=models)
    try:
        at.radio(key="data_source").set_value("MNIST")
        at.button(key="start").click().run()
        assert not at.exception
        assert any("already running" in e.value for e in at.error), [e.value for e in at.error]
        assert jobs.current_job() is job
    finally:
        job.stop()
        job.wait(TIMEOUT)


def test_fine_tune_button_appears_with_feedback(app_dirs, mnist):
    _, feedback_dir = app_dirs
    save_sample(mnist_digit_rgba(mnist.x_test[0]), int(mnist.y_test[0]), feedback_dir)
    at = _run("pages/train.py")
    assert not at.button(key="fine_tune").disabled


def test_live_page_shows_the_camera_component(app_dirs):
    at = _run("pages/live.py")
    assert [t.value for t in at.title] == ["Live"]
    assert not at.metric  # nothing frozen yet: no reading below the camera
