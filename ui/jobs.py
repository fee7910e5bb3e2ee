"""The app's training job: the one started last in this server process, shown on every page.

The library starts jobs (:mod:`hdr.training.jobs`, which keeps one job per models folder across
processes); the app adds its own rule, one job per server process, since a second would halve the
first's two cores, and remembers the job for the Train page and the sidebar. Importing this module
loads no TensorFlow: the sidebar asks it on every page.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hdr.training.jobs import TrainingJob

_lock = threading.Lock()
_current: TrainingJob | None = None


def current() -> TrainingJob | None:
    """The job started last in this server process (running or ended), or None."""
    return _current


def start(launch: Callable[[], TrainingJob]) -> TrainingJob:
    """Runs ``launch`` (e.g. a call of :func:`hdr.training.jobs.start_job`) unless this process's job still runs.

    Raises:
        hdr.training.jobs.JobBusyError: A job is still running, in this process or on the models folder.
        Whatever ``launch`` raises; the current job is then unchanged.
    """
    global _current
    from hdr.training.jobs import JobBusyError

    with _lock:
        if _current is not None and _current.running:
            raise JobBusyError("a training job is already running: stop it or wait for it to finish")
        _current = launch()
        return _current
