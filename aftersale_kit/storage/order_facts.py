"""The ``order_facts`` rows (:class:`~aftersale_kit.core.order_facts.OrderFacts`): one per order,
written by every step of its timeline in the step's transaction, read by the results.

A later step replaces the row with what it knows now (the refunds recorded so far, the
closure), except that a closure stays once recorded and the order's first time stays.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, case, func, select, update

from ..core.order_facts import OrderFacts
from . import ledger, timeline
from ._sql import from_micros, insert_ignore, to_micros
from .records import LedgerEntry, RedemptionRecord
from .tables import coupons as coupons_table
from .tables import ledger as ledger_table
from .tables import messages as messages_table
from .tables import order_facts as table
from .tables import redemptions as redemptions_table

__all__ = [
    "SERVICE_CHECK",
    "CampaignTotals",
    "CustomerHistory",
    "campaign_totals",
    "customer_history",
    "facts_from_row",
    "read",
    "write",
]


def aware_time(value: datetime) -> datetime:
    """A UTC time read back from either engine (SQLite gives naive UTC)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class CustomerHistory:
    """What one customer's care cost is summed from: their orders' facts, the redemptions of
    their orders, and the ledger entries of the given campaigns on their orders."""

    facts: tuple[OrderFacts, ...]
    redemptions: tuple[RedemptionRecord, ...]
    ledger: tuple[LedgerEntry, ...]
    #: Times of the service checks sent to the customer (``service_reminder`` follow-ups).
    service_checks: tuple[datetime, ...] = ()
    #: Of the codes asked about, those that are the shop's own coupons (lower case).
    shop_codes: frozenset[str] = frozenset()


def write(conn: Connection, facts: OrderFacts, *, now: datetime) -> None:
    """Insert or update the order's row (idempotent: the same facts write the same row)."""
    values = {
        "customer_key": facts.customer_key,
        "customer_id": facts.customer_id,
        "email": facts.email,
        "currency": facts.currency,
        "net_micros": to_micros(facts.net),
        "margin_micros": to_micros(facts.margin),
        "refunded_micros": to_micros(facts.refunded),
        "updated_at": now,
    }
    # RETURNING says whether the row was new (rowcount is not reliable for an upsert on
    # every driver: psycopg reports -1)
    inserted = conn.execute(
        insert_ignore(conn, table, "shop", "order_id").returning(table.c.order_id),
        {
            "shop": facts.shop,
            "order_id": facts.order_id,
            "placed_at": facts.placed_at,
            "closed": facts.closed,
            **values,
        },
    ).first()
    if inserted is not None:
        return
    stmt = update(table).where(table.c.shop == facts.shop, table.c.order_id == facts.order_id)
    conn.execute(stmt.values(**values))
    if facts.closed is not None:
        conn.execute(stmt.where(table.c.closed.is_(None)).values(closed=facts.closed))


def read(
    conn: Connection,
    *,
    shop: str,
    order_ids: Iterable[str] | None = None,
    customer_keys: Iterable[str] | None = None,
) -> list[OrderFacts]:
    """The shop's rows (of the given orders or customers), by time placed."""
    stmt = select(table).where(table.c.shop == shop)
    if order_ids is not None:
        stmt = stmt.where(table.c.order_id.in_(list(order_ids)))
    if customer_keys is not None:
        stmt = stmt.where(table.c.customer_key.in_(list(customer_keys)))
    stmt = stmt.order_by(table.c.placed_at, table.c.order_id)
    return [facts_from_row(r._mapping) for r in conn.execute(stmt)]


def facts_from_row(m: Any) -> OrderFacts:
    return OrderFacts(
        shop=m["shop"],
        order_id=m["order_id"],
        customer_key=m["customer_key"],
        customer_id=m["customer_id"],
        email=m["email"],
        placed_at=m["placed_at"],
        currency=m["currency"],
        net=from_micros(m["net_micros"]),
        margin=from_micros(m["margin_micros"]),
        refunded=from_micros(m["refunded_micros"]),
        closed=m["closed"],
    )


@dataclass(frozen=True, slots=True)
class CampaignTotals:
    """A campaign's redemptions over all time: how many stand (not taken back), and the
    redeeming orders' goods gross and net of refunds (the metrics read these)."""

    campaign_id: str
    redeemed: int
    revenue_gross: Decimal
    revenue_net: Decimal


def campaign_totals(conn: Connection, *, shop: str) -> list[CampaignTotals]:
    """One aggregate over the shop's redemptions joined to the redeeming orders' facts."""
    r, f = redemptions_table, table
    standing = and_(r.c.reversed_at.is_(None), f.c.closed.is_(None))
    net = case((standing, f.c.net_micros - f.c.refunded_micros), else_=0)
    stmt = (
        select(
            r.c.campaign_id,
            func.sum(case((r.c.reversed_at.is_(None), 1), else_=0)),
            func.coalesce(func.sum(f.c.net_micros), 0),
            func.coalesce(func.sum(net), 0),
        )
        .select_from(
            r.outerjoin(f, and_(f.c.shop == r.c.shop, f.c.order_id == r.c.redeeming_order_id))
        )
        .where(r.c.shop == shop)
        .group_by(r.c.campaign_id)
        .order_by(r.c.campaign_id)
    )
    return [
        CampaignTotals(str(cid), int(count or 0), from_micros(gross), from_micros(net_sum))
        for cid, count, gross, net_sum in conn.execute(stmt)
    ]


#: The follow-up kind that is a service check (:class:`~..core.contact.follow_up.FollowUpKind`).
SERVICE_CHECK = "service_reminder"


def customer_history(
    conn: Connection,
    *,
    shop: str,
    customer_key: str,
    campaigns: Collection[str],
    codes: Collection[str] = (),
) -> CustomerHistory:
    """One customer's records (indexed reads; ``campaigns``: whose ledger entries; ``codes``:
    which of these codes are the shop's coupons)."""
    used = select(redemptions_table).where(
        redemptions_table.c.shop == shop,
        redemptions_table.c.redeeming_customer_key == customer_key,
    )
    entries: list[LedgerEntry] = []
    if campaigns:
        rows = conn.execute(
            select(ledger_table)
            .where(
                ledger_table.c.shop == shop,
                ledger_table.c.campaign_id.in_(list(campaigns)),
                ledger_table.c.customer_key == customer_key,
            )
            .order_by(ledger_table.c.id)
        )
        entries = [ledger.entry_from_row(r) for r in rows]
    checks = conn.execute(
        select(messages_table.c.sent_at).where(
            messages_table.c.shop == shop,
            messages_table.c.customer_key == customer_key,
            messages_table.c.kind == SERVICE_CHECK,
            messages_table.c.state == "sent",
        )
    )
    keys = sorted({c.strip().lower() for c in codes})
    known: set[str] = set()
    if keys:
        found = conn.execute(
            select(coupons_table.c.code_key).where(
                coupons_table.c.shop == shop, coupons_table.c.code_key.in_(keys)
            )
        )
        known = {str(k) for (k,) in found}
    return CustomerHistory(
        service_checks=tuple(aware_time(at) for (at,) in checks if at is not None),
        shop_codes=frozenset(known),
        facts=tuple(read(conn, shop=shop, customer_keys=[customer_key])),
        redemptions=tuple(
            timeline.redemption_from_row(r._mapping)
            for r in conn.execute(used.order_by(redemptions_table.c.id))
        ),
        ledger=tuple(entries),
    )
