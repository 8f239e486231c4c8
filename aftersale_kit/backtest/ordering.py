"""All events of all orders in time order, in bounded memory.

Exports list orders by creation (or in any order), while their refunds and cancellations come
weeks later: the replay needs every event of every order sorted by time. Up to
``memory_events`` events are sorted in memory; beyond that they are spilled to a temporary
SQLite file (the standard library's ``sqlite3``: one row per event with its time, its place in
the input and its place in the order's life, the event pickled) and read back through an index
on (time, input place, life place). Memory then holds one batch of rows, not the history; the
file is removed when the iteration ends (or is abandoned).

Ties in time keep the input's order between orders and the order's life (created, paid,
fulfilled, refunds, cancelled) within one order. On the way out, each customer's order count and
spend are filled in where the data lacks them (:mod:`.customers`): in time order, the same for
the per-order engine and the pre-filter (which sees them unknown, so "may hold", and leaves the
decision to the engine on the filled order).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime

from .customers import with_customer_figures
from .events import HistoryEvent, events_of
from .history import HistoryOrder

__all__ = ["DEFAULT_MEMORY_EVENTS", "in_time_order"]

#: Events sorted in memory before spilling to disk (~1 KB each with their order).
DEFAULT_MEMORY_EVENTS = 200_000
_BATCH = 5_000
_PROTOCOL = pickle.HIGHEST_PROTOCOL
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _micros(at: datetime) -> int:
    delta = at - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _selected(
    orders: Iterable[HistoryOrder],
    since: datetime | None,
    until: datetime | None,
    on_order: Callable[[HistoryOrder], None] | None,
    warm_up: datetime | None = None,
) -> Iterator[tuple[HistoryOrder, bool]]:
    """The orders placed in ``[since, until)`` (all their events count, however late), and
    those placed in ``[warm_up, since)``, marked as warm-up (True)."""
    since = _aware(since) if since is not None else None
    until = _aware(until) if until is not None else None
    warm_up = _aware(warm_up) if warm_up is not None and since is not None else None
    for h in orders:
        created = _aware(h.order.created_at)
        if until is not None and created >= until:
            continue
        if since is not None and created < since:
            if warm_up is not None and created >= warm_up:
                yield h, True
            continue
        if on_order is not None:
            on_order(h)
        yield h, False


def in_time_order(
    orders: Iterable[HistoryOrder],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    memory_events: int = DEFAULT_MEMORY_EVENTS,
    spill_dir: str | None = None,
    on_order: Callable[[HistoryOrder], None] | None = None,
    warm_up: datetime | None = None,
) -> Iterator[HistoryEvent]:
    """The events of the orders placed in ``[since, until)``, in time order (see the module
    docstring); reads ``orders`` once, as a stream (``on_order`` sees each selected order as
    it is read, also one without events: an unpaid order on a platform that does not report
    new orders). Naive times are taken as UTC. Customers' ``orders_count`` and ``total_spent``
    the data lacks are filled in from the history so far
    (:func:`~.customers.with_customer_figures`); the orders placed in ``[warm_up, since)`` count
    towards those figures only (their events are not yielded)."""
    buffer: list[tuple[int, int, int, HistoryEvent]] = []
    spill: _Spill | None = None
    for seq, (h, early) in enumerate(_selected(orders, since, until, on_order, warm_up)):
        for event in events_of(h):
            if early:
                event = replace(event, warm_up=True)
            buffer.append((_micros(event.at), seq, event.rank, event))
        if spill is None and len(buffer) > memory_events:
            spill = _Spill(spill_dir)
        if spill is not None and len(buffer) >= _BATCH:
            spill.add(buffer)
            buffer = []
    if spill is None:
        buffer.sort(key=lambda row: row[:3])
        yield from _decided(with_customer_figures(row[3] for row in buffer))
        return
    try:
        spill.add(buffer)
        yield from _decided(with_customer_figures(spill.sorted()))
    finally:
        spill.close()


def _decided(events: Iterator[HistoryEvent]) -> Iterator[HistoryEvent]:
    """The events to decide: the warm-up's only counted."""
    return (e for e in events if not e.warm_up)


class _Spill:
    """The temporary SQLite file of a large history."""

    def __init__(self, folder: str | None) -> None:
        handle, self.path = tempfile.mkstemp(prefix="backtest-", suffix=".sqlite", dir=folder)
        os.close(handle)
        self.db = sqlite3.connect(self.path)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute("CREATE TABLE events (at INTEGER, seq INTEGER, rank INTEGER, body BLOB)")

    def add(self, rows: list[tuple[int, int, int, HistoryEvent]]) -> None:
        self.db.executemany(
            "INSERT INTO events VALUES (?, ?, ?, ?)",
            ((at, seq, rank, pickle.dumps(e, _PROTOCOL)) for at, seq, rank, e in rows),
        )

    def sorted(self) -> Iterator[HistoryEvent]:
        self.db.commit()
        self.db.execute("CREATE INDEX events_time ON events (at, seq, rank)")
        cursor = self.db.execute("SELECT body FROM events ORDER BY at, seq, rank")
        while rows := cursor.fetchmany(_BATCH):
            for (body,) in rows:
                yield pickle.loads(body)  # our own file, written above

    def close(self) -> None:
        self.db.close()
        with contextlib.suppress(OSError):
            os.unlink(self.path)
