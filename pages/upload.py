"""Upload: photos or scans of digits, or a camera shot; each is read and shown with its box."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from hdr.inference.predict import format_confidence
from ui import state
from ui.navigation import ensure_app
from ui.pictures import read_upload, show_picture, summary_rows
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

reads = [read_upload(name, data, predictor) for name, data in pictures]
if len(reads) > 1:  # a batch: the answers first, in one table to read or download; each picture below it
    rows = pd.DataFrame(summary_rows(reads))
    st.subheader(f"{len(reads)} pictures", divider="gray")
    shown = rows.assign(
        **{"lowest confidence": [None if pd.isna(c) else format_confidence(c) for c in rows["lowest confidence"]]}
    )
    st.dataframe(shown, hide_index=True, key="upload-summary")  # the CSV keeps the numbers
    st.download_button(
        "Download as CSV", rows.to_csv(index=False), file_name="hdr-readings.csv", mime="text/csv",
        key="upload-csv", icon=":material/download:", on_click="ignore",
    )  # fmt: skip
for index, read in enumerate(reads):
    if len(reads) > 1:
        with st.expander(plain_text(f"{read.name}: {read.answer}"), expanded=bool(read.error)):  # never Markdown
            show_picture(read.name, read.data, predictor, key=f"upload-{index}", read=read)
    else:
        st.subheader(plain_text(read.name), divider="gray")  # a visitor's file name: never Markdown
        show_picture(read.name, read.data, predictor, key=f"upload-{index}", read=read)
