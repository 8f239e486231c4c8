"""Quarantined deliveries and the WooCommerce order keys the intake keeps.

**Quarantine.** A correctly signed delivery on an order topic whose body is not an order this
version can read is answered 200 (the platform keeps the subscription) and kept here with the
reason, outside the job queue: nothing processes it until an operator replays it
(``aftersale-kit shops replay DOMAIN``) once the cause is fixed, e.g. after an upgrade that reads
the new shape. One row per ``(shop, dedupe_key)`` (the key is the topic and a digest of the
body, so a redelivery of the same body is one row); ``replayed_at`` is set when a replay stored
it as an event.

**Order keys.** WooCommerce's thank-you page token is made from the order key
(:mod:`aftersale_kit.service.blocks`); the intake keeps each order's key from its webhook, so a
token is checked against stored data and a request with a bad token costs no call to the shop.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, update

from . import outbox
from ._sql import insert_ignore
from .events import process_key
from .records import JobKind
from .tables import events, order_keys, quarantine

__all__ = [
    "QuarantinedDelivery",
    "add",
    "count_open",
    "get_order_key",
    "listing",
    "mark_replayed",
    "requeue_event",
    "save_order_keys",
]


@dataclass(frozen=True, slots=True)
class QuarantinedDelivery:
    id: int
    shop: str
    platform: str
    topic: str
    dedupe_key: str
    received_at: datetime
    reason: str
    body: bytes
    #: The delivery's platform headers as received (the signature included, to verify again).
    headers: Mapping[str, str]
    replayed_at: datetime | None


def add(
    conn: Connection,
    *,
    shop: str,
    platform: str,
    topic: str,
    dedupe_key: str,
    received_at: datetime,
    reason: str,
    body: bytes,
    headers: Mapping[str, str],
) -> bool:
    """Keep one delivery; ``False`` when ``(shop, dedupe_key)`` is kept already."""
    result = conn.execute(
        insert_ignore(conn, quarantine, "shop", "dedupe_key").returning(quarantine.c.id),
        {
            "shop": shop,
            "platform": platform,
            "topic": topic,
            "dedupe_key": dedupe_key,
            "received_at": received_at,
            "reason": reason,
            "body": body,
            "headers": json.dumps(dict(headers), sort_keys=True),
            "replayed_at": None,
        },
    )
    return result.first() is not None


def listing(
    conn: Connection, *, shop: str | None = None, include_replayed: bool = False
) -> list[QuarantinedDelivery]:
    query = select(quarantine).order_by(quarantine.c.id)
    if shop is not None:
        query = query.where(quarantine.c.shop == shop)
    if not include_replayed:
        query = query.where(quarantine.c.replayed_at.is_(None))
    return [_record(row._mapping) for row in conn.execute(query)]


def count_open(conn: Connection) -> dict[str, int]:
    """Open (not replayed) quarantined deliveries per platform."""
    query = (
        select(quarantine.c.platform, func.count())
        .where(quarantine.c.replayed_at.is_(None))
        .group_by(quarantine.c.platform)
    )
    return {str(platform): int(n) for platform, n in conn.execute(query)}


def mark_replayed(conn: Connection, item_id: int, *, now: datetime) -> bool:
    result = conn.execute(
        update(quarantine)
        .where(quarantine.c.id == item_id, quarantine.c.replayed_at.is_(None))
        .values(replayed_at=now)
    )
    return bool(result.rowcount)


def requeue_event(conn: Connection, *, shop: str, dedupe_key: str, tag: str, now: datetime) -> bool:
    """Queue the ``process_event`` job of the stored event ``(shop, dedupe_key)`` once more
    (a delivery the worker quarantined: its event is stored, its first job is done). ``tag``
    makes the job's key unique per replay. ``False`` when there is no such event, or this
    replay queued it already."""
    event_id = conn.execute(
        select(events.c.id).where(events.c.shop == shop, events.c.dedupe_key == dedupe_key)
    ).scalar()
    if event_id is None:
        return False
    return outbox.enqueue(
        conn,
        shop=shop,
        kind=JobKind.PROCESS_EVENT.value,
        idempotency_key=f"{process_key(int(event_id))}:{tag}",
        payload={"event_id": int(event_id)},
        run_at=now,
        now=now,
        event_id=int(event_id),
    )


def save_order_keys(
    conn: Connection, rows: Iterable[tuple[str, str, str]], *, now: datetime
) -> None:
    """``(shop, order_id, order_key)`` rows; an order keeps the key it was first seen with (a
    WooCommerce order's key never changes)."""
    values = [
        {"shop": shop, "order_id": order_id, "order_key": key, "recorded_at": now}
        for shop, order_id, key in rows
    ]
    if values:
        conn.execute(insert_ignore(conn, order_keys, "shop", "order_id"), values)


def get_order_key(conn: Connection, shop: str, order_id: str) -> str | None:
    query = select(order_keys.c.order_key).where(
        order_keys.c.shop == shop, order_keys.c.order_id == order_id
    )
    value = conn.execute(query).scalar()
    return None if value is None else str(value)


def _record(m: Mapping[Any, Any]) -> QuarantinedDelivery:
    headers = json.loads(str(m["headers"]))
    return QuarantinedDelivery(
        id=int(m["id"]),
        shop=str(m["shop"]),
        platform=str(m["platform"]),
        topic=str(m["topic"]),
        dedupe_key=str(m["dedupe_key"]),
        received_at=m["received_at"],
        reason=str(m["reason"]),
        body=bytes(m["body"]),
        headers={str(k): str(v) for k, v in headers.items()},
        replayed_at=m["replayed_at"],
    )
