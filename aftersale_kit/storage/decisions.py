"""Decide once per (shop, order, event kind), booking limits and budgets in the same transaction."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, select

from ..core.campaign import FreeGift, IssueCoupon, ShowBlock, TagOrder
from ..core.contact.follow_up import FollowUp
from ..core.contact.presale import VipPresale, presale_key
from ..core.decision import Decision, PlannedAction
from ..core.loyalty.actions import AwardPoints, Stamp
from ..core.model import EventKind
from ..core.ports import Counters
from . import coupons, ledger, outbox
from ._sql import insert_ignore, statement
from .codec import decision_from_json, decision_to_json, planned_action_to_dict
from .db import Database
from .records import DecisionRecord, JobKind
from .tables import decisions

__all__ = [
    "PLAN_FOLLOW_UP",
    "TAG_CUSTOMER",
    "UNTAG_CUSTOMER",
    "content_key",
    "decide_locked",
    "decide_once",
    "effect_kind",
    "enqueue_content",
    "for_order",
    "get",
    "has_job",
    "shop_lock_name",
]

#: The "kind" of a ``follow_up``: it gets no outbox job; the step puts its messages on the
#: schedule in its own transaction (``decide_step(follow_ups=...)``, :mod:`.messages`).
PLAN_FOLLOW_UP = "plan_follow_up"
#: The job of a ``vip_presale``: the customer's tag on the platform, once per customer and
#: pre-sale (its key is :func:`~aftersale_kit.core.contact.presale.presale_key`, not the
#: order's), and none for a guest, who has no customer record to tag.
TAG_CUSTOMER = "tag_customer"
#: Its removal when the pre-sale ends (queued by the tag job, due at the end; once per tag job,
#: and only when the customer did not have the tag before).
UNTAG_CUSTOMER = "untag_customer"


def shop_lock_name(shop: str) -> str:
    return f"shop:{shop}"


def has_job(planned: PlannedAction) -> bool:
    """Whether the planned action gets its own effect job: not a block (the order's content is
    written as a whole), not ``award_points`` or ``stamp`` (the service books them on the loyalty
    ledger with the step; a stamp card's reward gets its jobs there), not ``follow_up`` (its
    messages are planned with the step, :data:`PLAN_FOLLOW_UP`)."""
    return not isinstance(planned.action, ShowBlock | AwardPoints | Stamp | FollowUp)


def effect_kind(planned: PlannedAction) -> str:
    """The job kind that carries out a planned action (see :func:`has_job`)."""
    action = planned.action
    if isinstance(action, IssueCoupon):
        return JobKind.CREATE_COUPON.value
    if isinstance(action, ShowBlock):
        return JobKind.WRITE_CONTENT.value
    if isinstance(action, FreeGift):
        return JobKind.ADD_GIFT_NOTE.value
    if isinstance(action, TagOrder):
        return JobKind.TAG_ORDER.value
    if isinstance(action, FollowUp):
        return PLAN_FOLLOW_UP
    if isinstance(action, VipPresale):
        return TAG_CUSTOMER
    raise TypeError(f"no job kind for action {type(action).__name__}")


def job_key(planned: PlannedAction, *, shop: str, customer_key: str | None) -> str | None:
    """The outbox key of a planned action's job: the action's own key, except for a
    ``vip_presale``, whose tag is per customer (``None`` for a guest: no job)."""
    if not isinstance(planned.action, VipPresale):
        return planned.idempotency_key
    if customer_key is None or customer_key.startswith("email:"):
        return None
    return presale_key(shop, planned.campaign_id, customer_key)


def decide_once(
    db: Database,
    *,
    shop: str,
    order_id: str,
    event_kind: EventKind,
    customer_key: str | None,
    decide: Callable[[Counters], Decision],
    now: datetime,
    max_attempts: int,
    void_if_decided: Collection[EventKind] = (),
    ref: str = "",
) -> tuple[DecisionRecord, bool]:
    with db.write() as conn:
        db.lock(conn, shop_lock_name(shop))
        return decide_locked(
            conn,
            shop=shop,
            order_id=order_id,
            event_kind=event_kind,
            customer_key=customer_key,
            decide=decide,
            now=now,
            max_attempts=max_attempts,
            void_if_decided=void_if_decided,
            ref=ref,
        )


def decide_locked(
    conn: Connection,
    *,
    shop: str,
    order_id: str,
    event_kind: EventKind,
    customer_key: str | None,
    decide: Callable[[Counters], Decision],
    now: datetime,
    max_attempts: int,
    void_if_decided: Collection[EventKind] = (),
    ref: str = "",
) -> tuple[DecisionRecord, bool]:
    """:func:`decide_once` on a connection that already holds the shop lock."""
    existing = _find(conn, shop=shop, order_id=order_id, event_kind=event_kind, ref=ref)
    if existing is not None:
        return existing, False
    if _decided_any(conn, shop=shop, order_id=order_id, kinds=void_if_decided):
        # Read on the connection that holds the shop lock: a decider never takes a second
        # pooled connection while other deciders of the shop wait for the lock.
        decision = Decision(
            shop=shop,
            order_id=order_id,
            event=event_kind,
            decided_at=now,
            outcomes=(),
            actions=(),
        )
    else:
        decision = decide(ledger.LedgerCounters(conn))
    _check(decision, shop=shop, order_id=order_id, event_kind=event_kind)
    insert = statement(
        ("decisions.insert", conn.dialect.name),
        lambda: insert_ignore(conn, decisions, "shop", "order_id", "event_kind", "ref").returning(
            decisions.c.id
        ),
    )
    decision_id = conn.execute(
        insert,
        {
            "shop": shop,
            "order_id": order_id,
            "event_kind": event_kind.value,
            "customer_key": customer_key,
            "decided_at": decision.decided_at,
            "body": decision_to_json(decision),
            "ref": ref,
        },
    ).scalar_one()
    ledger.book(
        conn,
        decision=decision,
        decision_id=decision_id,
        customer_key=customer_key,
        now=now,
        ref=ref,
    )
    coupons.plan(conn, decision=decision, customer_key=customer_key, now=now)
    payload_base = {"decision_id": decision_id, "order_id": order_id}
    for planned in decision.actions:
        if not has_job(planned):
            continue  # content: one job below; loyalty: booked by the service
        key = job_key(planned, shop=shop, customer_key=customer_key)
        if key is None:
            continue  # a guest's pre-sale invitation: nobody to tag
        outbox.enqueue(
            conn,
            shop=shop,
            kind=effect_kind(planned),
            idempotency_key=key,
            payload={
                **payload_base,
                "event_kind": event_kind.value,
                "ref": ref,
                "action": planned_action_to_dict(planned),
                **({"customer_id": customer_key} if key != planned.idempotency_key else {}),
            },
            run_at=now,
            now=now,
            max_attempts=max_attempts,
        )
    if any(isinstance(p.action, ShowBlock) for p in decision.actions):
        enqueue_content(conn, shop=shop, order_id=order_id, version=f"d{decision_id}", now=now)
    record = DecisionRecord(
        id=int(decision_id),
        shop=shop,
        order_id=order_id,
        event_kind=event_kind,
        customer_key=customer_key,
        decided_at=decision.decided_at,
        decision=decision,
        ref=ref,
    )
    return record, True


def content_key(shop: str, order_id: str, version: str) -> str:
    return f"{shop}:{order_id}:content:{version}"


def enqueue_content(
    conn: Connection, *, shop: str, order_id: str, version: str, now: datetime
) -> bool:
    """Queue a rewrite of the order's content (the union of its steps' blocks); one job per
    change of the order's timeline (``version``: what changed)."""
    return outbox.enqueue(
        conn,
        shop=shop,
        kind=JobKind.WRITE_CONTENT.value,
        idempotency_key=content_key(shop, order_id, version),
        payload={"order_id": order_id},
        run_at=now,
        now=now,
        max_attempts=outbox.DEFAULT_MAX_ATTEMPTS,
    )


