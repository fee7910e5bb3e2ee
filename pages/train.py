"""Train: a new model from scratch, or fine-tune the active one on your feedback, in the background."""

from __future__ import annotations

import streamlit as st

from hdr.settings import feedback_dir, handwriting_dir, models_dir
from hdr.storage.store import ModelStoreError
from hdr.training import jobs
from hdr.training.data import DataError, load_csv
from hdr.training.feedback import count_samples, load_feedback
from hdr.training.models import ARCHITECTURE_NOTES, ARCHITECTURES
from hdr.training.presets import (
    PRESET_NOTES,
    PRESETS,
    estimate_fine_tune_seconds,
    estimate_seconds,
    format_duration,
    measure_throughput,
    measured_config,
    preset_config,
)
from hdr.training.train import TrainConfig
from hdr.training.training_data import FineTuneConfig, make_training_data
from ui import jobs as app_jobs
from ui import state, training
from ui.navigation import ensure_app
from ui.owner import VISITOR_NOTE, is_owner

DATA_MNIST, DATA_FEEDBACK, DATA_CSV = "MNIST", "MNIST + my feedback samples", "Kaggle CSV (upload)"
DEFAULT_PRESET = "quick"
MNIST_TRAIN_IMAGES = 60_000
FORM_FIELDS = ("epochs", "batch_size", "learning_rate", "limit")  # the TrainConfig fields the form's inputs set


def _read_csv(upload) -> tuple:
    """Parses an uploaded Kaggle ``train.csv`` in memory; the browser's file name is only a label."""
    images, labels = load_csv(upload.getvalue(), name=upload.name)
    if labels is None:
        raise DataError(f"{upload.name}: no label column; training needs Kaggle's train.csv, not test.csv")
    return images, labels


def _apply_preset() -> None:
    """Sets the form's widgets to the chosen preset's settings (the preset's other settings apply as they are)."""
    config = PRESETS[st.session_state.get("preset", DEFAULT_PRESET)]
    st.session_state.update(
        arch=config.model.arch,
        epochs=config.epochs,
        batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        augment=config.augment,
    )


@st.cache_data(max_entries=16, show_spinner="Timing a few training steps on this machine...")
def _throughput(config: TrainConfig) -> float:
    """Training images per second of a :func:`measured_config` here, measured once for every session."""
    return measure_throughput(config)


def _show_estimate(config: TrainConfig, source: str) -> None:
    """How long the run will take, from the speed of its training step measured on this machine."""
    # Timed once per network, input pipeline and batch size up to the cap (every larger batch size
    # is one entry): typing a batch size of 8192 digit by digit times one small run, not four large ones.
    speed = _throughput(measured_config(config))
    n_total = MNIST_TRAIN_IMAGES + (sum(count_samples(feedback_dir()).values()) if source == DATA_FEEDBACK else 0)
    n_val = round(MNIST_TRAIN_IMAGES * config.val_fraction)
    n_train = n_total - n_val
    if source == DATA_CSV:
        st.caption(f"{config.model.arch} trains at about {speed:,.0f} images/s here; time depends on the CSV's size.")
        return
    seconds = estimate_seconds(config, n_train, n_val, speed)
    bounded = config.time_budget is not None and seconds >= config.time_budget
    st.info(
        f"Estimated time: **{format_duration(seconds)}** for {'at most ' if bounded else ''}{config.epochs} "
        f"epochs of {min(n_train, config.limit or n_train):,} images ({config.model.arch} trains at {speed:,.0f} "
        "images/s, measured on this machine; early stopping can end it sooner"
        f"{'; the time budget ends it by then' if bounded else ''}).",
        icon=":material/timer:",
    )


