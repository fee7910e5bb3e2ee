"""Ink analysis: what in a picture is ink, which of it is the writing, and how wide its strokes are.

The paper and its light are estimated and taken away (:func:`ink_map`), ruling and grid lines
(:func:`remove_lines`), page edges and shadows along the border (:func:`edge_junk`) and specks are
told from writing, and the digit is found in the strong ink, then grown into the faint ink joined
to it (:func:`digit_mask`), so pencil and grey, blurred scans stay whole.
"""

from __future__ import annotations

import cv2
import numpy as np

from hdr.imaging.lines import LINE_SPAN, remove_lines
from hdr.settings import IMAGE_SIZE, MIN_PHOTO_SIDE

MIN_CONTRAST = 0.10  # ink must differ from the background by this much (of the full range) ...
MAX_CONTRAST_FLOOR = 0.15  # ... or, on a noisy background, up to this much: ...
NOISE_SIGMAS = 6  # ... as many robust standard deviations above the background's typical level
NOISE_SAMPLES = 16_384  # pixels sampled to measure that level and spread (a photo's map has millions)
INK_LEVEL = 0.5  # strong ink: at least half as dark (or light) as the strongest ink; every stroke has some
FAINT_INK = 0.2  # faint ink, kept when it joins strong ink: pencil, a light pen, a blurred or grey scan, ...
STROKE_SHARE = 0.5  # ... and is at least this share of the strokes' width thick (paper lines are thinner)
MIN_INK_FRACTION = 3e-4  # less ink than this share of the picture counts as blank
MIN_INK_PIXELS = 3
SPECK_FRACTION = 0.05  # ink blobs smaller than this share of the largest one are specks
BACKGROUND_SIDE = 128  # paper and light vary slowly: estimate them on a copy this small (longest side)
BACKGROUND_KERNEL = 0.25  # closing width, share of the longest side: wider than any stroke of a digit
POLARITY_WINDOW = 0.25  # local median window for telling dark ink from light, share of the longest side
POLARITY_SAMPLES = 65_536  # grey levels sampled to tell dark ink from light
SKEW_TOLERANCE = 0.001  # a smaller gap between mean and median grey says nothing about the ink
MIN_BACKGROUND = 0.05  # darker backgrounds count as this bright (no division by black)
INK_STRENGTH_PERCENTILE = 99  # the strong ink, among pixels that stand out, scales the ink map to 1
FLAT_TOLERANCE = 0.02  # grey levels this close to the median are the background when it is flat ...
FLAT_BORDER = 0.95  # ... which it is when this share of the picture's border ...
FLAT_SHARE = 0.5  # ... and this share of the whole picture is at that level (canvases, clean scans)
EDGE_CONTACT = 0.6  # ink covering this share of a border is a page edge or shadow, not writing, ...
EDGE_SLIVER = 0.15  # ... and so is ink along a border, this share of it long ...
EDGE_SLIVER_RATIO = 3  # ... and this many times longer than wide (the table seen past a tilted page)


def ink_map(gray: np.ndarray) -> tuple[np.ndarray, bool]:
    """Separates the ink from the background and returns the ink as high values.

    The background (paper and light) is estimated locally, so tinted paper, uneven light and
    shadows come out as plain background: each pixel's ink is how much darker (or lighter) it is
    than the background around it, relative to that background. Whether the ink is dark (pen on
    paper, a black-on-white drawing) or light (chalk on a board, a white-on-black canvas) is
    decided by the skew of the departures from the local median grey. A flat background (a canvas,
    a clean scan) skips that estimate: the ink is measured against its one grey level, which gives
    the same map for less work. A small scan or a tight crop of one digit (under
    ``MIN_PHOTO_SIDE`` a side) reads its paper on its border instead (:func:`_paper_is_dark`).

    Args:
        gray: ``float32 (H, W)`` in [0, 1].

    Returns:
        ``(ink, has_contrast)``: ink ``float32 (H, W)`` in [0, 1] scaled so the strong ink is 1,
        and False when nothing stands out from the background.
    """
    flat = _flat_background(gray)
    if flat is None and min(gray.shape) < MIN_PHOTO_SIDE:  # a small scan or a tight crop: paper all around
        paper = float(np.median(_border(gray)))
        if _paper_is_dark(gray, paper):  # from here on the ink is dark
            gray, paper = 1.0 - gray, 1.0 - paper
        if min(gray.shape) < IMAGE_SIZE:  # smaller than MNIST's scans: the paper is one level
            return _ink_against(gray, np.float32(paper))
        return _ink_against(gray, _background(gray, gray.shape))
    if flat is None:
        small = _shrink(gray, BACKGROUND_SIDE)
        if _ink_is_light(gray, small):  # from here on the ink is dark
            gray, small = 1.0 - gray, 1.0 - small
        return _ink_against(gray, _background(small, gray.shape))
    # A canvas or a clean scan: the ink is whatever departs from that one level, and only the
    # box around it needs the work (everything outside it is exactly background, ink 0).
    off = gray != flat
    rows, cols = np.flatnonzero(off.any(axis=1)), np.flatnonzero(off.any(axis=0))
    if rows.size == 0:
        return np.zeros_like(gray, dtype=np.float32), False
    margin = 2  # the 3x3 smoothing sees plain background around the box, as it would in the whole
    box = (
        slice(max(0, rows[0] - margin), rows[-1] + margin + 1),
        slice(max(0, cols[0] - margin), cols[-1] + margin + 1),
    )
    part = gray[box]
    if float((part - flat).mean()) > 0:  # light ink (white on black): from here on the ink is dark
        part, flat = 1.0 - part, 1.0 - flat
    ink, found = _ink_against(part, np.float32(flat))
    full = np.zeros(gray.shape, np.float32)
    full[box] = ink
    return full, found


