"""Upload: photos or scans of digits, or a camera shot; each is read and shown with its box."""

from __future__ import annotations

import streamlit as st

from ui import state
from ui.navigation import ensure_app
from ui.pictures import show_picture
from ui.widgets import plain_text

IMAGE_TYPES = ["png", "jpg", "jpeg", "webp", "bmp", "heic", "heif"]


ensure_app()
st.title("Upload")
predictor = state.predictor()

files = st.file_uploader(
    "Photos or scans of handwritten digits (PNG, JPEG, WebP, BMP, HEIC)",
    type=IMAGE_TYPES,
    accept_multiple_files=True,
    key="uploads",
)
pictures = [(f.name, f.getvalue()) for f in files or []]
if st.toggle("Use the camera", key="use_camera"):
    shot = st.camera_input("Take a photo of a digit on paper", key="camera")
    if shot is not None:
        pictures.append(("camera photo", shot.getvalue()))

if not pictures:
    st.info("Upload a photo of a digit written on paper, or turn on the camera.")
    st.stop()

for index, (name, data) in enumerate(pictures):
    st.subheader(plain_text(name), divider="gray")  # a visitor's file name: never Markdown
    show_picture(name, data, predictor, key=f"upload-{index}")
