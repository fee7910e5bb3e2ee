"""Draw, the app's first page: a digit (or a number) on the canvas, read each time a stroke ends."""

from __future__ import annotations

import streamlit as st
from streamlit_drawable_canvas import st_canvas  # imported here: the component registers under `streamlit run`

from hdr.inference.read import read_picture
from hdr.settings import feedback_dir
from ui.attribution import explanation_toggle
from ui.canvas import dress_canvases
from ui.navigation import APP_NAME, ensure_app

APP_LINE = "HDR reads handwritten digits: draw one here, photograph a page on Upload, or train your own model."
CANVAS_WIDTH, CANVAS_HEIGHT = 560, 280  # the canvas's own pixels: wide enough for a few digits side by side
# The canvas and the answer side by side (stacked on a phone): at 1366x768 the digit, the bars
# and the 28x28 input all show beside the canvas, no scrolling.
COLUMNS = [3, 2]
STROKE_MIN, STROKE_MAX, STROKE_DEFAULT = 6, 40, 18  # px on the canvas; to_mnist normalises the width anyway


@st.fragment
def _draw_and_read() -> None:
    """The canvas and its reading: a stroke, undo or clear reruns only this, not the whole page."""
    pad, answer = st.columns(COLUMNS, gap="medium")
    with pad:
        canvas = st_canvas(
            stroke_width=st.session_state.get("stroke_width", STROKE_DEFAULT),  # the slider under it
            stroke_color="#000000",
            background_color="#ffffff",
            width=CANVAS_WIDTH,
            height=CANVAS_HEIGHT,
            drawing_mode="freedraw",
            update_streamlit=True,  # sends the drawing when a stroke ends: no button needed
            return_image_data=True,
            key="canvas",
        )
        dress_canvases(CANVAS_WIDTH, CANVAS_HEIGHT)  # before the model loads below: the canvas is usable at once
        st.slider("Pen width", STROKE_MIN, STROKE_MAX, STROKE_DEFAULT, key="stroke_width")
        explain = explanation_toggle(key="draw")  # drawn on every run, so it stays as set across Clear
        maps = st.container()  # under the canvas, where its column has room for the two maps
    with answer:
        _read(canvas, explain, maps)


def _read(canvas, explain: bool, maps) -> None:
    """Reads the canvas: the digit, or the number, or what to do on a blank canvas; the maps into ``maps``."""
    objects = (canvas.json_data or {}).get("objects") or []
    if not objects or canvas.image_data is None:
        # Nothing drawn: answer at once, then load TensorFlow and the model while the user starts
        # drawing, so the canvas is usable seconds before the first prediction could be made.
        st.metric("Prediction", "—")
        st.info("Draw a digit")
        with st.spinner("Loading the model..."):
            from ui import state

            state.predictor()
        return
    from hdr.inference.predict import format_confidence
    from ui import charts, state, widgets  # here, not at the top: TensorFlow loads once the canvas is on screen
    from ui.attribution import show_explanation

    image = canvas.image_data
    reading, prediction = read_picture(image, state.predictor())
    if prediction is None:
        st.metric("Number", reading.text)
        cells = st.columns(len(reading.digits))
        for n, (cell, read) in enumerate(zip(cells, reading.digits, strict=True), start=1):
            cell.metric(
                f"Digit {n}", str(read.digit), format_confidence(read.confidence), delta_color="off", delta_arrow="off"
            )
            cell.image(charts.enlarge(read.preprocessed.image, zoom=3))
        widgets.number_feedback(
            image, reading, key="draw", sample_id=widgets.picture_id(objects), feedback_dir=feedback_dir()
        )
        return
    widgets.show_prediction(prediction, key="draw")
    with maps:
        show_explanation(prediction, state.predictor(), key="draw", asked=explain)
    widgets.feedback_control(
        image, prediction, key="draw", sample_id=widgets.picture_id(objects), feedback_dir=feedback_dir()
    )


ensure_app()
st.title(APP_NAME, anchor=False)
st.caption(APP_LINE)
_draw_and_read()
