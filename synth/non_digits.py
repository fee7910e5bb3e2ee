"""Pictures that are not digits, for the rejection benchmark and for training the digit gate.

Each kind is what a person hands the app when it is not a digit: letters and words from fonts
and drawn with a pen the way the Draw canvas sends them (``uint8 (280, 280, 4)`` RGBA, 10-25 px
pens; words on the 560x280 canvas), scribbles, shapes, dots and specks, and phone photos of blank,
ruled and textured paper, of printed letters and words, and of camera test patterns.

What is left out, honestly: a ring or an oval (a plausible 0), one straight stroke (a 1), and the
letters that are written like digits (:data:`LOOKALIKES`: O, I, l, S, Z, B, g, q, ...).

Three splits never share a picture: each has its own seeds, its own fonts (:data:`FONT_SPLITS`,
:data:`HERSHEY_SPLITS`), and :data:`HELD_OUT_KINDS` appear only in ``test``, so a gate trained on
``train`` and tuned on ``val`` is scored on letters, fonts and shapes it never saw.

Everything is drawn from a ``numpy.random.Generator``: the same split and seed give the same pictures.
"""

from __future__ import annotations

import string
import zlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from synth.canvas import STYLES, SUPERSAMPLE, pen_ink, to_rgba
from synth.photos import KINDS as PHOTO_KINDS
from synth.photos import PAPERS, PHOTO_SIDES, encode_jpeg, photograph

CANVAS = (280, 280)  # the single-digit canvas, (width, height)
WIDE_CANVAS = (560, 280)  # the Draw page's canvas, where words are written
PEN = (10, 25)  # pen widths the canvas draws with, px
WORD_PEN = (8, 18)  # words are written smaller, so with a thinner pen
SPLITS = ("train", "val", "test")
_SPLIT_SEED = {"train": 1_000_003, "val": 2_000_003, "test": 3_000_003}  # offsets: the splits never share a picture
LOOKALIKES = set("OoQDIilLjJ|SsZzBbGgqT") | {"-", "_", "/", "\\", "(", ")", "."}  # written like 0 1 2 5 6 8 9 7
LETTERS = "".join(c for c in string.ascii_letters if c not in LOOKALIKES)
SYMBOLS = "?#&@%+=*!"
WORDS = (
    "Hello", "name", "cat", "tree", "paper", "write", "apple", "the", "and", "yes", "Mark", "sun", "home",
    "water", "hand", "Anna", "rain", "key", "menu", "wave", "Max", "play", "happy", "mercy", "north", "fun",
    "Ava", "Fox", "verb", "chart", "yarn", "wax", "Kyra", "pen", "cup", "Hey", "hat", "cart", "Ren", "Eve",
)  # fmt: skip
KINDS = (
    "letter, font",
    "letter, pen",
    "symbol, pen",
    "word, pen",
    "word, photo",
    "letter, photo",
    "scribble",
    "smiley",
    "star",
    "square",
    "cross",
    "hatching",
    "spiral",
    "triangle",
    "zigzag",
    "wave",
    "sun",
    "house",
    "heart",
    "arrow",
    "dots",
    "specks",
    "blank paper photo",
    "ruled paper photo",
    "textured paper photo",
    "test pattern photo",
)
HELD_OUT_KINDS = ("heart", "arrow")  # only in the test split: shapes the gate never trained or was tuned on
# Font families by file-name prefix; every split has its own, and a family missing here falls back to PIL's own.
FONT_SPLITS = {
    "train": ("DejaVuSans", "DejaVuSerif", "Liberation", "NimbusSans-", "NimbusRoman", "dkg"),
    "val": ("C059", "URWGothic", "NimbusMono", "NimbusSansNarrow"),
    "test": ("P052", "URWBookman", "Z003", "Breip", "breip"),
}
FONT_FOLDERS = (Path("/usr/share/fonts/truetype"), Path("/usr/share/fonts/opentype"))
_H = cv2.FONT_ITALIC
HERSHEY_SPLITS = {  # OpenCV's single-stroke fonts: pen letters, as a hand draws them
    "train": (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX, cv2.FONT_HERSHEY_TRIPLEX),
    "val": (cv2.FONT_HERSHEY_PLAIN, cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, cv2.FONT_HERSHEY_SIMPLEX | _H),
    "test": (cv2.FONT_HERSHEY_SCRIPT_COMPLEX, cv2.FONT_HERSHEY_COMPLEX | _H, cv2.FONT_HERSHEY_TRIPLEX | _H),
}
BLANK_KINDS = ("clean", "tinted", "shadow", "noisy", "perspective", "board")  # synth.photos kinds for empty paper
TEXT_PHOTO_KINDS = tuple(k for k in PHOTO_KINDS if k != "exif")
TRAIN_PHOTO_SIDE = 480  # photos for training are this small (longest side), so thousands make quickly


