"""The follow-up schedule in SQL: plan, claim with a lease, record, cancel (the consents, the
suppression list and the spent link nonces are the link tables of :mod:`._links_store`).

A sweep claims due rows (``planned`` or ``deferred`` with ``due_at <= now`` and no live lease)
under ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (SQLite: the write lock), leases them to one
worker, and records each outcome only while it still holds the lease. A worker that dies loses
its lease; the row comes back after it expires and is sent again with the same Message-ID,
unless the worker had marked it handed over (``handed_over_at``, written just before the end
of data goes to the server): then it is counted as sent (docs/follow-ups.md, "A crash while
sending"). A claim leaves out the customers another worker is writing to right now, so the
contact policy never decides on a history that misses a message in flight.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    Row,
    and_,
    bindparam,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.sql.elements import ColumnElement

from ..core.contact.follow_up import Purpose
from ..core.contact.policy import SentMessage, normalise_email
from ._sql import insert_ignore
from .message_records import (
    PENDING_STATES,
    ContactFacts,
    ContactRef,
    MessageOutcome,
    MessageRecord,
    MessageState,
    NewMessage,
    contact_key,
)
from .tables import consents, messages, suppressions

__all__ = [
    "cancel",
    "claim",
    "contact_facts",
    "counts",
    "finish",
    "finish_many",
    "get",
    "hand_over",
    "history",
    "listing",
    "plan",
    "sent",
]


def _row(m: NewMessage, now: datetime) -> dict[str, Any]:
    return {
        "shop": m.shop,
        "key": m.key,
        "order_id": m.order_id,
        "customer_key": m.customer_key,
        "email": m.email,
        "campaign_id": m.campaign_id,
        "occurrence": m.occurrence,
        "kind": m.kind,
        "template": m.template,
        "purpose": m.purpose,
        "data": json.dumps(dict(m.data), sort_keys=True, default=str),
        "due_at": m.due_at,
        "state": MessageState.PLANNED.value,
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
    }


def plan(conn: Connection, items: Iterable[NewMessage], *, now: datetime) -> int:
    """Insert each message once per ``(shop, key)``; returns how many were new."""
    new = 0
    for m in items:
        stmt = insert_ignore(conn, messages, "shop", "key").returning(messages.c.id)
        new += conn.execute(stmt, _row(m, now)).first() is not None
    return new


def record_from_row(row: Row[Any]) -> MessageRecord:
    m = row._mapping
    return MessageRecord(
        id=int(m["id"]),
        shop=m["shop"],
        key=m["key"],
        order_id=m["order_id"],
        customer_key=m["customer_key"],
        email=m["email"],
        campaign_id=m["campaign_id"],
        occurrence=int(m["occurrence"]),
        kind=m["kind"],
        template=m["template"],
        purpose=m["purpose"],
        data=json.loads(m["data"]),
        due_at=m["due_at"],
        state=MessageState(m["state"]),
        reason=m["reason"],
        message_id=m["message_id"],
        attempts=int(m["attempts"]),
        sent_at=m["sent_at"],
        reply=m["reply"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        handed_over_at=m["handed_over_at"],
    )


def _where(
    shop: str,
    *,
    order_id: str | None = None,
    customer_key: str | None = None,
    email: str | None = None,
    ids: Sequence[int] | None = None,
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [messages.c.shop == shop]
    if order_id is not None:
        where.append(messages.c.order_id == order_id)
    who = []
    if customer_key is not None:
        who.append(messages.c.customer_key == customer_key)
    if email is not None:
        who.append(func.lower(messages.c.email) == normalise_email(email))
    if who:
        where.append(or_(*who))
    if ids is not None:
        where.append(messages.c.id.in_(list(ids)))
    return where


def cancel(
    conn: Connection,
    shop: str,
    *,
    reason: str,
    now: datetime,
    order_id: str | None = None,
    customer_key: str | None = None,
    email: str | None = None,
    ids: Sequence[int] | None = None,
) -> int:
    """Cancel the shop's messages still waiting that match; returns how many."""
    where = _where(shop, order_id=order_id, customer_key=customer_key, email=email, ids=ids)
    result = conn.execute(
        update(messages)
        .where(*where, messages.c.state.in_(PENDING_STATES), messages.c.handed_over_at.is_(None))
        .values(
            state=MessageState.CANCELLED.value,
            reason=reason[:2000],
            leased_by=None,
            leased_until=None,
            updated_at=now,
        )
    )
    return int(result.rowcount or 0)