def _border(gray: np.ndarray) -> np.ndarray:
    """The picture's outermost pixels, ``(2 * (H + W) - 4,)``."""
    return np.concatenate([gray[0], gray[-1], gray[1:-1, 0], gray[1:-1, -1]])


def _paper_is_dark(gray: np.ndarray, paper: float) -> bool:
    """For a small scan or tight crop of one digit: True when its paper is the dark end (light ink).

    The paper is read on the picture's border, which the digit touches at a few points at most.
    A bold or blurred digit may cover most of such a picture, which fools the median and the skew
    of the grey levels that tell the paper from the ink in a photo (:func:`_ink_is_light`).
    """
    return paper - float(gray.min()) < float(gray.max()) - paper


def _ink_against(gray: np.ndarray, background: np.ndarray | np.float32) -> tuple[np.ndarray, bool]:
    """The ink map of dark ink on a known background (see :func:`ink_map`)."""
    ink = (background - gray) / np.maximum(background, MIN_BACKGROUND)
    ink = np.clip(ink, 0.0, 1.0)
    smooth = cv2.blur(ink, (3, 3)) if min(ink.shape) >= 3 else ink  # lone noisy pixels are not ink
    floor = _contrast_floor(smooth)
    candidates = smooth[smooth >= floor]
    if candidates.size == 0:
        return np.zeros_like(gray, dtype=np.float32), False
    # The typical strength of the ink rather than its extreme: one very dark blot (a shadowed
    # page edge) must not make a faint pencil digit look like background.
    strength = max(float(np.percentile(candidates, INK_STRENGTH_PERCENTILE)), floor)
    return np.clip(ink / strength, 0.0, 1.0).astype(np.float32), True


def _contrast_floor(smooth: np.ndarray) -> float:
    """How far from the background ink must stand out: above the background's own noise.

    A clean scan or a canvas has almost none, so a faint pencil digit or a grey low-resolution
    scan (ink 10-15% darker than the paper) is still ink; grainy or textured paper raises the
    floor (median + :data:`NOISE_SIGMAS` robust deviations of the map, most of which is background),
    never above :data:`MAX_CONTRAST_FLOOR`, so a blank noisy picture stays blank.
    """
    step = max(1, int(np.sqrt(smooth.size / NOISE_SAMPLES)))
    sample = smooth[::step, ::step]
    median = float(np.median(sample))
    spread = 1.4826 * float(np.median(np.abs(sample - median)))  # a normal distribution's sigma
    return float(np.clip(median + NOISE_SIGMAS * spread, MIN_CONTRAST, MAX_CONTRAST_FLOOR))