@dataclass(frozen=True)
class NonDigit:
    """One generated picture that holds no digit."""

    picture: np.ndarray | bytes  # canvas drawings: uint8 (H, W, 4) RGBA; photos: JPEG bytes
    kind: str  # one of KINDS
    split: str  # one of SPLITS


def kinds(split: str) -> tuple[str, ...]:
    """The kinds a split holds: every kind in ``test``, all but :data:`HELD_OUT_KINDS` elsewhere."""
    return KINDS if split == "test" else tuple(k for k in KINDS if k not in HELD_OUT_KINDS)


@cache
def font_files(split: str) -> tuple[Path, ...]:
    """The installed font files of a split's families (:data:`FONT_SPLITS`), sorted; may be empty."""
    found = [p for folder in FONT_FOLDERS if folder.is_dir() for p in folder.rglob("*") if p.suffix in (".ttf", ".otf")]
    return tuple(sorted(p for p in found if p.name.startswith(FONT_SPLITS[split])))


def _font(split: str, size: int, rng: np.random.Generator) -> ImageFont.FreeTypeFont:
    files = font_files(split)
    if not files:  # no font package installed: PIL's own font, the same in every split
        return ImageFont.load_default(size)
    return ImageFont.truetype(str(files[int(rng.integers(len(files)))]), size)


def _text_ink(text: str, split: str, rng: np.random.Generator, size: int) -> np.ndarray:
    """Text in a font of the split, filled as print: ``float32 (h, w)`` ink in [0, 1], cropped to the ink."""
    font = _font(split, size, rng)
    left, top, right, bottom = font.getbbox(text)
    img = Image.new("L", (right - left + 4, bottom - top + 4), 0)
    ImageDraw.Draw(img).text((2 - left, 2 - top), text, fill=255, font=font)
    ink = np.asarray(img, np.float32) / 255.0
    ys, xs = np.nonzero(ink > 0.05)
    if ys.size == 0:
        return np.zeros((1, 1), np.float32)
    return ink[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]


def _shapes_to_canvas(strokes: list[np.ndarray], rng: np.random.Generator, size=CANVAS, pen=PEN) -> np.ndarray:
    """Unit-square strokes, placed at a random size and place on a canvas and drawn with a random pen: RGBA."""
    width, height = size
    side = rng.uniform(0.35, 0.85) * min(width, height)
    cx = rng.uniform(side / 2, width - side / 2) if width > side else width / 2
    cy = rng.uniform(side / 2, height - side / 2) if height > side else height / 2
    px = [
        np.column_stack([(cx + (s[:, 0] - 0.5) * side) * SUPERSAMPLE, (cy + (s[:, 1] - 0.5) * side) * SUPERSAMPLE])
        for s in strokes
    ]
    ink = pen_ink(px, size, int(rng.integers(pen[0], pen[1] + 1)))
    return to_rgba(ink, STYLES[int(rng.integers(len(STYLES)))])


def _jitter(points: np.ndarray, rng: np.random.Generator, amount: float = 0.015) -> np.ndarray:
    """A hand's wobble: smooth random offsets along a unit-square path."""
    n = len(points)
    wobble = cv2.GaussianBlur(rng.normal(0, 1, (n, 2)).astype(np.float32), (1, 0), max(1.0, n / 12)).reshape(n, 2)
    return points + amount * wobble / max(float(np.abs(wobble).max()), 1e-6)


