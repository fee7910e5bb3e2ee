"""How fast the app answers: the Draw page's work per stroke, and the time to the first page.

1. Per stroke, server side: the canvas sends a PNG data URL when a stroke ends; the page decodes
   it, reads the picture (preprocessing + model, :func:`hdr.inference.read.read_picture`, exactly what
   the Draw page calls) and builds the bars and the enlarged 28x28 input. Measured on canvas-like
   RGBA images (560x280, MNIST test digits drawn black on white), after one warm-up call.
2. Start-up: from launching ``streamlit run app.py`` to ``/_stcore/health`` answering, to the
   Draw page showing its canvas and "Draw a digit" in Chromium, and to the prediction of a stroke
   drawn right then (it waits for TensorFlow and the model, which load behind the ready page).

Usage:
    HDR_DATA_DIR=../shared/mnist python -m bench.app_latency [--samples 200] [--no-browser]

Prints a markdown table.
"""

from __future__ import annotations

import argparse
import base64
import io
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
from PIL import Image

from synth.browser import CHROMIUM_LAUNCH
from synth.servers import free_port

REPO = Path(__file__).resolve().parent.parent

CANVAS_WIDTH, CANVAS_HEIGHT = 560, 280  # pages/draw.py
DIGIT_ZOOM = 9  # 28 px MNIST digits drawn 252 px tall, as a hand fills the canvas
START_TIMEOUT_S = 120


def _canvas_png(digit: np.ndarray) -> str:
    """An MNIST digit as the canvas sends it: a PNG data URL of black strokes on white RGBA."""
    big = np.kron(digit, np.ones((DIGIT_ZOOM, DIGIT_ZOOM), np.uint8))
    rgba = np.full((CANVAS_HEIGHT, CANVAS_WIDTH, 4), 255, np.uint8)
    top, left = (CANVAS_HEIGHT - big.shape[0]) // 2, (CANVAS_WIDTH - big.shape[1]) // 2
    rgba[top : top + big.shape[0], left : left + big.shape[1], :3] = 255 - big[..., None]
    buffer = io.BytesIO()
    Image.fromarray(rgba).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _decode(data_url: str) -> np.ndarray:
    """What ``CanvasResult.image_data`` does with the data URL."""
    _, encoded = data_url.split(";base64,", 1)
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(encoded))))


def measure_stroke(samples: int) -> dict[str, np.ndarray]:
    """Milliseconds per stroke for the model + preprocessing, and for the whole server-side handler."""
    from hdr.inference.predict import Predictor
    from hdr.inference.read import read_picture
    from hdr.training.data import load_mnist
    from ui import charts

    mnist = load_mnist()
    predictor = Predictor.load()
    urls = [_canvas_png(mnist.x_test[i]) for i in range(samples)]
    read_picture(_decode(urls[0]), predictor)  # warm-up: first call pays one-off costs
    model_ms, handler_ms = [], []
    for url in urls:
        start = time.perf_counter()
        image = _decode(url)
        begin_model = time.perf_counter()
        reading, prediction = read_picture(image, predictor)
        model_ms.append((time.perf_counter() - begin_model) * 1000)
        if prediction is not None:
            charts.probability_bars(prediction.probabilities, prediction.digit).to_plotly_json()
            charts.enlarge(prediction.preprocessed.image)
        handler_ms.append((time.perf_counter() - start) * 1000)
    return {
        "preprocessing + model (read_picture)": np.array(model_ms),
        "whole handler (decode, read, bars)": np.array(handler_ms),
    }


def measure_startup(browser: bool) -> dict[str, float]:
    """Seconds from ``streamlit run`` to health, and to the first page rendered in Chromium."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    start = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port)],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    times = {}
    try:
        while time.perf_counter() - start < START_TIMEOUT_S:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        times["`streamlit run` to /_stcore/health"] = time.perf_counter() - start
        if browser:
            from playwright.sync_api import expect, sync_playwright

            with sync_playwright() as p:
                chromium = p.chromium.launch(**CHROMIUM_LAUNCH)
                page = chromium.new_page()
                page.goto(url)
                page.get_by_text("Draw a digit").wait_for(timeout=START_TIMEOUT_S * 1000)
                times["`streamlit run` to Draw page ready in Chromium"] = time.perf_counter() - start
                box = page.locator("canvas.upper-canvas").bounding_box()
                x, top = box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.1
                page.mouse.move(x, top)
                page.mouse.down()
                page.mouse.move(x, top + box["height"] * 0.8, steps=10)
                page.mouse.up()
                metric = (
                    page.locator('[data-testid="stMetric"]')
                    .filter(has_text="Prediction")
                    .locator('[data-testid="stMetricValue"]')
                )
                expect(metric).to_have_text(re.compile(r"^\d$"), timeout=START_TIMEOUT_S * 1000)
                times["`streamlit run` to first prediction (a stroke drawn as soon as the page is ready)"] = (
                    time.perf_counter() - start
                )
                chromium.close()
    finally:
        server.terminate()
        server.wait(timeout=15)
    return times


def main(argv: list[str] | None = None) -> int:
    """Runs both measurements and prints a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200, help="canvas images to time (default: 200)")
    parser.add_argument(
        "--no-browser",
        action="store_true",
        help="time start-up to the health check only (default: also the page in Chromium)",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    stroke = measure_stroke(args.samples)
    startup = measure_startup(browser=not args.no_browser)
    print(f"| measure ({os.cpu_count()} CPUs) | p50 | p95 |")
    print("|---|---|---|")
    for name, ms in stroke.items():
        print(f"| per stroke: {name} | {np.percentile(ms, 50):.1f} ms | {np.percentile(ms, 95):.1f} ms |")
    for name, seconds in startup.items():
        print(f"| {name} | {seconds:.1f} s | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
