"""Reading whole numbers: every digit in a photo or drawing, left to right, lines top to bottom.

The pipeline, each step a small pure function on arrays:

1. :func:`working_gray` opens the picture upright (EXIF) and reduces it to a working size;
2. :func:`hdr.imaging.blobs.find_digits` separates the ink from the paper (:func:`hdr.imaging.ink.ink_map`), drops
   ruling and grid lines (:func:`hdr.imaging.lines.remove_lines`), labels the ink into blobs without
   specks and page-edge junk, joins the broken strokes of one digit and orders the digits;
3. :func:`hdr.imaging.segment.candidate_pieces` proposes cuts through blobs that may be touching digits,
   at the valleys of their column ink profile;
4. each digit is cropped as an ink image and handed to :func:`hdr.imaging.preprocess.to_mnist`, the one
   preprocessing path (:meth:`hdr.inference.predict.Predictor.predict_many`, on every core), and every
   candidate piece of every blob is classified in a single forward pass;
   :func:`hdr.imaging.segment.best_segmentation` then keeps, per blob, the pieces the model reads best,
   a clean neck between two digits counting in favour of a cut.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from hdr.imaging.blobs import Blob, find_digits
from hdr.imaging.decode import WORK_SIDE, ImageInput, open_image, to_gray
from hdr.imaging.preprocess import Preprocessed
from hdr.imaging.segment import best_segmentation, candidate_pieces, piece_score, typical_width
from hdr.inference.predict import Prediction, Predictor

READ_SIDE = WORK_SIDE  # pictures are read at this longest side: a digit a tenth of the height is still ~75 px
CROP_SIDE = 64  # digits are handed to to_mnist at this longest side, ...
CROP_MARGIN = 0.5  # ... with this much empty margin around, in digit sizes, so its background is clear
INK_EDGE = 1  # pixels of soft ink edge kept around each digit's mask
# A blob the gate turns away is cut into pieces only when it is this wide for its height: touching
# digits may read as no digit whole, but a letter ("n", "H") cut into strokes reads as "11"; and
# never when ink fills more than SOLID_FILL of its box (a dot: its halves are bars, and a bar is a 1).
RESCUE_ASPECT = 1.0
SOLID_FILL = 0.7
# A line whose pieces are at least this share doubtful, and at least MIN_DOUBTFUL of them, is
# writing, not a number, and none of it is read: a word's o and l read as 0 and 1 beside letters
# the gate turns away, unsure 6s and 8s for its e and a, and its small letters under SHORT_SHARE
# of the tallest one's height (the digits of a number are all about as tall).
WORD_SHARE = 1 / 3
MIN_DOUBTFUL = 2
SHORT_SHARE = 0.6
NOTHING_WRITTEN = "No number here: the picture is blank. Write some digits, or retake the photo with them in view."
NOT_DIGITS = (
    "No number here: what is written does not look like digits (letters, a word, a drawing?). "
    "Write digits, large and clear."
)


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
    rejected: int = 0  # pieces of ink dropped as not digits (letters, shapes, specks)

    @property
    def reason(self) -> str | None:
        """Why no number was read, with a hint; None when there is one."""
        if self.digits:
            return None
        return NOT_DIGITS if self.rejected else NOTHING_WRITTEN

    def to_dict(self) -> dict:
        """``{"text", "reason", "digits": [{"digit", "confidence", "box"}]}`` as plain JSON-able values."""
        return {
            "text": self.text,
            "reason": self.reason,
            "digits": [
                {"digit": d.digit, "confidence": round(float(d.confidence), 6), "box": list(d.box)} for d in self.digits
            ],
        }


def read_digits(source: ImageInput, predictor: Predictor) -> Reading:
    """Reads every digit in a photo or drawing.

    Args:
        source: A path, file bytes, PIL image or array, in any mode and size (see
            :func:`hdr.imaging.decode.to_gray`); JPEG EXIF orientation is applied.
        predictor: The model to classify with.

    Returns:
        The number as text (lines joined by newlines) and each digit with its value, confidence
        and box in the source image.

    Raises:
        hdr.imaging.decode.ImageError: The input cannot be read as an image.
    """
    gray, scale, size = working_gray(source)
    ink, lines = find_digits(gray)
    width = typical_width([g for line in lines for g in line])
    candidates = [[candidate_pieces(g, width) for g in line] for line in lines]
    # Every candidate piece of every blob goes through the model together, in one forward pass.
    flat = [piece for line in candidates for options in line for piece in options.pieces.values()]
    predictions = iter(predictor.predict_many([_crop(ink, b) for b in flat]))
    digits, texts, rejected = [], [], 0
    for line in candidates:
        found, dropped = [], 0
        for options in line:
            read = {key: (piece, next(predictions)) for key, piece in options.pieces.items()}
            whole, answer = read[(0, len(options.cut_scores) - 1)]
            if answer.digit is None and (whole.aspect < RESCUE_ASPECT or whole.mask.mean() > SOLID_FILL):
                dropped += 1
                continue
            scores = {
                key: piece_score(piece, None if pred.digit is None else pred.confidence, options.height)
                for key, (piece, pred) in read.items()
            }
            for key in best_segmentation(scores, options.cut_scores):
                blob, prediction = read[key]
                if prediction.digit is None:
                    dropped += 1
                    continue
                box = _to_source(blob.box, scale, size)
                pre = dataclasses.replace(prediction.preprocessed, box=box, source_size=size)
                found.append(DigitRead(prediction.digit, prediction.confidence, box, prediction.probabilities, pre))
        tallest = max((d.box[3] for d in found), default=0)
        doubtful = dropped + sum(
            d.confidence < predictor.unsure_below or d.box[3] < SHORT_SHARE * tallest for d in found
        )
        if doubtful >= MIN_DOUBTFUL and doubtful >= WORD_SHARE * (dropped + len(found)):  # "Hello", not "110"
            dropped, found = dropped + len(found), []
        rejected += dropped
        digits += found
        if found:
            texts.append("".join(str(d.digit) for d in found))
    return Reading("\n".join(texts), digits, size, rejected)


def working_gray(source: ImageInput) -> tuple[np.ndarray, float, tuple[int, int]]:
    """Opens a picture upright and reduces it to the working size.

    Args:
        source: A path, file bytes, PIL image or array (see :func:`hdr.imaging.decode.to_gray`).

    Returns:
        ``(gray, scale, size)``: ``float32 (h, w)`` in [0, 1] with longest side at most
        :data:`READ_SIDE`; working pixels per source pixel; ``(width, height)`` of the source.

    Raises:
        hdr.imaging.decode.ImageError: The input cannot be read as an image.
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


