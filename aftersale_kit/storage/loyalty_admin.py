"""What operators do with the loyalty ledger: list balances, import balances from another app in
one transaction, and sum the journal for the points accounting of a period.

The values here are shared by the SQL store (:mod:`._loyalty_admin_sql`) and the memory store
(:mod:`._memory_loyalty_admin`); the import is written once against :class:`~.loyalty.LoyaltyTx`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from ..core.errors import StorageError
from ..core.loyalty.ledger import Movement, MovementKind, SourceKind, Status
from ..core.loyalty.program import SpentRefundPolicy
from . import loyalty
from .loyalty import Identity, JournalRow, LoyaltyTx

__all__ = [
    "AccountBalance",
    "ImportEntry",
    "ImportOutcome",
    "ImportRefusedError",
    "LedgerTotals",
    "TotalsGroup",
    "import_entries",
]


class ImportRefusedError(StorageError):
    """An import entry the ledger refuses; the whole import is rolled back."""


@dataclass(frozen=True, slots=True)
class AccountBalance:
    """One account with its owner (personal data; empty after a redact) and running totals."""

    account: str
    customer_id: str | None
    email: str | None
    pending: int
    available: int
    debt: int


@dataclass(frozen=True, slots=True)
class ImportEntry:
    """Book ``movement`` (an ``imported`` one) on ``account``, created for ``identity``."""

    account: str
    identity: Identity
    movement: Movement


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    #: Entries booked now.
    imported: int
    #: Entries whose key was booked before (an import run again): nothing moved.
    repeated: int
    #: Points booked now.
    points: int


@dataclass(frozen=True, slots=True)
class TotalsGroup:
    """The movements of one kind, source and tier booked in a period, summed."""

    kind: MovementKind
    source: SourceKind
    tier: str | None
    count: int
    points: int
    pending: int
    available: int
    #: The spend the movements carry (earned: the orders' merchandise value; reversed: minus
    #: the refunded share).
    spend: Decimal


@dataclass(frozen=True, slots=True)
class LedgerTotals:
    """A shop's journal summed for ``[since, until)`` (by the time a movement was booked)."""

    since: datetime
    until: datetime
    opening_pending: int
    opening_available: int
    closing_pending: int
    closing_available: int
    groups: tuple[TotalsGroup, ...]
    #: Accounts of the shop, and the sums of their running totals now.
    accounts: int
    running_pending: int
    running_available: int

    def kind(self, kind: MovementKind) -> tuple[int, int, int, int]:
        """``(count, points, pending delta, available delta)`` of the movements of ``kind``."""
        found = [g for g in self.groups if g.kind is kind]
        return (
            sum(g.count for g in found),
            sum(g.points for g in found),
            sum(g.pending for g in found),
            sum(g.available for g in found),
        )


def add_group(groups: dict[tuple[str, str, str | None], TotalsGroup], row: JournalRow) -> None:
    """Add one journal row to ``groups`` (the memory store's GROUP BY)."""
    m = row.movement
    key = (m.kind.value, m.source.value, row.tier)
    old = groups.get(key) or TotalsGroup(m.kind, m.source, row.tier, 0, 0, 0, 0, Decimal(0))
    groups[key] = TotalsGroup(
        m.kind,
        m.source,
        row.tier,
        old.count + 1,
        old.points + m.points,
        old.pending + row.pending_delta,
        old.available + row.available_delta,
        old.spend + (row.spend or Decimal(0)),
    )


def check_entries(entries: Sequence[ImportEntry]) -> None:
    """Refuse an import the ledger could not book in full, before anything is written."""
    for entry in entries:
        m = entry.movement
        if m.kind is not MovementKind.IMPORTED or m.points < 0:
            raise ImportRefusedError(
                f"account {entry.account!r}: an import books 'imported' movements of 0 or "
                f"more points, got {m.kind.value} {m.points}"
            )


def import_entries(
    tx: LoyaltyTx,
    *,
    shop: str,
    entries: Sequence[ImportEntry],
    now: datetime,
    progress: Callable[[int], None] | None = None,
) -> ImportOutcome:
    """Book every entry in the caller's transaction; an entry booked before (its key) moves
    nothing. Raises :class:`ImportRefusedError` (the caller rolls back) for one the ledger
    refuses. ``progress`` is called with the number of entries done."""
    check_entries(entries)
    imported = repeated = points = 0
    for done, entry in enumerate(entries, 1):
        row = loyalty._require(tx, shop, entry.account, entry.identity, now)
        book, result = loyalty._book_one(
            tx,
            row,
            loyalty._load(tx, row),
            JournalRow(entry.movement, 0, 0),
            policy=SpentRefundPolicy.NEGATIVE_BALANCE,
            now=now,
        )
        if result.status is Status.DUPLICATE:
            repeated += 1
        elif result.status is Status.REJECTED:
            raise ImportRefusedError(f"account {entry.account!r}: {result.reason}")
        else:
            imported += 1
            points += entry.movement.points
            loyalty._finish(tx, row, book, now)
        if progress is not None:
            progress(done)
    return ImportOutcome(imported, repeated, points)
