"""The app in a real Chromium against a real ``streamlit run app.py``: draw, upload, train, inspect.

Each page's screenshot goes to ``$HDR_SCREENSHOTS_DIR`` (``make screenshots`` puts them in
``docs/screenshots/`` for the README). The server gets a copy of the models folder and an empty
feedback folder, so nothing here touches the repo's models.
Playwright and Chromium are required: without them these tests fail rather than skip.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Page, expect, sync_playwright

from synth.browser import CHROMIUM_LAUNCH
from synth.servers import free_port, serving, streamlit_command
from tests.app_support import copy_models
from ui.charts import BOX_COLOUR
from ui.navigation import APP_NAME, PAGES

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parent.parent
# Screenshots go where $HDR_SCREENSHOTS_DIR says (`make screenshots` points it at docs/screenshots for
# the README); by default to a temporary folder, so that running the tests leaves the checkout clean.
SCREENSHOTS = Path(os.environ.get("HDR_SCREENSHOTS_DIR") or Path(tempfile.gettempdir()) / "hdr-screenshots")
VIEWPORT = {"width": 1280, "height": 900}
PAGE_S = 60_000  # ms: first render of a page loads the model
PREDICT_S = 60_000  # ms: from mouse-up to the metric showing the digit (the first one may wait for the model)
TRAIN_S = 150_000  # ms: a one-epoch run on a few hundred images, then scoring on 10,000
CANVAS_SETTLE_TRIES = 100  # x 0.3-0.6 s
SCREENSHOT_COLOURS = 128  # palette PNGs keep each screenshot well under 300 KB

# Pen paths in a unit square (y down), drawn into a box on the canvas.
STROKES = {
    1: [[(0.5, 0.05), (0.5, 0.95)]],
    4: [[(0.6, 0.05), (0.1, 0.65), (0.9, 0.65)], [(0.6, 0.3), (0.6, 0.95)]],
    7: [[(0.1, 0.08), (0.9, 0.08), (0.4, 0.95)]],
    0: [[(0.5 + 0.32 * np.sin(a), 0.5 - 0.45 * np.cos(a)) for a in np.linspace(0, 2 * np.pi, 36)]],
    "A": [[(0.1, 0.95), (0.5, 0.05), (0.9, 0.95)], [(0.27, 0.6), (0.73, 0.6)]],
}


expect.set_options(timeout=PAGE_S)


@contextlib.contextmanager
def _streamlit(root: Path) -> Iterator[str]:
    """A fresh ``streamlit run app.py`` on a free port, with its own models and feedback folders in ``root``."""
    env = dict(os.environ, HDR_MODELS_DIR=str(copy_models(root / "models")), HDR_FEEDBACK_DIR=str(root / "feedback"))
    port = free_port()
    try:
        with serving(streamlit_command(port), port, env=env, log=root / "streamlit.log") as (url, _):
            yield url
    except RuntimeError as exc:
        if "did not start" not in str(exc):
            raise
        pytest.fail(str(exc))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The server the module's tests share."""
    with _streamlit(tmp_path_factory.mktemp("browser")) as url:
        yield url


@pytest.fixture(scope="module")
def page(server):
    """One Chromium tab for the whole module, opened on the app's first page."""
    with sync_playwright() as p:
        browser = p.chromium.launch(**CHROMIUM_LAUNCH)
        tab = browser.new_page(viewport=VIEWPORT)
        tab.set_default_timeout(PAGE_S)
        tab.goto(server)
        yield tab
        browser.close()


