"""HDR, the handwritten digit studio: ``streamlit run app.py``."""

from __future__ import annotations

import streamlit as st

from hdr import jobs
from ui import state

st.set_page_config(page_title="HDR digit studio", page_icon=":material/draw:", layout="wide")

navigation = st.navigation(
    [
        st.Page("pages/draw.py", title="Draw", icon=":material/draw:", default=True),
        st.Page("pages/upload.py", title="Upload", icon=":material/upload:"),
        st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
        st.Page("pages/models.py", title="Models", icon=":material/inventory_2:"),
    ]
)
with st.sidebar:
    st.caption(f"Active model: **{state.active_name()}**")
    job = jobs.current_job()
    if job is not None and job.running:
        st.caption(f"Training: {job.status().message}")
navigation.run()
