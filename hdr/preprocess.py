"""The one preprocessing path: any picture of a digit -> the 28x28 input the network expects.

The canvas, uploads, the command line and data loaders all call :func:`to_mnist`, so what the
model sees never depends on where the picture came from. It follows the MNIST recipe: find the
ink, crop to it, fit it in a 20x20 box keeping its aspect ratio, and centre it by centre of mass
in a 28x28 field. What is cropped is the soft, grey ink, faint strokes included (pencil, a light
pen, a blurred or low-resolution scan), never a binary mask. Stroke width is normalised first,
so a 3-pixel pen on a 400-pixel canvas and a thick marker both end up with MNIST-like strokes.
"""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from hdr.data import IMAGE_SIZE

try:  # HEIC/HEIF, as iPhones save photos; optional so the library still imports without it
    from pillow_heif import register_heif_opener

    register_heif_opener()
except ImportError:  # pragma: no cover - pillow-heif is in requirements.txt
    pass

ImageInput = str | os.PathLike | bytes | Image.Image | np.ndarray

BOX_SIZE = 20  # MNIST digits are scaled to fit a 20x20 box ...
CENTRE = IMAGE_SIZE / 2  # ... and centred by centre of mass at (14, 14), as measured on MNIST
MNIST_STROKE = 2.25  # median stroke width of MNIST test digits, 28x28 pixels (see stroke_width)
MIN_CONTRAST = 0.15  # ink must differ from the background by this much (of the full range)
INK_LEVEL = 0.5  # strong ink: at least half as dark (or light) as the strongest ink; every stroke has some
FAINT_INK = 0.2  # faint ink, kept when it joins strong ink: pencil, a light pen, a blurred or grey scan, ...
STROKE_SHARE = 0.5  # ... and is at least this share of the strokes' width thick (paper lines are thinner)
MIN_INK_FRACTION = 3e-4  # less ink than this share of the picture counts as blank
MIN_INK_PIXELS = 3
MIN_PHOTO_SIDE = 64  # smaller pictures (MNIST-sized, tight crops) have no ruling lines or page edges
SPECK_FRACTION = 0.05  # ink blobs smaller than this share of the largest one are specks
FINE_SIDE = 56  # a digit smaller than this (a low-resolution scan) is enlarged to it before shaping strokes
EVEN_REACH = 1.5  # ink is compared with the strongest ink within this many stroke widths (see _even_out)
WORK_SIDE = 1024  # larger pictures are reduced to this longest side before any pixel work
FULL_SIZE = "hdr_full_size"  # open_image records the upright (width, height) before draft decoding here
EXIF_ORIENTATION = 0x0112
_SWAPS_SIDES = (5, 6, 7, 8)  # EXIF orientations that turn the picture a quarter
DRAFT_SIDE = 900  # JPEGs decode at a power-of-two reduction no smaller than this (4000 px -> 1000)
MAX_PIXELS = 120_000_000  # refuse to decode more than this (decompression bombs); JPEGs decode reduced
# Other formats (PNG, WebP, HEIC, ...) cannot be decoded reduced: a full decode takes up to 4 bytes
# a pixel, so above this (a 48-megapixel phone photo fits) they are refused rather than held whole.
MAX_FULL_DECODE_PIXELS = 50_000_000
_REDUCIBLE_AS = {"1": "L", "P": "RGBA", "I;16": "I", "I;16B": "I", "I;16L": "I"}  # modes Image.reduce lacks
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
LINE_KERNEL = 1 / 30  # ruling lines are found as runs at least this share of the width ...
LINE_MIN_KERNEL = 12  # ... and at least this many pixels
LINE_SLANT = 2  # pixels of vertical tolerance, so lines slanted by perspective still count
LINE_GAP = 0.3  # pieces of a line with gaps up to this share of the width (digits on it) are one line
LINE_SPAN = 0.8  # a ruling line crosses at least this share of the picture
LINE_THICKNESS = 0.012  # ... and is at most this share of the short side thick ...
LINE_MIN_THICKNESS = 3  # ... or this many pixels
EDGE_CONTACT = 0.6  # ink covering this share of a border is a page edge or shadow, not writing, ...
EDGE_SLIVER = 0.15  # ... and so is ink along a border, this share of it long ...
EDGE_SLIVER_RATIO = 3  # ... and this many times longer than wide (the table seen past a tilted page)


