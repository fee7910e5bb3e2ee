"""The servers the tests and benchmarks start: ``streamlit run app.py`` or uvicorn, on a free port.

One way to find a port, start the process, wait for its health check and stop it, so a test and a
benchmark of the same server start it the same way.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
START_S = 120  # a cold start imports TensorFlow; on a loaded 2-core machine that can take a minute


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def streamlit_command(port: int, app: str = "app.py", *options: str) -> list[str]:
    """``streamlit run APP`` headless on ``port``, without usage statistics; ``options`` are added."""
    return [sys.executable, "-m", "streamlit", "run", app, "--server.headless", "true", "--server.port", str(port),
            "--browser.gatherUsageStats", "false", *options]  # fmt: skip


def wait_healthy(
    url: str, process: subprocess.Popen, health: str = "/_stcore/health", timeout_s: float = START_S
) -> None:
    """Returns once ``url + health`` answers 200.

    Raises:
        RuntimeError: The process ended, or did not answer within ``timeout_s``.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}{health}", timeout=2) as response:
            if response.status == 200:
                return
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the server on {url} did not start (exit status {process.poll()})")
        time.sleep(0.5)


@contextlib.contextmanager
def serving(
    command: list[str],
    port: int,
    *,
    env: dict[str, str] | None = None,
    log: Path | None = None,
    health: str = "/_stcore/health",
) -> Iterator[tuple[str, subprocess.Popen]]:
    """Runs ``command`` (a server listening on ``port``) from the checkout until the block ends.

    Args:
        command: The server's command line.
        port: The port it listens on.
        env: Its environment (default: this process's).
        log: A file for its output (default: discarded); its tail is in the error if it does not start.
        health: The path that answers 200 once it serves.

    Yields:
        ``(url, process)``.
    """
    out = open(log, "w") if log else subprocess.DEVNULL  # noqa: SIM115 - closed when the server stops
    process = subprocess.Popen(command, cwd=REPO, env=env or dict(os.environ), stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_healthy(url, process, health)
        except RuntimeError as exc:
            tail = log.read_text(errors="replace")[-2000:] if log else ""
            raise RuntimeError(f"{exc}\n{tail}") from None
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        if log:
            out.close()


DRIP_S = 0.5  # a byte every half second: a client that never finishes


def seconds_until_closed(conn: socket.socket, drip: bytes, limit_s: float) -> float | None:
    """Sends ``drip`` a byte at a time; the seconds until the server closes the connection, None if not in ``limit_s``."""
    started = time.monotonic()
    conn.settimeout(DRIP_S)
    for i in range(int(limit_s / DRIP_S)):
        try:
            conn.sendall(drip[i % len(drip) : i % len(drip) + 1])
            if conn.recv(4096) == b"":
                return time.monotonic() - started
        except TimeoutError:
            continue
        except OSError:  # reset by the server
            return time.monotonic() - started
    return None
