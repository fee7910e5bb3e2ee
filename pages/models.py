"""Models: every saved model with its card; activate, delete, compare; where the active one goes wrong."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from hdr.inference.evaluate import Metrics
from hdr.settings import models_dir
from hdr.storage.store import DEFAULT_NAME, ModelCard, ModelStoreError, delete_model, list_models, model_paths
from hdr.training.cards import card_accuracy, card_recalls, card_test
from ui import charts, state
from ui.navigation import ensure_app
from ui.owner import VISITOR_NOTE, is_owner
from ui.training import activate_control

GALLERY_SIZE = 40  # misclassified test digits shown
GALLERY_COLUMNS = 8
GALLERY_ZOOM = 3  # 84 px thumbnails
MB = 1024 * 1024


def _row(card: ModelCard, active: str) -> dict:
    """One line of the models table."""
    return {
        "active": card.name == active,
        "name": card.name,
        "arch": "damaged card" if card.problem else card.arch,
        "test accuracy": card_accuracy(card),
        "parameters": card.params,
        "size (MB)": card.file_size / MB,
        "training (s)": card.train_seconds,
        "epochs": card.best_epoch,
        "data": card.data.get("source", ""),
        "created": card.created,
    }


def _compare(a: ModelCard, b: ModelCard) -> None:
    """Two cards side by side, the second's differences as deltas."""
    left, right = st.columns(2)
    for col, card, other in ((left, a, None), (right, b, a)):
        with col:
            st.markdown(f"**{card.name}** ({card.arch})")
            acc, other_acc = card_accuracy(card), card_accuracy(other) if other else None
            delta = None if acc is None or other_acc is None else f"{acc - other_acc:+.2%}"
            st.metric("Test accuracy", "—" if acc is None else f"{acc:.2%}", delta)
            st.metric(
                "Parameters",
                f"{card.params:,}",
                None if other is None else f"{card.params - other.params:+,}",
                delta_color="inverse",
            )
            st.metric("Training time", f"{card.train_seconds:.0f} s")
    recalls = {card.name: card_recalls(card) for card in (a, b)}
    if all(len(r) == 10 for r in recalls.values()):
        st.bar_chart(
            pd.DataFrame(recalls, index=[str(d) for d in range(10)]),
            stack=False,
            y_label="recall per digit",
            height=240,
        )


def _gallery(test: Metrics, predicted: np.ndarray | None) -> None:
    """Misclassified MNIST test digits, the most confident mistakes first."""
    data = state.mnist_or_none("the gallery of misclassified test digits")
    if data is None:
        return
    indices = test.misclassified[:GALLERY_SIZE]
    if not indices:
        st.info("No misclassified test digits recorded for this model.")
        return
    if predicted is None:
        predicted = (
            state.predictor().probabilities(data.x_test[indices].astype(np.float32)[..., None] / 255.0).argmax(axis=1)
        )
        predicted = dict(zip(indices, predicted.tolist(), strict=True))
    else:
        predicted = {i: int(predicted[i]) for i in indices}
    columns = st.columns(GALLERY_COLUMNS)
    for n, index in enumerate(indices):
        columns[n % GALLERY_COLUMNS].image(
            charts.enlarge(data.x_test[index], zoom=GALLERY_ZOOM),
            caption=f"#{index}: {data.y_test[index]} → {predicted[index]}",
        )


ensure_app()
st.title("Models")
cards = list_models(models_dir())
if not cards:
    st.info(f"No models in {models_dir()}. Train one on the Train page or with `python -m hdr train`.")
    st.stop()
active = state.active_name()
st.dataframe(
    pd.DataFrame([_row(c, active) for c in cards]),
    hide_index=True,
    column_config={
        "test accuracy": st.column_config.NumberColumn(format="percent"),
        "size (MB)": st.column_config.NumberColumn(format="%.2f"),
    },
    key="models-table",
)

for card in cards:
    if card.problem:
        st.warning(f"{card.name}: {card.problem}")

names = [c.name for c in cards]
chosen = st.selectbox("Model", names, index=names.index(active) if active in names else 0, key="chosen")
if not is_owner():
    st.caption(VISITOR_NOTE)
else:
    activate_control(chosen, key="activate")
    delete, _ = st.columns([1, 5])
    if delete.button(
        "Delete",
        disabled=chosen == DEFAULT_NAME,
        help="the shipped default cannot be deleted",
        key="delete",
        use_container_width=True,
    ):
        st.session_state.confirm_delete = chosen
    if st.session_state.get("confirm_delete") == chosen:
        st.warning(f"Delete {chosen} and its card for good?")
        yes, no, _ = st.columns([1, 1, 4])
        if yes.button("Yes, delete", type="primary", key="confirm-delete", use_container_width=True):
            del st.session_state.confirm_delete
            try:
                delete_model(chosen, models_dir())
                st.rerun()
            except ModelStoreError as exc:
                st.error(str(exc))
        if no.button("Cancel", key="cancel-delete", use_container_width=True):
            del st.session_state.confirm_delete
            st.rerun()

if len(cards) > 1:
    with st.expander("Compare two models", expanded=False):
        a_col, b_col = st.columns(2)
        a = a_col.selectbox("First", names, index=0, key="compare-a")
        b = b_col.selectbox("Second", names, index=1, key="compare-b")
        _compare(next(c for c in cards if c.name == a), next(c for c in cards if c.name == b))

st.header(f"Active model: {active}")
card = next((c for c in cards if c.name == active), None)
test, predicted = (card_test(card) if card else None), None
if test is None:
    try:
        mtime = model_paths(active, models_dir())[0].stat().st_mtime
    except OSError as exc:
        st.error(f"Cannot read the active model {active}: {exc.strerror or exc}")
        st.stop()
    state.mnist_or_stop("its test figures (its card records none)")
    test, predicted = state.test_metrics(active, mtime)
st.caption(f"{test.n:,} MNIST test images, accuracy {test.accuracy:.2%}")
heat, pairs = st.columns([3, 2])
heat.plotly_chart(charts.confusion_heatmap(test.confusion_matrix), key="active-confusion")
pairs.markdown("**Most confused pairs**")
pairs.dataframe(pd.DataFrame(test.confused_pairs), hide_index=True, key="confused-pairs")
st.subheader("Misclassified test digits (true → predicted)")
_gallery(test, predicted)