class ImageError(ValueError):
    """The input cannot be read as an image (missing, empty, not an image, truncated, too large)."""


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


def open_image(source: str | os.PathLike | bytes | Image.Image) -> Image.Image:
    """Opens a picture as a PIL image, upright (EXIF orientation applied) and fully decoded.

    Large pictures are returned reduced, their longest side no smaller than :data:`DRAFT_SIDE`:
    JPEGs are decoded reduced (Pillow's ``draft``), so a 50-megapixel photo costs a fraction of a
    full decode and little memory; other formats are decoded whole (up to
    :data:`MAX_FULL_DECODE_PIXELS`) and reduced at once, before any pixel work. The file's own
    upright size is kept in ``img.info[FULL_SIZE]``. Safe to call from several threads at once.

    Args:
        source: A path, the file's bytes, or a PIL image.

    Returns:
        The decoded image.

    Raises:
        ImageError: Missing or empty file, not an image, truncated, or too many pixels.
    """
    if isinstance(source, Image.Image):
        return ImageOps.exif_transpose(source)
    name = "<bytes>" if isinstance(source, (bytes, bytearray)) else str(source)
    try:
        if isinstance(source, (bytes, bytearray)):
            if not source:
                raise ImageError("empty file")
            img = Image.open(io.BytesIO(source))
        else:
            _check_regular_file(source, name)
            img = Image.open(source)
        # The caps are compared with the header's size here, in this thread: no process-wide
        # warning filter, so concurrent decodes cannot change each other's outcome.
        full_size = img.size
        if img.width * img.height > MAX_PIXELS:
            raise ImageError(f"{name}: image too large ({img.width}x{img.height} pixels)")
        if img.format == "JPEG":
            img.draft(img.mode, _draft_size(img.size))
        elif img.width * img.height > MAX_FULL_DECODE_PIXELS:
            raise ImageError(
                f"{name}: image too large to decode ({img.width}x{img.height} {img.format}); "
                f"above {MAX_FULL_DECODE_PIXELS // 1_000_000} megapixels only JPEGs are read"
            )
        img.load()
        exif_orientation = img.getexif().get(EXIF_ORIENTATION, 1)
        img = _reduced(img)
        if exif_orientation in _SWAPS_SIDES:
            full_size = full_size[::-1]
        ImageOps.exif_transpose(img, in_place=True)  # no copy: the image is ours
        img.info[FULL_SIZE] = full_size  # the size before draft decoding, upright
        return img
    except ImageError:
        raise
    except FileNotFoundError:
        raise ImageError(f"{name}: file not found") from None
    except IsADirectoryError:
        raise ImageError(f"{name}: is a folder, not an image") from None
    except UnidentifiedImageError:
        raise ImageError(f"{name}: not an image (or an unsupported format)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(f"{name}: image too large (decompression bomb)") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageError(
            f"{name}: truncated or corrupt image ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
        ) from None


