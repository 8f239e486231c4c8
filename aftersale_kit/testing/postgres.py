"""PostgreSQL for tests: find the server, skip when it is missing, a throwaway schema per test.

The server is ``$AFTERSALE_TEST_POSTGRES_URL`` or ``postgresql+psycopg://postgres@127.0.0.1:5432/
test``. When it cannot be reached the test is skipped with the reason, except under ``CI=true``,
where it fails: CI must not pass by skipping the PostgreSQL half of a suite. ::

    from aftersale_kit.testing.postgres import require_postgres, temporary_schema

    @pytest.fixture
    def pg_url() -> Iterator[str]:
        with temporary_schema(require_postgres()) as url:
            yield url      # search_path is a fresh schema, dropped afterwards

Nothing here connects at import time; psycopg and pytest are imported when used.
"""

from __future__ import annotations

import contextlib
import os
import threading
import uuid
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = [
    "DEFAULT_URL",
    "ENV_URL",
    "in_ci",
    "libpq_url",
    "postgres_url",
    "require_postgres",
    "temporary_schema",
    "unreachable_reason",
    "with_search_path",
]

ENV_URL = "AFTERSALE_TEST_POSTGRES_URL"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

_checked: dict[str, str | None] = {}
_checked_lock = threading.Lock()


def postgres_url() -> str:
    """The test server's URL (SQLAlchemy form, ``postgresql+psycopg://``)."""
    return os.environ.get(ENV_URL) or DEFAULT_URL


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def libpq_url(url: str) -> str:
    """The URL as psycopg/libpq reads it (driver suffix removed)."""
    scheme, rest = url.split("://", 1)
    return f"{scheme.split('+', 1)[0]}://{rest}"


def unreachable_reason(url: str | None = None) -> str | None:
    """Why the server cannot be used, or ``None`` if it answers. Checked once per URL."""
    url = url or postgres_url()
    with _checked_lock:
        if url in _checked:
            return _checked[url]
        reason: str | None
        try:
            import psycopg
        except ImportError:
            reason = "psycopg is not installed: pip install 'aftersale-kit[postgres]'"
        else:
            try:
                with psycopg.connect(libpq_url(url), connect_timeout=3) as conn:
                    conn.execute("SELECT 1")
                reason = None
            except psycopg.Error as exc:
                reason = f"PostgreSQL at {_hide_password(url)} is not reachable: {exc}".strip()
        _checked[url] = reason
        return reason


def require_postgres(url: str | None = None) -> str:
    """The server's URL; skips the calling test when it is unreachable (fails under CI=true)."""
    import pytest

    url = url or postgres_url()
    reason = unreachable_reason(url)
    if reason is not None:
        if in_ci():
            pytest.fail(f"{reason} (CI=true: PostgreSQL tests must run)", pytrace=False)
        pytest.skip(reason)
    return url


def with_search_path(url: str, schema: str) -> str:
    """``url`` with libpq ``options=-csearch_path=<schema>`` added to its query."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "options"]
    query.append(("options", f"-csearch_path={schema}"))
    return urlunsplit(parts._replace(query=urlencode(query)))


@contextlib.contextmanager
def temporary_schema(url: str | None = None, *, prefix: str = "test") -> Iterator[str]:
    """Create a uniquely named schema, yield ``url`` pointed at it, drop it (with its tables)."""
    import psycopg
    from psycopg import sql

    url = url or postgres_url()
    schema = f"{prefix}_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        yield with_search_path(url, schema)
    finally:
        with psycopg.connect(libpq_url(url), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def _hide_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))
