"""One picture read and shown as Upload shows it: boxes on the photo, the number, and the feedback controls."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from hdr.imaging.decode import ImageError, Picture, open_image
from hdr.inference.predict import Prediction, Predictor, format_confidence
from hdr.inference.read import Reading, read_picture
from hdr.settings import feedback_dir
from ui import charts, widgets
from ui.attribution import show_explanation


def _size_caption(size: tuple[int, int]) -> str:
    """The picture's size as the file has it (a large photo is shown and decoded reduced)."""
    return f"{size[0]}x{size[1]}"


@dataclass(frozen=True)
class PictureRead:
    """One uploaded file read: the picture and what was read in it, or why it could not be read."""

    name: str
    data: bytes
    picture: Picture | None = None  # upright; a large photo decoded reduced
    reading: Reading | None = None  # every digit, boxes in the decoded picture's pixels
    prediction: Prediction | None = None  # the single digit, None for a number
    error: str = ""  # one line naming the file, when it could not be read

    @property
    def answer(self) -> str:
        """What was read, as the summary table says it: the digit, the number, "no digit" or "error"."""
        if self.error:
            return "error"
        if self.prediction is None:
            return self.reading.text
        return "no digit" if self.prediction.digit is None else str(self.prediction.digit)


def read_upload(name: str, data: bytes, predictor: Predictor) -> PictureRead:
    """Decodes and reads one file; an unreadable one gets its one-line error instead."""
    try:
        picture = open_image(data)  # upright (EXIF applied); a large photo decoded reduced, its real size beside
        reading, prediction = read_picture(picture.image, predictor)  # boxes in the decoded picture's pixels
    except ImageError as exc:
        return PictureRead(name, data, error=widgets.error_message(exc, name))
    return PictureRead(name, data, picture, reading, prediction)


def summary_rows(reads: list[PictureRead]) -> list[dict]:
    """One row per file for a batch's table and CSV: the answer, the digits' confidences, the size, the error."""
    rows = []
    for read in reads:
        digits = [] if read.reading is None or read.prediction is not None else read.reading.digits
        confidences = [d.confidence for d in digits] or (
            [read.prediction.confidence] if read.prediction is not None and read.prediction.digit is not None else []
        )
        rows.append(
            {
                "file": read.name,
                "read": read.answer,
                "digits": len(confidences),
                "lowest confidence": round(min(confidences), 4) if confidences else None,
                "size": _size_caption(read.picture.full_size) if read.picture is not None else "",
                "error": read.error,
            }
        )
    return rows


def show_picture(name: str, data: bytes, predictor: Predictor, *, key: str, read: PictureRead | None = None) -> None:
    """Shows a picture with every digit and its box, or one digit with its feedback control.

    Args:
        name: What the picture is called on the page (and in a message if it cannot be read).
        data: The file's bytes.
        predictor: The model to read with.
        key: Prefix of the widgets' keys, unique on the page.
        read: The file already read (:func:`read_upload`); None reads it here.
    """
    result = read or read_upload(name, data, predictor)
    if result.error:
        st.error(widgets.plain_text(result.error))  # it names a visitor's file: never Markdown
        return
    picture, reading, prediction = result.picture, result.reading, result.prediction
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
            widgets.number_feedback(
                photo, reading, key=key, sample_id=widgets.picture_id(name, data), feedback_dir=feedback_dir()
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
