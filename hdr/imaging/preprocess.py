"""The one preprocessing path: any picture of a digit -> the 28x28 input the network expects.

The canvas, uploads, the command line and data loaders all call :func:`to_mnist`, so what the
model sees never depends on where the picture came from. It follows the MNIST recipe: find the
ink, crop to it, fit it in a 20x20 box keeping its aspect ratio, and centre it by centre of mass
in a 28x28 field. What is cropped is the soft, grey ink, faint strokes included (pencil, a light
pen, a blurred or low-resolution scan), never a binary mask. Stroke width is normalised first,
so a 3-pixel pen on a 400-pixel canvas and a thick marker both end up with MNIST-like strokes.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np

from hdr.imaging.decode import WORK_SIDE, ImageError, ImageInput, to_gray
from hdr.imaging.ink import FAINT_INK, INK_LEVEL, digit_mask, ink_map, odd_size, stroke_width
from hdr.settings import IMAGE_SIZE

BOX_SIZE = 20  # MNIST digits are scaled to fit a 20x20 box ...
CENTRE = IMAGE_SIZE / 2  # ... and centred by centre of mass at (14, 14), as measured on MNIST
MNIST_STROKE = 2.25  # median stroke width of MNIST test digits, 28x28 pixels (see stroke_width)
FINE_SIDE = 56  # a digit smaller than this (a low-resolution scan) is enlarged to it before shaping strokes
# Strokes up to this many times MNIST's width are left as they are: a blurred or blocky low-resolution
# scan (scikit-learn's 8x8 digits enlarged) looks thick, and thinning it erodes the shape (-1.3 points there).
THIN_ABOVE = 2.5
EVEN_REACH = 1.5  # ink is compared with the strongest ink within this many stroke widths (see _even_out)


@dataclass(frozen=True)
class Preprocessed:
    """What the model sees, and where it came from."""

    image: np.ndarray  # (28, 28, 1) float32 in [0, 1], ink high; all zero when not ``found``
    found: bool  # False for blank or near-blank pictures: "no digit", never a guess
    box: tuple[int, int, int, int] | None  # (x, y, w, h) of the digit in the source picture
    source_size: tuple[int, int]  # (width, height) of the source picture, after EXIF rotation

    def as_uint8(self) -> np.ndarray:
        """The image as MNIST stores it: ``uint8 (28, 28)``, ink 255."""
        return np.round(self.image[..., 0] * 255).astype(np.uint8)


def _even_out(ink: np.ndarray, width: float) -> np.ndarray:
    """Ink relative to the strongest ink near it, so a faint stretch of a stroke reads as strong as the rest.

    MNIST's pen wrote every stroke at full strength; a pencil, a pen running dry or a lopsided scan
    do not. Each pixel is divided by the strongest ink within :data:`EVEN_REACH` stroke widths, which
    keeps the soft, anti-aliased profile across a stroke but lifts a faint side of a 0 or a grey
    loop of a 9 to the level of the rest. Faint ink alone (never below :data:`FAINT_INK`) is not lifted.

    Args:
        ink: ``float32 (h, w)`` in [0, 1].
        width: The strokes' width in pixels (:func:`stroke_width`).
    """
    size = odd_size(2 * EVEN_REACH * width) + 2
    nearby = cv2.dilate(ink, np.ones((size, size), np.uint8))  # a square: separable, fast for wide pens
    return np.clip(ink / np.maximum(nearby, FAINT_INK), 0.0, 1.0)


def _normalise_stroke(crop: np.ndarray, scale: float) -> np.ndarray:
    """Thickens thin strokes (or thins very thick ones) so that, once scaled, they are MNIST-wide.

    Args:
        crop: ``float32 (h, w)`` ink, evened out (see :func:`_even_out`) and padded so that growing
            strokes stays inside.
        scale: The factor that will bring the crop into the 20x20 box.
    """
    width = stroke_width(crop >= INK_LEVEL) * scale  # in 28x28 pixels
    change = (MNIST_STROKE - width) / scale  # in source pixels, positive: thicken
    size = int(round(abs(change)))
    if size < 1 or 0.75 * MNIST_STROKE <= width <= THIN_ABOVE * MNIST_STROKE:
        return crop
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size + 1, size + 1))
    return cv2.dilate(crop, kernel) if change > 0 else cv2.erode(crop, kernel)


def _fit_and_centre(crop: np.ndarray) -> np.ndarray:
    """Scales ink to fit the 20x20 box and places its centre of mass at the middle of 28x28."""
    h, w = crop.shape
    scale = BOX_SIZE / max(h, w)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(crop, (new_w, new_h), interpolation=interp)
    small /= max(float(small.max()), 1e-6)  # thin strokes lose peak brightness when averaged down
    total = float(small.sum())
    ys, xs = np.indices(small.shape)
    cy, cx = float((ys * small).sum() / total), float((xs * small).sum() / total)
    # Centre by mass, but never push a lopsided digit (a 7's stem) out of the field.
    dx = min(max(CENTRE - cx, 0.0), IMAGE_SIZE - new_w)
    dy = min(max(CENTRE - cy, 0.0), IMAGE_SIZE - new_h)
    shift = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(small, shift, (IMAGE_SIZE, IMAGE_SIZE), flags=cv2.INTER_LINEAR, borderValue=0.0)


def to_mnist(source: ImageInput) -> Preprocessed:
    """Turns any picture of one digit into the network's input, the MNIST way.

    Args:
        source: A path, file bytes, PIL image or array, in any mode and size (see :func:`to_gray`).

    Returns:
        The ``(28, 28, 1)`` float32 input in [0, 1] and the digit's box in the source; with
        ``found=False`` (and a zero image) when the picture is blank or nearly so.

    Raises:
        ImageError: The input cannot be read as an image.
    """
    gray = to_gray(source)
    height, width = gray.shape
    reduce = min(1.0, WORK_SIDE / max(height, width))
    if reduce < 1.0:
        gray = cv2.resize(
            gray, (max(1, round(width * reduce)), max(1, round(height * reduce))), interpolation=cv2.INTER_AREA
        )
    ink, has_contrast = ink_map(gray)
    mask = digit_mask(ink) if has_contrast else None
    if mask is None:
        return Preprocessed(np.zeros((IMAGE_SIZE, IMAGE_SIZE, 1), np.float32), False, None, (width, height))
    rim = cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)  # the strokes' soft edges
    ink = np.where(rim, ink, 0.0).astype(np.float32)
    x, y, w, h = cv2.boundingRect(mask.astype(np.uint8))
    crop = ink[max(0, y - 1) : y + h + 1, max(0, x - 1) : x + w + 1]
    # Strokes a pixel or two wide cannot be thickened or thinned by whole pixels without turning
    # jagged: a small digit is first enlarged smoothly, as the 20x20 box will enlarge it anyway.
    enlarge = int(np.ceil(FINE_SIDE / max(h, w)))
    if enlarge > 1:
        crop = cv2.resize(crop, None, fx=enlarge, fy=enlarge, interpolation=cv2.INTER_CUBIC).clip(0.0, 1.0)
    scale = BOX_SIZE / (max(h, w) * enlarge)
    pad = int(np.ceil(MNIST_STROKE / scale)) + 1  # room for strokes to grow
    crop = _even_out(np.pad(crop, pad), stroke_width(mask[y : y + h, x : x + w]) * enlarge)
    normalised = _normalise_stroke(crop, scale)
    crop = normalised if (normalised > 0.05).any() else crop  # a tiny blot may erode away entirely
    cx, cy, cw, ch = cv2.boundingRect((crop > 0.05).astype(np.uint8))
    image = _fit_and_centre(crop[cy : cy + ch, cx : cx + cw])
    box = tuple(int(round(v / reduce)) for v in (x, y, w, h))
    return Preprocessed(np.clip(image, 0.0, 1.0)[..., None].astype(np.float32), True, box, (width, height))


def preprocess_many(sources: Iterable[ImageInput], workers: int | None = None) -> list[Preprocessed | ImageError]:
    """:func:`to_mnist` on many pictures, spread over the CPU cores.

    Decoding and the OpenCV work release the GIL, so threads run them in parallel. A picture that
    cannot be read does not stop the others: its :class:`ImageError` takes its place in the result.

    Args:
        sources: Pictures, anything :func:`to_mnist` accepts.
        workers: Threads to use; by default one per CPU core.

    Returns:
        One :class:`Preprocessed` or :class:`ImageError` per source, in order.
    """

    def attempt(source: ImageInput) -> Preprocessed | ImageError:
        try:
            return to_mnist(source)
        except ImageError as exc:
            return exc

    items = list(sources)
    workers = min(len(items), workers or os.cpu_count() or 1)
    if workers <= 1:
        return [attempt(source) for source in items]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(attempt, items))
