"""``aftersale-kit report`` as a shop owner types it, over a real (empty) SQLite store and the
example shop: days out of range, a start in the future and a database file that is not there
are errors that say what to fix, never an internal error or a new empty store; the range is
the shop's days (its time zone), as on the dashboard."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from aftersale_kit.service.report_cli import report_main
from aftersale_kit.storage import Store

pytestmark = pytest.mark.slow

EXAMPLE = Path(__file__).parents[2] / "examples" / "kaffeeroesterei-shopify" / "shop.yaml"
SHOP = "bohnenglueck-kaffee.myshopify.com"


@pytest.fixture
def common(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("AFTERSALE_CODE_SECRET", "0123456789abcdef0123456789abcdef")
    monkeypatch.setenv("SHOPIFY_CLIENT_ID", "client")
    monkeypatch.setenv("SHOPIFY_CLIENT_SECRET", "0123456789abcdef0123456789abcdef")
    monkeypatch.setenv("AFTERSALE_CREDENTIALS_KEY", Fernet.generate_key().decode())
    url = f"sqlite:///{tmp_path / 'a.db'}"
    Store.open(url, migrate=True).close()  # the empty store serve made
    return [SHOP, "--config", str(EXAMPLE), "--db", url]


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "2026-02-30", "20261101", "2026-W45"])
def test_a_day_out_of_range_is_a_usage_error_naming_the_range(
    common: list[str], day: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        report_main([*common, "--since", day])
    err = capsys.readouterr().err
    assert stopped.value.code == 2
    assert "argument --since: expected a date such as 2026-01-01 between 1970-01-01" in err
    assert "internal error" not in err and "Traceback" not in err


def test_a_start_in_the_future_says_so(
    common: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert report_main([*common, "--since", "9000-01-01"]) == 1
    err = capsys.readouterr().err
    assert "--since 9000-01-01 is after today in the shop's time zone" in err


def test_the_range_is_the_shops_days(common: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    # the example shop is in Europe/Berlin: its 1 November starts at 23:00 UTC the day before
    args = [*common, "--since", "2026-11-01", "--until", "2026-12-01"]
    assert report_main([*args, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["since"], data["until"]) == (
        "2026-11-01T00:00:00+01:00",
        "2026-12-01T00:00:00+01:00",
    )
    assert report_main(args) == 0
    assert capsys.readouterr().out.startswith(f"{SHOP} (shopify) 2026-11-01 to 2026-12-01")


def test_a_database_that_is_not_there_is_named_not_created(
    common: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "typo.db"
    args = [*common[:-1], f"sqlite:///{missing}", "--since", "2026-11-01"]
    assert report_main(args) == 1
    assert f"no database at {missing}: give --db the database URL serve uses" in (
        capsys.readouterr().err
    )
    assert not missing.exists()
