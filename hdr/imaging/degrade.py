"""Real-world damage to a clean digit: low resolution, blur, faint or uneven ink, gaps, pens, noise.

People do not write like MNIST's scanner saw them. A phone photo of pencil is faint and uneven,
a small scan is blurred and low in resolution, a marker is thick, a cheap pen skips. This
module turns an MNIST digit into such a picture, one named condition at a time, so the
robustness benchmark (``bench/robustness.py``), the tests and training-time augmentation all
draw on the same, single definition of each kind of damage.

Pictures are what a person would hand the app: ``uint8 (H, W)`` grey, dark ink on light paper
(or light ink on a dark board), never pre-processed. Everything random comes from the
``numpy.random.Generator`` passed in: the same seed gives the same pictures.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import cv2
import numpy as np
from PIL import Image

PAPER = 245  # grey level of scanned paper: never quite white
PAPER_NOISE = 2.0  # standard deviation of the scanner's grain, grey levels
BOARD, CHALK = 45, 225  # a dark board and light chalk
LARGE_SIDE = 224  # a whole page around a small digit, pixels
UPSCALE = 4  # pens are drawn on a 4x finer grid (112 px), where 1 px is a quarter of an MNIST pixel

Condition = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def _unit(digit: np.ndarray) -> np.ndarray:
    """An MNIST digit ``uint8 (h, w)`` as ink ``float32`` in [0, 1]."""
    return digit.astype(np.float32) / 255.0


def on_paper(ink: np.ndarray, rng: np.random.Generator, depth: float | np.ndarray = 1.0) -> np.ndarray:
    """Ink ``float32 (h, w)`` in [0, 1] printed as dark strokes on grainy paper, ``uint8 (h, w)``.

    Args:
        ink: How much ink covers each pixel.
        rng: Random generator (the paper's grain).
        depth: How dark full ink is, as a share of the paper's brightness (1 = black), per pixel or overall.
    """
    grey = PAPER * (1.0 - np.clip(ink * depth, 0.0, 1.0)) + rng.normal(0.0, PAPER_NOISE, ink.shape)
    return np.clip(np.round(grey), 0, 255).astype(np.uint8)


def _ink_box(ink: np.ndarray) -> np.ndarray | None:
    """The part of ``ink`` inside the box of its pixels above 10%; None when there are none."""
    ys, xs = np.nonzero(ink > 0.1)
    return ink[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1] if len(ys) else None


def _resize(image: np.ndarray, side: int, interpolation: int) -> np.ndarray:
    """A square image resized to ``side`` x ``side``."""
    return cv2.resize(image, (side, side), interpolation=interpolation)


def _rescan(paper: np.ndarray, side: int, interpolation: int) -> np.ndarray:
    """A square picture scanned at ``side`` pixels (area averaging), then scaled back to its size
    with ``interpolation``: ``uint8``, the shape of ``paper``."""
    small = _resize(paper.astype(np.float32), side, cv2.INTER_AREA)
    return np.clip(np.round(_resize(small, paper.shape[0], interpolation)), 0, 255).astype(np.uint8)


def low_resolution(side: int, interpolation: int) -> Condition:
    """Scanned at ``side`` pixels (area averaging), then scaled back up to 28 with ``interpolation``."""

    def condition(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return _rescan(on_paper(_unit(digit), rng), side, interpolation)

    return condition


def blurred(sigma: float) -> Condition:
    """Out of focus: a Gaussian blur of ``sigma`` MNIST pixels."""

    def condition(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return on_paper(cv2.GaussianBlur(_unit(digit), (0, 0), sigma), rng)

    return condition


def faint(depth: float) -> Condition:
    """A light pen or a weak scan: full ink reaches only ``depth`` of black."""

    def condition(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return on_paper(_unit(digit), rng, depth)

    return condition


def smooth_field(
    shape: tuple[int, int], rng: np.random.Generator, low: float, high: float, cells: int = 4
) -> np.ndarray:
    """A smooth random field ``float32 shape`` between ``low`` and ``high``: ``cells`` bumps across a side."""
    coarse = rng.uniform(low, high, (cells, cells)).astype(np.float32)
    return cv2.resize(coarse, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC).clip(low, high)


def pencil(low: float) -> Condition:
    """Pencil: darkness that wanders along the stroke between ``low`` and full, with graphite grain."""

    def condition(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        depth = smooth_field(digit.shape, rng, low, 1.0) * rng.uniform(0.75, 1.0, digit.shape)
        return on_paper(_unit(digit), rng, depth.astype(np.float32))

    return condition


def half_faint(depth: float) -> Condition:
    """One side of the digit (left or right half, blended) written at ``depth``, the other in full."""

    def condition(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        ramp = np.clip((np.arange(digit.shape[1]) - digit.shape[1] / 2) / 3 + 0.5, 0.0, 1.0)
        ramp = ramp if rng.random() < 0.5 else ramp[::-1]
        return on_paper(_unit(digit), rng, (1.0 - (1.0 - depth) * ramp)[None, :].astype(np.float32))

    return condition


def broken(gaps: int) -> Condition:
    """A pen that skips: ``gaps`` small round gaps (1.5 MNIST pixels across) placed on the stroke."""

    def condition(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        big = _resize(_unit(digit), digit.shape[0] * UPSCALE, cv2.INTER_LINEAR)
        ys, xs = np.nonzero(big > 0.5)
        for i in rng.choice(len(ys), size=min(gaps, len(ys)), replace=False) if len(ys) else []:
            cv2.circle(big, (int(xs[i]), int(ys[i])), int(0.75 * UPSCALE), 0.0, -1)
        return on_paper(_resize(big, digit.shape[0], cv2.INTER_AREA), rng)

    return condition


def pen_width(change: float) -> Condition:
    """A thicker (marker, ``change`` > 0) or thinner (fine pen, < 0) stroke, by ``change`` MNIST pixels a side."""

    def condition(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        big = _resize(_unit(digit), digit.shape[0] * UPSCALE, cv2.INTER_LINEAR)
        size = int(round(abs(change) * UPSCALE)) * 2 + 1
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
        big = cv2.dilate(big, kernel) if change > 0 else cv2.erode(big, kernel)
        return on_paper(_resize(big, digit.shape[0], cv2.INTER_AREA), rng)

    return condition


def light_on_dark(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Chalk on a board: light strokes on a dark, slightly grainy background."""
    grey = BOARD + (CHALK - BOARD) * _unit(digit) + rng.normal(0.0, PAPER_NOISE, digit.shape)
    return np.clip(np.round(grey), 0, 255).astype(np.uint8)


def salt_and_pepper(share: float) -> Condition:
    """Dust and dead pixels: ``share`` of the pixels turned black or white at random."""

    def condition(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        picture = on_paper(_unit(digit), rng)
        hit = rng.random(picture.shape) < share
        picture[hit] = np.where(rng.random(int(hit.sum())) < 0.5, 0, 255)
        return picture

    return condition


def jpeg(quality: int, scale: int = 2) -> Condition:
    """Saved as a JPEG of ``quality`` (heavy blocking), the digit ``scale`` times MNIST's size."""

    def condition(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        paper = on_paper(_resize(_unit(digit), digit.shape[0] * scale, cv2.INTER_LINEAR), rng)
        buffer = io.BytesIO()
        Image.fromarray(paper).save(buffer, format="JPEG", quality=quality)
        return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("L"))

    return condition


def small_in_large(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The digit at MNIST's own size somewhere on a page :data:`LARGE_SIDE` pixels wide."""
    page = np.zeros((LARGE_SIDE, LARGE_SIDE), np.float32)
    y, x = (int(v) for v in rng.integers(0, LARGE_SIDE - digit.shape[0], 2))
    page[y : y + digit.shape[0], x : x + digit.shape[1]] = _unit(digit)
    return on_paper(page, rng)


def clean(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The digit as it is, printed on paper."""
    return on_paper(_unit(digit), rng)


CONDITIONS: dict[str, Condition] = {
    "clean": clean,
    **{
        f"low-res {side} px, {name}": low_resolution(side, interpolation)
        for side in (8, 12, 16)
        for name, interpolation in (("bilinear", cv2.INTER_LINEAR), ("bicubic", cv2.INTER_CUBIC))
    },
    **{f"blur sigma {sigma}": blurred(sigma) for sigma in (1.0, 1.5, 2.0)},
    **{f"faint {round(depth * 100)}%": faint(depth) for depth in (0.3, 0.45, 0.6)},
    "pencil 30-100%": pencil(0.3),
    "half faint 35%": half_faint(0.35),
    **{f"broken, {gaps} gaps": broken(gaps) for gaps in (2, 4)},
    **{f"thick marker +{change} px": pen_width(change) for change in (1.0, 2.0)},
    "thin pen -0.75 px": pen_width(-0.75),
    "light ink on dark": light_on_dark,
    **{f"salt and pepper {round(share * 100)}%": salt_and_pepper(share) for share in (0.02, 0.05)},
    **{f"JPEG quality {quality}": jpeg(quality) for quality in (10, 20)},
    "small digit in a large picture": small_in_large,
}


BLOCK = 4  # a block scan counts the black pixels of each 4x4 cell of a black-and-white bitmap
MARGIN = 0.25  # white paper around an enlarged scan, as a share of its side


def block_scan(side: int, pen: int, threshold: float, enlarge: int | None, interpolation: int) -> Condition:
    """Scanned as the UCI set's forms were: the digit made black-and-white on a bitmap ``4 * side``
    pixels square (its longer side filling it, strokes widened by ``pen`` bitmap pixels a side, ink
    above ``threshold`` black), its black pixels counted in 4x4 blocks (17 grey steps at ``side``
    pixels), handed over at that size (``enlarge`` None) or enlarged to ``enlarge`` pixels with
    ``interpolation`` inside a white margin, as a small scan blown up by a viewer or a phone is."""

    def condition(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        box = _ink_box(_unit(digit))
        if box is None:
            return on_paper(np.zeros((side, side), np.float32), rng)
        bitmap_side = BLOCK * side
        scale = bitmap_side / max(box.shape)
        width, height = max(1, round(box.shape[1] * scale)), max(1, round(box.shape[0] * scale))
        fitted = cv2.resize(box, (width, height), interpolation=cv2.INTER_LINEAR) > threshold
        bitmap = np.zeros((bitmap_side, bitmap_side), np.uint8)
        top, left = (bitmap_side - height) // 2, (bitmap_side - width) // 2
        bitmap[top : top + height, left : left + width] = fitted
        if pen > 0:
            bitmap = cv2.dilate(bitmap, np.ones((3, 3), np.uint8), iterations=pen)
        counts = bitmap.reshape(side, BLOCK, side, BLOCK).sum(axis=(1, 3)) / float(BLOCK * BLOCK)
        scan = on_paper(counts.astype(np.float32), rng)
        if enlarge is None:
            return scan
        big = np.clip(np.round(_resize(scan.astype(np.float32), enlarge, interpolation)), 0, 255).astype(np.uint8)
        return np.pad(big, max(1, round(enlarge * MARGIN)), constant_values=PAPER)

    return condition


def grey_scan(depth: float, sigma: float, side: int) -> Condition:
    """Several kinds at once, as a real scan of faint writing has them: ink reaching ``depth`` of
    black, blurred by ``sigma`` MNIST pixels, scanned at ``side`` pixels and enlarged back (bilinear)."""

    def condition(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return _rescan(on_paper(cv2.GaussianBlur(_unit(digit), (0, 0), sigma), rng, depth), side, cv2.INTER_LINEAR)

    return condition


def bold_crop(side: int, light: bool) -> Condition:
    """A thick marker, blurred, cropped tight and scanned at ``side`` pixels: the digit covers much
    of its picture (``light``: light ink on a dark ground)."""

    def condition(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        thick = cv2.dilate(digit, np.ones((3, 3), np.uint8)).astype(np.float32)
        bold = np.clip(cv2.GaussianBlur(thick, (0, 0), 1.0) * 1.6, 0, 255).astype(np.uint8)
        picture = scanned_small(side, None)(bold, rng)
        return 255 - picture if light else picture

    return condition


# Combined damage: reported beside the single conditions, not in their mean (which the issue's
# bar and the shipped model's choice were set on).
COMBINED: dict[str, Condition] = {
    "grey scan: faint 45%, blur 1.0, 14 px": grey_scan(0.45, 1.0, 14),
    "pencil scan: faint 35%, blur 1.5, 12 px": grey_scan(0.35, 1.5, 12),
    "bold marker cropped tight, 16 px scan": bold_crop(16, light=False),
    "bold marker cropped tight, 16 px scan, light ink on dark": bold_crop(16, light=True),
}
# Block scans, as the UCI forms were scanned: reported after the combined rows (never in the
# mean), and kept apart from them, which the digit gate's validation set is drawn from.
BLOCK_SCANS: dict[str, Condition] = {
    "8x8 block scan": block_scan(8, 1, 0.4, None, cv2.INTER_LINEAR),
    "8x8 block scan enlarged to 64 px, bicubic": block_scan(8, 1, 0.4, 64, cv2.INTER_CUBIC),
}
_BY_NAME: dict[str, Condition] = {**CONDITIONS, **COMBINED, **BLOCK_SCANS}  # what degrade() looks names up in


def scanned_small(side: int, levels: int | None) -> Condition:
    """The digit scanned on its own at ``side`` pixels, its box filling the frame (as the UCI set's
    8x8 scans), ink counted in ``levels`` grey steps (``None``: smooth), handed over at that size."""

    def condition(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        ink = _unit(digit)
        box = _ink_box(ink)
        if box is None:
            return on_paper(ink, rng)
        square = np.zeros((max(box.shape),) * 2, np.float32)
        top, left = (square.shape[0] - box.shape[0]) // 2, (square.shape[1] - box.shape[1]) // 2
        square[top : top + box.shape[0], left : left + box.shape[1]] = box
        small = _resize(square, side, cv2.INTER_AREA)
        if levels is not None:
            small = np.round(small * levels) / levels
        return on_paper(small, rng)

    return condition


def degrade(digit: np.ndarray, condition: str, rng: np.random.Generator) -> np.ndarray:
    """One MNIST digit as a picture damaged the way ``condition`` names.

    Args:
        digit: ``uint8 (28, 28)``, ink 255 on 0, as MNIST stores it.
        condition: A key of :data:`CONDITIONS`, :data:`COMBINED` or :data:`BLOCK_SCANS`.
        rng: Random generator.

    Returns:
        ``uint8 (H, W)`` grey picture, as a scanner or camera would give it.

    Raises:
        KeyError: Unknown condition.
    """
    return _BY_NAME[condition](digit, rng)
