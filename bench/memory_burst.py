"""The API server's memory through bursts of large uploads, and what it keeps afterwards.

Starts ``uvicorn hdr.serving.service:app`` (one process, so one resident set to read) on a free port,
warms it up, then sends ``--bursts`` bursts of ``--parallel`` concurrent ``POST /api/predict``
requests, each with two phone-sized pictures (12 megapixels, fully decoded), and reads the
process's ``VmRSS`` and ``VmHWM`` from ``/proc`` before, at the peak and a few seconds after each
burst. ``--env NAME=VALUE`` runs the server with that variable set (``MALLOC_ARENA_MAX=2``), so
glibc's allocator settings can be compared on one machine.

Usage::

    python -m bench.memory_burst                              # the rows in docs/benchmarks.md
    python -m bench.memory_burst --env MALLOC_ARENA_MAX=2
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import requests
from PIL import Image

from synth.servers import free_port, serving

REPO = Path(__file__).resolve().parent.parent
SETTLE_S = 5  # after a burst, before the kept memory is read
PHOTO_SIZE = (4032, 3024)  # a 12-megapixel phone photo: under the full-decode cap, decoded whole
_MB = 1024 * 1024


def _photo(seed: int) -> bytes:
    """A PNG of paper with a few dark strokes and faint noise, 12 megapixels (a few MB as PNG)."""
    rng = np.random.default_rng(seed)
    width, height = PHOTO_SIZE
    page = np.full((height, width), 235, np.uint8)
    page[height // 3 : height // 3 + 60, width // 4 : width // 2] = 30  # a stroke
    page[height // 4 : 3 * height // 4, width // 2 : width // 2 + 60] = 30
    page += rng.integers(0, 4, page.shape, dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(page).convert("RGB").save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _memory_mb(pid: int) -> tuple[float, float]:
    """``(VmRSS, VmHWM)`` of a process in MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def run(bursts: int, parallel: int, env: dict[str, str]) -> list[tuple[float, float, float]]:
    """Per burst: RSS before, peak RSS (high-water mark so far) and RSS after settling, in MB."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "hdr.serving.service:app",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    with serving(command, port, env=dict(os.environ, **env), health="/api/health") as (base, process):
        url = f"{base}/api/predict"
        photos = [_photo(0), _photo(1)]
        files = [("file", (f"photo{i}.png", data, "image/png")) for i, data in enumerate(photos)]
        requests.post(url, files=files, timeout=120)  # loads the model and traces the forward pass
        rows = []
        for _ in range(bursts):
            before, _ = _memory_mb(process.pid)
            with ThreadPoolExecutor(parallel) as pool:
                answers = list(pool.map(lambda _: requests.post(url, files=files, timeout=300), range(parallel)))
            assert all(a.headers["content-type"] == "application/json" for a in answers)
            _, peak = _memory_mb(process.pid)
            time.sleep(SETTLE_S)
            rows.append((before, peak, _memory_mb(process.pid)[0]))
        return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bursts", type=int, default=5, help="bursts sent one after the other (default 5)")
    parser.add_argument("--parallel", type=int, default=6, help="concurrent requests per burst (default 6)")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the server (repeatable)")
    args = parser.parse_args()
    env = dict(item.split("=", 1) for item in args.env)
    print(f"server env: {env or 'default'}; {args.parallel} requests x 2 photos of {PHOTO_SIZE[0]}x{PHOTO_SIZE[1]}")
    print("| burst | RSS before (MB) | peak so far (MB) | RSS 5 s after (MB) |\n|---|---|---|---|")
    for n, (before, peak, after) in enumerate(run(args.bursts, args.parallel, env), start=1):
        print(f"| {n} | {before:.0f} | {peak:.0f} | {after:.0f} |")


if __name__ == "__main__":
    main()
