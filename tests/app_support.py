"""Helpers for the app's tests: pictures shaped like what the app receives, small data, a models copy."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from hdr.settings import models_dir
from hdr.storage.store import DEFAULT_NAME
from hdr.training.data import Mnist

SMALL_TRAIN = 300  # enough for one epoch to learn something in a few seconds
SMALL_TEST = 200


def mnist_digit_rgba(image: np.ndarray, scale: int = 10) -> np.ndarray:
    """An MNIST digit as the canvas sends it: black strokes on a transparent ``(H, W, 4)`` uint8 array."""
    big = np.kron(image, np.ones((scale, scale), np.uint8))
    rgba = np.zeros((*big.shape, 4), np.uint8)
    rgba[..., 3] = big
    return rgba


def small(mnist: Mnist) -> Mnist:
    """A few hundred MNIST images: tests train on this in seconds."""
    return Mnist(
        mnist.x_train[:SMALL_TRAIN],
        mnist.y_train[:SMALL_TRAIN],
        mnist.x_test[:SMALL_TEST],
        mnist.y_test[:SMALL_TEST],
        "small",
    )


def copy_models(dest: Path) -> Path:
    """Copies the shipped default model ($HDR_MODELS_DIR or the repo's models/) into ``dest``.

    Tests that save, activate or delete models work on such a copy, never on the repo's folder.
    """
    dest.mkdir(parents=True, exist_ok=True)
    for suffix in (".keras", ".json"):
        source = models_dir() / f"{DEFAULT_NAME}{suffix}"
        if source.is_file():
            shutil.copy2(source, dest / source.name)
    if not (dest / f"{DEFAULT_NAME}.keras").is_file():
        pytest.fail(f"no default model in {models_dir()}: train one first (see README)")
    return dest