def _check(decision: Decision, *, shop: str, order_id: str, event_kind: EventKind) -> None:
    if not isinstance(decision, Decision):
        raise TypeError(f"decide() must return a Decision, returned {type(decision).__name__}")
    found = (decision.shop, decision.order_id, decision.event)
    if found != (shop, order_id, event_kind):
        raise ValueError(
            f"decide() returned a decision for shop={decision.shop!r} order={decision.order_id!r} "
            f"event={decision.event.value!r}, expected shop={shop!r} order={order_id!r} "
            f"event={event_kind.value!r}"
        )
    keys = [p.idempotency_key for p in decision.actions]
    if len(set(keys)) != len(keys):
        raise ValueError(f"decide() returned planned actions with repeated keys: {keys}")


def _decided_any(
    conn: Connection, *, shop: str, order_id: str, kinds: Collection[EventKind]
) -> bool:
    if not kinds:
        return False
    found = conn.execute(
        select(decisions.c.id)
        .where(
            decisions.c.shop == shop,
            decisions.c.order_id == order_id,
            decisions.c.event_kind.in_([EventKind(k).value for k in kinds]),
        )
        .limit(1)
    ).first()
    return found is not None


def _find(
    conn: Connection, *, shop: str, order_id: str, event_kind: EventKind, ref: str = ""
) -> DecisionRecord | None:
    stmt = statement(
        "decisions.find",
        lambda: select(decisions).where(
            decisions.c.shop == bindparam("shop"),
            decisions.c.order_id == bindparam("order_id"),
            decisions.c.event_kind == bindparam("event_kind"),
            decisions.c.ref == bindparam("ref"),
        ),
    )
    params = {"shop": shop, "order_id": order_id, "event_kind": event_kind.value, "ref": ref}
    row = conn.execute(stmt, params).first()
    return None if row is None else record_from_row(row)


