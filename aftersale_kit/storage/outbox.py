"""The durable job queue (transactional outbox).

A job is enqueued in the same transaction as the fact that makes it necessary (an accepted event,
a decision), so a job exists if and only if its cause was committed. ``(shop, idempotency_key)``
is unique: enqueueing the same key twice stores one job.

Claiming takes a lease: ``status='claimed'``, ``locked_by``, ``locked_until`` and ``attempts+1``
in one statement, ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING`` on
PostgreSQL (concurrent workers skip each other's rows) and the same statement inside
``BEGIN IMMEDIATE`` on SQLite (one writer at a time). A job whose lease expired (its worker died)
is claimable again; one that expired on its last allowed attempt is marked dead instead.

``complete``/``retry``/``dead``/``release`` only act on a job still leased by the same claim
(same worker id and attempt number) and return ``False``/``None`` otherwise: a worker that lost
its lease cannot overwrite the outcome of the worker that took the job over.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, and_, delete, func, or_, select, update

from ._sql import insert_ignore, statement
from .codec import dumps
from .records import Job, JobStatus
from .tables import jobs

__all__ = [
    "DEFAULT_MAX_ATTEMPTS",
    "backoff_delay",
    "claim",
    "complete",
    "dead",
    "enqueue",
    "release",
    "retry",
]

DEFAULT_MAX_ATTEMPTS = 10
_ERROR_LIMIT = 4000


def backoff_delay(
    attempts: int,
    *,
    base: timedelta = timedelta(seconds=10),
    factor: float = 2.0,
    cap: timedelta = timedelta(hours=1),
    jitter: float = 0.1,
    jitter_key: str = "",
) -> timedelta:
    """Delay before the next try after ``attempts`` failed tries: ``base * factor**(attempts-1)``,
    at most ``cap``, plus up to ``jitter`` (share) derived from ``jitter_key``.

    The jitter is deterministic (a hash of the key, e.g. the job id), so jobs that failed
    together spread out, and a test sees the same delay every time.
    """
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, got {attempts}")
    seconds = min(base.total_seconds() * factor ** (attempts - 1), cap.total_seconds())
    if jitter and jitter_key:
        digest = hashlib.blake2b(f"{jitter_key}:{attempts}".encode(), digest_size=8).digest()
        share = int.from_bytes(digest, "big") / 2**64
        seconds *= 1 + jitter * share
    return timedelta(seconds=seconds)


def enqueue(
    conn: Connection,
    *,
    shop: str,
    kind: str,
    idempotency_key: str,
    payload: Mapping[str, Any],
    run_at: datetime,
    now: datetime,
    event_id: int | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> bool:
    """Add a job unless one with the same ``(shop, idempotency_key)`` exists. True if added."""
    # RETURNING, not rowcount: psycopg reports no rowcount for an INSERT that SQLAlchemy
    # executes as "insertmanyvalues".
    stmt = statement(
        ("outbox.enqueue", conn.dialect.name),
        lambda: insert_ignore(conn, jobs, "shop", "idempotency_key").returning(jobs.c.id),
    )
    job_id = conn.execute(
        stmt,
        {
            "shop": shop,
            "kind": kind,
            "idempotency_key": idempotency_key,
            "payload": dumps(dict(payload)),
            "event_id": event_id,
            "status": JobStatus.PENDING.value,
            "attempts": 0,
            "max_attempts": max_attempts,
            "run_at": run_at,
            "created_at": now,
        },
    ).scalar_one_or_none()
    return job_id is not None


def claim(
    conn: Connection,
    *,
    worker_id: str,
    limit: int,
    lease: timedelta,
    now: datetime,
    kinds: tuple[str, ...] | None = None,
) -> list[Job]:
    """Lease up to ``limit`` due jobs (oldest ``run_at`` first) for ``lease``."""
    # A lease that expired on the last allowed attempt: the job killed its worker too often.
    # SKIP LOCKED here too: concurrent claimers never wait for (or deadlock on) each other.
    exhausted = (
        select(jobs.c.id)
        .where(
            jobs.c.status == JobStatus.CLAIMED.value,
            jobs.c.locked_until <= now,
            jobs.c.attempts >= jobs.c.max_attempts,
        )
        .with_for_update(skip_locked=True)
    )
    conn.execute(
        update(jobs)
        .where(jobs.c.id.in_(exhausted.scalar_subquery()))
        .values(
            status=JobStatus.DEAD.value,
            last_error=func.coalesce(jobs.c.last_error, "")
            + "lease expired on the last attempt (worker lost)",
            locked_by=None,
            locked_until=None,
            finished_at=now,
        )
    )
    due = or_(
        and_(jobs.c.status == JobStatus.PENDING.value, jobs.c.run_at <= now),
        and_(
            jobs.c.status == JobStatus.CLAIMED.value,
            jobs.c.locked_until <= now,
            jobs.c.attempts < jobs.c.max_attempts,
        ),
    )
    candidates = select(jobs.c.id).where(due)
    if kinds is not None:
        candidates = candidates.where(jobs.c.kind.in_(kinds))
    candidates = (
        candidates.order_by(jobs.c.run_at, jobs.c.id).limit(limit).with_for_update(skip_locked=True)
    )
    rows = conn.execute(
        update(jobs)
        .where(jobs.c.id.in_(candidates.scalar_subquery()))
        .values(
            status=JobStatus.CLAIMED.value,
            locked_by=worker_id,
            locked_until=now + lease,
            attempts=jobs.c.attempts + 1,
        )
        .returning(*jobs.c)
    ).all()
    claimed = [job_from_row(r) for r in rows]
    claimed.sort(key=lambda j: (j.run_at, j.id))
    return claimed


def _fenced(job: Job) -> Any:
    return and_(
        jobs.c.id == job.id,
        jobs.c.status == JobStatus.CLAIMED.value,
        jobs.c.locked_by == job.locked_by,
        jobs.c.attempts == job.attempts,
    )


def _let_go(conn: Connection, job: Job, status: JobStatus, **values: Any) -> bool:
    """End this claim of ``job``: the new ``status`` and ``values``, the lock cleared. False
    when the claim no longer holds (the lease ran out and another worker took the job)."""
    result = conn.execute(
        update(jobs)
        .where(_fenced(job))
        .values(status=status.value, locked_by=None, locked_until=None, **values)
    )
    return bool(result.rowcount == 1)


def complete(conn: Connection, job: Job, *, now: datetime) -> bool:
    return _let_go(conn, job, JobStatus.DONE, finished_at=now)


def retry(
    conn: Connection, job: Job, *, error: str, at: datetime, now: datetime
) -> JobStatus | None:
    """Schedule another attempt at ``at``; on the last allowed attempt, mark the job dead.

    Returns the job's new status, or ``None`` when this claim no longer holds the job.
    """
    if job.exhausted:
        return JobStatus.DEAD if dead(conn, job, error=error, now=now) else None
    held = _let_go(conn, job, JobStatus.PENDING, run_at=at, last_error=error[:_ERROR_LIMIT])
    return JobStatus.PENDING if held else None


def dead(conn: Connection, job: Job, *, error: str, now: datetime) -> bool:
    return _let_go(conn, job, JobStatus.DEAD, last_error=error[:_ERROR_LIMIT], finished_at=now)


def release(conn: Connection, job: Job, *, at: datetime) -> bool:
    """Give the job back unprocessed (shutdown, rate limit): pending at ``at``, the attempt not
    counted."""
    return _let_go(conn, job, JobStatus.PENDING, run_at=at, attempts=jobs.c.attempts - 1)


def requeue(conn: Connection, job_id: int, *, at: datetime) -> bool:
    """Give a dead job a fresh set of attempts (an operator's decision)."""
    result = conn.execute(
        update(jobs)
        .where(jobs.c.id == job_id, jobs.c.status == JobStatus.DEAD.value)
        .values(status=JobStatus.PENDING.value, run_at=at, attempts=0, finished_at=None)
    )
    return bool(result.rowcount == 1)


def cancel_pending(
    conn: Connection, *, shop: str, idempotency_key: str, reason: str, now: datetime
) -> Job | None:
    """Finish a job that is not claimed now (never run, or waiting for its retry) without
    running it. Returns the job as cancelled (its ``attempts`` say whether it was tried
    before), or ``None`` when no such job was pending."""
    row = conn.execute(
        update(jobs)
        .where(
            jobs.c.shop == shop,
            jobs.c.idempotency_key == idempotency_key,
            jobs.c.status == JobStatus.PENDING.value,
        )
        .values(status=JobStatus.DONE.value, last_error=f"cancelled: {reason}", finished_at=now)
        .returning(*jobs.c)
    ).first()
    return None if row is None else job_from_row(row)


def by_key(conn: Connection, *, shop: str, idempotency_key: str) -> Job | None:
    row = conn.execute(
        select(jobs).where(jobs.c.shop == shop, jobs.c.idempotency_key == idempotency_key)
    ).first()
    return None if row is None else job_from_row(row)


def get(conn: Connection, job_id: int) -> Job | None:
    row = conn.execute(select(jobs).where(jobs.c.id == job_id)).first()
    return None if row is None else job_from_row(row)


def find(
    conn: Connection,
    *,
    shop: str | None = None,
    status: JobStatus | None = None,
    kind: str | None = None,
    limit: int = 100,
) -> list[Job]:
    stmt = select(jobs)
    if shop is not None:
        stmt = stmt.where(jobs.c.shop == shop)
    if status is not None:
        stmt = stmt.where(jobs.c.status == status.value)
    if kind is not None:
        stmt = stmt.where(jobs.c.kind == kind)
    return [job_from_row(r) for r in conn.execute(stmt.order_by(jobs.c.id).limit(limit))]


def stats(conn: Connection) -> dict[JobStatus, int]:
    rows = conn.execute(select(jobs.c.status, func.count()).group_by(jobs.c.status)).all()
    counts = dict.fromkeys(JobStatus, 0)
    for status, count in rows:
        counts[JobStatus(status)] = int(count)
    return counts


def prune(conn: Connection, *, finished_before: datetime) -> int:
    """Delete done and dead jobs finished before the given time."""
    result = conn.execute(
        delete(jobs).where(
            jobs.c.status.in_([JobStatus.DONE.value, JobStatus.DEAD.value]),
            jobs.c.finished_at < finished_before,
        )
    )
    return int(result.rowcount)


def job_from_row(row: Row[Any]) -> Job:
    m = row._mapping
    return Job(
        id=int(m["id"]),
        shop=m["shop"],
        kind=m["kind"],
        idempotency_key=m["idempotency_key"],
        payload=json.loads(m["payload"]),
        event_id=None if m["event_id"] is None else int(m["event_id"]),
        status=JobStatus(m["status"]),
        attempts=int(m["attempts"]),
        max_attempts=int(m["max_attempts"]),
        run_at=m["run_at"],
        locked_by=m["locked_by"],
        locked_until=m["locked_until"],
        last_error=m["last_error"],
    )
