"""AppTest for every page: it runs without exception, its main widgets are there, and they work."""

from __future__ import annotations

import io
import json
import re
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from hdr.inference.predict import Predictor, format_confidence
from hdr.inference.read import read_digits, read_picture
from hdr.settings import DATA_DIR_ENV, FEEDBACK_DIR_ENV, MODELS_DIR_ENV
from hdr.storage import store
from hdr.storage.store import DEFAULT_NAME, ModelStoreError, active_model, list_models
from hdr.training import jobs
from hdr.training.feedback import count_samples, save_sample
from hdr.training.models import ModelConfig
from hdr.training.presets import PRESETS, estimate_seconds, format_duration
from hdr.training.train import TrainConfig
from hdr.training.training_data import make_training_data
from synth.non_digits import LETTER_A, draw_shape, make_non_digit
from tests.app_support import copy_models, mnist_digit_rgba, small
from ui import jobs as app_jobs
from ui.widgets import plain_text

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
    assert any(e.startswith(plain_text("notes.png: not an image")) for e in errors), errors
    assert any(e.startswith(plain_text("empty.png:")) and "empty" in e for e in errors), errors
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
        [b for b in at.button if b.label == "Save sample"][0].click()
        at.run()
        assert not at.exception
        assert count_samples(feedback_dir)[5] == 1
        [saved] = [s.value for s in at.success if "Saved as a 5" in s.value]
        assert next((feedback_dir / "5").glob("*.png")).name in saved


def test_upload_feedback_is_corrected_by_saving_again_and_undone(app_dirs, mnist):
    _, feedback_dir = app_dirs
    at = _run("pages/upload.py")
    at.file_uploader(key="uploads").set_value(
        ("digit.png", _png(255 - np.kron(mnist.x_test[1], np.ones((8, 8), np.uint8))), "image/png")
    )
    at.run()
    [label] = [s for s in at.selectbox if s.label.startswith("Wrong?")]
    label.set_value(1)
    [b for b in at.button if b.label == "Save sample"][0].click()
    at.run()
    [name] = [p.name for p in (feedback_dir / "1").glob("*.png")]
    [label] = [s for s in at.selectbox if s.label.startswith("Wrong?")]
    label.set_value(7)
    [b for b in at.button if b.label == "Save sample"][0].click()
    at.run()
    assert not at.exception
    assert count_samples(feedback_dir)[1] == 0 and [p.name for p in (feedback_dir / "7").glob("*.png")] == [name]
    assert any(s.value.startswith(f"Changed to a 7 (was a 1; {name})") for s in at.success), [
        s.value for s in at.success
    ]
    [undo] = [b for b in at.button if b.label == "Undo"]
    undo.click().run()
    assert not at.exception and sum(count_samples(feedback_dir).values()) == 0
    assert "Undone: the sample is deleted." in [i.value for i in at.info]
    assert not [b for b in at.button if b.label == "Undo"]


def test_upload_feedback_on_each_digit_of_a_number(app_dirs, mnist):
    _, feedback_dir = app_dirs
    at = _run("pages/upload.py")
    first, second = (int(np.flatnonzero(mnist.y_test == d)[0]) for d in (4, 2))
    pair = np.concatenate([mnist.x_test[first], mnist.x_test[second]], axis=1)
    at.file_uploader(key="uploads").set_value(
        ("number.png", _png(255 - np.kron(np.pad(pair, 6), np.ones((8, 8), np.uint8))), "image/png")
    )
    at.run()
    digits = [s for s in at.selectbox if s.label.startswith("Digit ")]
    assert [s.label for s in digits] == ["Digit 1", "Digit 2"]
    read_as = [s.value for s in digits]
    digits[1].set_value((read_as[1] + 1) % 10)  # the second digit corrected, the first left as read
    [b for b in at.button if b.label == "Save corrections"][0].click()
    at.run()
    assert not at.exception
    counts = count_samples(feedback_dir)
    assert sum(counts.values()) == 1 and counts[(read_as[1] + 1) % 10] == 1
    [sample] = (feedback_dir / str((read_as[1] + 1) % 10)).glob("*.png")
    assert Image.open(sample).width < 20 * 8 + 2 * 6 * 8  # the one digit cut out, not the whole number


