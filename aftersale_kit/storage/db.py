"""Engine creation and transactions for the two supported databases.

* **SQLite** (the embedded default): one file, WAL journal, ``synchronous=NORMAL``,
  ``busy_timeout``. Every write transaction starts with ``BEGIN IMMEDIATE`` so that the write lock
  is taken up front (a transaction never fails half-way because another writer got there first),
  and writers inside one process queue on a :class:`threading.Lock` rather than on SQLite's
  sleeping busy handler, which keeps the tail latency low. Other processes wait in the busy handler
  up to ``busy_timeout_ms``.

  ``synchronous=NORMAL`` in WAL mode: a committed transaction survives a crash or ``SIGKILL`` of the
  process (the WAL is in the OS page cache), but the last transactions before a power loss or
  kernel panic may be rolled back. The database is never corrupted. Pass ``sqlite_synchronous=
  "FULL"`` to :func:`create_database` for power-loss durability at the price of one fsync per
  commit.

  Checkpoints (copying the WAL into the database file, with its fsyncs) run in a background
  thread, not in the committing writer: SQLite's automatic checkpoint is switched off on the
  pooled connections, and after a write a daemon thread of the :class:`Database` runs a
  ``PASSIVE`` checkpoint (which never blocks readers or writers) at most every
  ``checkpoint_interval`` seconds on its own connection. With 13 KB webhook bodies the automatic
  checkpoint used to cost more than the inserts themselves. When the last connection closes,
  SQLite checkpoints whatever is left.
* **PostgreSQL** through psycopg 3 (``postgresql+psycopg://``; ``postgresql://`` and
  ``postgres://`` are accepted and mean the same). Transactions run at READ COMMITTED; the places
  that must serialise take an advisory transaction lock (:meth:`Database.lock`).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection, Engine, create_engine, event, exc, text
from sqlalchemy.engine import URL, make_url

from ..core.errors import MissingExtraError, StorageError

__all__ = ["DEFAULT_SQLITE_PATH", "Database", "create_database", "normalize_url"]

#: Where the embedded database lives when no URL is given (relative to the working directory).
DEFAULT_SQLITE_PATH = "aftersale.db"

Dialect = Literal["sqlite", "postgresql"]

_LOCK_SEED = 7411


def normalize_url(url: str | None, *, sqlite_path: str | Path = DEFAULT_SQLITE_PATH) -> URL:
    """Turn what a user wrote into a SQLAlchemy URL for one of the two supported drivers.

    ``None`` means the embedded SQLite file at ``sqlite_path``. Raises :class:`StorageError`
    naming what to write instead for anything else.
    """
    if url is None:
        return URL.create("sqlite+pysqlite", database=str(sqlite_path))
    try:
        parsed = make_url(url)
    except exc.ArgumentError as err:
        raise StorageError(
            f"database URL {url!r} does not parse; write e.g. 'sqlite:///./aftersale.db' or "
            "'postgresql://user@host:5432/dbname'"
        ) from err
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "postgres":
        backend = "postgresql"
    if backend == "sqlite" and driver in ("", "pysqlite"):
        if not parsed.database or parsed.database == ":memory:":
            raise StorageError(
                f"database URL {_safe(parsed)!r} names an in-memory SQLite database; the store "
                "needs a file shared by its connections, write e.g. 'sqlite:///./aftersale.db'"
            )
        return parsed.set(drivername="sqlite+pysqlite")
    if backend == "postgresql" and driver in ("", "psycopg"):
        return parsed.set(drivername="postgresql+psycopg")
    raise StorageError(
        f"database URL {_safe(parsed)!r} uses driver {parsed.drivername!r}; supported are "
        "'sqlite:///path/to/file.db' and 'postgresql+psycopg://user@host:5432/dbname' "
        "(psycopg 3)"
    )


def _safe(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def _refuse_when_closed(dialect: Dialect, record: Any, cargs: Any, cparams: Any) -> Any:
    raise StorageError("this store is closed; open a new one with Store.open(...)")


@dataclass(eq=False)
class Database:
    """An engine plus the transaction discipline of its dialect. Thread-safe; one per process."""

    engine: Engine
    dialect: Dialect
    _write_lock: threading.Lock | None = field(default=None, repr=False)
    _datetime_processor: Callable[[Any], Any] | None = field(default=None, repr=False)
    _checkpointer: _Checkpointer | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        """The URL with the password hidden (safe for logs and error messages)."""
        return _safe(self.engine.url)

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction: committed when the block ends, rolled back if it raises.

        SQLite: ``BEGIN IMMEDIATE`` (the write lock is held for the whole block). PostgreSQL:
        READ COMMITTED.
        """
        lock = self._write_lock if self._write_lock is not None else contextlib.nullcontext()
        with lock, self._translated(), self.engine.connect() as conn:
            conn.execution_options(aftersale_begin="BEGIN IMMEDIATE")
            with conn.begin():
                yield conn
        if self._checkpointer is not None:
            self._checkpointer.wrote()

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction (a consistent snapshot on SQLite; READ COMMITTED on PG)."""
        with self._translated(), self.engine.connect() as conn, conn.begin():
            yield conn

    @contextlib.contextmanager
    def raw_write(self) -> Iterator[Any]:
        """A write transaction on the driver's own cursor, for the hot path (webhook intake).

        Same discipline as :meth:`write` without SQLAlchemy's per-statement work: the SQL must
        be in the driver's parameter style (``?`` for sqlite3, ``%s`` for psycopg) and values
        already converted (see :meth:`datetime_param`).
        """
        lock = self._write_lock if self._write_lock is not None else contextlib.nullcontext()
        dbapi_error = self.engine.dialect.loaded_dbapi.Error
        with lock:
            try:
                raw = self.engine.raw_connection()
            except exc.DBAPIError as err:
                raise StorageError(f"database {self.url}: {err.orig}") from err
            try:
                cursor = raw.cursor()
                try:
                    if self.dialect == "sqlite":
                        cursor.execute("BEGIN IMMEDIATE")
                    yield cursor
                    raw.commit()
                except BaseException:
                    raw.rollback()
                    raise
                finally:
                    cursor.close()
            except dbapi_error as err:
                raise StorageError(f"database {self.url}: {err}") from err
            finally:
                raw.close()
        if self._checkpointer is not None:
            self._checkpointer.wrote()

    @contextlib.contextmanager
    def raw_read(self) -> Iterator[Any]:
        """A cursor of the driver on a pooled connection, for single-statement reads on a hot
        path (the block endpoint): no SQLAlchemy statement compilation, no write lock. The SQL
        is in the driver's parameter style (``?`` for sqlite3, ``%s`` for psycopg)."""
        dbapi_error = self.engine.dialect.loaded_dbapi.Error
        try:
            raw = self.engine.raw_connection()
        except exc.DBAPIError as err:
            raise StorageError(f"database {self.url}: {err.orig}") from err
        try:
            cursor = raw.cursor()
            try:
                yield cursor
            finally:
                cursor.close()
                if self.dialect == "postgresql":
                    raw.rollback()  # end the implicit transaction of the read
        except dbapi_error as err:
            raise StorageError(f"database {self.url}: {err}") from err
        finally:
            raw.close()

    def datetime_param(self, value: datetime) -> Any:
        """A timezone-aware datetime as the driver takes it for a timestamp column."""
        processor = self._datetime_processor
        if processor is None:
            from .tables import UtcDateTime

            impl = UtcDateTime().dialect_impl(self.engine.dialect)
            processor = self._datetime_processor = impl.bind_processor(self.engine.dialect)
        return processor(value) if processor is not None else value

    def lock(self, conn: Connection, name: str) -> None:
        """Serialise transactions on ``name`` until ``conn``'s transaction ends.

        PostgreSQL: ``pg_advisory_xact_lock`` on a hash of the current schema and ``name``.
        SQLite: nothing to do, a write transaction already excludes every other writer.
        """
        if self.dialect == "postgresql":
            conn.execute(
                text(
                    "SELECT pg_advisory_xact_lock(hashtextextended("
                    "coalesce(current_schema(), '') || '/' || :name, :seed))"
                ),
                {"name": name, "seed": _LOCK_SEED},
            )

    def dispose(self) -> None:
        """Close every connection for good: a later use raises :class:`StorageError` instead of
        quietly opening a new pool that nothing would close."""
        if self._checkpointer is not None:
            self._checkpointer.stop()
        self.engine.dispose()
        if not event.contains(self.engine, "do_connect", _refuse_when_closed):
            event.listen(self.engine, "do_connect", _refuse_when_closed)

    @contextlib.contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except exc.DBAPIError as err:
            raise StorageError(f"database {self.url}: {err.orig}") from err
        except exc.TimeoutError as err:
            raise StorageError(
                f"database {self.url}: no free connection in the pool ({err})"
            ) from err


