"""``aftersale-kit backtest`` fed what an outside check feeds it: option values at the edges of
the calendar or of arithmetic, a report folder that is a file, files that hold no orders, order
dates no replay can shift. Each is one message naming the fix and a clean exit code, never an
internal error; and the readers work without the WooCommerce client library."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from aftersale_kit.backtest.readers._jsonstream import _value_end
from aftersale_kit.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXPORT = Path(__file__).resolve().parent / "data" / "shopify_orders_export.csv"

CONFIG = """\
version: 1
shop:
  platform: shopify
  domain: test-roesterei.myshopify.com
  currency: EUR
  locale: en_GB
  timezone: Europe/Berlin
campaigns:
  - id: danke
    when: subtotal >= 10
    actions:
      - issue_coupon: {type: fixed_amount, value: 5, valid_days: 30}
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "shop.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


@pytest.mark.parametrize("rate", ["nan", "NaN", "snan", "inf"])
def test_a_redemption_rate_that_is_not_a_number_is_wrong_usage(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], rate: str
) -> None:
    args = ["backtest", str(config), str(EXPORT), "--out", str(tmp_path / "r")]
    assert main([*args, "--redemption-rate", rate]) == 2
    assert capsys.readouterr().err == (
        "aftersale-kit backtest: --redemption-rate: expected a share from 0 to 1 (e.g. 0.25), "
        f"got {rate!r}\n"
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--until", "9999-12-31"], "--until: expected a date from 1900 to 2999, got '9999-12-31'"),
        (["--since", "0001-01-01"], "--since: expected a date from 1900 to 2999, got '0001-01-01'"),
        (
            ["--since", "9999-12-31T23:00:00-05:00"],
            "--since: expected a date from 1900 to 2999, got '9999-12-31T23:00:00-05:00'",
        ),
        (
            ["--since", "2025-06-01", "--until", "2025-03-01"],
            "--since 2025-06-01 is not before --until 2025-03-01: no order could be in between "
            "(swap them?)",
        ),
    ],
)
def test_a_period_the_replay_cannot_use_is_wrong_usage(
    config: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    options: list[str],
    message: str,
) -> None:
    args = ["backtest", str(config), str(EXPORT), "--out", str(tmp_path / "r"), *options]
    assert main(args) == 2
    assert capsys.readouterr().err == f"aftersale-kit backtest: {message}\n"


