"""``aftersale-kit surveys report``: ratings, problems and complaints by month and shipping
method, from answers stored in a real SQLite database."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aftersale_kit.cli import main
from aftersale_kit.storage import MessageOutcome, MessageState, NewMessage, Store
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


def _sent_surveys(url: str) -> None:
    """Survey e-mails the schedule sent: 4 in January, 2 in February, 1 before ``--since``."""
    rows = [
        # order, shipping method, sent at
        ("1", "DHL Paket", datetime(2026, 1, 3, tzinfo=UTC)),
        ("2", "DHL Paket", datetime(2026, 1, 4, tzinfo=UTC)),
        ("5", "DHL Paket", datetime(2026, 1, 5, tzinfo=UTC)),
        ("6", "Hermes", datetime(2026, 1, 6, tzinfo=UTC)),
        ("3", "Hermes", datetime(2026, 2, 1, tzinfo=UTC)),
        ("4", None, datetime(2026, 2, 2, tzinfo=UTC)),
        ("old", "Hermes", datetime(2025, 5, 20, tzinfo=UTC)),
    ]
    with Store.open(url) as store:
        for order, method, at in rows:
            store.plan_messages(
                [
                    NewMessage(
                        shop=SHOP, key=f"survey:{order}", order_id=order, customer_key=None,
                        email=f"{order}@example.com", campaign_id="umfrage", occurrence=1,
                        kind="survey", template="survey", purpose="transactional", due_at=at,
                        data={"shipping_method": method},
                    )
                ],
                now=at,
            )  # fmt: skip
            (claimed,) = store.claim_messages(worker_id="w", now=at)
            done = MessageOutcome(MessageState.SENT, message_id=f"<{order}@x>", sent_at=at)
            assert store.finish_message(claimed.id, worker_id="w", outcome=done, now=at)


def test_report_by_month_and_shipping_method(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'report.db'}"
    _seed(url)
    _sent_surveys(url)
    assert main(["surveys", "report", SHOP, "--since", "2026-01-01", "--db", url, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    (total,) = out["total"]
    # four answers since January (the one of June 2025 is left out)
    assert (total["answers"], total["average_rating"], total["complaints"]) == (4, "3.25", 2)
    # of the three who answered the delivery question one had a problem; payment likewise
    assert (total["delivery_problems"], total["payment_problems"]) == ("33.3%", "33.3%")
    # four answers to six survey e-mails sent since January
    assert (total["sent"], total["response_rate"]) == (6, "66.7%")
    months = {
        r["group"]: (r["answers"], r["average_rating"], r["response_rate"]) for r in out["by_month"]
    }
    assert months == {"2026-01": (2, "3.00", "50.0%"), "2026-02": (2, "3.50", "100.0%")}
    methods = {
        r["group"]: (r["answers"], r["delivery_problems"], r["response_rate"])
        for r in out["by_shipping_method"]
    }
    assert methods == {
        "(unknown)": (1, None, "100.0%"),
        "DHL Paket": (2, "50.0%", "66.7%"),
        "Hermes": (1, "0.0%", "50.0%"),
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
