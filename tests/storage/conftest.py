"""Fixtures: every storage test runs on SQLite (a WAL file) and on PostgreSQL (a fresh schema)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from aftersale_kit.storage import Store
from aftersale_kit.storage.memory import MemoryStore
from aftersale_kit.testing.postgres import require_postgres, temporary_schema

ENGINES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@pytest.fixture(params=ENGINES)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file in tmp_path, or a PostgreSQL schema dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    with temporary_schema(require_postgres(), prefix="storage") as url:
        yield url


@pytest.fixture
def open_store(store_url: str) -> Iterator[Callable[[], Store]]:
    """Open further stores on the same database (as other processes would); closed at the end."""
    opened: list[Store] = []

    def _open() -> Store:
        store = Store.open(store_url)
        opened.append(store)
        return store

    yield _open
    for store in opened:
        store.close()


@pytest.fixture
def store(open_store: Callable[[], Store]) -> Store:
    """A migrated store on each engine."""
    store = open_store()
    store.migrate()
    return store


PORT_STORES = [pytest.param("memory", id="memory"), *ENGINES]


@pytest.fixture(params=PORT_STORES)
def port_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store | MemoryStore]:
    """A store behind the storage ports on each implementation: in memory, SQLite, PostgreSQL
    (the same behaviour tests run on all three, as the adapter contract suite does for
    platforms)."""
    if request.param == "memory":
        yield MemoryStore()
        return
    if request.param == "sqlite":
        with Store.open(f"sqlite:///{tmp_path / 'port.db'}", migrate=True) as store:
            yield store
        return
    with (
        temporary_schema(require_postgres(), prefix="port") as url,
        Store.open(url, migrate=True) as store,
    ):
        yield store
