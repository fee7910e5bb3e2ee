"""ui/canvas.py relies on the insides of streamlit-drawable-canvas and of Streamlit: fail when they change.

The behaviour itself (the toolbar, the canvas's width, Ctrl+Z) is checked in a real browser by
tests/test_browser_draw.py; these checks need no browser and name what went missing.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import streamlit

UI = Path(__file__).resolve().parent.parent / "ui"
OURS = (UI / "canvas.css").read_text() + (UI / "canvas.js").read_text()


def _component_frontend() -> str:
    """The drawable canvas's built JavaScript and CSS (the package is not imported: it registers a component)."""
    package = Path(importlib.util.find_spec("streamlit_drawable_canvas").origin).parent
    build = package / "frontend" / "build"
    return "".join(path.read_text() for path in sorted(build.glob("index-*")))


def test_every_class_of_the_canvas_we_restyle_is_still_there():
    frontend = _component_frontend()
    classes = set(re.findall(r"\.((?:dc|canvas)-[a-z-]+)", OURS))
    assert {"dc-root", "dc-toolbar", "dc-icon-button", "dc-container", "canvas-container"} <= classes
    missing = sorted(name for name in classes if f'"{name}"' not in frontend and f".{name}" not in frontend)
    assert not missing, f"streamlit-drawable-canvas no longer has {missing}: see ui/canvas.py"


def test_every_button_we_hide_rename_or_press_is_still_labelled_so():
    frontend = _component_frontend()
    labels = set(re.findall(r'aria-label="([^"$]+)"', OURS)) | {"Reset canvas & history", "Undo", "Redo"}
    missing = sorted(label for label in labels if f'"{label}"' not in frontend)
    assert not missing, f"streamlit-drawable-canvas no longer labels {missing}: see ui/canvas.py"


def test_streamlit_still_hosts_a_components_shadow_root_where_we_look_for_it():
    static = Path(streamlit.__file__).parent / "static" / "static" / "js"
    hosts = re.findall(r"data-testid=\"([^\"]+)\"\]'", OURS)
    assert hosts == ["stBidiComponentIsolated"]
    assert any(hosts[0] in path.read_text() for path in static.glob("BidiComponent*.js")), "see ui/canvas.py"
