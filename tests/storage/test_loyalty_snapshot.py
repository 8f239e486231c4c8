"""The loyalty account's snapshot: what its journal replays to, kept on its row (r0011).

A booking reads it instead of replaying the journal; the journal stays the truth: the check
compares the two, a snapshot that disagrees with the running totals is not used, and an account
without one is replayed once and gets one with its next booking. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import inspect, select, text, update
from storage_builders import NOW, SHOP
from test_port_contract_loyalty import ME, PROGRAM, book, earning, released, reversal

from aftersale_kit.core.loyalty.ledger import MovementKind
from aftersale_kit.storage import Store
from aftersale_kit.storage._loyalty_snapshot import decode
from aftersale_kit.storage.loyalty import LedgerDriftError
from aftersale_kit.storage.migrate import head_revision
from aftersale_kit.storage.tables import loyalty_accounts


def stored(store: Store) -> str | None:
    with store.db.read() as conn:
        value = conn.execute(
            select(loyalty_accounts.c.state).where(loyalty_accounts.c.account == "c1")
        ).scalar_one()
    return None if value is None else str(value)


def set_stored(store: Store, value: str | None) -> None:
    with store.db.write() as conn:
        conn.execute(update(loyalty_accounts).values(state=value))


def test_every_booking_leaves_the_snapshot_its_journal_replays_to(store: Store) -> None:
    # given an account with earnings, a release, a redemption and a reversal
    released(store, 300)
    book(store, earning("2", 80, at=NOW + timedelta(days=1)), reversal("1", 40))
    outcome = store.loyalty_redeem(
        shop=SHOP,
        account="c1",
        identity=ME,
        program=PROGRAM,
        option_id="five",
        request="q1",
        code="PTS-1",
        now=NOW + timedelta(days=16),
    )
    assert outcome.ok
    # then the row's snapshot covers every journal row, with the totals of the row
    snapshot = decode(stored(store))
    journal = store.loyalty_journal(SHOP, "c1")
    balance = store.loyalty_balance(SHOP, "c1")
    assert snapshot is not None and snapshot.rows == len(journal) == 5
    assert (snapshot.state.pending, snapshot.state.available) == (
        balance.pending,
        balance.available,
    )
    # and what the plan reads from it is what the journal says
    view = store.loyalty_account(SHOP, "c1")
    assert set(view.earned) == {"earn:1", "earn:2"}
    assert view.earned["earn:2"] == next(r for r in journal if r.movement.key == "earn:2")
    assert [a.points for a in view.history] == [300, 80, -40]
    assert store.loyalty_check(SHOP) == 1


def test_the_check_finds_a_snapshot_that_differs_from_the_journal(store: Store) -> None:
    book(store, earning("1", 50), earning("2", 70))
    data = json.loads(stored(store) or "")
    # a grant's points changed, the totals left as they are
    data["grants"][0][2] = 51
    set_stored(store, json.dumps(data))
    with pytest.raises(LedgerDriftError, match="snapshot"):
        store.loyalty_check(SHOP)


def test_an_account_without_a_snapshot_is_replayed_and_gets_one(store: Store) -> None:
    book(store, earning("1", 50))
    set_stored(store, None)
    # the earning booked before is still seen (from the journal): booked again, nothing moves
    again = book(store, earning("1", 50), earning("2", 20))
    assert [r.movement.key for r in again.booked] == ["earn:2"]
    assert (again.balance.pending, again.balance.available) == (70, 0)
    snapshot = decode(stored(store))
    assert snapshot is not None and snapshot.rows == 2
    assert store.loyalty_check(SHOP) == 1


def test_a_snapshot_that_disagrees_with_the_totals_is_not_used(store: Store) -> None:
    book(store, earning("1", 50))
    data = json.loads(stored(store) or "")
    data.update(pending=0, seen=[], grants=[], earned=[], history=[], rows=0)
    set_stored(store, json.dumps(data))
    # the booking replays the journal instead: the earning is not booked twice
    again = book(store, earning("1", 50))
    assert again.booked == () and again.balance.pending == 50
    assert store.loyalty_check(SHOP) == 1


def test_r0011_adds_the_state_existing_accounts_replay_once_and_it_goes_back(
    open_store: Callable[[], Store],
) -> None:
    from alembic import command

    from aftersale_kit.storage.migrate import alembic_config, upgrade

    store = open_store()
    # given a database at r0010_results with an account and its earning
    upgrade(store.db, "r0010_results")
    at = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    with store.db.write() as conn:
        conn.execute(
            text(
                "INSERT INTO loyalty_accounts (shop, account, customer_id, email, pending,"
                " available, debt, created_at, updated_at)"
                " VALUES (:shop, 'c1', 'c1', NULL, 50, 0, 0, :at, :at)"
            ),
            {"shop": SHOP, "at": at},
        )
        account_id = conn.execute(text("SELECT id FROM loyalty_accounts")).scalar_one()
        conn.execute(
            text(
                "INSERT INTO loyalty_movements (shop, account_id, key, kind, points,"
                " pending_delta, available_delta, source, ref, reason, spend_micros, at,"
                " booked_at) VALUES (:shop, :id, 'earn:1', 'earned_pending', 50, 50, 0,"
                " 'order', '1', 'order 1', 50000000, :at, :at)"
            ),
            {"shop": SHOP, "id": account_id, "at": at},
        )
    # when it is upgraded
    upgrade(store.db)
    assert store.schema_revision() == head_revision()
    assert stored(store) is None and store.loyalty_check(SHOP) == 1
    # then the next booking replays the journal once and writes the snapshot
    outcome = book(store, earning("1", 50), earning("2", 30))
    assert [r.movement.key for r in outcome.booked] == ["earn:2"]
    snapshot = decode(stored(store))
    assert snapshot is not None and snapshot.rows == 2
    assert snapshot.earned["earn:1"].spend == Decimal(50)
    assert store.loyalty_check(SHOP) == 1
    # and down again: the column goes, the journal and the totals stay
    config = alembic_config(store.db)
    with store.db.write() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "r0010_results")
    with store.db.read() as conn:
        columns = {c["name"] for c in inspect(conn).get_columns("loyalty_accounts")}
        kinds = conn.execute(text("SELECT kind FROM loyalty_movements ORDER BY id")).scalars()
        assert list(kinds) == [MovementKind.EARNED_PENDING.value] * 2
        pending = conn.execute(text("SELECT pending FROM loyalty_accounts")).scalar_one()
    assert "state" not in columns and pending == 80
