"""Past orders as a backtest reads them: the contract between the readers and the replay.

A reader turns one input (a file, a shop) into :class:`HistoryOrder` items, each the order in
its *last known* state (refunds, cancellation, fulfilment as exported), and reports every row it
cannot read as a :class:`BadRow` through the ``on_bad`` callback instead of raising: a run never
stops on one bad order. The replay derives the order's events from it (paid, fulfilled, each
refund, cancelled) and puts all events of all orders in time order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ..core.model import Order

__all__ = ["BadRow", "BadRowSink", "HistoryOrder", "OrderReader", "SourceRef"]


@dataclass(frozen=True, slots=True)
class SourceRef:
    """Where an order was read: the file (or ``shop:<domain>``) and its first line (1-based;
    for a CSV export the order's first row, for JSON Lines its line, for a JSON page the line
    where the order's object starts)."""

    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True, slots=True)
class BadRow:
    """A row (or order object) that could not be read, and why, in words for the shop owner."""

    path: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


BadRowSink = Callable[[BadRow], None]


@dataclass(frozen=True, slots=True)
class HistoryOrder:
    """One past order in its last known state.

    ``order`` is the platform-neutral order as the live normaliser makes it (refunds in
    ``order.refunds`` with their ``created_at``; ``cancelled_at``; ``paid_at``, or ``None`` for an
    order never paid). ``fulfilled_at`` is when it shipped, when the export says so.
    """

    order: Order
    source: SourceRef
    fulfilled_at: datetime | None = None


class OrderReader(Protocol):
    """One input format. ``read`` yields the orders of ``path`` in file order; unreadable rows go
    to ``on_bad`` (with the file's line) and are skipped. ``shop`` is the shop's domain from the
    config (exports do not always carry it); ``currency`` the shop's currency for rows without
    one. Files may be gzip-compressed (``.gz``, or detected by their magic bytes)."""

    def read(
        self, path: str, *, shop: str, currency: str, on_bad: BadRowSink
    ) -> Iterator[HistoryOrder]: ...
