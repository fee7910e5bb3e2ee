"""Page pieces used by more than one page: a prediction, the feedback controls (one digit, a number's digits)."""

from __future__ import annotations

import hashlib
import json
import string
from pathlib import Path

import streamlit as st
from PIL import Image

from hdr.imaging.decode import ImageError, ImageInput
from hdr.inference.predict import Prediction, format_confidence
from hdr.inference.read import Reading, crop_digit
from hdr.settings import NUM_CLASSES
from hdr.training.feedback import delete_sample, relabel_sample, save_sample
from ui import charts
from ui.owner import is_owner

BLANK_MESSAGE = "Draw a digit"
SAVED_SAMPLES = "saved_samples"  # session state: picture or digit id -> (label, path) of its sample
SAMPLE_ID_CHARS = 16  # hex digits of a picture's id: 64 bits, no collision among a session's pictures
# CommonMark lets any ASCII punctuation be backslash-escaped, which makes it a plain character.
_MARKDOWN_ESCAPES = str.maketrans({c: f"\\{c}" for c in string.punctuation} | {"\n": " ", "\r": " "})


def show_prediction(prediction: Prediction, *, key: str, blank_message: str = BLANK_MESSAGE) -> None:
    """The predicted digit large with its confidence, the ten probabilities and the 28x28 input.

    A picture without a digit shows "no digit here" and the reason's hint (write bigger, retake the
    photo); ``blank_message`` is for a blank picture that came with no reason.
    """
    if prediction.digit is None:
        st.metric("Prediction", "No digit here" if prediction.reason else "—")
        if prediction.reason:
            st.warning(prediction.reason, icon=":material/block:")
        else:
            st.info(blank_message)
        return
    # The digit beside the input, the bars under both: narrow enough for the column beside Draw's canvas.
    digit, seen = st.columns(2)
    digit.metric(
        "Prediction",
        str(prediction.digit),
        f"{format_confidence(prediction.confidence)} confident",
        delta_color="off",
        delta_arrow="off",
    )
    seen.image(
        charts.enlarge(prediction.preprocessed.image),
        caption="What the model saw (28x28)",
        width=charts.INPUT_ZOOM * 28,
    )
    if prediction.unsure:
        runner_up = prediction.runner_up
        st.warning(
            f"The model is unsure: {prediction.digit} at {format_confidence(prediction.confidence)}, "
            f"or maybe {runner_up} ({format_confidence(prediction.probabilities[runner_up])})."
        )
    st.plotly_chart(
        charts.probability_bars(prediction.probabilities, prediction.digit),
        key=f"{key}-bars",
        config={"displayModeBar": False},
    )


def picture_id(*parts: object) -> str:
    """A short stable id for a picture: the same drawing or file gives the same id, another a new one."""
    digest = hashlib.sha1()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else json.dumps(part, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:SAMPLE_ID_CHARS]


def _record(image: ImageInput, label: int, item_id: str, feedback_dir: Path) -> str:
    """Saves a picture as a sample of ``label``, or gives the one saved for ``item_id`` that label; what happened.

    Raises:
        ValueError, OSError: Not saved (no digit in the picture, an unwritable folder).
    """
    saved = st.session_state.setdefault(SAVED_SAMPLES, {})
    if item_id in saved:
        old, path = saved[item_id]
        if old == label:
            return f"Saved as a {label} ({path.name})"
        try:
            saved[item_id] = (label, relabel_sample(path, label, feedback_dir))
            return f"Changed to a {label} (was a {old}; {path.name})"
        except FileNotFoundError:  # deleted in the gallery meanwhile: saved anew below
            pass
    path = save_sample(image, label, feedback_dir)
    saved[item_id] = (label, path)
    return f"Saved as a {label} ({path.name})"


def _undo(item_ids: list[str], feedback_dir: Path) -> None:
    """Deletes the samples saved for ``item_ids`` (a button's callback: it runs before the page is drawn)."""
    saved = st.session_state.setdefault(SAVED_SAMPLES, {})
    for item_id in item_ids:
        if item_id in saved:
            delete_sample(saved.pop(item_id)[1], feedback_dir)
    st.session_state[f"{SAVED_SAMPLES}-note"] = "Undone: the sample is deleted."