def claim(
    conn: Connection, *, worker_id: str, now: datetime, limit: int, lease: timedelta
) -> list[MessageRecord]:
    """Lease up to ``limit`` due messages (earliest ``due_at`` first) to ``worker_id``, leaving
    out customers with a message leased to another worker (their turn comes after it is
    recorded). The caller serialises claims (:meth:`~.db.Database.lock` ``claim_messages``)."""
    due = and_(
        messages.c.state.in_(PENDING_STATES),
        messages.c.due_at <= now,
        or_(messages.c.leased_until.is_(None), messages.c.leased_until <= now),
    )
    busy = _busy_contacts(conn, worker_id=worker_id, now=now)
    candidates = conn.execute(
        select(messages.c.id, messages.c.customer_key, messages.c.email, messages.c.shop)
        .where(due)
        .order_by(messages.c.due_at, messages.c.id)
        .limit(limit if not busy else limit * 4)
        .with_for_update(skip_locked=True)
    )
    ids = [
        int(r.id) for r in candidates if (r.shop, contact_key(r.customer_key, r.email)) not in busy
    ][:limit]
    if not ids:
        return []
    conn.execute(
        update(messages)
        .where(messages.c.id.in_(ids), due)
        .values(leased_by=worker_id, leased_until=now + lease)
    )
    rows = conn.execute(
        select(messages)
        .where(messages.c.id.in_(ids), messages.c.leased_by == worker_id)
        .order_by(messages.c.due_at, messages.c.id)
    )
    return [record_from_row(r) for r in rows]


def _busy_contacts(conn: Connection, *, worker_id: str, now: datetime) -> set[tuple[str, str]]:
    """``(shop, contact)`` of the messages other workers hold a live lease on."""
    rows = conn.execute(
        select(messages.c.shop, messages.c.customer_key, messages.c.email).where(
            messages.c.leased_until > now,
            messages.c.leased_by != worker_id,
            messages.c.state.in_(PENDING_STATES),
        )
    )
    return {(r.shop, contact_key(r.customer_key, r.email)) for r in rows}


#: Built once: the sweep runs it for every message (a statement built per call costs more
#: than the update itself).
_HAND_OVER = (
    update(messages)
    .where(
        messages.c.id == bindparam("b_id"),
        messages.c.leased_by == bindparam("b_worker"),
        messages.c.state.in_(PENDING_STATES),
    )
    .values(handed_over_at=bindparam("b_now"), leased_until=bindparam("b_until"))
)


def hand_over(
    conn: Connection, message_id: int, *, worker_id: str, now: datetime, lease: timedelta
) -> bool:
    """Mark a claimed message handed over (its end of data goes to the server next) and renew
    the lease, while it is still ``worker_id``'s (a claim by another worker after the lease
    ran out takes it over); ``False``: it is not, so it must not be sent."""
    result = conn.execute(
        _HAND_OVER,
        {"b_id": message_id, "b_worker": worker_id, "b_now": now, "b_until": now + lease},
    )
    return bool(result.rowcount)


def finish(
    conn: Connection, message_id: int, *, worker_id: str, outcome: MessageOutcome, now: datetime
) -> bool:
    """Record ``outcome`` while ``worker_id`` holds the lease; ``False`` when it lost it."""
    return finish_many(conn, [(message_id, outcome)], worker_id=worker_id, now=now)[0]