def _screenshot(page: Page, name: str) -> None:
    """Saves the visible page as a small palette PNG for the README."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    image = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
    image.quantize(colors=SCREENSHOT_COLOURS).save(SCREENSHOTS / f"{name}.png", optimize=True)


def _prediction(page: Page):
    return (
        page.locator('[data-testid="stMetric"]').filter(has_text="Prediction").locator('[data-testid="stMetricValue"]')
    )


def _draw(page: Page, digit: int | str) -> None:
    """Draws ``digit`` on the canvas with mouse moves, stroke by stroke, as soon as the canvas is on screen."""
    canvas = page.locator("canvas.upper-canvas")
    box = None
    for _ in range(CANVAS_SETTLE_TRIES):  # the first time, the canvas may still be laying itself out
        if canvas.count() == 1 and canvas.is_visible():
            box = canvas.bounding_box()
            if box and box["width"] > 0:
                break
        page.wait_for_timeout(300)
    assert box is not None, "the canvas never settled"
    side = box["height"] * 0.8  # the digit's box, centred on the canvas
    left, top = box["x"] + (box["width"] - side) / 2, box["y"] + box["height"] * 0.1
    for stroke in STROKES[digit]:
        points = [(left + x * side, top + y * side) for x, y in stroke]
        page.mouse.move(*points[0])
        page.mouse.down()
        for point in points[1:]:
            page.mouse.move(*point, steps=4)
        page.mouse.up()


def _go(page: Page, title: str) -> None:
    page.get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible()


def test_draw_1_7_0_each_drawn_as_soon_as_clear_answers(page):
    expect(page.get_by_text("Draw a digit")).to_be_visible()
    _draw(page, 4)
    expect(_prediction(page)).not_to_have_text("—", timeout=PREDICT_S)
    canvas = page.locator("canvas.upper-canvas").element_handle()
    for digit in (1, 7, 0):
        page.get_by_role("button", name="Clear").click()
        expect(_prediction(page)).to_have_text("—")
        _draw(page, digit)  # at once: the canvas is emptied in place, nothing remounts under the pen
        expect(_prediction(page)).to_have_text(str(digit), timeout=PREDICT_S)
        expect(page.get_by_text("Number")).to_have_count(0)  # the old strokes are gone, not read beside it
        assert page.evaluate("el => el.isConnected", canvas), "Clear remounted the canvas"


def test_a_letter_drawn_on_draw_says_no_digit_here(page):
    page.get_by_role("button", name="Clear").click()  # what an earlier test drew
    expect(page.get_by_text("Draw a digit")).to_be_visible()
    _draw(page, "A")  # the case: "4, 99.6% confident"
    expect(_prediction(page)).to_have_text("No digit here", timeout=PREDICT_S)
    expect(page.get_by_text("No digit here: ")).to_be_visible()
    _screenshot(page, "draw-not-a-digit")


def _paper_photo(digit: np.ndarray) -> bytes:
    """An MNIST digit as a phone photo of ink on paper: large, grey-white paper, dark ink, JPEG."""
    ink = cv2.resize(digit, (360, 360), interpolation=cv2.INTER_CUBIC).astype(np.float32) / 255.0
    paper = np.full((900, 700), 228.0, np.float32) + np.random.default_rng(0).normal(0, 4, (900, 700))
    paper[270:630, 170:530] -= ink * 190
    buffer = io.BytesIO()
    Image.fromarray(np.clip(paper, 0, 255).astype(np.uint8)).convert("RGB").save(buffer, format="JPEG", quality=88)
    return buffer.getvalue()


def test_upload_photo_and_junk(page, mnist):
    _go(page, "Upload")
    files = page.locator('input[type="file"]')
    files.set_input_files([{"name": "digit.jpg", "mimeType": "image/jpeg", "buffer": _paper_photo(mnist.x_test[0])}])
    expect(_prediction(page)).to_have_text(str(mnist.y_test[0]), timeout=PREDICT_S)
    page.wait_for_timeout(1000)
    _screenshot(page, "upload")
    files.set_input_files([{"name": "broken.png", "mimeType": "image/png", "buffer": b"this is not a picture"}])
    # The error under the picture (the batch table says it too, once its grid is drawn).
    expect(page.get_by_test_id("stAlertContentError").get_by_text("broken.png: not an image")).to_be_visible()
    expect(page.get_by_text("Traceback")).to_have_count(0)


def _photo_12mp(digit: np.ndarray) -> bytes:
    """A 12-megapixel phone photo (4000x3000, landscape) of a digit in ink on paper, as JPEG."""
    height, width, side = 3000, 4000, 1200
    ink = cv2.resize(digit, (side, side), interpolation=cv2.INTER_CUBIC).astype(np.float32) / 255.0
    paper = np.full((height, width), 228.0, np.float32) + np.random.default_rng(0).normal(0, 4, (height, width))
    top, left = (height - side) // 2, (width - side) // 2
    paper[top : top + side, left : left + side] -= ink * 190
    buffer = io.BytesIO()
    Image.fromarray(np.clip(paper, 0, 255).astype(np.uint8)).convert("RGB").save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def _settled(page: Page) -> None:
    """Waits until the app's script run has ended (Streamlit marks it on its root element)."""
    expect(page.locator('[data-testid="stApp"]')).to_have_attribute("data-test-script-state", "notRunning")


