"""Decoding: any picture a person hands over, as an upright image of a workable size.

Paths, file bytes, PIL images and arrays in any mode; files in the formats of
:data:`ACCEPTED_FORMATS` only; EXIF orientation applied; HEIC/HEIF (iPhone photos) through
pillow-heif; large JPEGs decoded reduced by Pillow's ``draft`` and other large formats reduced
right after decoding, so a phone photo never costs its full size in memory. The file's own size
travels beside the picture as a plain value (:class:`Picture`), because what is found in a
reduced picture is reported in the file's coordinates.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import io
import os
import stat
import threading
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

try:  # HEIC/HEIF, as iPhones save photos; optional so the library still imports without it
    from pillow_heif import register_heif_opener

    register_heif_opener()
except ImportError:  # pragma: no cover - pillow-heif is in requirements.txt
    pass

ImageInput = str | os.PathLike | bytes | Image.Image | np.ndarray

# The formats a file may be in, as Pillow names them -> as the README does. Pillow would open some
# forty; each is a decoder exposed to whatever a visitor uploads, and EPS is handed to Ghostscript.
# Anything else is refused before its decoder sees a byte past the header check of these few.
ACCEPTED_FORMATS = {"PNG": "PNG", "JPEG": "JPEG", "WEBP": "WebP", "BMP": "BMP", "HEIF": "HEIC"}
_PILLOW_FORMATS = tuple(ACCEPTED_FORMATS)  # Image.open wants a list or tuple

WORK_SIDE = 1024  # larger pictures are reduced to this longest side before any pixel work
EXIF_ORIENTATION = 0x0112
_SWAPS_SIDES = (5, 6, 7, 8)  # EXIF orientations that turn the picture a quarter
DRAFT_SIDE = 900  # JPEGs decode at a power-of-two reduction no smaller than this (4000 px -> 1000)
MAX_PIXELS = 120_000_000  # refuse to decode more than this (decompression bombs); JPEGs decode reduced
# Other formats (PNG, WebP, AVIF, GIF, HEIC, ...) cannot be decoded reduced: a full decode takes up
# to 4 bytes a pixel and the reduction a copy, so they are refused above what the working picture
# needs and a 12-megapixel phone photo (4032x3024) has: 16 megapixels, about 64 MB decoded.
MAX_FULL_DECODE_PIXELS = 16_000_000
# Full decodes at once in this process (the API, the pages and the CLI alike): one per core, so a
# burst of large pictures queues instead of holding one full-size decode per thread.
DECODE_SLOTS = 2
_DECODE_SLOTS = threading.BoundedSemaphore(DECODE_SLOTS)
# After a full decode this large, the memory it freed is handed back to the system (see _trim_heap).
TRIM_AFTER_PIXELS = 4_000_000
_REDUCIBLE_AS = {"1": "L", "P": "RGBA", "I;16": "I", "I;16B": "I", "I;16L": "I"}  # modes Image.reduce lacks


class ImageError(ValueError):
    """The input cannot be read as an image (missing, empty, not an image, truncated, too large).

    Attributes:
        reason: Why, in one line, without the file's name ("file not found").
        source: The file's name, or None for a picture given as bytes or an array; ``str()`` of
            the error names it first ("seven.png: file not found").
    """

    def __init__(self, reason: str, source: str | None = None):
        super().__init__(reason if source is None else f"{source}: {reason}")
        self.reason, self.source = reason, source


@dataclass(frozen=True)
class Picture:
    """A decoded picture and the size of the file it came from."""

    image: Image.Image  # upright (EXIF orientation applied); a large picture is decoded reduced
    full_size: tuple[int, int]  # (width, height) of the file, upright: the coordinates boxes refer to

    @property
    def scale(self) -> float:
        """Pixels of :attr:`image` per pixel of the file: 1.0 unless it was decoded reduced."""
        return self.image.width / self.full_size[0]


def open_image(source: str | os.PathLike | bytes | Image.Image) -> Picture:
    """Opens a picture upright (EXIF orientation applied) and fully decoded, with its file's size.

    Large pictures are returned reduced, their longest side no smaller than :data:`DRAFT_SIDE`:
    JPEGs are decoded reduced (Pillow's ``draft``), so a 50-megapixel photo costs a fraction of a
    full decode and little memory; other formats are decoded whole (up to
    :data:`MAX_FULL_DECODE_PIXELS`) and reduced at once, before any pixel work. The file's own
    upright size comes back beside the image. Safe to call from several threads at once.

    Args:
        source: A path, the file's bytes, or a PIL image.

    Returns:
        The decoded image and the file's upright ``(width, height)``.

    Raises:
        ImageError: Missing or empty file, not an image, truncated, or too many pixels.
    """
    if isinstance(source, Image.Image):
        upright = ImageOps.exif_transpose(source)
        return Picture(upright, upright.size)
    name = None if isinstance(source, (bytes, bytearray)) else str(source)
    try:
        if isinstance(source, (bytes, bytearray)):
            if not source:
                raise ImageError("empty file")
            img = Image.open(io.BytesIO(source), formats=_PILLOW_FORMATS)
        else:
            _check_regular_file(source, name)
            img = Image.open(source, formats=_PILLOW_FORMATS)
        # The caps are compared with the header's size here, in this thread: no process-wide
        # warning filter, so concurrent decodes cannot change each other's outcome.
        full_size = img.size
        if img.width * img.height > MAX_PIXELS:
            raise ImageError(f"image too large ({img.width}x{img.height} pixels)", name)
        if img.format == "JPEG":
            img.draft(img.mode, _draft_size(img.size))
        elif img.width * img.height > MAX_FULL_DECODE_PIXELS:
            raise ImageError(
                f"image too large to decode ({img.width}x{img.height} {img.format}); "
                f"above {MAX_FULL_DECODE_PIXELS // 1_000_000} megapixels only JPEGs are read",
                name,
            )
        large = img.format != "JPEG" and img.width * img.height > TRIM_AFTER_PIXELS  # decoded whole
        with _DECODE_SLOTS:
            img.load()
            exif_orientation = img.getexif().get(EXIF_ORIENTATION, 1)
            img = _reduced(img)
        if large:
            _trim_heap()
        if exif_orientation in _SWAPS_SIDES:
            full_size = full_size[::-1]
        ImageOps.exif_transpose(img, in_place=True)  # no copy: the image is ours
        return Picture(img, full_size)
    except ImageError:
        raise
    except FileNotFoundError:
        raise ImageError("file not found", name) from None
    except IsADirectoryError:
        raise ImageError("is a folder, not an image", name) from None
    except UnidentifiedImageError:
        raise ImageError(f"not an image in an accepted format ({_accepted()})", name) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError("image too large (decompression bomb)", name) from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ImageError(f"truncated or corrupt image ({detail})", name) from None


def _load_libc() -> ctypes.CDLL | None:
    """glibc, for ``malloc_trim``; None elsewhere (musl, macOS), where nothing is trimmed."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


_LIBC = _load_libc()


HEAP_ARENAS = 2  # glibc heaps a server process's threads share: one per core (glibc's default is 8 per core)
_M_ARENA_MAX = -8  # mallopt's parameter number for the arena cap (malloc.h)


def limit_heap_arenas() -> bool:
    """Caps glibc's heaps at :data:`HEAP_ARENAS` for the threads started from now on (as ``MALLOC_ARENA_MAX`` would).

    Each decode thread otherwise gets a heap of its own, which keeps what its largest picture
    needed: after bursts of large uploads a server keeps far more than it uses
    (docs/benchmarks.md). Called once by a server process, before its threads start.

    Returns:
        True when set; False without glibc.
    """
    return _LIBC is not None and bool(_LIBC.mallopt(_M_ARENA_MAX, HEAP_ARENAS))


def _trim_heap() -> None:
    """Returns the memory a large decode freed to the system.

    glibc keeps freed memory in the heap of the thread that freed it (an arena per thread, up to
    8 per core), so after a burst of large uploads the server keeps what the burst needed.
    ``malloc_trim`` releases the free pages of every arena; a few milliseconds, paid only after
    a decode of :data:`TRIM_AFTER_PIXELS` or more.
    """
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _accepted() -> str:
    """``"PNG, JPEG, WebP, BMP or HEIC"``."""
    names = list(ACCEPTED_FORMATS.values())
    return f"{', '.join(names[:-1])} or {names[-1]}"


def _check_regular_file(path: str | os.PathLike, name: str) -> None:
    """Raises ImageError unless ``path`` is a non-empty regular file (a FIFO would block the read forever)."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise ImageError("file not found", name) from None
    except OSError as exc:  # a symlink loop (ELOOP), a name too long, no permission to look
        raise ImageError(f"cannot open ({exc.strerror or type(exc).__name__})", name) from None
    if stat.S_ISDIR(info.st_mode):
        raise ImageError("is a folder, not an image", name)
    if not stat.S_ISREG(info.st_mode):
        raise ImageError("not a regular file (a pipe, socket or device), not read", name)
    if info.st_size == 0:
        raise ImageError("empty file", name)


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
    arr = source if isinstance(source, np.ndarray) else _pil_to_array(open_image(source).image)
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
