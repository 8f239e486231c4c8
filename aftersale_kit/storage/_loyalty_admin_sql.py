"""The operators' loyalty methods of the SQL :class:`~.store.Store` (balances, import, totals)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, select, text

from ..core.loyalty.ledger import MovementKind, SourceKind
from ._loyalty_sql import SqlLoyaltyTx
from ._sql import aware, from_micros
from .db import Database
from .loyalty_admin import (
    AccountBalance,
    ImportEntry,
    ImportOutcome,
    LedgerTotals,
    TotalsGroup,
    import_entries,
)
from .tables import loyalty_accounts, loyalty_movements

__all__ = ["LoyaltyAdminMethods"]

_M = loyalty_movements
_A = loyalty_accounts


def _int(value: Any) -> int:
    return int(value or 0)


def _sums(conn: Connection, shop: str, until: datetime) -> tuple[int, int]:
    row = conn.execute(
        select(func.sum(_M.c.pending_delta), func.sum(_M.c.available_delta)).where(
            _M.c.shop == shop, _M.c.booked_at < until
        )
    ).one()
    return _int(row[0]), _int(row[1])


def _groups(conn: Connection, shop: str, since: datetime, until: datetime) -> list[TotalsGroup]:
    stmt = (
        select(
            _M.c.kind,
            _M.c.source,
            _M.c.tier,
            func.count(),
            func.sum(_M.c.points),
            func.sum(_M.c.pending_delta),
            func.sum(_M.c.available_delta),
            func.sum(_M.c.spend_micros),
        )
        .where(_M.c.shop == shop, _M.c.booked_at >= since, _M.c.booked_at < until)
        .group_by(_M.c.kind, _M.c.source, _M.c.tier)
        .order_by(_M.c.kind, _M.c.source, _M.c.tier)
    )
    return [
        TotalsGroup(
            kind=MovementKind(r[0]),
            source=SourceKind(r[1]),
            tier=r[2],
            count=_int(r[3]),
            points=_int(r[4]),
            pending=_int(r[5]),
            available=_int(r[6]),
            spend=from_micros(int(r[7])) if r[7] is not None else Decimal(0),
        )
        for r in conn.execute(stmt)
    ]


class LoyaltyAdminMethods:
    """Mixed into :class:`~.store.Store`."""

    db: Database

    def loyalty_balances(self, shop: str) -> list[AccountBalance]:
        """Every account of the shop with its owner and running totals, oldest first."""
        stmt = (
            select(_A.c.account, _A.c.customer_id, _A.c.email, _A.c.pending)
            .add_columns(_A.c.available, _A.c.debt)
            .where(_A.c.shop == shop)
            .order_by(_A.c.id)
        )
        with self.db.read() as conn:
            return [
                AccountBalance(r[0], r[1], r[2], int(r[3]), int(r[4]), int(r[5]))
                for r in conn.execute(stmt)
            ]

    def loyalty_import(
        self,
        shop: str,
        entries: Sequence[ImportEntry],
        *,
        now: datetime | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> ImportOutcome:
        """Book every entry in one transaction: all or nothing; an entry booked before moves
        nothing (so an import run again changes nothing)."""
        now = aware(now, "now")
        with self.db.write() as conn:
            return import_entries(
                SqlLoyaltyTx(conn), shop=shop, entries=entries, now=now, progress=progress
            )

    def loyalty_totals(self, shop: str, *, since: datetime, until: datetime) -> LedgerTotals:
        """The shop's journal summed for ``[since, until)``, with the opening and closing sums
        (read in one transaction) and the accounts' running totals."""
        since, until = aware(since, "since"), aware(until, "until")
        with self.db.read() as conn:
            if conn.dialect.name == "postgresql":  # one snapshot for every sum below
                conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
            opening = _sums(conn, shop, since)
            closing = _sums(conn, shop, until)
            groups = _groups(conn, shop, since, until)
            running = conn.execute(
                select(func.count(), func.sum(_A.c.pending), func.sum(_A.c.available)).where(
                    _A.c.shop == shop
                )
            ).one()
        return LedgerTotals(
            since=since,
            until=until,
            opening_pending=opening[0],
            opening_available=opening[1],
            closing_pending=closing[0],
            closing_available=closing[1],
            groups=tuple(groups),
            accounts=_int(running[0]),
            running_pending=_int(running[1]),
            running_available=_int(running[2]),
        )
