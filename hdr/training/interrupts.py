"""What Ctrl-C and SIGTERM do during a long command: nothing finished is ever thrown away."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

T = TypeVar("T")


class Interrupts:
    """What Ctrl-C and SIGTERM do during ``train``: nothing finished is ever thrown away.

    While training, a signal raises a stop flag the training callback polls after each batch,
    so the best epoch so far is kept (repeated signals do the same). While a step wrapped in
    :meth:`skippable` runs (the final test evaluation), a signal skips that step. Anywhere else
    (saving) it only raises the flag, so a save always completes.
    """

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._skippable = False

    def stop_requested(self) -> bool:
        """True once a signal has arrived."""
        return self._stop.is_set()

    def handle(self, signum, frame) -> None:
        """The signal handler."""
        self._stop.set()
        if self._skippable:
            self._skippable = False
            raise KeyboardInterrupt

    def skippable(self, step: Callable[[], T]) -> T | None:
        """Runs ``step``; returns None instead if a signal arrives while it runs."""
        self._skippable = True
        try:
            return step()
        except KeyboardInterrupt:
            return None
        finally:
            self._skippable = False


@contextlib.contextmanager
def stop_on_signal() -> Iterator[Interrupts]:
    """Ctrl-C and SIGTERM handled by an :class:`Interrupts` for the duration of the block.

    The previous handlers come back on exit, so running a command in-process (tests,
    notebooks) leaves the caller's signals as they were.
    """
    interrupts = Interrupts()
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, interrupts.handle)
    try:
        yield interrupts
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
