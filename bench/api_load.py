"""Load on the HTTP API: requests per second and latency with several concurrent clients.

Starts the app the two documented ways on a free port: ``streamlit run app.py`` (one process,
pages and API together) and ``uvicorn app:app --workers N`` (N processes, each with its own
Streamlit runtime and model), waits until every process has answered, then runs 1, 2, 4 and 8
clients, each sending single-image ``POST /api/predict`` requests back to back (an MNIST test
digit drawn as a canvas-sized PNG), and prints one table row per server and client count.

Usage::

    HDR_DATA_DIR=../shared/mnist python -m bench.api_load                    # the table in docs/
    HDR_DATA_DIR=../shared/mnist python -m bench.api_load --requests 20      # quicker
"""

from __future__ import annotations

import argparse
import http.client
import io
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import requests
from PIL import Image

from hdr.training.data import load_mnist
from synth.servers import free_port

REPO = Path(__file__).resolve().parent.parent
CLIENTS = (1, 2, 4, 8)
START_TIMEOUT_S = 120  # TensorFlow imports slowly on two busy cores
WARMUP_REQUESTS = 8  # per worker process: the first request of each loads the model
CANVAS_ZOOM = 10  # 28 px -> 280 px, the Draw page's canvas height
PERCENTILES = (50, 95)
HTTP_OK = 200


def _start(workers: int, port: int, service: bool) -> subprocess.Popen:
    """``streamlit run app.py`` for one worker, else ``uvicorn app:app --workers N``; in its own process group.

    With ``service``: the API alone, ``uvicorn hdr.serving.service:app --workers N``, whatever N.
    """
    if service:
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "hdr.serving.service:app",
            "--workers",
            str(workers),
            "--port",
            str(port),
        ]
    elif workers == 1:
        command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                   "--server.port", str(port), "--browser.gatherUsageStats", "false"]  # fmt: skip
    else:
        command = [sys.executable, "-m", "uvicorn", "app:app", "--workers", str(workers), "--port", str(port)]
    return subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )


def _multipart(png: bytes) -> tuple[bytes, dict[str, str]]:
    """The request body and headers of a one-file upload, encoded once."""
    prepared = requests.Request("POST", "http://x/api/predict", files={"file": ("digit.png", png)}).prepare()
    return prepared.body, {"Content-Type": prepared.headers["Content-Type"]}


def _wait_ready(url: str, process: subprocess.Popen, request: tuple[bytes, dict[str, str]], workers: int) -> None:
    """Waits for /api/health, then sends warm-up predictions so every worker has its model loaded."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            if requests.get(f"{url}/api/health", timeout=2).status_code == 200:
                break
        except requests.RequestException:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the server on {url} did not start")
        time.sleep(0.5)
    for _ in range(WARMUP_REQUESTS * workers):
        _predict(url, request)


def _predict(url: str, request: tuple[bytes, dict[str, str]]) -> float:
    """One ``POST /api/predict`` on a new connection, as curl makes it; returns its latency in ms.

    Not keep-alive: on a reused connection every request after the first waits ~40 ms more on
    this server (uvicorn's response meets the client's delayed ACK), whatever the handler does.
    """
    body, headers = request
    parsed = urlparse(url)
    start = time.perf_counter()
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=START_TIMEOUT_S)
    try:
        conn.request("POST", "/api/predict", body=body, headers=headers)
        response = conn.getresponse()
        response.read()
    finally:
        conn.close()
    if response.status != HTTP_OK:
        raise RuntimeError(f"/api/predict answered {response.status}")
    return (time.perf_counter() - start) * 1000


def _load(url: str, request: tuple[bytes, dict[str, str]], clients: int, per_client: int) -> tuple[float, list[float]]:
    """``clients`` threads sending ``per_client`` requests each; returns requests/s and every latency."""
    latencies: list[float] = []
    lock = threading.Lock()

    def client() -> None:
        mine = [_predict(url, request) for _ in range(per_client)]
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(latencies) / (time.perf_counter() - start), latencies


def main() -> None:
    """Prints the table in docs/benchmarks.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50, help="requests per client (default: 50)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="processes to compare (default: 1 2)")
    parser.add_argument(
        "--service", action="store_true", help="serve the API alone: uvicorn hdr.serving.service:app (default: the app)"
    )
    args = parser.parse_args()

    digit = load_mnist().x_test[0]
    buffer = io.BytesIO()
    Image.fromarray(255 - np.kron(digit, np.ones((CANVAS_ZOOM, CANVAS_ZOOM), np.uint8))).save(buffer, format="PNG")
    request = _multipart(buffer.getvalue())
    print(f"{os.cpu_count()} CPUs, {args.requests} requests per client")
    print("| server | clients | requests/s | p50 | p95 |")
    print("|---|---|---|---|---|")
    for workers in args.workers:
        port = free_port()
        process = _start(workers, port, args.service)
        url = f"http://127.0.0.1:{port}"
        if args.service:
            label = f"`uvicorn hdr.serving.service:app --workers {workers}`"
        else:
            label = "`streamlit run app.py`" if workers == 1 else f"`uvicorn app:app --workers {workers}`"
        try:
            _wait_ready(url, process, request, workers)
            for clients in CLIENTS:
                rate, latencies = _load(url, request, clients, args.requests)
                p50, p95 = (np.percentile(latencies, p) for p in PERCENTILES)
                print(f"| {label} | {clients} | {rate:.0f} | {p50:.0f} ms | {p95:.0f} ms |", flush=True)
        finally:
            os.killpg(process.pid, signal.SIGTERM)  # the server and its worker processes, nothing else
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
