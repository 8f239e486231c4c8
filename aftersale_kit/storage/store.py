"""The :class:`Store` facade: everything the service needs from the database, one method each.

Every method is one short transaction and is safe to call from many threads; open one Store per
process (after forking). Times are timezone-aware datetimes; ``now=None`` means the current time.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import func, select

from ..core.campaign import FreeGift, ShowBlock
from ..core.decision import Decision
from ..core.engine import customer_key as engine_customer_key
from ..core.model import EventKind, Order, Refund
from ..core.money import Money
from ..core.order_facts import OrderFacts
from ..core.ports import Counters, CustomerUsage
from ..core.timeline import Step
from . import (
    compliance,
    coupons,
    decisions,
    events,
    ledger,
    messages,
    migrate,
    order_facts,
    outbox,
    quarantine,
    retention,
    shops,
    timeline,
)
from ._links_store import LinkMethods
from ._loyalty_admin_sql import LoyaltyAdminMethods
from ._loyalty_sql import SqlLoyaltyTx
from ._loyalty_store import LoyaltyMethods
from ._message_store import MessageMethods
from ._sql import aware
from .blocks_raw import load_blocks_json
from .db import DEFAULT_SQLITE_PATH, Database, create_database
from .loyalty import LoyaltyOutcome, StepLoyalty, TimelineFacts, book_step, shows_loyalty
from .message_records import StepMessages
from .order_facts import CampaignTotals, CustomerHistory
from .outbox import DEFAULT_MAX_ATTEMPTS, backoff_delay
from .quarantine import QuarantinedDelivery
from .records import (
    CouponRecord,
    CouponStatus,
    DecisionRecord,
    IncomingEvent,
    Job,
    JobStatus,
    LedgerEntry,
    RedemptionRecord,
    ShopRecord,
    ShopState,
    StoredEvent,
)
from .tables import ledger as ledger_table

__all__ = ["Clawback", "StepFacts", "StepResult", "Store", "customer_key_for"]


def customer_key_for(order: Order) -> str | None:
    """The key the engine counts per-customer limits under (``core.engine.customer_key``): the
    customer id, else ``email:<lowercased>`` for a guest, else ``None``. Pass it to
    :meth:`Store.decide_once` so bookings land where the engine reads."""
    return engine_customer_key(order)


@dataclass(frozen=True, slots=True)
class Clawback:
    """What :meth:`Store.reverse_order` took back."""

    #: Campaign ids whose booking was reversed.
    campaigns: tuple[str, ...]
    #: Idempotency keys of the coupons revoked.
    coupons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StepFacts:
    """What the store knows of an order's timeline when a step has been decided."""

    #: Every refund recorded for the order, oldest first.
    refunds: tuple[Refund, ...]
    #: Why the order is closed (``order_cancelled``, ``refunded``), or ``None``.
    closed: str | None
    #: Campaigns booked on the order and not taken back yet (read only when the order has
    #: refunds or is closed, since only they take back; empty otherwise).
    open_campaigns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StepResult:
    """What :meth:`Store.decide_step` did."""

    record: DecisionRecord
    created: bool
    #: Campaign id -> why it was taken back by this step.
    taken_back: Mapping[str, str]
    #: Idempotency keys of the coupons revoked by this step.
    revoked: tuple[str, ...]
    #: Redemptions of the shop's codes first seen in this step's order.
    redemptions: tuple[RedemptionRecord, ...]
    #: What the step booked on the customer's loyalty account (``decide_step(loyalty=...)``).
    loyalty: LoyaltyOutcome | None = None
    #: How many follow-up messages the step put on the schedule (``decide_step(follow_ups=)``).
    planned_messages: int = 0