def _arc(cx, cy, rx, ry, start, end, n=48) -> np.ndarray:
    a = np.radians(np.linspace(start, end, n))
    return np.column_stack([cx + rx * np.cos(a), cy + ry * np.sin(a)])


def _dot(x: float, y: float) -> np.ndarray:
    return np.array([[x, y]])


def _smiley(rng):
    face = [_arc(0.5, 0.5, 0.45, 0.45 * rng.uniform(0.9, 1.1), 0, 360, 64)] if rng.random() < 0.85 else []
    eyes = [_dot(0.35, 0.38), _dot(0.65, 0.38)] if rng.random() < 0.6 else [
        _arc(0.35, 0.38, 0.04, 0.06, 0, 360, 12), _arc(0.65, 0.38, 0.04, 0.06, 0, 360, 12)
    ]  # fmt: skip
    smile = rng.random() < 0.75
    mouth = _arc(0.5, 0.55 if smile else 0.8, 0.22, 0.15, 20 if smile else 200, 160 if smile else 340, 24)
    return face + eyes + [mouth]


def _star(rng):
    angles = np.radians(-90 + np.arange(5) * 72 + rng.uniform(-10, 10))
    tips = np.column_stack([0.5 + 0.47 * np.cos(angles), 0.5 + 0.47 * np.sin(angles)])
    style = rng.integers(3)
    if style == 0:  # a pentagram in one stroke
        return [tips[[0, 2, 4, 1, 3, 0]]]
    if style == 1:  # the outline of a star
        inner = np.radians(-54 + np.arange(5) * 72)
        inner_pts = np.column_stack([0.5 + 0.19 * np.cos(inner), 0.5 + 0.19 * np.sin(inner)])
        outline = np.empty((10, 2))
        outline[0::2], outline[1::2] = tips, inner_pts
        return [np.vstack([outline, outline[:1]])]
    arms = int(rng.integers(3, 5))  # an asterisk
    a = np.radians(rng.uniform(0, 180) + np.arange(arms) * 180 / arms)
    return [
        np.array([[0.5 - 0.45 * np.cos(t), 0.5 - 0.45 * np.sin(t)], [0.5 + 0.45 * np.cos(t), 0.5 + 0.45 * np.sin(t)]])
        for t in a
    ]


def _square(rng):
    w, h = rng.uniform(0.6, 0.95), rng.uniform(0.6, 0.95)
    box = np.array([[-w, -h], [w, -h], [w, h], [-w, h], [-w, -h]]) / 2
    t = np.radians(rng.uniform(-12, 12))
    rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    return [0.5 + box @ rot.T]


def _cross(rng):
    if rng.random() < 0.5:  # a plus
        return [np.array([[0.5, 0.05], [0.5, 0.95]]), np.array([[0.05, 0.5], [0.95, 0.5]])]
    return [np.array([[0.1, 0.1], [0.9, 0.9]]), np.array([[0.9, 0.1], [0.1, 0.9]])]


def _hatching(rng):
    n = int(rng.integers(4, 9))
    t = np.radians(rng.uniform(0, 180))
    d, along = np.array([np.cos(t), np.sin(t)]), np.array([-np.sin(t), np.cos(t)])
    lines = [np.array([0.5 + o * along - 0.45 * d, 0.5 + o * along + 0.45 * d]) for o in np.linspace(-0.42, 0.42, n)]
    if rng.random() < 0.4:  # cross-hatching
        lines += [np.column_stack([1 - line[:, 1], line[:, 0]]) for line in lines]
    return lines


def _spiral(rng):
    turns = rng.uniform(2.0, 4.0)
    a = np.linspace(0, 2 * np.pi * turns, int(60 * turns))
    r = 0.47 * a / a[-1]
    sign = 1 if rng.random() < 0.5 else -1
    return [np.column_stack([0.5 + r * np.cos(sign * a), 0.5 + r * np.sin(sign * a)])]


def _heart(rng):
    t = np.linspace(0, 2 * np.pi, 80)
    x = 16 * np.sin(t) ** 3
    y = -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t))
    return [np.column_stack([0.5 + x / 36, 0.45 + y / 36])]


