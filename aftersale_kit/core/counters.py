"""Counters in memory: the :class:`~aftersale_kit.core.ports.Counters` port for tests, demos and
single-process use. Durable counters live in :mod:`aftersale_kit.storage`.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from .decision import Decision
from .engine import customer_key
from .model import Order
from .ports import CustomerUsage

__all__ = ["InMemoryCounters"]


class InMemoryCounters:
    """Usage, per-customer usage and spending, booked from decisions.

    Booking is idempotent per (shop, order, campaign): recording the same decision twice (a
    redelivered webhook) counts it once.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._usage: dict[tuple[str, str], int] = defaultdict(int)
        self._customers: dict[tuple[str, str, str], CustomerUsage] = {}
        self._spending: dict[tuple[str, str], list[tuple[datetime, Decimal]]] = defaultdict(list)
        self._booked: set[tuple[str, str, str]] = set()
        self._redeemed: dict[tuple[str, str], list[tuple[datetime, Decimal]]] = defaultdict(list)

    # the port

    def usage_count(self, shop: str, campaign_id: str) -> int:
        with self._lock:
            return self._usage.get((shop, campaign_id), 0)

    def customer_usage(self, shop: str, campaign_id: str, customer_key: str) -> CustomerUsage:
        with self._lock:
            return self._customers.get((shop, campaign_id, customer_key), CustomerUsage())

    def spent(self, shop: str, campaign_id: str, since: datetime | None) -> Decimal:
        with self._lock:
            entries = self._spending.get((shop, campaign_id), [])
            return sum(
                (amount for at, amount in entries if since is None or at >= since), Decimal(0)
            )

    def redeemed(self, shop: str, campaign_id: str, since: datetime | None) -> Decimal:
        with self._lock:
            entries = self._redeemed.get((shop, campaign_id), [])
            return sum(
                (amount for at, amount in entries if since is None or at >= since), Decimal(0)
            )

    # booking

    def record_redemption(
        self, *, shop: str, campaign_id: str, amount: Decimal, at: datetime
    ) -> None:
        """A customer redeemed one of the campaign's codes for ``amount`` at ``at``."""
        with self._lock:
            self._redeemed[(shop, campaign_id)].append((at, amount))

    def record(self, decision: Decision, order: Order) -> None:
        """Book every fired campaign of ``decision``: usage, the customer's usage, the cost."""
        key = customer_key(order)
        at = decision.decided_at
        with self._lock:
            for campaign_id in decision.fired:
                booking = (decision.shop, decision.order_id, campaign_id)
                if booking in self._booked:
                    continue
                self._booked.add(booking)
                self._usage[(decision.shop, campaign_id)] += 1
                if key is not None:
                    ck = (decision.shop, campaign_id, key)
                    before = self._customers.get(ck, CustomerUsage())
                    last = at if before.last_at is None else max(before.last_at, at)
                    self._customers[ck] = CustomerUsage(count=before.count + 1, last_at=last)
                cost = sum(
                    (p.cost.amount for p in decision.actions if p.campaign_id == campaign_id),
                    Decimal(0),
                )
                self._spending[(decision.shop, campaign_id)].append((at, cost))
