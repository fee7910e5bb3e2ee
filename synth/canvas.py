"""Digits drawn the way a browser canvas returns them, for tests and benchmarks.

Each digit is a pen path in a unit square, rendered anti-aliased at any size, stroke width,
position and colour scheme, so tests can check the preprocessing on thin, thick, small and
off-centre drawings without a browser.
"""

from __future__ import annotations

import cv2
import numpy as np


def _ellipse(cx: float, cy: float, rx: float, ry: float, start: float = 0.0, end: float = 360.0) -> list:
    angles = np.radians(np.linspace(start, end, 40))
    return [(cx + rx * np.cos(a), cy + ry * np.sin(a)) for a in angles]


# Pen paths, (x, y) in [0, 1] with y down; each inner list is one stroke.
STROKES: dict[int, list[list[tuple[float, float]]]] = {
    0: [_ellipse(0.5, 0.5, 0.28, 0.45)],
    1: [[(0.38, 0.18), (0.55, 0.05), (0.55, 0.95)]],
    2: [[(0.2, 0.28), (0.3, 0.1), (0.5, 0.04), (0.7, 0.1), (0.78, 0.28), (0.7, 0.46), (0.2, 0.95), (0.82, 0.95)]],
    3: [
        [
            (0.2, 0.12),
            (0.5, 0.04),
            (0.75, 0.15),
            (0.75, 0.33),
            (0.45, 0.5),
            (0.78, 0.63),
            (0.8, 0.84),
            (0.5, 0.96),
            (0.2, 0.88),
        ]
    ],
    4: [[(0.62, 0.95), (0.62, 0.05), (0.15, 0.65), (0.85, 0.65)]],
    5: [[(0.78, 0.05), (0.32, 0.05), (0.27, 0.45), (0.5, 0.38), (0.75, 0.52), (0.78, 0.78), (0.5, 0.95), (0.2, 0.88)]],
    6: [
        [
            (0.7, 0.04),
            (0.42, 0.28),
            (0.26, 0.62),
            (0.3, 0.88),
            (0.52, 0.96),
            (0.74, 0.82),
            (0.72, 0.6),
            (0.48, 0.52),
            (0.28, 0.66),
        ]
    ],
    7: [[(0.15, 0.07), (0.85, 0.07), (0.42, 0.95)]],
    8: [_ellipse(0.5, 0.27, 0.22, 0.22), _ellipse(0.5, 0.72, 0.27, 0.24)],
    9: [_ellipse(0.5, 0.3, 0.25, 0.24), [(0.75, 0.3), (0.72, 0.95)]],
}

SUPERSAMPLE = 4  # strokes are drawn this much finer, then reduced: anti-aliased edges like a browser's
STYLES = ("white_on_black", "black_on_white", "black_on_transparent", "white_on_transparent")


def draw_digit(
    digit: int,
    *,
    canvas: int = 280,
    height: float = 0.7,
    width: int = 18,
    centre: tuple[float, float] = (0.5, 0.5),
    style: str = "black_on_transparent",
) -> np.ndarray:
    """Renders a digit as a canvas would: ``uint8 (canvas, canvas, 4)`` RGBA.

    Args:
        digit: 0-9.
        canvas: Side of the square canvas in pixels.
        height: Digit height as a share of the canvas.
        width: Pen width in pixels.
        centre: Digit centre as shares of the canvas (x, y).
        style: One of :data:`STYLES`.
    """
    size = canvas * SUPERSAMPLE
    box = height * size
    strokes = []
    for stroke in STROKES[digit]:
        unit = np.array(stroke) - 0.5
        # Handwritten digits are about three quarters as wide as tall.
        strokes.append(
            np.column_stack([centre[0] * size + unit[:, 0] * 0.75 * box, centre[1] * size + unit[:, 1] * box])
        )
    return to_rgba(pen_ink(strokes, (canvas, canvas), width), style)


