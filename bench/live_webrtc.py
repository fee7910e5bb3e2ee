"""The alternative the Live page did not take: streamlit-webrtc, measured on the same fake camera.

A throwaway Streamlit app (written to a temporary folder) runs ``webrtc_streamer`` with no ICE
servers (loopback only, as the app must work without STUN or TURN) and reads every frame that
reaches the server with :func:`hdr.inference.read.read_digits`, logging when. Chromium's fake camera plays
the same clip as ``bench.live_camera``. Reported: seconds from opening the page to the first frame
read on the server, then frames read per second, reading time and answers.

streamlit-webrtc is not one of HDR's requirements; run this from an environment that has it:

    python -m venv --system-site-packages /tmp/venv-webrtc
    /tmp/venv-webrtc/bin/pip install "streamlit-webrtc>=0.79,<1"
    HDR_DATA_DIR=../shared/mnist /tmp/venv-webrtc/bin/python -m bench.live_webrtc [--seconds 15]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
from playwright.sync_api import sync_playwright

from bench.live_camera import DIGITS
from hdr.training.data import load_mnist
from synth.browser import CHROMIUM_LAUNCH
from synth.servers import free_port
from synth.video import paper_frames, write_y4m

REPO = Path(__file__).resolve().parent.parent
FIRST_FRAME_S = 240  # how long to wait for WebRTC to connect before giving up
SERVER_START_S = 90

PROBE_APP = """
import json, sys, time
sys.path.insert(0, {repo!r})
import av, cv2, streamlit as st
from streamlit_webrtc import WebRtcMode, webrtc_streamer
from hdr.inference.predict import Predictor
from hdr.inference.read import read_digits

predictor = st.cache_resource(Predictor.load)()

def callback(frame):
    image = frame.to_ndarray(format="rgb24")
    start = time.perf_counter()
    reading = read_digits(image, predictor)
    took = time.perf_counter() - start
    for digit in reading.digits:
        x, y, w, h = digit.box
        cv2.rectangle(image, (x, y), (x + w, y + h), (239, 68, 68), 2)
    with open({log!r}, "a") as out:
        out.write(json.dumps({{"t": time.time(), "read_ms": took * 1000, "text": reading.text}}) + "\\n")
    return av.VideoFrame.from_ndarray(image, format="rgb24")

webrtc_streamer(key="probe", mode=WebRtcMode.SENDRECV, rtc_configuration={{"iceServers": []}},
                video_frame_callback=callback, media_stream_constraints={{"video": True, "audio": False}},
                desired_playing_state=True)
"""


def main() -> None:
    """Runs the probe and prints one markdown row."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="seconds of streaming measured (default: 15)")
    args = parser.parse_args()
    mnist = load_mnist()
    label = "".join(str(int(mnist.y_test[i])) for i in DIGITS)
    with tempfile.TemporaryDirectory() as root:
        root = Path(root)
        video = write_y4m(root / "paper.y4m", paper_frames([mnist.x_test[i] for i in DIGITS], np.random.default_rng(3)))
        log = root / "frames.jsonl"
        (root / "probe.py").write_text(PROBE_APP.format(repo=str(REPO), log=str(log)))
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(root / "probe.py"), "--server.headless", "true", "--server.port", str(port), "--server.fileWatcherType", "none"],
            env=dict(os.environ, HDR_MODELS_DIR=str(REPO / "models")), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            _wait_healthy(f"http://127.0.0.1:{port}")
            first_s = _stream(f"http://127.0.0.1:{port}", video, log, args.seconds)
        finally:
            server.terminate()
            server.wait(timeout=15)
        rows = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    print("| first frame read after opening the page | frames read/s | reading, median | p95 | frames = number |")
    print("|---|---|---|---|---|")
    if not rows:
        print(f"| none in {FIRST_FRAME_S} s | — | — | — | — |")
        return
    last = [r for r in rows if r["t"] > rows[-1]["t"] - args.seconds]
    rate = (len(last) - 1) / (last[-1]["t"] - last[0]["t"])
    took = [r["read_ms"] for r in last]
    right = np.mean([r["text"] == label for r in last])
    print(
        f"| {first_s:.0f} s | {rate:.1f} | {np.median(took):.0f} ms | {np.percentile(took, 95):.0f} ms | {right:.0%} |"
    )


def _wait_healthy(url: str) -> None:
    """Waits until the probe's server answers its health check."""
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("the probe's streamlit did not start")


def _stream(url: str, video: Path, log: Path, seconds: float) -> float:
    """Opens the probe in Chromium with the fake camera; returns seconds until the first frame was read."""
    flags = [
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    with sync_playwright() as p:
        browser = p.chromium.launch(**{**CHROMIUM_LAUNCH, "args": [*CHROMIUM_LAUNCH["args"], *flags]})
        page = browser.new_page()
        page.goto(url)
        start = time.monotonic()
        while not log.exists() and time.monotonic() - start < FIRST_FRAME_S:
            time.sleep(0.2)
        first = time.monotonic() - start
        time.sleep(seconds)
        browser.close()
    return first


if __name__ == "__main__":
    main()
