"""What the follow-up links record: spent nonces, survey answers, newsletter consents and the
suppression list (the records; the SQL is in :mod:`._links_store`, the memory version in
:mod:`._memory_links`).

A survey is one row per order. The one-click rating creates it and spends the link's nonce in
the same transaction; a second click finds the row and stores nothing. The short form fills
in the rest once (``answered_at``). The jobs a complaint needs are passed in and enqueued in
the same transaction as the answer that raises it, each under its own idempotency key, so a
complaint is raised exactly once per order however often the links are clicked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "Consent",
    "LinkJob",
    "Suppression",
    "SurveyAnswer",
    "SurveyForm",
    "SurveyOutcome",
]

#: The answers to "how long did you wait" the form offers.
WAIT_CHOICES = ("shorter", "as_expected", "longer", "much_longer")


@dataclass(frozen=True, slots=True)
class LinkJob:
    """A job to enqueue together with what a link records (see :meth:`Store.enqueue`)."""

    kind: str
    idempotency_key: str
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SurveyForm:
    """The short form's answers (``None``: not answered)."""

    satisfied: bool | None = None
    delivery_ok: bool | None = None
    payment_ok: bool | None = None
    wait: str | None = None
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class SurveyAnswer:
    shop: str
    order_id: str
    rating: int
    rated_at: datetime
    form: SurveyForm = SurveyForm()
    shipping_method: str | None = None
    answered_at: datetime | None = None

    @property
    def complaint(self) -> bool:
        """A low rating (1 or 2) or a "no" on delivery or payment."""
        return bool(self.complaint_reasons())

    def complaint_reasons(self) -> list[str]:
        """What makes this answer a complaint (``rating 1/5``, ``delivery: no``, ``payment:
        no``); empty when it is none."""
        form = self.form
        found = (
            (f"rating {self.rating}/5", self.rating <= 2),
            ("delivery: no", form.delivery_ok is False),
            ("payment: no", form.payment_ok is False),
        )
        return [label for label, bad in found if bad]


@dataclass(frozen=True, slots=True)
class SurveyOutcome:
    """The stored answer and whether this call stored it (``False``: it was there already)."""

    answer: SurveyAnswer
    stored: bool


@dataclass(frozen=True, slots=True)
class Consent:
    """A newsletter double opt-in: requested, and confirmed once ``confirmed_at`` is set."""

    shop: str
    subject: str
    email: str
    customer_id: str | None
    source: str
    text_version: str
    requested_at: datetime
    confirmed_at: datetime | None = None
    #: When an unsubscribe withdrew it (the proof stays; it no longer counts).
    withdrawn_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Suppression:
    """An address on the shop's suppression list (an unsubscribe): no more follow-ups."""

    shop: str
    email: str
    reason: str
    created_at: datetime
    #: What the unsubscribe link named (a message's row id), when a link did it.
    subject: str | None = None
