"""The app's pages and sidebar, and a guard that keeps deep links going through them."""

from __future__ import annotations

import sys
from contextvars import ContextVar

import streamlit as st

from ui import jobs as app_jobs
from ui.owner import owner_sign_in

APP_NAME = "HDR"
PAGES = [
    ("pages/draw.py", "Draw", ":material/draw:"),
    ("pages/upload.py", "Upload", ":material/upload:"),
    ("pages/live.py", "Live", ":material/videocam:"),
    ("pages/train.py", "Train", ":material/model_training:"),
    ("pages/models.py", "Models", ":material/inventory_2:"),
    ("pages/samples.py", "Samples", ":material/photo_library:"),
    ("pages/about.py", "About the model", ":material/info:"),
]
API_DOCS_URL = "/api/docs"  # served by hdr.serving.api beside the pages
# True while run_app's navigation runs a page: in the script thread of this run only.
_IN_NAVIGATION: ContextVar[bool] = ContextVar("hdr_in_navigation", default=False)


def run_app() -> None:
    """Sets up the page, the navigation and the sidebar, then runs the chosen page."""
    navigation = st.navigation(
        [st.Page(path, title=title, icon=icon, default=i == 0) for i, (path, title, icon) in enumerate(PAGES)]
    )
    # The browser tab names the page and the app, e.g. "Draw · HDR".
    st.set_page_config(page_title=f"{navigation.title} · {APP_NAME}", page_icon=":material/draw:", layout="wide")
    owner_sign_in()  # before the page: a page that stops must not take the sign-in widget with it
    token = _IN_NAVIGATION.set(True)
    try:
        navigation.run()
    finally:
        _IN_NAVIGATION.reset(token)
    # After the page, so that a page may show itself before TensorFlow loads (see pages/draw.py).
    if "ui.state" in sys.modules:
        with st.sidebar:
            st.caption(f"Active model: **{sys.modules['ui.state'].active_name()}**")
    st.sidebar.markdown(f"[API docs]({API_DOCS_URL}) for programs: `POST /api/predict`, `POST /api/read`")
    if app_jobs.current() is not None:  # else TensorFlow need not load for the sidebar
        from ui.training import sidebar_status

        sidebar_status()


def ensure_app() -> None:
    """Runs the page through ``app.py``'s navigation when it was opened without it.

    Streamlit treats a folder named ``pages/`` as old-style multipage navigation until the first
    ``st.navigation`` call in the server's life, so a deep link such as ``/train`` opened first on
    a fresh server runs the page file alone, without ``app.py``: no sidebar, no page config.
    Streamlit has no public switch for that (``st.navigation`` turns it off, but only once
    ``app.py`` runs), so the page asks the one thing it can know with public means: whether
    :func:`run_app` is running it. If not, it hands over to :func:`run_app`, which runs this same
    page inside the real navigation (widget values intact, unlike a rerun), and the bare run stops.
    """
    if not _IN_NAVIGATION.get():
        run_app()
        st.stop()
