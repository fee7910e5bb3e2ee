"""Reading whole numbers: every digit in a photo or drawing, left to right, lines top to bottom.

The pipeline, each step a small pure function on arrays:

1. :func:`working_gray` opens the picture upright (EXIF) and reduces it to a working size;
2. :func:`hdr.ink.ink_map` separates the ink from paper of any tint, uneven light and
   shadows, and :func:`hdr.lines.remove_lines` drops ruling and grid lines;
3. :func:`find_blobs` labels the ink and drops specks, page-edge junk and wedges of table in a
   corner (:func:`hugs_border`);
4. :func:`group_blobs` joins the broken strokes of one digit, :func:`order_lines` orders the
   digits, :func:`candidate_pieces` proposes cuts through blobs that may be touching digits, at
   the valleys of their column ink profile (:func:`cut_columns`);
5. each digit is cropped as an ink image and handed to :func:`hdr.preprocess.to_mnist`, the one
   preprocessing path (:meth:`hdr.predict.Predictor.predict_many`, on every core), and every
   candidate piece of every blob is classified in a single forward pass; :func:`best_segmentation`
   then keeps, per blob, the pieces the model reads best, a clean neck between two digits
   counting in favour of a cut.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import cv2
import numpy as np

from hdr.decode import WORK_SIDE, ImageInput, open_image, to_gray
from hdr.ink import INK_LEVEL, edge_junk, hysteresis, ink_map, stroke_width
from hdr.lines import remove_lines
from hdr.predict import Prediction, Predictor
from hdr.preprocess import Preprocessed

INK_LOW = 0.3  # faint ink joined to strong ink (see hysteresis) still belongs to the digit
READ_SIDE = WORK_SIDE  # pictures are read at this longest side: a digit a tenth of the height is still ~75 px
MIN_SPECK_PIXELS = 4  # ink blobs smaller than this are noise, whatever the picture
SPECK_FRACTION = 0.02  # ... and so are blobs smaller than this share of the largest blob
BORDER_HUG = 0.5  # a blob touching a border along this share of its own extent there is not writing
MIN_DIGIT_HEIGHT = 0.35  # digits are at least this share of the tallest digit's height (drops dots, dashes)
MIN_DIGIT_PIXELS = 6  # ... and at least this many pixels tall at the working size
FRAGMENT_HEIGHT = 0.8  # a blob at most this share of its neighbour's height may be a broken-off stroke ...
FRAGMENT_OVERLAP = 0.5  # ... when it overlaps the neighbour horizontally by this share of its own width ...
FRAGMENT_GAP = 0.5  # ... and lies within this share of the taller blob's height above or below it
ATTACH_GAP = 0.1  # smaller blobs this close (share of the digit's height) are strokes of that digit
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
LINE_OVERLAP = 0.5  # digits on one line overlap vertically by this share of the shorter one
CROP_SIDE = 64  # digits are handed to to_mnist at this longest side, ...
CROP_MARGIN = 0.5  # ... with this much empty margin around, in digit sizes, so its background is clear
INK_EDGE = 1  # pixels of soft ink edge kept around each digit's mask
LINE_DEPTH_PERCENTILE = 90  # of the removed ink, this share is no deeper than the centre of a ruling line
STROKE_OVER_LINE = 1.5  # removed ink this many times thicker than the lines is a stroke, given back


@dataclass(frozen=True)
class DigitRead:
    """One digit found in a picture."""

    digit: int
    confidence: float  # probability of ``digit``
    box: tuple[int, int, int, int]  # x, y, w, h in the source image (after EXIF rotation)
    probabilities: np.ndarray  # (10,) float32
    preprocessed: Preprocessed  # what the model saw; its box and source_size refer to the source image


@dataclass(frozen=True)
class Reading:
    """Everything read in one picture."""

    text: str  # e.g. "2026"; "" when no digit; lines joined by "\n"
    digits: list[DigitRead]  # in reading order
    size: tuple[int, int]  # (width, height) of the source image

    def to_dict(self) -> dict:
        """``{"text", "digits": [{"digit", "confidence", "box"}]}`` as plain JSON-able values."""
        return {
            "text": self.text,
            "digits": [
                {"digit": d.digit, "confidence": round(float(d.confidence), 6), "box": list(d.box)} for d in self.digits
            ],
        }


@dataclass(frozen=True)
class Blob:
    """A candidate digit: its box and pixels at the working size."""

    box: tuple[int, int, int, int]  # x, y, w, h
    mask: np.ndarray  # bool (h, w), the digit's ink inside the box

    @property
    def aspect(self) -> float:
        """Width over height."""
        return self.box[2] / max(self.box[3], 1)


def working_gray(source: ImageInput) -> tuple[np.ndarray, float, tuple[int, int]]:
    """Opens a picture upright and reduces it to the working size.

    Args:
        source: A path, file bytes, PIL image or array (see :func:`hdr.decode.to_gray`).

    Returns:
        ``(gray, scale, size)``: ``float32 (h, w)`` in [0, 1] with longest side at most
        :data:`READ_SIDE`; working pixels per source pixel; ``(width, height)`` of the source.

    Raises:
        hdr.decode.ImageError: The input cannot be read as an image.
    """
    if isinstance(source, np.ndarray):
        gray = to_gray(source)
        return _fit(gray, (gray.shape[1], gray.shape[0]))
    picture = open_image(source)
    img, full = picture.image, picture.full_size  # a large picture is decoded reduced; boxes refer to the file
    if img.mode not in ("RGB", "L"):  # transparency, 16-bit, palettes: the general path
        gray, _, _ = _fit(to_gray(img), img.size)
    else:  # the common case, kept in 8 bits until reduced: PIL's "L" is the same luma as to_gray
        small, _, _ = _fit(np.asarray(img.convert("L") if img.mode == "RGB" else img), img.size)
        gray = to_gray(small)
    return gray, gray.shape[1] / full[0], full


def _fit(gray: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, float, tuple[int, int]]:
    """Resizes ``gray`` (any dtype) to the working size of a source of ``size`` (width, height)."""
    scale = min(1.0, READ_SIDE / max(size))
    shape = (max(1, round(size[0] * scale)), max(1, round(size[1] * scale)))
    if (gray.shape[1], gray.shape[0]) != shape:
        gray = cv2.resize(gray, shape, interpolation=cv2.INTER_AREA)
    return gray, scale, size


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


def group_blobs(blobs: list[Blob]) -> list[Blob]:
    """Joins the broken strokes of each digit, then drops what is too small to be a digit.

    Args:
        blobs: Candidate blobs from :func:`find_blobs`.

    Returns:
        One blob per digit (touching digits still joined; see :func:`candidate_pieces`).
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


