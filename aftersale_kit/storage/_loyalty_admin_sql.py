"""The operators' loyalty methods of the SQL :class:`~.store.Store` (balances, import, totals)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, select, text

from ..core.loyalty.ledger import JournalState, MovementKind, SourceKind, Status, apply
from ._loyalty_sql import SqlLoyaltyTx, account_keys, movement_values
from ._sql import aware, from_micros
from .db import Database
from .loyalty import AccountRow, JournalRow
from .loyalty_admin import (
    AccountBalance,
    ImportEntry,
    ImportOutcome,
    ImportRefusedError,
    LedgerTotals,
    TotalsGroup,
    check_entries,
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


#: Rows per statement of the bulk import.
_CHUNK = 500


def _split(
    entries: Sequence[ImportEntry], existing: set[str]
) -> tuple[list[ImportEntry], list[ImportEntry]]:
    """The entries of new accounts (each account's first) and the others."""
    fresh: list[ImportEntry] = []
    rest: list[ImportEntry] = []
    taken = set(existing)
    for entry in entries:
        if entry.account in taken:
            rest.append(entry)
        else:
            taken.add(entry.account)
            fresh.append(entry)
    return fresh, rest


def _imported_keys(conn: Connection, shop: str) -> set[tuple[str, str]]:
    """``(account, key)`` of the shop's imported movements (an import run again skips them)."""
    stmt = (
        select(_A.c.account, _M.c.key)
        .join(_A, _A.c.id == _M.c.account_id)
        .where(_M.c.shop == shop, _M.c.kind == MovementKind.IMPORTED.value)
    )
    return {(r[0], r[1]) for r in conn.execute(stmt)}


def _booked(entry: ImportEntry) -> JournalRow:
    """The entry booked on an empty account (pure: the ledger's own arithmetic)."""
    result = apply(JournalState(), entry.movement)
    if result.status is not Status.APPLIED or result.booking is None:
        raise ImportRefusedError(f"account {entry.account!r}: {result.reason}")
    booking = result.booking
    return JournalRow(entry.movement, booking.pending_delta, booking.available_delta)


def _insert_fresh(
    conn: Connection,
    shop: str,
    entries: Sequence[ImportEntry],
    *,
    now: datetime,
    progress: Callable[[int], None] | None,
    done: int,
) -> int:
    """Create the accounts of ``entries`` (none exists yet) with their one movement, in
    statements of :data:`_CHUNK` rows; returns the points booked."""
    points = 0
    for start in range(0, len(entries), _CHUNK):
        chunk = entries[start : start + _CHUNK]
        rows = [_booked(e) for e in chunk]
        conn.execute(
            _A.insert(),
            [
                {
                    "shop": shop,
                    "account": e.account,
                    "customer_id": e.identity.customer_id,
                    "email": e.identity.email,
                    "pending": r.pending_delta,
                    "available": r.available_delta,
                    "debt": 0,
                    "created_at": now,
                    "updated_at": now,
                }
                for e, r in zip(chunk, rows, strict=True)
            ],
        )
        ids = dict(
            conn.execute(
                select(_A.c.account, _A.c.id).where(
                    _A.c.shop == shop, _A.c.account.in_([e.account for e in chunk])
                )
            ).all()
        )
        conn.execute(
            _M.insert(),
            [
                movement_values(
                    AccountRow(int(ids[e.account]), shop, e.account, 0, 0, 0), r, now=now
                )
                for e, r in zip(chunk, rows, strict=True)
            ],
        )
        points += sum(e.movement.points for e in chunk)
        if progress is not None:
            progress(done + start + len(chunk))
    return points


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
        nothing (so an import run again changes nothing). Accounts that do not exist yet are
        created with their movement in bulk statements (an empty account's booking is known);
        the others go through the ledger one by one under their lock."""
        now = aware(now, "now")
        check_entries(entries)
        with self.db.write() as conn:
            fresh, rest = _split(entries, set(account_keys(conn, shop)))
            seen = _imported_keys(conn, shop)
            repeated = [e for e in rest if (e.account, e.movement.key) in seen]
            rest = [e for e in rest if (e.account, e.movement.key) not in seen]
            points = _insert_fresh(conn, shop, fresh, now=now, progress=progress, done=0)

            def more(done: int) -> None:
                if progress is not None:
                    progress(len(fresh) + len(repeated) + done)

            others = import_entries(
                SqlLoyaltyTx(conn), shop=shop, entries=rest, now=now, progress=more
            )
        imported = len(fresh) + others.imported
        return ImportOutcome(imported, len(repeated) + others.repeated, points + others.points)

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
