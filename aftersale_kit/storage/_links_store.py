"""The follow-up link methods of the SQL :class:`~.store.Store` (:class:`~.ports.LinkStore`).

Every write is one transaction; "the first time" is decided by the database (``INSERT ... ON
CONFLICT DO NOTHING RETURNING``, ``UPDATE ... WHERE ... IS NULL RETURNING``), so two clicks at
the same instant on two service processes store one answer and enqueue its jobs once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, select, update

from . import messages, outbox
from ._sql import aware, insert_ignore
from .db import Database
from .links import Consent, LinkJob, Suppression, SurveyAnswer, SurveyForm, SurveyOutcome
from .tables import consents, link_nonces, suppressions, survey_answers

__all__ = ["NO_JOBS", "LinkMethods", "answer_from_row"]

JobsFor = Callable[[SurveyAnswer], Sequence[LinkJob]]


def NO_JOBS(answer: SurveyAnswer) -> Sequence[LinkJob]:
    return ()


def _enqueue(conn: Connection, shop: str, jobs: Sequence[LinkJob], now: datetime) -> None:
    for job in jobs:
        outbox.enqueue(
            conn,
            shop=shop,
            kind=job.kind,
            idempotency_key=job.idempotency_key,
            payload=job.payload,
            run_at=now,
            now=now,
        )


def answer_from_row(row: Row[Any]) -> SurveyAnswer:
    """A ``survey_answers`` row as a :class:`SurveyAnswer`."""
    m = row._mapping
    return SurveyAnswer(
        shop=m["shop"],
        order_id=m["order_id"],
        rating=int(m["rating"]),
        rated_at=m["rated_at"],
        form=SurveyForm(
            satisfied=m["satisfied"],
            delivery_ok=m["delivery_ok"],
            payment_ok=m["payment_ok"],
            wait=m["wait"],
            comment=m["comment"],
        ),
        shipping_method=m["shipping_method"],
        answered_at=m["answered_at"],
    )


def _consent(row: Row[Any]) -> Consent:
    m = row._mapping
    return Consent(
        shop=m["shop"],
        subject=m["subject"],
        email=m["email"],
        customer_id=m["customer_id"],
        source=m["source"],
        text_version=m["text_version"],
        requested_at=m["requested_at"],
        confirmed_at=m["confirmed_at"],
        withdrawn_at=m["withdrawn_at"],
    )


def _spend(
    conn: Connection, shop: str, nonce: str, purpose: str, subject: str, now: datetime
) -> bool:
    stmt = insert_ignore(conn, link_nonces, "shop", "nonce").returning(link_nonces.c.nonce)
    row = conn.execute(
        stmt,
        {"shop": shop, "nonce": nonce, "purpose": purpose, "subject": subject, "used_at": now},
    ).first()
    return row is not None


def _survey_row(conn: Connection, shop: str, order_id: str) -> Row[Any] | None:
    t = survey_answers
    return conn.execute(select(t).where(t.c.shop == shop, t.c.order_id == order_id)).first()


class LinkMethods:
    """Mixed into :class:`~.store.Store`."""

    db: Database

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
        """Record a link's nonce as spent; ``True`` (and ``jobs`` enqueued) the first time."""
        now = aware(now, "now")
        with self.db.write() as conn:
            first = _spend(conn, shop, nonce, purpose, subject, now)
            if first:
                _enqueue(conn, shop, jobs, now)
            return first

    def record_survey_rating(
        self,
        *,
        shop: str,
        order_id: str,
        nonce: str,
        rating: int,
        shipping_method: str | None = None,
        jobs_for: JobsFor = NO_JOBS,
        now: datetime | None = None,
    ) -> SurveyOutcome:
        """Store the one-click rating once per order (a later click gets the stored answer)."""
        now = aware(now, "now")
        values = {
            "shop": shop,
            "order_id": order_id,
            "rating": rating,
            "shipping_method": shipping_method,
            "rated_at": now,
        }
        with self.db.write() as conn:
            stmt = insert_ignore(conn, survey_answers, "shop", "order_id")
            inserted = conn.execute(stmt.returning(survey_answers.c.order_id), values).first()
            row = _survey_row(conn, shop, order_id)
            assert row is not None
            answer = answer_from_row(row)
            if inserted is not None:
                _spend(conn, shop, nonce, "survey", order_id, now)
                _enqueue(conn, shop, jobs_for(answer), now)
            return SurveyOutcome(answer, stored=inserted is not None)

    def record_survey_form(
        self,
        *,
        shop: str,
        order_id: str,
        form: SurveyForm,
        jobs_for: JobsFor = NO_JOBS,
        now: datetime | None = None,
    ) -> SurveyOutcome | None:
        """Store the short form once; ``None`` when the order has no rating yet."""
        now = aware(now, "now")
        t = survey_answers
        with self.db.write() as conn:
            changed = conn.execute(
                update(t)
                .where(t.c.shop == shop, t.c.order_id == order_id, t.c.answered_at.is_(None))
                .values(
                    satisfied=form.satisfied,
                    delivery_ok=form.delivery_ok,
                    payment_ok=form.payment_ok,
                    wait=form.wait,
                    comment=form.comment,
                    answered_at=now,
                )
                .returning(t.c.order_id)
            ).first()
            row = _survey_row(conn, shop, order_id)
            if row is None:
                return None
            answer = answer_from_row(row)
            if changed is not None:
                _enqueue(conn, shop, jobs_for(answer), now)
            return SurveyOutcome(answer, stored=changed is not None)

    def survey_answer(self, shop: str, order_id: str) -> SurveyAnswer | None:
        with self.db.read() as conn:
            row = _survey_row(conn, shop, order_id)
        return answer_from_row(row) if row is not None else None

    def survey_answers(self, shop: str, *, since: datetime) -> list[SurveyAnswer]:
        """The shop's answers rated at or after ``since``, oldest first."""
        t = survey_answers
        query = (
            select(t)
            .where(t.c.shop == shop, t.c.rated_at >= aware(since, "since"))
            .order_by(t.c.rated_at, t.c.order_id)
        )
        with self.db.read() as conn:
            return [answer_from_row(row) for row in conn.execute(query)]

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
        """Record a newsletter signup waiting for confirmation (once per subject)."""
        now = aware(now, "now")
        values = {
            "shop": shop,
            "subject": subject,
            "email": email.strip().lower(),
            "customer_id": customer_id,
            "source": source,
            "text_version": text_version,
            "requested_at": now,
            "confirmed_at": None,
        }
        with self.db.write() as conn:
            conn.execute(insert_ignore(conn, consents, "shop", "subject"), values)
            row = conn.execute(
                select(consents).where(consents.c.shop == shop, consents.c.subject == subject)
            ).one()
            return _consent(row)

    def confirm_consent(
        self,
        *,
        shop: str,
        subject: str,
        jobs: Sequence[LinkJob] = (),
        now: datetime | None = None,
    ) -> tuple[Consent, bool] | None:
        """Mark the signup confirmed (once: ``True`` and ``jobs`` enqueued the first time);
        ``None`` when there is no signup for ``subject``."""
        now = aware(now, "now")
        t = consents
        with self.db.write() as conn:
            changed = conn.execute(
                update(t)
                .where(t.c.shop == shop, t.c.subject == subject, t.c.confirmed_at.is_(None))
                .values(confirmed_at=now)
                .returning(t.c.subject)
            ).first()
            row = conn.execute(select(t).where(t.c.shop == shop, t.c.subject == subject)).first()
            if row is None:
                return None
            if changed is not None:
                # a confirmed double opt-in after an unsubscribe lifts it: the customer asked
                s = suppressions
                conn.execute(delete(s).where(s.c.shop == shop, s.c.email == row.email))
                _enqueue(conn, shop, jobs, now)
            return _consent(row), changed is not None

    def consent(self, shop: str, subject: str) -> Consent | None:
        t = consents
        with self.db.read() as conn:
            row = conn.execute(select(t).where(t.c.shop == shop, t.c.subject == subject)).first()
        return _consent(row) if row is not None else None

    def confirmed_consent(self, shop: str, email: str) -> Consent | None:
        """The earliest confirmed double opt-in of ``email`` not withdrawn (compared in lower
        case): what the contact policy counts as consent."""
        t = consents
        query = (
            select(t)
            .where(t.c.shop == shop, t.c.email == email.strip().lower())
            .where(t.c.confirmed_at.is_not(None), t.c.withdrawn_at.is_(None))
            .order_by(t.c.confirmed_at)
            .limit(1)
        )
        with self.db.read() as conn:
            row = conn.execute(query).first()
        return _consent(row) if row is not None else None

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
        """Put ``email`` on the shop's suppression list (the first reason stays), withdraw its
        double opt-ins and cancel every message still waiting for it, in one transaction;
        returns how many messages were cancelled. ``jobs`` are enqueued in the same
        transaction, only when this call put the address on the list (a second click: none)."""
        now = aware(now, "now")
        address = email.strip().lower()
        values = {
            "shop": shop,
            "email": address,
            "reason": reason[:255],
            "subject": subject,
            "created_at": now,
        }
        c = consents
        with self.db.write() as conn:
            stmt = insert_ignore(conn, suppressions, "shop", "email")
            added = conn.execute(stmt.returning(suppressions.c.email), values).first()
            if added is not None:
                _enqueue(conn, shop, jobs, now)
            conn.execute(
                update(c)
                .where(c.c.shop == shop, c.c.email == address, c.c.withdrawn_at.is_(None))
                .values(withdrawn_at=now)
            )
            return messages.cancel(
                conn, shop, reason=f"unsubscribed: {reason}", now=now, email=address
            )

    def is_unsubscribed(self, shop: str, email: str) -> bool:
        return self.suppression(shop, email) is not None

    def suppression(self, shop: str, email: str) -> Suppression | None:
        t = suppressions
        where = (t.c.shop == shop, t.c.email == email.strip().lower())
        with self.db.read() as conn:
            row = conn.execute(select(t).where(*where)).first()
        if row is None:
            return None
        return Suppression(**row._mapping)
