"""Draw: a digit (or a number) on the canvas, the prediction updates when a stroke ends."""

from __future__ import annotations

import streamlit as st
from streamlit_drawable_canvas import st_canvas  # imported here: the component registers under `streamlit run`

from ui.navigation import ensure_app

CANVAS_WIDTH, CANVAS_HEIGHT = 560, 280  # wide enough to write a few digits side by side
STROKE_MIN, STROKE_MAX, STROKE_DEFAULT = 6, 40, 18  # px on the canvas; to_mnist normalises the width anyway

ensure_app()
st.title("Draw")

if "canvas_generation" not in st.session_state:
    st.session_state.canvas_generation = 0  # a new key empties the canvas

tools = st.columns([3, 1], vertical_alignment="bottom")
stroke = tools[0].slider("Stroke width", STROKE_MIN, STROKE_MAX, STROKE_DEFAULT, key="stroke_width")
if tools[1].button("Clear", icon=":material/delete:", key="clear", use_container_width=True):
    st.session_state.canvas_generation += 1
st.caption("Draw one digit, or a few side by side. Undo, redo and reset are in the canvas toolbar.")

canvas = st_canvas(
    stroke_width=stroke,
    stroke_color="#000000",
    background_color="#ffffff",
    width=CANVAS_WIDTH,
    height=CANVAS_HEIGHT,
    drawing_mode="freedraw",
    update_streamlit=True,  # sends the drawing when a stroke ends: no button needed
    return_image_data=True,
    key=f"canvas-{st.session_state.canvas_generation}",
)
if not (canvas.json_data or {}).get("objects") or canvas.image_data is None:
    # Nothing drawn: answer at once, then load TensorFlow and the model while the user starts
    # drawing, so the canvas is usable seconds before the first prediction could be made.
    st.metric("Prediction", "—")
    st.info("Draw a digit")
    with st.spinner("Loading the model..."):
        from ui import state

        state.predictor()
else:
    from ui import charts, state, widgets  # here, not at the top: TensorFlow loads once the canvas is on screen

    image = canvas.image_data
    predictor = state.predictor()
    reading, prediction = widgets.read_picture(image, predictor)
    if prediction is None:
        st.metric("Number", reading.text)
        for n, (column, read) in enumerate(zip(st.columns(len(reading.digits)), reading.digits, strict=True), start=1):
            with column:
                st.metric(f"Digit {n}", str(read.digit), f"{read.confidence:.0%}", delta_color="off", delta_arrow="off")
                st.image(charts.enlarge(read.preprocessed.image, zoom=3))
    else:
        widgets.show_prediction(prediction, key="draw")
        widgets.feedback_control(image, prediction, key=f"draw-{st.session_state.canvas_generation}", feedback_dir=state.feedback_dir())