def _gap(a: Blob, b: Blob) -> float:
    """The distance between two boxes (0 when they overlap)."""
    ax, ay, aw, ah = a.box
    bx, by, bw, bh = b.box
    dx = max(0, max(ax, bx) - min(ax + aw, bx + bw))
    dy = max(0, max(ay, by) - min(ay + ah, by + bh))
    return float(np.hypot(dx, dy))


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


def piece_score(piece: Blob, prediction: Prediction, height: int) -> float:
    """How well a piece reads as one digit: the log of the model's confidence, less costs for its shape.

    Args:
        piece: A candidate digit.
        prediction: The model's answer for it.
        height: The height of the blob it was cut from.

    Returns:
        A log-probability-like score; ``-inf`` when the model finds no digit.
    """
    if prediction.digit is None:
        return -np.inf
    short = SHORT_COST if piece.box[3] < TALL_PIECE * height else 0.0
    return float(np.log(max(prediction.confidence, MIN_CONFIDENCE))) - short


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


def _crop(ink: np.ndarray, blob: Blob) -> np.ndarray:
    """The digit's ink alone, reduced to :data:`CROP_SIDE` and framed by an empty margin.

    Args:
        ink: ``float32 (H, W)`` ink map of the whole picture.
        blob: The digit.

    Returns:
        ``float32 (h, w)`` ink on black.
    """
    x, y, w, h = blob.box
    height, width = ink.shape
    x0, y0 = max(0, x - INK_EDGE), max(0, y - INK_EDGE)
    x1, y1 = min(width, x + w + INK_EDGE), min(height, y + h + INK_EDGE)
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    mask[y - y0 : y - y0 + h, x - x0 : x - x0 + w] = blob.mask
    mask = cv2.dilate(mask, np.ones((2 * INK_EDGE + 1, 2 * INK_EDGE + 1), np.uint8))  # keep soft edges
    crop = ink[y0:y1, x0:x1] * mask
    factor = CROP_SIDE / max(crop.shape)
    if factor < 1.0:
        size = (max(1, round(crop.shape[1] * factor)), max(1, round(crop.shape[0] * factor)))
        crop = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
    margin = int(np.ceil(CROP_MARGIN * max(crop.shape)))
    return np.clip(np.pad(crop, margin), 0.0, 1.0).astype(np.float32)  # values above 1 would read as 0-255