def test_upload_12_megapixel_photo_shows_its_box_on_the_picture(page, server, mnist):
    page.goto(f"{server}/upload")  # a fresh session: an empty uploader, whatever ran before
    expect(page.get_by_role("heading", name="Upload", exact=True)).to_be_visible()
    _settled(page)  # a file set while the page still reruns can be dropped with the old uploader
    page.locator('input[type="file"]').set_input_files(
        [{"name": "phone.jpg", "mimeType": "image/jpeg", "buffer": _photo_12mp(mnist.x_test[0])}]
    )
    shown = page.locator('[data-testid="stImage"]').filter(has_text="4000x3000")  # the file's size, not the shown one
    expect(shown).to_be_visible(timeout=PREDICT_S)
    pixels = np.asarray(Image.open(io.BytesIO(shown.locator("img").screenshot())).convert("RGB")).astype(int)
    red = np.argwhere(np.abs(pixels - BOX_COLOUR).max(axis=2) < 40)  # the box's outline and label, as displayed
    assert len(red) > 100, "no box drawn on the shown picture"
    (y0, x0), (y1, x1) = red.min(axis=0), red.max(axis=0)
    height, width = pixels.shape[:2]
    assert y0 < height / 2 < y1 and x0 < width / 2 < x1, "the box is not around the digit in the middle"


def test_train_starts_on_the_quick_preset_with_its_estimate_and_finishes(page):
    _go(page, "Train")
    expect(page.get_by_text(re.compile(r"Estimated time: \d+"))).to_be_visible(timeout=60_000)
    expect(page.get_by_label("Architecture")).to_have_value(re.compile(r"^quicknet"))  # the quick preset's
    field = page.get_by_label("Use only N images (0 = all)")
    field.fill("500")
    field.press("Tab")
    expect(page.get_by_text(re.compile(r"for \d+ epochs of 500 images"))).to_be_visible()
    page.get_by_role("button", name="Start training").click()
    expect(page.locator('[data-testid="stPlotlyChart"]').first).to_be_visible(timeout=TRAIN_S)
    expect(page.get_by_text(re.compile(r"Saved quicknet-.*test accuracy"))).to_be_visible(timeout=TRAIN_S)
    try:
        expect(page.get_by_role("button", name=re.compile(r"^Activate quicknet-"))).to_be_visible()
    except AssertionError:
        (REPO / "tests" / "artifacts").mkdir(parents=True, exist_ok=True)  # gitignored
        page.screenshot(path=REPO / "tests" / "artifacts" / "train-failure.png")
        raise
    page.get_by_role("heading", name="Last job").hover()
    page.mouse.wheel(0, VIEWPORT["height"] * 0.75)  # down to the curves and the confusion matrix
    page.wait_for_timeout(1000)
    _screenshot(page, "train")


LAPTOP = {"width": 1366, "height": 768}


def _sidebar_epoch(tab: Page) -> int | None:
    """The epoch the sidebar's training line shows, or None when it shows none."""
    line = tab.locator('[data-testid="stSidebar"]').get_by_text(re.compile(r"^Training \w+: epoch \d+/"))
    if line.count() == 0:
        return None
    return int(re.search(r"epoch (\d+)/", line.first.inner_text())[1])


def test_train_refuses_a_bad_field_then_runs_in_view_with_a_live_sidebar(page, server):
    tab = page.context.browser.new_page(viewport=LAPTOP)
    tab.set_default_timeout(PAGE_S)
    tab.goto(f"{server}/train")
    expect(tab.get_by_role("heading", name="Train", exact=True)).to_be_visible()
    epochs = tab.get_by_role("spinbutton", name="Epochs")
    epochs.fill("100000")
    epochs.press("Tab")
    expect(tab.get_by_text("Epochs must be 1..1000, got 100000")).to_be_visible()
    expect(epochs).to_have_value("100000")  # as typed, not silently back to the last valid value
    expect(tab.get_by_role("button", name="Start training")).to_be_disabled()
    epochs.fill("12")
    epochs.press("Tab")
    field = tab.get_by_label("Use only N images (0 = all)")
    field.fill("2000")
    field.press("Tab")
    expect(tab.get_by_text(re.compile(r"for 12 epochs of 2,000 images"))).to_be_visible()
    tab.get_by_role("button", name="Start training").click()
    progress = tab.locator('[data-testid="stProgress"]')
    expect(progress).to_be_visible(timeout=TRAIN_S)
    expect(progress).to_be_in_viewport(ratio=1)  # in view, though Start was pressed at the foot of the form
    expect(tab.locator('[data-testid="stPlotlyChart"]').first).to_be_in_viewport(ratio=0.5, timeout=TRAIN_S)
    tab.wait_for_timeout(1000)  # the curves drawn
    _screenshot(tab, "train-running")
    tab.get_by_text("Settings of the next run (locked while this one runs)").click()  # folded away, and locked
    expect(tab.get_by_role("spinbutton", name="Epochs")).to_be_disabled()
    expect(tab.get_by_role("button", name="Start training")).to_be_disabled()
    tab.get_by_role("link", name="Draw").click()  # another page: its sidebar follows the job on its own
    expect(tab.get_by_text("Draw a digit")).to_be_visible()
    deadline = time.monotonic() + TRAIN_S / 1000
    first = None
    while time.monotonic() < deadline:  # no click, no stroke: only the sidebar's own polling
        epoch = _sidebar_epoch(tab)
        first = first or epoch
        if first is not None and epoch is not None and epoch > first:
            break
        tab.wait_for_timeout(250)
    assert first is not None and epoch > first, f"the sidebar stayed at epoch {first}"
    # The run goes on to its twelfth epoch and its scoring, which on a busy machine takes minutes:
    # it must end, and the sidebar say so, however long the machine makes it.
    expect(tab.locator('[data-testid="stSidebar"]').get_by_text(re.compile(r"^Last job: "))).to_be_visible(
        timeout=4 * TRAIN_S
    )
    tab.close()


