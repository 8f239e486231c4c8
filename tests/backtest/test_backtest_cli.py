"""``aftersale-kit backtest``: the config checked as ``validate`` checks it, bad input named with
the fix, and a run over a generated history that reports the rows it skipped, what each campaign
would have cost and where its budget ran out, in the summary, the page and the JSON alike."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from aftersale_kit.cli import main

ROOT = Path(__file__).resolve().parents[2]
GERMAN_MONTHS = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
                 "September", "Oktober", "November", "Dezember")  # fmt: skip

CONFIG = """\
version: 1
shop:
  platform: shopify
  domain: test-roesterei.myshopify.com
  currency: EUR
  locale: {locale}
  timezone: Europe/Berlin
  backtest: {{redemption_rate: 0.5}}
campaigns:
  - id: danke
    description: "Dankeschön <b>Gutschein</b>"
    when: subtotal >= {threshold}
    budget: {{amount: {budget}, period: month}}
    actions:
      - issue_coupon: {{type: fixed_amount, value: 5, valid_days: 30}}
"""


def _config(tmp_path: Path, name: str = "shop.yaml", *, threshold: int = 50,
            budget: int = 150, locale: str = "de_DE") -> Path:  # fmt: skip
    path = tmp_path / name
    text = CONFIG.format(threshold=threshold, budget=budget, locale=locale)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A year of 1,500 generated orders as a Shopify orders export, with two corrupt rows (their
    lines in ``broken.txt`` beside it)."""
    out = tmp_path_factory.mktemp("history")
    subprocess.run(
        [sys.executable, "-m", "bench", "orders", "--count", "1500", "--customers", "400",
         "--format", "shopify-csv", "--out", str(out), "--seed", "11"],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    export = out / "orders_export.csv"
    with export.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    created = rows[0].index("Created at")
    # the first order rows from line 5 and from line 40 on get a date no reader can use
    broken = []
    for start in (5, 40):
        line = next(n for n in range(start, len(rows) + 1) if rows[n - 1][created])
        rows[line - 1][created] = "gestern"
        broken.append(line)
    with export.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    (out / "broken.txt").write_text(" ".join(map(str, broken)), encoding="utf-8")
    return export


def test_a_config_mistake_is_named_with_file_line_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path)
    config.write_text(config.read_text().replace("value: 5", "value: fünf"), encoding="utf-8")
    assert main(["backtest", str(config), str(tmp_path / "none.csv")]) == 1
    err = capsys.readouterr().err
    assert re.match(rf"{re.escape(str(config))}:15:\d+: campaigns\[0\]\.actions\[0\]", err)


def test_a_missing_order_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _config(tmp_path)
    assert main(["backtest", str(config), str(tmp_path / "orders.csv")]) == 1
    assert capsys.readouterr().err == f"{tmp_path / 'orders.csv'}: file not found\n"


@pytest.mark.parametrize("rate", ["1.5", "viel", "-0.1"])
def test_a_redemption_rate_outside_0_to_1_is_wrong_usage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rate: str
) -> None:
    config = _config(tmp_path)
    orders = tmp_path / "orders.csv"
    orders.write_text("Name\n", encoding="utf-8")
    assert main(["backtest", str(config), str(orders), f"--redemption-rate={rate}"]) == 2
    assert capsys.readouterr().err == (
        "aftersale-kit backtest: --redemption-rate: expected a share from 0 to 1 (e.g. 0.25), "
        f"got {rate!r}\n"
    )


