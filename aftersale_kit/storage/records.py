"""What the store hands out: frozen records of its rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from ..core.decision import Decision, PlannedAction
from ..core.model import EventKind
from ..core.money import Money

__all__ = [
    "CouponRecord",
    "CouponStatus",
    "DecisionRecord",
    "IncomingEvent",
    "Job",
    "JobKind",
    "JobStatus",
    "LedgerEntry",
    "RedemptionRecord",
    "ShopRecord",
    "ShopState",
    "StoredEvent",
]


class ShopState(StrEnum):
    ACTIVE = "active"
    UNINSTALLED = "uninstalled"


class JobStatus(StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"
    DONE = "done"
    DEAD = "dead"


class JobKind(StrEnum):
    """The kinds of job the store enqueues itself. :meth:`Store.enqueue` accepts any string."""

    PROCESS_EVENT = "process_event"
    CREATE_COUPON = "create_coupon"
    WRITE_CONTENT = "write_content"
    ADD_GIFT_NOTE = "add_gift_note"
    TAG_ORDER = "tag_order"
    DEACTIVATE_COUPON = "deactivate_coupon"
    #: A loyalty redemption's coupon, bound to the customer (payload: ``coupon_key``).
    CREATE_LOYALTY_COUPON = "create_loyalty_coupon"
    #: Keep a customer's balance and tier on the platform (payload: ``account``, ``movement``).
    WRITE_CUSTOMER_LOYALTY = "write_customer_loyalty"


class CouponStatus(StrEnum):
    PLANNED = "planned"
    ISSUED = "issued"
    USED = "used"
    #: Taken back (order cancelled): must not be usable; deactivation on the platform follows.
    REVOKED = "revoked"
    DEACTIVATED = "deactivated"


@dataclass(frozen=True, slots=True)
class ShopRecord:
    shop: str
    platform: str
    state: ShopState
    installed_at: datetime | None
    uninstalled_at: datetime | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class IncomingEvent:
    """A verified webhook to accept (see :meth:`Store.accept_events`)."""

    shop: str
    platform: str
    topic: str
    #: Stable over redeliveries of the same event; unique per shop.
    dedupe_key: str
    received_at: datetime
    #: The exact bytes received.
    body: bytes
    #: The headers worth keeping (ids, timestamps; the signature for audits).
    headers: Mapping[str, str] = field(default_factory=dict)
    order_id: str | None = None


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An accepted webhook. ``body`` is the exact bytes received (empty once redacted)."""

    id: int
    shop: str
    platform: str
    topic: str
    dedupe_key: str
    received_at: datetime
    body: bytes
    headers: Mapping[str, str]
    order_id: str | None
    customer_key: str | None
    redacted_at: datetime | None

    @property
    def redacted(self) -> bool:
        return self.redacted_at is not None


@dataclass(frozen=True, slots=True)
class Job:
    """A claimed outbox job. Pass it back to ``complete``/``retry``/``dead``/``release``.

    ``attempts`` counts claims, this one included; together with ``locked_by`` it fences the job:
    a worker whose lease expired and whose job was claimed again can no longer finish it.
    """

    id: int
    shop: str
    kind: str
    idempotency_key: str
    payload: Mapping[str, Any]
    event_id: int | None
    status: JobStatus
    attempts: int
    max_attempts: int
    run_at: datetime
    locked_by: str | None
    locked_until: datetime | None
    last_error: str | None

    @property
    def exhausted(self) -> bool:
        """True when this was the last attempt allowed."""
        return self.attempts >= self.max_attempts

    def planned_action(self) -> PlannedAction:
        """The planned action of an effect job (``payload["action"]``)."""
        from .codec import planned_action_from_dict

        return planned_action_from_dict(self.payload["action"])


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    id: int
    shop: str
    order_id: str
    event_kind: EventKind
    customer_key: str | None
    decided_at: datetime
    decision: Decision
    #: Which of several events of one kind (a refund id), else "".
    ref: str = ""


@dataclass(frozen=True, slots=True)
class CouponRecord:
    id: int
    shop: str
    order_id: str
    campaign_id: str
    idempotency_key: str
    code: str
    platform_id: str | None
    status: CouponStatus
    customer_key: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One booking (``uses == 1``) or reversal (``uses == -1``, cost negated) of a campaign."""

    id: int
    shop: str
    campaign_id: str
    order_id: str
    decision_id: int
    customer_key: str | None
    entry: str
    uses: int
    cost: Decimal
    currency: str
    booked_at: datetime
    recorded_at: datetime
    reason: str | None
    #: The booking's step, a reversal's booking ref, or a rebooking's coupon key.
    ref: str = ""


@dataclass(frozen=True, slots=True)
class RedemptionRecord:
    """A later order used a code the shop issued (once per code and redeeming order)."""

    id: int
    shop: str
    code: str
    coupon_key: str
    campaign_id: str
    issuing_order_id: str
    issuing_customer_key: str | None
    redeeming_order_id: str
    redeeming_customer_key: str | None
    #: The discount the code gave the redeeming order.
    amount: Money
    redeemed_at: datetime
    #: When the redeeming order was cancelled or refunded in full (cost given back).
    reversed_at: datetime | None
