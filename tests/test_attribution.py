"""The "What the network looked at" toggle: on the Upload page (AppTest) and on Draw in a real Chromium."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect
from streamlit.testing.v1 import AppTest

from hdr.settings import FEEDBACK_DIR_ENV, MODELS_DIR_ENV
from tests.app_support import copy_models
from tests.test_browser import PREDICT_S, _draw, _prediction, _screenshot, page, server  # noqa: F401 - fixtures
from ui.attribution import TOGGLE_LABEL

APP = str(Path(__file__).resolve().parent.parent / "app.py")
TIMEOUT = 120  # seconds per script run: the first one loads TensorFlow and the model on busy cores


@pytest.fixture
def upload_page(tmp_path, monkeypatch, mnist):
    """The Upload page with a photo of MNIST's first test digit (a 7), on a copy of the models."""
    monkeypatch.setenv(MODELS_DIR_ENV, str(copy_models(tmp_path / "models")))
    monkeypatch.setenv(FEEDBACK_DIR_ENV, str(tmp_path / "feedback"))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page("pages/upload.py").run()
    paper = 255 - np.kron(mnist.x_test[0], np.ones((8, 8), np.uint8))  # dark ink on white paper
    buffer = io.BytesIO()
    Image.fromarray(paper).save(buffer, format="PNG")
    at.file_uploader(key="uploads").set_value(("seven.png", buffer.getvalue(), "image/png"))
    at.run()
    assert not at.exception, at.exception
    return at


def _captions(at: AppTest) -> list[str]:
    return [img.caption for element in at.get("image") for img in element.proto.imgs]


def test_maps_are_shown_only_when_asked(upload_page):
    at = upload_page
    toggle = at.toggle(key="upload-0-explain")
    assert toggle.label == TOGGLE_LABEL and toggle.value is False
    assert not [c for c in _captions(at) if c.startswith("Evidence for")]  # nothing computed while off
    toggle.set_value(True).run()
    assert not at.exception, at.exception
    evidence = [c for c in _captions(at) if c.startswith("Evidence for")]
    assert len(evidence) == 2, _captions(at)
    assert evidence[0].startswith("Evidence for 7 (predicted")
    assert "(runner-up" in evidence[1] and not evidence[1].startswith("Evidence for 7")


@pytest.mark.browser
def test_draw_shows_the_maps_in_a_real_browser(page):  # noqa: F811 - the imported fixture
    """A 7 drawn with the mouse, the toggle turned on: two maps appear; the README's screenshot."""
    expect(page.get_by_text("Draw a digit")).to_be_visible()
    _draw(page, 7)
    expect(_prediction(page)).to_have_text("7", timeout=PREDICT_S)
    maps = page.get_by_text(re.compile(r"^Evidence for \d"))
    expect(maps).to_have_count(0)  # off by default: nothing computed
    page.get_by_text(TOGGLE_LABEL).click()
    expect(maps).to_have_count(2, timeout=PREDICT_S)
    expect(maps.first).to_contain_text("Evidence for 7 (predicted")
    maps.first.scroll_into_view_if_needed()
    page.mouse.move(1, 1)  # no hover: the maps' fullscreen button stays hidden
    page.wait_for_timeout(1000)  # let the bars finish their transition
    _screenshot(page, "draw-explain")
