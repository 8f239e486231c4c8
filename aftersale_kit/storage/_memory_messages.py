"""The follow-up schedule of the memory store (:class:`~.ports.MessageStore`), behind its lock."""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ..core.contact.follow_up import Purpose
from ..core.contact.policy import SentMessage, normalise_email
from ._sql import aware
from .message_records import (
    PENDING_STATES,
    ContactFacts,
    ContactRef,
    MessageOutcome,
    MessageRecord,
    MessageState,
    NewMessage,
)

if TYPE_CHECKING:
    from .links import Consent

__all__ = ["MemoryMessages", "MessageRows"]


@dataclass
class _Lease:
    worker: str
    until: datetime


class MessageRows:
    """The rows; every method runs under the memory store's lock."""

    def __init__(self) -> None:
        self.rows: dict[int, MessageRecord] = {}
        self.keys: dict[tuple[str, str], int] = {}
        self.leases: dict[int, _Lease] = {}

    def plan(self, items: Iterable[NewMessage], now: datetime) -> int:
        new = 0
        for m in items:
            if (m.shop, m.key) in self.keys:
                continue
            row_id = len(self.rows) + 1
            self.keys[(m.shop, m.key)] = row_id
            self.rows[row_id] = MessageRecord(
                id=row_id, shop=m.shop, key=m.key, order_id=m.order_id,
                customer_key=m.customer_key, email=m.email, campaign_id=m.campaign_id,
                occurrence=m.occurrence, kind=m.kind, template=m.template, purpose=m.purpose,
                data=dict(m.data), due_at=m.due_at, state=MessageState.PLANNED, reason=None,
                message_id=None, attempts=0, sent_at=None, reply=None, created_at=now,
                updated_at=now,
            )  # fmt: skip
            new += 1
        return new

    @staticmethod
    def matches(
        r: MessageRecord,
        shop: str,
        order_id: str | None,
        customer_key: str | None,
        email: str | None,
    ) -> bool:
        if r.shop != shop or (order_id is not None and r.order_id != order_id):
            return False
        if customer_key is None and email is None:
            return True
        by_key = customer_key is not None and r.customer_key == customer_key
        by_mail = email is not None and normalise_email(r.email or "") == normalise_email(email)
        return by_key or by_mail

    def cancel(self, picked: Iterable[MessageRecord], reason: str, now: datetime) -> int:
        n = 0
        for r in list(picked):
            if r.state.value in PENDING_STATES and r.handed_over_at is None:
                self.rows[r.id] = replace(
                    r, state=MessageState.CANCELLED, reason=reason[:2000], updated_at=now
                )
                self.leases.pop(r.id, None)
                n += 1
        return n

    def claim(
        self, worker: str, now: datetime, limit: int, lease: timedelta
    ) -> list[MessageRecord]:
        def free(r: MessageRecord) -> bool:
            held = self.leases.get(r.id)
            return held is None or held.until <= now

        busy = {
            (r.shop, r.contact_key)
            for row_id, held in self.leases.items()
            if held.worker != worker and held.until > now
            and (r := self.rows[row_id]).state.value in PENDING_STATES
        }  # fmt: skip
        due = sorted(
            (
                r
                for r in self.rows.values()
                if r.state.value in PENDING_STATES and r.due_at <= now and free(r)
                and (r.shop, r.contact_key) not in busy
            ),
            key=lambda r: (r.due_at, r.id),
        )[:limit]  # fmt: skip
        for r in due:
            self.leases[r.id] = _Lease(worker, now + lease)
        return due

    def hand_over(self, row_id: int, worker: str, now: datetime, lease: timedelta) -> bool:
        r = self.rows.get(row_id)
        held = self.leases.get(row_id)
        if r is None or held is None or held.worker != worker:
            return False
        if r.state.value not in PENDING_STATES:
            return False
        self.rows[row_id] = replace(r, handed_over_at=now)
        held.until = now + lease
        return True

    def finish(self, row_id: int, worker: str, outcome: MessageOutcome, now: datetime) -> bool:
        r = self.rows.get(row_id)
        held = self.leases.get(row_id)
        if (
            r is None
            or held is None
            or held.worker != worker
            or r.state.value not in PENDING_STATES
        ):
            return False
        del self.leases[row_id]
        changes: dict[str, object] = {
            "state": outcome.state,
            "reason": outcome.reason[:2000] if outcome.reason is not None else None,
            "handed_over_at": None,
            "updated_at": now,
        }
        for name in ("due_at", "message_id", "attempts", "sent_at"):
            value = getattr(outcome, name)
            if value is not None:
                changes[name] = value
        if outcome.reply is not None:
            changes["reply"] = outcome.reply[:2000]
        self.rows[row_id] = replace(r, **changes)  # type: ignore[arg-type]
        return True

    def history(self, shop: str, contact_key: str, since: datetime | None) -> list[SentMessage]:
        sent = [
            SentMessage(sent_at=r.sent_at, purpose=Purpose(r.purpose))
            for r in self.rows.values()
            if r.shop == shop
            and r.state is MessageState.SENT
            and r.sent_at is not None
            and r.contact_key == contact_key
            and (since is None or r.sent_at >= since)
        ]
        return sorted(sent, key=lambda s: s.sent_at)


