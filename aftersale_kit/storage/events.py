"""Accepted webhooks: stored once per ``(shop, dedupe_key)`` with a job to process them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, select, update

from .codec import dumps
from .db import Database
from .records import JobKind, JobStatus, StoredEvent
from .tables import events

__all__ = ["accept", "get", "link", "process_key"]


def process_key(event_id: int) -> str:
    """The idempotency key of the job that processes an event."""
    return f"event:{event_id}"


_EVENT_SQL = (
    "INSERT INTO events (shop, platform, topic, dedupe_key, received_at, body, headers, order_id)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (shop, dedupe_key) DO NOTHING RETURNING id"
)
_JOB_SQL = (
    "INSERT INTO jobs (shop, kind, idempotency_key, payload, event_id, status, attempts,"
    " max_attempts, run_at, created_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?)"
)
_PYFORMAT = {"sqlite": (_EVENT_SQL, _JOB_SQL)}
_PYFORMAT["postgresql"] = (_EVENT_SQL.replace("?", "%s"), _JOB_SQL.replace("?", "%s"))


def accept(
    db: Database,
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
    """Insert the event and its ``process_event`` job; ``None`` when the key was seen before.

    The hot path of the service, so it runs on the driver's cursor: two prepared INSERTs and a
    commit (SQLAlchemy Core would triple the time per webhook). The statements are checked
    against the schema by the test suite like every other query.
    """
    event_sql, job_sql = _PYFORMAT[db.dialect]
    at = db.datetime_param(received_at)
    with db.raw_write() as cursor:
        cursor.execute(
            event_sql,
            (shop, platform, topic, dedupe_key, at, body, dumps(dict(headers)), order_id),
        )
        row = cursor.fetchone()
        if row is None:
            return None
        event_id = int(row[0])
        cursor.execute(
            job_sql,
            (
                shop,
                JobKind.PROCESS_EVENT.value,
                process_key(event_id),
                dumps({"event_id": event_id, "topic": topic}),
                event_id,
                JobStatus.PENDING.value,
                max_attempts,
                at,
                at,
            ),
        )
    return event_id


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
