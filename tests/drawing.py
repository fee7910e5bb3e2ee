"""Test pictures made from MNIST digits, shaped like what the app receives."""

from __future__ import annotations

import numpy as np


def mnist_digit_rgba(image: np.ndarray, scale: int = 10) -> np.ndarray:
    """An MNIST digit as the canvas sends it: black strokes on a transparent ``(H, W, 4)`` uint8 array."""
    big = np.kron(image, np.ones((scale, scale), np.uint8))
    rgba = np.zeros((*big.shape, 4), np.uint8)
    rgba[..., 3] = big
    return rgba