def _flat_background(gray: np.ndarray) -> float | None:
    """The background's grey level when it is one flat level (a canvas, a clean scan), else None.

    Flat means nearly all of the picture's border and at least half of the picture lie within
    :data:`FLAT_TOLERANCE` of the median grey. Photos, with their uneven light and grain, are not
    flat; they need the local background estimate of :func:`ink_map`.
    """
    if min(gray.shape) < 3:
        return None
    level = float(np.median(gray[:: max(1, gray.shape[0] // 64), :: max(1, gray.shape[1] // 64)]))
    border = _border(gray)
    if np.mean(np.abs(border - level) <= FLAT_TOLERANCE) < FLAT_BORDER:
        return None
    if np.count_nonzero(np.abs(gray - level) <= FLAT_TOLERANCE) < FLAT_SHARE * gray.size:
        return None
    return level


def _shrink(gray: np.ndarray, side: int) -> np.ndarray:
    """Reduces a picture so its longest side is at most ``side`` pixels (area averaging)."""
    height, width = gray.shape
    factor = side / max(height, width)
    if factor >= 1.0:
        return gray
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA)


def odd_size(n: float) -> int:
    """The odd integer >= 1 nearest below ``n`` (kernel sizes)."""
    return max(1, int(n) | 1)


def _ink_is_light(gray: np.ndarray, small: np.ndarray) -> bool:
    """True when the ink is lighter than the background (chalk on a board, white on black).

    Ink is the minority that departs from the background, so it makes the long tail of the grey
    levels: the mean lies on the ink's side of the median. Dark is the default (paper photos);
    light ink must make the tail both of the grey levels and of their departures from a local
    median. The grey levels are sampled, not averaged down, so fine ruling keeps its contrast.

    Args:
        gray: ``float32 (H, W)`` picture.
        small: The same reduced by :func:`_shrink`.
    """
    step = max(1, int(np.sqrt(gray.size / POLARITY_SAMPLES)))
    sample = gray[::step, ::step]
    if abs(_skew(sample)) <= SKEW_TOLERANCE:  # no ink to speak of: the background decides
        return float(np.median(sample)) < 0.5
    if _skew(sample) < 0:
        return False
    if min(small.shape) < 3:
        return True
    # Light ink must also stand out against its surroundings: a bright patch of paper beside a
    # large shadow skews the grey levels the same way, but not the departures from the local median.
    size = min(odd_size(POLARITY_WINDOW * max(small.shape)), 255)
    local = cv2.medianBlur(np.round(small * 255).astype(np.uint8), size).astype(np.float32) / 255
    local = cv2.resize(local, (gray.shape[1], gray.shape[0]), interpolation=cv2.INTER_LINEAR)
    return _skew(sample - local[::step, ::step]) > 0


def _skew(values: np.ndarray) -> float:
    """Mean minus median: positive when the long tail is on the light side."""
    return float(values.mean()) - float(np.median(values))


def _background(small: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The brightness of the paper under dark ink, at full size.

    A morphological closing wider than any stroke fills the ink in with the paper around it while
    keeping the edges of shadows, then a blur smooths it; both on a small copy, for speed.

    Args:
        small: ``float32 (h, w)`` reduced picture, ink dark.
        shape: ``(H, W)`` of the full picture.
    """
    size = odd_size(BACKGROUND_KERNEL * max(small.shape))
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (size, size))
    closed = cv2.morphologyEx(small, cv2.MORPH_CLOSE, kernel)
    closed = cv2.blur(closed, (size // 2 + 1, size // 2 + 1))
    closed = np.maximum(closed, small)  # the paper is never darker than what is seen
    return cv2.resize(closed, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)


def digit_mask(ink: np.ndarray) -> np.ndarray | None:
    """The ink pixels of the digit, faint ones included, without ruling lines, page-edge junk and specks.

    The digit is found in the strong ink (lines, page edges and specks dropped there), then grown
    into the faint ink joined to it, so a stroke that fades (pencil, a pen running dry, a blurred
    or grey scan) stays whole. Faint ruling and grid lines are removed as lines, and only faint ink
    as thick as the strokes counts, so the lines of ruled or squared paper that touch the digit
    stay out. None when blank.
    """
    strong = _strong_digit_mask(ink)
    if strong is None:
        return None
    # Faint ink that belongs to the digit lies near its strong ink: grow within a window around it.
    x, y, w, h = cv2.boundingRect(strong.astype(np.uint8))
    reach = max(w, h) // 2 + 2
    window = (slice(max(0, y - reach), y + h + reach), slice(max(0, x - reach), x + w + reach))
    faint = ink >= FAINT_INK
    if _inner_box(faint) is None:  # faint ruling lines as thick as the strokes: found as lines
        faint = remove_lines(faint)
    faint, core = faint[window], strong[window]
    thinner = int(STROKE_SHARE * stroke_width(core))  # faint ink this much thinner than the strokes is a line
    if thinner >= 2:
        faint = cv2.morphologyEx(faint.astype(np.uint8), cv2.MORPH_OPEN, np.ones((thinner, thinner), np.uint8))
    grown = np.zeros_like(strong)
    grown[window] = hysteresis(faint.astype(bool) | core, core)
    return grown


def hysteresis(weak: np.ndarray, strong: np.ndarray) -> np.ndarray:
    """The weak ink that is connected to strong ink.

    Thin or faint stretches of a stroke keep the strokes of a digit together, while faint
    smudges on their own are not ink.

    Args:
        weak: ``bool (H, W)`` ink at a low threshold.
        strong: ``bool (H, W)`` ink at a high threshold.

    Returns:
        ``bool (H, W)``.
    """
    n, labels = cv2.connectedComponents(weak.astype(np.uint8), connectivity=8)
    keep = np.zeros(n, bool)
    keep[labels[strong & weak]] = True
    keep[0] = False
    return keep[labels]


def _strong_digit_mask(ink: np.ndarray) -> np.ndarray | None:
    """The strong ink pixels of the digit with ruling lines, page-edge junk and specks dropped, or None when blank."""
    mask = ink >= INK_LEVEL
    box = _inner_box(mask)
    if box is None:  # ink reaches the border or spans the picture: there may be lines and page edges
        mask = remove_lines(mask)
    if np.count_nonzero(mask) < max(MIN_INK_PIXELS, MIN_INK_FRACTION * mask.size):
        return None
    n, labels, stats, _ = cv2.connectedComponentsWithStats(
        (mask if box is None else mask[box]).astype(np.uint8), connectivity=8
    )
    areas = stats[1:, cv2.CC_STAT_AREA]
    if box is None:
        areas = np.where(edge_junk(labels, stats)[1:], 0, areas)
    if areas.max() == 0:
        return None
    keep = np.concatenate([[False], areas >= SPECK_FRACTION * areas.max()])
    if box is None:
        return keep[labels]
    result = np.zeros(mask.shape, bool)
    result[box] = keep[labels]
    return result


def _inner_box(mask: np.ndarray) -> tuple[slice, slice] | None:
    """The box around the ink when it neither touches the border nor spans most of the picture.

    Such ink holds no ruling line (:func:`remove_lines`) and no page edge (:func:`edge_junk`), so
    only its box needs looking at (a canvas drawing, a cropped digit). None otherwise, or when blank.
    """
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    height, width = mask.shape
    if rows.size == 0 or rows[0] == 0 or cols[0] == 0 or rows[-1] == height - 1 or cols[-1] == width - 1:
        return None
    if rows[-1] - rows[0] + 1 >= LINE_SPAN * height or cols[-1] - cols[0] + 1 >= LINE_SPAN * width:
        return None
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def edge_junk(labels: np.ndarray, stats: np.ndarray) -> np.ndarray:
    """Which ink blobs are page edges, the table around the page or shadows rather than writing.

    Writing may touch the border of a picture at a few pixels; the table beside a page, or a
    shadow falling in from outside, lies along it: it covers much of a border, or is a sliver
    running along one.

    Args:
        labels: ``int32 (H, W)`` blob labels, 0 for the background.
        stats: ``int32 (count, 5)`` their stats, as ``cv2.connectedComponentsWithStats`` returns.

    Returns:
        ``bool (count,)``: True for junk blobs (never label 0).
    """
    count = len(stats)
    if min(labels.shape) < MIN_PHOTO_SIDE:
        return np.zeros(count, bool)
    height, width = labels.shape
    contact = np.zeros(count, np.float64)
    for side in (labels[0, :], labels[-1, :], labels[:, 0], labels[:, -1]):
        contact = np.maximum(contact, np.bincount(side.ravel(), minlength=count)[:count] / side.size)
    x, y, w, h = (stats[:, i] for i in range(4))
    at_side = (x == 0) | (x + w == width)
    at_end = (y == 0) | (y + h == height)
    sliver = (at_side & (h >= EDGE_SLIVER * height) & (h >= EDGE_SLIVER_RATIO * w)) | (
        at_end & (w >= EDGE_SLIVER * width) & (w >= EDGE_SLIVER_RATIO * h)
    )
    junk = (contact >= EDGE_CONTACT) | sliver
    junk[0] = False
    return junk


def stroke_width(mask: np.ndarray) -> float:
    """The mean stroke width of a shape, ``bool (h, w)``: twice its area over its perimeter."""
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    perimeter = sum(cv2.arcLength(c, True) for c in contours)
    return 2.0 * float(mask.sum()) / max(perimeter, 1.0)
