"""Coupons planned by decisions and their life on the platform.

Status transitions::

    planned ──mark_issued──> issued ──mark_used──> used
       │                       │
       └──── revoke ───────────┴──> revoked ──mark_deactivated──> deactivated

``revoked`` means "taken back (order cancelled), must not be usable": a planned coupon is never
created; an issued one gets a ``deactivate_coupon`` job. When the platform call that creates a
coupon finishes after the coupon was revoked, :func:`mark_issued` records the platform id and
enqueues the deactivation itself, so a coupon never stays live by accident.

A planned coupon whose ``create_coupon`` job was already tried (it failed in a way that may
have created the coupon on the platform: a timeout, a 5xx after sending, and now waits for its
retry or went dead) gets a ``deactivate_coupon`` job too when it is revoked: the waiting job is
cancelled, and deactivating a coupon the platform never created changes nothing. A job claimed
at that moment needs none: its worker finds the coupon revoked (:func:`mark_issued` above, or
the job's next attempt).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, select, update

from ..core.campaign import IssueCoupon
from ..core.decision import Decision
from . import outbox
from ._sql import insert_ignore, statement
from .records import CouponRecord, CouponStatus, JobKind, JobStatus
from .tables import coupons

__all__ = [
    "deactivate_key",
    "for_order",
    "get",
    "mark_deactivated",
    "mark_issued",
    "mark_used",
    "plan",
    "plan_one",
    "revoke",
    "revoke_records",
]


def deactivate_key(idempotency_key: str) -> str:
    return f"{idempotency_key}:deactivate"


def plan(conn: Connection, *, decision: Decision, customer_key: str | None, now: datetime) -> int:
    """A ``planned`` coupon for every coupon action of the decision that carries a code."""
    rows = [
        {
            "shop": decision.shop,
            "order_id": decision.order_id,
            "campaign_id": p.campaign_id,
            "idempotency_key": p.idempotency_key,
            "code": p.coupon_code,
            "code_key": (p.coupon_code or "").lower(),
            "platform_id": None,
            "status": CouponStatus.PLANNED.value,
            "customer_key": customer_key,
            "created_at": now,
            "updated_at": now,
        }
        for p in decision.actions
        if isinstance(p.action, IssueCoupon) and p.coupon_code
    ]
    if rows:
        conn.execute(insert_ignore(conn, coupons, "shop", "idempotency_key"), rows)
    return len(rows)


def plan_one(
    conn: Connection,
    *,
    shop: str,
    order_id: str,
    campaign_id: str,
    idempotency_key: str,
    code: str,
    customer_key: str | None,
    now: datetime,
) -> None:
    """A ``planned`` coupon that no decision planned (a loyalty redemption or reward)."""
    conn.execute(
        insert_ignore(conn, coupons, "shop", "idempotency_key"),
        {
            "shop": shop,
            "order_id": order_id,
            "campaign_id": campaign_id,
            "idempotency_key": idempotency_key,
            "code": code,
            "code_key": code.lower(),
            "platform_id": None,
            "status": CouponStatus.PLANNED.value,
            "customer_key": customer_key,
            "created_at": now,
            "updated_at": now,
        },
    )


def get(conn: Connection, *, shop: str, idempotency_key: str) -> CouponRecord | None:
    stmt = statement(
        "coupons.get",
        lambda: select(coupons).where(
            coupons.c.shop == bindparam("shop"),
            coupons.c.idempotency_key == bindparam("key"),
        ),
    )
    row = conn.execute(stmt, {"shop": shop, "key": idempotency_key}).first()
    return None if row is None else coupon_from_row(row)


def for_shop(conn: Connection, *, shop: str) -> list[CouponRecord]:
    """Every coupon of the shop, oldest first (the results count what was issued)."""
    stmt = select(coupons).where(coupons.c.shop == shop).order_by(coupons.c.id)
    return [coupon_from_row(r) for r in conn.execute(stmt)]


def for_order(
    conn: Connection, *, shop: str, order_id: str, lock: bool = False
) -> list[CouponRecord]:
    stmt = (
        select(coupons)
        .where(coupons.c.shop == shop, coupons.c.order_id == order_id)
        .order_by(coupons.c.id)
    )
    if lock:
        stmt = stmt.with_for_update()
    return [coupon_from_row(r) for r in conn.execute(stmt)]


def by_code(conn: Connection, *, shop: str, code: str) -> CouponRecord | None:
    row = conn.execute(
        select(coupons).where(coupons.c.shop == shop, coupons.c.code == code).order_by(coupons.c.id)
    ).first()
    return None if row is None else coupon_from_row(row)


def mark_issued(
    conn: Connection, *, shop: str, idempotency_key: str, platform_id: str, now: datetime
) -> CouponRecord:
    current = _require(conn, shop=shop, idempotency_key=idempotency_key, lock=True)
    if current.status == CouponStatus.PLANNED:
        _set(conn, current, now=now, status=CouponStatus.ISSUED, platform_id=platform_id)
    elif current.status == CouponStatus.REVOKED and current.platform_id is None:
        # Created on the platform after it was taken back: switch it off again.
        _set(conn, current, now=now, platform_id=platform_id)
        _enqueue_deactivation(conn, current, platform_id=platform_id, now=now)
    result = get(conn, shop=shop, idempotency_key=idempotency_key)
    assert result is not None
    return result


def mark_used(conn: Connection, *, shop: str, code: str, now: datetime) -> CouponRecord | None:
    """An issued coupon was redeemed (its cost is real and will not be reversed)."""
    current = by_code(conn, shop=shop, code=code)
    if current is None:
        return None
    if current.status == CouponStatus.ISSUED:
        _set(conn, current, now=now, status=CouponStatus.USED)
    return get(conn, shop=shop, idempotency_key=current.idempotency_key)


def mark_deactivated(
    conn: Connection, *, shop: str, idempotency_key: str, now: datetime
) -> CouponRecord:
    current = _require(conn, shop=shop, idempotency_key=idempotency_key, lock=True)
    if current.status in (CouponStatus.ISSUED, CouponStatus.REVOKED):
        _set(conn, current, now=now, status=CouponStatus.DEACTIVATED)
    result = get(conn, shop=shop, idempotency_key=idempotency_key)
    assert result is not None
    return result


def revoke(conn: Connection, *, shop: str, order_id: str, reason: str, now: datetime) -> list[str]:
    """Take back the order's unused coupons. Returns the idempotency keys revoked."""
    records = for_order(conn, shop=shop, order_id=order_id, lock=True)
    return revoke_records(conn, records, reason=reason, now=now)


