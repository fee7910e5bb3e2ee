"""Finding the digits of a number in a picture: ink blobs, the strokes that belong together, lines.

The ink is taken at a faint level joined to strong ink (ruling lines out, strokes they took given
back), labelled into blobs (specks, page-edge junk and wedges of table in a corner dropped), the
broken strokes of one digit grouped, and the digits ordered left to right, lines top to bottom.
Touching digits are still one blob here: :mod:`hdr.imaging.segment` cuts them.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from hdr.imaging.ink import INK_LEVEL, edge_junk, hysteresis, ink_map
from hdr.imaging.lines import remove_lines

INK_LOW = 0.3  # faint ink joined to strong ink (see hysteresis) still belongs to the digit
MIN_SPECK_PIXELS = 4  # ink blobs smaller than this are noise, whatever the picture
SPECK_FRACTION = 0.02  # ... and so are blobs smaller than this share of the largest blob
BORDER_HUG = 0.5  # a blob touching a border along this share of its own extent there is not writing
MIN_DIGIT_HEIGHT = 0.35  # digits are at least this share of the tallest digit's height (drops dots, dashes)
MIN_DIGIT_PIXELS = 6  # ... and at least this many pixels tall at the working size
FRAGMENT_HEIGHT = 0.8  # a blob at most this share of its neighbour's height may be a broken-off stroke ...
FRAGMENT_OVERLAP = 0.5  # ... when it overlaps the neighbour horizontally by this share of its own width ...
FRAGMENT_GAP = 0.5  # ... and lies within this share of the taller blob's height above or below it
ATTACH_GAP = 0.1  # smaller blobs this close (share of the digit's height) are strokes of that digit
LINE_OVERLAP = 0.5  # digits on one line overlap vertically by this share of the shorter one
LINE_DEPTH_PERCENTILE = 90  # of the removed ink, this share is no deeper than the centre of a ruling line
STROKE_OVER_LINE = 1.5  # removed ink this many times thicker than the lines is a stroke, given back


@dataclass(frozen=True)
class Blob:
    """A candidate digit: its box and pixels at the working size."""

    box: tuple[int, int, int, int]  # x, y, w, h
    mask: np.ndarray  # bool (h, w), the digit's ink inside the box

    @property
    def aspect(self) -> float:
        """Width over height."""
        return self.box[2] / max(self.box[3], 1)


def find_digits(gray: np.ndarray) -> tuple[np.ndarray, list[list[Blob]]]:
    """Finds the digits in a working-size picture.

    Args:
        gray: ``float32 (H, W)`` in [0, 1].

    Returns:
        ``(ink, lines)``: the ink map ``float32 (H, W)`` and the digits as lines of blobs
        (touching digits still joined; see :func:`hdr.imaging.segment.candidate_pieces`).
    """
    ink, has_contrast = ink_map(gray)
    if not has_contrast:
        return ink, []
    weak = ink >= INK_LOW
    weak = restore_strokes(weak, remove_lines(weak))
    mask = hysteresis(weak, ink >= INK_LEVEL)
    return ink, order_lines(group_blobs(find_blobs(mask)))


def restore_strokes(mask: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """Gives back the strokes that ruling-line removal took along with the lines.

    A stroke running along a line, or close beside one, can be taken for part of it. Strokes are
    thicker than the lines of the paper: whatever of the removed ink is thicker than
    :data:`STROKE_OVER_LINE` times the lines is kept.

    Args:
        mask: ``bool (H, W)`` ink with the lines.
        kept: ``bool (H, W)``, the same with the lines removed (:func:`hdr.imaging.lines.remove_lines`).

    Returns:
        ``bool (H, W)``: ``kept`` and the thick parts of what was removed.
    """
    removed = mask & ~kept
    if not removed.any():
        return kept
    # Half the thickness of the lines: the depth of their centres, most of what was removed being line.
    depth = cv2.distanceTransform(removed.astype(np.uint8), cv2.DIST_L2, 3)
    half = float(np.percentile(depth[removed], LINE_DEPTH_PERCENTILE))
    side = max(3, _odd_ceil(STROKE_OVER_LINE * 2 * half))
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (side, side))
    thick = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, disk).astype(bool)  # no line fits the disk
    return kept | (removed & thick)


def _odd_ceil(value: float) -> int:
    """The smallest odd integer at least ``value``."""
    n = int(np.ceil(value))
    return n if n % 2 else n + 1


def find_blobs(mask: np.ndarray) -> list[Blob]:
    """Labels the ink and keeps the blobs that may be (part of) a digit.

    Args:
        mask: ``bool (H, W)`` ink, ruling lines already removed.

    Returns:
        Blobs, specks and page-edge junk dropped.
    """
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if n <= 1:
        return []
    junk = edge_junk(labels, stats) | hugs_border(labels, stats)
    areas = stats[:, cv2.CC_STAT_AREA]
    largest = max((areas[i] for i in range(1, n) if not junk[i]), default=0)
    blobs = []
    for i in range(1, n):
        if junk[i] or areas[i] < max(MIN_SPECK_PIXELS, SPECK_FRACTION * largest):
            continue
        x, y, w, h = (int(v) for v in stats[i, :4])
        blobs.append(Blob((x, y, w, h), labels[y : y + h, x : x + w] == i))
    return blobs


def hugs_border(labels: np.ndarray, stats: np.ndarray) -> np.ndarray:
    """Which ink blobs lie along a border of the picture: the table or a shadow seen in a corner.

    Writing touches a border at a stroke's end; a wedge of table past a tilted page runs along it,
    for at least :data:`BORDER_HUG` of the blob's own extent on that side and further than the
    blob reaches into the picture.

    Args:
        labels: ``int32 (H, W)`` blob labels, 0 for the background.
        stats: ``int32 (count, 5)`` their stats, as ``cv2.connectedComponentsWithStats`` returns.

    Returns:
        ``bool (count,)``: True for blobs along a border (never label 0).
    """
    count = len(stats)
    w, h = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    hugs = np.zeros(count, bool)
    for side, along, across in (
        (labels[0, :], w, h),
        (labels[-1, :], w, h),
        (labels[:, 0], h, w),
        (labels[:, -1], h, w),
    ):
        contact = np.bincount(side, minlength=count)[:count]
        hugs |= (contact >= BORDER_HUG * along) & (contact >= across)
    hugs[0] = False
    return hugs


def group_blobs(blobs: list[Blob]) -> list[Blob]:
    """Joins the broken strokes of each digit, then drops what is too small to be a digit.

    Args:
        blobs: Candidate blobs from :func:`find_blobs`.

    Returns:
        One blob per digit (touching digits still joined; see :func:`hdr.imaging.segment.candidate_pieces`).
    """
    groups = list(blobs)
    merged = True
    while merged:
        merged = False
        for i in range(len(groups)):
            for j in range(i + 1, len(groups)):
                if _are_fragments(groups[i], groups[j]):
                    groups[i] = _merge(groups[i], groups[j])
                    del groups[j]
                    merged = True
                    break
            if merged:
                break
    if not groups:
        return []
    tallest = max(g.box[3] for g in groups)
    least = max(MIN_DIGIT_PIXELS, MIN_DIGIT_HEIGHT * tallest)
    digits = [g for g in groups if g.box[3] >= least]
    for small in (g for g in groups if g.box[3] < least):
        # A stroke tip cut off by the threshold joins the digit right beside it; anything else is a speck.
        near = [i for i, d in enumerate(digits) if _gap(small, d) <= ATTACH_GAP * d.box[3]]
        if near:
            i = min(near, key=lambda i: _gap(small, digits[i]))
            digits[i] = _merge(digits[i], small)
    return digits


def _merge(a: Blob, b: Blob) -> Blob:
    """One blob holding the ink of both."""
    ax, ay, aw, ah = a.box
    bx, by, bw, bh = b.box
    x, y = min(ax, bx), min(ay, by)
    w, h = max(ax + aw, bx + bw) - x, max(ay + ah, by + bh) - y
    mask = np.zeros((h, w), bool)
    mask[ay - y : ay - y + ah, ax - x : ax - x + aw] |= a.mask
    mask[by - y : by - y + bh, bx - x : bx - x + bw] |= b.mask
    return Blob((x, y, w, h), mask)


def _are_fragments(a: Blob, b: Blob) -> bool:
    """True when the smaller blob is a broken-off stroke of the larger (stacked, overlapping in x)."""
    ax, ay, aw, ah = a.box
    bx, by, bw, bh = b.box
    overlap_x = min(ax + aw, bx + bw) - max(ax, bx)
    gap_y = max(ay, by) - min(ay + ah, by + bh)  # negative when they overlap vertically
    small, tall = sorted((ah, bh))
    return (
        overlap_x >= FRAGMENT_OVERLAP * min(aw, bw) and small <= FRAGMENT_HEIGHT * tall and gap_y <= FRAGMENT_GAP * tall
    )


def _gap(a: Blob, b: Blob) -> float:
    """The distance between two boxes (0 when they overlap)."""
    ax, ay, aw, ah = a.box
    bx, by, bw, bh = b.box
    dx = max(0, max(ax, bx) - min(ax + aw, bx + bw))
    dy = max(0, max(ay, by) - min(ay + ah, by + bh))
    return float(np.hypot(dx, dy))


def order_lines(groups: list[Blob]) -> list[list[Blob]]:
    """Groups digits into lines, top to bottom, each ordered left to right.

    Args:
        groups: One blob per digit.

    Returns:
        Lines of blobs.
    """
    lines: list[list[Blob]] = []
    for g in sorted(groups, key=lambda b: b.box[1] + b.box[3] / 2):
        _, y, _, h = g.box
        for line in lines:
            top = min(b.box[1] for b in line)
            bottom = max(b.box[1] + b.box[3] for b in line)
            if min(bottom, y + h) - max(top, y) >= LINE_OVERLAP * min(h, bottom - top):
                line.append(g)
                break
        else:
            lines.append([g])
    return [sorted(line, key=lambda b: b.box[0]) for line in lines]
