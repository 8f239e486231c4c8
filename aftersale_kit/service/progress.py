"""A plain-text progress bar on stderr for commands that work through many rows.

Shown only when the stream is a terminal and there are at least ``minimum`` rows; quiet
otherwise (a pipe, a log file, a test). No dependency: one line redrawn with ``\\r``.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    """Call with the number of rows done; :meth:`close` ends the line."""

    def __init__(
        self,
        total: int,
        *,
        label: str,
        stream: TextIO | None = None,
        minimum: int = 1000,
        interval: float = 0.1,
        width: int = 30,
    ) -> None:
        self.total = total
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.interval = interval
        self.enabled = total >= minimum and _is_terminal(self.stream)
        self._last = 0.0
        self._drawn = False

    def __call__(self, done: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if done < self.total and now - self._last < self.interval:
            return
        self._last = now
        self.stream.write("\r" + self.line(done))
        self.stream.flush()
        self._drawn = True

    def line(self, done: int) -> str:
        share = done / self.total if self.total else 1.0
        filled = int(share * self.width)
        bar = "#" * filled + "-" * (self.width - filled)
        return f"{self.label} [{bar}] {done:,}/{self.total:,} {share:4.0%}"

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
