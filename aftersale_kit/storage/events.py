"""Accepted webhooks: stored once per ``(shop, dedupe_key)`` with a job to process them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, select, update

from ._sql import insert_ignore
from .codec import dumps
from .records import JobKind, JobStatus, StoredEvent
from .tables import events, jobs

__all__ = ["accept", "get", "link", "process_key"]


def process_key(event_id: int) -> str:
    """The idempotency key of the job that processes an event."""
    return f"event:{event_id}"


def accept(
    conn: Connection,
    *,
    shop: str,
    platform: str,
    topic: str,
    dedupe_key: str,
    received_at: datetime,
    body: bytes,
    headers: Mapping[str, str],
    order_id: str | None,
    max_attempts: int,
) -> int | None:
    """Insert the event and its ``process_event`` job; ``None`` when the key was seen before."""
    stmt = insert_ignore(conn, events, "shop", "dedupe_key").returning(events.c.id)
    event_id = conn.execute(
        stmt,
        {
            "shop": shop,
            "platform": platform,
            "topic": topic,
            "dedupe_key": dedupe_key,
            "received_at": received_at,
            "body": body,
            "headers": dumps(dict(headers)),
            "order_id": order_id,
        },
    ).scalar_one_or_none()
    if event_id is None:
        return None
    # Plain INSERT: a new event id cannot have a job yet.
    conn.execute(
        jobs.insert(),
        {
            "shop": shop,
            "kind": JobKind.PROCESS_EVENT.value,
            "idempotency_key": process_key(event_id),
            "payload": dumps({"event_id": event_id, "topic": topic}),
            "event_id": event_id,
            "status": JobStatus.PENDING.value,
            "attempts": 0,
            "max_attempts": max_attempts,
            "run_at": received_at,
            "created_at": received_at,
        },
    )
    return int(event_id)


def get(conn: Connection, event_id: int) -> StoredEvent | None:
    row = conn.execute(select(events).where(events.c.id == event_id)).first()
    return None if row is None else event_from_row(row)


def link(
    conn: Connection, event_id: int, *, order_id: str | None, customer_key: str | None
) -> bool:
    """Record which order and customer an event is about (for redaction and export)."""
    result = conn.execute(
        update(events)
        .where(events.c.id == event_id)
        .values(order_id=order_id, customer_key=customer_key)
    )
    return bool(result.rowcount == 1)


def event_from_row(row: Row[Any]) -> StoredEvent:
    m = row._mapping
    return StoredEvent(
        id=int(m["id"]),
        shop=m["shop"],
        platform=m["platform"],
        topic=m["topic"],
        dedupe_key=m["dedupe_key"],
        received_at=m["received_at"],
        body=bytes(m["body"]),
        headers=json.loads(m["headers"]),
        order_id=m["order_id"],
        customer_key=m["customer_key"],
        redacted_at=m["redacted_at"],
    )