def test_samples_page_shows_the_samples_and_the_owner_deletes_one(app_dirs, mnist):
    _, feedback_dir = app_dirs
    paths = [save_sample(mnist_digit_rgba(mnist.x_test[i]), int(mnist.y_test[i]), feedback_dir) for i in range(3)]
    at = _run("pages/samples.py")
    assert len(at.get("image")) == 3
    at.button(key=f"delete-{paths[0].stem}").click().run()
    assert not at.exception and not paths[0].exists() and paths[1].exists()
    assert len(at.get("image")) == 2 and f"Deleted {paths[0].name}." in [i.value for i in at.info]
    at.selectbox(key="samples_digit").set_value(int(mnist.y_test[1])).run()
    assert not at.exception and len(at.get("image")) == 1


def test_samples_page_lets_a_visitor_look_but_not_delete(app_dirs, mnist):
    from ui.owner import OWNER_SECRET

    _, feedback_dir = app_dirs
    save_sample(mnist_digit_rgba(mnist.x_test[0]), int(mnist.y_test[0]), feedback_dir)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.secrets[OWNER_SECRET] = "a key the visitor does not know"
    at.run()
    at.switch_page("pages/samples.py").run()
    assert not at.exception and len(at.get("image")) == 1
    assert not [b for b in at.button if b.key and b.key.startswith("delete-")]


@pytest.mark.mnist  # reads MNIST itself (the command line or a page), not through the fixture
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
    at.number_input(key="epochs").set_value(0).run()
    assert not at.exception and at.button(key="start").disabled  # refused with its reason, never a traceback


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("epochs", 0, "Epochs must be 1..1000, got 0"),
        ("epochs", -3, "Epochs must be 1..1000, got -3"),
        ("epochs", 100_000, "Epochs must be 1..1000, got 100000"),
        ("learning_rate", 0.0, "Learning rate must be in (0, 1], got 0.0"),
        ("learning_rate", 5.0, "Learning rate must be in (0, 1], got 5.0"),
        ("batch_size", 0, "Batch size must be 1..8192, got 0"),
        ("limit", -10, "Use 0 for all images, or at least 20 (got -10)"),
    ],
)
def test_train_page_an_invalid_field_blocks_start_with_its_reason(app_dirs, field, value, reason):
    at = _run("pages/train.py")
    before = app_jobs.current()
    at.number_input(key=field).set_value(value).run()
    assert not at.exception
    assert at.number_input(key=field).value == value  # kept as typed, not replaced by the last valid value
    assert [e.value for e in at.error] == [reason]
    assert not any(i.value.startswith("Estimated time") for i in at.info)  # no estimate for a run that cannot start
    assert at.button(key="start").disabled and app_jobs.current() is before


@pytest.mark.mnist  # reads MNIST itself (the command line or a page), not through the fixture
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
    job = app_jobs.current()
    status = job.wait(TIMEOUT)
    assert status.state == jobs.FINISHED, status.message
    at.run()
    assert not at.exception
    # One epoch on 300 images is worse than the shipped model: shown against it, Activate asks first.
    assert any(
        f"{status.card.name} is less accurate than the active model {DEFAULT_NAME}" in w.value for w in at.warning
    )
    assert (
        at.metric[0].label == f"Test accuracy of {status.card.name}" and "points against default" in at.metric[0].delta
    )
    assert at.button(key="activate-new").disabled
    at.checkbox(key="activate-new-anyway").check().run()
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
    assert at.button(key="activate").disabled  # worse than the active model: it asks first
    at.checkbox(key="activate-anyway").check().run()
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
    """A tiny training job run to its end, its model saved in ``models``: the app's last job."""
    config = TrainConfig(model=ModelConfig(arch="mlp"), epochs=1, augment=False, limit=200)
    data = make_training_data(small(mnist), config)
    status = app_jobs.start(lambda: jobs.start_job(config, data, models_dir=models)).wait(TIMEOUT)
    assert status.state == jobs.FINISHED, status.message
    return status


def test_models_page_without_mnist_says_so_in_the_apps_terms(app_dirs, tmp_path, monkeypatch):
    from ui import state

    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "no-mnist-here"))
    state.mnist.clear()  # MNIST read by an earlier test of this process
    try:
        at = _run("pages/models.py")
        assert at.header[0].value == f"Active model: {DEFAULT_NAME}"  # the rest of the page is there
        texts = [e.value for kind in (at.error, at.warning, at.info, at.caption, at.markdown) for e in kind]
        assert any("no copy of the MNIST digits, so the gallery" in t for t in texts), texts
        assert any("HDR_DATA_DIR" in t and "Whoever runs this server" in t for t in texts)
        assert not any("--data-dir" in t or "no-mnist-here" in t for t in texts), texts
    finally:
        state.mnist.clear()