def _start(config: TrainConfig, source: str, upload, add_real: bool) -> bool:
    """Builds the data the form asks for and starts the job; False (and a one-line message) if it cannot."""
    mnist = state.mnist_or_stop("training")
    try:
        config.validate()
        real = state.handwriting() if add_real else ()
        if source == DATA_FEEDBACK:
            data = make_training_data(
                mnist, config, extra=load_feedback(feedback_dir()), extra_name="feedback", real=real
            )
        elif source == DATA_CSV:
            if upload is None:
                raise DataError("upload a Kaggle train.csv first")
            data = make_training_data(
                mnist, config, extra=_read_csv(upload), extra_name=upload.name, replace_mnist=True
            )
        else:
            data = make_training_data(mnist, config, real=real)
        app_jobs.start(lambda: jobs.start_job(config, data, models_dir=models_dir(), command=f"Train page: {source}"))
        return True
    except (ValueError, ModelStoreError, jobs.JobBusyError) as exc:  # DataError is a ValueError
        st.error(str(exc).splitlines()[0])
        return False


def _fine_tune(config: FineTuneConfig) -> bool:
    """Starts fine-tuning the active model on the feedback samples; False (and a message) if it cannot."""
    try:
        mnist, feedback = state.mnist_or_stop("fine-tuning"), load_feedback(feedback_dir())
        app_jobs.start(lambda: jobs.start_fine_tune(mnist, feedback, config, models_dir=models_dir()))
        return True
    except (ValueError, ModelStoreError, jobs.JobBusyError) as exc:
        st.error(str(exc).splitlines()[0])
        return False


def _fine_tune_estimate(config: FineTuneConfig, n_samples: int) -> None:
    """How long fine-tuning will take, from the active model's training speed measured here."""
    path = training.active_model_file()
    try:
        speed = training.fine_tune_speed(str(path), path.stat().st_mtime, config)
    except (OSError, ModelStoreError) as exc:
        st.error(f"Cannot time the active model: {exc}")
        return
    seconds = estimate_fine_tune_seconds(config, n_samples, speed)
    st.info(
        f"Estimated time: **{format_duration(seconds)}** for {config.epochs} epochs of {n_samples} samples "
        f"x{config.feedback_repeat} and {config.mnist_images:,} MNIST images, then the MNIST test set scored "
        f"before and after (the active model trains at {speed:,.0f} images/s, measured on this machine).",
        icon=":material/timer:",
    )


def _field_problems(config: TrainConfig) -> dict[str, str]:
    """The config's nonsense settings as messages for the form, by field (``""``: not one of the form's)."""
    problems = {}
    for name, message in config.problems().items():
        if name == "limit":
            message = f"Use 0 for all images, or at least 20 (got {config.limit})"
        problems[name if name in FORM_FIELDS else ""] = message[0].upper() + message[1:]
    return problems


ensure_app()
st.title("Train")
if not is_owner():  # nothing here for a visitor: not even the estimate, which times a training step
    st.info(VISITOR_NOTE)
    st.stop()
job = app_jobs.current()
running = job is not None and job.running
if job is not None:  # at the top, in view
    st.subheader("Current job" if running else "Last job")
    if running and st.button("Stop", icon=":material/stop:", key="stop"):
        job.stop()
        st.info("Stopping after this batch: the best epoch so far is kept.")
    st.fragment(run_every=training.POLL_SECONDS if running else None)(training.show_job)(job, running)

