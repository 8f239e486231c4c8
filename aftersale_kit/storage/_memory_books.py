"""Decisions, ledger, coupons and order timelines of :class:`~aftersale_kit.storage.memory.
MemoryStore`: :mod:`.decisions`, :mod:`.ledger`, :mod:`.coupons` and :mod:`.timeline` in lists.

Rules and rows as the SQL modules have them (same keys, same uniqueness, same amounts to the
millionth); not thread-safe by itself: the memory store calls it with its lock held, which is
the shop lock of the SQL store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from ..core.campaign import IssueCoupon, ShowBlock
from ..core.decision import Decision
from ..core.engine import customer_key
from ..core.model import EventKind, Order, Refund
from ..core.money import Money
from ..core.ports import Counters, CustomerUsage
from ._memory_queue import MemoryQueue
from ._sql import from_micros, to_micros
from .codec import planned_action_to_dict
from .coupons import deactivate_key
from .decisions import _check, content_key, effect_kind
from .ledger import BOOKING, NO_CURRENCY, REVERSAL
from .records import (
    CouponRecord,
    CouponStatus,
    DecisionRecord,
    JobKind,
    JobStatus,
    LedgerEntry,
    RedemptionRecord,
)
from .timeline import REBOOK

__all__ = ["Books"]


def _exact(amount: Decimal) -> Decimal:
    """An amount as the SQL store gives it back (millionths)."""
    return from_micros(to_micros(amount))


class Books:
    """The money side of the memory store. ``queue`` receives the jobs its facts cause."""

    def __init__(self, queue: MemoryQueue) -> None:
        self.queue = queue
        self.decisions: list[DecisionRecord] = []
        self.ledger: list[LedgerEntry] = []
        self.coupons: list[CouponRecord] = []
        self.refunds: dict[tuple[str, str], dict[str, Refund]] = {}
        self.closures: dict[tuple[str, str], str] = {}
        self.redemptions: list[RedemptionRecord] = []
        self._ids = {"ledger": 0, "decision": 0, "coupon": 0, "redemption": 0}

    def _id(self, table: str) -> int:
        self._ids[table] += 1
        return self._ids[table]

    # -- decisions ------------------------------------------------------------------------------

    def decision(
        self, *, shop: str, order_id: str, event_kind: EventKind, ref: str = ""
    ) -> DecisionRecord | None:
        return next(
            (
                r
                for r in self.decisions
                if (r.shop, r.order_id, r.event_kind, r.ref) == (shop, order_id, event_kind, ref)
            ),
            None,
        )

    def for_order(self, shop: str, order_id: str) -> list[DecisionRecord]:
        return [r for r in self.decisions if r.shop == shop and r.order_id == order_id]

    def decide(
        self,
        *,
        shop: str,
        order_id: str,
        event_kind: EventKind,
        customer_key: str | None,
        decide: Callable[[Counters], Decision],
        now: datetime,
        max_attempts: int,
        ref: str = "",
    ) -> tuple[DecisionRecord, bool]:
        """:func:`.decisions.decide_locked`."""
        existing = self.decision(shop=shop, order_id=order_id, event_kind=event_kind, ref=ref)
        if existing is not None:
            return existing, False
        decision = decide(MemoryCounters(self))
        _check(decision, shop=shop, order_id=order_id, event_kind=event_kind)
        record = DecisionRecord(
            id=self._id("decision"),
            shop=shop,
            order_id=order_id,
            event_kind=event_kind,
            customer_key=customer_key,
            decided_at=decision.decided_at,
            decision=decision,
            ref=ref,
        )
        self.decisions.append(record)
        self._book(record, now=now)
        self._plan_coupons(decision, customer_key=customer_key, now=now)
        self._enqueue_effects(record, now=now, max_attempts=max_attempts)
        return record, True

    def _enqueue_effects(self, record: DecisionRecord, *, now: datetime, max_attempts: int) -> None:
        base = {"decision_id": record.id, "order_id": record.order_id}
        actions = record.decision.actions
        for planned in actions:
            if isinstance(planned.action, ShowBlock):
                continue  # the order's content is written as a whole: one job below
            self.queue.enqueue(
                shop=record.shop,
                kind=effect_kind(planned),
                idempotency_key=planned.idempotency_key,
                payload={
                    **base,
                    "event_kind": record.event_kind.value,
                    "ref": record.ref,
                    "action": planned_action_to_dict(planned),
                },
                run_at=now,
                max_attempts=max_attempts,
            )
        if any(isinstance(p.action, ShowBlock) for p in actions):
            self.enqueue_content(record.shop, record.order_id, f"d{record.id}", now=now)

    def enqueue_content(self, shop: str, order_id: str, version: str, *, now: datetime) -> None:
        self.queue.enqueue(
            shop=shop,
            kind=JobKind.WRITE_CONTENT.value,
            idempotency_key=content_key(shop, order_id, version),
            payload={"order_id": order_id},
            run_at=now,
        )

    def shows_blocks(self, shop: str, order_id: str) -> bool:
        return any(
            isinstance(p.action, ShowBlock)
            for r in self.for_order(shop, order_id)
            for p in r.decision.actions
        )

    def ledger_version(self, shop: str) -> str:
        return f"l{max((e.id for e in self.ledger if e.shop == shop), default=0)}"

    def action_costs(self, decision_id: int) -> dict[str, Decimal]:
        record = next((r for r in self.decisions if r.id == decision_id), None)
        if record is None:
            return {}
        return {p.idempotency_key: p.cost.amount for p in record.decision.actions}

    # -- ledger ---------------------------------------------------------------------------------

    def _add_entry(self, entry: LedgerEntry) -> bool:
        """Insert unless ``(shop, order_id, campaign_id, entry, ref)`` exists."""
        key = (entry.shop, entry.order_id, entry.campaign_id, entry.entry, entry.ref)
        if any((e.shop, e.order_id, e.campaign_id, e.entry, e.ref) == key for e in self.ledger):
            return False
        self.ledger.append(replace(entry, id=self._id("ledger"), cost=_exact(entry.cost)))
        return True

    def _book(self, record: DecisionRecord, *, now: datetime) -> None:
        """:func:`.ledger.book`."""
        decision = record.decision
        costs: dict[str, Money] = {}
        for planned in decision.actions:
            prior = costs.get(planned.campaign_id)
            costs[planned.campaign_id] = planned.cost if prior is None else prior + planned.cost
        fired = [o.campaign_id for o in decision.outcomes if o.fired]
        currency = next((m.currency for m in costs.values()), NO_CURRENCY)
        for campaign_id in dict.fromkeys([*fired, *costs]):
            cost = costs.get(campaign_id)
            self._add_entry(
                LedgerEntry(
                    id=0,
                    shop=decision.shop,
                    campaign_id=campaign_id,
                    order_id=decision.order_id,
                    decision_id=record.id,
                    customer_key=record.customer_key,
                    entry=BOOKING,
                    uses=1,
                    cost=Decimal(0) if cost is None else cost.amount,
                    currency=currency if cost is None else cost.currency,
                    booked_at=decision.decided_at,
                    recorded_at=now,
                    reason=None,
                    ref=record.ref,
                )
            )

    def _reversed(self, booking: LedgerEntry) -> bool:
        return any(
            e.entry == REVERSAL
            and (e.shop, e.order_id, e.campaign_id, e.ref)
            == (booking.shop, booking.order_id, booking.campaign_id, booking.ref)
            for e in self.ledger
        )

    def open_bookings(
        self, shop: str, order_id: str, campaign_id: str | None = None
    ) -> list[LedgerEntry]:
        return [
            e
            for e in self.ledger
            if e.shop == shop
            and e.order_id == order_id
            and e.entry == BOOKING
            and (campaign_id is None or e.campaign_id == campaign_id)
            and not self._reversed(e)
        ]

    def open_campaigns(self, shop: str, order_id: str) -> list[str]:
        return list(dict.fromkeys(e.campaign_id for e in self.open_bookings(shop, order_id)))

    def take_back(
        self, *, shop: str, order_id: str, campaign_id: str, reason: str, now: datetime
    ) -> tuple[list[str], bool]:
        """:func:`.timeline.take_back`."""
        mine = [c for c in self.order_coupons(shop, order_id) if c.campaign_id == campaign_id]
        revoked = self.revoke(mine, reason=reason, now=now)
        used = {c.idempotency_key for c in mine if c.status == CouponStatus.USED}
        reversed_any = False
        for booking in self.open_bookings(shop, order_id, campaign_id):
            costs = self.action_costs(booking.decision_id)
            kept = sum((cost for key, cost in costs.items() if key in used), Decimal(0))
            if kept and to_micros(kept) >= to_micros(booking.cost):
                continue
            reversal = replace(
                booking,
                entry=REVERSAL,
                uses=0 if kept else -booking.uses,
                cost=-(booking.cost - _exact(kept)),
                recorded_at=now,
                reason=reason,
            )
            reversed_any = self._add_entry(reversal) or reversed_any
        return revoked, reversed_any

    # -- coupons --------------------------------------------------------------------------------

    def order_coupons(self, shop: str, order_id: str) -> list[CouponRecord]:
        return [c for c in self.coupons if c.shop == shop and c.order_id == order_id]

    def coupon(self, shop: str, idempotency_key: str) -> CouponRecord | None:
        return next(
            (c for c in self.coupons if (c.shop, c.idempotency_key) == (shop, idempotency_key)),
            None,
        )

    def _plan_coupons(self, decision: Decision, *, customer_key: str | None, now: datetime) -> None:
        for p in decision.actions:
            if not (isinstance(p.action, IssueCoupon) and p.coupon_code):
                continue
            if self.coupon(decision.shop, p.idempotency_key) is not None:
                continue
            self.coupons.append(
                CouponRecord(
                    id=self._id("coupon"),
                    shop=decision.shop,
                    order_id=decision.order_id,
                    campaign_id=p.campaign_id,
                    idempotency_key=p.idempotency_key,
                    code=p.coupon_code,
                    platform_id=None,
                    status=CouponStatus.PLANNED,
                    customer_key=customer_key,
                    created_at=now,
                    updated_at=now,
                )
            )

    def set_coupon(self, coupon: CouponRecord, *, now: datetime, **values: object) -> None:
        index = next(i for i, c in enumerate(self.coupons) if c.id == coupon.id)
        current = self.coupons[index]
        self.coupons[index] = replace(current, updated_at=now, **values)  # type: ignore[arg-type]

    def require(self, shop: str, idempotency_key: str) -> CouponRecord:
        found = self.coupon(shop, idempotency_key)
        if found is None:
            raise LookupError(f"no coupon {idempotency_key!r} in shop {shop!r}")
        return found

    def revoke(self, records: Iterable[CouponRecord], *, reason: str, now: datetime) -> list[str]:
        """:func:`.coupons.revoke_records` (``records`` as read before)."""
        revoked = []
        for coupon in records:
            if coupon.status == CouponStatus.PLANNED:
                self.set_coupon(coupon, now=now, status=CouponStatus.REVOKED)
                if self._create_was_tried(coupon, reason=reason, now=now):
                    self.enqueue_deactivation(coupon, platform_id=None, now=now)
            elif coupon.status == CouponStatus.ISSUED:
                self.set_coupon(coupon, now=now, status=CouponStatus.REVOKED)
                self.enqueue_deactivation(coupon, platform_id=coupon.platform_id, now=now)
            else:
                continue
            revoked.append(coupon.idempotency_key)
        return revoked

    def _create_was_tried(self, coupon: CouponRecord, *, reason: str, now: datetime) -> bool:
        key = coupon.idempotency_key
        job = self.queue.cancel_pending(
            shop=coupon.shop, idempotency_key=key, reason=reason, now=now
        )
        if job is None:
            job = self.queue.by_key(shop=coupon.shop, idempotency_key=key)
            if job is None or job.status != JobStatus.DEAD:
                return False
        return job.attempts > 0

    def enqueue_deactivation(
        self, coupon: CouponRecord, *, platform_id: str | None, now: datetime
    ) -> None:
        self.queue.enqueue(
            shop=coupon.shop,
            kind=JobKind.DEACTIVATE_COUPON.value,
            idempotency_key=deactivate_key(coupon.idempotency_key),
            payload={
                "coupon_key": coupon.idempotency_key,
                "order_id": coupon.order_id,
                "campaign_id": coupon.campaign_id,
                "code": coupon.code,
                "platform_id": platform_id,
            },
            run_at=now,
        )

    # -- refunds, closure, redemptions ----------------------------------------------------------

    def record_refunds(self, shop: str, order_id: str, items: Iterable[Refund]) -> None:
        known = self.refunds.setdefault((shop, order_id), {})
        for refund in items:
            known.setdefault(refund.id, refund)

    def refunds_for(self, shop: str, order_id: str) -> list[Refund]:
        return list(self.refunds.get((shop, order_id), {}).values())

    def close(self, shop: str, order_id: str, reason: str) -> None:
        self.closures.setdefault((shop, order_id), reason)

    def record_redemptions(
        self, shop: str, order: Order, *, now: datetime
    ) -> list[RedemptionRecord]:
        """What :meth:`Store._record_redemptions` does, on the memory rows."""
        at = order.paid_at or order.created_at
        amounts: dict[str, Money | None] = {code: None for code in order.discount_codes}
        amounts.update(order.code_discounts)
        found = []
        for code, amount in amounts.items():
            record = self._redeem(shop, code, amount, order, at=at, now=now)
            if record is None:
                continue
            found.append(record)
            if self.shows_blocks(shop, record.issuing_order_id):
                self.enqueue_content(shop, record.issuing_order_id, f"r{record.id}", now=now)
        return found

    def _redeem(
        self,
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
        coupon = next(
            (c for c in self.coupons if c.shop == shop and c.code.lower() == wanted), None
        )
        if coupon is None or coupon.order_id == order.id:
            return None
        if any(
            (r.shop, r.coupon_key, r.redeeming_order_id) == (shop, coupon.idempotency_key, order.id)
            for r in self.redemptions
        ):
            return None
        if amount is None:
            amount = Money(self._coupon_cost(coupon), order.currency)
        record = RedemptionRecord(
            id=self._id("redemption"),
            shop=shop,
            code=coupon.code,
            coupon_key=coupon.idempotency_key,
            campaign_id=coupon.campaign_id,
            issuing_order_id=coupon.order_id,
            issuing_customer_key=coupon.customer_key,
            redeeming_order_id=order.id,
            redeeming_customer_key=customer_key(order),
            amount=Money(_exact(amount.amount), amount.currency),
            redeemed_at=at,
            reversed_at=None,
        )
        self.redemptions.append(record)
        self._mark_used(coupon, now=now)
        return record

    def _coupon_cost(self, coupon: CouponRecord) -> Decimal:
        for record in self.for_order(coupon.shop, coupon.order_id):
            cost = self.action_costs(record.id).get(coupon.idempotency_key)
            if cost is not None:
                return cost
        return Decimal(0)

    def _mark_used(self, coupon: CouponRecord, *, now: datetime) -> None:
        self.set_coupon(coupon, now=now, status=CouponStatus.USED)
        self.queue.cancel_pending(
            shop=coupon.shop,
            idempotency_key=deactivate_key(coupon.idempotency_key),
            reason="redeemed",
            now=now,
        )
        reversal = next(
            (
                e
                for e in self.ledger
                if e.entry == REVERSAL
                and (e.shop, e.order_id, e.campaign_id)
                == (coupon.shop, coupon.order_id, coupon.campaign_id)
            ),
            None,
        )
        if reversal is None:
            return
        cost = self.action_costs(reversal.decision_id).get(coupon.idempotency_key, Decimal(0))
        self._add_entry(
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

    def reverse_redemptions(self, shop: str, order_id: str, *, now: datetime) -> None:
        self.redemptions = [
            replace(r, reversed_at=now)
            if r.shop == shop and r.redeeming_order_id == order_id and r.reversed_at is None
            else r
            for r in self.redemptions
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
        last = [e.booked_at for e in mine if e.entry == BOOKING and not self._books._reversed(e)]
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
