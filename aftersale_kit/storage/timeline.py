"""The stored timeline of an order: refunds, closure, take-backs and redemptions.

All functions run on a connection inside a write transaction that holds the shop lock (the
caller's), so deciders of the shop see either all of a step or none of it.

Take-back (:func:`take_back`): the campaign's coupons of the order that were not redeemed are
revoked (issued ones get a ``deactivate_coupon`` job), and each open booking of the campaign on
the order gets one reversal of its cost *less what was redeemed*: a redeemed coupon's cost
stays booked, to the cent. The usage is released only when nothing was kept.

Redemption (:func:`record_redemption`): the first time an order is seen using one of the shop's
codes, one row (code, campaign, issuing and redeeming order and customer, discount). The coupon
becomes ``used``; a pending deactivation is cancelled; if the campaign's booking had been
reversed meanwhile (the issuing order was taken back after the code was spent), the coupon's
cost is booked again (``rebook``), so bookings always equal what is active or redeemed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update
from sqlalchemy.orm import aliased

from ..core.model import Order, Refund, RefundLine
from ..core.money import Money
from . import coupons, ledger, outbox
from ._sql import from_micros, insert_ignore, statement, to_micros
from .codec import decision_from_json
from .records import CouponRecord, CouponStatus, RedemptionRecord
from .tables import closures, decisions, redemptions, refunds
from .tables import coupons as coupons_table
from .tables import ledger as ledger_table

__all__ = [
    "REBOOK",
    "close",
    "closure",
    "open_campaigns",
    "order_redemptions",
    "record_redemption",
    "record_refunds",
    "refunds_for",
    "reverse_redemptions",
    "take_back",
]

#: Ledger entry that books a redeemed coupon's cost again after its campaign was reversed.
REBOOK = "rebook"


# -- refunds and closure ------------------------------------------------------------------------


def record_refunds(
    conn: Connection, *, shop: str, order_id: str, items: Iterable[Refund], now: datetime
) -> None:
    """Store each refund once (by its platform id); a refund seen again changes nothing."""
    rows = [
        {
            "shop": shop,
            "order_id": order_id,
            "refund_id": r.id,
            "amount_micros": to_micros(r.amount.amount),
            "currency": r.amount.currency,
            "lines": None
            if r.lines is None
            else json.dumps(
                [[line.line_item_id, line.quantity, _amount(line.subtotal)] for line in r.lines]
            ),
            "shipping_micros": None if r.shipping is None else to_micros(r.shipping.amount),
            "created_at": r.created_at,
            "recorded_at": now,
        }
        for r in items
    ]
    if rows:
        conn.execute(insert_ignore(conn, refunds, "shop", "order_id", "refund_id"), rows)


def _amount(money: Money | None) -> str | None:
    return None if money is None else str(money.amount)


def refunds_for(conn: Connection, *, shop: str, order_id: str) -> list[Refund]:
    """The order's refunds as recorded, oldest first."""
    stmt = statement(
        "timeline.refunds_for",
        lambda: (
            select(refunds)
            .where(refunds.c.shop == bindparam("shop"), refunds.c.order_id == bindparam("order_id"))
            .order_by(refunds.c.id)
        ),
    )
    rows = conn.execute(stmt, {"shop": shop, "order_id": order_id})
    return [_refund_from_row(r._mapping) for r in rows]


def _refund_from_row(m: Any) -> Refund:
    currency = m["currency"]
    lines = None
    if m["lines"] is not None:
        lines = tuple(
            RefundLine(
                line_item_id=str(item_id),
                quantity=int(quantity),
                subtotal=None if subtotal is None else Money(Decimal(subtotal), currency),
            )
            for item_id, quantity, subtotal in json.loads(m["lines"])
        )
    shipping = m["shipping_micros"]
    return Refund(
        id=m["refund_id"],
        amount=Money(from_micros(m["amount_micros"]), currency),
        created_at=m["created_at"],
        lines=lines,
        shipping=None if shipping is None else Money(from_micros(shipping), currency),
    )


def close(conn: Connection, *, shop: str, order_id: str, reason: str, now: datetime) -> None:
    """Mark the order closed (cancelled, refunded in full); the first reason stays."""
    conn.execute(
        insert_ignore(conn, closures, "shop", "order_id"),
        {"shop": shop, "order_id": order_id, "reason": reason, "closed_at": now},
    )


def closure(conn: Connection, *, shop: str, order_id: str) -> str | None:
    """Why the order is closed, or ``None`` while it stands."""
    stmt = statement(
        "timeline.closure",
        lambda: select(closures.c.reason).where(
            closures.c.shop == bindparam("shop"), closures.c.order_id == bindparam("order_id")
        ),
    )
    row = conn.execute(stmt, {"shop": shop, "order_id": order_id}).first()
    return None if row is None else str(row[0])


# -- take-back ----------------------------------------------------------------------------------


def _open_bookings(
    conn: Connection, *, shop: str, order_id: str, campaign_id: str | None = None
) -> list[Any]:
    stmt = statement(
        ("timeline.open_bookings", campaign_id is not None),
        lambda: _open_stmt(by_campaign=campaign_id is not None),
    )
    params = {"shop": shop, "order_id": order_id, "campaign_id": campaign_id}
    return [r._mapping for r in conn.execute(stmt, params)]


def _open_stmt(*, by_campaign: bool) -> Any:
    rev = aliased(ledger_table)
    stmt = select(ledger_table).where(
        ledger_table.c.shop == bindparam("shop"),
        ledger_table.c.order_id == bindparam("order_id"),
        ledger_table.c.entry == ledger.BOOKING,
        ~(
            select(rev.c.id)
            .where(
                rev.c.shop == ledger_table.c.shop,
                rev.c.order_id == ledger_table.c.order_id,
                rev.c.campaign_id == ledger_table.c.campaign_id,
                rev.c.entry == ledger.REVERSAL,
                rev.c.ref == ledger_table.c.ref,
            )
            .exists()
        ),
    )
    if by_campaign:
        stmt = stmt.where(ledger_table.c.campaign_id == bindparam("campaign_id"))
    return stmt.order_by(ledger_table.c.id)


def open_campaigns(conn: Connection, *, shop: str, order_id: str) -> list[str]:
    """Campaigns booked on the order and not taken back, in booking order."""
    found = [m["campaign_id"] for m in _open_bookings(conn, shop=shop, order_id=order_id)]
    return list(dict.fromkeys(found))


def _action_costs(conn: Connection, decision_id: int) -> dict[str, Decimal]:
    """The planned actions' costs of one stored decision, by idempotency key."""
    body = conn.execute(select(decisions.c.body).where(decisions.c.id == decision_id)).scalar()
    if body is None:
        return {}
    return {p.idempotency_key: p.cost.amount for p in decision_from_json(body).actions}


def take_back(
    conn: Connection,
    *,
    shop: str,
    order_id: str,
    campaign_id: str,
    reason: str,
    now: datetime,
) -> tuple[list[str], bool]:
    """Take back what the campaign gave the order (see the module docstring).

    Returns the idempotency keys of the coupons revoked, and whether a booking was reversed (a
    booking whose whole cost was redeemed has nothing to give back and stays as it is).
    """
    order_coupons = [
        c
        for c in coupons.for_order(conn, shop=shop, order_id=order_id, lock=True)
        if c.campaign_id == campaign_id
    ]
    revoked = coupons.revoke_records(conn, order_coupons, reason=reason, now=now)
    used = {c.idempotency_key for c in order_coupons if c.status == CouponStatus.USED}
    rows = []
    for booking in _open_bookings(conn, shop=shop, order_id=order_id, campaign_id=campaign_id):
        costs = _action_costs(conn, int(booking["decision_id"]))
        kept = sum((cost for key, cost in costs.items() if key in used), Decimal(0))
        if kept and to_micros(kept) >= int(booking["cost_micros"]):
            continue
        rows.append(
            {
                "shop": shop,
                "campaign_id": campaign_id,
                "order_id": order_id,
                "decision_id": booking["decision_id"],
                "customer_key": booking["customer_key"],
                "entry": ledger.REVERSAL,
                "uses": 0 if kept else -int(booking["uses"]),
                "cost_micros": -(int(booking["cost_micros"]) - to_micros(kept)),
                "currency": booking["currency"],
                "booked_at": booking["booked_at"],
                "recorded_at": now,
                "reason": reason,
                "ref": booking["ref"],
            }
        )
    if rows:
        conn.execute(
            insert_ignore(conn, ledger_table, "shop", "order_id", "campaign_id", "entry", "ref"),
            rows,
        )
    return revoked, bool(rows)


# -- redemptions --------------------------------------------------------------------------------


def record_redemption(
    conn: Connection,
    *,
    shop: str,
    code: str,
    amount: Money | None,
    order: Order,
    redeeming_customer_key: str | None,
    at: datetime,
    now: datetime,
) -> RedemptionRecord | None:
    """Record that ``order`` used ``code``, once. ``None`` when the code is not one of ours or
    this use was recorded before. ``amount``: the discount the code gave the order; ``None``
    when the platform did not say (an order read through Shopify's GraphQL lists its codes
    only): then the coupon's own cost stands for it."""
    coupon = _coupon_by_code(conn, shop=shop, code=code)
    if coupon is None or coupon.order_id == order.id:
        return None
    if amount is None:
        amount = Money(_coupon_cost(conn, coupon), order.currency)
    inserted = conn.execute(
        insert_ignore(conn, redemptions, "shop", "coupon_key", "redeeming_order_id").returning(
            redemptions.c.id
        ),
        {
            "shop": shop,
            "code": coupon.code,
            "coupon_key": coupon.idempotency_key,
            "campaign_id": coupon.campaign_id,
            "issuing_order_id": coupon.order_id,
            "issuing_customer_key": coupon.customer_key,
            "redeeming_order_id": order.id,
            "redeeming_customer_key": redeeming_customer_key,
            "amount_micros": to_micros(amount.amount),
            "currency": amount.currency,
            "redeemed_at": at,
            "recorded_at": now,
            "reversed_at": None,
        },
    ).scalar()
    if inserted is None:
        return None
    _mark_used(conn, coupon, now=now)
    return _redemption(conn, int(inserted))


