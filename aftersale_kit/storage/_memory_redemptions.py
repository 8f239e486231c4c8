"""Redemptions and counters of :class:`~aftersale_kit.storage.memory.MemoryStore`: what
:mod:`.timeline` records when a later order uses a code, and :class:`.ledger.LedgerCounters`.

Not thread-safe by itself: the memory store calls it with its lock held.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from ..core.engine import customer_key
from ..core.model import Order
from ..core.money import Money
from ..core.ports import CustomerUsage
from ._sql import from_micros, to_micros
from .coupons import deactivate_key
from .ledger import BOOKING, REVERSAL
from .records import CouponRecord, CouponStatus, LedgerEntry, RedemptionRecord
from .timeline import REBOOK

if TYPE_CHECKING:
    from ._memory_books import Books

__all__ = ["MemoryCounters", "record_redemptions", "reverse_redemptions"]


def record_redemptions(
    books: Books, shop: str, order: Order, *, now: datetime
) -> list[RedemptionRecord]:
    """What :meth:`Store._record_redemptions` does, on the memory rows."""
    at = order.paid_at or order.created_at
    amounts: dict[str, Money | None] = {code: None for code in order.discount_codes}
    amounts.update(order.code_discounts)
    found = []
    for code, amount in amounts.items():
        record = _redeem(books, shop, code, amount, order, at=at, now=now)
        if record is None:
            continue
        found.append(record)
        if books.shows_blocks(shop, record.issuing_order_id):
            books.enqueue_content(shop, record.issuing_order_id, f"r{record.id}", now=now)
    return found


def _redeem(
    books: Books,
    shop: str,
    code: str,
    amount: Money | None,
    order: Order,
    *,
    at: datetime,
    now: datetime,
) -> RedemptionRecord | None:
    """:func:`.timeline.record_redemption`."""
    wanted = code.strip().lower()
    coupon = next((c for c in books.coupons if c.shop == shop and c.code.lower() == wanted), None)
    if coupon is None or coupon.order_id == order.id:
        return None
    seen = (shop, coupon.idempotency_key, order.id)
    if any((r.shop, r.coupon_key, r.redeeming_order_id) == seen for r in books.redemptions):
        return None
    if amount is None:
        amount = Money(_coupon_cost(books, coupon), order.currency)
    record = RedemptionRecord(
        id=books._id("redemption"),
        shop=shop,
        code=coupon.code,
        coupon_key=coupon.idempotency_key,
        campaign_id=coupon.campaign_id,
        issuing_order_id=coupon.order_id,
        issuing_customer_key=coupon.customer_key,
        redeeming_order_id=order.id,
        redeeming_customer_key=customer_key(order),
        amount=Money(from_micros(to_micros(amount.amount)), amount.currency),
        redeemed_at=at,
        reversed_at=None,
    )
    books.redemptions.append(record)
    _mark_used(books, coupon, now=now)
    return record


def _coupon_cost(books: Books, coupon: CouponRecord) -> Decimal:
    for record in books.for_order(coupon.shop, coupon.order_id):
        cost = books.action_costs(record.id).get(coupon.idempotency_key)
        if cost is not None:
            return cost
    return Decimal(0)


def _mark_used(books: Books, coupon: CouponRecord, *, now: datetime) -> None:
    """The coupon was spent: ``used``, no deactivation, its cost booked again if reversed."""
    books.set_coupon(coupon, now=now, status=CouponStatus.USED)
    books.queue.cancel_pending(
        shop=coupon.shop,
        idempotency_key=deactivate_key(coupon.idempotency_key),
        reason="redeemed",
        now=now,
    )
    issued = (coupon.shop, coupon.order_id, coupon.campaign_id)
    reversal = next(
        (
            e
            for e in books.ledger
            if e.entry == REVERSAL and (e.shop, e.order_id, e.campaign_id) == issued
        ),
        None,
    )
    if reversal is None:
        return
    cost = books.action_costs(reversal.decision_id).get(coupon.idempotency_key, Decimal(0))
    books.add_entry(
        replace(
            reversal,
            entry=REBOOK,
            uses=-reversal.uses,
            cost=cost,
            recorded_at=now,
            reason="redeemed after it was taken back",
            ref=coupon.idempotency_key,
        )
    )


def reverse_redemptions(books: Books, shop: str, order_id: str, *, now: datetime) -> None:
    """The redeeming order was taken back: its redemptions no longer count as redeemed."""
    books.redemptions = [
        replace(r, reversed_at=now)
        if r.shop == shop and r.redeeming_order_id == order_id and r.reversed_at is None
        else r
        for r in books.redemptions
    ]


class MemoryCounters:
    """:class:`~aftersale_kit.core.ports.Counters` over the memory ledger (as
    :class:`.ledger.LedgerCounters` reads the SQL one)."""

    def __init__(self, books: Books) -> None:
        self._books = books

    def _rows(self, shop: str, campaign_id: str) -> list[LedgerEntry]:
        return [e for e in self._books.ledger if e.shop == shop and e.campaign_id == campaign_id]

    def usage_count(self, shop: str, campaign_id: str) -> int:
        return sum(e.uses for e in self._rows(shop, campaign_id))

    def customer_usage(self, shop: str, campaign_id: str, customer_key: str) -> CustomerUsage:
        mine = [e for e in self._rows(shop, campaign_id) if e.customer_key == customer_key]
        last = [e.booked_at for e in mine if e.entry == BOOKING and not self._books.reversed(e)]
        return CustomerUsage(count=sum(e.uses for e in mine), last_at=max(last, default=None))

    def spent(self, shop: str, campaign_id: str, since: datetime | None) -> Decimal:
        return sum(
            (
                e.cost
                for e in self._rows(shop, campaign_id)
                if since is None or e.booked_at >= since
            ),
            Decimal(0),
        )

    def redeemed(self, shop: str, campaign_id: str, since: datetime | None) -> Decimal:
        return sum(
            (
                r.amount.amount
                for r in self._books.redemptions
                if r.shop == shop
                and r.campaign_id == campaign_id
                and r.reversed_at is None
                and (since is None or r.redeemed_at >= since)
            ),
            Decimal(0),
        )
