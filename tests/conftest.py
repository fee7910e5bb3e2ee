"""Shared fixtures: MNIST from $HDR_DATA_DIR (CI points it at ../shared/mnist) and the shipped model."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# What the shipped model is held to on the 10,000 MNIST test images: it measures 99.69% (issue 2's
# goal was 99.60%), less one image of slack for floating-point differences between CPUs; a damaged
# or swapped model file fails.
SHIPPED_MIN_ACCURACY = 0.9968


@pytest.fixture(scope="session")
def mnist():
    """The real MNIST data set; without $HDR_DATA_DIR this tries the Keras download (and fails offline)."""
    from hdr.training.data import load_mnist

    return load_mnist()


@pytest.fixture(scope="session")
def tiny(mnist):
    """A few hundred real training images and labels: enough for smoke tests that run in seconds."""
    return mnist.x_train[:320], mnist.y_train[:320]


@pytest.fixture(scope="session")
def shipped():
    """The shipped default model, loaded once."""
    from hdr.inference.predict import Predictor
    from hdr.storage.store import DEFAULT_NAME

    return Predictor.load(DEFAULT_NAME)


@pytest.fixture(scope="session")
def tiny_model():
    """An untrained but real small model, for tests of plumbing rather than accuracy."""
    from hdr.training.models import ModelConfig, build_model

    return build_model(ModelConfig(arch="bn_cnn", width=8))


@pytest.fixture()
def rng():
    return np.random.default_rng(0)