def _saved_note(item_ids: list[str], message: str | None, *, key: str, feedback_dir: Path) -> None:
    """What was saved for these pictures, with Undo; or that an Undo just deleted them."""
    saved = st.session_state.get(SAVED_SAMPLES, {})
    if not any(i in saved for i in item_ids):
        undone = st.session_state.pop(f"{SAVED_SAMPLES}-note", None)
        if undone:
            st.info(undone)
        return
    note, undo = st.columns([4, 1], vertical_alignment="center")
    labels = ", ".join(f"a {saved[i][0]}" for i in item_ids if i in saved)
    note.success(
        (message or f"Saved as {labels}") + ". Change the digit and save again to correct it; "
        "fine-tune on the Train page to teach the model your hand."
    )
    undo.button("Undo", key=f"{key}-undo", on_click=_undo, args=(item_ids, feedback_dir), icon=":material/undo:")


def feedback_control(
    image: ImageInput, prediction: Prediction | None, *, key: str, sample_id: str, feedback_dir: Path
) -> None:
    """ "Wrong? The right digit is ..." — saves the picture with the corrected label as a feedback sample.

    Saving is idempotent per picture (``sample_id``): however often Save is clicked, one sample is
    written, and the page says which. Saving it again with another digit moves that sample to the
    new digit; Undo deletes it.
    """
    if prediction is None or prediction.digit is None or not is_owner():
        return
    with st.form(key=f"{key}-{sample_id}-feedback", border=False, enter_to_submit=False):
        choice, button = st.columns([3, 1], vertical_alignment="bottom")
        label = choice.selectbox(
            "Wrong? The right digit is",
            range(NUM_CLASSES),
            index=None,
            placeholder="choose a digit",
            key=f"{key}-{sample_id}-label",
        )
        submitted = button.form_submit_button("Save sample")
    message = None
    if submitted:
        if label is None:
            st.warning("Choose the right digit first.")
            return
        try:
            message = _record(image, int(label), sample_id, feedback_dir)
        except (ValueError, OSError) as exc:  # ImageError is a ValueError
            st.error(f"Not saved: {exc}")
            return
    _saved_note([sample_id], message, key=f"{key}-{sample_id}", feedback_dir=feedback_dir)


def number_feedback(picture: Image.Image, reading: Reading, *, key: str, sample_id: str, feedback_dir: Path) -> None:
    """Corrections for each digit of a number read: the digits changed from what was read are saved as samples.

    Each digit is cut out of ``picture`` (the picture ``reading`` was read from, at its size) and
    saved once per picture and position; saving again with another digit moves the sample.
    """
    if not reading.digits or not is_owner():
        return
    ids = [f"{sample_id}-{n}" for n in range(len(reading.digits))]
    with st.form(key=f"{key}-{sample_id}-number-feedback", border=False, enter_to_submit=False):
        st.caption("Wrong digits? Set the right ones and save them as samples.")
        cells = st.columns(len(reading.digits))
        labels = [
            cell.selectbox(f"Digit {n + 1}", range(NUM_CLASSES), index=read.digit, key=f"{key}-{item_id}-label")
            for n, (cell, read, item_id) in enumerate(zip(cells, reading.digits, ids, strict=True))
        ]
        submitted = st.form_submit_button("Save corrections")
    saved = st.session_state.get(SAVED_SAMPLES, {})
    message = None
    if submitted:
        changed = [
            (read, int(label), item_id)
            for read, label, item_id in zip(reading.digits, labels, ids, strict=True)
            if label != read.digit or item_id in saved
        ]
        if not changed:
            st.info("Every digit is as read: nothing to save.")
            return
        try:
            notes = [
                _record(crop_digit(picture, read.box, reading.size), label, i, feedback_dir)
                for read, label, i in changed
            ]
        except (ValueError, OSError) as exc:
            st.error(f"Not saved: {exc}")
            return
        message = "; ".join(notes)
    _saved_note(ids, message, key=f"{key}-{sample_id}", feedback_dir=feedback_dir)


def plain_text(text: str) -> str:
    """``text`` (a file name a visitor chose) for Streamlit's Markdown, shown as written, on one line.

    A name like ``![x](http://host/pixel.png)`` would otherwise make every viewer's browser fetch
    that URL, and ``**``, ``:red[...]`` or ``$...$`` restyle the page.
    """
    return text.translate(_MARKDOWN_ESCAPES)


def error_message(exc: Exception, name: str) -> str:
    """A one-line message for a file that could not be read, naming the file (show it through :func:`plain_text`)."""
    text = exc.reason if isinstance(exc, ImageError) else str(exc) or type(exc).__name__
    return f"{name}: {text.splitlines()[0]}"
