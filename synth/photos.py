"""Realistic photos of handwritten digits and numbers, made from MNIST *test* digits.

Each picture imitates a phone photo of writing on paper: paper of some tint, uneven light and
shadows, ruled or squared lines, ink of some colour (or chalk on a dark board), blur, noise,
JPEG artefacts, mild perspective, and sometimes rotated pixels with an EXIF Orientation tag. The
digits come only from the MNIST test set, so a model never saw them in training.

Everything is drawn from a ``numpy.random.Generator``: the same seed gives the same pictures.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

KINDS = ("clean", "tinted", "shadow", "ruled", "squared", "colour", "board", "noisy", "perspective", "exif", "mixed")
PAPERS = ((250, 250, 248), (245, 238, 215), (235, 240, 250), (225, 225, 222), (250, 232, 235), (240, 245, 225))
INKS = ((25, 25, 35), (30, 50, 160), (175, 30, 35), (105, 105, 112), (20, 70, 40))  # black, blue, red, pencil, green
BOARD, CHALK = (40, 58, 48), (232, 232, 222)
RULING = ((150, 180, 220), (170, 170, 175), (120, 150, 200), (200, 150, 150))
TABLE = (70, 55, 45)  # what is seen around the page under perspective
PHOTO_SIDES = ((1200, 900), (900, 1200), (1024, 768), (1600, 1200))
DIGIT_HEIGHT = (0.1, 0.6)  # a single digit's height, share of the picture's height
NUMBER_HEIGHT = (0.1, 0.35)  # a number's digit height, share of the picture's height
NUMBER_WIDTH = 0.85  # a number fits in this share of the picture's width
MARGIN = 0.05  # writing keeps this share of the picture away from its edges
NUMBER_LENGTH = (2, 6)  # digits in a number
SPACING = (0.08, 0.4)  # gap between digits, share of the digit height
TOUCHING = 0.25  # share of numbers whose digits touch (negative gaps)
TOUCH_GAP = (-0.06, 0.0)  # gap when touching: the digits' boxes overlap a little
MNIST_INK = 20 / 28  # an MNIST digit's box is 20 of its 28 pixels
ORIENTATIONS = {3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}
EXIF_ORIENTATION = 0x0112


@dataclass(frozen=True)
class Sample:
    """One generated picture."""

    jpeg: bytes  # the file, as a phone would save it
    label: str  # the digits written, e.g. "2026"
    kind: str  # one of KINDS
    size: tuple[int, int]  # (width, height) upright


def tight(digit: np.ndarray) -> np.ndarray:
    """An MNIST digit ``uint8 (28, 28)`` cropped to its ink, as ``float32`` in [0, 1]."""
    ys, xs = np.nonzero(digit > 0)
    return digit[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].astype(np.float32) / 255.0


def compose_number(digits: list[np.ndarray], rng: np.random.Generator, touching: bool = False) -> np.ndarray:
    """Places MNIST digits side by side with natural spacing (or touching), as one ink image.

    Args:
        digits: MNIST digits ``uint8 (28, 28)``.
        rng: Random generator.
        touching: Whether neighbouring digits touch or overlap slightly.

    Returns:
        ``float32 (h, w)`` ink in [0, 1], the digits at MNIST scale (20-pixel boxes).
    """
    crops = [tight(d) for d in digits]
    height = max(c.shape[0] for c in crops)
    jitter = int(round(0.08 * height))
    gaps = [int(round(height * rng.uniform(*(TOUCH_GAP if touching else SPACING)))) for _ in crops[1:]]
    width = sum(c.shape[1] for c in crops) + sum(gaps)
    canvas = np.zeros((height + 2 * jitter, max(width, 1) + 2), np.float32)
    x = 1
    for i, crop in enumerate(crops):
        h, w = crop.shape
        y = jitter + (height - h) // 2 + int(rng.integers(-jitter, jitter + 1))
        canvas[y : y + h, x : x + w] = np.maximum(canvas[y : y + h, x : x + w], crop)
        x += w + (gaps[i] if i < len(gaps) else 0)
    return canvas


def _lighting(shape: tuple[int, int], rng: np.random.Generator, strength: float) -> np.ndarray:
    """A multiplicative light field ``float32 (h, w)``: a gradient, sometimes a soft shadow."""
    h, w = shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * xs / w + np.sin(angle) * ys / h) + 1.0  # 0..2
    light = 1.0 - strength * rng.uniform(0.3, 0.5) * ramp / 2.0
    if rng.random() < 0.6:  # a soft-edged shadow (a hand or a phone) across part of the page
        a2 = rng.uniform(0, 2 * np.pi)
        edge = np.cos(a2) * (xs - w * rng.uniform(0.2, 0.8)) + np.sin(a2) * (ys - h * rng.uniform(0.2, 0.8))
        soft = max(h, w) * rng.uniform(0.02, 0.1)
        light *= 1.0 - strength * rng.uniform(0.15, 0.35) / (1.0 + np.exp(-edge / soft))
    return light.astype(np.float32)


def _rule(page: np.ndarray, rng: np.random.Generator, squared: bool) -> None:
    """Draws ruled (or squared) notebook lines on the page, in place."""
    h, w = page.shape[:2]
    pitch = int(h * rng.uniform(0.04, 0.08))
    colour = np.array(RULING[rng.integers(len(RULING))], np.float32) / 255
    thickness = int(rng.integers(1, 4))
    offset = int(rng.integers(0, pitch))
    for y in range(offset, h, pitch):
        cv2.line(page, (0, y), (w - 1, y), colour.tolist(), thickness, cv2.LINE_AA)
    if squared:
        for x in range(offset, w, pitch):
            cv2.line(page, (x, 0), (x, h - 1), colour.tolist(), thickness, cv2.LINE_AA)


def _place(ink: np.ndarray, size: tuple[int, int], height_share: float, rng: np.random.Generator) -> np.ndarray:
    """Scales a number's ink so one digit is ``height_share`` of the picture, at a random place.

    Returns:
        ``float32 (H, W)`` ink coverage of the whole picture.
    """
    width, height = size
    digit_px = height_share * height
    scale = digit_px / (ink.shape[0] * 0.9)
    scale = min(scale, NUMBER_WIDTH * width / ink.shape[1], (1 - 2 * MARGIN) * height / ink.shape[0])
    new = (max(1, round(ink.shape[1] * scale)), max(1, round(ink.shape[0] * scale)))
    big = cv2.resize(ink, new, interpolation=cv2.INTER_CUBIC).clip(0, 1)
    cover = np.zeros((height, width), np.float32)
    mx, my = round(MARGIN * width), round(MARGIN * height)
    x = int(rng.integers(mx, max(mx + 1, width - mx - new[0])))
    y = int(rng.integers(my, max(my + 1, height - my - new[1])))
    cover[y : y + new[1], x : x + new[0]] = big[: height - y, : width - x]
    return cover


def photograph(
    ink: np.ndarray, kind: str, rng: np.random.Generator, height_share: float, size: tuple[int, int] | None = None
) -> tuple[np.ndarray, int]:
    """Renders ink as a phone photo of writing under the conditions of ``kind``.

    Args:
        ink: ``float32 (h, w)`` ink in [0, 1] (one digit or a number).
        kind: One of :data:`KINDS`.
        rng: Random generator.
        height_share: The height of a digit, share of the picture's height.
        size: ``(width, height)`` of the photo; random among :data:`PHOTO_SIDES` when None.

    Returns:
        ``(rgb, orientation)``: the upright photo ``uint8 (H, W, 3)`` and the EXIF orientation
        to save it with (1 = none).
    """
    mixed = kind == "mixed"
    width, height = size or PHOTO_SIDES[rng.integers(len(PHOTO_SIDES))]

    def on(name: str, p: float = 0.35) -> bool:
        return kind == name or (mixed and rng.random() < p)

    board = on("board", 0.15)
    if board:
        paper, colour = np.array(BOARD, np.float32) / 255, np.array(CHALK, np.float32) / 255
    else:
        tinted = on("tinted", 0.6)
        paper = np.array(PAPERS[rng.integers(1, len(PAPERS))] if tinted else PAPERS[0], np.float32) / 255
        colour = np.array(INKS[rng.integers(len(INKS))] if on("colour", 0.6) else INKS[0], np.float32) / 255
    page = np.ones((height, width, 3), np.float32) * paper
    if not board and (on("ruled") or on("squared")):
        _rule(page, rng, squared=kind == "squared" or (mixed and rng.random() < 0.4))
    cover = _place(ink, (width, height), height_share, rng)
    if board:  # chalk is grainy and never fully covers the board
        cover *= rng.uniform(0.75, 0.95)
    page = page * (1 - cover[..., None]) + colour * cover[..., None]
    if on("shadow", 0.6) or board:
        page *= _lighting((height, width), rng, strength=1.0 if kind == "shadow" else 0.7)[..., None]
    if on("perspective"):
        page = _perspective(page, rng)
    noisy = on("noisy")
    sigma = rng.uniform(0.8, 1.8) if noisy else rng.uniform(0.0, 0.7)
    if sigma > 0.3:
        page = cv2.GaussianBlur(page, (0, 0), sigma * max(width, height) / 1200)
    page += rng.normal(0, rng.uniform(0.02, 0.05) if noisy else 0.008, page.shape).astype(np.float32)
    rgb = (page.clip(0, 1) * 255).round().astype(np.uint8)
    orientation = int(rng.choice(list(ORIENTATIONS))) if on("exif", 0.3) else 1
    return rgb, orientation


def _perspective(page: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A mild perspective: corners moved by up to 4% of the size; the table shows at the edges."""
    h, w = page.shape[:2]
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = src + rng.uniform(-0.04, 0.04, (4, 2)).astype(np.float32) * np.float32([w, h])
    matrix = cv2.getPerspectiveTransform(src, dst)
    table = (np.array(TABLE, np.float32) / 255).tolist()
    return cv2.warpPerspective(page, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=table)


