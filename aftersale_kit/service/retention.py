"""The worker's pruning schedule: raw webhook bodies are kept for a retention, dedupe keys longer.

Settings (``service.yaml`` next to the shop files; defaults in brackets)::

    raw_body_retention_days: 30      # bodies and headers of processed webhooks [30]
    dedupe_key_retention_days: 365   # the event rows, so late redeliveries stay duplicates [365]
    prune_interval_minutes: 60       # how often each worker prunes [60]

Why these bounds: the longest redelivery window of the built-in platforms is 4 hours (8 retries,
each with the original payload; others do not retry at all; the sources are cited in
docs/privacy-and-storage.md). So the body retention may not be shorter than one day (a redelivery
window plus a margin), and the key retention not shorter than the body retention. What is never
pruned (decisions, bookings, coupons, content) is listed in :mod:`aftersale_kit.storage.retention`.


Several workers may prune at the same time: each step is idempotent and runs in short batches.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from ..storage.ports import Prunable
from .logs import log_event

__all__ = ["MIN_BODY_RETENTION_DAYS", "Pruner", "Retention", "retention_from"]

#: Shorter would reach into a 4-hour redelivery window (with a margin).
MIN_BODY_RETENTION_DAYS = 1


@dataclass(frozen=True, slots=True)
class Retention:
    raw_body_days: float = 30
    dedupe_key_days: float = 365
    interval_minutes: float = 60

    def horizons(self, now: datetime) -> tuple[datetime, datetime]:
        """``(bodies_before, keys_before)`` at ``now``."""
        return now - timedelta(days=self.raw_body_days), now - timedelta(days=self.dedupe_key_days)


def _where(path: Path, key: str) -> str:
    """``file:line:col`` of ``key``'s value in the service file (``file`` alone if not found)."""
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return str(path)
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if getattr(k, "value", None) == key:
                return f"{path}:{v.start_mark.line + 1}:{v.start_mark.column + 1}"
    return str(path)


def _days(path: Path, data: Mapping[str, Any], key: str, default: float, least: float) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < least:
        raise ValueError(
            f"{_where(path, key)}: {key}: expected a number >= {least:g}, got {value!r}; "
            f"write e.g. {key}: {default:g}"
        )
    return float(value)


def retention_from(path: Path, data: Mapping[str, Any]) -> Retention:
    """The retention settings of a service file's mapping (``ValueError`` naming the place)."""
    default = Retention()
    bodies = _days(
        path, data, "raw_body_retention_days", default.raw_body_days, MIN_BODY_RETENTION_DAYS
    )
    keys = _days(path, data, "dedupe_key_retention_days", default.dedupe_key_days, bodies)
    interval = _days(path, data, "prune_interval_minutes", default.interval_minutes, 1)
    return Retention(raw_body_days=bodies, dedupe_key_days=keys, interval_minutes=interval)


class Pruner:
    """Prunes the store every ``retention.interval_minutes`` in a daemon thread, at the
    processor's clock (injectable, so tests can let the retention pass)."""

    def __init__(
        self, store: Prunable, retention: Retention, *, clock: Callable[[], datetime]
    ) -> None:
        self.store = store
        self.retention = retention
        self.clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> dict[str, int]:
        bodies_before, keys_before = self.retention.horizons(self.clock())
        counts = self.store.prune(bodies_before=bodies_before, keys_before=keys_before)
        if any(counts.values()):
            log_event(logging.INFO, "storage pruned", **counts)
        return counts

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="aftersale-pruner", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception as exc:  # the database is away: try again next round
                log_event(logging.WARNING, "pruning failed", error=type(exc).__name__)
            self._stop.wait(self.retention.interval_minutes * 60)
