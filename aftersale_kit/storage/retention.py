"""Bounded storage: what is pruned when, and how much each table holds.

Two horizons, both measured from when a webhook was received:

* **raw bodies** (``bodies_before``): an event's body and headers, full of personal data (names,
  addresses, e-mail), are emptied. The row stays with its dedupe key, topic, order id and
  customer key, so a late redelivery of the same delivery is still recognised as a duplicate.
  Finished jobs (done or dead) go at the same horizon: their payloads repeat order details.
* **dedupe keys** (``keys_before``, later): the event rows themselves are deleted.

Quarantined deliveries (signed bodies that were not usable orders) are personal data too: one
that was replayed is deleted at the raw-body horizon; one still waiting for its fix and replay
is kept until the dedupe-key horizon, then deleted (``aftersale-kit shops status`` lists them).
Connection requests (install and approval nonces, valid 15 minutes) go at the raw-body horizon.

Never pruned here: an event whose ``process_event`` job is still pending or claimed (its body
is needed to process it), decisions, ledger rows (bookings and reversals: budgets and reports
read them), coupons (redemptions) and the stored thank-you content. Each step runs in batches of
``batch`` rows, one short transaction each, so pruning a large backlog never holds the write
lock for long.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Exists, delete, exists, func, select, text, update

from .db import Database
from .records import JobStatus
from .tables import auth_requests, events, jobs, metadata, quarantine

__all__ = ["TableStats", "prune", "table_stats"]

_OPEN_JOBS = (JobStatus.PENDING.value, JobStatus.CLAIMED.value)
_FINISHED_JOBS = (JobStatus.DONE.value, JobStatus.DEAD.value)


def _unfinished() -> Exists:
    return exists().where(jobs.c.event_id == events.c.id, jobs.c.status.in_(_OPEN_JOBS))


def _empty_bodies(conn: Connection, *, before: datetime, batch: int) -> int:
    ids = (
        conn.execute(
            select(events.c.id)
            .where(events.c.received_at < before, func.length(events.c.body) > 0, ~_unfinished())
            .order_by(events.c.id)
            .limit(batch)
        )
        .scalars()
        .all()
    )
    if not ids:
        return 0
    conn.execute(update(events).where(events.c.id.in_(ids)).values(body=b"", headers="{}"))
    return len(ids)


def _delete_jobs(conn: Connection, *, before: datetime, batch: int) -> int:
    ids = (
        conn.execute(
            select(jobs.c.id)
            .where(jobs.c.status.in_(_FINISHED_JOBS), jobs.c.finished_at < before)
            .order_by(jobs.c.id)
            .limit(batch)
        )
        .scalars()
        .all()
    )
    if ids:
        conn.execute(delete(jobs).where(jobs.c.id.in_(ids)))
    return len(ids)


def _delete_events(conn: Connection, *, before: datetime, batch: int) -> int:
    ids = (
        conn.execute(
            select(events.c.id)
            .where(events.c.received_at < before, ~_unfinished())
            .order_by(events.c.id)
            .limit(batch)
        )
        .scalars()
        .all()
    )
    if ids:
        conn.execute(delete(events).where(events.c.id.in_(ids)))
    return len(ids)


def _delete_quarantine(conn: Connection, *, before: datetime, batch: int) -> int:
    """Replayed quarantined deliveries received before ``before``."""
    return _delete_quarantined(conn, before=before, batch=batch, replayed_only=True)


def _delete_old_quarantine(conn: Connection, *, before: datetime, batch: int) -> int:
    """Every quarantined delivery received before ``before`` (the dedupe-key horizon)."""
    return _delete_quarantined(conn, before=before, batch=batch, replayed_only=False)


def _delete_quarantined(
    conn: Connection, *, before: datetime, batch: int, replayed_only: bool
) -> int:
    stmt = select(quarantine.c.id).where(quarantine.c.received_at < before)
    if replayed_only:
        stmt = stmt.where(quarantine.c.replayed_at.is_not(None))
    ids = conn.execute(stmt.order_by(quarantine.c.id).limit(batch)).scalars().all()
    if ids:
        conn.execute(delete(quarantine).where(quarantine.c.id.in_(ids)))
    return len(ids)


def _delete_auth_requests(conn: Connection, *, before: datetime, batch: int) -> int:
    """Connection requests (install and approval nonces) created before ``before``: used or
    not, they are worthless after their 15 minutes (:data:`.auth_requests.MAX_AGE`)."""
    ids = (
        conn.execute(
            select(auth_requests.c.nonce)
            .where(auth_requests.c.created_at < before)
            .order_by(auth_requests.c.created_at)
            .limit(batch)
        )
        .scalars()
        .all()
    )
    if ids:
        conn.execute(delete(auth_requests).where(auth_requests.c.nonce.in_(ids)))
    return len(ids)


def prune(
    db: Database, *, bodies_before: datetime, keys_before: datetime | None, batch: int
) -> dict[str, int]:
    """Empty old bodies, delete old finished jobs and (with ``keys_before``) old event rows.

    Returns the rows touched per kind: ``bodies``, ``jobs``, ``events``, ``quarantine``,
    ``auth_requests``.
    """
    if keys_before is not None and keys_before > bodies_before:
        raise ValueError("keys_before must not be later than bodies_before (keys outlive bodies)")
    if batch < 1:
        raise ValueError(f"batch must be >= 1, got {batch}")
    counts = {"bodies": 0, "jobs": 0, "events": 0, "quarantine": 0, "auth_requests": 0}
    steps = [
        ("jobs", _delete_jobs, bodies_before),
        ("bodies", _empty_bodies, bodies_before),
        ("quarantine", _delete_quarantine, bodies_before),
        ("auth_requests", _delete_auth_requests, bodies_before),
    ]
    if keys_before is not None:
        steps.append(("events", _delete_events, keys_before))
        steps.append(("quarantine", _delete_old_quarantine, keys_before))
    for name, step, before in steps:
        while True:
            with db.write() as conn:
                done = step(conn, before=before, batch=batch)
            counts[name] += done
            if done < batch:
                break
    return counts


@dataclass(frozen=True, slots=True)
class TableStats:
    """Rows and bytes on disk of one table, its indexes included (``None``: not measurable)."""

    table: str
    rows: int
    bytes: int | None


def _sqlite_bytes(conn: Connection) -> dict[str, int] | None:
    # dbstat is compiled into the SQLite of most builds (CPython's included); without it the
    # sizes are unknown rather than guessed.
    try:
        rows = conn.execute(
            text(
                "SELECT m.tbl_name, SUM(s.pgsize) FROM dbstat AS s "
                "JOIN sqlite_master AS m ON m.name = s.name GROUP BY m.tbl_name"
            )
        ).all()
    except Exception:
        return None
    return {str(name): int(size) for name, size in rows}


def _postgres_bytes(conn: Connection, tables: list[str]) -> dict[str, int]:
    found = {}
    for name in tables:
        size = conn.execute(
            text("SELECT pg_total_relation_size(to_regclass(:t))"), {"t": name}
        ).scalar()
        if size is not None:
            found[name] = int(size)
    return found


def table_stats(db: Database) -> list[TableStats]:
    """Rows and bytes per table of the schema, in the schema's order."""
    names = [t.name for t in metadata.sorted_tables]
    with db.read() as conn:
        counts = {
            t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            for t in metadata.sorted_tables
        }
        sizes = _sqlite_bytes(conn) if db.dialect == "sqlite" else _postgres_bytes(conn, names)
    return [
        TableStats(table=name, rows=counts[name], bytes=None if sizes is None else sizes.get(name))
        for name in names
    ]
