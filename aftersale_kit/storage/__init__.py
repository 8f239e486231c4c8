"""Durable state of the after-sales service: SQLite (embedded default) or PostgreSQL.

Needs the ``server`` extra (SQLAlchemy, Alembic); PostgreSQL also the ``postgres`` extra (psycopg
3). Importing this package opens nothing; :meth:`Store.open` connects lazily.

Opening and migrating::

    store = Store.open(None, sqlite_path="./aftersale.db")           # embedded SQLite file
    store = Store.open("postgresql://app@db:5432/aftersale")          # PostgreSQL (psycopg 3)
    store.migrate()      # Alembic upgrade to head: idempotent, safe from several processes

One :class:`Store` per process (open it after forking), shared by all threads. Every method is
one short transaction. Times are timezone-aware (naive datetimes are refused); ``now=None`` means
the current time.

Durability: SQLite runs in WAL mode with ``synchronous=NORMAL``: a committed transaction survives
the process being killed, but the last ones before a power cut may be lost (never corrupted);
``Store.open(..., sqlite_synchronous="FULL")`` trades speed for that. PostgreSQL commits are
durable as the server is configured.

**Webhook intake** (the hot path: one transaction, two inserts)::

    if store.accept_event(shop=..., platform="shopify", topic="orders/paid",
                          dedupe_key=..., received_at=now, body=raw_bytes,
                          headers={"X-Shopify-Event-Id": ...}):
        ...  # new: a process_event job is queued
    # False: a duplicate delivery; nothing was stored. Answer 200 either way.

``(shop, dedupe_key)`` is unique; the adapter composes the key (e.g. topic and event id).
:meth:`Store.accept_events` takes a batch of :class:`IncomingEvent` in one transaction (group
commit: the service's intake hands every screened webhook to writer threads that store what has
queued up in one transaction and answer after the commit). It runs on the driver's cursor, without
SQLAlchemy's per-statement work. On SQLite, write transactions of one process queue on a lock, so
one writer is right there; on PostgreSQL several overlapping writers share the server's WAL flush.

**Worker loop** (a job is leased; a worker that dies loses its lease, the job comes back)::

    for job in store.claim(worker_id="host-1:42", limit=10, lease_seconds=60):
        try:
            handle(job)                        # dispatch on job.kind
        except PermanentError as exc:
            store.dead(job, error=str(exc))
        except Exception as exc:
            store.fail(job, error=repr(exc))   # retry with backoff, dead when exhausted
        else:
            store.complete(job)

Job kinds (:class:`JobKind`): ``process_event`` (payload ``{"event_id", "topic"}``; load it with
:meth:`Store.event`, then :meth:`Store.link_event` once the order is known), and the effect jobs
that :meth:`Store.decide_once` enqueues, one per planned action: ``create_coupon``,
``write_content``, ``add_gift_note``, ``tag_order`` (payload ``{"decision_id", "order_id",
"event_kind", "action"}``, ``job.planned_action()`` decodes it), and ``deactivate_coupon``
(payload ``{"coupon_key", "order_id", "campaign_id", "code", "platform_id"}``). A job's
``idempotency_key`` is unique per shop, so an effect is never enqueued twice; the platform call
should carry the same key where the platform supports it. ``complete``/``retry``/``dead`` return
``False``/``None`` when the lease was lost (the job then belongs to another worker).

**Deciding** (race-safe limits and budgets)::

    record, created = store.decide_once(
        shop=order.shop, order_id=order.id, event_kind=EventKind.ORDER_PAID,
        customer_key=customer_key_for(order),
        decide=lambda counters: engine.decide(config, order, event=..., counters=counters,
                                              now=now, code_secret=secret))

Deciders of one shop are serialised; the first decision for ``(shop, order, event kind)`` is
stored with its bookings, planned coupons and effect jobs in one transaction; later calls (a
redelivered webhook, the thank-you page asking first) return it with ``created=False``.
``decide`` runs while the shop is locked: keep it pure and quick (the engine), make no platform
call and no other Store call in it (that would take a second pooled connection while the
deciders of the shop queue on theirs). What it would need to read goes through the arguments:
``void_if_decided=(EventKind.ORDER_CANCELLED, EventKind.REFUND_CREATED)`` stores a decision
that grants nothing, without calling ``decide``, when the order was already taken back (the
service no longer uses it: its steps go through :meth:`Store.decide_step`, which decides and
then takes back, so the outcome does not depend on delivery order).
``shop`` is the config's ``settings.domain``, the key the engine counts under.

**The order's timeline**: :meth:`Store.decide_step` decides one step of an order (paid,
fulfilled, each refund, cancelled) and, in the same transaction, records its refunds, its
closure and the redemptions of the shop's codes that the order used, then takes back what the
order's refunds or closure no longer allow (the service's pure ``settle`` says which campaigns;
:mod:`.timeline` does it). :meth:`Store.order_steps` gives the content of all steps.

**Coupons and clawback**: the ``create_coupon`` worker checks :meth:`Store.coupon` is still
``planned``, creates it on the platform and calls :meth:`Store.mark_issued`; a redemption
(recorded by :meth:`Store.decide_step` for the redeeming order) marks it ``used``.
:meth:`Store.reverse_order` (order cancelled or refunded) revokes unused coupons, enqueues
their deactivation and writes *reversal* rows in the ledger: the order's campaigns get their
usage and budget back, less the cost of coupons already redeemed (a reversal is a new row, the
booking is never deleted).

**Content and compliance**: :meth:`Store.save_blocks` / :meth:`Store.load_blocks` hold the
rendered confirmation content per order; :meth:`Store.set_shop_state` records install and
uninstall; :meth:`Store.export_customer`, :meth:`Store.redact_customer` and
:meth:`Store.redact_shop` answer the privacy webhooks (see :mod:`.compliance`).

Errors: database failures become :class:`~aftersale_kit.core.errors.StorageError` (URL shown
without password); wrong arguments raise :class:`ValueError` naming the argument.
"""

