"""AppTest: the limits a page puts on what a visitor (or the owner's own typing) can make it do.

The canvas's picture is decoded only at the canvas's size; the Train page's estimate times a few
small batches once per network; the feedback folder stops at its quota; upload names are shown
as written, never as Markdown; files in other formats than the README's are refused in one line.
"""

from __future__ import annotations

import base64
import html
import io
import re
import sys

import numpy as np
import pytest
from markdown_it import MarkdownIt
from PIL import Image

from hdr.settings import FEEDBACK_MAX_SAMPLES_ENV
from hdr.training import presets
from tests.app_support import mnist_digit_rgba
from tests.test_app import _png, _run, app_dirs  # noqa: F401 - app_dirs: the fixture
from ui.widgets import plain_text

BOMB_SIDE = 13_000  # 169 megapixels in a PNG of a few KB: 676 MB decoded as RGBA


def _png_data_url(picture: Image.Image) -> str:
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


@pytest.fixture
def canvas_sends(app_dirs, monkeypatch):  # noqa: F811
    """The Draw page, its canvas made to send a given picture with one stroke; anything decoding it the component's way fails.

    Yields a function that sets the picture and runs the page again.
    """
    at = _run()  # the component can only be imported once a page run has registered it
    streamlit_drawable_canvas = sys.modules["streamlit_drawable_canvas"]
    sent = {}

    def st_canvas(**kwargs):
        return streamlit_drawable_canvas.CanvasResult(
            json_data={"objects": [{"type": "path", "path": [["M", 1, 1]]}]},
            image_data_url=sent["url"],
            return_image_data=True,
        )

    def never(self):
        raise AssertionError("the canvas's data URL was decoded by the component, at whatever size it has")

    monkeypatch.setattr(streamlit_drawable_canvas, "st_canvas", st_canvas)
    monkeypatch.setattr(streamlit_drawable_canvas.CanvasResult, "image_data", property(never))

    def send(picture: Image.Image):
        sent["url"] = _png_data_url(picture)
        return at.run()

    return send


@pytest.mark.parametrize(
    ("side", "warning"),
    [
        (BOMB_SIDE, f"The canvas sent a {BOMB_SIDE}x{BOMB_SIDE} picture, not one of its own 560x280; nothing read"),
        (20_000, "The canvas sent a picture far larger than its 560x280; nothing read"),  # past Pillow's own limit
    ],
)
def test_a_huge_picture_sent_as_a_stroke_is_never_decoded(canvas_sends, side, warning):
    at = canvas_sends(Image.new("1", (side, side)))
    assert not at.exception, at.exception
    assert [w.value for w in at.warning] == [warning]
    assert not [m for m in at.metric if m.label == "Prediction" and m.value != "—"]


def test_a_drawing_of_the_canvas_size_is_still_read(canvas_sends, mnist):
    digit = np.zeros((280, 560, 4), np.uint8)
    digit[:, 140:420] = mnist_digit_rgba(mnist.x_test[0])
    at = canvas_sends(Image.fromarray(digit, "RGBA"))
    assert not at.exception and not at.warning
    assert [m.value for m in at.metric if m.label == "Prediction"] == [str(mnist.y_test[0])]


def test_typing_a_huge_batch_size_times_one_small_measurement(app_dirs, monkeypatch):  # noqa: F811
    timed = []

    def measured(config):
        timed.append(config.batch_size)
        return 1_000.0

    monkeypatch.setattr(presets, "measure_throughput", measured)
    at = _run("pages/train.py")
    for typed in (8, 81, 819, 8192, 4096, 2048, 1024, 512):  # as someone types, then corrects it
        at.number_input(key="batch_size").set_value(typed).run()
        assert not at.exception
        assert any(i.value.startswith("Estimated time") for i in at.info)
    over = [b for b in timed if b >= presets.MEASURE_BATCH_MAX]
    assert max(timed) <= presets.MEASURE_BATCH_MAX and len(over) <= 1, timed  # 819 and up: one entry at the cap


def test_saving_feedback_past_the_quota_says_the_folder_is_full(app_dirs, mnist, monkeypatch):  # noqa: F811
    _, feedback = app_dirs
    monkeypatch.setenv(FEEDBACK_MAX_SAMPLES_ENV, "0")
    at = _run("pages/upload.py")
    at.file_uploader(key="uploads").set_value(
        ("digit.png", _png(255 - np.kron(mnist.x_test[1], np.ones((8, 8), np.uint8))), "image/png")
    )
    at.run()
    [label] = [s for s in at.selectbox if s.label.startswith("Wrong?")]
    label.set_value(5)
    at.button[-1].click()
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "Not saved: the feedback folder is full (0 samples, 0.0 MB; its quota is 0 samples and 500 MB): "
        "fine-tune on them, then move some out"
    ]
    assert not feedback.exists() or not list(feedback.rglob("*.png"))


def _rendered(markdown: str) -> str:
    """What a CommonMark renderer (as Streamlit's frontend is) makes of a line."""
    return MarkdownIt("commonmark").renderInline(markdown)


def test_upload_names_are_shown_as_written_never_as_markdown(app_dirs, mnist):  # noqa: F811
    fetches = "![x](http://127.0.0.1:9/pixel.png) **bold** :red[red] $x$.png"
    link = "[click](http://127.0.0.1:9/).png"
    photo = _png(255 - np.kron(mnist.x_test[0], np.ones((8, 8), np.uint8)))
    eps = io.BytesIO()
    Image.new("RGB", (16, 16), "white").save(eps, format="EPS")  # Ghostscript would render it
    at = _run("pages/upload.py")
    at.file_uploader(key="uploads").set_value([(fetches, photo, "image/png"), (link, eps.getvalue(), "image/png")])
    at.run()
    assert not at.exception
    digit = str(mnist.y_test[0])
    labels = [
        x.label for x in at.expander if x.label.startswith(plain_text(fetches)) or x.label.startswith(plain_text(link))
    ]
    assert labels == [plain_text(f"{fetches}: {digit}"), plain_text(f"{link}: error")], labels
    shown = [*labels, *(e.value for e in at.error)]
    for markdown in shown:
        rendered = _rendered(markdown)
        assert "<img" not in rendered and "<a " not in rendered and "<strong>" not in rendered, rendered
    assert html.unescape(_rendered(shown[0])) == f"{fetches}: {digit}"
    [refused] = [e.value for e in at.error]
    assert html.unescape(_rendered(refused)) == (
        f"{link}: not an image in an accepted format (PNG, JPEG, WebP, BMP or HEIC)"
    )
    assert re.fullmatch(r"[^\n]+", refused)
