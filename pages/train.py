"""Train: a new model from scratch, or fine-tune the active one on your feedback, in the background."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from hdr import jobs
from hdr.data import DataError, load_csv
from hdr.feedback import count_samples, load_feedback
from hdr.models import ARCHITECTURE_NOTES, ARCHITECTURES, ModelConfig
from hdr.settings import feedback_dir, models_dir
from hdr.store import ModelStoreError, set_active_model
from hdr.train import TrainConfig
from hdr.training_data import FineTuneConfig, make_training_data
from ui import charts, state
from ui.navigation import ensure_app

POLL_SECONDS = 1.0  # how often the progress fragment reads the job's status
DATA_MNIST, DATA_FEEDBACK, DATA_CSV = "MNIST", "MNIST + my feedback samples", "Kaggle CSV (upload)"
DEFAULTS = TrainConfig()


def _read_csv(upload) -> tuple:
    """Parses an uploaded Kaggle ``train.csv`` in memory; the browser's file name is only a label."""
    images, labels = load_csv(upload.getvalue(), name=upload.name)
    if labels is None:
        raise DataError(f"{upload.name}: no label column; training needs Kaggle's train.csv, not test.csv")
    return images, labels


def _start(config: TrainConfig, source: str, upload) -> None:
    """Builds the data the form asks for and starts the job; problems become one-line messages."""
    mnist = state.mnist_or_stop()
    try:
        config.validate()
        if source == DATA_FEEDBACK:
            data = make_training_data(mnist, config, extra=load_feedback(feedback_dir()), extra_name="feedback")
        elif source == DATA_CSV:
            if upload is None:
                raise DataError("upload a Kaggle train.csv first")
            data = make_training_data(
                mnist, config, extra=_read_csv(upload), extra_name=upload.name, replace_mnist=True
            )
        else:
            data = make_training_data(mnist, config)
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
    if polling and status.done:
        st.rerun()  # the whole page: the form comes back and polling ends


ensure_app()
st.title("Train")
job = jobs.current_job()
running = job is not None and job.running

with st.form("train-form"):
    st.subheader("New model")
    arch_col, data_col = st.columns(2)
    arch = arch_col.selectbox(
        "Architecture",
        list(ARCHITECTURES),
        index=list(ARCHITECTURES).index(DEFAULTS.model.arch),
        format_func=lambda a: f"{a} — {ARCHITECTURE_NOTES.get(a, '')}",
        key="arch",
    )
    source = data_col.radio("Data", [DATA_MNIST, DATA_FEEDBACK, DATA_CSV], key="data_source")
    c1, c2, c3, c4 = st.columns(4)
    epochs = c1.number_input("Epochs", 1, 1000, 5, key="epochs")
    batch_size = c2.number_input("Batch size", 1, 8192, DEFAULTS.batch_size, key="batch_size")
    learning_rate = c3.number_input(
        "Learning rate", 1e-6, 1.0, DEFAULTS.learning_rate, format="%.5f", step=1e-4, key="learning_rate"
    )
    limit = c4.number_input("Use only N images (0 = all)", 0, 1_000_000, 0, step=1000, key="limit")
    augment = st.checkbox("Augment (random rotation, shift and zoom)", DEFAULTS.augment, key="augment")
    upload = st.file_uploader("Kaggle train.csv (label,pixel0..pixel783)", type=["csv"], key="csv")
    # Never disabled: a tab drawn before another tab started a job must hear why its Start did nothing.
    if st.form_submit_button("Start training", type="primary", key="start"):
        config = TrainConfig(
            model=ModelConfig(arch=arch), epochs=int(epochs), batch_size=int(batch_size), learning_rate=float(learning_rate),
            augment=augment, limit=int(limit) or None,
        )  # fmt: skip
        _start(config, source, upload)

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
