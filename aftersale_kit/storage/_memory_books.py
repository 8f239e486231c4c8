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

from ..core.campaign import ShowBlock
from ..core.decision import Decision
from ..core.model import EventKind, Refund
from ..core.money import Money
from ..core.ports import Counters
from ._memory_coupons import CouponRows
from ._memory_queue import MemoryQueue
from ._memory_redemptions import MemoryCounters
from ._sql import from_micros, to_micros
from .codec import planned_action_to_dict
from .decisions import _check, content_key, effect_kind, has_job
from .ledger import BOOKING, NO_CURRENCY, REVERSAL
from .records import (
    CouponStatus,
    DecisionRecord,
    JobKind,
    LedgerEntry,
    RedemptionRecord,
)

__all__ = ["Books"]


def _exact(amount: Decimal) -> Decimal:
    """An amount as the SQL store gives it back (millionths)."""
    return from_micros(to_micros(amount))


class Books(CouponRows):
    """The money side of the memory store. ``queue`` receives the jobs its facts cause."""

    def __init__(self, queue: MemoryQueue) -> None:
        super().__init__(queue)
        self.decisions: list[DecisionRecord] = []
        self.ledger: list[LedgerEntry] = []
        self.refunds: dict[tuple[str, str], dict[str, Refund]] = {}
        self.closures: dict[tuple[str, str], str] = {}
        self.redemptions: list[RedemptionRecord] = []

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
            if not has_job(planned):
                continue  # content: one job below; loyalty: booked by the service
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

    def add_entry(self, entry: LedgerEntry) -> bool:
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
            self.add_entry(
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

    def reversed(self, booking: LedgerEntry) -> bool:
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
            and not self.reversed(e)
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
            reversed_any = self.add_entry(reversal) or reversed_any
        return revoked, reversed_any

    # -- refunds and closure --------------------------------------------------------------------

    def record_refunds(self, shop: str, order_id: str, items: Iterable[Refund]) -> None:
        """Each refund once, by its platform id (:func:`.timeline.record_refunds`)."""
        known = self.refunds.setdefault((shop, order_id), {})
        for refund in items:
            known.setdefault(refund.id, refund)

    def refunds_for(self, shop: str, order_id: str) -> list[Refund]:
        return list(self.refunds.get((shop, order_id), {}).values())

    def close(self, shop: str, order_id: str, reason: str) -> None:
        """The order is closed; the first reason stays."""
        self.closures.setdefault((shop, order_id), reason)
