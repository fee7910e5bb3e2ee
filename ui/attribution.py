"""The "What the network looked at" toggle: integrated-gradients maps over the 28x28 input, on request."""

from __future__ import annotations

import numpy as np
import streamlit as st

from hdr.inference.explain import Explainer, overlay
from hdr.inference.predict import Prediction, Predictor

TOGGLE_LABEL = "What the network looked at"
_SHOWN_MIN = 0.001  # smallest probability a caption prints as a percentage with one decimal
MAP_ZOOM = 8  # 28 px -> 224 px: each input pixel a visible block
_HELP = (
    "Integrated gradients: red pixels of the 28x28 input raise the digit's probability, blue ones "
    "lower it. Computed only while this is on."
)


@st.cache_resource(max_entries=4, show_spinner=False)
def _explainer(_predictor: Predictor, model_id: int) -> Explainer:
    """One Explainer (traced once) per loaded model, shared by every session like the model itself."""
    return Explainer(_predictor.model)


def show_explanation(prediction: Prediction, predictor: Predictor, *, key: str) -> None:
    """A toggle; when on, the evidence for the predicted digit and for the runner-up side by side.

    Nothing is computed while the toggle is off, so a stroke on Draw costs no more than before.
    """
    if prediction.digit is None or not st.toggle(TOGGLE_LABEL, key=f"{key}-explain", help=_HELP):
        return
    explanation = _explainer(predictor, id(predictor.model)).explain(prediction.preprocessed.image)
    shown = (explanation.predicted, explanation.runner_up)
    # One colour scale for both maps, so their strengths compare at a glance.
    scale = max(float(np.abs(a.map).max()) for a in shown)
    for column, attribution, role in zip(st.columns(len(shown)), shown, ("predicted", "runner-up"), strict=True):
        column.image(
            overlay(prediction.preprocessed.image, attribution.map, zoom=MAP_ZOOM, scale=scale),
            caption=f"Evidence for {attribution.digit} ({role}, {_percent(attribution.probability)}): red for, blue against",
        )


def _percent(probability: float) -> str:
    """A probability as a percentage; a runner-up's tiny one is not rounded to a misleading 0.0%."""
    return f"{probability:.1%}" if probability >= _SHOWN_MIN else f"<{_SHOWN_MIN:.1%}"
