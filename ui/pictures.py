"""One picture read and shown as Upload shows it: boxes on the photo, the number, and the feedback controls."""

from __future__ import annotations

import streamlit as st

from hdr.imaging.decode import ImageError, open_image
from hdr.inference.predict import Predictor, format_confidence
from hdr.inference.read import read_picture
from hdr.settings import feedback_dir
from ui import charts, widgets
from ui.attribution import show_explanation


def _size_caption(size: tuple[int, int]) -> str:
    """The picture's size as the file has it (a large photo is shown and decoded reduced)."""
    return f"{size[0]}x{size[1]}"


def show_picture(name: str, data: bytes, predictor: Predictor, *, key: str) -> None:
    """Reads a picture's file and shows every digit with its box, or one digit with its feedback control.

    Args:
        name: What the picture is called on the page (and in a message if it cannot be read).
        data: The file's bytes.
        predictor: The model to read with.
        key: Prefix of the widgets' keys, unique on the page.
    """
    try:
        picture = open_image(data)  # upright (EXIF applied); a large photo decoded reduced, its real size beside
        reading, prediction = read_picture(picture.image, predictor)  # boxes in the decoded picture's pixels
    except ImageError as exc:
        st.error(widgets.error_message(exc, name))
        return
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
                    charts.enlarge(read.preprocessed.image, zoom=3),
                    caption=f"{read.digit} ({format_confidence(read.confidence)})",
                )
        return
    # No box for a picture without a digit: a box around blank paper or a letter would say "here is one".
    boxes = [] if prediction.digit is None else [(prediction.preprocessed.box, str(prediction.digit))]
    left.image(charts.draw_boxes(photo, boxes, prediction.preprocessed.source_size), caption=caption)
    with right:
        widgets.show_prediction(prediction, key=key, blank_message="No digit found in this picture.")
        show_explanation(prediction, predictor, key=key)
        widgets.feedback_control(
            photo, prediction, key=key, sample_id=widgets.picture_id(name, data), feedback_dir=feedback_dir()
        )