def _arrow(rng):
    t = np.radians(rng.uniform(0, 360))
    d = np.array([np.cos(t), np.sin(t)])
    tail, head = 0.5 - 0.45 * d, 0.5 + 0.45 * d
    barbs = [head - 0.25 * (np.array([[np.cos(b), -np.sin(b)], [np.sin(b), np.cos(b)]]) @ d) for b in (0.5, -0.5)]
    return [np.array([tail, head]), np.array([barbs[0], head, barbs[1]])]


def _scribble(rng):
    """A tangle of loops: a sum of random waves, many turns, never one ring or one line."""
    t = np.linspace(0, 1, 240)
    xy = np.zeros((len(t), 2))
    for _ in range(3):
        f = rng.uniform(2, 7, 2)
        xy += rng.uniform(0.3, 1.0, 2) * np.sin(2 * np.pi * f[None] * t[:, None] + rng.uniform(0, 2 * np.pi, 2))
    xy -= xy.min(axis=0)
    xy /= np.maximum(xy.max(axis=0), 1e-6)
    return [0.05 + 0.9 * xy]


def _triangle(rng):
    a = np.radians(rng.uniform(0, 360) + np.array([0, 120, 240]) + rng.uniform(-15, 15, 3))
    pts = np.column_stack([0.5 + 0.45 * np.cos(a), 0.5 + 0.45 * np.sin(a)])
    return [np.vstack([pts, pts[:1]])]


def _zigzag(rng):
    n = int(rng.integers(5, 9))
    x = np.linspace(0.05, 0.95, n)
    y = 0.5 + np.where(np.arange(n) % 2, 1, -1) * rng.uniform(0.15, 0.35)
    pts = np.column_stack([x, y])
    return [pts[:, ::-1] if rng.random() < 0.3 else pts]


def _wave(rng):
    x = np.linspace(0.05, 0.95, 80)
    y = 0.5 + rng.uniform(0.1, 0.25) * np.sin(2 * np.pi * rng.uniform(1.5, 3.5) * x + rng.uniform(0, 2 * np.pi))
    return [np.column_stack([x, y])]


def _sun(rng):
    r = rng.uniform(0.15, 0.25)
    rays = int(rng.integers(6, 13))
    a = np.radians(rng.uniform(0, 360) + np.arange(rays) * 360 / rays)
    lines = [
        np.array(
            [
                [0.5 + (r + 0.05) * np.cos(t), 0.5 + (r + 0.05) * np.sin(t)],
                [0.5 + 0.47 * np.cos(t), 0.5 + 0.47 * np.sin(t)],
            ]
        )
        for t in a
    ]
    return [_arc(0.5, 0.5, r, r, 0, 360, 40), *lines]


def _house(rng):
    w, h = rng.uniform(0.5, 0.8), rng.uniform(0.35, 0.5)
    left, right, floor, wall = 0.5 - w / 2, 0.5 + w / 2, 0.95, 0.95 - h
    body = np.array([[left, wall], [left, floor], [right, floor], [right, wall], [left, wall]])
    roof = np.array([[left - 0.03, wall], [0.5, 0.05], [right + 0.03, wall]])
    return [body, roof]


SHAPES = {
    "triangle": _triangle,
    "zigzag": _zigzag,
    "wave": _wave,
    "sun": _sun,
    "house": _house,
    "scribble": _scribble,
    "smiley": _smiley,
    "star": _star,
    "square": _square,
    "cross": _cross,
    "hatching": _hatching,
    "spiral": _spiral,
    "heart": _heart,
    "arrow": _arrow,
}


LETTER_A = [
    np.array([(0.1, 0.95), (0.5, 0.05), (0.9, 0.95)]),
    np.array([(0.27, 0.6), (0.73, 0.6)]),
]  # the "4, 99.6%"


def draw_shape(
    strokes: list[np.ndarray], *, width: int = 18, height: float = 0.7, style: str = "black_on_transparent"
) -> np.ndarray:
    """Unit-square strokes drawn in the middle of the canvas, as :func:`synth.canvas.draw_digit` draws a digit: RGBA."""
    side = height * CANVAS[1] * SUPERSAMPLE
    px = [(np.asarray(s, np.float64) - 0.5) * side + np.array(CANVAS) * SUPERSAMPLE / 2 for s in strokes]
    return to_rgba(pen_ink(px, CANVAS, width), style)


