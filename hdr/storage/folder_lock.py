"""The models folder's training lock: one training job per folder, whatever the number of processes.

A job holds an exclusive ``flock`` on ``<models>/.training.lock`` while it trains, so several
server processes (``uvicorn --workers N``, a CLI run beside the app) never train into one folder at
once. The kernel drops the lock when the process ends, even on kill -9: it never goes stale.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO

try:  # POSIX; elsewhere the lock is a no-op and one job per process holds as before
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

LOCK_NAME = ".training.lock"
__all__ = ["LOCK_NAME", "claim_folder", "release_when_done"]


def claim_folder(models_dir: str | Path) -> IO[str] | None:
    """The folder's training lock, held until the returned file is closed; None if another process holds it."""
    handle = open(Path(models_dir) / LOCK_NAME, "a")  # noqa: SIM115 - the caller closes it
    if fcntl is None:
        return handle
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def release_when_done(lock: IO[str], wait: Callable[[], object]) -> None:
    """Closes ``lock`` (releasing it) in a background thread once ``wait()`` returns."""

    def release() -> None:
        wait()
        lock.close()

    threading.Thread(target=release, name="hdr-training-lock", daemon=True).start()
