"""The follow-up part of a customer's export and erasure (:mod:`.compliance`): their messages,
newsletter consents, suppression entries, survey answers and the complaints those raised.

Whose rows: messages under one of the customer's keys, to one of their addresses or about one
of their orders; survey answers and complaints of their orders; consents of their addresses,
their customer id or their orders (a signup's subject is the order); suppression entries of
their addresses. Their addresses are the e-mail the caller names plus those the store holds
for them (on their messages, on their orders' facts, on their consents).

The export leaves out of a message's stored template data what is not the customer's (the
shop's settings, such as a pre-sale's name and link or a reminder's interval, and internal
keys); it keeps the name, language, consent flag, order number, products and shipping method.

Erasure keeps what the shop's results need and nothing that says who: a message keeps its
kind, campaign, purpose, times, state and Message-ID, loses address, template data and the
server's reply, its customer key becomes the pseudonym and the address is masked in its reason
(a server's reply may quote it); a survey answer keeps its rating and the form's yes/no and
waiting-time answers (the survey report) and loses its free comment; consents and suppression
entries are deleted. The complaint jobs carry only the order id and are not touched. Each row
is erased once: a second request counts nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, func, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from ..core.contact.policy import normalise_email
from ._links_store import answer_from_row
from .links import SurveyAnswer
from .message_records import PENDING_STATES, MessageState
from .tables import consents, jobs, messages, order_facts, suppressions, survey_answers

__all__ = ["export_follow_ups", "redact_follow_ups"]

#: What a message's template data may hold of the customer's own (the rest is the shop's).
CUSTOMER_DATA = (
    "to_name",
    "locale",
    "accepts_marketing",
    "order_number",
    "products",
    "shipping_method",
)
#: What takes the place of an address in an erased message's reason.
MASK = "[redacted]"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _ids(keys: Sequence[str]) -> list[str]:
    """The customer ids among the keys (the rest are ``email:<address>`` keys)."""
    return [k for k in keys if not k.startswith("email:")]


def _messages_of(
    shop: str, keys: Sequence[str], email: str | None, orders: Sequence[str]
) -> ColumnElement[bool]:
    m = messages.c
    who: list[ColumnElement[bool]] = [m.customer_key.in_(list(keys)), m.order_id.in_(list(orders))]
    if email and email.strip():
        who.append(func.lower(m.email) == normalise_email(email))
    return and_(m.shop == shop, or_(*who))


def _addresses(
    conn: Connection, shop: str, keys: Sequence[str], email: str | None, orders: Sequence[str]
) -> list[str]:
    """Every address the store holds for the customer, normalised."""
    found = {k[len("email:") :] for k in keys if k.startswith("email:")}
    if email and email.strip():
        found.add(normalise_email(email))
    queries = (
        select(messages.c.email).where(_messages_of(shop, keys, email, orders)),
        select(order_facts.c.email).where(
            order_facts.c.shop == shop, order_facts.c.order_id.in_(list(orders))
        ),
        select(consents.c.email).where(
            consents.c.shop == shop,
            or_(consents.c.customer_id.in_(_ids(keys)), consents.c.subject.in_(list(orders))),
        ),
    )
    for query in queries:
        found.update(normalise_email(a) for a in conn.execute(query).scalars() if a)
    return sorted(found)


def _consents_of(
    shop: str, keys: Sequence[str], addresses: Sequence[str], orders: Sequence[str]
) -> ColumnElement[bool]:
    c = consents.c
    return and_(
        c.shop == shop,
        or_(
            c.email.in_(list(addresses)),
            c.customer_id.in_(_ids(keys)),
            c.subject.in_(list(orders)),
        ),
    )


def _message(row: Any) -> dict[str, Any]:
    m = row._mapping
    try:
        data = _json_object(m["data"])
    except ValueError:
        data = {}
    return {
        "order_id": m["order_id"],
        "kind": m["kind"],
        "template": m["template"],
        "campaign_id": m["campaign_id"],
        "occurrence": int(m["occurrence"]),
        "purpose": m["purpose"],
        "email": m["email"],
        "due_at": _iso(m["due_at"]),
        "sent_at": _iso(m["sent_at"]),
        "state": m["state"],
        "reason": m["reason"],
        "message_id": m["message_id"],
        "data": {k: data[k] for k in CUSTOMER_DATA if data.get(k) is not None},
    }


def _json_object(text: str) -> Mapping[str, Any]:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("not an object")
    return value


def _answer_dict(a: SurveyAnswer) -> dict[str, Any]:
    return {
        "order_id": a.order_id,
        "rating": a.rating,
        "rated_at": _iso(a.rated_at),
        "satisfied": a.form.satisfied,
        "delivery_ok": a.form.delivery_ok,
        "payment_ok": a.form.payment_ok,
        "wait": a.form.wait,
        "comment": a.form.comment,
        "answered_at": _iso(a.answered_at),
    }


def _complaint(conn: Connection, shop: str, a: SurveyAnswer) -> dict[str, Any]:
    """A complaint the answer raised: why, and what was done about it (its jobs)."""
    j = jobs.c
    rows = conn.execute(
        select(j.kind, j.status, j.created_at, j.finished_at)
        .where(j.shop == shop)
        .where(j.idempotency_key.startswith(f"complaint:{a.order_id}:", autoescape=True))
        .order_by(j.id)
    ).all()
    why = a.complaint_reasons()
    return {
        "order_id": a.order_id,
        "reasons": why,
        "raised_at": _iso(min((r.created_at for r in rows), default=None)),
        "actions": [
            {
                "kind": r.kind,
                "status": r.status,
                "created_at": _iso(r.created_at),
                "finished_at": _iso(r.finished_at),
            }
            for r in rows
        ],
    }


def export_follow_ups(
    conn: Connection, *, shop: str, keys: Sequence[str], email: str | None, orders: Sequence[str]
) -> dict[str, Any]:
    """The export's follow-up sections: ``messages``, ``consents``, ``suppressions``,
    ``survey_answers`` and ``complaints``."""
    addresses = _addresses(conn, shop, keys, email, orders)
    message_rows = conn.execute(
        select(messages)
        .where(_messages_of(shop, keys, email, orders))
        .order_by(messages.c.due_at, messages.c.id)
    )
    consent_rows = conn.execute(
        select(consents)
        .where(_consents_of(shop, keys, addresses, orders))
        .order_by(consents.c.requested_at, consents.c.subject)
    )
    suppression_rows = conn.execute(
        select(suppressions)
        .where(suppressions.c.shop == shop, suppressions.c.email.in_(addresses))
        .order_by(suppressions.c.created_at, suppressions.c.email)
    )
    answers = [
        answer_from_row(r)
        for r in conn.execute(
            select(survey_answers)
            .where(survey_answers.c.shop == shop, survey_answers.c.order_id.in_(list(orders)))
            .order_by(survey_answers.c.rated_at, survey_answers.c.order_id)
        )
    ]
    return {
        "messages": [_message(r) for r in message_rows],
        "consents": [
            {
                "email": m["email"],
                "customer_id": m["customer_id"],
                "subject": m["subject"],
                "source": m["source"],
                "text_version": m["text_version"],
                "requested_at": _iso(m["requested_at"]),
                "confirmed_at": _iso(m["confirmed_at"]),
                "withdrawn_at": _iso(m["withdrawn_at"]),
            }
            for m in (r._mapping for r in consent_rows)
        ],
        "suppressions": [
            {
                "email": m["email"],
                "reason": m["reason"],
                "subject": m["subject"],
                "created_at": _iso(m["created_at"]),
            }
            for m in (r._mapping for r in suppression_rows)
        ],
        "survey_answers": [_answer_dict(a) for a in answers],
        "complaints": [_complaint(conn, shop, a) for a in answers if a.complaint],
    }


def _mask(text: str, addresses: Sequence[str]) -> str:
    for address in addresses:
        text = re.sub(re.escape(address), MASK, text, flags=re.IGNORECASE)
    return text


def _erase_messages(
    conn: Connection,
    *,
    shop: str,
    keys: Sequence[str],
    email: str | None,
    orders: Sequence[str],
    addresses: Sequence[str],
    pseudonym: str,
    now: datetime,
) -> int:
    """Cancel what still waits, then erase who each message was for; returns rows erased."""
    m = messages.c
    mine = _messages_of(shop, keys, email, orders)
    conn.execute(
        update(messages)
        .where(mine, m.state.in_(PENDING_STATES), m.handed_over_at.is_(None))
        .values(
            state=MessageState.CANCELLED.value,
            reason="customer redacted",
            leased_by=None,
            leased_until=None,
            updated_at=now,
        )
    )
    says_who = or_(
        m.email.is_not(None),
        m.data != "{}",
        m.reply.is_not(None),
        m.customer_key.in_(list(keys)),
        *(func.lower(m.reason).contains(a, autoescape=True) for a in addresses),
    )
    rows = conn.execute(select(m.id, m.reason).where(mine, says_who)).all()
    for row in rows:
        reason = _mask(row.reason, addresses) if row.reason is not None else None
        conn.execute(
            update(messages)
            .where(m.id == row.id)
            .values(
                email=None,
                data="{}",
                reply=None,
                reason=reason,
                customer_key=pseudonym,
                updated_at=now,
            )
        )
    return len(rows)


def redact_follow_ups(
    conn: Connection,
    *,
    shop: str,
    keys: Sequence[str],
    email: str | None,
    orders: Sequence[str],
    pseudonym: str,
    now: datetime,
) -> dict[str, int]:
    """Erase the customer's follow-up data; returns rows touched per table."""
    addresses = _addresses(conn, shop, keys, email, orders)
    counts = {
        "messages": _erase_messages(
            conn,
            shop=shop,
            keys=keys,
            email=email,
            orders=orders,
            addresses=addresses,
            pseudonym=pseudonym,
            now=now,
        )
    }
    counts["consents"] = conn.execute(
        delete(consents).where(_consents_of(shop, keys, addresses, orders))
    ).rowcount
    counts["suppressions"] = conn.execute(
        delete(suppressions).where(
            suppressions.c.shop == shop,
            suppressions.c.email.in_(addresses),
        )
    ).rowcount
    s = survey_answers.c
    counts["survey_answers"] = conn.execute(
        update(survey_answers)
        .where(s.shop == shop, s.order_id.in_(list(orders)), s.comment.is_not(None))
        .values(comment=None)
    ).rowcount
    return counts