def pen_text(text: str, split: str, rng: np.random.Generator, size=CANVAS, pen=PEN) -> np.ndarray:
    """Text in one of OpenCV's single-stroke fonts, written with a canvas pen, tilted and sheared: RGBA."""
    width, height = size
    font = HERSHEY_SPLITS[split][int(rng.integers(len(HERSHEY_SPLITS[split])))]
    stroke = int(rng.integers(pen[0], pen[1] + 1))
    (tw, th), base = cv2.getTextSize(text, font, 1.0, 1)
    scale = rng.uniform(0.45, 0.85) * min(width / tw, height / (th + base))
    big = np.zeros((height * SUPERSAMPLE, width * SUPERSAMPLE), np.uint8)
    w, h = tw * scale * SUPERSAMPLE, (th + base) * scale * SUPERSAMPLE
    org = (
        int((big.shape[1] - w) * rng.uniform(0.2, 0.8)),
        int((big.shape[0] - h) * rng.uniform(0.2, 0.8) + th * scale * SUPERSAMPLE),
    )
    cv2.putText(big, text, org, font, scale * SUPERSAMPLE, 255, stroke * SUPERSAMPLE, cv2.LINE_AA)
    shear, angle = rng.uniform(-0.25, 0.25), rng.uniform(-12, 12)
    matrix = cv2.getRotationMatrix2D((big.shape[1] / 2, big.shape[0] / 2), angle, 1.0)
    matrix[0, 1] += shear
    big = cv2.warpAffine(big, matrix, (big.shape[1], big.shape[0]), flags=cv2.INTER_LINEAR)
    ink = cv2.resize(big, size, interpolation=cv2.INTER_AREA)
    return to_rgba(ink, STYLES[int(rng.integers(len(STYLES)))])


def _font_canvas(text: str, split: str, rng: np.random.Generator) -> np.ndarray:
    """A printed letter placed on the canvas: RGBA."""
    ink = _text_ink(text, split, rng, size=160)
    side = rng.uniform(0.3, 0.8) * CANVAS[1]
    scale = side / max(ink.shape)
    small = cv2.resize(
        ink, (max(1, round(ink.shape[1] * scale)), max(1, round(ink.shape[0] * scale))), interpolation=cv2.INTER_AREA
    )
    canvas = np.zeros((CANVAS[1], CANVAS[0]), np.float32)
    y = int(rng.integers(0, CANVAS[1] - small.shape[0] + 1))
    x = int(rng.integers(0, CANVAS[0] - small.shape[1] + 1))
    canvas[y : y + small.shape[0], x : x + small.shape[1]] = small
    return to_rgba(np.round(canvas.clip(0, 1) * 255).astype(np.uint8), STYLES[int(rng.integers(len(STYLES)))])


def _photo_side(rng: np.random.Generator, small: bool) -> tuple[int, int]:
    width, height = PHOTO_SIDES[int(rng.integers(len(PHOTO_SIDES)))]
    if small:
        factor = TRAIN_PHOTO_SIDE / max(width, height)
        width, height = round(width * factor), round(height * factor)
    return width, height


def _text_photo(text: str, split: str, rng: np.random.Generator, small: bool, share: tuple[float, float]) -> bytes:
    ink = _text_ink(text, split, rng, size=96)
    kind = TEXT_PHOTO_KINDS[int(rng.integers(len(TEXT_PHOTO_KINDS)))]
    rgb, orientation = photograph(ink, kind, rng, rng.uniform(*share), _photo_side(rng, small))
    return encode_jpeg(rgb, orientation, int(rng.integers(70, 95)))


def _blank_photo(rng: np.random.Generator, kinds: tuple[str, ...], small: bool) -> bytes:
    kind = kinds[int(rng.integers(len(kinds)))]
    rgb, orientation = photograph(np.zeros((2, 2), np.float32), kind, rng, 0.2, _photo_side(rng, small))
    return encode_jpeg(rgb, orientation, int(rng.integers(60, 95)))


