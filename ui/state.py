"""What the pages share across reruns and sessions: cached models and data sets."""

from __future__ import annotations

import numpy as np
import streamlit as st

from hdr.inference.evaluate import Metrics, evaluate_probabilities
from hdr.inference.predict import Predictor, model_version
from hdr.settings import models_dir
from hdr.storage.store import ModelStoreError, active_model
from hdr.training.data import DataError, Mnist, load_mnist
from hdr.training.handwriting import HandwritingSet, load_handwriting


@st.cache_resource(max_entries=4, show_spinner="Loading the model...")
def _load_predictor(path: str, mtime: float) -> Predictor:
    """One Predictor per model file version: a retrained or replaced file has a new mtime."""
    return Predictor.load(path)


def predictor(name: str | None = None) -> Predictor:
    """The Predictor of model ``name`` (the active one by default), loaded once and shared by all sessions.

    On a missing or corrupt model the page shows why and stops.
    """
    try:
        return shared_predictor(name)
    except ModelStoreError as exc:
        st.error(f"Cannot load the model: {exc}")
        st.info("Train one with `python -m hdr train` or on the Train page, or pick another on the Models page.")
        st.stop()


def shared_predictor(name: str | None = None) -> Predictor:
    """The same cached Predictor as :func:`predictor`, without page output: for the HTTP API's threads.

    Raises:
        ModelStoreError: The model file is missing or corrupt.
    """
    return _load_predictor(*model_version(name, models_dir()))


def active_name() -> str:
    """The name of the active model."""
    return active_model(models_dir())


@st.cache_resource(show_spinner="Loading MNIST...")
def mnist() -> Mnist:
    """MNIST from $HDR_DATA_DIR (or the Keras download), read once and shared read-only by every session.

    A resource, not data: ``st.cache_data`` would copy the ~55 MB of arrays on every read. The arrays
    are frozen instead, so no page can change what another one reads.
    """
    data = load_mnist()
    for array in (data.x_train, data.y_train, data.x_test, data.y_test):
        array.flags.writeable = False
    return data


@st.cache_resource(show_spinner="Reading real handwriting (USPS, ARDIS)...")
def handwriting() -> list[HandwritingSet]:
    """The real handwriting sets from $HDR_HANDWRITING_DIR (none when unset), read and preprocessed once."""
    return load_handwriting()


MNIST_MISSING = (
    "Whoever runs this server can add them: put MNIST's four IDX files (or mnist.npz) in a folder and "
    "start the app with the environment variable HDR_DATA_DIR set to that folder."
)


def mnist_or_none(needed_for: str) -> Mnist | None:
    """MNIST, or None and a message in the app's terms (what is missing, who can add it) when it cannot be read.

    Args:
        needed_for: What on the page needs MNIST, for the message ("the gallery of mistakes").
    """
    try:
        return mnist()
    except (DataError, OSError):  # the reason names folders and command-line flags: not for this page
        st.warning(f"This server has no copy of the MNIST digits, so {needed_for} is not available.")
        st.caption(MNIST_MISSING)
        return None


def mnist_or_stop(needed_for: str = "this") -> Mnist:
    """MNIST, or the message of :func:`mnist_or_none` and a stopped page."""
    data = mnist_or_none(needed_for)
    if data is None:
        st.stop()
    return data


@st.cache_data(max_entries=4, show_spinner="Scoring the model on the MNIST test set...")
def test_metrics(model_name: str, mtime: float) -> tuple[Metrics, np.ndarray]:
    """Test-set metrics of a model and its predicted digits, for models whose card has none."""
    data = mnist()
    model = predictor(model_name)
    probabilities = model.probabilities(data.x_test.astype(np.float32)[..., None] / 255.0)
    return evaluate_probabilities(probabilities, data.y_test), probabilities.argmax(axis=1)