def test_about_the_model_downloads_the_active_model_as_keras_and_tflite(page, server):
    _go(page, "About the model")
    expect(page.get_by_text("What it misreads in real handwriting")).to_be_visible()
    expect(page.locator('[data-testid="stDataFrame"]').first).to_be_visible()
    page.wait_for_timeout(2000)  # the tables drawn
    _screenshot(page, "about")
    # One click right after the other: a download must not rerun the page, whose rerun would
    # replace the file the other button holds (Streamlit registers a new one on every run).
    with page.expect_download() as keras_file:
        page.get_by_role("button", name="Keras (.keras)").click()
    with page.expect_download(timeout=TRAIN_S) as lite_file:  # converted on the click: the ensemble takes a while
        page.get_by_role("button", name="LiteRT (.tflite)").click()
    keras_bytes = Path(keras_file.value.path()).read_bytes()
    assert keras_bytes == (REPO / "models" / "default.keras").read_bytes()
    lite = Path(lite_file.value.path()).read_bytes()
    assert lite_file.value.suggested_filename == "default.tflite" and lite[4:8] == b"TFL3"  # a LiteRT flatbuffer


def test_api_docs_page_is_linked_from_the_sidebar_and_readable(page, server):
    page.goto(server)
    link = page.locator('[data-testid="stSidebar"]').get_by_role("link", name="API docs")
    expect(link).to_have_attribute("href", "/api/docs")
    page.goto(f"{server}/api/docs")
    expect(page.get_by_role("heading", name="HDR digit API")).to_be_visible()
    expect(page.get_by_role("heading", name="POST/api/predict")).to_be_visible()
    _screenshot(page, "api-docs")
    page.goto(server)  # back in the app: the module's later tests share this tab
    expect(page.get_by_role("link", name="Models")).to_be_visible()


@pytest.mark.parametrize(("path", "title"), [(Path(path).stem, title) for path, title, _ in PAGES])
def test_a_deep_link_on_a_fresh_server_opens_the_page_inside_the_app(page, tmp_path, path, title):
    # Before any st.navigation call, Streamlit runs pages/<page>.py alone for /<page> (its old
    # pages/ folder navigation, which would list the files: "app", "draw", ...); the page must
    # hand over to app.py's navigation: our titles in the sidebar, the tab named by run_app.
    with _streamlit(tmp_path) as url:
        tab = page.context.browser.new_page(viewport=VIEWPORT)  # the module's Chromium: one Playwright at a time
        tab.set_default_timeout(PAGE_S)
        tab.goto(f"{url}/{path}")
        expect(tab).to_have_title(f"{title} · {APP_NAME}")
        nav = tab.locator('[data-testid="stSidebarNav"]')
        for _, name, _ in PAGES:
            expect(nav.get_by_text(name, exact=True)).to_be_visible()
        expect(nav.get_by_text("app", exact=True)).to_have_count(0)
        tab.close()


def test_models_page(page):
    _go(page, "Models")
    expect(page.get_by_text("Most confused pairs")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^#\d+: \d → \d$")).first).to_be_visible()
    page.wait_for_timeout(1500)
    _screenshot(page, "models")