def history(
    conn: Connection, shop: str, contact_key: str, *, since: datetime | None = None
) -> list[SentMessage]:
    """The messages sent to this customer (customer key, or ``email:<address>``), oldest
    first: the contact policy's history."""
    if contact_key.startswith("email:"):
        who = func.lower(messages.c.email) == contact_key[len("email:") :]
    else:
        who = messages.c.customer_key == contact_key
    query = select(messages.c.sent_at, messages.c.purpose).where(
        messages.c.shop == shop, who, messages.c.state == MessageState.SENT.value
    )
    if since is not None:
        query = query.where(messages.c.sent_at >= since)
    rows = conn.execute(query.order_by(messages.c.sent_at))
    return [SentMessage(sent_at=r.sent_at, purpose=Purpose(r.purpose)) for r in rows]


_CHUNK = 100


def _pairs(
    shop: ColumnElement[Any], who: ColumnElement[Any], pairs: list[tuple[str, str]]
) -> ColumnElement[bool]:
    """``(shop = a AND who = b) OR ...``: each branch an index lookup on both engines (a
    row-value ``IN`` list is a full scan on PostgreSQL)."""
    return or_(*(and_(shop == a, who == b) for a, b in pairs))


def _chunks(pairs: set[tuple[str, str]]) -> Iterable[list[tuple[str, str]]]:
    items = sorted(pairs)
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def contact_facts(conn: Connection, refs: Iterable[ContactRef]) -> dict[ContactRef, ContactFacts]:
    """:func:`history`, the earliest confirmed opt-in and the suppression of many contacts:
    one query each (per chunk of pairs), not three per contact."""
    wanted = set(refs)
    sent_to = _histories(conn, {(r.shop, r.contact_key) for r in wanted})
    addresses = {(r.shop, normalise_email(r.email)) for r in wanted if r.email}
    opt_ins: dict[tuple[str, str], datetime] = {}
    suppressed: set[tuple[str, str]] = set()
    c, s = consents, suppressions
    for chunk in _chunks(addresses):
        rows = conn.execute(
            select(c.c.shop, c.c.email, func.min(c.c.confirmed_at))
            .where(_pairs(c.c.shop, c.c.email, chunk))
            .where(c.c.confirmed_at.is_not(None), c.c.withdrawn_at.is_(None))
            .group_by(c.c.shop, c.c.email)
        )
        opt_ins.update({(r[0], r[1]): r[2] for r in rows})
        rows = conn.execute(select(s.c.shop, s.c.email).where(_pairs(s.c.shop, s.c.email, chunk)))
        suppressed.update((r[0], r[1]) for r in rows)
    found: dict[ContactRef, ContactFacts] = {}
    for ref in wanted:
        address = (ref.shop, normalise_email(ref.email))
        found[ref] = ContactFacts(
            history=tuple(sent_to.get((ref.shop, ref.contact_key), ())),
            opt_in_confirmed_at=opt_ins.get(address) if ref.email else None,
            unsubscribed=bool(ref.email) and address in suppressed,
        )
    return found


def _histories(
    conn: Connection, contacts: set[tuple[str, str]]
) -> dict[tuple[str, str], list[SentMessage]]:
    """:func:`history` of many ``(shop, contact key)``: customers by key, guests by address."""
    m = messages
    by_key = {(shop, key) for shop, key in contacts if not key.startswith("email:")}
    guests = {(shop, key[len("email:") :]) for shop, key in contacts if key.startswith("email:")}
    found: dict[tuple[str, str], list[SentMessage]] = {}
    for pairs, who, prefix in (
        (by_key, m.c.customer_key, ""),
        (guests, func.lower(m.c.email), "email:"),
    ):
        for chunk in _chunks(pairs):
            # the state is compared here, not in SQL: there SQLite would pick the index on
            # (state, due_at) and read every sent message of the table for each part
            rows = conn.execute(
                select(m.c.shop, who.label("who"), m.c.state, m.c.sent_at, m.c.purpose)
                .where(_pairs(m.c.shop, who, chunk))
                .order_by(m.c.sent_at)
            )
            for r in rows:
                if r.state != MessageState.SENT.value:
                    continue
                found.setdefault((r.shop, prefix + r.who), []).append(
                    SentMessage(sent_at=r.sent_at, purpose=Purpose(r.purpose))
                )
    return found