def encode_jpeg(rgb: np.ndarray, orientation: int, quality: int) -> bytes:
    """Saves an upright photo as a JPEG, rotating the pixels and tagging EXIF orientation as phones do."""
    img = Image.fromarray(rgb)
    exif = Image.Exif()
    if orientation != 1:
        img = img.transpose(ORIENTATIONS[orientation])  # exif_transpose undoes exactly this
        exif[EXIF_ORIENTATION] = orientation
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, exif=exif.tobytes())
    return buf.getvalue()


class PhotoMaker:
    """Makes test photos of single digits and numbers from MNIST test digits, reproducibly.

    Example:
        >>> maker = PhotoMaker(x_test, y_test, seed=0)
        >>> sample = maker.number("ruled")
    """

    def __init__(self, x_test: np.ndarray, y_test: np.ndarray, seed: int = 0):
        self.x, self.y = x_test, y_test
        self.rng = np.random.default_rng(seed)

    def digits(self, count: int) -> tuple[list[np.ndarray], str]:
        """``count`` random MNIST test digits and their labels as text."""
        idx = self.rng.integers(0, len(self.y), count)
        return [self.x[i] for i in idx], "".join(str(int(self.y[i])) for i in idx)

    def _quality(self, kind: str) -> int:
        return int(self.rng.integers(40, 70) if kind == "noisy" else self.rng.integers(70, 95))

    def single(self, kind: str, size: tuple[int, int] | None = None) -> Sample:
        """A photo of one digit, a tenth to over half of the picture's height."""
        digits, label = self.digits(1)
        rgb, orientation = photograph(tight(digits[0]), kind, self.rng, self.rng.uniform(*DIGIT_HEIGHT), size)
        return Sample(encode_jpeg(rgb, orientation, self._quality(kind)), label, kind, (rgb.shape[1], rgb.shape[0]))

    def number(self, kind: str, size: tuple[int, int] | None = None, length: int | None = None) -> Sample:
        """A photo of a number of 2-6 digits written side by side, sometimes touching."""
        count = length or int(self.rng.integers(NUMBER_LENGTH[0], NUMBER_LENGTH[1] + 1))
        digits, label = self.digits(count)
        ink = compose_number(digits, self.rng, touching=self.rng.random() < TOUCHING)
        rgb, orientation = photograph(ink, kind, self.rng, self.rng.uniform(*NUMBER_HEIGHT), size)
        return Sample(encode_jpeg(rgb, orientation, self._quality(kind)), label, kind, (rgb.shape[1], rgb.shape[0]))
