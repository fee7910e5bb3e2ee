"""The damage training draws from: random families of :mod:`hdr.imaging.degrade`'s kinds at random strengths.

Training damages a share of every batch (see :mod:`hdr.training.train`) by a family drawn from a
mix, each at a strength spread around (and beyond) the benchmark's fixed points, so the model
learns the kinds of damage rather than a few settings. The benchmark's own conditions are in
:mod:`hdr.imaging.degrade`.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from hdr.imaging.degrade import (
    Condition,
    block_scan,
    blurred,
    broken,
    faint,
    half_faint,
    jpeg,
    light_on_dark,
    low_resolution,
    pen_width,
    pencil,
    salt_and_pepper,
    scanned_small,
    small_in_large,
)


def _side(rng: np.random.Generator, low: int, high: int) -> int:
    """A scan's side in pixels, log-uniform in [low, high]: small scans as often as large ones, per octave."""
    return int(np.clip(round(float(np.exp(rng.uniform(np.log(low - 0.5), np.log(high + 0.5))))), low, high))


# "basic" is the first mix and the default (kept so the commands on the cards of networks
# trained with it still make them). "heavy" gives the hardest kinds (low resolution, blur, a thick or
# thin pen) twice the weight and more of their strongest strengths, pixelated enlargements, and
# small scans of a digit alone handed over at their own size; "scans" adds the tiniest scans and
# "blocks" scans counted in blocks of a black-and-white bitmap, as the UCI forms were.
_INTERPOLATIONS = (cv2.INTER_LINEAR, cv2.INTER_CUBIC)
_ENLARGE = (cv2.INTER_LINEAR, cv2.INTER_CUBIC, cv2.INTER_NEAREST)
_BASIC_PENS = (-1.0, -0.75, -0.5, 0.5, 1.0, 1.5, 2.0, 2.5)
_COMMON: tuple[Callable[[np.random.Generator], Condition], ...] = (
    lambda rng: faint(float(rng.uniform(0.25, 0.7))),
    lambda rng: pencil(float(rng.uniform(0.2, 0.6))),
    lambda rng: half_faint(float(rng.uniform(0.25, 0.6))),
    lambda rng: broken(int(rng.integers(1, 7))),
    lambda rng: light_on_dark,
    lambda rng: salt_and_pepper(float(rng.uniform(0.01, 0.08))),
    lambda rng: jpeg(int(rng.integers(5, 41))),
    lambda rng: small_in_large,
)


def _low_res(rng: np.random.Generator) -> Condition:
    """Scanned at 7-20 px (log-uniform), enlarged smoothly or pixelated."""
    return low_resolution(_side(rng, 7, 20), _ENLARGE[int(rng.integers(len(_ENLARGE)))])


def _blur(rng: np.random.Generator) -> Condition:
    """Out of focus by 0.6-2.8 MNIST pixels."""
    return blurred(float(rng.uniform(0.6, 2.8)))


def _pen(rng: np.random.Generator) -> Condition:
    """A fine pen to a marker 3 MNIST pixels thicker a side."""
    return pen_width(float(rng.choice([*_BASIC_PENS, 3.0])))


def _tiny_low_res(rng: np.random.Generator) -> Condition:
    """Scanned at 7-11 px (log-uniform; the digit itself 5-8 px), enlarged smoothly or pixelated."""
    return low_resolution(_side(rng, 7, 11), _ENLARGE[int(rng.integers(len(_ENLARGE)))])


def _tiny_scan(rng: np.random.Generator) -> Condition:
    """A digit alone scanned at 7-10 px, in 16 grey steps or smooth, handed over at that size."""
    return scanned_small(_side(rng, 7, 10), [None, 16][int(rng.integers(2))])


def _block_scan(rng: np.random.Generator, enlarge: int | None) -> Condition:
    """A block scan of 6-10 px, the pen as written or one bitmap pixel wider a side, ink black above 25-60%."""
    pen, threshold = int(rng.integers(2)), float(rng.uniform(0.25, 0.6))
    interpolation = _INTERPOLATIONS[int(rng.integers(2))]
    return block_scan(int(rng.integers(6, 11)), pen, threshold, enlarge, interpolation)


DAMAGE_MIXES: dict[str, tuple[Callable[[np.random.Generator], Condition], ...]] = {
    "basic": (
        lambda rng: low_resolution(int(rng.integers(7, 21)), _INTERPOLATIONS[int(rng.integers(2))]),
        lambda rng: blurred(float(rng.uniform(0.6, 2.5))),
        *_COMMON[:4],
        lambda rng: pen_width(float(rng.choice(_BASIC_PENS))),
        *_COMMON[4:],
    ),
    "heavy": (
        _low_res,
        _low_res,
        lambda rng: scanned_small(_side(rng, 7, 16), [None, 16][int(rng.integers(2))]),
        _blur,
        _blur,
        _pen,
        _pen,
        *_COMMON,
    ),
    # "heavy" with the tiniest scans (a digit of 5-10 px) as often again as all of its low-res kinds
    "scans": (
        _low_res,
        _low_res,
        lambda rng: scanned_small(_side(rng, 7, 16), [None, 16][int(rng.integers(2))]),
        _tiny_low_res,
        _tiny_low_res,
        _tiny_scan,
        _blur,
        _blur,
        _pen,
        _pen,
        *_COMMON,
    ),
}
DAMAGE_MIXES["blocks"] = (  # "heavy" with block scans (a UCI-like 6-10 px scan), at their size or enlarged
    *DAMAGE_MIXES["heavy"],
    lambda rng: _block_scan(rng, None),
    lambda rng: _block_scan(rng, _side(rng, 24, 128)),
)
DAMAGE = DAMAGE_MIXES["basic"]


def random_damage(digit: np.ndarray, rng: np.random.Generator, mix: str = "basic") -> np.ndarray:
    """One MNIST digit damaged by a random family of ``DAMAGE_MIXES[mix]`` at a random strength (training)."""
    families = DAMAGE_MIXES[mix]
    return families[int(rng.integers(len(families)))](rng)(digit, rng)