def test_a_single_day_is_a_period(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["backtest", str(config), str(EXPORT), "--out", str(tmp_path / "r")]
    assert main([*args, "--since", "2030-01-01", "--until", "2030-01-01"]) == 0
    head = capsys.readouterr().out.splitlines()[0]
    # no order in the period: the line ends with the count, not a dangling comma
    assert head == "Backtest of test-roesterei.myshopify.com: 0 orders from 0 customers"


def test_a_report_folder_that_is_a_file_is_named_before_the_replay(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    taken = tmp_path / "report.html"
    taken.write_text("mine", encoding="utf-8")
    assert main(["backtest", str(config), str(EXPORT), "--out", str(taken)]) == 1
    captured = capsys.readouterr()
    assert captured.err == (
        f"aftersale-kit backtest: --out {taken}: is a file, not a folder; name a folder for the "
        "report (it is created)\n"
    )
    assert captured.out == ""
    assert taken.read_text(encoding="utf-8") == "mine"


def test_a_report_folder_that_cannot_be_made_is_named(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file").write_text("", encoding="utf-8")
    out = tmp_path / "file" / "report"
    assert main(["backtest", str(config), str(EXPORT), "--out", str(out)]) == 1
    assert capsys.readouterr().err.startswith(
        f"aftersale-kit backtest: --out {out}: cannot write the report there ("
    )


@pytest.mark.parametrize(
    ("text", "bad"),
    [
        # a product list, a webhook body, an empty page, an empty folder
        ('[{"id": 5, "name": "Kaffee", "type": "simple", "price": "9.90"}]', ["x.json:1: order 5"]),
        ('{"id": 1, "topic": "orders/create"}', ["x.json:1: order 1"]),
        ("[]", []),
        (None, []),
    ],
)
def test_files_without_a_single_order_end_with_a_message_not_a_report_of_zeros(
    config: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    text: str | None,
    bad: list[str],
) -> None:
    if text is None:
        source = tmp_path / "exports"
        source.mkdir()
    else:
        source = tmp_path / "x.json"
        source.write_text(text, encoding="utf-8")
    out = tmp_path / "r"
    assert main(["backtest", str(config), str(source), "--out", str(out)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"aftersale-kit backtest: not one order could be read from {source}"
    named = [line.strip().removeprefix(f"{tmp_path}/") for line in err[1:-1]]
    assert [line[: len(b)] for line, b in zip(named, bad, strict=True)] == bad
    assert len(err) == 2 + len(bad)
    assert err[-1].startswith("Give order exports: Shopify's orders CSV")
    assert not (out / "backtest.html").exists()


def test_orders_dated_at_the_ends_of_the_calendar_are_bad_rows_and_the_rest_replays(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = EXPORT.read_text(encoding="utf-8-sig").splitlines()
    created = lines[0].split(",").index("Created at")
    exports = []
    for name, order, moment in [
        ("a.csv", "#1001", "9999-12-31 23:59:00 -0500"),
        ("b.csv", "#1002", "0001-01-01 00:10:00 +0100"),
    ]:
        rows = [lines[0]]
        for line in lines[1:]:
            cells = line.split(",")
            if cells[0] == order and len(cells) > created and cells[created]:
                cells[created] = moment
            rows.append(",".join(cells))
        export = tmp_path / name
        export.write_text("\n".join(rows) + "\n", encoding="utf-8")
        exports.append(str(export))
    out = tmp_path / "r"
    assert main(["backtest", str(config), *exports, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert (
        f"{exports[0]}:2: order #1001: the created date 9999-12-31T23:59:00-05:00 is not between "
        "1900 and 2999; correct it in the export (the order is skipped)"
    ) in printed
    assert f"{exports[1]}:5: order #1002: the created date 0001-01-01T00:10:00+01:00 " in printed
    report = json.loads((out / "backtest.json").read_text(encoding="utf-8"))
    run = report["runs"][0] if "runs" in report else report
    assert run["bad_count"] == 2
    assert run["orders"] == run["read"] == 2


def _reference_end(text: str, start: int) -> int | None:
    """The scan as it was: character by character."""
    depth, in_string, i = 0, False, start
    while i < len(text):
        c = text[i]
        if in_string:
            if c == "\\":
                i += 1
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in "{[":
            depth += 1
        elif c in "}]":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return None


def test_the_scan_for_a_values_end_agrees_with_a_character_by_character_scan() -> None:
    rng = random.Random(15)
    alphabet = '{}[]"\\ a:,1'
    for _ in range(20_000):
        text = "{" + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24)))
        assert _value_end(text, 0) == _reference_end(text, 0), text


BLOCK_WOO_CLIENT = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in ("woocommerce", "requests"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, Block())
from aftersale_kit.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_order_files_are_read_without_the_woocommerce_client_library(
    config: Path, tmp_path: Path
) -> None:
    """``pip install 'aftersale-kit[backtest]'`` brings no WooCommerce client: reading exports
    (the WooCommerce pages' reader included) must not need it."""
    page = tmp_path / "page.json"
    page.write_text("[]", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-c", BLOCK_WOO_CLIENT, "backtest", str(config), str(EXPORT),
         str(page), "--out", str(tmp_path / "r")],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "r" / "backtest.html").is_file()


def test_compare_with_a_config_in_another_currency_is_refused(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "usd.yaml"
    other.write_text(CONFIG.replace("currency: EUR", "currency: USD"), encoding="utf-8")
    out = tmp_path / "r"
    args = ["backtest", str(config), str(EXPORT), "--compare", str(other), "--out", str(out)]
    assert main(args) == 1
    assert capsys.readouterr().err == (
        f"aftersale-kit backtest: --compare {other}: its shop.currency is USD, {config}'s is "
        "EUR; the difference would subtract one currency from the other (compare two configs "
        "of the same shop)\n"
    )
    assert not (out / "backtest.html").exists()


def test_an_order_in_two_overlapping_exports_counts_once_and_is_named(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given: the same export twice (as two overlapping exports would hold the same orders)
    first, second = tmp_path / "jan-jun.csv", tmp_path / "apr-dec.csv"
    for path in (first, second):
        path.write_bytes(EXPORT.read_bytes())
    out = tmp_path / "r"
    # when
    code = main(["backtest", str(config), str(first), str(second), "--out", str(out)])
    # then: the second copies are bad rows naming where each order was read first, and the
    # figures are those of one export alone
    printed = capsys.readouterr().out
    assert code == 0
    assert f"{second}:2: order #1001 was read before, at {first}:2; this copy is skipped" in printed
    both = json.loads((out / "backtest.json").read_text(encoding="utf-8"))
    assert main(["backtest", str(config), str(first), "--out", str(tmp_path / "one")]) == 0
    one = json.loads((tmp_path / "one" / "backtest.json").read_text(encoding="utf-8"))
    run_both = both["runs"][0] if "runs" in both else both
    run_one = one["runs"][0] if "runs" in one else one
    assert run_both["orders"] == run_one["orders"] > 0
    assert run_both["bad_count"] == run_one["orders"]
    assert run_both["campaigns"] == run_one["campaigns"]