def revoke_records(
    conn: Connection, records: list[CouponRecord], *, reason: str, now: datetime
) -> list[str]:
    """Take back these coupons (read under lock) where still unused; the keys revoked."""
    revoked = []
    for coupon in records:
        if coupon.status == CouponStatus.PLANNED:
            _set(conn, coupon, now=now, status=CouponStatus.REVOKED)
            if _create_was_tried(conn, coupon, reason=reason, now=now):
                _enqueue_deactivation(conn, coupon, platform_id=None, now=now)
        elif coupon.status == CouponStatus.ISSUED:
            _set(conn, coupon, now=now, status=CouponStatus.REVOKED)
            assert coupon.platform_id is not None
            _enqueue_deactivation(conn, coupon, platform_id=coupon.platform_id, now=now)
        else:
            continue
        revoked.append(coupon.idempotency_key)
    return revoked


def _create_was_tried(
    conn: Connection, coupon: CouponRecord, *, reason: str, now: datetime
) -> bool:
    """Cancel the coupon's create job if it is pending; whether it had reached the platform
    before (a pending retry or a dead job), so the coupon may exist there."""
    key = coupon.idempotency_key
    job = outbox.cancel_pending(conn, shop=coupon.shop, idempotency_key=key, reason=reason, now=now)
    if job is None:
        job = outbox.by_key(conn, shop=coupon.shop, idempotency_key=key)
        if job is None or job.status != JobStatus.DEAD:
            return False  # none, or claimed right now: its worker sees the revocation
    return job.attempts > 0


def _enqueue_deactivation(
    conn: Connection, coupon: CouponRecord, *, platform_id: str | None, now: datetime
) -> None:
    outbox.enqueue(
        conn,
        shop=coupon.shop,
        kind=JobKind.DEACTIVATE_COUPON.value,
        idempotency_key=deactivate_key(coupon.idempotency_key),
        payload={
            "coupon_key": coupon.idempotency_key,
            "order_id": coupon.order_id,
            "campaign_id": coupon.campaign_id,
            "code": coupon.code,
            "platform_id": platform_id,
        },
        run_at=now,
        now=now,
    )


def _require(conn: Connection, *, shop: str, idempotency_key: str, lock: bool) -> CouponRecord:
    stmt = select(coupons).where(
        coupons.c.shop == shop, coupons.c.idempotency_key == idempotency_key
    )
    if lock:
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).first()
    if row is None:
        raise LookupError(f"no coupon {idempotency_key!r} in shop {shop!r}")
    return coupon_from_row(row)


def _set(conn: Connection, coupon: CouponRecord, *, now: datetime, **values: Any) -> None:
    values = {k: v.value if isinstance(v, CouponStatus) else v for k, v in values.items()}
    conn.execute(update(coupons).where(coupons.c.id == coupon.id).values(updated_at=now, **values))


def coupon_from_row(row: Row[Any]) -> CouponRecord:
    m = row._mapping
    return CouponRecord(
        id=int(m["id"]),
        shop=m["shop"],
        order_id=m["order_id"],
        campaign_id=m["campaign_id"],
        idempotency_key=m["idempotency_key"],
        code=m["code"],
        platform_id=m["platform_id"],
        status=CouponStatus(m["status"]),
        customer_key=m["customer_key"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )
