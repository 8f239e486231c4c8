"""The ledger: one booking per (order, fired campaign), one reversal when it is taken back.

Counts and sums are computed from the rows, never kept in a counter column, so a booking and its
reversal are facts that can be audited. A reversal repeats the booking's ``booked_at``: it
releases the cost in the budget period the cost was booked in. Per customer, the "last time"
(for cooldowns) is the newest booking that has not been reversed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Row, and_, exists, func, select
from sqlalchemy.orm import aliased

from ..core.decision import Decision
from ..core.money import Money
from ..core.ports import CustomerUsage
from ._sql import from_micros, insert_ignore, to_micros
from .records import LedgerEntry
from .tables import ledger

__all__ = ["BOOKING", "NO_CURRENCY", "REVERSAL", "LedgerCounters", "book", "entries", "reverse"]

BOOKING = "booking"
REVERSAL = "reversal"
#: ISO 4217 "no currency": the currency of a booking without any cost (e.g. content only).
NO_CURRENCY = "XXX"


@dataclass(frozen=True, slots=True)
class LedgerCounters:
    """:class:`~aftersale_kit.core.ports.Counters` read from the ledger on one connection.

    Used inside the decision transaction, it sees exactly what is committed plus this
    transaction's own bookings.
    """

    conn: Connection

    def usage_count(self, shop: str, campaign_id: str) -> int:
        total = self.conn.execute(
            select(func.coalesce(func.sum(ledger.c.uses), 0)).where(
                ledger.c.shop == shop, ledger.c.campaign_id == campaign_id
            )
        ).scalar_one()
        return int(total)

    def customer_usage(self, shop: str, campaign_id: str, customer_key: str) -> CustomerUsage:
        scope = (
            ledger.c.shop == shop,
            ledger.c.campaign_id == campaign_id,
            ledger.c.customer_key == customer_key,
        )
        count = self.conn.execute(
            select(func.coalesce(func.sum(ledger.c.uses), 0)).where(*scope)
        ).scalar_one()
        rev = aliased(ledger)
        not_reversed = ~exists().where(
            rev.c.shop == ledger.c.shop,
            rev.c.order_id == ledger.c.order_id,
            rev.c.campaign_id == ledger.c.campaign_id,
            rev.c.entry == REVERSAL,
            rev.c.ref == ledger.c.ref,
        )
        last_at = self.conn.execute(
            select(func.max(ledger.c.booked_at)).where(
                *scope, ledger.c.entry == BOOKING, not_reversed
            )
        ).scalar_one()
        return CustomerUsage(count=int(count), last_at=last_at)

    def spent(self, shop: str, campaign_id: str, since: datetime | None) -> Decimal:
        stmt = select(func.coalesce(func.sum(ledger.c.cost_micros), 0)).where(
            ledger.c.shop == shop, ledger.c.campaign_id == campaign_id
        )
        if since is not None:
            stmt = stmt.where(ledger.c.booked_at >= since)
        return from_micros(self.conn.execute(stmt).scalar_one())

    def redeemed(self, shop: str, campaign_id: str, since: datetime | None) -> Decimal:
        from .timeline import redeemed_cost

        return redeemed_cost(self.conn, shop=shop, campaign_id=campaign_id, since=since)


def book(
    conn: Connection,
    *,
    decision: Decision,
    decision_id: int,
    customer_key: str | None,
    now: datetime,
    ref: str = "",
) -> list[str]:
    """Book every fired campaign of ``decision`` once (uses +1, cost = its actions' cost).
    ``ref`` is the decision's step (a refund id), so one campaign can be booked per step.

    Returns the campaign ids booked.
    """
    costs: dict[str, Money] = {}
    for planned in decision.actions:
        prior = costs.get(planned.campaign_id)
        costs[planned.campaign_id] = planned.cost if prior is None else prior + planned.cost
    fired = [o.campaign_id for o in decision.outcomes if o.fired]
    campaign_ids = list(dict.fromkeys([*fired, *costs]))
    currency = next((m.currency for m in costs.values()), NO_CURRENCY)
    rows = [
        {
            "shop": decision.shop,
            "campaign_id": campaign_id,
            "order_id": decision.order_id,
            "decision_id": decision_id,
            "customer_key": customer_key,
            "entry": BOOKING,
            "uses": 1,
            "cost_micros": to_micros(costs[campaign_id].amount) if campaign_id in costs else 0,
            "currency": costs[campaign_id].currency if campaign_id in costs else currency,
            "booked_at": decision.decided_at,
            "recorded_at": now,
            "reason": None,
            "ref": ref,
        }
        for campaign_id in campaign_ids
    ]
    if rows:
        conn.execute(
            insert_ignore(conn, ledger, "shop", "order_id", "campaign_id", "entry", "ref"), rows
        )
    return campaign_ids


def reverse(
    conn: Connection,
    *,
    shop: str,
    order_id: str,
    reason: str,
    now: datetime,
    keep: Iterable[str] = (),
) -> list[str]:
    """Reverse the order's bookings that are not reversed yet, except campaigns in ``keep``.

    Returns the campaign ids reversed (empty when called again).
    """
    kept = set(keep)
    rev = aliased(ledger)
    open_bookings = conn.execute(
        select(ledger).where(
            ledger.c.shop == shop,
            ledger.c.order_id == order_id,
            ledger.c.entry == BOOKING,
            ~exists().where(
                and_(
                    rev.c.shop == ledger.c.shop,
                    rev.c.order_id == ledger.c.order_id,
                    rev.c.campaign_id == ledger.c.campaign_id,
                    rev.c.entry == REVERSAL,
                    rev.c.ref == ledger.c.ref,
                )
            ),
        )
    ).all()
    rows = []
    for row in open_bookings:
        m = row._mapping
        if m["campaign_id"] in kept:
            continue
        rows.append(
            {
                "shop": shop,
                "campaign_id": m["campaign_id"],
                "order_id": order_id,
                "decision_id": m["decision_id"],
                "customer_key": m["customer_key"],
                "entry": REVERSAL,
                "uses": -int(m["uses"]),
                "cost_micros": -int(m["cost_micros"]),
                "currency": m["currency"],
                "booked_at": m["booked_at"],
                "recorded_at": now,
                "reason": reason,
                "ref": m["ref"],
            }
        )
    if rows:
        conn.execute(
            insert_ignore(conn, ledger, "shop", "order_id", "campaign_id", "entry", "ref"), rows
        )
    return [r["campaign_id"] for r in rows]


def entries(conn: Connection, *, shop: str, order_id: str | None = None) -> list[LedgerEntry]:
    stmt = select(ledger).where(ledger.c.shop == shop)
    if order_id is not None:
        stmt = stmt.where(ledger.c.order_id == order_id)
    return [entry_from_row(r) for r in conn.execute(stmt.order_by(ledger.c.id))]


def entry_from_row(row: Row[Any]) -> LedgerEntry:
    m = row._mapping
    return LedgerEntry(
        id=int(m["id"]),
        shop=m["shop"],
        campaign_id=m["campaign_id"],
        order_id=m["order_id"],
        decision_id=int(m["decision_id"]),
        customer_key=m["customer_key"],
        entry=m["entry"],
        uses=int(m["uses"]),
        cost=from_micros(m["cost_micros"]),
        currency=m["currency"],
        booked_at=m["booked_at"],
        recorded_at=m["recorded_at"],
        reason=m["reason"],
        ref=m["ref"],
    )
