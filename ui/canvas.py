"""The Draw page's canvas: its picture held to the canvas's size, and Clear without losing a stroke.

The canvas sends its picture as a PNG data URL, and the component decodes it, whatever its size,
when ``image_data`` is read: a 73 KB PNG of 13000x13000 sent in place of a stroke would cost
1.5 GB. :func:`canvas_picture` reads the PNG's header first and decodes only a picture of the
canvas's own size.

The canvas is emptied by handing it a new ``initial_drawing``, which it loads in place. That
drawing reaches the browser one server run after the click; a stroke finished in between would
be wiped with the old ones. So the strokes present at the click are remembered, and a stroke
that arrives on top of them before the clear has landed is handed back to the canvas.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

DEVICE_SCALE_MAX = 3  # a canvas drawn on a high-density screen may send up to this many pixels per canvas pixel


class CanvasPictureError(ValueError):
    """The canvas sent a picture that is not of its own size (or not a PNG): it is not decoded."""


def canvas_picture(result, width: int, height: int) -> np.ndarray | None:
    """The canvas's picture as an array, decoded only if it is the canvas's size.

    Args:
        result: What ``st_canvas(..., return_image_data=True)`` returned.
        width, height: The canvas's size in CSS pixels.

    Returns:
        ``uint8 (H, W, 4)`` RGBA, or None when the canvas sent no picture.

    Raises:
        CanvasPictureError: Not a PNG, or larger than the canvas (at most
            :data:`DEVICE_SCALE_MAX` times each side).
    """
    data = result.image_bytes  # the PNG's bytes, not decoded (``image_data`` would decode it, any size)
    if data is None:
        return None
    try:
        picture = Image.open(io.BytesIO(data), formats=("PNG",))
    except (OSError, ValueError, SyntaxError):
        raise CanvasPictureError("The canvas sent something that is not a PNG; nothing read") from None
    if not (0 < picture.width <= width * DEVICE_SCALE_MAX and 0 < picture.height <= height * DEVICE_SCALE_MAX):
        raise CanvasPictureError(
            f"The canvas sent a {picture.width}x{picture.height} picture, not one of its own "
            f"{width}x{height}; nothing read"
        )
    return np.asarray(picture)


@dataclass(frozen=True)
class CanvasClear:
    """What the Draw page keeps between runs to clear its canvas."""

    seed: dict = field(default_factory=lambda: {"objects": []})  # the canvas's ``initial_drawing``
    cleared: tuple | None = None  # the strokes present when Clear was pressed, until the clear lands
    generation: int = 0  # bumped whenever ``seed`` must be loaded again, even if equal to an earlier one

    def clear(self, objects: list) -> CanvasClear:
        """Clear was pressed while the canvas held ``objects``."""
        if not objects:
            return self
        generation = self.generation + 1
        return CanvasClear(_seed([], generation), tuple(objects), generation)

    def update(self, objects: list) -> CanvasClear:
        """The canvas now sends ``objects``: forget a landed clear, or hand back strokes it would wipe."""
        if self.cleared is None:
            return self
        n = len(self.cleared)
        if tuple(objects[:n]) != self.cleared:
            return CanvasClear(self.seed, None, self.generation)  # the clear has landed
        if len(objects) == n:
            return self  # the browser has not loaded the empty canvas yet
        generation = self.generation + 1  # new strokes on top of the cleared ones: keep only them
        return CanvasClear(_seed(list(objects[n:]), generation), None, generation)

    def pending(self, objects: list) -> bool:
        """True while ``objects`` still holds cleared strokes: the canvas picture is stale."""
        return self.cleared is not None and tuple(objects[: len(self.cleared)]) == self.cleared


def _seed(objects: list, generation: int) -> dict:
    """An ``initial_drawing`` the canvas loads in place; the generation makes each one new to it."""
    return {"objects": objects, "hdrClear": generation}
