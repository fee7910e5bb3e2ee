"""The app's pages and sidebar, and a guard that keeps deep links going through them."""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from hdr import jobs
from ui import state

PAGES = [
    ("pages/draw.py", "Draw", ":material/draw:"),
    ("pages/upload.py", "Upload", ":material/upload:"),
    ("pages/train.py", "Train", ":material/model_training:"),
    ("pages/models.py", "Models", ":material/inventory_2:"),
]


def run_app() -> None:
    """Sets up the page, the navigation and the sidebar, then runs the chosen page."""
    st.set_page_config(page_title="HDR digit studio", page_icon=":material/draw:", layout="wide")
    navigation = st.navigation([st.Page(path, title=title, icon=icon, default=i == 0) for i, (path, title, icon) in enumerate(PAGES)])
    with st.sidebar:
        st.caption(f"Active model: **{state.active_name()}**")
        job = jobs.current_job()
        if job is not None and job.running:
            st.caption(f"Training: {job.status().message}")
    navigation.run()


def ensure_app() -> None:
    """Runs the page through ``app.py``'s navigation when it was opened without it.

    Streamlit still treats a folder named ``pages/`` as old-style multipage navigation until the
    first ``st.navigation`` call in the server's life (and on every AppTest run), so a deep link
    such as ``/train`` opened first on a fresh server would run the page file alone: no sidebar,
    no page config. Here the page hands over to :func:`run_app`, which runs this same page inside
    the real navigation (widget values intact, unlike a rerun), and the bare run stops.
    """
    if PagesManager.uses_pages_directory:
        run_app()
        st.stop()
