"""Cutting touching digits: where a blob may be cut, and which cuts the model reads best.

Cuts are proposed at the valleys of a blob's column ink profile (:func:`cut_columns`); every piece
between two cuts is classified, and :func:`best_segmentation` keeps, per blob, the pieces the model
reads best, a clean neck between two digits counting in favour of a cut.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from hdr.imaging.blobs import Blob
from hdr.imaging.ink import stroke_width

SINGLE_ASPECT = 1.15  # blobs at most this wide for their height may be one digit (the typical width)
NARROW_ASPECT = 0.4  # narrower blobs ("1") do not count when estimating the typical digit width
TRY_ASPECT = 0.6  # blobs at least this wide for their height may be touching digits (a "71" is ~0.6) ...
WIDE_FOR_PICTURE = 1.3  # ... and so may blobs this many typical digit widths wide
VALLEY_REACH = 0.1  # a cut column holds the least ink within this share of the height on either side
MIN_PIECE_ASPECT = 0.12  # a piece is at least this wide for the blob's height (a thin "1") ...
MAX_PIECE_ASPECT = 1.3  # ... at most this wide (MNIST: 99% of digits are narrower than 1.25) ...
MIN_PIECE_HEIGHT = 0.5  # ... at least this share of the blob's height (not a ligature or a bar's tip) ...
MAIN_PART = 0.7  # ... with this share of its ink in one connected part (a slice of a "0" is two arcs)
TALL_PIECE = 0.8  # pieces of touching digits are nearly as tall as the blob; shorter ones ...
SHORT_COST = 0.2  # ... cost this much log-probability (often a stroke cut off a digit)
CLEAN_INK = 2.0  # a cut through one stroke, less than this many stroke widths long, is a neck between digits ...
CLEAN_CUT_BONUS = 0.1  # ... and adds this much log-probability: cut there even when the whole reads well
CUT_COST = 0.0  # any other cut must win on the model's confidence alone (a tie keeps the whole)
MIN_CONFIDENCE = 1e-6  # confidences are floored here before taking logs


def typical_width(groups: list[Blob]) -> float | None:
    """The median width of the blobs shaped like one digit ("1"s aside), or None when there are none."""
    singles = [g.box[2] for g in groups if NARROW_ASPECT <= g.aspect <= SINGLE_ASPECT]
    return float(np.median(singles)) if singles else None


def cut_columns(blob: Blob) -> list[int]:
    """Columns of a blob where touching digits may be cut: the valleys of its column ink profile.

    Args:
        blob: One digit or a run of touching digits.

    Returns:
        Column offsets inside the blob, left to right, each leaving a piece at least
        :data:`MIN_PIECE_ASPECT` of the height wide on either side.
    """
    _, _, w, h = blob.box
    least = max(1, round(MIN_PIECE_ASPECT * h))
    if w < 2 * least:
        return []
    profile = blob.mask.sum(axis=0).astype(np.float32)
    reach = max(1, round(VALLEY_REACH * h))
    # A column is a valley when no column within reach holds less ink; a flat valley is cut in its middle.
    lowest = cv2.erode(profile[None, :], np.ones((1, 2 * reach + 1), np.uint8), borderType=cv2.BORDER_REPLICATE)[0]
    is_valley = profile <= lowest
    is_valley[:least] = is_valley[w - least + 1 :] = False
    columns: list[int] = []
    for run in np.split(np.flatnonzero(is_valley), np.flatnonzero(np.diff(np.flatnonzero(is_valley)) > 1) + 1):
        if not run.size:
            continue
        column = int(run[run.size // 2])
        if columns and column - columns[-1] < least:  # too close to leave a digit between: keep the lower
            if profile[column] < profile[columns[-1]]:
                columns[-1] = column
            continue
        columns.append(column)
    return columns


@dataclass(frozen=True)
class Candidates:
    """The ways one blob may be cut into digits: pieces between its bounds, and what each cut is worth."""

    pieces: dict[tuple[int, int], Blob]  # (i, j) -> the ink between bounds i < j; (0, last) is the whole blob
    cut_scores: list[float]  # per bound, what cutting there adds to a reading (0.0 at the two sides)
    height: int  # the blob's height, which the pieces are measured against


def candidate_pieces(blob: Blob, width: float | None = None) -> Candidates:
    """Every piece a blob may be made of, between two of its cut columns (or its sides).

    A cut through a thin neck of ink (one stroke, less than :data:`CLEAN_INK` stroke widths long)
    is where two touching digits usually meet, so it earns :data:`CLEAN_CUT_BONUS`; any other cut
    costs :data:`CUT_COST`.

    Args:
        blob: One digit or a run of touching digits.
        width: The typical width of one digit in the picture (:func:`typical_width`), if known.

    Returns:
        The pieces between bounds ``i < j`` of ``[0, *cut_columns, w]`` that are narrow enough and
        at least :data:`MIN_PIECE_HEIGHT` of the blob's height; the whole is always there, and alone
        for a blob too narrow to be several digits.
    """
    _, _, w, h = blob.box
    if blob.aspect < TRY_ASPECT and (width is None or w < WIDE_FOR_PICTURE * width):
        return Candidates({(0, 1): blob}, [0.0, 0.0], h)
    columns = cut_columns(blob)
    bounds = [0, *columns, w]
    whole = (0, len(bounds) - 1)
    pieces = {whole: blob}
    for i in range(len(bounds) - 1):
        for j in range(i + 1, len(bounds)):
            if (i, j) == whole or not MIN_PIECE_ASPECT * h <= bounds[j] - bounds[i] <= MAX_PIECE_ASPECT * h:
                continue
            piece = _slice(blob, bounds[i], bounds[j])
            if piece is not None and piece.box[3] >= MIN_PIECE_HEIGHT * h and _is_one_stroke(piece.mask):
                pieces[(i, j)] = piece
    neck = CLEAN_INK * stroke_width(blob.mask)
    cuts = [CLEAN_CUT_BONUS if _is_neck(blob.mask[:, c], neck) else -CUT_COST for c in columns]
    return Candidates(pieces, [0.0, *cuts, 0.0], h)


def _is_neck(column: np.ndarray, longest: float) -> bool:
    """True when a column of ink crosses a single stroke, and that for less than ``longest`` pixels."""
    starts = np.count_nonzero(np.diff(column.astype(np.int8), prepend=0) == 1)
    return starts == 1 and column.sum() < longest


def _is_one_stroke(mask: np.ndarray) -> bool:
    """True when most of the ink is one connected part, as in a digit (not two arcs sliced off a "0")."""
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    areas = stats[1:, cv2.CC_STAT_AREA]
    return n > 1 and areas.max() >= MAIN_PART * areas.sum()


def _slice(blob: Blob, left: int, right: int) -> Blob | None:
    """The ink of a blob between two of its columns, trimmed to its box (None when empty)."""
    x, y, _, _ = blob.box
    part = blob.mask[:, left:right]
    if not part.any():
        return None
    px, py, pw, ph = cv2.boundingRect(part.astype(np.uint8))
    return Blob((x + left + px, y + py, pw, ph), part[py : py + ph, px : px + pw])


def piece_score(piece: Blob, confidence: float | None, height: int) -> float:
    """How well a piece reads as one digit: the log of the model's confidence, less costs for its shape.

    Args:
        piece: A candidate digit.
        confidence: The model's confidence in its digit for the piece; ``None`` when it found no digit.
        height: The height of the blob it was cut from.

    Returns:
        A log-probability-like score; ``-inf`` when the model finds no digit.
    """
    if confidence is None:
        return -np.inf
    short = SHORT_COST if piece.box[3] < TALL_PIECE * height else 0.0
    return float(np.log(max(confidence, MIN_CONFIDENCE))) - short


def best_segmentation(scores: dict[tuple[int, int], float], cut_scores: list[float]) -> list[tuple[int, int]]:
    """The pieces, left to right, that cover a blob with the highest total score.

    Args:
        scores: ``{(i, j): score}`` of the candidate pieces between bounds ``i < j``
            (:func:`piece_score`); the whole, ``(0, len(cut_scores) - 1)``, must be there.
        cut_scores: What cutting at each bound adds (:attr:`Candidates.cut_scores`).

    Returns:
        The chosen ``(i, j)``, from the first bound to the last.
    """
    count = len(cut_scores)
    best = [0.0] + [-np.inf] * (count - 1)
    back = [0] * count
    for j in range(1, count):
        for i in range(j):
            if (i, j) in scores and best[i] > -np.inf:
                total = best[i] + scores[(i, j)] + cut_scores[i]
                if total > best[j]:
                    best[j], back[j] = total, i
    if best[-1] == -np.inf:
        return [(0, count - 1)]
    chosen, j = [], count - 1
    while j > 0:
        chosen.append((back[j], j))
        j = back[j]
    return chosen[::-1]
