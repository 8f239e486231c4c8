"""Migrations: an empty database goes to head, twice harmlessly, and matches the tables module."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from aftersale_kit.core.errors import StorageError
from aftersale_kit.storage import Store, normalize_url
from aftersale_kit.storage.migrate import head_revision
from aftersale_kit.storage.tables import metadata

TABLES = {
    "shops",
    "events",
    "jobs",
    "decisions",
    "ledger",
    "coupons",
    "blocks",
    "refunds",
    "closures",
    "redemptions",
    "order_facts",
}


def test_upgrade_of_an_empty_database_twice(open_store: Callable[[], Store]) -> None:
    # given an empty database
    store = open_store()
    assert store.schema_revision() is None
    # when it is migrated twice
    store.migrate()
    store.migrate()
    # then it is at head with every table, and the schema is exactly the tables module
    assert store.schema_revision() == head_revision()
    with store.db.read() as conn:
        assert set(inspect(conn).get_table_names()) >= TABLES
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


@pytest.mark.slow
def test_concurrent_migrations_from_separate_engines(open_store: Callable[[], Store]) -> None:
    # given four independent stores (own engines, as four processes would have)
    stores = [open_store() for _ in range(4)]
    barrier = threading.Barrier(len(stores))
    errors: list[BaseException] = []

    def run(store: Store) -> None:
        barrier.wait()
        try:
            store.migrate()
        except BaseException as exc:
            errors.append(exc)

    # when they all migrate at once
    threads = [threading.Thread(target=run, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # then none fails and the schema is at head
    assert errors == []
    assert stores[0].schema_revision() == head_revision()


def test_url_forms() -> None:
    assert normalize_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("sqlite:///x.db").drivername == "sqlite+pysqlite"
    assert normalize_url(None, sqlite_path="here.db").database == "here.db"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u@h/db", "supported are 'sqlite:///path/to/file.db'"),
        ("postgresql+psycopg2://u:secret@h/db", "uses driver 'postgresql+psycopg2'"),
        ("sqlite://", "in-memory SQLite database"),
        ("not a url", "does not parse"),
    ],
)
def test_unsupported_urls_are_refused_naming_the_fix(url: str, message: str) -> None:
    with pytest.raises(StorageError, match=re.escape(message)) as info:
        normalize_url(url)
    assert "secret" not in str(info.value)


def test_unreachable_database_is_a_storage_error_without_the_password() -> None:
    # given a server that does not exist (nothing listens on port 1)
    store = Store.open("postgresql://app:hunter2@127.0.0.1:1/nothing")
    try:
        # when it is used, then the error names the database but not the password
        with pytest.raises(StorageError, match=r"127\.0\.0\.1:1/nothing") as info:
            store.migrate()
        assert "hunter2" not in str(info.value)
    finally:
        store.close()


def test_a_closed_store_refuses_instead_of_reconnecting(store_url: str) -> None:
    # given a store that was used and closed
    store = Store.open(store_url)
    store.migrate()
    store.close()
    # when it is used again
    with pytest.raises(StorageError, match="this store is closed"):
        store.queue_stats()
    # then it did not open a new pool behind the caller's back (closing again is harmless)
    store.close()


def test_r0009_keys_suppressions_by_address_and_goes_back(
    open_store: Callable[[], Store],
) -> None:
    from datetime import UTC, datetime

    from alembic import command
    from sqlalchemy import text

    from aftersale_kit.storage.migrate import alembic_config, upgrade

    store = open_store()
    # a database at r0008_links with suppressions by link subject, one with an address
    upgrade(store.db, "r0008_links")
    at = datetime(2026, 12, 1, tzinfo=UTC)
    with store.db.write() as conn:
        conn.execute(
            text(
                "INSERT INTO suppressions (shop, subject, email, reason, created_at)"
                " VALUES ('s.example', 'c-1', ' Kim@Example.com', 'unsubscribe_link', :at),"
                " ('s.example', 'c-2', NULL, 'unsubscribe_link', :at)"
            ),
            {"at": at},
        )
    upgrade(store.db)
    assert store.schema_revision() == head_revision()
    # then the one with an address is kept, by its address; the other named no one
    found = store.suppression("s.example", "kim@example.com")
    assert found is not None and found.reason == "unsubscribe_link" and found.created_at == at
    assert found.subject == "c-1"
    with store.db.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM suppressions")).scalar_one() == 1
    # and down again: the row is back by a subject naming its address
    config = alembic_config(store.db)
    with store.db.write() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "r0008_links")
    with store.db.read() as conn:
        rows = conn.execute(text("SELECT subject, email FROM suppressions")).all()
        columns = {c["name"] for c in inspect(conn).get_columns("consents")}
    assert [tuple(r) for r in rows] == [("email:kim@example.com", "kim@example.com")]
    assert "withdrawn_at" not in columns


def test_r0010_adds_order_facts_and_goes_back(open_store: Callable[[], Store]) -> None:
    from datetime import UTC, datetime

    from alembic import command
    from sqlalchemy import text

    from aftersale_kit.storage.migrate import alembic_config, upgrade

    store = open_store()
    # given a database at r0009_messages with a redemption recorded
    upgrade(store.db, "r0009_messages")
    at = datetime(2026, 12, 1, tzinfo=UTC)
    with store.db.write() as conn:
        conn.execute(
            text(
                "INSERT INTO redemptions (shop, code, coupon_key, campaign_id, issuing_order_id,"
                " redeeming_order_id, amount_micros, currency, redeemed_at, recorded_at)"
                " VALUES ('s.example', 'DANKE-1', 'k', 'danke', 'a', 'b', 5000000, 'EUR', :at,"
                " :at)"
            ),
            {"at": at},
        )
    # when it goes to head
    upgrade(store.db)
    # then order_facts is there (empty: orders decided before have no facts) and the
    # redemption is untouched
    assert store.schema_revision() == head_revision()
    assert store.order_facts("s.example") == []
    assert [r.redeeming_order_id for r in store.redemptions("s.example")] == ["b"]
    # and down again: the table is gone, the redemption stays
    config = alembic_config(store.db)
    with store.db.write() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "r0009_messages")
    with store.db.read() as conn:
        tables = set(inspect(conn).get_table_names())
        count = conn.execute(text("SELECT count(*) FROM redemptions")).scalar_one()
    assert "order_facts" not in tables
    assert count == 1