def _noise(shape: tuple[int, int], rng: np.random.Generator, octaves: int = 5) -> np.ndarray:
    """Smooth random texture, ``float32 (h, w)`` of zero mean and unit spread (sums of enlarged noise)."""
    h, w = shape
    total = np.zeros(shape, np.float32)
    for o in range(octaves):
        cells = 2 ** (o + 2)
        coarse = rng.normal(0, 1, (cells, max(2, round(cells * w / h)))).astype(np.float32)
        total += cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC) / (1.6**o)
    return (total - total.mean()) / max(float(total.std()), 1e-6)


def _textured_photo(rng: np.random.Generator, small: bool) -> bytes:
    """Crumpled, grainy or fibrous paper, cardboard or fabric, in uneven light."""
    width, height = _photo_side(rng, small)
    paper = np.array(PAPERS[int(rng.integers(len(PAPERS)))], np.float32) / 255
    if rng.random() < 0.3:  # cardboard, a wooden desk, fabric: darker and browner
        paper = paper * np.array([0.8, 0.68, 0.52], np.float32) * rng.uniform(0.7, 1.0)
    texture = rng.uniform(0.03, 0.12) * _noise((height, width), rng)
    grain = rng.uniform(0.01, 0.05) * rng.normal(0, 1, (height, width)).astype(np.float32)
    page = paper[None, None] * (1 + texture + grain)[..., None]
    for _ in range(int(rng.integers(0, 25))):  # fibres and creases: faint thin lines
        p = rng.uniform(0, 1, 2) * (width, height)
        q = p + rng.normal(0, 0.15, 2) * (width, height)
        shade = float(rng.uniform(0.85, 0.97))
        cv2.line(page, tuple(int(v) for v in p), tuple(int(v) for v in q), (paper * shade).tolist(), 1, cv2.LINE_AA)
    light = 1 - rng.uniform(0.0, 0.25) * (
        np.linspace(0, 1, width)[None] if rng.random() < 0.5 else np.linspace(0, 1, height)[:, None]
    )
    rgb = np.round(np.clip(page * light[..., None], 0, 1) * 255).astype(np.uint8)
    return encode_jpeg(rgb, 1, int(rng.integers(60, 95)))


