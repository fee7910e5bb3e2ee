"""The Live page in a real Chromium whose fake camera plays a video of a held piece of paper with a number.

The video is made at test time (``synth.video``) in a temporary folder. Playwright and Chromium are
required: without them these tests fail rather than skip.
"""

from __future__ import annotations

import numpy as np
import pytest
from playwright.sync_api import expect, sync_playwright

from synth.browser import CHROMIUM_LAUNCH
from synth.video import PERIOD_S, paper_frames, write_y4m
from tests.test_browser import PAGE_S, VIEWPORT, _streamlit

pytestmark = pytest.mark.browser

DIGITS = (0, 1, 2)  # MNIST test images 0-2: "721"
FIRST_READING_MS = 2000  # the number shows within 2 s of the camera starting to stream
MIN_READINGS_PER_S = 3
SAMPLE_MS = 200  # how often the number is looked at while the paper moves
COMPONENT = 'iframe[src*="live_camera"]'
RED_PIXELS_JS = """() => {
    const c = document.getElementById("overlay");
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let red = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] > 200 && d[i + 1] < 100 && d[i + 3] > 0) red++;
    return red;
}"""


@pytest.fixture(scope="module")
def video(tmp_path_factory, mnist):
    """A y4m clip of the paper moving and tilting through one cycle, and the number written on it."""
    frames = paper_frames([mnist.x_test[i] for i in DIGITS], np.random.default_rng(3))
    path = write_y4m(tmp_path_factory.mktemp("live") / "paper.y4m", frames)
    return path, "".join(str(int(mnist.y_test[i])) for i in DIGITS)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with _streamlit(tmp_path_factory.mktemp("live-server")) as url:
        yield url


def _browser(p, *flags: str):
    return p.chromium.launch(**{**CHROMIUM_LAUNCH, "args": [*CHROMIUM_LAUNCH["args"], *flags]})


def _filming(p, video_path):
    """A Chromium whose fake camera, allowed without asking, plays ``video_path``."""
    return _browser(
        p,
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={video_path}",
    )


def test_live_reads_the_held_number_within_2_s_and_follows_it(server, video):
    path, label = video
    with sync_playwright() as p:
        browser = _filming(p, path)
        page = browser.new_page(viewport=VIEWPORT)
        page.set_default_timeout(PAGE_S)
        page.goto(f"{server}/live")
        expect(page.get_by_role("heading", name="Live", exact=True)).to_be_visible(timeout=PAGE_S)
        live = page.frame_locator(COMPONENT)
        expect(live.get_by_test_id("live-number")).to_have_text(label, timeout=PAGE_S)
        frame = page.frame(url=lambda u: "live_camera" in u)
        changes = frame.evaluate("() => window.hdrLive.changes")
        assert changes[0]["text"] == label, changes  # no other number was ever shown first
        readings = frame.evaluate("() => window.hdrLive.readings")
        assert changes[0]["at"] <= FIRST_READING_MS, (changes, readings[:5])
        assert frame.evaluate("() => document.getElementById('overlay').dataset.boxes") == str(len(label))
        assert frame.evaluate(RED_PIXELS_JS) > 0, "no box drawn on the video"

        shown, start = [], frame.evaluate("() => window.hdrLive.readings.length")
        for _ in range(round(PERIOD_S * 1000 / SAMPLE_MS)):  # one full cycle of drifting, tilting and zooming
            page.wait_for_timeout(SAMPLE_MS)
            shown.append(frame.evaluate("() => document.getElementById('number').textContent"))
        assert set(shown) == {label}, shown
        readings = frame.evaluate("() => window.hdrLive.readings")[start:]
        seconds = (readings[-1]["captured"] - readings[0]["captured"]) / 1000
        assert (len(readings) - 1) / seconds >= MIN_READINGS_PER_S, readings
        assert sum(r["text"] == label for r in readings) >= len(readings) // 2, readings

        live.get_by_role("button", name="Freeze").click()
        expect(page.get_by_role("heading", name="Frozen frame")).to_be_visible()
        number = page.locator('[data-testid="stMetric"]').filter(has_text="Number")
        expect(number.locator('[data-testid="stMetricValue"]')).to_have_text(label, timeout=PAGE_S)
        expect(page.get_by_text("Traceback")).to_have_count(0)

        live.get_by_role("button", name="Resume").click()
        expect(page.get_by_role("heading", name="Frozen frame")).to_have_count(0)
        # The page reran: the component may be a new frame with a new stream. End that one's camera.
        frame = page.frame(url=lambda u: "live_camera" in u)
        frame.wait_for_function(
            "() => { const v = document.getElementById('video'); return v.srcObject && !v.paused; }"
        )
        frame.evaluate(
            "() => document.getElementById('video').srcObject.getVideoTracks()[0].dispatchEvent(new Event('ended'))"
        )
        expect(live.get_by_test_id("live-status")).to_have_text(
            "The camera went away: plug it back in, then reload the page."
        )
        count = frame.evaluate("() => window.hdrLive.readings.length")
        page.wait_for_timeout(1000)
        assert frame.evaluate("() => window.hdrLive.readings.length") <= count + 1  # one may have been in flight
        browser.close()


