"""Draw: a digit (or a number) on the canvas, the prediction updates when a stroke ends."""

from __future__ import annotations

import streamlit as st
from streamlit_drawable_canvas import st_canvas  # imported here: the component registers under `streamlit run`

from hdr.inference.read import read_picture
from hdr.settings import feedback_dir
from ui.canvas import CanvasClear
from ui.navigation import ensure_app

CANVAS_WIDTH, CANVAS_HEIGHT = 560, 280  # wide enough to write a few digits side by side
STROKE_MIN, STROKE_MAX, STROKE_DEFAULT = 6, 40, 18  # px on the canvas; to_mnist normalises the width anyway


@st.fragment
def _draw_and_read(stroke: int) -> None:
    """The canvas and its reading: a stroke or Clear reruns only this, not the whole page."""
    tools = st.container()  # Clear shows above the canvas but is read after it, with the canvas's current strokes
    clearing: CanvasClear = st.session_state.canvas_clear
    rendered = clearing.seed
    canvas = st_canvas(
        stroke_width=stroke,
        stroke_color="#000000",
        background_color="#ffffff",
        width=CANVAS_WIDTH,
        height=CANVAS_HEIGHT,
        drawing_mode="freedraw",
        update_streamlit=True,  # sends the drawing when a stroke ends: no button needed
        return_image_data=True,
        initial_drawing=rendered,  # loaded in place: Clear never remounts the canvas
        key="canvas",
    )
    objects = (canvas.json_data or {}).get("objects") or []
    if tools.button("Clear", icon=":material/delete:", key="clear"):
        clearing = clearing.clear(objects)
    stale = clearing.pending(objects)
    st.session_state.canvas_clear = clearing.update(objects)
    if st.session_state.canvas_clear.seed != rendered:
        st.rerun(scope="fragment")  # the canvas must load the new drawing (empty, or the strokes to keep)
    if not objects or canvas.image_data is None or stale:
        # Nothing drawn: answer at once, then load TensorFlow and the model while the user starts
        # drawing, so the canvas is usable seconds before the first prediction could be made.
        st.metric("Prediction", "—")
        st.info("Draw a digit")
        with st.spinner("Loading the model..."):
            from ui import state

            state.predictor()
        return
    from ui import charts, state, widgets  # here, not at the top: TensorFlow loads once the canvas is on screen
    from ui.attribution import show_explanation

    image = canvas.image_data
    reading, prediction = read_picture(image, state.predictor())
    if prediction is None:
        st.metric("Number", reading.text)
        for n, (column, read) in enumerate(zip(st.columns(len(reading.digits)), reading.digits, strict=True), start=1):
            with column:
                st.metric(f"Digit {n}", str(read.digit), f"{read.confidence:.0%}", delta_color="off", delta_arrow="off")
                st.image(charts.enlarge(read.preprocessed.image, zoom=3))
        widgets.number_feedback(
            image, reading, key="draw", sample_id=widgets.picture_id(objects), feedback_dir=feedback_dir()
        )
        return
    widgets.show_prediction(prediction, key="draw")
    show_explanation(prediction, state.predictor(), key="draw")
    widgets.feedback_control(
        image, prediction, key="draw", sample_id=widgets.picture_id(objects), feedback_dir=feedback_dir()
    )


ensure_app()
st.title("Draw")
if "canvas_clear" not in st.session_state:
    st.session_state.canvas_clear = CanvasClear()
stroke = st.slider("Stroke width", STROKE_MIN, STROKE_MAX, STROKE_DEFAULT, key="stroke_width")
st.caption("Draw one digit, or a few side by side. Clear empties the canvas; undo, redo and reset are in its toolbar.")
_draw_and_read(stroke)
