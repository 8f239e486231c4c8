"""The follow-up link methods of :class:`~.memory.MemoryStore` (:class:`~.ports.LinkStore`),
in dicts behind the store's lock; the same behaviour as :mod:`._links_store`."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from ._memory_queue import MemoryQueue
from ._sql import aware
from .links import Consent, LinkJob, Suppression, SurveyAnswer, SurveyForm, SurveyOutcome

__all__ = ["MemoryLinks"]

JobsFor = Callable[[SurveyAnswer], Sequence[LinkJob]]


def _no_jobs(answer: SurveyAnswer) -> Sequence[LinkJob]:
    return ()


@dataclass(slots=True)
class _Rows:
    nonces: set[tuple[str, str]] = field(default_factory=set)
    answers: dict[tuple[str, str], SurveyAnswer] = field(default_factory=dict)
    consents: dict[tuple[str, str], Consent] = field(default_factory=dict)
    suppressions: dict[tuple[str, str], Suppression] = field(default_factory=dict)


class MemoryLinks:
    """Mixed into the memory store (with :class:`~._memory_messages.MemoryMessages`)."""

    _lock: threading.RLock
    _queue: MemoryQueue
    #: From :class:`~._memory_messages.MemoryMessages` (shop, address, reason, now).
    cancel_address: Callable[[str, str, str, datetime], int]

    def _links(self) -> _Rows:
        rows: _Rows = self.__dict__.setdefault("_link_rows", _Rows())
        return rows

    def _enqueue_all(self, shop: str, jobs: Sequence[LinkJob], now: datetime) -> None:
        for job in jobs:
            self._queue.enqueue(
                shop=shop,
                kind=job.kind,
                idempotency_key=job.idempotency_key,
                payload=job.payload,
                run_at=now,
            )

    def spend_link_nonce(
        self,
        *,
        shop: str,
        nonce: str,
        purpose: str,
        subject: str,
        jobs: Sequence[LinkJob] = (),
        now: datetime | None = None,
    ) -> bool:
        now = aware(now, "now")
        with self._lock:
            rows = self._links()
            if (shop, nonce) in rows.nonces:
                return False
            rows.nonces.add((shop, nonce))
            self._enqueue_all(shop, jobs, now)
            return True

    def record_survey_rating(
        self,
        *,
        shop: str,
        order_id: str,
        nonce: str,
        rating: int,
        shipping_method: str | None = None,
        jobs_for: JobsFor = _no_jobs,
        now: datetime | None = None,
    ) -> SurveyOutcome:
        now = aware(now, "now")
        with self._lock:
            rows = self._links()
            found = rows.answers.get((shop, order_id))
            if found is not None:
                return SurveyOutcome(found, stored=False)
            answer = SurveyAnswer(
                shop=shop,
                order_id=order_id,
                rating=rating,
                rated_at=now,
                shipping_method=shipping_method,
            )
            rows.answers[(shop, order_id)] = answer
            rows.nonces.add((shop, nonce))
            self._enqueue_all(shop, jobs_for(answer), now)
            return SurveyOutcome(answer, stored=True)

    def record_survey_form(
        self,
        *,
        shop: str,
        order_id: str,
        form: SurveyForm,
        jobs_for: JobsFor = _no_jobs,
        now: datetime | None = None,
    ) -> SurveyOutcome | None:
        now = aware(now, "now")
        with self._lock:
            rows = self._links()
            found = rows.answers.get((shop, order_id))
            if found is None:
                return None
            if found.answered_at is not None:
                return SurveyOutcome(found, stored=False)
            answer = dataclasses.replace(found, form=form, answered_at=now)
            rows.answers[(shop, order_id)] = answer
            self._enqueue_all(shop, jobs_for(answer), now)
            return SurveyOutcome(answer, stored=True)

    def survey_answer(self, shop: str, order_id: str) -> SurveyAnswer | None:
        with self._lock:
            return self._links().answers.get((shop, order_id))

    def survey_answers(self, shop: str, *, since: datetime) -> list[SurveyAnswer]:
        since = aware(since, "since")
        with self._lock:
            found = [
                a for a in self._links().answers.values() if a.shop == shop and a.rated_at >= since
            ]
        return sorted(found, key=lambda a: (a.rated_at, a.order_id))

    def request_consent(
        self,
        *,
        shop: str,
        subject: str,
        email: str,
        customer_id: str | None,
        source: str,
        text_version: str,
        now: datetime | None = None,
    ) -> Consent:
        now = aware(now, "now")
        with self._lock:
            return self._links().consents.setdefault(
                (shop, subject),
                Consent(
                    shop=shop,
                    subject=subject,
                    email=email.strip().lower(),
                    customer_id=customer_id,
                    source=source,
                    text_version=text_version,
                    requested_at=now,
                ),
            )

    def confirm_consent(
        self,
        *,
        shop: str,
        subject: str,
        jobs: Sequence[LinkJob] = (),
        now: datetime | None = None,
    ) -> tuple[Consent, bool] | None:
        now = aware(now, "now")
        with self._lock:
            rows = self._links()
            found = rows.consents.get((shop, subject))
            if found is None:
                return None
            if found.confirmed_at is not None:
                return found, False
            confirmed = dataclasses.replace(found, confirmed_at=now)
            rows.consents[(shop, subject)] = confirmed
            rows.suppressions.pop((shop, found.email), None)
            self._enqueue_all(shop, jobs, now)
            return confirmed, True

    def consent(self, shop: str, subject: str) -> Consent | None:
        with self._lock:
            return self._links().consents.get((shop, subject))

    def confirmed_consent(self, shop: str, email: str) -> Consent | None:
        address = email.strip().lower()
        with self._lock:
            found = [
                c
                for c in self._links().consents.values()
                if c.shop == shop and c.email == address
                and c.confirmed_at is not None and c.withdrawn_at is None
            ]  # fmt: skip
        return min(found, key=lambda c: c.confirmed_at or c.requested_at) if found else None

    def unsubscribe(
        self,
        shop: str,
        email: str,
        reason: str,
        *,
        subject: str | None = None,
        jobs: Sequence[LinkJob] = (),
        now: datetime | None = None,
    ) -> int:
        now = aware(now, "now")
        address = email.strip().lower()
        with self._lock:
            rows = self._links()
            if (shop, address) not in rows.suppressions:
                rows.suppressions[(shop, address)] = Suppression(
                    shop=shop, email=address, reason=reason[:255], created_at=now, subject=subject
                )
                self._enqueue_all(shop, jobs, now)
            for key, c in list(rows.consents.items()):
                if c.shop == shop and c.email == address and c.withdrawn_at is None:
                    rows.consents[key] = dataclasses.replace(c, withdrawn_at=now)
            return self.cancel_address(shop, address, f"unsubscribed: {reason}", now)

    def is_unsubscribed(self, shop: str, email: str) -> bool:
        return self.suppression(shop, email) is not None

    def suppression(self, shop: str, email: str) -> Suppression | None:
        with self._lock:
            return self._links().suppressions.get((shop, email.strip().lower()))
