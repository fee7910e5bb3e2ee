"""Samples: the feedback samples saved from Draw and Upload, by digit; the owner deletes the wrong ones."""

from __future__ import annotations

import streamlit as st
from PIL import Image

from hdr.settings import NUM_CLASSES, feedback_dir
from hdr.training.feedback import delete_sample, list_samples
from ui import charts
from ui.navigation import ensure_app
from ui.owner import VISITOR_NOTE, is_owner

GALLERY_COLUMNS = 6
GALLERY_MAX = 60  # samples shown at once, the newest first
THUMB_PX = 96
ALL = "every digit"


def _delete(path) -> None:
    """Deletes one sample (a button's callback: the gallery is drawn without it)."""
    try:
        delete_sample(path, feedback_dir())
        st.session_state.samples_note = f"Deleted {path.name}."
    except (ValueError, OSError) as exc:
        st.session_state.samples_note = f"Not deleted: {exc}"


ensure_app()
st.title("Samples")
st.caption(
    "Drawings and photos saved with the right digit from Draw and Upload; fine-tuning on the Train page learns from them."
)
samples = list_samples(feedback_dir())
if note := st.session_state.pop("samples_note", None):
    st.info(note)
if not samples:
    st.info("No samples yet. When the model reads a digit wrong on Draw or Upload, save it with the right digit.")
    st.stop()
counts = {d: sum(s.label == d for s in samples) for d in range(NUM_CLASSES)}
st.write(f"**{len(samples)} samples**: " + ", ".join(f"{d}: {n}" for d, n in counts.items() if n))
owner = is_owner()
if not owner:
    st.caption(VISITOR_NOTE)
digit = st.selectbox("Show", [ALL, *range(NUM_CLASSES)], key="samples_digit")
shown = [s for s in samples if digit == ALL or s.label == digit]
if len(shown) > GALLERY_MAX:
    st.caption(f"The newest {GALLERY_MAX} of {len(shown)}.")
columns = st.columns(GALLERY_COLUMNS)
for n, sample in enumerate(shown[:GALLERY_MAX]):
    with columns[n % GALLERY_COLUMNS]:
        st.image(charts.on_white(Image.open(sample.path)), caption=f"{sample.label} · {sample.saved}", width=THUMB_PX)
        if owner:
            st.button(
                "Delete",
                key=f"delete-{sample.path.stem}",
                on_click=_delete,
                args=(sample.path,),
                icon=":material/delete:",
            )
