"""Serving a sandbox from the command line until SIGINT or SIGTERM.

::

    with StopSignals() as stop:
        sandbox.start()
        ...
        stop.wait()
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

__all__ = ["StopSignals"]


class StopSignals:
    """While entered, SIGINT and SIGTERM ask to stop instead of raising or killing; the previous
    handlers come back on exit. Must be entered from the main thread (Python's signal rule)."""

    def __init__(self, *signals: signal.Signals, poll: float = 0.2) -> None:
        self._signals = signals or (signal.SIGINT, signal.SIGTERM)
        self._poll = poll
        self._stop = threading.Event()
        self._previous: dict[signal.Signals, Any] = {}

    def __enter__(self) -> StopSignals:
        self._previous = {sig: signal.signal(sig, self._on_signal) for sig in self._signals}
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous = {}

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._stop.set()

    @property
    def requested(self) -> bool:
        """Whether a stop signal has arrived."""
        return self._stop.is_set()

    def wait(self) -> None:
        """Block until a stop signal arrives (polling, so the handler runs on time)."""
        while not self._stop.wait(self._poll):
            pass
