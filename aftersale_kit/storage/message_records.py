"""The follow-up schedule's records: a planned message, its states, and what a sweep records.

Shared by the SQL store (:mod:`.messages`) and the memory store (:mod:`._memory_messages`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from ..core.contact.policy import SentMessage, normalise_email
from ..core.decision import Decision

__all__ = [
    "PENDING_STATES",
    "ContactFacts",
    "ContactRef",
    "MessageOutcome",
    "MessageRecord",
    "MessageState",
    "NewMessage",
    "StepMessages",
    "normalise_email",
]


class MessageState(StrEnum):
    #: Waits for ``due_at``.
    PLANNED = "planned"
    #: Waits for ``due_at`` too: the contact policy or a transient failure moved it (``reason``).
    DEFERRED = "deferred"
    SENT = "sent"
    #: The SMTP server refused it for good (5xx) or the retries ran out (``reply``).
    FAILED = "failed"
    #: Taken off the schedule (order cancelled or refunded, redact, uninstall, unsubscribe,
    #: an operator); ``reason`` says which.
    CANCELLED = "cancelled"
    #: The contact policy refused it; ``reason`` names the rule.
    HELD_BACK = "held_back"


#: The states a sweep claims from (once ``due_at`` has come).
PENDING_STATES = (MessageState.PLANNED.value, MessageState.DEFERRED.value)


@dataclass(frozen=True, slots=True)
class NewMessage:
    """One message to put on the schedule (:func:`aftersale_kit.core.contact.schedule.
    planned_messages` plus who gets it)."""

    shop: str
    #: ``<action key>:<occurrence>`` (:attr:`PlannedMessage.key`).
    key: str
    order_id: str
    customer_key: str | None
    email: str | None
    campaign_id: str
    occurrence: int
    kind: str
    template: str
    purpose: str
    due_at: datetime
    #: JSON-ready values for the template and the policy (``accepts_marketing``).
    data: Mapping[str, Any] = field(default_factory=dict)


def contact_key(customer_key: str | None, email: str | None) -> str:
    """Who the contact policy counts a message for: the customer key, else the address
    (``email:<address>``)."""
    return customer_key or f"email:{normalise_email(email or '')}"


@dataclass(frozen=True, slots=True)
class MessageRecord:
    """One row of the schedule."""

    id: int
    shop: str
    key: str
    order_id: str
    customer_key: str | None
    email: str | None
    campaign_id: str
    occurrence: int
    kind: str
    template: str
    purpose: str
    data: Mapping[str, Any]
    due_at: datetime
    state: MessageState
    reason: str | None
    message_id: str | None
    attempts: int
    sent_at: datetime | None
    reply: str | None
    created_at: datetime
    updated_at: datetime
    #: When a worker handed the message's end of data to the SMTP server without recording
    #: the reply yet (``None`` otherwise): a message found so after its lease ran out is
    #: counted as sent, never sent again (docs/follow-ups.md, "A crash while sending").
    handed_over_at: datetime | None = None

    @property
    def contact_key(self) -> str:
        """Who the contact policy counts this message for: the customer key, else the
        address (``email:<address>``)."""
        return contact_key(self.customer_key, self.email)

    def summary(self) -> dict[str, Any]:
        """JSON-ready, for ``aftersale-kit messages``."""
        return {
            "id": self.id,
            "shop": self.shop,
            "order_id": self.order_id,
            "campaign": self.campaign_id,
            "occurrence": self.occurrence,
            "kind": self.kind,
            "template": self.template,
            "purpose": self.purpose,
            "email": self.email,
            "due_at": self.due_at.isoformat(),
            "state": self.state.value,
            "reason": self.reason,
            "message_id": self.message_id,
            "attempts": self.attempts,
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
            "reply": self.reply,
            "handed_over_at": self.handed_over_at.isoformat() if self.handed_over_at else None,
        }


@dataclass(frozen=True, slots=True)
class MessageOutcome:
    """What a sweep records for a claimed message. ``state`` ``planned``/``deferred`` with a
    new ``due_at`` puts it back on the schedule; ``attempts`` replaces the count when set."""

    state: MessageState
    reason: str | None = None
    due_at: datetime | None = None
    message_id: str | None = None
    reply: str | None = None
    attempts: int | None = None
    sent_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ContactRef:
    """Whom the contact policy asks about: the shop, :attr:`MessageRecord.contact_key` and the
    address (for consent and suppression)."""

    shop: str
    contact_key: str
    email: str

    @classmethod
    def of(cls, record: MessageRecord) -> ContactRef:
        return cls(record.shop, record.contact_key, record.email or "")


@dataclass(frozen=True, slots=True)
class ContactFacts:
    """What the contact policy reads about one :class:`ContactRef`: the history (what was sent,
    oldest first), the earliest confirmed double opt-in not withdrawn, the suppression list."""

    history: tuple[SentMessage, ...] = ()
    opt_in_confirmed_at: datetime | None = None
    unsubscribed: bool = False


@dataclass(frozen=True, slots=True)
class StepMessages:
    """Plan the follow-ups of a step in the step's own transaction (``decide_step(
    follow_ups=...)``): ``plan`` (pure, quick, no Store call) turns the new decision into
    messages."""

    plan: Callable[[Decision], Sequence[NewMessage]]