def create_database(
    url: str | None,
    *,
    sqlite_path: str | Path = DEFAULT_SQLITE_PATH,
    busy_timeout_ms: int = 5000,
    sqlite_synchronous: Literal["NORMAL", "FULL"] = "NORMAL",
    pool_size: int = 10,
    echo: bool = False,
    checkpoint_interval: float = 0.2,
) -> Database:
    """Create the engine for ``url`` (see :func:`normalize_url`). Opens no connection yet.

    ``checkpoint_interval``: SQLite only, the least time between two background checkpoints
    (see the module docstring)."""
    parsed = normalize_url(url, sqlite_path=sqlite_path)
    if parsed.drivername == "postgresql+psycopg":
        try:
            import psycopg  # noqa: F401
        except ImportError as err:
            raise MissingExtraError("PostgreSQL storage", "postgres") from err
        engine = create_engine(
            parsed,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,
            echo=echo,
        )
        return Database(engine=engine, dialect="postgresql")

    engine = create_engine(
        parsed,
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
        echo=echo,
    )
    _install_sqlite_hooks(engine, busy_timeout_ms=busy_timeout_ms, synchronous=sqlite_synchronous)
    checkpointer = _Checkpointer(
        str(parsed.database), busy_timeout_ms=busy_timeout_ms, interval=checkpoint_interval
    )
    return Database(
        engine=engine,
        dialect="sqlite",
        _write_lock=threading.Lock(),
        _checkpointer=checkpointer,
    )


