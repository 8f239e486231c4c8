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

__all__ = [
    "FIRST_YEAR",
    "LAST_YEAR",
    "BadRow",
    "BadRowSink",
    "HistoryOrder",
    "OrderReader",
    "SourceRef",
    "date_problem",
]

#: The years an order's dates may lie in. The replay shifts times by days, months and time
#: zones (cooldowns, delays, budget periods): a date at the end of the calendar (9999-12-31) or
#: its start (0001-01-01) would overflow there, and no real order is that old or that far ahead.
FIRST_YEAR = 1900
LAST_YEAR = 2999


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


def date_problem(h: HistoryOrder) -> str | None:
    """Why the order's dates cannot be replayed (one outside :data:`FIRST_YEAR` to
    :data:`LAST_YEAR`), in words for the shop owner; ``None`` when they can."""
    order = h.order
    dates = {
        "created": order.created_at,
        "paid": order.paid_at,
        "cancelled": order.cancelled_at,
        "fulfilled": h.fulfilled_at,
        **{f"refund {r.id}": r.created_at for r in order.refunds},
    }
    for what, moment in dates.items():
        if moment is not None and not FIRST_YEAR <= moment.year <= LAST_YEAR:
            return (
                f"order {order.number or order.id}: the {what} date {moment.isoformat()} is not "
                f"between {FIRST_YEAR} and {LAST_YEAR}; correct it in the export (the order is "
                "skipped)"
            )
    return None
