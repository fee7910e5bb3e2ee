"""Live: hold a page up to the webcam and watch the digits read, boxed on the video, as it moves."""

from __future__ import annotations

import streamlit as st

from ui import state
from ui.live import MAX_READINGS_PER_S, live_camera
from ui.navigation import ensure_app
from ui.pictures import show_picture
from ui.widgets import picture_id

ensure_app()
st.title("Live")
st.caption(
    f"Frames are read on this server, up to {MAX_READINGS_PER_S} a second; the number shows once the same "
    "reading holds over a few frames. Freeze keeps a frame to correct a digit."
)
predictor = state.predictor()  # before the camera starts, so that its first frame finds the model loaded
frozen = live_camera(key="live")
if frozen is None:
    st.stop()
st.subheader("Frozen frame", divider="gray")
show_picture("frozen frame", frozen.jpeg, predictor, key=f"live-{picture_id(frozen.jpeg)}")
