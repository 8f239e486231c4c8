"""An in-memory store for fast service tests: the storage ports without a database.

:class:`MemoryStore` implements :class:`~.ports.EventIntake`, :class:`~.ports.BlockReader`,
:class:`~.ports.JobQueue` and :class:`~.ports.ProcessorStore` with the semantics of the SQL
:class:`~.store.Store` for what the service relies on: one decision per step, bookings and
reversals counted from ledger rows, coupons and their deactivations, the job queue's leases,
retries and dead letters, deduplicated deliveries, stored content and order keys. The shared
behaviour tests (``tests/storage/test_port_contract.py``) run on it, SQLite and PostgreSQL.

One lock serialises every call (the SQL store's shop lock and transactions); nothing is kept
after the process ends. Not implemented: the privacy export and erasure
(:class:`~.ports.CustomerData`), pruning (:class:`~.ports.Prunable`), credentials, install
nonces and table statistics: they are SQL-only and tested on the databases.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..core.campaign import FreeGift
from ..core.decision import Decision
from ..core.model import EventKind, Order, Refund
from ..core.order_facts import OrderFacts
from ..core.ports import Counters, CustomerUsage
from ..core.timeline import Step
from ._memory_books import Books
from ._memory_coupons import CouponRows
from ._memory_intake import MemoryIntake
from ._memory_links import MemoryLinks
from ._memory_loyalty import MemoryLoyalty
from ._memory_loyalty_admin import MemoryLoyaltyAdmin
from ._memory_messages import MemoryMessages
from ._memory_redemptions import MemoryCounters, record_redemptions, reverse_redemptions
from ._sql import aware
from .ledger import REVERSAL
from .loyalty import StepLoyalty, TimelineFacts, book_step, shows_loyalty
from .message_records import MessageState, StepMessages
from .order_facts import SERVICE_CHECK, CampaignTotals, CustomerHistory
from .outbox import DEFAULT_MAX_ATTEMPTS, backoff_delay
from .records import (
    CouponRecord,
    CouponStatus,
    DecisionRecord,
    Job,
    JobStatus,
    LedgerEntry,
    RedemptionRecord,
)
from .store import Clawback, StepFacts, StepResult, _require_text

__all__ = ["MemoryStore"]


class MemoryStore(MemoryLinks, MemoryLoyalty, MemoryLoyaltyAdmin, MemoryMessages, MemoryIntake):
    """The storage ports in dicts and lists, behind one lock. See the module docstring."""

    def __init__(self) -> None:
        super().__init__()
        self._books = Books(self._queue)
        self._order_facts: dict[tuple[str, str], OrderFacts] = {}

    def _loyalty_coupons(self) -> CouponRows:
        return self._books

    def close(self) -> None:
        """Nothing to release (the counterpart of :meth:`Store.close`)."""

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- job queue ------------------------------------------------------------------------------

    def enqueue(
        self,
        *,
        shop: str,
        kind: str,
        idempotency_key: str,
        payload: Mapping[str, Any],
        run_at: datetime | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        now: datetime | None = None,
    ) -> bool:
        _require_text(shop=shop, kind=kind, idempotency_key=idempotency_key)
        now = aware(now, "now")
        with self._lock:
            return self._queue.enqueue(
                shop=shop,
                kind=kind,
                idempotency_key=idempotency_key,
                payload=payload,
                run_at=aware(run_at, "run_at") if run_at is not None else now,
                max_attempts=max_attempts,
            )

    def claim(
        self,
        *,
        worker_id: str,
        limit: int = 10,
        lease_seconds: float = 60.0,
        now: datetime | None = None,
        kinds: Iterable[str] | None = None,
    ) -> list[Job]:
        _require_text(worker_id=worker_id)
        if limit < 1 or lease_seconds <= 0:
            raise ValueError("claim() needs limit >= 1 and lease_seconds > 0")
        now = aware(now, "now")
        with self._lock:
            return self._queue.claim(
                worker_id=worker_id,
                limit=limit,
                lease=timedelta(seconds=lease_seconds),
                now=now,
                kinds=tuple(kinds) if kinds is not None else None,
            )

    def complete(self, job: Job, *, now: datetime | None = None) -> bool:
        now = aware(now, "now")
        with self._lock:
            return self._queue.let_go(job, JobStatus.DONE, finished_at=now)

    def retry(
        self, job: Job, *, error: str, at: datetime, now: datetime | None = None
    ) -> JobStatus | None:
        at, now = aware(at, "at"), aware(now, "now")
        with self._lock:
            return self._queue.retry(job, error=error, at=at, now=now)

    def fail(self, job: Job, *, error: str, now: datetime | None = None) -> JobStatus | None:
        now = aware(now, "now")
        delay = backoff_delay(job.attempts, jitter_key=str(job.id))
        return self.retry(job, error=error, at=now + delay, now=now)

    def dead(self, job: Job, *, error: str, now: datetime | None = None) -> bool:
        now = aware(now, "now")
        with self._lock:
            return self._queue.let_go(job, JobStatus.DEAD, last_error=error, finished_at=now)

    def release(self, job: Job, *, at: datetime | None = None) -> bool:
        at = aware(at, "at")
        with self._lock:
            return self._queue.release(job, at=at)

    def job(self, job_id: int) -> Job | None:
        with self._lock:
            return self._queue.get(job_id)

    def jobs(
        self,
        *,
        shop: str | None = None,
        status: JobStatus | None = None,
        kind: str | None = None,
        limit: int = 100,
    ) -> list[Job]:
        with self._lock:
            return self._queue.find(shop=shop, status=status, kind=kind, limit=limit)

    def queue_stats(self) -> dict[JobStatus, int]:
        with self._lock:
            return self._queue.stats()

    # -- deciding and taking back ---------------------------------------------------------------

    def decide_step(
        self,
        *,
        shop: str,
        order: Order,
        event_kind: EventKind,
        ref: str = "",
        customer_key: str | None,
        decide: Callable[[Counters], Decision],
        settle: Callable[[StepFacts], Mapping[str, str]],
        refunds: Sequence[Refund] = (),
        closing: str | None = None,
        now: datetime | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        loyalty: StepLoyalty | None = None,
        follow_ups: StepMessages | None = None,
        facts_of: Callable[[StepFacts], OrderFacts] | None = None,
    ) -> StepResult:
        """:meth:`Store.decide_step`, under the store's lock."""
        _require_text(shop=shop, order_id=order.id)
        now = aware(now, "now")
        books = self._books
        with self._lock:
            books.record_refunds(shop, order.id, refunds)
            if closing is not None:
                books.close(shop, order.id, closing)
            used = record_redemptions(books, shop, order, now=now)
            record, created = books.decide(
                shop=shop,
                order_id=order.id,
                event_kind=EventKind(event_kind),
                customer_key=customer_key,
                decide=decide,
                now=now,
                max_attempts=max_attempts,
                ref=ref,
            )
            facts = StepFacts(
                refunds=tuple(books.refunds_for(shop, order.id)),
                closed=books.closures.get((shop, order.id)),
                open_campaigns=tuple(books.open_campaigns(shop, order.id)),
            )
            planned = 0
            if created and follow_ups is not None:
                planned = self._messages.plan(follow_ups.plan(record.decision), now)
            if facts.closed is not None:
                reverse_redemptions(books, shop, order.id, now=now)
                self.cancel_messages(
                    shop, order_id=order.id, reason=f"order {facts.closed}", now=now
                )
            if facts_of is not None:
                self._write_facts(replace(facts_of(facts), shop=shop))
            plan = dict(settle(facts))
            revoked = self._take_back(shop, order.id, plan, now=now)
            points = None
            if loyalty is not None:
                known = TimelineFacts(
                    records=tuple(books.for_order(shop, order.id)),
                    refunds=facts.refunds,
                    closed=facts.closed is not None,
                )
                points = book_step(self._loyalty_tx(), loyalty, shop=shop, facts=known, now=now)
                version = points.content_version
                if version is not None and shows_loyalty(known.records):
                    books.enqueue_content(shop, order.id, version, now=now)
        return StepResult(
            record=record,
            created=created,
            taken_back=plan,
            revoked=tuple(revoked),
            redemptions=tuple(used),
            loyalty=points,
            planned_messages=planned,
        )

    def _write_facts(self, facts: OrderFacts) -> None:
        """:func:`.order_facts.write`: the first time placed and a closure stay."""
        key = (facts.shop, facts.order_id)
        old = self._order_facts.get(key)
        if old is not None:
            facts = replace(facts, placed_at=old.placed_at, closed=old.closed or facts.closed)
        self._order_facts[key] = facts

    def order_facts(
        self, shop: str, *, order_ids: Collection[str] | None = None
    ) -> list[OrderFacts]:
        with self._lock:
            found = [
                f
                for (s, oid), f in self._order_facts.items()
                if s == shop and (order_ids is None or oid in order_ids)
            ]
        return sorted(found, key=lambda f: (f.placed_at, f.order_id))

    def customer_history(
        self,
        shop: str,
        customer_key: str,
        *,
        campaigns: Collection[str] = (),
        codes: Collection[str] = (),
    ) -> CustomerHistory:
        facts = [f for f in self.order_facts(shop) if f.customer_key == customer_key]
        with self._lock:
            used = [
                r
                for r in self._books.redemptions
                if r.shop == shop and r.redeeming_customer_key == customer_key
            ]
            entries = [
                e
                for e in self._books.ledger
                if e.shop == shop and e.customer_key == customer_key and e.campaign_id in campaigns
            ]
            checks = tuple(
                r.sent_at
                for r in self._messages.rows.values()
                if r.shop == shop and r.customer_key == customer_key
                and r.kind == SERVICE_CHECK and r.state is MessageState.SENT
                and r.sent_at is not None
            )  # fmt: skip
            keys = {c.strip().lower() for c in codes}
            known = frozenset(
                c.code.lower() for c in self._books.coupons
                if c.shop == shop and c.code.lower() in keys
            )  # fmt: skip
        return CustomerHistory(tuple(facts), tuple(used), tuple(entries), checks, known)

    def shop_decisions(
        self, shop: str, *, since: datetime, until: datetime
    ) -> list[DecisionRecord]:
        with self._lock:
            found = [
                r for r in self._books.decisions if r.shop == shop and since <= r.decided_at < until
            ]
        return sorted(found, key=lambda r: (r.decided_at, r.id))

    def campaign_totals(self, shop: str) -> list[CampaignTotals]:
        totals: dict[str, list[Any]] = {}
        facts = {f.order_id: f for f in self.order_facts(shop)}
        with self._lock:
            found = [r for r in self._books.redemptions if r.shop == shop]
        for r in found:
            row = totals.setdefault(r.campaign_id, [0, Decimal(0), Decimal(0)])
            f = facts.get(r.redeeming_order_id)
            row[0] += r.reversed_at is None
            if f is not None:
                row[1] += f.net
                if r.reversed_at is None and f.closed is None:
                    row[2] += f.net - f.refunded
        return [CampaignTotals(cid, *totals[cid]) for cid in sorted(totals)]

    def shop_coupons(self, shop: str) -> list[CouponRecord]:
        with self._lock:
            return sorted((c for c in self._books.coupons if c.shop == shop), key=lambda c: c.id)

    def _take_back(
        self, shop: str, order_id: str, plan: Mapping[str, str], *, now: datetime
    ) -> list[str]:
        books = self._books
        revoked: list[str] = []
        for campaign_id, reason in plan.items():
            revoked += books.take_back(
                shop=shop, order_id=order_id, campaign_id=campaign_id, reason=reason, now=now
            )[0]
        if plan and books.shows_blocks(shop, order_id):
            books.enqueue_content(shop, order_id, books.ledger_version(shop), now=now)
        return revoked

    def reverse_order(
        self, *, shop: str, order_id: str, reason: str, now: datetime | None = None
    ) -> Clawback:
        now = aware(now, "now")
        books = self._books
        with self._lock:
            revoked = books.revoke(books.order_coupons(shop, order_id), reason=reason, now=now)
            reversed_ = [
                campaign_id
                for campaign_id in books.open_campaigns(shop, order_id)
                if books.take_back(
                    shop=shop, order_id=order_id, campaign_id=campaign_id, reason=reason, now=now
                )[1]
            ]
        return Clawback(campaigns=tuple(reversed_), coupons=tuple(revoked))

    def close_order(
        self, *, shop: str, order_id: str, reason: str, now: datetime | None = None
    ) -> None:
        now = aware(now, "now")
        with self._lock:
            self._books.close(shop, order_id, reason)
            self.cancel_messages(shop, order_id=order_id, reason=f"order {reason}", now=now)

    def order_steps(self, shop: str, order_id: str) -> tuple[list[Step], dict[str, bool]]:
        books = self._books
        with self._lock:
            records = books.for_order(shop, order_id)
            taken: dict[str, bool] = {
                c.idempotency_key: True
                for c in books.order_coupons(shop, order_id)
                if c.status in (CouponStatus.REVOKED, CouponStatus.DEACTIVATED)
            }
            reversed_ = {
                (e.campaign_id, e.ref)
                for e in books.ledger
                if e.shop == shop and e.order_id == order_id and e.entry == REVERSAL
            }
        for r in records:
            for p in r.decision.actions:
                if isinstance(p.action, FreeGift) and (p.campaign_id, r.ref) in reversed_:
                    taken[p.idempotency_key] = True
        return [Step(decision=r.decision, decided_at=r.decided_at) for r in records], taken

    # -- reading the books ----------------------------------------------------------------------

    def decision(
        self, *, shop: str, order_id: str, event_kind: EventKind, ref: str = ""
    ) -> DecisionRecord | None:
        with self._lock:
            return self._books.decision(
                shop=shop, order_id=order_id, event_kind=EventKind(event_kind), ref=ref
            )

    def decisions_for_order(self, shop: str, order_id: str) -> list[DecisionRecord]:
        with self._lock:
            return self._books.for_order(shop, order_id)

    def refunds(self, shop: str, order_id: str) -> list[Refund]:
        with self._lock:
            return self._books.refunds_for(shop, order_id)

    def closure(self, shop: str, order_id: str) -> str | None:
        with self._lock:
            return self._books.closures.get((shop, order_id))

    def redemptions(
        self, shop: str, *, issuing_order_id: str | None = None
    ) -> list[RedemptionRecord]:
        with self._lock:
            return [
                r
                for r in self._books.redemptions
                if r.shop == shop
                and (issuing_order_id is None or r.issuing_order_id == issuing_order_id)
            ]

    def ledger(self, shop: str, *, order_id: str | None = None) -> list[LedgerEntry]:
        with self._lock:
            return [
                e
                for e in self._books.ledger
                if e.shop == shop and (order_id is None or e.order_id == order_id)
            ]

    def counters(self) -> Counters:
        """The ledger as counters (each call reads under the lock)."""
        return _LockedCounters(self._lock, MemoryCounters(self._books))

    # -- coupons --------------------------------------------------------------------------------

    def coupons_for_order(self, shop: str, order_id: str) -> list[CouponRecord]:
        with self._lock:
            return self._books.order_coupons(shop, order_id)

    def coupon(self, shop: str, idempotency_key: str) -> CouponRecord | None:
        with self._lock:
            return self._books.coupon(shop, idempotency_key)

    def mark_issued(
        self, *, shop: str, idempotency_key: str, platform_id: str, now: datetime | None = None
    ) -> CouponRecord:
        now = aware(now, "now")
        books = self._books
        with self._lock:
            current = books.require(shop, idempotency_key)
            if current.status == CouponStatus.PLANNED:
                books.set_coupon(
                    current, now=now, status=CouponStatus.ISSUED, platform_id=platform_id
                )
            elif current.status == CouponStatus.REVOKED and current.platform_id is None:
                # Created on the platform after it was taken back: switch it off again.
                books.set_coupon(current, now=now, platform_id=platform_id)
                books.enqueue_deactivation(current, platform_id=platform_id, now=now)
            return books.require(shop, idempotency_key)

    def mark_deactivated(
        self, *, shop: str, idempotency_key: str, now: datetime | None = None
    ) -> CouponRecord:
        now = aware(now, "now")
        books = self._books
        with self._lock:
            current = books.require(shop, idempotency_key)
            if current.status in (CouponStatus.ISSUED, CouponStatus.REVOKED):
                books.set_coupon(current, now=now, status=CouponStatus.DEACTIVATED)
            return books.require(shop, idempotency_key)


class _LockedCounters:
    def __init__(self, lock: threading.RLock, counters: MemoryCounters) -> None:
        self._lock = lock
        self._counters = counters

    def usage_count(self, shop: str, campaign_id: str) -> int:
        with self._lock:
            return self._counters.usage_count(shop, campaign_id)

    def customer_usage(self, shop: str, campaign_id: str, customer_key: str) -> CustomerUsage:
        with self._lock:
            return self._counters.customer_usage(shop, campaign_id, customer_key)

    def spent(self, shop: str, campaign_id: str, since: datetime | None) -> Decimal:
        with self._lock:
            return self._counters.spent(shop, campaign_id, since)

    def redeemed(self, shop: str, campaign_id: str, since: datetime | None) -> Decimal:
        with self._lock:
            return self._counters.redeemed(shop, campaign_id, since)


if TYPE_CHECKING:
    from .ports import EventIntake, LoyaltyStore, MessageStore, ProcessorStore, ResultsReader

    def _memory_fits(
        store: MemoryStore,
    ) -> tuple[EventIntake, ProcessorStore, LoyaltyStore, MessageStore, ResultsReader]:
        """Static check: the memory store satisfies the ports (mypy fails here otherwise)."""
        return store, store, store, store, store
