"""The ``order_facts`` rows (:class:`~aftersale_kit.core.order_facts.OrderFacts`): one per order,
written by every step of its timeline in the step's transaction, read by the results.

A later step replaces the row with what it knows now (the refunds recorded so far, the
closure), except that a closure stays once recorded and the order's first time stays.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from ..core.order_facts import OrderFacts
from ._sql import from_micros, insert_ignore, to_micros
from .tables import order_facts as table

__all__ = ["facts_from_row", "read", "write"]


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