def _check_regular_file(path: str | os.PathLike, name: str) -> None:
    """Raises ImageError unless ``path`` is a non-empty regular file (a FIFO would block the read forever)."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise ImageError(f"{name}: file not found") from None
    except OSError as exc:  # a symlink loop (ELOOP), a name too long, no permission to look
        raise ImageError(f"{name}: cannot open ({exc.strerror or type(exc).__name__})") from None
    if stat.S_ISDIR(info.st_mode):
        raise ImageError(f"{name}: is a folder, not an image")
    if not stat.S_ISREG(info.st_mode):
        raise ImageError(f"{name}: not a regular file (a pipe, socket or device), not read")
    if info.st_size == 0:
        raise ImageError(f"{name}: empty file")


def _draft_size(size: tuple[int, int]) -> tuple[int, int]:
    """The smallest size worth decoding a JPEG at: its longest side near :data:`WORK_SIDE`."""
    factor = min(1.0, DRAFT_SIDE / max(size))
    return max(1, int(size[0] * factor)), max(1, int(size[1] * factor))


def _reduced(img: Image.Image) -> Image.Image:
    """A decoded picture shrunk by a whole factor to its longest side no smaller than :data:`DRAFT_SIDE`, as a JPEG draft is.

    The full-size decode is released as soon as the reduced copy exists, so the pixel work that
    follows never holds a large picture. EXIF data travels along for the caller's transpose.
    """
    factor = max(img.size) // DRAFT_SIDE
    if factor < 2:
        return img
    exif = img.getexif()
    work = img.convert(_REDUCIBLE_AS[img.mode]) if img.mode in _REDUCIBLE_AS else img
    reduced = work.reduce(factor)
    reduced.info = dict(img.info)
    if exif:
        reduced.info["exif"] = exif.tobytes()
    return reduced


def to_gray(source: ImageInput) -> np.ndarray:
    """Reads any picture as a grey-level array, compositing transparency onto a contrasting background.

    Accepts L, RGB, RGBA (opaque or transparent background), LA, palette, 1-bit, 16-bit and
    float images, or arrays ``(H, W)``, ``(H, W, 1|3|4)`` of uint8, uint16, bool or float.

    Returns:
        ``float32 (H, W)`` in [0, 1], 0 = black.

    Raises:
        ImageError: Unreadable input or an array of the wrong shape.
    """
    arr = source if isinstance(source, np.ndarray) else _pil_to_array(open_image(source))
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)) or min(arr.shape[:2]) < 1:
        raise ImageError(f"expected an (H, W), (H, W, 3) or (H, W, 4) image, got shape {arr.shape}")
    gray, alpha = _luma_alpha(arr)
    if alpha is not None and alpha.min() < 0.98:
        opaque = gray[alpha > 0.5]
        # Strokes drawn on a transparent canvas: lay them on the opposite of their own shade.
        backdrop = 1.0 if opaque.size == 0 or np.median(opaque) < 0.5 else 0.0
        gray = gray * alpha + backdrop * (1.0 - alpha)
    return gray.astype(np.float32)


def _luma_alpha(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """ITU-R 601 luma (as PIL's "L") and the alpha channel if there is one, float32 in [0, 1]."""
    if arr.dtype == np.uint8 and arr.ndim == 3:  # the common case (PNG, JPEG, canvas): one pass in C
        code = cv2.COLOR_RGBA2GRAY if arr.shape[2] == 4 else cv2.COLOR_RGB2GRAY
        luma = cv2.cvtColor(np.ascontiguousarray(arr), code).astype(np.float32) / 255.0
        return luma, arr[..., 3].astype(np.float32) / 255.0 if arr.shape[2] == 4 else None
    x = _to_unit_float(arr)
    if x.ndim == 2:
        return x, None
    luma = x[..., 0] * 0.299 + x[..., 1] * 0.587 + x[..., 2] * 0.114
    return luma, x[..., 3] if x.shape[2] == 4 else None


def _pil_to_array(img: Image.Image) -> np.ndarray:
    """A PIL image as an array in a mode :func:`to_gray` understands."""
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    elif img.mode in ("LA", "PA", "RGBa", "La"):
        img = img.convert("RGBA")
    elif img.mode.startswith("I;16") or img.mode == "I":
        arr = np.asarray(img, dtype=np.float64)
        return (arr / (65535.0 if arr.max() > 255 else 255.0)).astype(np.float32)
    elif img.mode not in ("L", "RGB", "RGBA", "F"):
        img = img.convert("RGB")  # 1, CMYK, YCbCr, LAB, HSV
    return np.asarray(img)


def _to_unit_float(arr: np.ndarray) -> np.ndarray:
    """Scales an integer, bool or float array to float32 in [0, 1]."""
    if arr.dtype == bool:
        return arr.astype(np.float32)
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) / 255.0
    if np.issubdtype(arr.dtype, np.integer):
        return (arr.astype(np.float32) / (65535.0 if arr.max() > 255 else 255.0)).clip(0, 1)
    x = np.nan_to_num(arr.astype(np.float32))
    return (x / 255.0 if x.max() > 1.0 else x).clip(0, 1)


