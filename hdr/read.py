"""Reading whole numbers: every digit in a photo or drawing, left to right, lines top to bottom.

The pipeline, each step a small pure function on arrays:

1. :func:`working_gray` opens the picture upright (EXIF) and reduces it to a working size;
2. :func:`hdr.preprocess.ink_map` separates the ink from paper of any tint, uneven light and
   shadows, and :func:`hdr.preprocess.remove_lines` drops ruling and grid lines;
3. :func:`find_blobs` labels the ink and drops specks and page-edge junk;
4. :func:`group_blobs` joins the broken strokes of one digit, :func:`order_lines` orders the
   digits, :func:`split_wide` proposes cuts through blobs too wide for one digit;
5. each digit is cropped as an ink image and handed to :func:`hdr.preprocess.to_mnist`, the one
   preprocessing path, and all digits (wide blobs whole and cut) are classified in a single
   forward pass; a cut is kept when the model is surer of every piece than of the whole.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import cv2
import numpy as np

from hdr.predict import Prediction, Predictor
from hdr.preprocess import (
    FULL_SIZE,
    INK_LEVEL,
    WORK_SIDE,
    ImageInput,
    Preprocessed,
    edge_junk,
    ink_map,
    open_image,
    remove_lines,
    to_gray,
    to_mnist,
)

INK_LOW = 0.3  # faint ink joined to strong ink (see hysteresis) still belongs to the digit
READ_SIDE = WORK_SIDE  # pictures are read at this longest side: a digit a tenth of the height is still ~75 px
MIN_SPECK_PIXELS = 4  # ink blobs smaller than this are noise, whatever the picture
SPECK_FRACTION = 0.02  # ... and so are blobs smaller than this share of the largest blob
MIN_DIGIT_HEIGHT = 0.35  # digits are at least this share of the tallest digit's height (drops dots, dashes)
MIN_DIGIT_PIXELS = 6  # ... and at least this many pixels tall at the working size
FRAGMENT_HEIGHT = 0.8  # a blob at most this share of its neighbour's height may be a broken-off stroke ...
FRAGMENT_OVERLAP = 0.5  # ... when it overlaps the neighbour horizontally by this share of its own width ...
FRAGMENT_GAP = 0.5  # ... and lies within this share of the taller blob's height above or below it
ATTACH_GAP = 0.1  # smaller blobs this close (share of the digit's height) are strokes of that digit
DIGIT_ASPECT = 0.7  # a typical handwritten digit is this wide for its height (MNIST: 0.4-1.0, "1" aside)
SPLIT_ASPECT = 1.15  # blobs wider than this for their height are touching digits, to be cut apart
CLEARLY_WIDE = 1.7  # blobs this many typical digit widths wide are surely several digits ...
SURE_PIECES = 0.7  # ... and are cut when the model is this sure of every piece; ...
SURE_WHOLE = 0.9  # ... narrower ones are cut only when the model is less sure than this of the whole
WIDE_FOR_PICTURE = 1.3  # blobs this many typical digit widths wide may be touching digits too ...
MIN_PAIR_ASPECT = 0.8  # ... if at least this wide for their height (a "1" against another digit)
NARROW_ASPECT = 0.4  # narrower blobs ("1") do not count when estimating the typical digit width
CUT_WINDOW = 0.3  # a cut is sought within this share of a digit's width around where it is expected
LINE_OVERLAP = 0.5  # digits on one line overlap vertically by this share of the shorter one
CROP_SIDE = 64  # digits are handed to to_mnist at this longest side, ...
CROP_MARGIN = 0.5  # ... with this much empty margin around, in digit sizes, so its background is clear
INK_EDGE = 1  # pixels of soft ink edge kept around each digit's mask


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
        source: A path, file bytes, PIL image or array (see :func:`hdr.preprocess.to_gray`).

    Returns:
        ``(gray, scale, size)``: ``float32 (h, w)`` in [0, 1] with longest side at most
        :data:`READ_SIDE`; working pixels per source pixel; ``(width, height)`` of the source.

    Raises:
        hdr.preprocess.ImageError: The input cannot be read as an image.
    """
    if isinstance(source, np.ndarray):
        gray = to_gray(source)
        return _fit(gray, (gray.shape[1], gray.shape[0]))
    img = open_image(source)
    full = img.info.get(FULL_SIZE, img.size)  # a large JPEG is decoded reduced; boxes refer to the file
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
    junk = edge_junk(labels, stats)
    areas = stats[:, cv2.CC_STAT_AREA]
    largest = max((areas[i] for i in range(1, n) if not junk[i]), default=0)
    blobs = []
    for i in range(1, n):
        if junk[i] or areas[i] < max(MIN_SPECK_PIXELS, SPECK_FRACTION * largest):
            continue
        x, y, w, h = (int(v) for v in stats[i, :4])
        blobs.append(Blob((x, y, w, h), labels[y : y + h, x : x + w] == i))
    return blobs


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
        One blob per digit (touching digits still joined; see :func:`split_wide`).
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
    singles = [g.box[2] for g in groups if NARROW_ASPECT <= g.aspect <= SPLIT_ASPECT]
    return float(np.median(singles)) if singles else None


