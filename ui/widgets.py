"""Page pieces used by more than one page: a prediction, a feedback control, a multi-digit reading."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import streamlit as st

from hdr.imaging.decode import ImageInput
from hdr.inference.predict import Prediction, format_confidence
from hdr.settings import NUM_CLASSES
from hdr.training.feedback import save_sample
from ui import charts
from ui.owner import is_owner

BLANK_MESSAGE = "Draw a digit"
SAMPLE_ID_CHARS = 16  # hex digits of a picture's id: 64 bits, no collision among a session's pictures


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


def feedback_control(
    image: ImageInput, prediction: Prediction | None, *, key: str, sample_id: str, feedback_dir: Path
) -> None:
    """ "Wrong? The right digit is ..." — saves the picture with the corrected label as a feedback sample.

    Saving is idempotent per picture (``sample_id``): however often Save is clicked, one sample is
    written, and the page says which.
    """
    if prediction is None or prediction.digit is None or not is_owner():
        return
    saved = st.session_state.setdefault("saved_samples", {})
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
    if submitted and sample_id not in saved:
        if label is None:
            st.warning("Choose the right digit first.")
            return
        try:
            path = save_sample(image, int(label), feedback_dir)
        except (ValueError, OSError) as exc:  # ImageError is a ValueError
            st.error(f"Not saved: {exc}")
            return
        saved[sample_id] = (int(label), path.name)
    if sample_id in saved:
        digit, name = saved[sample_id]
        st.success(
            f"Saved as a {digit} ({name}), once for this picture. Fine-tune on the Train page to teach the model your hand."
        )


def error_message(exc: Exception, name: str) -> str:
    """A one-line message for a file that could not be read, naming the file."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"{name}: {text.removeprefix('<bytes>: ')}"