def _to_source(box: tuple[int, int, int, int], scale: float, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """A working-size box in source pixels, clipped to the source."""
    x, y, w, h = (v / scale for v in box)
    x0, y0 = max(0, int(np.floor(x))), max(0, int(np.floor(y)))
    x1, y1 = min(size[0], int(np.ceil(x + w))), min(size[1], int(np.ceil(y + h)))
    return x0, y0, x1 - x0, y1 - y0


SAMPLE_MARGIN = 0.25  # of a digit's larger side: the margin kept around a digit cut out as a sample


def crop_digit(picture: Image.Image | np.ndarray, box: tuple[int, int, int, int], size: tuple[int, int]) -> Image.Image:
    """One digit of a reading cut out of its picture, with a margin: a feedback sample of that digit alone.

    Args:
        picture: The picture that was read (possibly a reduced copy of it), PIL or ``(H, W[, C])`` array.
        box: The digit's ``(x, y, w, h)`` (:attr:`DigitRead.box`), in the pixels of a picture of ``size``.
        size: ``(width, height)`` the box refers to (:attr:`Reading.size`).
    """
    picture = Image.fromarray(picture) if isinstance(picture, np.ndarray) else picture
    scale = picture.width / size[0]
    x, y, w, h = (v * scale for v in box)
    margin = SAMPLE_MARGIN * max(w, h)
    return picture.crop(
        (
            max(0, round(x - margin)),
            max(0, round(y - margin)),
            min(picture.width, round(x + w + margin)),
            min(picture.height, round(y + h + margin)),
        )
    )


def read_picture(source: ImageInput, predictor: Predictor) -> tuple[Reading, Prediction | None]:
    """What the app shows about a picture: the number in it and, when it holds one digit, that digit.

    The reader runs once; a single digit reuses its answer, and a picture where the reader finds no
    digit still gets the single-digit path (which says "no digit" rather than guessing).

    Returns:
        ``(reading, prediction)``: every digit read, and the single-digit :class:`Prediction`, or
        None when the picture holds several digits.

    Raises:
        hdr.imaging.decode.ImageError: The picture cannot be read.
    """
    reading = read_digits(source, predictor)
    if len(reading.digits) > 1:
        return reading, None
    if len(reading.digits) == 1:
        read = reading.digits[0]  # the reader already ran the model: reuse its answer
        return reading, Prediction(
            read.digit, read.confidence, read.probabilities, read.preprocessed, predictor.unsure_below
        )
    return reading, predictor.predict(source)
