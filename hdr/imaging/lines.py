"""Ruling and grid lines: the long, thin, straight lines of notebook and squared paper.

They are found in an ink mask as thin runs that cross most of the picture, and taken out so that
only the writing is left; strokes they crossed are mended.
"""

from __future__ import annotations

import cv2
import numpy as np

from hdr.settings import MIN_PHOTO_SIDE

LINE_KERNEL = 1 / 30  # ruling lines are found as runs at least this share of the width ...
LINE_MIN_KERNEL = 12  # ... and at least this many pixels
LINE_SLANT = 2  # pixels of vertical tolerance, so lines slanted by perspective still count
LINE_GAP = 0.3  # pieces of a line with gaps up to this share of the width (digits on it) are one line
LINE_SPAN = 0.8  # a ruling line crosses at least this share of the picture
LINE_THICKNESS = 0.012  # ... and is at most this share of the short side thick ...
LINE_MIN_THICKNESS = 3  # ... or this many pixels


def remove_lines(mask: np.ndarray) -> np.ndarray:
    """Removes long straight ruling and grid lines (notebook paper) from an ink mask.

    A line is a thin, nearly straight run of ink that crosses most of the picture: horizontal
    ones always count, vertical ones only when there are several (squared paper), so that a
    single tall "1" survives. Strokes that cross a removed line are mended. Nothing is removed
    when nothing else would be left: then the "line" is the drawing.

    Args:
        mask: ``bool (H, W)`` ink mask.

    Returns:
        ``bool (H, W)``, the mask without the lines.
    """
    mask = mask.astype(bool)
    lines = _line_mask(mask, min_lines=1) | _line_mask(mask.T, min_lines=2).T
    if not lines.any():
        return mask
    kept = mask & ~lines
    if not kept.any():
        return mask
    # Mend the strokes the removal cut: fill a removed pixel when ink lies just above and below.
    band = 2 * int(np.ceil(_max_line_thickness(mask.shape))) + 1
    vertical = cv2.morphologyEx(kept.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((band, 1), np.uint8)).astype(bool)
    horizontal = cv2.morphologyEx(kept.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((1, band), np.uint8)).astype(bool)
    return kept | (mask & lines & (vertical | horizontal))


def _line_mask(mask: np.ndarray, min_lines: int) -> np.ndarray:
    """The pixels of long thin horizontal lines in ``mask`` (bool (H, W)), or none."""
    height, width = mask.shape
    length = max(LINE_MIN_KERNEL, round(width * LINE_KERNEL))
    if min(height, width) < MIN_PHOTO_SIDE:
        return np.zeros_like(mask)
    columns = np.flatnonzero(mask.any(axis=0))
    if columns.size == 0 or columns[-1] - columns[0] + 1 < LINE_SPAN * width:
        return np.zeros_like(mask)  # nothing crosses enough of the picture to be a line
    # Thicken vertically first so that slightly slanted lines (perspective) survive the opening.
    grown = cv2.dilate(mask.astype(np.uint8), np.ones((2 * LINE_SLANT + 1, 1), np.uint8))
    runs = cv2.morphologyEx(grown, cv2.MORPH_OPEN, np.ones((1, length), np.uint8))
    # Where a line crosses the body of a digit the run is thick: leave that to the digit.
    thickness = int(np.ceil(_max_line_thickness(mask.shape)))
    runs &= ~cv2.morphologyEx(runs, cv2.MORPH_OPEN, np.ones((thickness + 1, 1), np.uint8))
    gap = max(length, round(width * LINE_GAP))
    joined = cv2.dilate(runs, np.ones((1, gap), np.uint8))  # join the pieces of a line across digits
    n, labels, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    # The dilation widened each line by gap - 1, except where the picture's border clipped it.
    left, right = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_LEFT] + stats[:, cv2.CC_STAT_WIDTH]
    span = (
        stats[:, cv2.CC_STAT_WIDTH]
        - (gap - 1)
        + np.where(left == 0, gap // 2, 0)
        + np.where(right == width, (gap - 1) // 2, 0)
    )
    area = np.bincount(labels[runs > 0], minlength=n)
    is_line = (span >= LINE_SPAN * width) & (area <= thickness * np.maximum(span, 1))
    keep = np.flatnonzero(is_line[1:]) + 1
    if len(keep) < min_lines:
        return np.zeros_like(mask)
    line = np.isin(labels, keep) & (runs > 0) if len(keep) < n - 1 else runs > 0
    return cv2.dilate(line.astype(np.uint8), np.ones((2 * LINE_SLANT + 1, 1), np.uint8)).astype(bool) & mask


def _max_line_thickness(shape: tuple[int, int]) -> float:
    """The thickest a ruling line can be in a mask of this shape, slant tolerance included."""
    return max(LINE_MIN_THICKNESS, LINE_THICKNESS * min(shape)) + 2 * LINE_SLANT