def _coupon_by_code(conn: Connection, *, shop: str, code: str) -> CouponRecord | None:
    row = conn.execute(
        select(coupons_table)
        .where(coupons_table.c.shop == shop, coupons_table.c.code_key == code.strip().lower())
        .order_by(coupons_table.c.id)
        .limit(1)
    ).first()
    return None if row is None else coupons.coupon_from_row(row)


def _mark_used(conn: Connection, coupon: CouponRecord, *, now: datetime) -> None:
    """The coupon was spent: ``used``, no deactivation, and its cost booked if it was reversed."""
    conn.execute(
        update(coupons_table)
        .where(coupons_table.c.id == coupon.id)
        .values(status=CouponStatus.USED.value, updated_at=now)
    )
    outbox.cancel_pending(
        conn,
        shop=coupon.shop,
        idempotency_key=coupons.deactivate_key(coupon.idempotency_key),
        reason="redeemed",
        now=now,
    )
    reversal = conn.execute(
        select(ledger_table).where(
            ledger_table.c.shop == coupon.shop,
            ledger_table.c.order_id == coupon.order_id,
            ledger_table.c.campaign_id == coupon.campaign_id,
            ledger_table.c.entry == ledger.REVERSAL,
        )
    ).first()
    if reversal is None:
        return
    m = reversal._mapping
    cost = _action_costs(conn, int(m["decision_id"])).get(coupon.idempotency_key, Decimal(0))
    conn.execute(
        insert_ignore(conn, ledger_table, "shop", "order_id", "campaign_id", "entry", "ref"),
        {
            "shop": coupon.shop,
            "campaign_id": coupon.campaign_id,
            "order_id": coupon.order_id,
            "decision_id": m["decision_id"],
            "customer_key": m["customer_key"],
            "entry": REBOOK,
            "uses": -int(m["uses"]),
            "cost_micros": to_micros(cost),
            "currency": m["currency"],
            "booked_at": m["booked_at"],
            "recorded_at": now,
            "reason": "redeemed after it was taken back",
            "ref": coupon.idempotency_key,
        },
    )


def _coupon_cost(conn: Connection, coupon: CouponRecord) -> Decimal:
    """What the coupon's planned action was costed at when it was issued."""
    rows = conn.execute(
        select(decisions.c.id).where(
            decisions.c.shop == coupon.shop, decisions.c.order_id == coupon.order_id
        )
    )
    for (decision_id,) in rows:
        cost = _action_costs(conn, int(decision_id)).get(coupon.idempotency_key)
        if cost is not None:
            return cost
    return Decimal(0)


def reverse_redemptions(conn: Connection, *, shop: str, order_id: str, now: datetime) -> int:
    """The redeeming order was taken back: its redemptions no longer count as redeemed cost."""
    result = conn.execute(
        update(redemptions)
        .where(
            redemptions.c.shop == shop,
            redemptions.c.redeeming_order_id == order_id,
            redemptions.c.reversed_at.is_(None),
        )
        .values(reversed_at=now)
    )
    return int(result.rowcount or 0)


def redeemed_cost(
    conn: Connection, *, shop: str, campaign_id: str, since: datetime | None
) -> Decimal:
    stmt = select(func.coalesce(func.sum(redemptions.c.amount_micros), 0)).where(
        redemptions.c.shop == shop,
        redemptions.c.campaign_id == campaign_id,
        redemptions.c.reversed_at.is_(None),
    )
    if since is not None:
        stmt = stmt.where(redemptions.c.redeemed_at >= since)
    return from_micros(conn.execute(stmt).scalar_one())


def order_redemptions(
    conn: Connection, *, shop: str, issuing_order_id: str | None = None
) -> list[RedemptionRecord]:
    """The shop's redemptions (of one issuing order's codes), oldest first."""
    stmt = select(redemptions).where(redemptions.c.shop == shop)
    if issuing_order_id is not None:
        stmt = stmt.where(redemptions.c.issuing_order_id == issuing_order_id)
    return [redemption_from_row(r._mapping) for r in conn.execute(stmt.order_by(redemptions.c.id))]


def _redemption(conn: Connection, row_id: int) -> RedemptionRecord:
    row = conn.execute(select(redemptions).where(redemptions.c.id == row_id)).one()
    return redemption_from_row(row._mapping)


def redemption_from_row(m: Any) -> RedemptionRecord:
    return RedemptionRecord(
        id=int(m["id"]),
        shop=m["shop"],
        code=m["code"],
        coupon_key=m["coupon_key"],
        campaign_id=m["campaign_id"],
        issuing_order_id=m["issuing_order_id"],
        issuing_customer_key=m["issuing_customer_key"],
        redeeming_order_id=m["redeeming_order_id"],
        redeeming_customer_key=m["redeeming_customer_key"],
        amount=Money(from_micros(m["amount_micros"]), m["currency"]),
        redeemed_at=m["redeemed_at"],
        reversed_at=m["reversed_at"],
    )