def ink_map(gray: np.ndarray) -> tuple[np.ndarray, bool]:
    """Separates the ink from the background and returns the ink as high values.

    The background (paper and light) is estimated locally, so tinted paper, uneven light and
    shadows come out as plain background: each pixel's ink is how much darker (or lighter) it is
    than the background around it, relative to that background. Whether the ink is dark (pen on
    paper, a black-on-white drawing) or light (chalk on a board, a white-on-black canvas) is
    decided by the skew of the departures from the local median grey. A flat background (a canvas,
    a clean scan) skips that estimate: the ink is measured against its one grey level, which gives
    the same map for less work.

    Args:
        gray: ``float32 (H, W)`` in [0, 1].

    Returns:
        ``(ink, has_contrast)``: ink ``float32 (H, W)`` in [0, 1] scaled so the strong ink is 1,
        and False when nothing stands out from the background.
    """
    flat = _flat_background(gray)
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


def _ink_against(gray: np.ndarray, background: np.ndarray | np.float32) -> tuple[np.ndarray, bool]:
    """The ink map of dark ink on a known background (see :func:`ink_map`)."""
    ink = (background - gray) / np.maximum(background, MIN_BACKGROUND)
    ink = np.clip(ink, 0.0, 1.0)
    smooth = cv2.blur(ink, (3, 3)) if min(ink.shape) >= 3 else ink  # lone noisy pixels are not ink
    candidates = smooth[smooth >= MIN_CONTRAST]
    if candidates.size == 0:
        return np.zeros_like(gray, dtype=np.float32), False
    # The typical strength of the ink rather than its extreme: one very dark blot (a shadowed
    # page edge) must not make a faint pencil digit look like background.
    strength = max(float(np.percentile(candidates, INK_STRENGTH_PERCENTILE)), MIN_CONTRAST)
    return np.clip(ink / strength, 0.0, 1.0).astype(np.float32), True


def _flat_background(gray: np.ndarray) -> float | None:
    """The background's grey level when it is one flat level (a canvas, a clean scan), else None.

    Flat means nearly all of the picture's border and at least half of the picture lie within
    :data:`FLAT_TOLERANCE` of the median grey. Photos, with their uneven light and grain, are not
    flat; they need the local background estimate of :func:`ink_map`.
    """
    if min(gray.shape) < 3:
        return None
    level = float(np.median(gray[:: max(1, gray.shape[0] // 64), :: max(1, gray.shape[1] // 64)]))
    border = np.concatenate([gray[0], gray[-1], gray[1:-1, 0], gray[1:-1, -1]])
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


def _odd(n: float) -> int:
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
    size = min(_odd(POLARITY_WINDOW * max(small.shape)), 255)
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
    size = _odd(BACKGROUND_KERNEL * max(small.shape))
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (size, size))
    closed = cv2.morphologyEx(small, cv2.MORPH_CLOSE, kernel)
    closed = cv2.blur(closed, (size // 2 + 1, size // 2 + 1))
    closed = np.maximum(closed, small)  # the paper is never darker than what is seen
    return cv2.resize(closed, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)


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


def _digit_mask(ink: np.ndarray) -> np.ndarray | None:
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
    size = _odd(2 * EVEN_REACH * width) + 2
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
    if size < 1 or 0.75 * MNIST_STROKE <= width <= 1.6 * MNIST_STROKE:
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
    mask = _digit_mask(ink) if has_contrast else None
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
