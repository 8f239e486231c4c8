"""The operators' loyalty methods of :class:`~aftersale_kit.storage.memory.MemoryStore`."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from ._sql import aware
from .loyalty_admin import (
    AccountBalance,
    ImportEntry,
    ImportOutcome,
    LedgerTotals,
    TotalsGroup,
    add_group,
    check_entries,
    import_entries,
)

__all__ = ["MemoryLoyaltyAdmin"]


class MemoryLoyaltyAdmin:
    """Mixed into the memory store beside :class:`~._memory_loyalty.MemoryLoyalty`."""

    _lock: threading.RLock

    def _loyalty_tx(self) -> Any:
        raise NotImplementedError

    def loyalty_balances(self, shop: str) -> list[AccountBalance]:
        with self._lock:
            rows = self._loyalty_tx().rows
            return [
                AccountBalance(a.account, a.customer_id, a.email, a.pending, a.available, a.debt)
                for a in rows.accounts.values()
                if a.shop == shop
            ]

    def loyalty_import(
        self,
        shop: str,
        entries: Sequence[ImportEntry],
        *,
        now: datetime | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> ImportOutcome:
        now = aware(now, "now")
        with self._lock:
            check_entries(entries)  # nothing is rolled back here: refuse before writing
            return import_entries(
                self._loyalty_tx(), shop=shop, entries=entries, now=now, progress=progress
            )

    def loyalty_totals(self, shop: str, *, since: datetime, until: datetime) -> LedgerTotals:
        since, until = aware(since, "since"), aware(until, "until")
        opening = [0, 0]
        closing = [0, 0]
        groups: dict[tuple[str, str, str | None], TotalsGroup] = {}
        with self._lock:
            rows = self._loyalty_tx().rows
            accounts = [a for a in rows.accounts.values() if a.shop == shop]
            for account in accounts:
                for row in rows.journal.get(account.id, []):
                    at = row.booked_at
                    assert at is not None
                    if at < since:
                        opening[0] += row.pending_delta
                        opening[1] += row.available_delta
                    if at < until:
                        closing[0] += row.pending_delta
                        closing[1] += row.available_delta
                    if since <= at < until:
                        add_group(groups, row)
        return LedgerTotals(
            since=since,
            until=until,
            opening_pending=opening[0],
            opening_available=opening[1],
            closing_pending=closing[0],
            closing_available=closing[1],
            groups=tuple(groups[k] for k in sorted(groups, key=lambda k: (k[0], k[1], k[2] or ""))),
            accounts=len(accounts),
            running_pending=sum(a.pending for a in accounts),
            running_available=sum(a.available for a in accounts),
        )
