"""Idle, slow and piled-up connections against ``streamlit run app.py``: how fast the server answers and cleans up.

Starts the app on a free port and measures, each on its own:

- **idle**: ``--idle`` connections opened 500 at a time (half a second apart) that send nothing,
  the last one half a request head; then how long a fresh ``GET /api/health`` takes, how many of
  the idle ones the server has closed by then, and when the last one is closed.
- **slow head**: a first request answered, then the next head sent a byte every half second:
  when the server closes it.
- **slow body**: a whole head announcing 10 MB, then the body a byte every half second: when the
  server closes it.

Usage::

    python -m bench.idle_connections                # the figures in docs/benchmarks.md
    python -m bench.idle_connections --idle 1000    # quicker
"""

from __future__ import annotations

import argparse
import selectors
import socket
import threading
import time

import requests

from synth.servers import free_port, seconds_until_closed, serving, streamlit_command

BATCH, BATCH_PAUSE_S = 500, 0.5
CLOSE_WAIT_S = 120  # how long to wait for the server to close every idle connection


def _idle(host: str, port: int, count: int) -> str:
    """Opens ``count`` idle connections; the fresh request's time, and when the server closed them all."""
    conns: list[socket.socket] = []
    try:
        opened = time.monotonic()
        for _ in range(max(1, count // BATCH)):
            conns.extend(socket.create_connection((host, port), timeout=30) for _ in range(min(BATCH, count)))
            time.sleep(BATCH_PAUSE_S)
        conns[-1].sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # half a head
        started = time.monotonic()
        status = requests.get(f"http://{host}:{port}/api/health", timeout=60).status_code
        answered = time.monotonic() - started
        waiting = selectors.DefaultSelector()
        for conn in conns:
            waiting.register(conn, selectors.EVENT_READ)
        closed_at: list[float] = []
        by_answer = None
        while waiting.get_map() and time.monotonic() < started + CLOSE_WAIT_S:
            for key, _ in waiting.select(timeout=0 if by_answer is None else 1.0):
                if key.fileobj.recv(1) == b"":
                    waiting.unregister(key.fileobj)
                    closed_at.append(time.monotonic() - opened)
            by_answer = len(closed_at) if by_answer is None else by_answer  # closed before the answer came
        last = f"{max(closed_at):.1f} s" if closed_at else "never"
        return (
            f"{count} idle connections (opened over {started - opened:.1f} s): fresh request {status} in "
            f"{answered * 1000:.0f} ms; {by_answer} closed by then (the cap); "
            f"{len(closed_at)} closed in all, the last {last} after the first opened"
        )
    finally:
        for conn in conns:
            conn.close()


def _drip(host: str, port: int, first: bytes, drip: bytes, answered_first: bool) -> float | None:
    """Seconds from the start of the drip until the server closes the connection (None: not in 120 s)."""
    with socket.create_connection((host, port), timeout=30) as conn:
        conn.sendall(first)
        if answered_first:
            conn.recv(4096)
        return seconds_until_closed(conn, drip, CLOSE_WAIT_S)


def _slow(host: str, port: int) -> str:
    """The slow head and the slow body, side by side."""
    address = f"{host}:{port}"
    head = f"GET /api/health HTTP/1.1\r\nHost: {address}\r\n\r\n".encode()
    upload = (
        f"POST /api/predict HTTP/1.1\r\nHost: {address}\r\nContent-Length: 10000000\r\n"
        "Content-Type: multipart/form-data; boundary=xx\r\n\r\n"
    ).encode()
    results: dict[str, float | None] = {}
    endless_head = b"GET /api/health HTTP/1.1\r\nX-Slow: " + b"a" * 1000
    jobs = {
        "slow head": lambda: _drip(host, port, head, endless_head, answered_first=True),
        "slow body": lambda: _drip(host, port, upload, b"0123456789", answered_first=False),
    }
    threads = [threading.Thread(target=lambda k=k, f=f: results.__setitem__(k, f())) for k, f in jobs.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return "; ".join(
        f"{k}: closed after {v:.1f} s" if v is not None else f"{k}: still open" for k, v in results.items()
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle", type=int, default=3000, help="idle connections to open (default 3000)")
    args = parser.parse_args()
    port = free_port()
    with serving(streamlit_command(port), port, health="/api/health"):
        print(_idle("127.0.0.1", port, args.idle))
        print(_slow("127.0.0.1", port))


if __name__ == "__main__":
    main()