def test_about_page_shows_the_active_models_card_and_its_downloads(app_dirs):
    models, _ = app_dirs
    at = _run("pages/about.py")
    card = json.loads((models / f"{DEFAULT_NAME}.json").read_text())
    assert [t.value for t in at.title] == ["About the model"] and at.header[0].value == DEFAULT_NAME
    [accuracy] = [m for m in at.metric if m.label == "MNIST test accuracy"]
    assert accuracy.value == f"{card['metrics']['test_accuracy']:.2%}"
    what = " ".join(m.value for m in at.markdown)
    assert "ensemble averaging 3 models" in what and card["data"]["source"] in what
    assert "What it misreads in real handwriting" in what  # docs/real-handwriting.md's section
    assert any(e.label.startswith("How it was made and chosen") for e in at.expander)
    downloads = {d.key for d in at.get("download_button")}
    assert downloads == {"download-keras", "download-tflite"}


def test_the_about_pages_tflite_download_runs_like_the_model(tmp_path, tiny_model):
    from hdr.inference.export import TFLiteModel
    from ui.about import tflite_bytes

    path = tmp_path / "tiny.keras"
    tiny_model.save(path)
    x = np.random.default_rng(0).random((3, 28, 28, 1), dtype=np.float32)
    lite = TFLiteModel(tflite_bytes(str(path), path.stat().st_mtime))
    np.testing.assert_allclose(lite.probabilities(x), tiny_model.predict(x, verbose=0), atol=1e-5)


def test_upload_page_sums_up_a_batch_in_a_table_and_a_csv(app_dirs, mnist):
    at = _run("pages/upload.py")
    paper = lambda i: _png(255 - np.kron(mnist.x_test[i], np.ones((8, 8), np.uint8)))  # noqa: E731
    at.file_uploader(key="uploads").set_value(
        [("a.png", paper(0), "image/png"), ("b.png", paper(1), "image/png"), ("junk.png", b"junk", "image/png")]
    )
    at.run()
    assert not at.exception
    [table] = at.dataframe
    rows = table.value
    assert rows["file"].tolist() == ["a.png", "b.png", "junk.png"]
    assert rows["read"].tolist() == [str(mnist.y_test[0]), str(mnist.y_test[1]), "error"]
    assert rows["error"].iloc[2].startswith("junk.png: not an image")
    [download] = at.get("download_button")
    assert download.key == "upload-csv"
    assert [e.label for e in at.expander] == [  # Markdown, the names escaped: shown as written
        plain_text(f"a.png: {mnist.y_test[0]}"),
        plain_text(f"b.png: {mnist.y_test[1]}"),
        plain_text("junk.png: error"),
    ]


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
    at.checkbox(key="activate-anyway").check().run()
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
    at.checkbox(key="activate-new-anyway").check().run()
    store.delete_model(name, models)  # from the Models page in another tab
    at.button(key="activate-new").click().run()
    assert not at.exception
    assert any("deleted meanwhile" in e.value for e in at.error), [e.value for e in at.error]


def test_a_second_start_from_another_tab_says_a_job_is_running(app_dirs, mnist):
    models, _ = app_dirs
    at = _run("pages/train.py")  # this tab was drawn before the job started
    config = TrainConfig(model=ModelConfig(arch="mlp"), epochs=50, batch_size=8, augment=False)
    data = make_training_data(small(mnist), config)
    job = app_jobs.start(lambda: jobs.start_job(config, data, models_dir=models))  # as the other tab's Start does
    try:
        at.radio(key="data_source").set_value("MNIST")
        at.button(key="start").click().run()
        assert not at.exception
        assert any("already running" in e.value for e in at.error), [e.value for e in at.error]
        assert app_jobs.current() is job
    finally:
        job.stop()
        job.wait(TIMEOUT)


