"""Draw as people use it, in a real Chromium: a laptop's 1366x768 screen and a phone's 390x844 with touch.

A finger draws through Chromium's DevTools protocol (``Input.dispatchTouchEvent``), as a phone's
touch screen does. The screenshots (``$HDR_SCREENSHOTS_DIR``, see tests/test_browser.py) are
the README's and docs/app.md's pictures of Draw.
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from synth.browser import CHROMIUM_LAUNCH, touch_events
from tests.test_browser import PAGE_S, PREDICT_S, STROKES, _draw, _prediction, _screenshot, _streamlit

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
THUMB_PX = 44  # the smallest target a thumb hits reliably (Apple's guidelines; Material says 48)
MIN_CONTRAST = 4.5  # WCAG AA for body text
TOOLBAR = ("Undo", "Redo", "Clear")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with _streamlit(tmp_path_factory.mktemp("draw")) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        chromium = p.chromium.launch(**CHROMIUM_LAUNCH)
        yield chromium
        chromium.close()


def _open(browser, server: str, viewport: dict, *, touch: bool = False, scheme: str = "light") -> Page:
    """A fresh tab (its own session) on Draw, blank canvas shown."""
    context = browser.new_context(viewport=viewport, has_touch=touch, is_mobile=touch, color_scheme=scheme)
    page = context.new_page()
    page.set_default_timeout(PAGE_S)
    page.goto(server)
    expect(page.get_by_text("Draw a digit")).to_be_visible()
    return page


def _finger(page: Page, digit: int) -> None:
    """Draws ``digit`` on the canvas with touch events, as a finger on a phone's screen."""
    session = page.context.new_cdp_session(page)
    box = page.locator("canvas.upper-canvas").bounding_box()
    side = box["height"] * 0.8
    left, top = box["x"] + (box["width"] - side) / 2, box["y"] + box["height"] * 0.1
    for stroke in STROKES[digit]:
        for event in touch_events([(left + x * side, top + y * side) for x, y in stroke]):
            session.send("Input.dispatchTouchEvent", event)


def _box(page: Page, selector: str) -> dict:
    locator = page.locator(selector).first
    expect(locator).to_be_visible()
    return locator.bounding_box()


def _in_view(box: dict, viewport: dict) -> bool:
    return box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= viewport["width"] and box["y"] + box["height"] <= viewport["height"]  # fmt: skip


