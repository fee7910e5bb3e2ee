"""The Live camera component: the webcam's video in the browser, read through HDR's own ``/api/read``.

A small static custom component (``ui/live_component/index.html``, no build step, no WebRTC):
the browser grabs a frame, reduces it to :data:`FRAME_SIDE`, posts it as a JPEG to
``/api/read`` and draws the answer's boxes over the video; the next frame is grabbed only when
that answer is in, so frames are dropped, never queued, and the server reads at most
:data:`MAX_READINGS_PER_S` frames a second per tab. Freezing sends the frame back to the page.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

import streamlit.components.v1 as components

MAX_READINGS_PER_S = 6  # per tab: about a third of two cores at ~50 ms a frame, so the other pages stay quick
# Frames are reduced to this longest side before they are sent: a webcam's VGA as it is, 720p and
# 1080p reduced. On the held-paper clips the answers at 640, 480 and 320 px are the same
# (bench/live_camera.py); 640 keeps the pixels for digits held farther away.
FRAME_SIDE = 640
STEADY_FRAMES = 3  # the number shown changes once the same text was read this many frames in a row
API_URL = "../../api/read"  # from the component's page, /component/<name>/index.html, to the app's /api/read

_component = components.declare_component("live_camera", path=str(Path(__file__).parent / "live_component"))


@dataclass(frozen=True)
class FrozenFrame:
    """The frame the user froze, as it was read."""

    jpeg: bytes  # the frame as sent to /api/read, whose boxes were drawn when it was frozen


def live_camera(*, key: str) -> FrozenFrame | None:
    """Shows the live camera with its readings; returns the frozen frame, or None while live."""
    value = _component(
        api_url=API_URL,
        read_side=FRAME_SIDE,
        max_fps=MAX_READINGS_PER_S,
        steady_frames=STEADY_FRAMES,
        key=key,
        default=None,
    )
    if not value:
        return None
    return FrozenFrame(_data_url_bytes(value["frame"]))


def _data_url_bytes(data_url: str) -> bytes:
    """The bytes of a ``data:<type>;base64,...`` URL."""
    return base64.b64decode(data_url.split(",", 1)[1])