# While a job runs the form is folded away (and locked): the page is then short enough that the
# job at its top is in view, wherever the page was scrolled to when Start was pressed.
with st.expander("Settings of the next run (locked while this one runs)") if running else st.container():
    st.subheader("New model")
    preset = st.radio(
        "Preset",
        list(PRESETS),
        format_func=lambda name: f"{name} ({PRESET_NOTES[name]})",
        horizontal=True,
        key="preset",
        on_change=_apply_preset,
        disabled=running,
    )
    if "arch" not in st.session_state:
        _apply_preset()  # the first visit: the widgets below start at the quick preset's settings
    arch_col, data_col = st.columns(2)
    arch = arch_col.selectbox(
        "Architecture", list(ARCHITECTURES), format_func=lambda a: f"{a} — {ARCHITECTURE_NOTES.get(a, '')}", key="arch",
        disabled=running,
    )  # fmt: skip
    source = data_col.radio("Data", [DATA_MNIST, DATA_FEEDBACK, DATA_CSV], key="data_source", disabled=running)
    columns = dict(zip(FORM_FIELDS, st.columns(4), strict=True))
    # No min or max on these: a value out of range stays as typed and is refused below with its reason,
    # instead of being silently replaced by the last valid one.
    epochs = columns["epochs"].number_input("Epochs", step=1, key="epochs", disabled=running)
    batch_size = columns["batch_size"].number_input("Batch size", step=1, key="batch_size", disabled=running)
    learning_rate = columns["learning_rate"].number_input(
        "Learning rate", format="%.5f", step=1e-4, key="learning_rate", disabled=running
    )
    limit = columns["limit"].number_input(
        "Use only N images (0 = all)", value=0, step=1000, key="limit", disabled=running
    )
    augment = st.checkbox("Augment (random rotation, shift and zoom)", key="augment", disabled=running)
    add_real = handwriting_dir() is not None and st.checkbox(
        "Add real handwriting beside MNIST (USPS and ARDIS, from HDR_HANDWRITING_DIR)", value=True, key="add_real",
        disabled=running,
    )  # fmt: skip
    upload = st.file_uploader("Kaggle train.csv (label,pixel0..pixel783)", type=["csv"], key="csv", disabled=running)
    try:
        config = preset_config(
            preset, arch=arch, epochs=int(epochs), batch_size=int(batch_size), learning_rate=float(learning_rate),
            augment=augment, limit=int(limit) or None,
        )  # fmt: skip
        problems = _field_problems(config)
    except ValueError as exc:
        config, problems = None, {"": str(exc).splitlines()[0]}
    for name, message in problems.items():
        (columns[name] if name else st).error(message, icon=":material/error:")
    if config is not None and not problems and not running:
        _show_estimate(config, source)
    # Disabled while a job runs. A tab drawn before another tab started one still has it enabled: its click
    # reaches the callback (a disabled button returns False) and is answered with why nothing started.
    st.button(
        "Start training", type="primary", key="start", disabled=running or bool(problems),
        on_click=lambda: st.session_state.update(start_clicked=True),
    )  # fmt: skip
    clicked = st.session_state.pop("start_clicked", False)
    if problems:
        st.caption("Correct the fields marked in red to start.")
    elif clicked and _start(config, source, upload, add_real):
        st.rerun()  # the job shows at the top of the page, the form locked


with st.expander(f"Fine-tune the active model ({state.active_name()}) on your feedback samples"):
    counts = count_samples(feedback_dir())
    n_samples = sum(counts.values())
    st.caption(f"{n_samples} samples saved: " + ", ".join(f"{d}: {n}" for d, n in counts.items() if n))
    tune = FineTuneConfig()
    st.write(
        f"{tune.epochs} epochs at learning rate {tune.learning_rate}, each sample seen {tune.feedback_repeat}x per epoch, mixed with {tune.mnist_images:,} MNIST images so the rest is not forgotten."
    )
    # Two steps: timing the active model's training step takes seconds, so it is done once asked for.
    if st.button("Fine-tune...", disabled=not n_samples or running, key="fine_tune"):
        st.session_state.fine_tune_asked = True
    if st.session_state.get("fine_tune_asked") and n_samples and not running:
        _fine_tune_estimate(tune, n_samples)
        go, cancel, _ = st.columns([1, 1, 4])
        if go.button("Start fine-tuning", type="primary", key="fine_tune_start"):
            del st.session_state.fine_tune_asked
            if _fine_tune(tune):
                st.rerun()  # the job shows at the top of the page
        if cancel.button("Cancel", key="fine_tune_cancel"):
            del st.session_state.fine_tune_asked
            st.rerun()

if job is None:
    st.info("No training yet in this server. Choose settings and press Start.")
