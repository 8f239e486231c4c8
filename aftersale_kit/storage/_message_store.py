"""The follow-up methods of the SQL :class:`~.store.Store` (:class:`~.ports.MessageStore`)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime, timedelta

from ..core.contact.policy import SentMessage
from . import messages
from ._sql import aware
from .db import Database
from .message_records import (
    ContactFacts,
    ContactRef,
    MessageOutcome,
    MessageRecord,
    MessageState,
    NewMessage,
)

__all__ = ["MessageMethods"]


class MessageMethods:
    """Mixed into :class:`~.store.Store`: every method one transaction."""

    db: Database

    def plan_messages(self, items: Iterable[NewMessage], *, now: datetime | None = None) -> int:
        """Put messages on the schedule, each once per ``(shop, key)``; returns how many new."""
        with self.db.write() as conn:
            return messages.plan(conn, items, now=aware(now, "now"))

    def cancel_messages(
        self,
        shop: str,
        *,
        reason: str,
        order_id: str | None = None,
        customer_key: str | None = None,
        email: str | None = None,
        ids: Sequence[int] | None = None,
        now: datetime | None = None,
    ) -> int:
        """Cancel what is still planned for the shop (an order, a customer, an address, some
        ids, or everything), recording ``reason``; returns how many were cancelled."""
        with self.db.write() as conn:
            return messages.cancel(
                conn,
                shop,
                reason=reason,
                now=aware(now, "now"),
                order_id=order_id,
                customer_key=customer_key,
                email=email,
                ids=ids,
            )

    def claim_messages(
        self,
        *,
        worker_id: str,
        limit: int = 50,
        lease_seconds: float = 120.0,
        now: datetime | None = None,
    ) -> list[MessageRecord]:
        if limit < 1 or lease_seconds <= 0:
            raise ValueError("claim_messages() needs limit >= 1 and lease_seconds > 0")
        with self.db.write() as conn:
            self.db.lock(conn, "claim_messages")
            return messages.claim(
                conn,
                worker_id=worker_id,
                now=aware(now, "now"),
                limit=limit,
                lease=timedelta(seconds=lease_seconds),
            )

    def finish_message(
        self,
        message_id: int,
        *,
        worker_id: str,
        outcome: MessageOutcome,
        now: datetime | None = None,
    ) -> bool:
        with self.db.write() as conn:
            return messages.finish(
                conn, message_id, worker_id=worker_id, outcome=outcome, now=aware(now, "now")
            )

    def finish_messages(
        self,
        outcomes: Sequence[tuple[int, MessageOutcome]],
        *,
        worker_id: str,
        now: datetime | None = None,
    ) -> list[bool]:
        if not outcomes:
            return []
        with self.db.write() as conn:
            return messages.finish_many(conn, outcomes, worker_id=worker_id, now=aware(now, "now"))

    def hand_over_message(
        self,
        message_id: int,
        *,
        worker_id: str,
        lease_seconds: float = 120.0,
        now: datetime | None = None,
    ) -> bool:
        with self.db.write() as conn:
            return messages.hand_over(
                conn,
                message_id,
                worker_id=worker_id,
                now=aware(now, "now"),
                lease=timedelta(seconds=lease_seconds),
            )

    def contact_history(
        self, shop: str, contact_key: str, *, since: datetime | None = None
    ) -> list[SentMessage]:
        with self.db.read() as conn:
            return messages.history(conn, shop, contact_key, since=since)

    def contact_facts(self, refs: Collection[ContactRef]) -> dict[ContactRef, ContactFacts]:
        if not refs:
            return {}
        with self.db.read() as conn:
            return messages.contact_facts(conn, refs)

    def message(self, shop: str, message_id: int) -> MessageRecord | None:
        with self.db.read() as conn:
            return messages.get(conn, shop, message_id)

    def messages(
        self,
        shop: str | None = None,
        *,
        order_id: str | None = None,
        email: str | None = None,
        state: MessageState | None = None,
        limit: int = 100,
    ) -> list[MessageRecord]:
        with self.db.read() as conn:
            return messages.listing(
                conn, shop, order_id=order_id, email=email, state=state, limit=limit
            )

    def message_counts(self, shop: str | None = None) -> dict[MessageState, int]:
        with self.db.read() as conn:
            return messages.counts(conn, shop)

    def sent_messages(self, shop: str, *, kind: str, since: datetime) -> list[MessageRecord]:
        with self.db.read() as conn:
            return messages.sent(conn, shop, kind=kind, since=aware(since, "since"))