def _install_sqlite_hooks(engine: Engine, *, busy_timeout_ms: int, synchronous: str) -> None:
    # The stdlib driver's own transaction handling would defer BEGIN until the first write; the
    # SQLAlchemy recipe is to switch it off and emit BEGIN ourselves.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            _enable_wal(cursor, deadline=time.monotonic() + busy_timeout_ms / 1000)
            cursor.execute(f"PRAGMA synchronous={synchronous}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA wal_autocheckpoint=0")  # the _Checkpointer's job
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql(conn.get_execution_options().get("aftersale_begin", "BEGIN"))


def _enable_wal(cursor: Any, *, deadline: float) -> None:
    """Switch the file to WAL (a persistent setting, so usually already done).

    The switch needs an exclusive lock and SQLite reports "database is locked" at once instead
    of waiting in the busy handler when other connections open a fresh file at the same moment;
    so it is retried until the deadline.
    """
    while True:
        try:
            (mode,) = cursor.execute("PRAGMA journal_mode").fetchone()
            if str(mode).lower() == "wal":
                return
            (mode,) = cursor.execute("PRAGMA journal_mode=WAL").fetchone()
            if str(mode).lower() == "wal":
                return
        except sqlite3.OperationalError as err:
            if "locked" not in str(err):
                raise
        if time.monotonic() >= deadline:
            raise sqlite3.OperationalError("database is locked: could not switch it to WAL mode")
        time.sleep(0.005)


class _Checkpointer:
    """The background WAL checkpoint of one SQLite file (see the module docstring).

    :meth:`wrote` (after each write transaction) starts the daemon thread on first use and
    wakes it; the thread checkpoints, then sleeps ``interval`` before it looks again, so under
    load it checkpoints every ``interval`` seconds and when idle not at all.
    """

    def __init__(self, path: str, *, busy_timeout_ms: int, interval: float) -> None:
        self._path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._interval = interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def wrote(self) -> None:
        if self._thread is None:
            with self._start_lock:
                if self._thread is None and not self._stopping:
                    self._thread = threading.Thread(
                        target=self._run, name="sqlite-checkpoint", daemon=True
                    )
                    self._thread.start()
        self._wake.set()

    def stop(self) -> None:
        with self._start_lock:
            self._stopping = True
            thread = self._thread
        self._stop.set()
        self._wake.set()
        if thread is not None:
            thread.join(10)

    def _run(self) -> None:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout={int(self._busy_timeout_ms)}")
            while True:
                self._wake.wait()
                if self._stopping:
                    return
                self._wake.clear()
                # PASSIVE: copies what it can without waiting for, or blocking, anyone.
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                if self._stop.wait(self._interval):
                    return
        finally:
            conn.close()
