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
"""

from __future__ import annotations

import json
from pathlib import Path

import streamlit as st

BUTTON_SIDE_PX = 48  # the toolbar's buttons: a thumb's target (44 px in Apple's guidelines, 48 in Material)
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
