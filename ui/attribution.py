"""The "What the network looked at" toggle: integrated-gradients maps over the 28x28 input, on request."""

from __future__ import annotations

import numpy as np
import streamlit as st

from hdr.inference.explain import Explainer, legend, overlay
from hdr.inference.predict import Prediction, Predictor, format_confidence

TOGGLE_LABEL = "What the network looked at"
MAP_ZOOM = 8  # 28 px -> 224 px: each input pixel a visible block
LEGEND_CAPTION = (
    "Blue: evidence against the digit · white: none · red: evidence for it (full colour: the strongest pixel)"
)
_HELP = (
    "Integrated gradients: red pixels of the 28x28 input raise the digit's probability, blue ones "
    "lower it. Computed only while this is on."
)


@st.cache_resource(max_entries=4, show_spinner=False)
def _explainer(_predictor: Predictor, model_id: int) -> Explainer:
    """One Explainer (traced once) per loaded model, shared by every session like the model itself."""
    return Explainer(_predictor.model)


def explanation_toggle(*, key: str) -> bool:
    """The toggle; a page renders it on every run (even with nothing to explain) to keep its state."""
    return st.toggle(TOGGLE_LABEL, key=f"{key}-explain", help=_HELP)


def show_explanation(prediction: Prediction, predictor: Predictor, *, key: str, asked: bool | None = None) -> None:
    """The evidence for the predicted digit and for the runner-up side by side, with their colour legend.

    Args:
        prediction: What to explain; nothing is shown without a digit.
        predictor: The model that made it.
        key: Prefix of the toggle's key.
        asked: Whether the page's own :func:`explanation_toggle` is on; None renders the toggle here.

    Nothing is computed while the toggle is off, so a stroke on Draw costs no more than before.
    """
    if prediction.digit is None or not (explanation_toggle(key=key) if asked is None else asked):
        return
    explanation = _explainer(predictor, id(predictor.model)).explain(prediction.preprocessed.image)
    shown = (explanation.predicted, explanation.runner_up)
    # One colour scale for both maps, so their strengths compare at a glance.
    scale = max(float(np.abs(a.map).max()) for a in shown)
    for column, attribution, role in zip(st.columns(len(shown)), shown, ("predicted", "runner-up"), strict=True):
        column.image(
            overlay(prediction.preprocessed.image, attribution.map, zoom=MAP_ZOOM, scale=scale),
            caption=f"Evidence for {attribution.digit} ({role}, {format_confidence(attribution.probability)})",
        )
    st.image(legend(width=MAP_ZOOM * 28 * len(shown)), caption=LEGEND_CAPTION)
