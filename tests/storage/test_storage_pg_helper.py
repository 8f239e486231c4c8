"""The PostgreSQL test helper: skip with a reason when the server is missing, fail under CI."""

from __future__ import annotations

import psycopg
import pytest

from aftersale_kit.testing import postgres
from aftersale_kit.testing.postgres import (
    libpq_url,
    require_postgres,
    temporary_schema,
    with_search_path,
)

NOWHERE = "postgresql+psycopg://postgres:pw@127.0.0.1:1/none"


def test_an_unreachable_server_skips_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"127\.0\.0\.1:1/none is not reachable"):
        require_postgres(NOWHERE)


def test_an_unreachable_server_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true: PostgreSQL tests must run") as info:
        require_postgres(NOWHERE)
    assert ":pw@" not in str(info.value)


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("TRUE", True), ("1", False)])
def test_ci_flag(monkeypatch: pytest.MonkeyPatch, value: str, expected: bool) -> None:
    monkeypatch.setenv("CI", value)
    assert postgres.in_ci() is expected


def test_urls() -> None:
    assert libpq_url("postgresql+psycopg://u@h/db") == "postgresql://u@h/db"
    assert with_search_path("postgresql+psycopg://u@h/db?sslmode=disable", "s1") == (
        "postgresql+psycopg://u@h/db?sslmode=disable&options=-csearch_path%3Ds1"
    )


@pytest.mark.postgres
def test_a_temporary_schema_is_used_and_dropped() -> None:
    server = require_postgres()
    with temporary_schema(server, prefix="helper") as url:
        with psycopg.connect(libpq_url(url)) as conn:
            row = conn.execute("SELECT current_schema()").fetchone()
        assert row is not None
        schema = row[0]
        assert schema.startswith("helper_")
    with psycopg.connect(libpq_url(server)) as conn:
        gone = conn.execute(
            "SELECT count(*) FROM pg_namespace WHERE nspname = %s", (schema,)
        ).fetchone()
    assert gone == (0,)
