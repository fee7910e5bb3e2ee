"""The Draw page's canvas (streamlit-drawable-canvas 0.13.0) made for a phone, a laptop and a keyboard.

The component draws well but offers no option for what Draw needs: its toolbar shows only under a
hovering mouse (touch screens never hover) with small icons, an edit mode that turns strokes
into draggable objects and an "update the app" button that changes nothing here; its canvas keeps
its pixel width on a narrower screen, so a phone cuts off its right part; Ctrl+Z does nothing.
Its elements live in a shadow root, out of reach of the page's CSS. So :func:`dress_canvases`
adopts ``canvas.css`` into that shadow root and binds the keys (``canvas.js``): the canvas scales
to its column (its pixels, and so the picture read, stay the same), and the toolbar under it
keeps undo, redo and reset (labelled Clear) only, always shown and a thumb's size. This is the
one place that knows the component's insides; ``tests/test_canvas.py`` fails when a new version
renames what it relies on.

The canvas sends its picture as a PNG data URL, and the component decodes it, whatever its size,
when ``image_data`` is read: a 73 KB PNG of 13000x13000 sent in place of a stroke would cost
1.5 GB. :func:`canvas_picture` reads the PNG's header first and decodes only a picture of the
canvas's own size.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import streamlit as st
from PIL import Image

BUTTON_SIDE_PX = 48  # the toolbar's buttons: a thumb's target (44 px in Apple's guidelines, 48 in Material)
DEVICE_SCALE_MAX = 3  # a canvas drawn on a high-density screen may send up to this many pixels per canvas pixel
_HERE = Path(__file__).parent
_CSS = (_HERE / "canvas.css").read_text()
_JS = (_HERE / "canvas.js").read_text()


def dress_canvases(width: int, height: int) -> None:
    """Restyles the page's drawing canvases and binds Ctrl+Z / Ctrl+Shift+Z (see the module's docstring).

    Call it right after the canvas, on every run that draws it; it renders nothing visible.

    Args:
        width: The canvas's width in its own pixels, as given to ``st_canvas``.
        height: Its height: with ``width``, the shape it keeps at any displayed size.
    """
    sizes = (
        f"--hdr-canvas-width: {width}px; --hdr-canvas-ratio: {width} / {height}; --hdr-button-size: {BUTTON_SIDE_PX}px"
    )
    css = f":host {{ {sizes}; }}\n{_CSS}"
    st.html(f"<script>({_JS.strip()})({json.dumps(css)});</script>", unsafe_allow_javascript=True)


class CanvasPictureError(ValueError):
    """The canvas sent a picture that is not of its own size (or not a PNG): it is not decoded."""


def canvas_picture(result, width: int, height: int) -> np.ndarray | None:
    """The canvas's picture as an array, decoded only if it is the canvas's size.

    Args:
        result: What ``st_canvas(..., return_image_data=True)`` returned.
        width: The canvas's width in its own pixels, as given to ``st_canvas``.
        height: Its height.

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
    except Image.DecompressionBombError:  # over twice Pillow's own pixel limit: refused by the header alone
        raise CanvasPictureError(
            f"The canvas sent a picture far larger than its {width}x{height}; nothing read"
        ) from None
    except (OSError, ValueError, SyntaxError):
        raise CanvasPictureError("The canvas sent something that is not a PNG; nothing read") from None
    if not (0 < picture.width <= width * DEVICE_SCALE_MAX and 0 < picture.height <= height * DEVICE_SCALE_MAX):
        raise CanvasPictureError(
            f"The canvas sent a {picture.width}x{picture.height} picture, not one of its own "
            f"{width}x{height}; nothing read"
        )
    return np.asarray(picture)
