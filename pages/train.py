"""Train: a new model from scratch, or fine-tune the active one on your feedback, in the background."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from hdr.settings import feedback_dir, handwriting_dir, models_dir
from hdr.storage.store import ModelStoreError, set_active_model
from hdr.training import jobs
from hdr.training.data import DataError, load_csv
from hdr.training.feedback import count_samples, load_feedback
from hdr.training.models import ARCHITECTURE_NOTES, ARCHITECTURES
from hdr.training.presets import (
    PRESET_NOTES,
    PRESETS,
    estimate_seconds,
    format_duration,
    measure_throughput,
    preset_config,
)
from hdr.training.train import TrainConfig
from hdr.training.training_data import FineTuneConfig, make_training_data
from ui import charts, state
from ui.navigation import ensure_app
from ui.owner import VISITOR_NOTE, is_owner

POLL_SECONDS = 1.0  # how often the progress fragment reads the job's status
DATA_MNIST, DATA_FEEDBACK, DATA_CSV = "MNIST", "MNIST + my feedback samples", "Kaggle CSV (upload)"
DEFAULT_PRESET = "quick"
MNIST_TRAIN_IMAGES = 60_000


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
    """Training images per second of this config here; measured once per network and batch size."""
    return measure_throughput(config)


def _show_estimate(config: TrainConfig, source: str) -> None:
    """How long the run will take, from the speed of its training step measured on this machine."""
    # Timed once per network, batch size and input pipeline: the learning rate and epochs change nothing.
    speed = _throughput(
        TrainConfig(
            model=config.model,
            batch_size=config.batch_size,
            augment=config.augment,
            damage=config.damage,
            damage_mix=config.damage_mix,
        )
    )
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


def _start(config: TrainConfig, source: str, upload, add_real: bool) -> None:
    """Builds the data the form asks for and starts the job; problems become one-line messages."""
    mnist = state.mnist_or_stop()
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
        jobs.start_job(config, data, models_dir=models_dir(), command=f"Train page: {source}")
    except (ValueError, ModelStoreError, jobs.JobBusyError) as exc:  # DataError is a ValueError
        st.error(str(exc).splitlines()[0])


def _fine_tune(config: FineTuneConfig) -> None:
    """Starts fine-tuning the active model on the feedback samples."""
    try:
        jobs.start_fine_tune(state.mnist_or_stop(), load_feedback(feedback_dir()), config, models_dir=models_dir())
    except (ValueError, ModelStoreError, jobs.JobBusyError) as exc:
        st.error(str(exc).splitlines()[0])


def _show_result(status: jobs.JobStatus) -> None:
    """Test metrics of the finished model, and the button that makes it active."""
    card = status.card
    test = card.metrics["test"]
    st.success(status.message)
    if status.comparison:
        before, after = status.comparison["before"], status.comparison["after"]
        cols = st.columns(len(after))
        for col, key in zip(cols, after, strict=True):
            label = "MNIST test accuracy" if key == "mnist_test" else "Accuracy on your samples"
            col.metric(label, f"{after[key]:.2%}", f"{after[key] - before[key]:+.2%} (was {before[key]:.2%})")
    left, right = st.columns(2)
    left.plotly_chart(charts.confusion_heatmap(test["confusion_matrix"]), key="job-confusion")
    right.dataframe(
        pd.DataFrame(test["per_class"]).set_index("digit"),
        column_config={k: st.column_config.NumberColumn(format="%.3f") for k in ("precision", "recall", "f1")},
    )
    if state.active_name() == card.name:
        st.info(f"{card.name} is the active model.")
    elif st.button(f"Activate {card.name}", type="primary", key="activate-new"):
        try:
            set_active_model(card.name, models_dir())
            st.rerun()
        except ModelStoreError as exc:
            st.error(str(exc))


def _show_job(job: jobs.TrainingJob, polling: bool) -> None:
    """Progress, live curves and, once done, the outcome of the current job."""
    status = job.status()
    if polling and status.done:
        # The whole page, before anything of the outcome is drawn here: drawn in the fragment too, it
        # would show twice while the rerun replaces the fragment. The form comes back and polling ends.
        st.rerun()
    if status.state == jobs.RUNNING:
        left = "" if status.seconds_left is None else f", about {status.seconds_left:.0f} s left"
        st.progress(status.fraction, text=f"{status.message}, batch {status.batch}/{status.batches}{left}")
    if status.history or status.batch_logs.get("loss"):
        st.plotly_chart(charts.training_curves(status.history, status.batch_logs, status.batches), key="job-curves")
    if status.state == jobs.FINISHED:
        _show_result(status)
    elif status.state == jobs.STOPPED:
        st.warning(status.message)
    elif status.state == jobs.FAILED:
        st.error(status.message)


ensure_app()
st.title("Train")
if not is_owner():  # nothing here for a visitor: not even the estimate, which times a training step
    st.info(VISITOR_NOTE)
    st.stop()
job = jobs.current_job()
running = job is not None and job.running

st.subheader("New model")
preset = st.radio(
    "Preset",
    list(PRESETS),
    format_func=lambda name: f"{name} ({PRESET_NOTES[name]})",
    horizontal=True,
    key="preset",
    on_change=_apply_preset,
)
if "arch" not in st.session_state:
    _apply_preset()  # the first visit: the widgets below start at the quick preset's settings
arch_col, data_col = st.columns(2)
arch = arch_col.selectbox(
    "Architecture", list(ARCHITECTURES), format_func=lambda a: f"{a} — {ARCHITECTURE_NOTES.get(a, '')}", key="arch"
)
source = data_col.radio("Data", [DATA_MNIST, DATA_FEEDBACK, DATA_CSV], key="data_source")
c1, c2, c3, c4 = st.columns(4)
epochs = c1.number_input("Epochs", 1, 1000, key="epochs")
batch_size = c2.number_input("Batch size", 1, 8192, key="batch_size")
learning_rate = c3.number_input("Learning rate", 1e-6, 1.0, format="%.5f", step=1e-4, key="learning_rate")
limit = c4.number_input("Use only N images (0 = all)", 0, 1_000_000, 0, step=1000, key="limit")
augment = st.checkbox("Augment (random rotation, shift and zoom)", key="augment")
add_real = handwriting_dir() is not None and st.checkbox(
    "Add real handwriting beside MNIST (USPS and ARDIS, from HDR_HANDWRITING_DIR)", value=True, key="add_real"
)
upload = st.file_uploader("Kaggle train.csv (label,pixel0..pixel783)", type=["csv"], key="csv")
try:
    config = preset_config(
        preset, arch=arch, epochs=int(epochs), batch_size=int(batch_size), learning_rate=float(learning_rate),
        augment=augment, limit=int(limit) or None,
    )  # fmt: skip
    config.validate()
except ValueError as exc:
    config = None
    st.error(str(exc).splitlines()[0])
if config is not None and not running:
    _show_estimate(config, source)
# Never disabled: a tab drawn before another tab started a job must hear why its Start did nothing.
if st.button("Start training", type="primary", key="start") and config is not None:
    _start(config, source, upload, add_real)

with st.expander(f"Fine-tune the active model ({state.active_name()}) on your feedback samples"):
    counts = count_samples(feedback_dir())
    st.caption(f"{sum(counts.values())} samples saved: " + ", ".join(f"{d}: {n}" for d, n in counts.items() if n))
    tune = FineTuneConfig()
    st.write(
        f"{tune.epochs} epochs at learning rate {tune.learning_rate}, each sample seen {tune.feedback_repeat}x per epoch, mixed with {tune.mnist_images:,} MNIST images so the rest is not forgotten."
    )
    if st.button("Fine-tune", disabled=not sum(counts.values()), key="fine_tune"):
        _fine_tune(tune)

job = jobs.current_job()
running = job is not None and job.running
if job is None:
    st.info("No training yet in this server. Choose settings and press Start.")
    st.stop()
st.subheader("Current job" if running else "Last job")
if running and st.button("Stop", icon=":material/stop:", key="stop"):
    job.stop()
st.fragment(run_every=POLL_SECONDS if running else None)(_show_job)(job, running)