def find_digits(gray: np.ndarray) -> tuple[np.ndarray, list[list[Blob]]]:
    """Finds the digits in a working-size picture.

    Args:
        gray: ``float32 (H, W)`` in [0, 1].

    Returns:
        ``(ink, lines)``: the ink map ``float32 (H, W)`` and the digits as lines of blobs
        (touching digits still joined; see :func:`candidate_pieces`).
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
        kept: ``bool (H, W)``, the same with the lines removed (:func:`hdr.lines.remove_lines`).

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


def read_digits(source: ImageInput, predictor: Predictor) -> Reading:
    """Reads every digit in a photo or drawing.

    Args:
        source: A path, file bytes, PIL image or array, in any mode and size (see
            :func:`hdr.decode.to_gray`); JPEG EXIF orientation is applied.
        predictor: The model to classify with.

    Returns:
        The number as text (lines joined by newlines) and each digit with its value, confidence
        and box in the source image.

    Raises:
        hdr.decode.ImageError: The input cannot be read as an image.
    """
    gray, scale, size = working_gray(source)
    ink, lines = find_digits(gray)
    width = typical_width([g for line in lines for g in line])
    candidates = [[candidate_pieces(g, width) for g in line] for line in lines]
    # Every candidate piece of every blob goes through the model together, in one forward pass.
    flat = [piece for line in candidates for options in line for piece in options.pieces.values()]
    predictions = iter(predictor.predict_many([_crop(ink, b) for b in flat]))
    digits, texts = [], []
    for line in candidates:
        text = ""
        for options in line:
            read = {key: (piece, next(predictions)) for key, piece in options.pieces.items()}
            scores = {key: piece_score(piece, pred, options.height) for key, (piece, pred) in read.items()}
            for key in best_segmentation(scores, options.cut_scores):
                blob, prediction = read[key]
                if prediction.digit is None:
                    continue
                box = _to_source(blob.box, scale, size)
                pre = dataclasses.replace(prediction.preprocessed, box=box, source_size=size)
                digits.append(DigitRead(prediction.digit, prediction.confidence, box, prediction.probabilities, pre))
                text += str(prediction.digit)
        if text:
            texts.append(text)
    return Reading("\n".join(texts), digits, size)


def _to_source(box: tuple[int, int, int, int], scale: float, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """A working-size box in source pixels, clipped to the source."""
    x, y, w, h = (v / scale for v in box)
    x0, y0 = max(0, int(np.floor(x))), max(0, int(np.floor(y)))
    x1, y1 = min(size[0], int(np.ceil(x + w))), min(size[1], int(np.ceil(y + h)))
    return x0, y0, x1 - x0, y1 - y0
