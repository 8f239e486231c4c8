"""The job queue of :class:`~aftersale_kit.storage.memory.MemoryStore`: :mod:`.outbox` in dicts.

Not thread-safe by itself: the memory store calls it with its lock held.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from .codec import dumps
from .outbox import DEFAULT_MAX_ATTEMPTS
from .records import Job, JobStatus

__all__ = ["MemoryQueue"]

_ERROR_LIMIT = 4000
_LOST = "lease expired on the last attempt (worker lost)"


@dataclass(slots=True)
class _Row:
    job: Job
    finished_at: datetime | None = None


class MemoryQueue:
    """Jobs by id, unique per ``(shop, idempotency_key)``, leased as :mod:`.outbox` leases."""

    def __init__(self) -> None:
        self._rows: dict[int, _Row] = {}
        self._keys: dict[tuple[str, str], int] = {}
        self._next = 1

    def enqueue(
        self,
        *,
        shop: str,
        kind: str,
        idempotency_key: str,
        payload: Mapping[str, Any],
        run_at: datetime,
        event_id: int | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    ) -> bool:
        if (shop, idempotency_key) in self._keys:
            return False
        job_id = self._next
        self._next += 1
        self._keys[(shop, idempotency_key)] = job_id
        self._rows[job_id] = _Row(
            Job(
                id=job_id,
                shop=shop,
                kind=str(kind),
                idempotency_key=idempotency_key,
                payload=json.loads(dumps(dict(payload))),
                event_id=event_id,
                status=JobStatus.PENDING,
                attempts=0,
                max_attempts=max_attempts,
                run_at=run_at,
                locked_by=None,
                locked_until=None,
                last_error=None,
            )
        )
        return True

    def claim(
        self,
        *,
        worker_id: str,
        limit: int,
        lease: timedelta,
        now: datetime,
        kinds: tuple[str, ...] | None,
    ) -> list[Job]:
        for row in self._rows.values():
            job = row.job
            if _expired(job, now) and job.attempts >= job.max_attempts:
                row.job = _unlocked(job, JobStatus.DEAD, last_error=(job.last_error or "") + _LOST)
                row.finished_at = now
        due = [
            row
            for row in self._rows.values()
            if _due(row.job, now) and (kinds is None or row.job.kind in kinds)
        ]
        due.sort(key=lambda row: (row.job.run_at, row.job.id))
        claimed = []
        for row in due[:limit]:
            row.job = replace(
                row.job,
                status=JobStatus.CLAIMED,
                locked_by=worker_id,
                locked_until=now + lease,
                attempts=row.job.attempts + 1,
            )
            claimed.append(row.job)
        return claimed

    def let_go(
        self, job: Job, status: JobStatus, *, finished_at: datetime | None = None, **values: Any
    ) -> bool:
        """End this claim of ``job`` (see :func:`.outbox._let_go`); ``False`` when it lost it."""
        row = self._rows.get(job.id)
        if row is None or not _holds(row.job, job):
            return False
        if "last_error" in values:
            values["last_error"] = str(values["last_error"])[:_ERROR_LIMIT]
        row.job = _unlocked(row.job, status, **values)
        if finished_at is not None:
            row.finished_at = finished_at
        return True

    def retry(self, job: Job, *, error: str, at: datetime, now: datetime) -> JobStatus | None:
        if job.exhausted:
            held = self.let_go(job, JobStatus.DEAD, last_error=error, finished_at=now)
            return JobStatus.DEAD if held else None
        held = self.let_go(job, JobStatus.PENDING, run_at=at, last_error=error)
        return JobStatus.PENDING if held else None

    def release(self, job: Job, *, at: datetime) -> bool:
        row = self._rows.get(job.id)
        attempts = row.job.attempts - 1 if row is not None else 0
        return self.let_go(job, JobStatus.PENDING, run_at=at, attempts=attempts)

    def cancel_pending(
        self, *, shop: str, idempotency_key: str, reason: str, now: datetime
    ) -> Job | None:
        """Finish a pending job without running it (:func:`.outbox.cancel_pending`)."""
        row = self._row(shop, idempotency_key)
        if row is None or row.job.status != JobStatus.PENDING:
            return None
        row.job = replace(row.job, status=JobStatus.DONE, last_error=f"cancelled: {reason}")
        row.finished_at = now
        return row.job

    def by_key(self, *, shop: str, idempotency_key: str) -> Job | None:
        row = self._row(shop, idempotency_key)
        return None if row is None else row.job

    def get(self, job_id: int) -> Job | None:
        row = self._rows.get(job_id)
        return None if row is None else row.job

    def find(
        self,
        *,
        shop: str | None = None,
        status: JobStatus | None = None,
        kind: str | None = None,
        limit: int = 100,
    ) -> list[Job]:
        found = [
            row.job
            for _, row in sorted(self._rows.items())
            if (shop is None or row.job.shop == shop)
            and (status is None or row.job.status == status)
            and (kind is None or row.job.kind == kind)
        ]
        return found[:limit]

    def stats(self) -> dict[JobStatus, int]:
        counts = dict.fromkeys(JobStatus, 0)
        for row in self._rows.values():
            counts[row.job.status] += 1
        return counts

    def _row(self, shop: str, idempotency_key: str) -> _Row | None:
        job_id = self._keys.get((shop, idempotency_key))
        return None if job_id is None else self._rows[job_id]


def _expired(job: Job, now: datetime) -> bool:
    return (
        job.status == JobStatus.CLAIMED and job.locked_until is not None and job.locked_until <= now
    )


def _due(job: Job, now: datetime) -> bool:
    if job.status == JobStatus.PENDING:
        return job.run_at <= now
    return _expired(job, now) and job.attempts < job.max_attempts


def _holds(current: Job, claim: Job) -> bool:
    return (
        current.status == JobStatus.CLAIMED
        and current.locked_by == claim.locked_by
        and current.attempts == claim.attempts
    )


def _unlocked(job: Job, status: JobStatus, **values: Any) -> Job:
    return replace(job, status=status, locked_by=None, locked_until=None, **values)
