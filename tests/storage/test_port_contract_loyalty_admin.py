"""The operators' loyalty queries on the memory store, SQLite and PostgreSQL: balances, the
one-transaction import (again: nothing moves) and the period totals the report adds up."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from storage_builders import NOW, SHOP
from test_port_contract_loyalty import PROGRAM, book, earning, reversal

from aftersale_kit.core.loyalty.ledger import Movement, MovementKind, SourceKind
from aftersale_kit.storage.loyalty import Identity
from aftersale_kit.storage.loyalty_admin import ImportEntry, ImportRefusedError

AnyStore = Any


def entry(account: str, points: int, key: str | None = None) -> ImportEntry:
    movement = Movement(
        key=key or f"import:{account}:{points}",
        kind=MovementKind.IMPORTED,
        at=NOW,
        points=points,
        source=SourceKind.IMPORT,
        ref="old.csv:2",
        reason="imported",
        expires_at=NOW + timedelta(days=365),
    )
    return ImportEntry(account, Identity(email=f"{account}@example.com"), movement)


def test_an_import_books_every_entry_once_and_again_moves_nothing(port_store: AnyStore) -> None:
    entries = [entry(f"k{i}", 10 * i) for i in range(1, 6)]
    seen: list[int] = []
    first = port_store.loyalty_import(SHOP, entries, now=NOW, progress=seen.append)
    assert (first.imported, first.repeated, first.points) == (5, 0, 150)
    assert seen and seen == sorted(seen) and seen[-1] == 5  # rows done, rising to all
    again = port_store.loyalty_import(SHOP, entries, now=NOW + timedelta(hours=1))
    assert (again.imported, again.repeated, again.points) == (0, 5, 0)
    balances = {b.account: b for b in port_store.loyalty_balances(SHOP)}
    assert sorted(balances) == ["k1", "k2", "k3", "k4", "k5"]
    assert (balances["k3"].available, balances["k3"].pending) == (30, 0)
    assert balances["k3"].email == "k3@example.com"
    assert len(port_store.loyalty_journal(SHOP, "k3")) == 1
    assert port_store.loyalty_check(SHOP) == 5


def test_an_import_with_an_entry_the_ledger_refuses_books_nothing(port_store: AnyStore) -> None:
    entries = [entry("a", 10), entry("b", -5), entry("c", 10)]
    with pytest.raises(ImportRefusedError, match="'b'"):
        port_store.loyalty_import(SHOP, entries, now=NOW)
    assert port_store.loyalty_balances(SHOP) == []


def test_the_totals_of_a_period_add_up_to_the_closing_balance(port_store: AnyStore) -> None:
    # before the period: an import of 50 and an order earning 120 (pending)
    port_store.loyalty_import(SHOP, [entry("c1", 50)], now=NOW - timedelta(days=1))
    book(port_store, earning("1", 120), now=NOW - timedelta(hours=1))
    # in the period: the release, a refund taking 20, another order earning 30
    port_store.loyalty_sweep(shop=SHOP, account="c1", program=PROGRAM, now=NOW + timedelta(days=15))
    book(port_store, reversal("1", 20), now=NOW + timedelta(days=16))
    book(port_store, earning("2", 30), now=NOW + timedelta(days=17))
    # after the period: another order
    book(port_store, earning("3", 7), now=NOW + timedelta(days=40))
    totals = port_store.loyalty_totals(SHOP, since=NOW, until=NOW + timedelta(days=30))
    assert (totals.opening_pending, totals.opening_available) == (120, 50)
    assert totals.kind(MovementKind.RELEASED) == (1, 0, -120, 120)
    assert totals.kind(MovementKind.REVERSED)[0] == 1
    assert totals.kind(MovementKind.REVERSED)[2] + totals.kind(MovementKind.REVERSED)[3] == -20
    assert totals.kind(MovementKind.EARNED_PENDING) == (1, 30, 30, 0)
    assert totals.kind(MovementKind.IMPORTED) == (0, 0, 0, 0)
    assert (totals.closing_pending, totals.closing_available) == (30, 150)
    pending = totals.opening_pending + sum(g.pending for g in totals.groups)
    available = totals.opening_available + sum(g.available for g in totals.groups)
    assert (pending, available) == (totals.closing_pending, totals.closing_available)
    # the running totals include the order after the period
    assert totals.accounts == 1
    assert (totals.running_pending, totals.running_available) == (37, 150)
    earned = [g for g in totals.groups if g.kind is MovementKind.EARNED_PENDING]
    assert [(g.tier, g.spend) for g in earned] == [(None, 30)]