def _test_pattern(rng: np.random.Generator, small: bool) -> bytes:
    """A camera's test card: colour bars, a checkerboard, a grid, a ramp, rings or a resolution star."""
    width, height = _photo_side(rng, small)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    style = int(rng.integers(6))
    if style == 0:  # colour bars over a strip of blue, black and white
        bars = np.array(
            [[192, 192, 192], [192, 192, 0], [0, 192, 192], [0, 192, 0], [192, 0, 192], [192, 0, 0], [0, 0, 192]]
        )
        rgb = bars[np.minimum((xs * 7 / width).astype(int), 6)]
        strip = ys > height * rng.uniform(0.65, 0.8)
        rgb[strip] = np.array([[0, 33, 76], [255, 255, 255], [50, 0, 106], [19, 19, 19]])[
            np.minimum((xs[strip] * 4 / width).astype(int), 3)
        ]
    elif style == 1:  # checkerboard
        cell = rng.uniform(0.04, 0.15) * min(width, height)
        rgb = (((xs // cell + ys // cell) % 2) * 255)[..., None].repeat(3, 2)
    elif style == 2:  # a grid of lines
        cell = int(rng.uniform(0.05, 0.15) * min(width, height))
        rgb = np.full((height, width, 3), 235.0)
        rgb[(xs.astype(int) % cell < 3) | (ys.astype(int) % cell < 3)] = 30
    elif style == 3:  # a grey or colour ramp
        ramp = xs / width if rng.random() < 0.5 else ys / height
        tint = rng.uniform(0.3, 1.0, 3)
        rgb = (ramp[..., None] * tint * 255).astype(np.float32)
    elif style == 4:  # concentric rings
        r = np.hypot(xs - width / 2, ys - height / 2)
        rgb = ((np.sin(r / rng.uniform(4, 20)) > 0) * 255.0)[..., None].repeat(3, 2)
    else:  # a Siemens star
        a = np.arctan2(ys - height / 2, xs - width / 2)
        rgb = ((np.sin(a * int(rng.integers(12, 40))) > 0) * 255.0)[..., None].repeat(3, 2)
    rgb = cv2.GaussianBlur(rgb.astype(np.float32), (0, 0), rng.uniform(0.5, 2.0))
    rgb += rng.normal(0, 4, rgb.shape).astype(np.float32)
    return encode_jpeg(np.clip(rgb, 0, 255).astype(np.uint8), 1, int(rng.integers(60, 95)))


def _dots(rng: np.random.Generator, count: tuple[int, int], pen: tuple[int, int]) -> np.ndarray:
    """Clicks of the pen on the canvas: RGBA."""
    n = int(rng.integers(count[0], count[1] + 1))
    points = [_dot(*(rng.uniform(0.1, 0.9, 2) * CANVAS * SUPERSAMPLE)) for _ in range(n)]
    ink = pen_ink(points, CANVAS, int(rng.integers(pen[0], pen[1] + 1)))
    return to_rgba(ink, STYLES[int(rng.integers(len(STYLES)))])


def make_non_digit(kind: str, split: str, rng: np.random.Generator, *, small_photos: bool = False) -> NonDigit:
    """One picture of ``kind`` drawn with ``split``'s fonts.

    Args:
        kind: One of :data:`KINDS`.
        split: One of :data:`SPLITS` (which fonts are used).
        rng: Random generator.
        small_photos: Photos at :data:`TRAIN_PHOTO_SIDE` instead of a phone's size (for training).

    Raises:
        KeyError: Unknown kind.
    """
    letters = LETTERS + SYMBOLS if kind == "symbol, pen" else LETTERS
    char = (
        SYMBOLS[int(rng.integers(len(SYMBOLS)))] if kind == "symbol, pen" else letters[int(rng.integers(len(letters)))]
    )
    word = WORDS[int(rng.integers(len(WORDS)))]
    makers = {
        "letter, font": lambda: _font_canvas(char, split, rng),
        "letter, pen": lambda: pen_text(char, split, rng, CANVAS, PEN),
        "symbol, pen": lambda: pen_text(char, split, rng, CANVAS, PEN),
        "word, pen": lambda: pen_text(word, split, rng, WIDE_CANVAS, WORD_PEN),
        "word, photo": lambda: _text_photo(word, split, rng, small_photos, (0.08, 0.3)),
        "letter, photo": lambda: _text_photo(char, split, rng, small_photos, (0.1, 0.6)),
        "dots": lambda: _dots(rng, (1, 3), PEN),
        "specks": lambda: _dots(rng, (4, 30), (2, 6)),
        "blank paper photo": lambda: _blank_photo(rng, BLANK_KINDS, small_photos),
        "ruled paper photo": lambda: _blank_photo(rng, ("ruled", "squared"), small_photos),
        "textured paper photo": lambda: _textured_photo(rng, small_photos),
        "test pattern photo": lambda: _test_pattern(rng, small_photos),
    }
    if kind in SHAPES:
        strokes = [
            _jitter(np.asarray(s, np.float64), rng) if len(s) > 2 else np.asarray(s, np.float64)
            for s in SHAPES[kind](rng)
        ]
        return NonDigit(_shapes_to_canvas(strokes, rng), kind, split)
    return NonDigit(makers[kind](), kind, split)


def non_digit_set(
    split: str, n_per_kind: int, seed: int = 0, *, small_photos: bool = False, only: tuple[str, ...] | None = None
) -> list[NonDigit]:
    """``n_per_kind`` pictures of every kind of ``split`` (:func:`kinds`), reproducibly.

    Args:
        split: One of :data:`SPLITS`; each has its own seeds and fonts, ``test`` its own kinds too.
        n_per_kind: Pictures per kind.
        seed: Which pictures, within the split.
        small_photos: See :func:`make_non_digit`.
        only: These kinds alone (the same pictures of each as in the whole set); None: every kind.
    """
    out = []
    for kind in kinds(split):
        if only is not None and kind not in only:
            continue
        rng = np.random.default_rng(
            [_SPLIT_SEED[split], seed, zlib.crc32(kind.encode())]
        )  # by name: kinds can be added
        out += [make_non_digit(kind, split, rng, small_photos=small_photos) for _ in range(n_per_kind)]
    return out