class Store(LinkMethods, LoyaltyMethods, LoyaltyAdminMethods, MessageMethods):
    """Durable state of the service on SQLite or PostgreSQL. See the package docstring."""

    def __init__(self, database: Database) -> None:
        self.db = database

    # -- lifecycle --------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        url: str | None = None,
        *,
        sqlite_path: str | Path = DEFAULT_SQLITE_PATH,
        busy_timeout_ms: int = 5000,
        sqlite_synchronous: Literal["NORMAL", "FULL"] = "NORMAL",
        pool_size: int = 10,
        migrate: bool = False,
    ) -> Store:
        """Open the database at ``url`` (``None``: the SQLite file at ``sqlite_path``).

        Connects lazily; with ``migrate=True`` the schema is upgraded to head right away.
        """
        store = cls(
            create_database(
                url,
                sqlite_path=sqlite_path,
                busy_timeout_ms=busy_timeout_ms,
                sqlite_synchronous=sqlite_synchronous,
                pool_size=pool_size,
            )
        )
        if migrate:
            store.migrate()
        return store

    def migrate(self) -> None:
        """Upgrade the schema to head (idempotent; safe from several processes at once)."""
        migrate.upgrade(self.db)

    def schema_revision(self) -> str | None:
        return migrate.current_revision(self.db)

    def close(self) -> None:
        self.db.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.db.dialect

    # -- webhook intake ---------------------------------------------------------------------

    def accept_event(
        self,
        *,
        shop: str,
        platform: str,
        topic: str,
        dedupe_key: str,
        received_at: datetime,
        body: bytes,
        headers: Mapping[str, str] | None = None,
        order_id: str | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    ) -> bool:
        """Store a verified webhook and enqueue its ``process_event`` job, in one transaction.

        Returns ``False`` (storing nothing) when ``(shop, dedupe_key)`` was accepted before.
        When this returns, the event is committed: answer the platform 200.
        """
        item = IncomingEvent(
            shop=shop,
            platform=platform,
            topic=topic,
            dedupe_key=dedupe_key,
            received_at=received_at,
            body=body,
            headers=headers or {},
            order_id=order_id,
        )
        [accepted] = self.accept_events([item], max_attempts=max_attempts)
        return accepted

    def accept_events(
        self, batch: Sequence[IncomingEvent], *, max_attempts: int = DEFAULT_MAX_ATTEMPTS
    ) -> list[bool]:
        """:meth:`accept_event` for several webhooks in one transaction (group commit for an
        intake that buffers for a millisecond or two). One flag per event, in order."""
        checked = [_checked_event(item) for item in batch]
        if not checked:
            return []
        return [i is not None for i in events.accept(self.db, checked, max_attempts=max_attempts)]

    def event(self, event_id: int) -> StoredEvent | None:
        with self.db.read() as conn:
            return events.get(conn, event_id)

    def link_event(self, event_id: int, *, order_id: str | None, customer_key: str | None) -> bool:
        """Note which order and customer an event concerns (needed to export/redact it)."""
        with self.db.write() as conn:
            return events.link(conn, event_id, order_id=order_id, customer_key=customer_key)

    # -- job queue --------------------------------------------------------------------------

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
        """Add a job; ``False`` when ``(shop, idempotency_key)`` is already queued (or was)."""
        _require_text(shop=shop, kind=kind, idempotency_key=idempotency_key)
        now = aware(now, "now")
        with self.db.write() as conn:
            return outbox.enqueue(
                conn,
                shop=shop,
                kind=kind,
                idempotency_key=idempotency_key,
                payload=payload,
                run_at=aware(run_at, "run_at") if run_at is not None else now,
                now=now,
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
        """Lease up to ``limit`` due jobs. No two workers ever hold the same job; a job whose
        lease ran out (its worker died) is handed out again with ``attempts`` one higher."""
        _require_text(worker_id=worker_id)
        if limit < 1 or lease_seconds <= 0:
            raise ValueError("claim() needs limit >= 1 and lease_seconds > 0")
        now = aware(now, "now")
        with self.db.write() as conn:
            return outbox.claim(
                conn,
                worker_id=worker_id,
                limit=limit,
                lease=timedelta(seconds=lease_seconds),
                now=now,
                kinds=tuple(kinds) if kinds is not None else None,
            )

    def complete(self, job: Job, *, now: datetime | None = None) -> bool:
        """Mark the job done. ``False``: this claim lost the job (lease expired, re-claimed)."""
        with self.db.write() as conn:
            return outbox.complete(conn, job, now=aware(now, "now"))

    def retry(
        self, job: Job, *, error: str, at: datetime, now: datetime | None = None
    ) -> JobStatus | None:
        """Try again at ``at``; after the last allowed attempt the job is marked dead instead.

        Returns ``PENDING`` or ``DEAD``, or ``None`` when this claim lost the job.
        """
        with self.db.write() as conn:
            return outbox.retry(conn, job, error=error, at=aware(at, "at"), now=aware(now, "now"))

    def fail(self, job: Job, *, error: str, now: datetime | None = None) -> JobStatus | None:
        """:meth:`retry` after :func:`~aftersale_kit.storage.outbox.backoff_delay`."""
        now = aware(now, "now")
        delay = backoff_delay(job.attempts, jitter_key=str(job.id))
        return self.retry(job, error=error, at=now + delay, now=now)

    def dead(self, job: Job, *, error: str, now: datetime | None = None) -> bool:
        """Give up on the job (permanent error); it stays for inspection and :meth:`requeue`."""
        with self.db.write() as conn:
            return outbox.dead(conn, job, error=error, now=aware(now, "now"))

    def release(self, job: Job, *, at: datetime | None = None) -> bool:
        """Hand the job back unprocessed, without counting the attempt (shutdown, throttling)."""
        with self.db.write() as conn:
            return outbox.release(conn, job, at=aware(at, "at"))

    def requeue(self, job_id: int, *, at: datetime | None = None) -> bool:
        """Revive a dead job with fresh attempts."""
        with self.db.write() as conn:
            return outbox.requeue(conn, job_id, at=aware(at, "at"))

    def job(self, job_id: int) -> Job | None:
        with self.db.read() as conn:
            return outbox.get(conn, job_id)

    def jobs(
        self,
        *,
        shop: str | None = None,
        status: JobStatus | None = None,
        kind: str | None = None,
        limit: int = 100,
    ) -> list[Job]:
        with self.db.read() as conn:
            return outbox.find(conn, shop=shop, status=status, kind=kind, limit=limit)

    def queue_stats(self) -> dict[JobStatus, int]:
        """Number of jobs per status (for metrics)."""
        with self.db.read() as conn:
            return outbox.stats(conn)

    def prune(
        self,
        *,
        bodies_before: datetime,
        keys_before: datetime | None = None,
        batch: int = 2000,
    ) -> dict[str, int]:
        """Bounded storage (:mod:`.retention`): empty the bodies and headers of events received
        before ``bodies_before`` and delete jobs finished before it; with ``keys_before`` also
        delete the event rows received before that (their dedupe keys). Events still being
        processed are kept whole. Decisions, ledger, coupons and content are never pruned.

        Keep ``bodies_before`` behind the platforms' redelivery window (Shopify retries for 4
        hours): a delivery whose event row is gone is no longer recognised as a duplicate, one
        whose body was emptied still is. Returns ``{"bodies", "jobs", "events"}`` counts."""
        return retention.prune(
            self.db,
            bodies_before=aware(bodies_before, "bodies_before"),
            keys_before=aware(keys_before, "keys_before") if keys_before is not None else None,
            batch=batch,
        )

    def table_stats(self) -> list[retention.TableStats]:
        """Rows and bytes per table (``aftersale-kit storage stats``)."""
        return retention.table_stats(self.db)

    # -- decisions and limits ---------------------------------------------------------------

    def decide_once(
        self,
        *,
        shop: str,
        order_id: str,
        event_kind: EventKind,
        customer_key: str | None,
        decide: Callable[[Counters], Decision],
        now: datetime | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        void_if_decided: Collection[EventKind] = (),
    ) -> tuple[DecisionRecord, bool]:
        """Return the decision for ``(shop, order_id, event_kind)``, making it if there is none.

        ``decide(counters)`` runs inside a transaction that excludes every other decider of the
        same shop (PostgreSQL advisory lock; SQLite write lock), with counters that read the
        ledger in that transaction. Its decision is stored, every fired campaign is booked
        (usage, customer usage, cost), coupons are recorded as planned and one effect job per
        planned action is enqueued, all atomically. ``decide`` must be quick and pure (the
        engine); no platform calls and no other Store call in it (the shop lock is held on a
        pooled connection; a second one taken meanwhile can exhaust the pool while the other
        deciders wait). Returns ``(record, created)``.

        ``void_if_decided``: event kinds (e.g. the cancellation and refund markers) whose
        decision for the same order voids this one. When one exists, checked under the shop
        lock, ``decide`` is not called and a decision that grants nothing is stored instead.
        """
        _require_text(shop=shop, order_id=order_id)
        return decisions.decide_once(
            self.db,
            shop=shop,
            order_id=order_id,
            event_kind=EventKind(event_kind),
            customer_key=customer_key,
            decide=decide,
            now=aware(now, "now"),
            max_attempts=max_attempts,
            void_if_decided=tuple(EventKind(k) for k in void_if_decided),
        )

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
        """One step of the order's timeline, atomically under the shop lock.

        Records ``refunds`` (once per refund id) and the closure (``closing``: the order is
        cancelled or refunded in full), records the redemptions of the shop's codes that
        ``order`` used, decides ``(event_kind, ref)`` once (:meth:`decide_once`), then, when
        the order has refunds or is closed, asks ``settle`` (pure, quick, no Store call) which
        campaigns they take back now, and takes them back
        (:func:`~aftersale_kit.storage.timeline.take_back`).
        A change to what the order shows queues one rewrite of its content. ``loyalty``: book
        what the order stands for on the customer's loyalty account in the same transaction
        (under the account's lock as well, :func:`.loyalty.book_step`). ``follow_ups``: put the
        new decision's ``follow_up`` messages on the schedule; a closed order (cancelled,
        refunded in full) cancels every message of the order still planned. ``facts_of``
        (pure, quick): the order's facts for the results as the step leaves them, written to
        ``order_facts`` (:mod:`.order_facts`).
        """
        _require_text(shop=shop, order_id=order.id)
        now = aware(now, "now")
        with self.db.write() as conn:
            self.db.lock(conn, decisions.shop_lock_name(shop))
            timeline.record_refunds(conn, shop=shop, order_id=order.id, items=refunds, now=now)
            if closing is not None:
                timeline.close(conn, shop=shop, order_id=order.id, reason=closing, now=now)
            used = self._record_redemptions(conn, shop=shop, order=order, now=now)
            record, created = decisions.decide_locked(
                conn,
                shop=shop,
                order_id=order.id,
                event_kind=EventKind(event_kind),
                customer_key=customer_key,
                decide=decide,
                now=now,
                max_attempts=max_attempts,
                ref=ref,
            )
            known_refunds = tuple(timeline.refunds_for(conn, shop=shop, order_id=order.id))
            closed = timeline.closure(conn, shop=shop, order_id=order.id)
            facts = StepFacts(
                refunds=known_refunds,
                closed=closed,
                # only refunds and closure take back: without them nothing is asked
                open_campaigns=tuple(timeline.open_campaigns(conn, shop=shop, order_id=order.id))
                if known_refunds or closed is not None
                else (),
            )
            planned = 0
            if created and follow_ups is not None:
                planned = messages.plan(conn, follow_ups.plan(record.decision), now=now)
            if facts.closed is not None:
                timeline.reverse_redemptions(conn, shop=shop, order_id=order.id, now=now)
                messages.cancel(
                    conn, shop, order_id=order.id, reason=f"order {facts.closed}", now=now
                )
            if facts_of is not None:
                order_facts.write(conn, replace(facts_of(facts), shop=shop), now=now)
            plan = dict(settle(facts)) if facts.refunds or facts.closed is not None else {}
            revoked: list[str] = []
            for campaign_id, reason in plan.items():
                revoked += timeline.take_back(
                    conn,
                    shop=shop,
                    order_id=order.id,
                    campaign_id=campaign_id,
                    reason=reason,
                    now=now,
                )[0]
            if plan and _shows_blocks(conn, shop=shop, order_id=order.id):
                decisions.enqueue_content(
                    conn, shop=shop, order_id=order.id, version=_ledger_version(conn, shop), now=now
                )
            points = None
            if loyalty is not None:
                known = TimelineFacts(
                    records=tuple(
                        decisions.for_order(conn, shop=shop, order_id=order.id, known=(record,))
                    ),
                    refunds=facts.refunds,
                    closed=facts.closed is not None,
                )
                points = book_step(SqlLoyaltyTx(conn), loyalty, shop=shop, facts=known, now=now)
                version = points.content_version
                if version is not None and shows_loyalty(known.records):
                    decisions.enqueue_content(
                        conn, shop=shop, order_id=order.id, version=version, now=now
                    )
        return StepResult(
            record=record,
            created=created,
            taken_back=plan,
            revoked=tuple(revoked),
            redemptions=tuple(used),
            loyalty=points,
            planned_messages=planned,
        )

    @staticmethod
    def _record_redemptions(
        conn: Any, *, shop: str, order: Order, now: datetime
    ) -> list[RedemptionRecord]:
        at = order.paid_at or order.created_at
        amounts: dict[str, Money | None] = {code: None for code in order.discount_codes}
        amounts.update(order.code_discounts)
        found = []
        for code, amount in amounts.items():
            record = timeline.record_redemption(
                conn,
                shop=shop,
                code=code,
                amount=amount,
                order=order,
                redeeming_customer_key=engine_customer_key(order),
                at=at,
                now=now,
            )
            if record is not None:
                found.append(record)
                # A coupon taken back before its use was known shows again: used, not revoked.
                if _shows_blocks(conn, shop=shop, order_id=record.issuing_order_id):
                    decisions.enqueue_content(
                        conn,
                        shop=shop,
                        order_id=record.issuing_order_id,
                        version=f"r{record.id}",
                        now=now,
                    )
        return found

    def order_steps(self, shop: str, order_id: str) -> tuple[list[Step], dict[str, bool]]:
        """The order's decided steps and which coupon and gift actions were taken back (by
        idempotency key): the input of :func:`~aftersale_kit.core.timeline.timeline_decision`."""
        with self.db.read() as conn:
            records = decisions.for_order(conn, shop=shop, order_id=order_id)
            gone = {
                c.idempotency_key
                for c in coupons.for_order(conn, shop=shop, order_id=order_id)
                if c.status in (CouponStatus.REVOKED, CouponStatus.DEACTIVATED)
            }
            reversed_ = {
                (e.campaign_id, e.ref)
                for e in ledger.entries(conn, shop=shop, order_id=order_id)
                if e.entry == ledger.REVERSAL
            }
        taken: dict[str, bool] = {key: True for key in gone}
        for r in records:
            for p in r.decision.actions:
                if isinstance(p.action, FreeGift) and (p.campaign_id, r.ref) in reversed_:
                    taken[p.idempotency_key] = True
        steps = [Step(decision=r.decision, decided_at=r.decided_at) for r in records]
        return steps, taken

    def close_order(
        self, *, shop: str, order_id: str, reason: str, now: datetime | None = None
    ) -> None:
        """Mark the order closed (cancelled, refunded in full): later steps take back what they
        give (the first reason stays). Every follow-up of the order still planned is cancelled."""
        now = aware(now, "now")
        with self.db.write() as conn:
            timeline.close(conn, shop=shop, order_id=order_id, reason=reason, now=now)
            messages.cancel(conn, shop, order_id=order_id, reason=f"order {reason}", now=now)

    def refunds(self, shop: str, order_id: str) -> list[Refund]:
        with self.db.read() as conn:
            return timeline.refunds_for(conn, shop=shop, order_id=order_id)

    def closure(self, shop: str, order_id: str) -> str | None:
        with self.db.read() as conn:
            return timeline.closure(conn, shop=shop, order_id=order_id)

    def redemptions(
        self, shop: str, *, issuing_order_id: str | None = None
    ) -> list[RedemptionRecord]:
        with self.db.read() as conn:
            return timeline.order_redemptions(conn, shop=shop, issuing_order_id=issuing_order_id)

    def order_facts(
        self, shop: str, *, order_ids: Collection[str] | None = None
    ) -> list[OrderFacts]:
        """The recorded facts of the shop's orders (of ``order_ids``), by time placed."""
        with self.db.read() as conn:
            return order_facts.read(conn, shop=shop, order_ids=order_ids)

    def customer_history(
        self,
        shop: str,
        customer_key: str,
        *,
        campaigns: Collection[str] = (),
        codes: Collection[str] = (),
    ) -> CustomerHistory:
        """One customer's orders' facts, the redemptions on their orders and the ledger entries
        of ``campaigns`` on their orders (what their care cost is summed from)."""
        with self.db.read() as conn:
            return order_facts.customer_history(
                conn, shop=shop, customer_key=customer_key, campaigns=campaigns, codes=codes
            )

    def shop_decisions(
        self, shop: str, *, since: datetime, until: datetime
    ) -> list[DecisionRecord]:
        with self.db.read() as conn:
            return decisions.for_shop(conn, shop=shop, since=since, until=until)

    def campaign_totals(self, shop: str) -> list[CampaignTotals]:
        with self.db.read() as conn:
            return order_facts.campaign_totals(conn, shop=shop)

    def shop_coupons(self, shop: str) -> list[CouponRecord]:
        """Every coupon of the shop (planned, issued, used, revoked), oldest first."""
        with self.db.read() as conn:
            return coupons.for_shop(conn, shop=shop)

    def decision(
        self, *, shop: str, order_id: str, event_kind: EventKind, ref: str = ""
    ) -> DecisionRecord | None:
        with self.db.read() as conn:
            return decisions.get(conn, shop=shop, order_id=order_id, event_kind=event_kind, ref=ref)

    def decisions_for_order(self, shop: str, order_id: str) -> list[DecisionRecord]:
        with self.db.read() as conn:
            return decisions.for_order(conn, shop=shop, order_id=order_id)

    def counters(self) -> Counters:
        """A snapshot-free read of the ledger (for reports and dry runs; deciding goes through
        :meth:`decide_once`). Each call opens its own short read."""
        return _ReadCounters(self.db)

    def ledger(self, shop: str, *, order_id: str | None = None) -> list[LedgerEntry]:
        with self.db.read() as conn:
            return ledger.entries(conn, shop=shop, order_id=order_id)

    # -- coupons and clawback ---------------------------------------------------------------

    def coupons_for_order(self, shop: str, order_id: str) -> list[CouponRecord]:
        with self.db.read() as conn:
            return coupons.for_order(conn, shop=shop, order_id=order_id)

    def coupon(self, shop: str, idempotency_key: str) -> CouponRecord | None:
        with self.db.read() as conn:
            return coupons.get(conn, shop=shop, idempotency_key=idempotency_key)

    def mark_issued(
        self, *, shop: str, idempotency_key: str, platform_id: str, now: datetime | None = None
    ) -> CouponRecord:
        """The coupon exists on the platform. If it was revoked meanwhile, a deactivation job
        is enqueued and the record stays ``revoked``."""
        with self.db.write() as conn:
            return coupons.mark_issued(
                conn,
                shop=shop,
                idempotency_key=idempotency_key,
                platform_id=platform_id,
                now=aware(now, "now"),
            )

    def mark_used(
        self, *, shop: str, code: str, now: datetime | None = None
    ) -> CouponRecord | None:
        """An issued coupon was redeemed; its cost stays booked even if its order is cancelled."""
        with self.db.write() as conn:
            return coupons.mark_used(conn, shop=shop, code=code, now=aware(now, "now"))

    def mark_deactivated(
        self, *, shop: str, idempotency_key: str, now: datetime | None = None
    ) -> CouponRecord:
        with self.db.write() as conn:
            return coupons.mark_deactivated(
                conn, shop=shop, idempotency_key=idempotency_key, now=aware(now, "now")
            )

    def reverse_order(
        self, *, shop: str, order_id: str, reason: str, now: datetime | None = None
    ) -> Clawback:
        """Take back everything the order got (cancelled, fully refunded), in one transaction.

        Unused coupons are revoked (issued ones get a ``deactivate_coupon`` job, planned ones
        are never created) and every open booking of the order is reversed, releasing its
        usage and its cost less what was redeemed (a redeemed coupon's cost stays booked).
        Calling it again takes back nothing more.
        """
        now = aware(now, "now")
        with self.db.write() as conn:
            self.db.lock(conn, decisions.shop_lock_name(shop))
            revoked = coupons.revoke(conn, shop=shop, order_id=order_id, reason=reason, now=now)
            reversed_ = [
                campaign_id
                for campaign_id in timeline.open_campaigns(conn, shop=shop, order_id=order_id)
                if timeline.take_back(
                    conn,
                    shop=shop,
                    order_id=order_id,
                    campaign_id=campaign_id,
                    reason=reason,
                    now=now,
                )[1]
            ]
        return Clawback(campaigns=tuple(reversed_), coupons=tuple(revoked))

    # -- shops, content, compliance ---------------------------------------------------------

    def set_shop_state(
        self, *, shop: str, platform: str, state: ShopState, now: datetime | None = None
    ) -> ShopRecord:
        with self.db.write() as conn:
            return shops.set_state(
                conn, shop=shop, platform=platform, state=ShopState(state), now=aware(now, "now")
            )

    def shop_state(self, shop: str) -> ShopRecord | None:
        with self.db.read() as conn:
            return shops.get_state(conn, shop)

    def save_blocks(
        self, shop: str, order_id: str, payload: Mapping[str, Any], *, now: datetime | None = None
    ) -> None:
        """Store (replace) the rendered confirmation-page content of an order (a JSON object)."""
        with self.db.write() as conn:
            shops.save_blocks(
                conn, shop=shop, order_id=order_id, payload=payload, now=aware(now, "now")
            )

    def load_blocks(self, shop: str, order_id: str) -> dict[str, Any] | None:
        with self.db.read() as conn:
            return shops.load_blocks(conn, shop=shop, order_id=order_id)

    def blocks_json(self, shop: str, order_id: str) -> bytes | None:
        """The stored blocks as the UTF-8 JSON stored (:func:`.blocks_raw.load_blocks_json`:
        the block endpoint's hot path, one prepared statement)."""
        return load_blocks_json(self.db, shop, order_id)

    # -- quarantine and order keys (see :mod:`.quarantine`) -----------------------------------

    def quarantine(self, item: IncomingEvent, *, reason: str) -> bool:
        """Keep a delivery that is not a usable order, outside the job queue; ``False`` when
        the same ``(shop, dedupe_key)`` is kept already."""
        with self.db.write() as conn:
            return quarantine.add(
                conn,
                shop=item.shop,
                platform=item.platform,
                topic=item.topic,
                dedupe_key=item.dedupe_key,
                received_at=aware(item.received_at, "received_at"),
                reason=reason,
                body=item.body,
                headers=item.headers,
            )

    def quarantined(
        self, shop: str | None = None, *, include_replayed: bool = False
    ) -> list[QuarantinedDelivery]:
        with self.db.read() as conn:
            return quarantine.listing(conn, shop=shop, include_replayed=include_replayed)

    def quarantined_open(self) -> dict[str, int]:
        """Open quarantined deliveries per platform (for ``/metrics``)."""
        with self.db.read() as conn:
            return quarantine.count_open(conn)

    def requeue_event(
        self, *, shop: str, dedupe_key: str, tag: str, now: datetime | None = None
    ) -> bool:
        """Process the stored event ``(shop, dedupe_key)`` again (see
        :func:`.quarantine.requeue_event`)."""
        with self.db.write() as conn:
            return quarantine.requeue_event(
                conn, shop=shop, dedupe_key=dedupe_key, tag=tag, now=aware(now, "now")
            )

    def mark_replayed(self, item_id: int, *, now: datetime | None = None) -> bool:
        with self.db.write() as conn:
            return quarantine.mark_replayed(conn, item_id, now=aware(now, "now"))

    def save_order_keys(
        self, rows: Iterable[tuple[str, str, str]], *, now: datetime | None = None
    ) -> None:
        """Keep ``(shop, order_id, order_key)`` (WooCommerce) for the thank-you page tokens."""
        rows = list(rows)
        if rows:
            with self.db.write() as conn:
                quarantine.save_order_keys(conn, rows, now=aware(now, "now"))

    def order_key(self, shop: str, order_id: str) -> str | None:
        with self.db.read() as conn:
            return quarantine.get_order_key(conn, shop, order_id)

    def export_customer(
        self,
        shop: str,
        *,
        customer_id: str | None = None,
        email: str | None = None,
        order_ids: Iterable[str] = (),
    ) -> dict[str, Any]:
        """All that is stored about the customer, JSON-ready (``customers/data_request``)."""
        with self.db.read() as conn:
            return compliance.export_customer(
                conn, shop=shop, customer_id=customer_id, email=email, order_ids=order_ids
            )

    def redact_customer(
        self,
        shop: str,
        *,
        customer_id: str | None = None,
        email: str | None = None,
        order_ids: Iterable[str] = (),
        now: datetime | None = None,
    ) -> dict[str, int]:
        """Erase the customer's personal data (``customers/redact``); returns rows touched."""
        with self.db.write() as conn:
            return compliance.redact_customer(
                conn,
                shop=shop,
                customer_id=customer_id,
                email=email,
                order_ids=order_ids,
                now=aware(now, "now"),
            )

    def redact_shop(self, shop: str) -> dict[str, int]:
        """Delete every row of the shop (``shop/redact``); returns rows deleted per table."""
        with self.db.write() as conn:
            self.db.lock(conn, decisions.shop_lock_name(shop))
            return compliance.redact_shop(conn, shop=shop)


class _ReadCounters:
    def __init__(self, db: Database) -> None:
        self._db = db

    def usage_count(self, shop: str, campaign_id: str) -> int:
        with self._db.read() as conn:
            return ledger.LedgerCounters(conn).usage_count(shop, campaign_id)

    def customer_usage(self, shop: str, campaign_id: str, customer_key: str) -> CustomerUsage:
        with self._db.read() as conn:
            return ledger.LedgerCounters(conn).customer_usage(shop, campaign_id, customer_key)

    def spent(self, shop: str, campaign_id: str, since: datetime | None) -> Decimal:
        with self._db.read() as conn:
            return ledger.LedgerCounters(conn).spent(shop, campaign_id, since)

    def redeemed(self, shop: str, campaign_id: str, since: datetime | None) -> Decimal:
        with self._db.read() as conn:
            return ledger.LedgerCounters(conn).redeemed(shop, campaign_id, since)


def _shows_blocks(conn: Any, *, shop: str, order_id: str) -> bool:
    """Whether any step of the order shows a block (its content must follow a take-back)."""
    return any(
        isinstance(p.action, ShowBlock)
        for r in decisions.for_order(conn, shop=shop, order_id=order_id)
        for p in r.decision.actions
    )


def _ledger_version(conn: Any, shop: str) -> str:
    """A token that changes with every ledger row of the shop (names a content rewrite)."""
    latest = conn.execute(
        select(func.max(ledger_table.c.id)).where(ledger_table.c.shop == shop)
    ).scalar()
    return f"l{int(latest or 0)}"


def _checked_event(item: IncomingEvent) -> IncomingEvent:
    _require_text(
        shop=item.shop, platform=item.platform, topic=item.topic, dedupe_key=item.dedupe_key
    )
    body: object = item.body
    if not isinstance(body, bytes | bytearray | memoryview):
        raise TypeError(f"body must be the raw bytes received, got {type(body).__name__}")
    aware(item.received_at, "received_at")
    if isinstance(body, bytes):
        return item
    return replace(item, body=bytes(body))


def _require_text(**values: str) -> None:
    for name, value in values.items():
        if not isinstance(value, str) or not value:
            raise ValueError(f"{name} must be a non-empty string, got {value!r}")