from __future__ import annotations

try:
    import alembic  # noqa: F401
    import sqlalchemy  # noqa: F401
except ImportError as _exc:  # pragma: no cover - depends on the installation
    from ..core.errors import MissingExtraError

    raise MissingExtraError("aftersale_kit.storage", "server") from _exc

from .codec import decision_from_json, decision_to_json
from .db import DEFAULT_SQLITE_PATH, Database, create_database, normalize_url
from .ledger import LedgerCounters
from .message_records import (
    ContactFacts,
    ContactRef,
    MessageOutcome,
    MessageRecord,
    MessageState,
    NewMessage,
    StepMessages,
)
from .outbox import DEFAULT_MAX_ATTEMPTS, backoff_delay
from .quarantine import QuarantinedDelivery
from .records import (
    CouponRecord,
    CouponStatus,
    DecisionRecord,
    IncomingEvent,
    Job,
    JobKind,
    JobStatus,
    LedgerEntry,
    RedemptionRecord,
    ShopRecord,
    ShopState,
    StoredEvent,
)
from .retention import TableStats
from .store import Clawback, StepFacts, StepResult, Store, customer_key_for

__all__ = [
    "DEFAULT_MAX_ATTEMPTS",
    "DEFAULT_SQLITE_PATH",
    "Clawback",
    "ContactFacts",
    "ContactRef",
    "CouponRecord",
    "CouponStatus",
    "Database",
    "DecisionRecord",
    "IncomingEvent",
    "Job",
    "JobKind",
    "JobStatus",
    "LedgerCounters",
    "LedgerEntry",
    "MessageOutcome",
    "MessageRecord",
    "MessageState",
    "NewMessage",
    "QuarantinedDelivery",
    "RedemptionRecord",
    "ShopRecord",
    "ShopState",
    "StepFacts",
    "StepMessages",
    "StepResult",
    "Store",
    "StoredEvent",
    "TableStats",
    "backoff_delay",
    "create_database",
    "customer_key_for",
    "decision_from_json",
    "decision_to_json",
    "normalize_url",
]