def test_the_camera_lost_while_a_frame_is_read_keeps_its_line(server, video):
    path, label = video
    with sync_playwright() as p:
        browser = _filming(p, path)
        page = browser.new_page(viewport=VIEWPORT)
        page.set_default_timeout(PAGE_S)
        held = []
        page.goto(f"{server}/live")
        live = page.frame_locator(COMPONENT)
        expect(live.get_by_test_id("live-number")).to_have_text(label, timeout=PAGE_S)
        page.route("**/api/read", lambda route: held.append(route))  # the next frame's reading waits here, in flight
        frame = page.frame(url=lambda u: "live_camera" in u)
        frame.wait_for_function("() => document.getElementById('video').srcObject")
        deadline = PAGE_S / 1000
        while not held and deadline > 0:
            page.wait_for_timeout(50)
            deadline -= 0.05
        assert held, "no frame was sent to /api/read"
        frame.evaluate(
            "() => document.getElementById('video').srcObject.getVideoTracks()[0].dispatchEvent(new Event('ended'))"
        )
        gone = "The camera went away: plug it back in, then reload the page."
        expect(live.get_by_test_id("live-status")).to_have_text(gone)
        held[0].continue_()  # the reading comes back after the camera went away
        page.wait_for_timeout(1000)
        expect(live.get_by_test_id("live-status")).to_have_text(gone)
        browser.close()


CAMERA_PROBLEMS = {
    # A camera, but the permission prompt is answered no (headless Chromium denies without the fake UI).
    "refused": (
        ["--use-fake-device-for-media-stream"],
        "Camera access was refused: allow the camera for this site in the browser, then reload the page.",
    ),
    # Permission given, but no camera at all on this machine.
    "no camera": (["--use-fake-ui-for-media-stream"], "No camera found: plug one in, then reload the page."),
}


@pytest.mark.parametrize("case", CAMERA_PROBLEMS)
def test_live_camera_problem_is_one_line_and_the_app_works_on(server, case):
    flags, message = CAMERA_PROBLEMS[case]
    with sync_playwright() as p:
        browser = _browser(p, *flags)
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(f"{server}/live")
        live = page.frame_locator(COMPONENT)
        expect(live.get_by_test_id("live-status")).to_have_text(message, timeout=PAGE_S)
        expect(live.get_by_role("button", name="Freeze")).to_be_disabled()
        page.get_by_role("link", name="Upload").click()  # the rest of the app still works
        expect(page.get_by_role("heading", name="Upload", exact=True)).to_be_visible(timeout=PAGE_S)
        browser.close()
