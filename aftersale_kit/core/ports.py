"""Ports: the small interfaces through which the pure core meets the outside.

* :class:`Counters` gives the engine what has been spent and used so far (in memory here,
  durable in :mod:`aftersale_kit.storage`).
* The platform port (verify webhooks, fetch orders, create coupons, ...) is
  :class:`aftersale_kit.core.platform.Platform`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

__all__ = ["Counters", "CustomerUsage"]


@dataclass(frozen=True, slots=True)
class CustomerUsage:
    """How often one customer got a campaign, and when last."""

    count: int = 0
    last_at: datetime | None = None


class Counters(Protocol):
    """Read side of usage limits and budgets, as seen at decision time."""

    def usage_count(self, shop: str, campaign_id: str) -> int:
        """How many times the campaign fired so far (over all customers)."""
        ...

    def customer_usage(self, shop: str, campaign_id: str, customer_key: str) -> CustomerUsage:
        """``customer_key`` is the customer id, or ``email:<lowercased email>`` for guests."""
        ...

    def spent(self, shop: str, campaign_id: str, since: datetime | None) -> Decimal:
        """Offer cost booked for the campaign at or after ``since`` (``None``: ever)."""
        ...

    def redeemed(self, shop: str, campaign_id: str, since: datetime | None) -> Decimal:
        """Discounts customers took with the campaign's codes at or after ``since`` (by the
        redeeming order's time), less those of redeeming orders taken back since."""
        ...
