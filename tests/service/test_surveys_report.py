"""``aftersale-kit surveys report``: ratings, problems and complaints by month and shipping
method, from answers stored in a real SQLite database."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aftersale_kit.cli import main
from aftersale_kit.storage import Store
from aftersale_kit.storage.links import SurveyForm

SHOP = "bohne.myshopify.com"


def _seed(url: str) -> None:
    rows = [
        # order, rating, method, rated at, form (delivery ok, payment ok)
        ("1", 5, "DHL Paket", datetime(2026, 1, 10, tzinfo=UTC), (True, True)),
        ("2", 1, "DHL Paket", datetime(2026, 1, 20, tzinfo=UTC), (False, True)),
        ("3", 4, "Hermes", datetime(2026, 2, 3, tzinfo=UTC), (True, False)),
        ("4", 3, None, datetime(2026, 2, 28, 23, 30, tzinfo=UTC), None),
        ("old", 1, "Hermes", datetime(2025, 6, 1, tzinfo=UTC), None),
    ]
    with Store.open(url, migrate=True) as store:
        for order, rating, method, at, form in rows:
            store.record_survey_rating(
                shop=SHOP,
                order_id=order,
                nonce=f"n{order}",
                rating=rating,
                shipping_method=method,
                now=at,
            )
            if form is not None:
                store.record_survey_form(
                    shop=SHOP,
                    order_id=order,
                    form=SurveyForm(delivery_ok=form[0], payment_ok=form[1]),
                    now=at,
                )


def test_report_by_month_and_shipping_method(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'report.db'}"
    _seed(url)
    assert main(["surveys", "report", SHOP, "--since", "2026-01-01", "--db", url, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    (total,) = out["total"]
    # four answers since January (the one of June 2025 is left out)
    assert (total["answers"], total["average_rating"], total["complaints"]) == (4, "3.25", 2)
    # of the three who answered the delivery question one had a problem; payment likewise
    assert (total["delivery_problems"], total["payment_problems"]) == ("33.3%", "33.3%")
    months = {r["group"]: (r["answers"], r["average_rating"]) for r in out["by_month"]}
    assert months == {"2026-01": (2, "3.00"), "2026-02": (2, "3.50")}
    methods = {
        r["group"]: (r["answers"], r["delivery_problems"]) for r in out["by_shipping_method"]
    }
    assert methods == {
        "(unknown)": (1, None),
        "DHL Paket": (2, "50.0%"),
        "Hermes": (1, "0.0%"),
    }
    # the text form has the three sections
    assert main(["surveys", "report", SHOP, "--since", "2026-01-01", "--db", url]) == 0
    text = capsys.readouterr().out
    assert "By month" in text and "By shipping method" in text and "DHL Paket" in text


def test_report_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["surveys", "report", SHOP, "--since", "gestern"])
    assert exited.value.code == 2
    assert "expected a date such as 2026-01-01" in capsys.readouterr().err
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    assert main(["surveys", "report", SHOP, "--since", "2026-01-01", "--db", empty]) == 1
    assert "no schema yet" in capsys.readouterr().err
