"""The job loop: claim due jobs from the store's outbox, run them, record the outcome.

Several threads per process and several processes per database may run it; the store's leases
make sure no two of them hold the same job, and a worker that dies (even by SIGKILL) loses its
lease, so the job comes back after ``lease_seconds``. The handlers are idempotent
(:mod:`.effects`), so a job interrupted after its platform call is finished by the next claim
without doing anything twice.

Outcomes per error:

* :class:`~aftersale_kit.core.errors.RateLimitedError`: handed back until its ``retry_after``,
  without counting the attempt;
* NotAuthorized / InvalidRequest / Payload / Config errors and :class:`PermanentJobError`: dead
  letter with the reason (retrying cannot help; :meth:`Store.requeue` revives it after a fix);
* anything else (5xx, timeouts, the database): exponential back-off, dead when exhausted.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from datetime import timedelta

from ..core.errors import (
    ConfigError,
    InvalidRequestError,
    NotAuthorizedError,
    PayloadError,
    RateLimitedError,
)
from ..storage import Job, JobKind, JobStatus, backoff_delay
from ..storage.ports import Prunable
from .effects import PermanentJobError, Processor
from .followups import has_follow_ups
from .logs import log_event
from .loyalty import LoyaltySweeper, sweep
from .mail_sweep import MessageSender, MessageSweeper
from .metrics import Metrics
from .retention import Pruner, Retention

__all__ = ["Worker"]

#: 30 days of raw bodies, a year of dedupe keys, pruned hourly (:mod:`.retention`).
DEFAULT_RETENTION = Retention()

_PERMANENT = (PermanentJobError, NotAuthorizedError, InvalidRequestError, PayloadError, ConfigError)
_COMPLIANCE_TOPICS = ("customers/data_request", "customers/redact", "shop/redact")


class Worker:
    """Runs jobs with ``threads`` threads until :meth:`stop`."""

    def __init__(
        self,
        processor: Processor,
        *,
        metrics: Metrics | None = None,
        threads: int = 4,
        batch: int = 5,
        lease_seconds: float = 60.0,
        poll_interval: float = 0.2,
        retry_base: float = 2.0,
        retry_cap: float = 3600.0,
        name: str | None = None,
        retention: Retention | None = DEFAULT_RETENTION,
        loyalty_interval: float | None = 600.0,
        message_interval: float | None = 5.0,
        message_batch: int = 50,
    ) -> None:
        self.processor = processor
        self.store = processor.store
        self.metrics = metrics or Metrics()
        self.threads = threads
        self.batch = batch
        self.lease_seconds = lease_seconds
        self.poll_interval = poll_interval
        self.retry_base = retry_base
        self.retry_cap = retry_cap
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        #: Prunes old webhook bodies and keys on its own schedule (``None``: never, or a store
        #: that keeps nothing to prune, such as the in-memory one).
        self.pruner = (
            Pruner(self.store, retention, clock=lambda: self.processor.clock())
            if retention is not None and isinstance(self.store, Prunable)
            else None
        )
        #: Books the loyalty releases and expiries due, every ``loyalty_interval`` seconds
        #: (``None``: never; only when a shop has a ``loyalty:`` program).
        self.sweeper = (
            LoyaltySweeper(lambda: sweep(self.processor), interval=loyalty_interval)
            if loyalty_interval and any(e.config.loyalty for e in processor.registry)
            else None
        )
        #: Sends the follow-up e-mails due, every ``message_interval`` seconds and at once again
        #: while messages are due (``None``: never; only when a shop has a ``follow_up``).
        self.messages = (
            MessageSweeper(
                MessageSender(processor, metrics=self.metrics, worker_id=f"{self.name}:mail"),
                interval=message_interval,
                batch=message_batch,
                lease_seconds=max(lease_seconds, 1.0),
            )
            if message_interval and any(has_follow_ups(e) for e in processor.registry)
            else None
        )

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> Worker:
        self._stop.clear()
        for i in range(self.threads):
            t = threading.Thread(
                target=self._loop, args=(f"{self.name}:{i}",), name=f"aftersale-worker-{i}"
            )
            t.daemon = True
            t.start()
            self._threads.append(t)
        if self.pruner is not None:
            self.pruner.start()
        if self.sweeper is not None:
            self.sweeper.start()
        if self.messages is not None:
            self.messages.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self.pruner is not None:
            self.pruner.stop(timeout)
        if self.sweeper is not None:
            self.sweeper.stop(timeout)
        if self.messages is not None:
            self.messages.stop(timeout)
        for t in self._threads:
            t.join(timeout)
        self._threads.clear()

    def _loop(self, worker_id: str) -> None:
        while not self._stop.is_set():
            try:
                ran = self.run_once(worker_id)
            except Exception as exc:  # the database is away: wait and try again
                log_event(logging.WARNING, "claim failed", error=type(exc).__name__)
                ran = 0
            if not ran:
                self._stop.wait(self.poll_interval)

    # -- one round --------------------------------------------------------------------------------

    def run_once(self, worker_id: str | None = None) -> int:
        """Claim and run up to ``batch`` due jobs; returns how many were claimed."""
        jobs = self.store.claim(
            worker_id=worker_id or self.name, limit=self.batch, lease_seconds=self.lease_seconds
        )
        for job in jobs:
            if self._stop.is_set():
                self.store.release(job)
                continue
            self.run_job(job)
        return len(jobs)

    def run_until_idle(self, *, timeout: float = 30.0) -> None:
        """Run jobs in this thread until none is due (for tests and ``reconcile``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.run_once():
                return
        raise TimeoutError(f"jobs still due after {timeout} s")

    def run_job(self, job: Job) -> None:
        kind = job.kind
        started = time.perf_counter()
        try:
            if self._dropped(job):
                self.store.dead(job, error="the shop uninstalled the app; job dropped")
                self.metrics.jobs.labels(kind, "dropped").inc()
                return
            self.processor.handle(job)
        except RateLimitedError as exc:
            # Throttling is the platform asking to wait, not a failure: the attempt is not
            # counted, so a busy shop never sends a job to the dead letters.
            at = self.processor.clock() + timedelta(seconds=max(exc.retry_after, 0.01))
            self.store.release(job, at=at)
            self.metrics.jobs.labels(kind, "throttled").inc()
        except _PERMANENT as exc:
            self.store.dead(job, error=_reason(exc))
            self.metrics.jobs.labels(kind, "dead").inc()
            log_event(
                logging.ERROR,
                "job dead",
                job_id=job.id,
                kind=kind,
                shop=job.shop,
                error=_reason(exc),
            )
        except Exception as exc:
            delay = backoff_delay(
                job.attempts,
                base=timedelta(seconds=self.retry_base),
                cap=timedelta(seconds=self.retry_cap),
                jitter_key=str(job.id),
            )
            at = self.processor.clock() + delay
            self._retry(job, exc, self.store.retry(job, error=_reason(exc), at=at))
        else:
            self.store.complete(job)
            self.metrics.jobs.labels(kind, "processed").inc()
        finally:
            self.metrics.effect_seconds.labels(kind).observe(time.perf_counter() - started)

    def _retry(self, job: Job, exc: Exception, status: JobStatus | None) -> None:
        outcome = "dead" if status == JobStatus.DEAD else "retried"
        self.metrics.jobs.labels(job.kind, "failed").inc()
        self.metrics.jobs.labels(job.kind, outcome).inc()
        log_event(
            logging.WARNING if outcome == "retried" else logging.ERROR,
            f"job {outcome}",
            job_id=job.id,
            kind=job.kind,
            shop=job.shop,
            attempts=job.attempts,
            error=_reason(exc),
        )

    def _dropped(self, job: Job) -> bool:
        if not self.processor.uninstalled(job.shop):
            return False
        return not (
            job.kind == JobKind.PROCESS_EVENT and job.payload.get("topic") in _COMPLIANCE_TOPICS
        )


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]
