"""About the model: the active model's card (data, architecture, test figures, how it was made), and its files."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from hdr.settings import models_dir
from hdr.storage.store import DEFAULT_NAME, ModelStoreError, model_paths, read_card
from hdr.training.cards import card_accuracy, card_test, recipe
from ui import state
from ui.about import doc_section, tflite_bytes
from ui.navigation import ensure_app

CONFUSED_SHOWN = 8  # the most frequent mistakes listed


def _architecture(card) -> str:
    """The network in one line: an ensemble names its members."""
    members = card.config.get("members") if card.arch == "ensemble" else None
    if members:
        weighted = all(isinstance(m.get("share"), int | float) for m in members)

        def named(m: dict) -> str:
            share = f", {m['share']:.0%}" if weighted else ""
            return f"{m.get('name', '?')} ({m.get('arch', '?')}{share})"

        verb = "weighing" if weighted else "averaging"
        return f"an ensemble {verb} {len(members)} models: " + ", ".join(named(m) for m in members)
    model = card.config.get("model", {})
    return f"{card.arch}" + (f", width {model['width']}" if "width" in model else "")


ensure_app()
st.title("About the model")
name = state.active_name()
try:
    card = read_card(name, models_dir())
except ModelStoreError as exc:
    st.error(f"Cannot read the card of the active model {name}: {exc}")
    st.stop()
st.caption("The model that reads every digit on these pages and in the API. Choose another on the Models page.")
st.header(name)
test = card_test(card)
top = st.columns(4)
accuracy = card_accuracy(card)
top[0].metric(
    "MNIST test accuracy",
    "—" if accuracy is None else f"{accuracy:.2%}",
    f"{test.n:,} images" if test else None,
    delta_color="off",
    delta_arrow="off",
)
top[1].metric("Parameters", f"{card.params:,}")
top[2].metric("File", f"{card.file_size / 2**20:.1f} MB")
top[3].metric("Training", f"{card.train_seconds / 60:.0f} min" if card.train_seconds else "—")

st.subheader("What it is")
data = card.data
st.markdown(
    f"- **Architecture**: {_architecture(card)}.\n"
    f"- **Data**: {data.get('source', 'not recorded')}; {data.get('train', 0):,} training images, "
    f"{data.get('val', 0):,} for validation (they chose the epochs), {data.get('test', 0):,} test images "
    "(only reported, never used to choose).\n"
    f"- **Made by**: `{recipe(card, models_dir()) or 'not recorded'}`"
    + (f"\n- **Fine-tuned from**: {card.parent}" if card.parent else "")
    + (f"\n- **Created**: {card.created}" if card.created else "")
)
by_source = card.metrics.get("val_accuracy_by_source") or {
    source: figures["accuracy"] for source, figures in card.calibration.get("validation", {}).items()
}
if by_source:
    st.caption("Validation accuracy by source: " + ", ".join(f"{k} {v:.2%}" for k, v in by_source.items()))

if test is not None:
    st.subheader("Test figures")
    left, right = st.columns([3, 2])
    left.dataframe(
        pd.DataFrame(test.per_class).set_index("digit"),
        column_config={k: st.column_config.NumberColumn(format="%.3f") for k in ("precision", "recall", "f1")},
        key="about-per-class",
    )
    pairs = test.confused_pairs[:CONFUSED_SHOWN]
    right.markdown("**What it misreads most on MNIST test**")
    right.dataframe(pd.DataFrame(pairs), hide_index=True, key="about-confused")

if name == DEFAULT_NAME:
    chosen, misreads = (
        doc_section("model.md"),
        doc_section("real-handwriting.md", "What the shipped default still misreads"),
    )
    if misreads:
        st.markdown("**What it misreads in real handwriting**")
        st.markdown(misreads)
    if chosen:
        with st.expander("How it was made and chosen (docs/model.md)"):
            st.markdown(chosen)
elif card.history.get("val_loss"):
    st.caption(
        f"Chosen as the epoch with the lowest validation loss: epoch {card.best_epoch} of "
        f"{len(card.history['val_loss'])} run."
    )

st.subheader("Download")
path = model_paths(name, models_dir())[0]
keras_col, lite_col, _ = st.columns([1, 1, 2])
keras_col.download_button(
    "Keras (.keras)", data=path.read_bytes, file_name=f"{name}.keras", mime="application/zip", key="download-keras",
    icon=":material/download:", on_click="ignore", help="Load with keras.saving.load_model or hdr.Predictor.load",
)  # fmt: skip
lite_col.download_button(
    "LiteRT (.tflite)", data=lambda: tflite_bytes(str(path), path.stat().st_mtime), file_name=f"{name}.tflite",
    mime="application/octet-stream", key="download-tflite", icon=":material/download:", on_click="ignore",
    help="Float32, converted when you click (can take a minute); run with hdr.TFLiteModel or any LiteRT runtime",
)  # fmt: skip
st.caption(
    "Both take `(N, 28, 28, 1)` float32 images in [0, 1] (white ink on black, as `hdr.to_mnist` makes them) "
    "and give the ten probabilities."
)