def split_wide(blob: Blob, width: float | None = None) -> list[Blob]:
    """Cuts a blob too wide for one digit into the touching digits it may be.

    The number of digits comes from the typical digit width in the picture (or, alone, from
    :data:`DIGIT_ASPECT`); each cut goes through the column with the least ink near where it is
    expected. Whether the cut is right is left to the classifier (see :func:`read_digits`).

    Args:
        blob: One digit or a run of touching digits.
        width: The typical width of one digit in the picture (:func:`typical_width`).

    Returns:
        The pieces, left to right; empty when the blob is not wide.
    """
    wide_for_picture = width is not None and blob.box[2] >= WIDE_FOR_PICTURE * width and blob.aspect >= MIN_PAIR_ASPECT
    if blob.aspect <= SPLIT_ASPECT and not wide_for_picture:
        return []
    width = width or DIGIT_ASPECT * blob.box[3]
    count = max(2, round(blob.box[2] / max(width, 1.0)))
    pieces = _cut(blob, count)
    return pieces if len(pieces) >= 2 else []


def _cut(blob: Blob, count: int) -> list[Blob]:
    """Cuts a blob into ``count`` pieces at the columns of least ink."""
    x, y, w, h = blob.box
    ink = blob.mask.sum(axis=0)
    step = w / count
    window = max(1, round(CUT_WINDOW * step))
    cuts = [0]
    for k in range(1, count):
        expected = round(k * step)
        lo, hi = max(cuts[-1] + 1, expected - window), min(w - 1, expected + window)
        if lo >= hi:
            continue
        columns = np.arange(lo, hi + 1)
        # Least ink, and nearest the expected place among equals.
        cuts.append(int(columns[np.lexsort((np.abs(columns - expected), ink[lo : hi + 1]))[0]]))
    cuts.append(w)
    pieces = []
    for left, right in zip(cuts[:-1], cuts[1:], strict=True):
        part = blob.mask[:, left:right]
        if not part.any():
            continue
        px, py, pw, ph = cv2.boundingRect(part.astype(np.uint8))
        pieces.append(Blob((x + left + px, y + py, pw, ph), part[py : py + ph, px : px + pw]))
    return pieces


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
        (touching digits still joined; see :func:`split_wide`).
    """
    ink, has_contrast = ink_map(gray)
    if not has_contrast:
        return ink, []
    weak = remove_lines(ink >= INK_LOW)
    mask = hysteresis(weak, ink >= INK_LEVEL)
    return ink, order_lines(group_blobs(find_blobs(mask)))


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


def read_digits(source: ImageInput, predictor: Predictor) -> Reading:
    """Reads every digit in a photo or drawing.

    Args:
        source: A path, file bytes, PIL image or array, in any mode and size (see
            :func:`hdr.preprocess.to_gray`); JPEG EXIF orientation is applied.
        predictor: The model to classify with.

    Returns:
        The number as text (lines joined by newlines) and each digit with its value, confidence
        and box in the source image.

    Raises:
        hdr.preprocess.ImageError: The input cannot be read as an image.
    """
    gray, scale, size = working_gray(source)
    ink, lines = find_digits(gray)
    groups = [g for line in lines for g in line]
    width = typical_width(groups)
    pieces = [split_wide(g, width) for g in groups]
    # Wholes and pieces of wide blobs go through the model together, in one forward pass.
    candidates = groups + [p for ps in pieces for p in ps]
    predictions = predictor.predict_preprocessed([to_mnist(_crop(ink, b)) for b in candidates])
    chosen: list[list[tuple[Blob, Prediction]]] = []
    k = len(groups)
    for group, whole, parts in zip(groups, predictions, pieces, strict=False):
        split = list(zip(parts, predictions[k : k + len(parts)], strict=True))
        k += len(parts)
        clearly_wide = group.box[2] >= CLEARLY_WIDE * (width or DIGIT_ASPECT * group.box[3])
        better = split and _split_is_better(whole, [p for _, p in split], clearly_wide)
        chosen.append(split if better else [(group, whole)])
    digits, texts, k = [], [], 0
    for line in lines:
        text = ""
        for blob, prediction in (item for entry in chosen[k : k + len(line)] for item in entry):
            if prediction.digit is None:
                continue
            box = _to_source(blob.box, scale, size)
            pre = dataclasses.replace(prediction.preprocessed, box=box, source_size=size)
            digits.append(DigitRead(prediction.digit, prediction.confidence, box, prediction.probabilities, pre))
            text += str(prediction.digit)
        k += len(line)
        if text:
            texts.append(text)
    return Reading("\n".join(texts), digits, size)


def _split_is_better(whole: Prediction, parts: list[Prediction], clearly_wide: bool) -> bool:
    """True for touching digits, False for one wide digit.

    A blob far too wide for one digit is cut when the model is fairly sure of every piece (or
    surer than of the whole); a narrower one only when the model is unsure what the whole is and
    surer of every piece.
    """
    if any(p.digit is None for p in parts):
        return False
    if whole.digit is None:
        return True
    least = min(p.confidence for p in parts)
    if clearly_wide:
        return least >= SURE_PIECES or least > whole.confidence
    return least > whole.confidence and whole.confidence < SURE_WHOLE


def _to_source(box: tuple[int, int, int, int], scale: float, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """A working-size box in source pixels, clipped to the source."""
    x, y, w, h = (v / scale for v in box)
    x0, y0 = max(0, int(np.floor(x))), max(0, int(np.floor(y)))
    x1, y1 = min(size[0], int(np.ceil(x + w))), min(size[1], int(np.ceil(y + h)))
    return x0, y0, x1 - x0, y1 - y0