def _kept(name: str) -> ColumnElement[Any]:
    """``:b_<name>`` when given, else the column's value as it is (an outcome's ``None``)."""
    column = messages.c[name]
    return func.coalesce(bindparam(f"b_{name}", type_=column.type), column)


_FINISH = (
    update(messages)
    .where(messages.c.id == bindparam("b_id"))
    .values(
        state=bindparam("b_state"),
        reason=bindparam("b_reason"),
        leased_by=None,
        leased_until=None,
        handed_over_at=None,
        updated_at=bindparam("b_now"),
        **{name: _kept(name) for name in ("due_at", "message_id", "attempts", "sent_at", "reply")},
    )
)


def finish_many(
    conn: Connection,
    outcomes: Sequence[tuple[int, MessageOutcome]],
    *,
    worker_id: str,
    now: datetime,
) -> list[bool]:
    """:func:`finish` for each ``(id, outcome)`` in the caller's transaction: the rows still
    ``worker_id``'s are locked (PostgreSQL; SQLite: the write lock), then updated with one
    statement run for each."""
    ids = [message_id for message_id, _ in outcomes]
    held: set[int] = set()
    for start in range(0, len(ids), _CHUNK):
        rows = conn.execute(
            select(messages.c.id)
            .where(messages.c.id.in_(ids[start : start + _CHUNK]))
            .where(messages.c.leased_by == worker_id, messages.c.state.in_(PENDING_STATES))
            .with_for_update()
        )
        held.update(int(r.id) for r in rows)
    params = [_finish_params(i, o, now) for i, o in outcomes if i in held]
    if params:
        conn.execute(_FINISH, params)
    return [message_id in held for message_id in ids]


def _finish_params(message_id: int, outcome: MessageOutcome, now: datetime) -> dict[str, Any]:
    return {
        "b_id": message_id,
        "b_state": outcome.state.value,
        "b_reason": outcome.reason[:2000] if outcome.reason is not None else None,
        "b_now": now,
        "b_due_at": outcome.due_at,
        "b_message_id": outcome.message_id,
        "b_attempts": outcome.attempts,
        "b_sent_at": outcome.sent_at,
        "b_reply": outcome.reply[:2000] if outcome.reply is not None else None,
    }


def get(conn: Connection, shop: str, message_id: int) -> MessageRecord | None:
    row = conn.execute(
        select(messages).where(messages.c.shop == shop, messages.c.id == message_id)
    ).first()
    return None if row is None else record_from_row(row)


def listing(
    conn: Connection,
    shop: str | None,
    *,
    order_id: str | None = None,
    email: str | None = None,
    state: MessageState | None = None,
    limit: int = 100,
) -> list[MessageRecord]:
    query = select(messages)
    if shop is not None:
        query = query.where(*_where(shop, order_id=order_id, email=email))
    if state is not None:
        query = query.where(messages.c.state == state.value)
    rows = conn.execute(query.order_by(messages.c.due_at, messages.c.id).limit(limit))
    return [record_from_row(r) for r in rows]


def sent(conn: Connection, shop: str, *, kind: str, since: datetime) -> list[MessageRecord]:
    query = (
        select(messages)
        .where(messages.c.shop == shop, messages.c.kind == kind)
        .where(messages.c.state == MessageState.SENT.value, messages.c.sent_at >= since)
        .order_by(messages.c.sent_at, messages.c.id)
    )
    return [record_from_row(r) for r in conn.execute(query)]


def counts(conn: Connection, shop: str | None = None) -> dict[MessageState, int]:
    query = select(messages.c.state, func.count()).group_by(messages.c.state)
    if shop is not None:
        query = query.where(messages.c.shop == shop)
    return {MessageState(s): int(n) for s, n in conn.execute(query)}
