"""Upload: photos or scans of digits, or a camera shot; each is read and shown with its box."""

from __future__ import annotations

import streamlit as st

from hdr.decode import ImageError, open_image
from hdr.read import read_picture
from hdr.settings import feedback_dir
from ui import charts, state, widgets
from ui.attribution import show_explanation
from ui.navigation import ensure_app

IMAGE_TYPES = ["png", "jpg", "jpeg", "webp", "bmp", "heic", "heif"]


def _size_caption(size: tuple[int, int]) -> str:
    """The picture's size as the file has it (a large photo is shown and decoded reduced)."""
    return f"{size[0]}x{size[1]}"


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
    st.subheader(name, divider="gray")
    try:
        picture = open_image(data)  # upright (EXIF applied); a large photo decoded reduced, its real size beside
        reading, prediction = read_picture(picture.image, predictor)  # boxes in the decoded picture's pixels
    except ImageError as exc:
        st.error(widgets.error_message(exc, name))
        continue
    photo, caption = picture.image, _size_caption(picture.full_size)
    left, right = st.columns([1, 2])
    if prediction is None:
        boxes = [(read.box, str(read.digit)) for read in reading.digits]
        left.image(charts.draw_boxes(photo, boxes, reading.size), caption=caption)
        with right:
            st.metric("Number", reading.text)
            cells = st.columns(len(reading.digits))
            for cell, read in zip(cells, reading.digits, strict=True):
                cell.image(
                    charts.enlarge(read.preprocessed.image, zoom=3), caption=f"{read.digit} ({read.confidence:.0%})"
                )
        continue
    boxes = (
        []
        if prediction.preprocessed.box is None
        else [(prediction.preprocessed.box, "" if prediction.digit is None else str(prediction.digit))]
    )
    left.image(charts.draw_boxes(photo, boxes, prediction.preprocessed.source_size), caption=caption)
    with right:
        widgets.show_prediction(prediction, key=f"upload-{index}", blank_message="No digit found in this picture.")
        show_explanation(prediction, predictor, key=f"upload-{index}")
        widgets.feedback_control(
            photo,
            prediction,
            key=f"upload-{index}",
            sample_id=widgets.picture_id(name, data),
            feedback_dir=feedback_dir(),
        )