class MemoryMessages:
    """Mixed into the memory store: the :class:`~.ports.MessageStore` methods."""

    _lock: threading.RLock

    if TYPE_CHECKING:  # of the links mixin

        def confirmed_consent(self, shop: str, email: str) -> Consent | None: ...

        def is_unsubscribed(self, shop: str, email: str) -> bool: ...

    @property
    def _messages(self) -> MessageRows:
        rows = self.__dict__.get("_message_rows")
        if rows is None:
            rows = self.__dict__["_message_rows"] = MessageRows()
        return rows

    def plan_messages(self, items: Iterable[NewMessage], *, now: datetime | None = None) -> int:
        now = aware(now, "now")
        with self._lock:
            return self._messages.plan(items, now)

    def cancel_address(self, shop: str, email: str, reason: str, now: datetime) -> int:
        """Cancel what waits for ``email`` (the caller holds the lock; see ``unsubscribe``)."""
        rows = self._messages
        address = normalise_email(email)
        picked = [r for r in rows.rows.values() if rows.matches(r, shop, None, None, address)]
        return rows.cancel(picked, reason, now)

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
        now = aware(now, "now")
        with self._lock:
            rows = self._messages
            picked = [
                r
                for r in rows.rows.values()
                if rows.matches(r, shop, order_id, customer_key, email)
                and (ids is None or r.id in ids)
            ]
            return rows.cancel(picked, reason, now)

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
        now = aware(now, "now")
        with self._lock:
            return self._messages.claim(worker_id, now, limit, timedelta(seconds=lease_seconds))

    def hand_over_message(
        self,
        message_id: int,
        *,
        worker_id: str,
        lease_seconds: float = 120.0,
        now: datetime | None = None,
    ) -> bool:
        now = aware(now, "now")
        with self._lock:
            return self._messages.hand_over(
                message_id, worker_id, now, timedelta(seconds=lease_seconds)
            )

    def finish_message(
        self,
        message_id: int,
        *,
        worker_id: str,
        outcome: MessageOutcome,
        now: datetime | None = None,
    ) -> bool:
        now = aware(now, "now")
        with self._lock:
            return self._messages.finish(message_id, worker_id, outcome, now)

    def finish_messages(
        self,
        outcomes: Sequence[tuple[int, MessageOutcome]],
        *,
        worker_id: str,
        now: datetime | None = None,
    ) -> list[bool]:
        now = aware(now, "now")
        with self._lock:
            return [self._messages.finish(i, worker_id, o, now) for i, o in outcomes]

    def contact_history(
        self, shop: str, contact_key: str, *, since: datetime | None = None
    ) -> list[SentMessage]:
        with self._lock:
            return self._messages.history(shop, contact_key, since)

    def contact_facts(self, refs: Collection[ContactRef]) -> dict[ContactRef, ContactFacts]:
        found: dict[ContactRef, ContactFacts] = {}
        with self._lock:
            for ref in set(refs):
                opt_in = self.confirmed_consent(ref.shop, ref.email) if ref.email else None
                found[ref] = ContactFacts(
                    history=tuple(self._messages.history(ref.shop, ref.contact_key, None)),
                    opt_in_confirmed_at=opt_in.confirmed_at if opt_in is not None else None,
                    unsubscribed=bool(ref.email) and self.is_unsubscribed(ref.shop, ref.email),
                )
        return found

    def message(self, shop: str, message_id: int) -> MessageRecord | None:
        with self._lock:
            r = self._messages.rows.get(message_id)
            return r if r is not None and r.shop == shop else None

    def messages(
        self,
        shop: str | None = None,
        *,
        order_id: str | None = None,
        email: str | None = None,
        state: MessageState | None = None,
        limit: int = 100,
    ) -> list[MessageRecord]:
        with self._lock:
            rows = self._messages
            found = [
                r
                for r in rows.rows.values()
                if (shop is None or rows.matches(r, shop, order_id, None, email))
                and (state is None or r.state is state)
            ]
        return sorted(found, key=lambda r: (r.due_at, r.id))[:limit]

    def message_counts(self, shop: str | None = None) -> dict[MessageState, int]:
        counts: dict[MessageState, int] = {}
        with self._lock:
            for r in self._messages.rows.values():
                if shop is None or r.shop == shop:
                    counts[r.state] = counts.get(r.state, 0) + 1
        return counts

    def sent_messages(self, shop: str, *, kind: str, since: datetime) -> list[MessageRecord]:
        since = aware(since, "since")
        with self._lock:
            found = [
                r
                for r in self._messages.rows.values()
                if r.shop == shop and r.kind == kind and r.state is MessageState.SENT
                and r.sent_at is not None and r.sent_at >= since
            ]  # fmt: skip
        return sorted(found, key=lambda r: (r.sent_at, r.id))
