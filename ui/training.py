"""What the Train page and the sidebar show of a training job, and the Activate control with its warning."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from hdr.settings import models_dir
from hdr.storage.store import ModelStoreError, load_keras_model, model_paths, read_card, set_active_model
from hdr.training import jobs
from hdr.training.cards import CardComparison, card_test, compare_cards
from hdr.training.presets import measure_throughput
from hdr.training.training_data import FineTuneConfig
from ui import charts, state
from ui import jobs as app_jobs

POLL_SECONDS = 1.0  # how often the Train page's progress fragment reads the job's status
SIDEBAR_POLL_SECONDS = 2.0  # how often the sidebar's status line does, on every page


def status_line(job: jobs.TrainingJob) -> str:
    """One line on a job for the sidebar: what it trains, the epoch and batch, or how it ended."""
    status = job.status()
    what = f"fine-tuning {job.base_model}" if job.base_model else f"training {job.config.model.arch}"
    if status.state == jobs.RUNNING and status.batches:
        return f"{what.capitalize()}: epoch {status.epoch}/{status.epochs}, batch {status.batch}/{status.batches}"
    if status.state == jobs.RUNNING:
        return f"{what.capitalize()}: {status.message}"
    return f"Last job: {status.message}"


def sidebar_status() -> None:
    """The sidebar's line on the current job, live on every page while one runs (a polling fragment)."""
    job = app_jobs.current()
    if job is None:
        return
    running = job.running

    @st.fragment(run_every=SIDEBAR_POLL_SECONDS if running else None)
    def _line() -> None:
        st.caption(status_line(job), help="The Train page shows its curves and lets you stop it.")

    with st.sidebar:
        _line()


def activate_control(name: str, *, key: str) -> None:
    """Activate ``name``: a plain button when it is at least as good as the active model, else a warning first.

    A model less accurate on the MNIST test set than the active one needs a tick on
    "Activate it anyway" before its button works.
    """
    active = state.active_name()
    if name == active:
        st.button(f"Activate {name}", disabled=True, key=key, help="It is the active model.")
        st.caption(f"{name} is the active model.")
        return
    comparison = _compare_with_active(name, active)
    confirmed = True
    if comparison is not None and comparison.worse:
        worse = comparison.worse_digits()
        digits = f"; it recalls {', '.join(map(str, worse[:4]))} less often" if worse else ""
        st.warning(
            f"{name} is less accurate than the active model {active}: {comparison.accuracy:.2%} against "
            f"{comparison.other_accuracy:.2%} on the MNIST test set{digits}.",
            icon=":material/warning:",
        )
        confirmed = st.checkbox(f"Activate {name} anyway", key=f"{key}-anyway")
    primary = comparison is None or not comparison.worse
    if st.button(f"Activate {name}", type="primary" if primary else "secondary", disabled=not confirmed, key=key):
        try:
            set_active_model(name, models_dir())
            st.rerun()
        except ModelStoreError as exc:
            st.error(str(exc))


def _compare_with_active(name: str, active: str) -> CardComparison | None:
    """``name`` against the active model, or None when either card cannot be read."""
    try:
        return compare_cards(read_card(name, models_dir()), read_card(active, models_dir()))
    except ModelStoreError:
        return None


def show_comparison(comparison: CardComparison) -> None:
    """Test accuracy and per-digit recall of a new model beside the active one's."""
    change = comparison.accuracy_change
    left, right = st.columns([1, 2])
    left.metric(
        f"Test accuracy of {comparison.name}",
        "—" if comparison.accuracy is None else f"{comparison.accuracy:.2%}",
        None if change is None else f"{change * 100:+.2f} points against {comparison.other}",
        delta_color="normal" if change else "off",
    )
    if comparison.recalls and comparison.other_recalls:
        table = pd.DataFrame(
            {"this model": comparison.recalls, f"active ({comparison.other})": comparison.other_recalls},
            index=pd.Index(range(10), name="digit"),
        )
        table["change"] = table["this model"] - table.iloc[:, 1]
        right.dataframe(
            table.T,
            column_config={d: st.column_config.NumberColumn(str(d), format="%.3f") for d in range(10)},
            key="job-recalls",
        )
        right.caption("Recall per digit on the MNIST test set: the share of each digit read right.")