@pytest.mark.slow
def test_a_year_of_orders_reports_bad_rows_costs_and_the_months_the_budget_ran_out(
    tmp_path: Path, history: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a campaign with a monthly budget that 5 € coupons on half the orders exceed
    config = _config(tmp_path)
    out = tmp_path / "report"
    # when the year is replayed
    assert main(["backtest", str(config), str(history), "--out", str(out), "--no-batch"]) == 0
    lines = capsys.readouterr().out.splitlines()
    data = json.loads((out / "backtest.json").read_text(encoding="utf-8"))
    run = data["runs"][0]
    # then the summary names the two bad rows by file and line, and their count
    assert "2 nicht lesbare Zeilen übersprungen:" in lines
    broken = (history.parent / "broken.txt").read_text(encoding="utf-8").split()
    assert [line.split(":")[1] for line in lines if line.startswith(f"  {history}:")] == broken
    assert run["bad_count"] == 2 and run["orders"] > 1400
    # and the redemption rate is the config's
    assert run["redemption_rate"] == "0.5"
    # and the months the budget ran out are those of the figures, in the summary and the page
    ran_out = run["campaigns"][0]["budget_ran_out"]
    assert ran_out, "150 € a month cannot pay for 5 € on half of ~125 orders a month"
    line = next(line for line in lines if line.startswith("  danke "))
    assert "BUDGET AUFGEBRAUCHT: " in line
    html = (out / "backtest.html").read_text(encoding="utf-8")
    # (consecutive months are one span: the first and the last month are always named)
    for key in (ran_out[0], ran_out[-1]):
        month = f"{GERMAN_MONTHS[int(key[5:]) - 1]}"
        assert month in line and f"{month} {key[:4]}" in html
    assert html.count('<tr class="ran-out" data-campaign="danke"') == len(ran_out)
    # and the campaign's name from the config is text on the page
    assert "Dankeschön &lt;b&gt;Gutschein&lt;/b&gt;" in html
    assert lines[-1] == f"Bericht: {out / 'backtest.html'} (JSON und CSV im selben Ordner)"


@pytest.mark.slow
def test_compare_runs_both_configs_over_the_same_orders(
    tmp_path: Path, history: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given the same campaign with the threshold at 50 and at 60
    first = _config(tmp_path, threshold=50, budget=1000, locale="en_GB")
    second = _config(tmp_path, "threshold-60.yaml", threshold=60, budget=1000)
    out = tmp_path / "report"
    code = main(
        ["backtest", str(first), str(history), "--compare", str(second), "--out", str(out),
         "--redemption-rate", "1", "--no-batch"]
    )  # fmt: skip
    assert code == 0
    text = capsys.readouterr().out
    data = json.loads((out / "backtest.json").read_text(encoding="utf-8"))
    a, b = (run["campaigns"][0] for run in data["runs"])
    # then both ran over the same orders, and fewer orders reach 60 than 50
    assert data["runs"][0]["orders"] == data["runs"][1]["orders"]
    assert 0 < b["orders"] < a["orders"]
    # and the difference is second minus first, per campaign and in total
    diff = data["difference"]
    assert diff[0]["campaign_id"] == "danke" and diff[-1]["campaign_id"] is None
    assert diff[0]["orders"] == [a["orders"], b["orders"], b["orders"] - a["orders"]]
    assert diff[-1]["expected_cost"][2] == diff[0]["expected_cost"][2]
    saved = Decimal(a["expected_cost"]) - Decimal(b["expected_cost"])
    assert saved > 0 and diff[0]["expected_cost"][2] == str(-saved)
    assert f"Difference danke: -€{saved:,.2f}" in text
    # and the page (English: the first config's locale) shows both
    html = (out / "backtest.html").read_text(encoding="utf-8")
    assert "Comparison of the configs" in html and "Second: " in html


@pytest.mark.slow
def test_batch_and_per_order_give_the_same_report(
    tmp_path: Path, history: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("polars")
    config = _config(tmp_path)
    runs = []
    for flag in ("--batch", "--no-batch"):
        out = tmp_path / flag
        assert main(["backtest", str(config), str(history), "--out", str(out), flag]) == 0
        runs.append(json.loads((out / "backtest.json").read_text(encoding="utf-8"))["runs"])
    capsys.readouterr()
    assert runs[0] == runs[1]


@pytest.mark.slow
def test_since_and_until_are_whole_days_in_the_shops_time_zone(
    tmp_path: Path, history: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path)
    out = tmp_path / "march"
    argv = ["backtest", str(config), str(history), "--out", str(out), "--no-batch"]
    assert main([*argv, "--since", "2025-03-01", "--until", "2025-03-31"]) == 0
    capsys.readouterr()
    run = json.loads((out / "backtest.json").read_text(encoding="utf-8"))["runs"][0]
    first, last = (datetime.fromisoformat(run[k]) for k in ("first_order", "last_order"))
    berlin = ZoneInfo("Europe/Berlin")
    assert first.astimezone(berlin).date().isoformat().startswith("2025-03")
    assert last.astimezone(berlin).date().isoformat().startswith("2025-03")
    # about a twelfth of the year, and the March budget is the only one that can run out
    assert 60 < run["orders"] < 200
    assert set(run["campaigns"][0]["budget_ran_out"]) <= {"2025-03"}


def test_batch_without_polars_names_the_extra(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "polars", None)  # import polars now fails
    orders = tmp_path / "orders.jsonl"
    orders.write_text("", encoding="utf-8")
    assert main(["backtest", str(_config(tmp_path)), str(orders), "--batch"]) == 1
    assert capsys.readouterr().err == (
        "aftersale-kit backtest: --batch (the columnar pre-filter) needs an optional "
        "dependency: pip install 'aftersale-kit[backtest]'\n"
    )
