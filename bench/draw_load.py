"""The Draw page under load: 1, 2 and 4 Chromium tabs drawing at once against one ``streamlit run app.py``.

Each tab, in a loop: press the canvas's Clear, wait for the empty prediction, draw a "1" or a "7" with mouse
moves, and time from mouse-up to that digit shown as the prediction. A stroke whose digit is not
shown within ``--lost-after`` seconds counts as lost. The server gets a copy of the models folder
and an empty feedback folder.

With ``--phone`` each tab is a 390x844 touch screen and a finger draws (Chromium's DevTools
touch events); the time runs from the finger's lift.

Usage:
    HDR_DATA_DIR=../shared/mnist python -m bench.draw_load [--strokes 12] [--tabs 1 2 4] [--phone]

Prints a markdown table: tabs, strokes, median and p95 mouse-up to prediction, strokes lost.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
from playwright.async_api import Page, async_playwright

from synth.browser import CHROMIUM_LAUNCH, touch_events
from synth.servers import free_port

REPO = Path(__file__).resolve().parent.parent
VIEWPORT = {"width": 1280, "height": 900}
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
SERVER_START_S = 90  # TensorFlow imports slowly on two busy cores
FIRST_PREDICTION_MS = 90_000  # the first stroke of a tab may wait for the model to load
MOVE_STEPS = 4  # mouse-move events between two points of a stroke
# Pen paths in a unit square (y down), drawn into a box on the canvas; alternated so every
# stroke changes the answer.
STROKES = {"1": [(0.5, 0.05), (0.5, 0.95)], "7": [(0.1, 0.08), (0.9, 0.08), (0.4, 0.95)]}
# The text of the "Prediction" metric, or null while there is none.
PREDICTION_JS = """() => {
    const metric = [...document.querySelectorAll('[data-testid="stMetric"]')].find(m => m.textContent.includes("Prediction"));
    return metric ? metric.querySelector('[data-testid="stMetricValue"]').textContent.trim() : null;
}"""


def _start_server(root: Path) -> tuple[subprocess.Popen, str]:
    """``streamlit run app.py`` on a free port with its own models and feedback folders."""
    models = root / "models"
    models.mkdir()
    for suffix in (".keras", ".json"):
        shutil.copy2(REPO / "models" / f"default{suffix}", models)
    env = dict(os.environ, HDR_MODELS_DIR=str(models), HDR_FEEDBACK_DIR=str(root / "feedback"))
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return process, url
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise RuntimeError("streamlit did not start")


async def _stroke(page: Page, digit: str, finger=None) -> None:
    """Draws ``digit`` centred on the canvas: with mouse moves (the button still down), or with ``finger``.

    ``finger`` is a CDP session of the page: the finger lifts at the end, as a touch stroke must.
    """
    box = await page.locator("canvas.upper-canvas").bounding_box()
    side = box["height"] * 0.8
    left, top = box["x"] + (box["width"] - side) / 2, box["y"] + box["height"] * 0.1
    points = [(left + x * side, top + y * side) for x, y in STROKES[digit]]
    if finger is not None:
        for event in touch_events(points, MOVE_STEPS):
            await finger.send("Input.dispatchTouchEvent", event)
        return
    await page.mouse.move(*points[0])
    await page.mouse.down()
    for point in points[1:]:
        await page.mouse.move(*point, steps=MOVE_STEPS)


async def _shown(page: Page, text: str, timeout_ms: float) -> bool:
    """Waits until the prediction shows ``text``; False on timeout."""
    try:
        await page.wait_for_function(
            f"text => ({PREDICTION_JS})() === text", arg=text, polling="raf", timeout=timeout_ms
        )
        return True
    except Exception:  # Playwright's TimeoutError
        return False


async def _tab(browser, url: str, strokes: int, lost_after_ms: float, phone: bool) -> tuple[list[float], int]:
    """One tab drawing ``strokes`` digits; returns mouse-up (finger-lift) to prediction times (s) and strokes lost."""
    page = await (await browser.new_context(**(PHONE if phone else {"viewport": VIEWPORT}))).new_page()
    finger = await page.context.new_cdp_session(page) if phone else None
    await page.goto(url)
    await page.get_by_text("Draw a digit").wait_for(timeout=FIRST_PREDICTION_MS)
    await _stroke(page, "7", finger)  # warm-up: the first prediction waits for the model
    if finger is None:
        await page.mouse.up()
    await _shown(page, "7", FIRST_PREDICTION_MS)
    times, lost = [], 0
    for n in range(strokes):
        digit = "1" if n % 2 == 0 else "7"
        await page.get_by_role("button", name="Clear", exact=True).click()  # emptied in the browser, then sent
        await _shown(page, "—", lost_after_ms)
        if finger is None:
            await _stroke(page, digit)
            start = time.perf_counter()
            await page.mouse.up()
        else:
            await _stroke(page, digit, finger)  # the last event lifts the finger
            start = time.perf_counter()
        if await _shown(page, digit, lost_after_ms):
            times.append(time.perf_counter() - start)
        else:
            lost += 1
    await page.context.close()
    return times, lost


async def _measure(url: str, tabs: list[int], strokes: int, lost_after_ms: float, phone: bool) -> list[str]:
    rows = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(**CHROMIUM_LAUNCH)
        for n_tabs in tabs:
            results = await asyncio.gather(*(_tab(browser, url, strokes, lost_after_ms, phone) for _ in range(n_tabs)))
            times = [t for tab_times, _ in results for t in tab_times]
            lost = sum(tab_lost for _, tab_lost in results)
            median, p95 = (np.percentile(times, q) * 1000 for q in (50, 95)) if times else (float("nan"),) * 2
            rows.append(f"| {n_tabs} | {n_tabs * strokes} | {median:.0f} ms | {p95:.0f} ms | {lost} |")
            print(rows[-1], flush=True)
        await browser.close()
    return rows


def main() -> None:
    """Runs the benchmark and prints the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strokes", type=int, default=12, help="strokes per tab (default: 12)")
    parser.add_argument("--tabs", type=int, nargs="+", default=[1, 2, 4], help="tab counts to run (default: 1 2 4)")
    parser.add_argument(
        "--lost-after", type=float, default=10.0, help="seconds before a stroke counts as lost (default: 10)"
    )
    parser.add_argument("--phone", action="store_true", help="390x844 touch screens, drawn with a finger")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        process, url = _start_server(Path(root))
        try:
            print("| tabs | strokes | mouse-up to prediction, median | p95 | strokes lost |")
            print("|---|---|---|---|---|")
            asyncio.run(_measure(url, args.tabs, args.strokes, args.lost_after * 1000, args.phone))
        finally:
            process.terminate()
            process.wait(timeout=15)


if __name__ == "__main__":
    main()
