"""One order's timeline while its events are replayed: what the live store holds of it."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..core.decision import Decision
from ..core.model import EventKind, Order, Refund
from .books import Booking

__all__ = ["OrderState"]


@dataclass(slots=True)
class OrderState:
    """The order's decided steps, its bookings (with their take-backs), its refunds and its
    closure; ``first`` is the order as its first event carried it."""

    first: Order
    steps: dict[tuple[EventKind, str], Decision] = field(default_factory=dict)
    bookings: dict[tuple[str, str], Booking] = field(default_factory=dict)
    refunds: dict[str, Refund] = field(default_factory=dict)
    closed: str | None = None
    #: Campaign id -> why it was taken back.
    taken_back: dict[str, str] = field(default_factory=dict)

    def open_campaigns(self) -> list[str]:
        """The campaigns with a booking not taken back, in booking order (as the ledger
        lists them)."""
        return list(dict.fromkeys(b.campaign_id for b in self.bookings.values() if not b.reversed))