def test_the_app_runs_one_job_at_a_time_even_on_another_models_folder(app_dirs, mnist, tmp_path):
    models, _ = app_dirs
    job = _running_job(mnist, models)
    try:
        other = copy_models(tmp_path / "other-models")
        with pytest.raises(jobs.JobBusyError, match="already running"):  # the folder is free: the app's own rule
            app_jobs.start(lambda: jobs.start_job(TrainConfig(model=ModelConfig(arch="mlp")), None, models_dir=other))
        assert app_jobs.current() is job
    finally:
        job.stop()
        job.wait(TIMEOUT)
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("a file where the models folder should be")
    with pytest.raises(ModelStoreError):  # a launch that fails leaves the last job the current one
        app_jobs.start(lambda: jobs.start_job(TrainConfig(), None, models_dir=not_a_folder))
    assert app_jobs.current() is job


def _running_job(mnist, models: Path) -> jobs.TrainingJob:
    """A job far from its end (50 epochs of tiny batches) that has got through a few batches."""
    config = TrainConfig(model=ModelConfig(arch="mlp"), epochs=50, batch_size=8, augment=False, limit=200)
    data = make_training_data(small(mnist), config)
    job = app_jobs.start(lambda: jobs.start_job(config, data, models_dir=models))
    deadline = time.monotonic() + TIMEOUT
    while not job.status().history.get("val_loss") and time.monotonic() < deadline:
        time.sleep(0.05)
    return job


def test_train_page_locks_the_form_and_shows_the_job_first_while_it_runs(app_dirs, mnist):
    models, _ = app_dirs
    job = _running_job(mnist, models)
    try:
        at = _run("pages/train.py")
        assert [h.value for h in at.subheader][:2] == ["Current job", "New model"]  # progress above the form
        for key in ("epochs", "batch_size", "learning_rate", "limit"):
            assert at.number_input(key=key).disabled, key
        assert at.selectbox(key="arch").disabled and at.radio(key="preset").disabled
        assert at.button(key="start").disabled and at.button(key="fine_tune").disabled
        assert any(re.search(r"Training mlp: epoch \d+/50, batch \d+/25", c.value) for c in at.sidebar.caption)
        at.button(key="stop").click().run()
        assert any("the best epoch so far is kept" in i.value for i in at.info)
        status = job.wait(TIMEOUT)
        assert status.state == jobs.STOPPED and status.card is not None, status.message
        at.run()
        assert not at.exception and [h.value for h in at.subheader][0] == "Last job"
        assert any(w.value.startswith("Stopped in epoch") and status.card.name in w.value for w in at.warning)
        assert not at.number_input(key="epochs").disabled and at.checkbox(key="activate-new-anyway")
    finally:
        job.stop()
        job.wait(TIMEOUT)


def test_fine_tune_changes_are_counts_and_never_a_score_on_no_samples():
    from ui.training import fine_tune_changes

    comparison = {
        "before": {"mnist_test": 0.9969, "mnist_test_n": 10_000, "feedback": 0.0, "feedback_n": 2},
        "after": {"mnist_test": 0.9969, "mnist_test_n": 10_000, "feedback": 0.5, "feedback_n": 2},
    }
    assert fine_tune_changes(comparison) == [
        ("MNIST test set", "99.69%", "no change (was 99.69%)"),
        ("Your samples", "1 of 2 right", "+1 right (was 0 of 2)"),
    ]
    no_samples = {k: {"mnist_test": 0.99, "mnist_test_n": 100} for k in ("before", "after")}
    assert [label for label, _, _ in fine_tune_changes(no_samples)] == ["MNIST test set"]


def test_fine_tune_shows_its_estimate_before_it_starts(app_dirs, mnist):
    _, feedback_dir = app_dirs
    save_sample(mnist_digit_rgba(mnist.x_test[0]), int(mnist.y_test[0]), feedback_dir)
    before = app_jobs.current()
    at = _run("pages/train.py")
    assert not at.button(key="fine_tune").disabled
    assert not any("samples x" in i.value for i in at.info)  # timed only once asked for
    at.button(key="fine_tune").click().run()
    assert app_jobs.current() is before and at.button(key="fine_tune_start")  # not started yet: the estimate first
    [estimate] = [i.value for i in at.info if i.value.startswith("Estimated time") and "samples" in i.value]
    assert (
        "for 3 epochs of 1 samples x20 and 10,000 MNIST images" in estimate and "measured on this machine" in estimate
    )


def test_live_page_shows_the_camera_component(app_dirs):
    at = _run("pages/live.py")
    assert [t.value for t in at.title] == ["Live"]
    assert not at.metric  # nothing frozen yet: no reading below the camera