def _no_sideways_scroll(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _toolbar_is_for_thumbs(page: Page) -> None:
    """Undo, redo and clear shown with the pointer away from the canvas, a thumb's size; no other button."""
    page.mouse.move(1, 1)  # no hover over the canvas: what a touch screen shows
    for name in TOOLBAR:
        button = page.get_by_role("button", name=name, exact=True)
        expect(button).to_have_count(1)  # one Clear, one trash icon
        expect(button).to_be_visible()
        # The page dresses the canvas's own toolbar once the canvas has drawn: give it a moment.
        deadline = time.monotonic() + PAGE_S / 1000
        while True:
            canvas, box = page.locator("canvas.upper-canvas").bounding_box(), button.bounding_box()
            below = box["y"] >= canvas["y"] + canvas["height"] - 1
            if below or time.monotonic() > deadline:
                break
            page.wait_for_timeout(100)
        assert box["width"] >= THUMB_PX and box["height"] >= THUMB_PX, (name, box)
        assert below, f"{name} covers the canvas"
    for trap in ("Edit", "Update the app with this drawing"):
        expect(page.get_by_role("button", name=trap, exact=True)).to_have_count(0)


def test_laptop_shows_the_canvas_and_the_whole_answer_side_by_side_without_scrolling(browser, server):
    page = _open(browser, server, LAPTOP)
    expect(page.get_by_role("heading", name="HDR", exact=True)).to_be_visible()  # the app's name, and what it does
    expect(page.get_by_text(re.compile(r"^HDR reads handwritten digits"))).to_be_visible()
    assert page.title() == "Draw · HDR"
    _toolbar_is_for_thumbs(page)
    _draw(page, 7)
    expect(_prediction(page)).to_have_text("7", timeout=PREDICT_S)
    expect(page.get_by_text(re.compile(r"^(>99\.9|\d{1,2}\.\d)% confident$"))).to_be_visible()  # never "100.0%"
    page.wait_for_timeout(1000)  # let the bars finish their transition
    assert page.evaluate("window.scrollY") == 0
    canvas = _box(page, "canvas.upper-canvas")
    digit = _box(page, '[data-testid="stMetric"]')
    bars = _box(page, '[data-testid="stPlotlyChart"]')
    seen = _box(page, '[data-testid="stImage"]')  # the 28x28 input
    for name, box in (("canvas", canvas), ("digit", digit), ("bars", bars), ("28x28 input", seen)):
        assert _in_view(box, LAPTOP), f"the {name} is out of view at 1366x768: {box}"
    assert digit["x"] >= canvas["x"] + canvas["width"] and digit["y"] < canvas["y"] + canvas["height"], (
        "not side by side"
    )
    _screenshot(page, "draw")
    page.context.close()


def test_ctrl_z_undoes_a_stroke_and_ctrl_shift_z_redoes_it(browser, server):
    page = _open(browser, server, LAPTOP)
    _draw(page, 7)
    expect(_prediction(page)).to_have_text("7", timeout=PREDICT_S)
    page.keyboard.press("Control+z")
    expect(_prediction(page)).to_have_text("—")
    page.keyboard.press("Control+Shift+z")
    expect(_prediction(page)).to_have_text("7")
    page.get_by_role("link", name="Upload").click()  # a canvas mounted anew is dressed too
    expect(page.get_by_role("heading", name="Upload", exact=True)).to_be_visible()
    page.get_by_role("link", name="Draw").click()
    expect(page.get_by_text("Draw a digit")).to_be_visible()
    _toolbar_is_for_thumbs(page)
    page.context.close()


def test_the_explanation_toggle_stays_on_across_clear_and_its_maps_have_a_legend(browser, server):
    page = _open(browser, server, LAPTOP)
    toggle = page.locator(".st-key-draw-explain input[type=checkbox]")
    _draw(page, 7)
    expect(_prediction(page)).to_have_text("7", timeout=PREDICT_S)
    page.get_by_text("What the network looked at").click()
    maps = page.get_by_text(re.compile(r"^Evidence for \d"))
    expect(maps).to_have_count(2, timeout=PREDICT_S)
    expect(page.get_by_text(re.compile(r"^Blue: evidence against the digit"))).to_be_visible()
    page.get_by_role("button", name="Clear", exact=True).click()
    expect(_prediction(page)).to_have_text("—")
    expect(toggle).to_be_checked()
    _draw(page, 1)
    expect(_prediction(page)).to_have_text("1", timeout=PREDICT_S)
    expect(maps).to_have_count(2, timeout=PREDICT_S)  # shown again without asking twice
    page.context.close()


def test_phone_canvas_fits_the_screen_and_a_finger_draws_a_7(browser, server):
    page = _open(browser, server, PHONE, touch=True)
    canvas = _box(page, "canvas.upper-canvas")
    assert canvas["x"] >= 0 and canvas["x"] + canvas["width"] <= PHONE["width"], f"the canvas is cut off: {canvas}"
    assert _no_sideways_scroll(page)
    _toolbar_is_for_thumbs(page)
    _finger(page, 7)
    expect(_prediction(page)).to_have_text("7", timeout=PREDICT_S)
    digit = _box(page, '[data-testid="stMetric"]')
    assert digit["x"] + digit["width"] <= PHONE["width"] and _no_sideways_scroll(page)
    page.wait_for_timeout(1000)
    _screenshot(page, "draw-phone")
    page.context.close()


def _luminance(css_colour: str) -> float:
    """WCAG relative luminance of an ``rgb(...)``/``rgba(...)`` colour."""
    channels = [int(v) / 255 for v in re.findall(r"\d+", css_colour)[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_theme_follows_the_system_and_stays_readable(browser, server, scheme):
    page = _open(browser, server, LAPTOP, scheme=scheme)
    colours = page.evaluate(
        """() => {
            const app = getComputedStyle(document.querySelector('[data-testid="stApp"]'));
            return [app.backgroundColor, getComputedStyle(document.querySelector("h1")).color];
        }"""
    )
    background, text = (_luminance(c) for c in colours)
    assert (background > 0.5) == (scheme == "light"), f"{scheme} system, background {colours[0]}"
    contrast = (max(background, text) + 0.05) / (min(background, text) + 0.05)
    assert contrast >= MIN_CONTRAST, colours
    if scheme == "dark":
        _draw(page, 7)
        expect(_prediction(page)).to_have_text("7", timeout=PREDICT_S)
        page.wait_for_timeout(1000)
        _screenshot(page, "draw-dark")
    page.context.close()