def fine_tune_changes(comparison: dict) -> list[tuple[str, str, str]]:
    """Fine-tuning's before and after as ``(label, value, change)``, in counts of images where that is honest.

    A score on a handful of samples is given as "k of n right", never as a percentage; an
    unchanged score says "no change" rather than "+0.00%"; samples never scored are left out.
    """
    before, after = comparison.get("before", {}), comparison.get("after", {})
    rows = []
    for key, label in (("mnist_test", "MNIST test set"), ("feedback", "Your samples")):
        n = after.get(f"{key}_n")
        if key not in after or key not in before or not n:
            continue
        was, now = round(before[key] * n), round(after[key] * n)
        value = f"{after[key]:.2%}" if key == "mnist_test" else f"{now} of {n} right"
        prior = f"{before[key]:.2%}" if key == "mnist_test" else f"{was} of {n}"
        change = "no change" if now == was else f"{now - was:+d} right"
        rows.append((label, value, f"{change} (was {prior})"))
    return rows


@st.cache_data(max_entries=4, show_spinner="Timing a few fine-tuning steps of the active model...")
def fine_tune_speed(path: str, mtime: float, config: FineTuneConfig) -> float:
    """Training images per second of the model file at ``path`` (a fresh copy, so the one in use is untouched)."""
    # Fewer batches than a new model's timing: a fine-tuned model is often the large ensemble.
    return measure_throughput(config.train_config(), model=load_keras_model(path), batches=3, warmup=2)


def active_model_file() -> Path:
    """The active model's ``.keras`` file."""
    return model_paths(state.active_name(), models_dir())[0]


def show_job(job: jobs.TrainingJob, polling: bool) -> None:
    """Progress, live curves and, once done, the outcome of the current job (the Train page's fragment)."""
    status = job.status()
    if polling and status.done:
        # The whole page, before anything of the outcome is drawn here: drawn in the fragment too, it
        # would show twice while the rerun replaces the fragment. The form comes back and polling ends.
        st.rerun()
    if status.state == jobs.RUNNING:
        left = "" if status.seconds_left is None else f", about {status.seconds_left:.0f} s left"
        batch = f", batch {status.batch}/{status.batches}" if status.batches else ""
        st.progress(status.fraction, text=f"{status.message.capitalize()}{batch}{left}")
    if status.history or status.batch_logs.get("loss"):
        st.plotly_chart(charts.training_curves(status.history, status.batch_logs, status.batches), key="job-curves")
    if status.state == jobs.FAILED:
        st.error(status.message.capitalize())
    elif status.done:
        _show_outcome(status)


def _show_outcome(status: jobs.JobStatus) -> None:
    """How the job ended; for a saved model its figures against the active one's, and Activate."""
    card = status.card
    if card is None:
        st.warning(status.message.capitalize())
        return
    (st.success if status.state == jobs.FINISHED else st.warning)(status.message.capitalize())
    if status.comparison:
        columns = st.columns(2)
        for column, (label, value, change) in zip(columns, fine_tune_changes(status.comparison), strict=False):
            column.metric(label, value, change, delta_color="off" if change.startswith("no change") else "normal")
    active = state.active_name()
    if active != card.name:
        comparison = _compare_with_active(card.name, active)
        if comparison is not None:
            show_comparison(comparison)
    activate_control(card.name, key="activate-new")
    test = card_test(card)
    if test is not None:
        with st.expander("Confusion matrix and per-digit precision, recall and F1 on the MNIST test set"):
            left, right = st.columns(2)
            left.plotly_chart(charts.confusion_heatmap(test.confusion_matrix), key="job-confusion")
            right.dataframe(
                pd.DataFrame(test.per_class).set_index("digit"),
                column_config={k: st.column_config.NumberColumn(format="%.3f") for k in ("precision", "recall", "f1")},
            )
