"""The Live page's frame rate and latency, alone and while another tab draws on the Draw page.

Chromium's fake camera plays a clip of a held sheet with a number on it, drifting and tilting
(``synth.video``, written to a temporary folder). The Live tab streams it to one
``streamlit run app.py``; its component records, per frame read, when it was grabbed from the
video and when its reading was drawn (``window.hdrLive``). Then a second tab draws digits on the
Draw page the whole time (``bench.draw_load``'s strokes) while Live keeps streaming.

Before the browser runs, the clips' frames are read directly with :func:`hdr.inference.read.read_digits` at
a few longest sides, to choose how far the component reduces a frame (``ui.live.FRAME_SIDE``).

Usage:
    HDR_DATA_DIR=../shared/mnist python -m bench.live_camera [--seconds 20] [--strokes 12] [--sides 640 480 320]

Prints two markdown tables: per frame side, the share of frames read as the written number and
the median reading time; per run, readings per second, frame grabbed -> reading drawn (median,
p95), the share of readings that gave the written number, the time from the camera streaming to
the number first shown, and the Draw tab's mouse-up to prediction.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from playwright.async_api import async_playwright

from bench.draw_load import _start_server, _tab
from hdr.inference.predict import Predictor
from hdr.inference.read import read_digits
from hdr.training.data import load_mnist
from synth.browser import CHROMIUM_LAUNCH
from synth.video import paper_frames, write_y4m

VIEWPORT = {"width": 1280, "height": 900}
DIGITS = (0, 1, 2)  # MNIST test images 0-2: "721", the clip the browser plays
SIDE_CLIPS = ((0, 1, 2), (3, 4, 5, 6), (7, 8), (9, 10, 11))  # MNIST test images of the clips read at each side
SIDE_FRAME_STEP = 4  # every 4th frame of a clip: 15 poses through the motion
PAGE_MS = 120_000  # the first page of a fresh server waits for TensorFlow
LOST_AFTER_MS = 10_000


def measure_sides(mnist, sides: list[int]) -> None:
    """Prints, per longest side, the share of clip frames read as their number and the median time."""
    predictor = Predictor.load()
    clips = []
    for seed, digits in enumerate(SIDE_CLIPS):
        frames = paper_frames([mnist.x_test[i] for i in digits], np.random.default_rng(seed))[::SIDE_FRAME_STEP]
        clips.append((frames, "".join(str(int(mnist.y_test[i])) for i in digits)))
    read_digits(clips[0][0][0], predictor)  # warm-up: the first call pays one-off costs
    print("| frame side | frames read as the number | reading, median |")
    print("|---|---|---|")
    for side in sides:
        right, times = [], []
        for frames, label in clips:
            for frame in frames:
                scale = min(1.0, side / max(frame.shape[:2]))
                small = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
                start = time.perf_counter()
                right.append(read_digits(small, predictor).text == label)
                times.append(time.perf_counter() - start)
        print(f"| {side} px | {np.mean(right):.0%} of {len(right)} | {np.median(times) * 1000:.0f} ms |", flush=True)
    print()


def _frame(page):
    return page.frame(url=lambda u: "live_camera" in u)


async def _open_live(browser, url: str, label: str):
    """A tab on the Live page, waited on until it shows ``label``."""
    page = await (await browser.new_context(viewport=VIEWPORT)).new_page()
    await page.goto(f"{url}/live")
    number = page.frame_locator('iframe[src*="live_camera"]').get_by_test_id("live-number")
    await number.filter(has_text=label).wait_for(timeout=PAGE_MS)
    return page


async def _readings(page, seconds: float) -> list[dict]:
    """The readings the Live tab makes during the next ``seconds``."""
    frame = _frame(page)
    start = await frame.evaluate("() => window.hdrLive.readings.length")
    await asyncio.sleep(seconds)
    return (await frame.evaluate("() => window.hdrLive.readings"))[start:]


def _row(name: str, readings: list[dict], label: str, first_ms: float, strokes: list[float] | None) -> str:
    span = (readings[-1]["captured"] - readings[0]["captured"]) / 1000
    latency = np.array([r["latency"] for r in readings])
    right = np.mean([r["text"] == label for r in readings])
    draw = (
        "—"
        if strokes is None
        else f"{np.median(strokes) * 1000:.0f} / {np.percentile(strokes, 95) * 1000:.0f} / {max(strokes) * 1000:.0f} ms"
    )
    return (
        f"| {name} | {(len(readings) - 1) / span:.1f} | {np.median(latency):.0f} ms | {np.percentile(latency, 95):.0f} ms "
        f"| {right:.0%} | {first_ms:.0f} ms | {draw} |"
    )


async def _measure(url: str, video: Path, label: str, seconds: float, strokes: int) -> None:
    flags = [
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    async with async_playwright() as p:
        browser = await p.chromium.launch(**{**CHROMIUM_LAUNCH, "args": [*CHROMIUM_LAUNCH["args"], *flags]})
        page = await _open_live(browser, url, label)
        first_ms = (await _frame(page).evaluate("() => window.hdrLive.changes"))[0]["at"]
        print(_row("Live alone", await _readings(page, seconds), label, first_ms, None), flush=True)
        # A fresh Live tab, so its start is timed on a warm server too, then Draw strokes beside it.
        await page.context.close()
        page = await _open_live(browser, url, label)
        first_ms = (await _frame(page).evaluate("() => window.hdrLive.changes"))[0]["at"]
        frame = _frame(page)
        start = await frame.evaluate("() => window.hdrLive.readings.length")
        times, lost = await _tab(browser, url, strokes, LOST_AFTER_MS, "button")
        readings = (await frame.evaluate("() => window.hdrLive.readings"))[start:]
        print(_row(f"Live + Draw tab ({lost} strokes lost)", readings, label, first_ms, times), flush=True)
        await browser.close()


def main() -> None:
    """Makes the clip, starts a server, runs the benchmark and prints the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds of Live alone (default: 20)")
    parser.add_argument("--strokes", type=int, default=12, help="strokes drawn beside Live (default: 12)")
    parser.add_argument(
        "--sides", type=int, nargs="*", default=[640, 480, 320], help="frame sides read directly (default: 640 480 320)"
    )
    args = parser.parse_args()
    mnist = load_mnist()
    if args.sides:
        measure_sides(mnist, args.sides)
    label = "".join(str(int(mnist.y_test[i])) for i in DIGITS)
    with tempfile.TemporaryDirectory() as root:
        video = write_y4m(
            Path(root) / "paper.y4m", paper_frames([mnist.x_test[i] for i in DIGITS], np.random.default_rng(3))
        )
        process, url = _start_server(Path(root))
        try:
            print(
                "| run | readings/s | grabbed -> drawn, median | p95 | readings = number | stream -> number shown | Draw: mouse-up -> prediction, median / p95 / max |"
            )
            print("|---|---|---|---|---|---|---|")
            asyncio.run(_measure(url, video, label, args.seconds, args.strokes))
        finally:
            process.terminate()
            process.wait(timeout=15)


if __name__ == "__main__":
    main()