def get(
    conn: Connection, *, shop: str, order_id: str, event_kind: EventKind, ref: str = ""
) -> DecisionRecord | None:
    return _find(conn, shop=shop, order_id=order_id, event_kind=event_kind, ref=ref)


def for_order(
    conn: Connection, *, shop: str, order_id: str, known: Sequence[DecisionRecord] = ()
) -> list[DecisionRecord]:
    """The order's decisions, oldest first; ``known``: records already in hand (by id), not
    decoded again."""
    stmt = statement(
        "decisions.for_order",
        lambda: (
            select(decisions)
            .where(
                decisions.c.shop == bindparam("shop"), decisions.c.order_id == bindparam("order_id")
            )
            .order_by(decisions.c.id)
        ),
    )
    have = {r.id: r for r in known}
    rows = conn.execute(stmt, {"shop": shop, "order_id": order_id})
    return [have.get(int(r.id)) or record_from_row(r) for r in rows]


def for_shop(
    conn: Connection, *, shop: str, since: datetime, until: datetime
) -> list[DecisionRecord]:
    """The shop's decisions made in ``[since, until)``, oldest first (the results' experiments)."""
    stmt = (
        select(decisions)
        .where(
            decisions.c.shop == shop,
            decisions.c.decided_at >= since,
            decisions.c.decided_at < until,
        )
        .order_by(decisions.c.decided_at, decisions.c.id)
    )
    return [record_from_row(r) for r in conn.execute(stmt)]


def record_from_row(row: Row[Any]) -> DecisionRecord:
    m = row._mapping
    return DecisionRecord(
        id=int(m["id"]),
        shop=m["shop"],
        order_id=m["order_id"],
        event_kind=EventKind(m["event_kind"]),
        customer_key=m["customer_key"],
        decided_at=m["decided_at"],
        decision=decision_from_json(m["body"]),
        ref=m["ref"],
    )