def pen_ink(strokes: list[np.ndarray], size: tuple[int, int], width: int) -> np.ndarray:
    """Pen strokes drawn anti-aliased as a browser draws them: ``uint8 (height, width)`` ink, 255 full.

    Args:
        strokes: Each ``(n, 2)`` points ``(x, y)`` in pixels of a canvas :data:`SUPERSAMPLE` times
            finer than ``size``; one polyline per stroke (a single point is a dot).
        size: ``(width, height)`` of the canvas in pixels.
        width: Pen width in canvas pixels.
    """
    big = np.zeros((size[1] * SUPERSAMPLE, size[0] * SUPERSAMPLE), np.uint8)
    thickness = max(1, width * SUPERSAMPLE)
    for stroke in strokes:
        pts = np.round(np.asarray(stroke, np.float64)).astype(np.int32).reshape(-1, 2)
        if len(pts) == 1:  # a click: the pen's round tip
            cv2.circle(big, tuple(int(v) for v in pts[0]), thickness // 2, 255, -1, cv2.LINE_AA)
        else:
            cv2.polylines(big, [pts], False, 255, thickness=thickness, lineType=cv2.LINE_AA)
    return cv2.resize(big, size, interpolation=cv2.INTER_AREA)


def to_rgba(ink: np.ndarray, style: str) -> np.ndarray:
    """Ink ``uint8 (h, w)`` (255 full) as the canvas returns it in one of :data:`STYLES`: ``uint8 (h, w, 4)``."""
    rgba = np.zeros((*ink.shape, 4), np.uint8)
    ink_colour, paper, transparent = {
        "white_on_black": (255, 0, False),
        "black_on_white": (0, 255, False),
        "black_on_transparent": (0, 0, True),
        "white_on_transparent": (255, 255, True),
    }[style]
    a = ink.astype(np.float32) / 255.0
    if transparent:
        rgba[..., :3] = ink_colour
        rgba[..., 3] = ink
    else:
        rgba[..., :3] = np.round(ink_colour * a + paper * (1 - a)).astype(np.uint8)[..., None]
        rgba[..., 3] = 255
    return rgba


def mnist_on_canvas(
    digit: np.ndarray, rng: np.random.Generator, canvas: int = 280, *, bold: bool = False
) -> np.ndarray:
    """An MNIST digit as if drawn on the canvas: enlarged, at a random size, place, pen and style, RGBA.

    Args:
        digit: ``uint8 (28, 28)``, ink 255 on 0.
        rng: Random generator.
        canvas: Side of the square canvas in pixels.
        bold: A small digit in a fat pen (wider by a twentieth to a third of the digit's size),
            as a finger or a 40 px pen draws it: loops nearly close.
    """
    side = int(rng.uniform(*((0.2, 0.55) if bold else (0.3, 0.85))) * canvas)
    big = cv2.resize(digit.astype(np.float32) / 255.0, (side, side), interpolation=cv2.INTER_CUBIC)
    ink = np.clip((big - 0.35) * 4.0, 0.0, 1.0)  # a pen's hard edge, not a scan's soft one
    # Thinner or thicker pens; a fat one by a share of the digit's size.
    change = int(rng.uniform(0.05, 0.3) * side) if bold else int(rng.integers(-2, 6)) * side // 140
    if change:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (abs(change) + 1, abs(change) + 1))
        ink = cv2.dilate(ink, kernel) if change > 0 else cv2.erode(ink, kernel)
    full = np.zeros((canvas, canvas), np.float32)
    x, y = (int(rng.integers(0, canvas - side + 1)) for _ in range(2))
    full[y : y + side, x : x + side] = ink
    return to_rgba(np.round(full * 255).astype(np.uint8), STYLES[int(rng.integers(len(STYLES)))])


def drawn_digits(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` digits drawn on the canvas at random sizes, places, pens and styles, read into MNIST's format.

    Plumbing tests train and score on these instead of MNIST, so they run without the data set.

    Returns:
        ``uint8 (n, 28, 28)`` images (ink 255 on 0, as :func:`hdr.imaging.preprocess.to_mnist`
        makes them) and ``uint8 (n,)`` labels, every digit about as often.
    """
    from hdr.imaging.preprocess import to_mnist

    rng = np.random.default_rng(seed)
    labels = (np.arange(n) % 10).astype(np.uint8)
    rng.shuffle(labels)
    images = np.empty((n, 28, 28), np.uint8)
    for i, digit in enumerate(labels):
        rgba = draw_digit(
            int(digit),
            height=rng.uniform(0.4, 0.8),
            width=int(rng.integers(10, 26)),
            centre=(rng.uniform(0.35, 0.65), rng.uniform(0.35, 0.65)),
            style=STYLES[int(rng.integers(len(STYLES)))],
        )
        images[i] = to_mnist(rgba).as_uint8()
    return images, labels
