"""``aftersale-kit loyalty``: import (all or nothing, every bad line named, again changes
nothing), adjust, show, export and report, on a real database (SQLite; the import acceptance
also on PostgreSQL)."""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from aftersale_kit.cli import main as cli_main
from aftersale_kit.core.loyalty.ledger import Movement, MovementKind, SourceKind
from aftersale_kit.core.loyalty.stamps import CardState, StampEntry
from aftersale_kit.service.loyalty_cli import loyalty_main
from aftersale_kit.service.shops import load_shops
from aftersale_kit.storage import JobKind, Store
from aftersale_kit.storage.loyalty import Identity, JournalRow, LoyaltyPlan

SHOP = "kaffee.myshopify.com"
FAR = datetime(2100, 1, 1, tzinfo=UTC)
ENV = {
    "SHOP_WEBHOOK_SECRET": "whsec-" + secrets.token_hex(12),
    "SHOP_API_TOKEN": "token-" + secrets.token_hex(8),
    "SHOP_CODE_SECRET": "code-" + secrets.token_hex(12),
}
CONFIG = f"""version: 1
shop:
  platform: shopify
  domain: {SHOP}
  currency: EUR
  timezone: Europe/Berlin
  api_base_url: http://127.0.0.1:9
  api_version: "2026-01"
  secrets:
    webhook_secret: SHOP_WEBHOOK_SECRET
    api_token: SHOP_API_TOKEN
    code_secret: SHOP_CODE_SECRET
loyalty:
  guests: email
  earn:
    points_per_unit: 1
  pending_days: 14
  tiers:
    basis: spend
    window_months: 12
    levels:
      - {{name: Gold, from: 500, multiplier: 1.5}}
  redeem:
    minimum_balance: 500
    options:
      - {{id: fuenf, points: 500, coupon: 5}}
      - {{id: tasse, points: 1500, reward: {{product: "81", title: Tasse, cost: 4.50}}}}
  stamp_cards:
    - id: karte
      name: Sammelkarte
      stamps: 3
      reward:
        - issue_coupon: {{type: fixed_amount, value: 15, valid_days: 60}}
campaigns: []
"""


class Cli:
    def __init__(self, tmp_path: Path, db_url: str, capsys: Any) -> None:
        self.folder = tmp_path / "shops"
        self.folder.mkdir()
        (self.folder / "shop.yaml").write_text(CONFIG, encoding="utf-8")
        self.db = db_url
        self.capsys = capsys
        self.tmp = tmp_path

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        code = loyalty_main([*argv, "--config", str(self.folder), "--db", self.db])
        out = self.capsys.readouterr()
        return code, out.out, out.err

    def store(self) -> Store:
        return Store.open(self.db, migrate=True)


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    return Cli(tmp_path, f"sqlite:///{tmp_path / 'loyalty.db'}", capsys)


@pytest.fixture
def cli_any(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    db_url: str,
) -> Iterator[Cli]:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    yield Cli(tmp_path, db_url, capsys)


def names(count: int) -> list[list[str]]:
    return [
        [str(10_000 + i) if i % 2 else "", f"kunde{i}@example.com", str(i % 700), ""]
        for i in range(count)
    ]


def write_csv(
    path: Path, rows: list[list[str]], header: str = "customer_id,email,points,expires"
) -> Path:
    buffer = io.StringIO()
    buffer.write(header + "\n")
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


@pytest.mark.slow
def test_an_import_with_3_bad_rows_among_10000_names_them_and_imports_nothing(
    cli_any: Cli,
) -> None:
    cli = cli_any
    rows = names(10_000)
    good = write_csv(cli.tmp / "good.csv", rows)
    bad_rows = [list(r) for r in rows]
    bad_rows[1233][1] = "kunde-at-example.com"  # line 1235
    bad_rows[4999][2] = "-20"  # line 5001
    bad_rows[9997][3] = "31.12.2027"  # line 9999
    bad = write_csv(cli.tmp / "bad.csv", bad_rows)
    # when the file with 3 bad rows is imported
    code, out, err = cli("import", SHOP, str(bad))
    # then the 3 lines are named with their reasons, and nothing is imported
    assert code == 1
    lines = err.strip().splitlines()
    assert lines == [
        f"{bad}:1235: bad e-mail address 'kunde-at-example.com'",
        f"{bad}:5001: negative points -20",
        f"{bad}:9999: bad date '31.12.2027' (write YYYY-MM-DD)",
        "aftersale-kit loyalty import: 3 bad line(s) among 10,000 rows: nothing imported",
    ]
    with cli.store() as store:
        assert store.loyalty_balances(SHOP) == []
    # when the good file is imported, all rows are, once
    code, out, err = cli("import", SHOP, str(good))
    assert (code, err) == (0, "")
    expected = sum(i % 700 for i in range(10_000))
    assert f"10,000 imported ({expected:,} points), 0 imported before" in out
    with cli.store() as store:
        balances = store.loyalty_balances(SHOP)
        assert len(balances) == 10_000
        assert sum(b.available for b in balances) == expected
        assert {b.account for b in balances} >= {"10001", "email:kunde0@example.com"}
        # the running totals equal the journal's sums (all accounts; every 500th replayed)
        totals = store.loyalty_totals(SHOP, since=datetime(2000, 1, 1, tzinfo=UTC), until=FAR)
        assert (totals.closing_pending, totals.closing_available) == (0, expected)
        assert (totals.running_pending, totals.running_available) == (0, expected)
        for b in balances[::500]:
            assert store.loyalty_check(SHOP, account=b.account) == 1
    # and importing it again changes nothing
    code, out, _ = cli("import", SHOP, str(good))
    assert code == 0
    assert "0 imported (0 points), 10,000 imported before (unchanged)" in out
    with cli.store() as store:
        assert sum(b.available for b in store.loyalty_balances(SHOP)) == expected
        assert len(store.loyalty_journal(SHOP, "10001")) == 1


def test_an_import_names_every_kind_of_bad_row(cli: Cli) -> None:
    path = write_csv(
        cli.tmp / "mixed.csv",
        [
            ["1", "a@example.com", "10", "2031-01-31"],
            ["", "not-an-address", "10", ""],
            ["2", "", "ten", ""],
            ["3", "", "1.5", ""],
            ["4", "", "-1", ""],
            ["5", "", "10", "2031-02-30"],
            ["6", "", "10", "2020-01-01"],
            ["1", "", "5", ""],
            ["", "", "5", ""],
            ["7", "", "10"],
        ],
    )
    code, _, err = cli("import", SHOP, str(path))
    assert code == 1
    assert err.splitlines() == [
        f"{path}:3: bad e-mail address 'not-an-address'",
        f"{path}:4: points 'ten' is not a whole number",
        f"{path}:5: points '1.5' is not a whole number",
        f"{path}:6: negative points -1",
        f"{path}:7: bad date '2031-02-30' (write YYYY-MM-DD)",
        f"{path}:8: expiry date 2020-01-01 is in the past",
        f"{path}:9: customer '1' is also on line 2",
        f"{path}:10: no customer: give a customer_id or an email",
        f"{path}:11: 3 fields, the header has 4",
        "aftersale-kit loyalty import: 9 bad line(s) among 10 rows: nothing imported",
    ]
    unknown = write_csv(cli.tmp / "cols.csv", [["1", "5", "x"]], header="customer_id,points,tier")
    code, _, err = cli("import", SHOP, str(unknown))
    assert code == 1
    assert f"{unknown}:1: unknown column 'tier' (known: customer_id, email, points, expires)" in err
    with cli.store() as store:
        assert store.loyalty_balances(SHOP) == []


def test_a_semicolon_file_imports_with_expiry_and_an_address_finds_its_account(cli: Cli) -> None:
    with cli.store() as store:
        store.loyalty_step(
            shop=SHOP,
            account="77",
            identity=Identity(customer_id="77", email="Kim@Example.com"),
            plan=lambda view: LoyaltyPlan(),
        )
    path = cli.tmp / "semi.csv"
    path.write_text("email;points;expires\nkim@example.com;250;2030-06-30\n", encoding="utf-8")
    code, out, err = cli("import", SHOP, str(path))
    assert (code, err) == (0, ""), err
    assert "1 imported (250 points)" in out
    with cli.store() as store:
        [grant] = store.loyalty_account(SHOP, "77").state.grants.values()
        assert grant.remaining == 250
        # the last day counts, in the shop's time zone
        assert grant.expires_at == datetime(2030, 6, 30, 22, 0, tzinfo=UTC)


@pytest.mark.slow
def test_adjust_books_once_per_key_and_refuses_to_overspend(cli: Cli) -> None:
    args = ("adjust", SHOP, "--customer-id", "77", "--reason", "Kulanz")
    code, out, _ = cli(*args, "--points", "+300", "--key", "ticket-1")
    assert code == 0
    assert f"{SHOP} 77: +300 points booked (key ticket-1)" in out
    code, out, _ = cli(*args, "--points", "+300", "--key", "ticket-1")
    assert code == 0 and "booked before (key ticket-1): nothing changed" in out
    code, out, err = cli(*args, "--points", "-500")
    assert (code, out) == (1, "")
    assert err == (
        "aftersale-kit loyalty adjust: refused: 500 points to take, 300 available "
        "(0 pending cannot be taken before they are released)\n"
    )
    code, out, _ = cli(*args, "--points", "-120")
    assert code == 0 and "balance: 180 available, 0 pending" in out
    # without --key the same request on the same day books once
    code, out, _ = cli(*args, "--points", "-120")
    assert code == 0 and "nothing changed" in out
    with cli.store() as store:
        assert store.loyalty_balance(SHOP, "77").available == 180
        kinds = [r.movement.source for r in store.loyalty_journal(SHOP, "77")]
        assert kinds == [SourceKind.OPERATOR, SourceKind.OPERATOR]
    # a guest address gets a guest account (the program keeps them); nobody has nothing to take
    code, out, _ = cli(
        "adjust", SHOP, "--email", "Gast@Example.com", "--points", "5", "--reason", "x"
    )
    assert code == 0 and "email:gast@example.com: +5 points" in out
    code, _, err = cli("adjust", SHOP, "--customer-id", "99", "--points", "-5", "--reason", "x")
    assert code == 1 and "no loyalty account '99'" in err


def test_redeem_debits_once_per_request_and_refuses_with_the_reason(cli: Cli) -> None:
    code, _, _ = cli(
        "adjust", SHOP, "--customer-id", "77", "--points", "+1100", "--reason", "Umzug"
    )
    assert code == 0
    args = ("redeem", SHOP, "--customer-id", "77", "--option", "fuenf")
    code, out, err = cli(*args, "--request", "kasse-1")
    assert (code, err) == (0, "")
    [coupon_line] = [line for line in out.splitlines() if line.startswith("coupon: ")]
    code_text = coupon_line.split()[1]
    assert code_text.startswith("PUNKTE")
    assert f"{SHOP}: 500 points redeemed for fuenf" in out
    assert "balance: 600 available, 0 pending" in out
    # the same request again spends nothing and names the same coupon
    code, out, _ = cli(*args, "--request", "kasse-1")
    assert code == 0 and "redeemed before (request kasse-1): nothing spent again" in out
    assert f"coupon: {code_text} (500 points" in out and "balance: 600 available" in out
    # an address no account has (this one was opened by id alone) finds nothing
    code, out, _ = cli("redeem", SHOP, "--email", "KIM@example.com", "--option", "fuenf")
    assert code == 1 and out == ""
    # without --request a new key is made and printed, so it can be repeated
    code, out, _ = cli(*args)
    assert code == 0 and "balance: 100 available" in out
    request = out.splitlines()[0].split()[1]
    assert request.startswith("op-")
    code, out, _ = cli(*args, "--request", request)
    assert code == 0 and "nothing spent again" in out and "balance: 100 available" in out
    # too few points: refused with the reason, exit 1, nothing booked
    code, out, err = cli(*args, "--request", "kasse-2")
    assert (code, out) == (1, "")
    assert err == (
        "aftersale-kit loyalty redeem: refused: "
        "a balance of 500 points is needed first (100 available)\n"
    )
    code, _, err = cli("redeem", SHOP, "--customer-id", "77", "--option", "gibtsnicht")
    assert code == 1 and "refused: unknown option 'gibtsnicht' (options: fuenf, tasse)" in err
    code, _, err = cli("redeem", SHOP, "--customer-id", "99", "--option", "fuenf")
    assert code == 1 and err == (
        f"aftersale-kit loyalty redeem: no loyalty account '99' at {SHOP}\n"
    )
    with cli.store() as store:
        assert store.loyalty_balance(SHOP, "77").available == 100
        redeemed = [
            r.movement.points
            for r in store.loyalty_journal(SHOP, "77")
            if r.movement.kind is MovementKind.REDEEMED
        ]
        assert redeemed == [500, 500]
        # one coupon job per redemption, queued with the debit, the coupon bound to the account
        jobs = store.jobs(kind=JobKind.CREATE_LOYALTY_COUPON)
        assert len(jobs) == 2
        coupons = [store.coupon(SHOP, j.idempotency_key) for j in jobs]
        assert code_text in {c.code for c in coupons if c is not None}
        assert {c.customer_key for c in coupons if c is not None} == {"77"}
        store.loyalty_check(SHOP)


def test_redeem_by_address_finds_the_account(cli: Cli) -> None:
    with cli.store() as store:
        store.loyalty_step(
            shop=SHOP,
            account="77",
            identity=Identity(customer_id="77", email="kim@example.com"),
            plan=lambda view: LoyaltyPlan(
                movements=(
                    JournalRow(
                        Movement(
                            key="adjust:seed",
                            kind=MovementKind.ADJUSTED,
                            at=datetime.now(UTC),
                            points=600,
                            source=SourceKind.OPERATOR,
                            ref="seed",
                            reason="seed",
                        ),
                        0,
                        0,
                    ),
                )
            ),
            now=datetime.now(UTC),
        )
    code, out, err = cli("redeem", SHOP, "--email", "Kim@Example.com", "--option", "fuenf")
    assert (code, err) == (0, "") and "balance: 100 available, 0 pending" in out
    code, _, err = cli("redeem", SHOP, "--email", "nobody@example.com", "--option", "fuenf")
    assert code == 1 and f"no loyalty account at {SHOP} has the e-mail nobody@example.com" in err


def test_usage_and_input_errors_are_one_line_without_a_traceback(cli: Cli) -> None:
    code, _, err = cli("show", SHOP, "--email", "nobody")
    assert code == 2 and err == "aftersale-kit loyalty: --email 'nobody' is not an e-mail address\n"
    code, _, err = cli("show", "other.example", "--customer-id", "1")
    assert code == 1 and "shop 'other.example' is not in" in err and len(err.splitlines()) == 1
    code, _, err = cli("show", SHOP, "--customer-id", "1")
    assert code == 1 and err.strip().endswith(f"no loyalty account '1' at {SHOP}")
    code, _, err = cli("import", SHOP, str(cli.tmp / "missing.csv"))
    assert code == 1 and "cannot read the file" in err and "Traceback" not in err
    code, _, err = cli("report", SHOP, "--since", "gestern")
    assert code == 1 and "'gestern' is not a date" in err
    # the command is registered in the main CLI
    assert cli_main(["loyalty", "show", SHOP, "--email", "x", "--config", str(cli.folder)]) == 2


def _earn(order: str, points: int, at: datetime, spend: str, tier: str | None = None) -> JournalRow:
    movement = Movement(
        key=f"earn:{order}",
        kind=MovementKind.EARNED_PENDING,
        at=at,
        points=points,
        source=SourceKind.ORDER,
        ref=order,
        reason=f"order {order}",
        release_at=at + timedelta(days=14),
    )
    return JournalRow(movement, 0, 0, spend=Decimal(spend), tier=tier)


def _seed(store: Store, at: datetime) -> None:
    def book(*rows: JournalRow, now: datetime, cards: Any = None) -> None:
        store.loyalty_step(
            shop=SHOP,
            account="77",
            identity=Identity(customer_id="77", email="kim@example.com"),
            plan=lambda view: LoyaltyPlan(movements=rows, cards=cards or {}),
            now=now,
        )

    card = CardState(card="karte", stamps=(StampEntry("1", at), StampEntry("2", at)))
    book(_earn("1", 400, at, "400.00"), now=at, cards={"karte": card})
    book(_earn("2", 300, at + timedelta(days=2), "200.00", "Gold"), now=at + timedelta(days=2))


def test_show_export_and_report(cli: Cli) -> None:
    start = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    with cli.store() as store:
        _seed(store, start)
        entry = load_shops(cli.folder, env=ENV).by_domain(SHOP)
        assert entry is not None
        program = entry.config.loyalty
        store.loyalty_sweep(
            shop=SHOP, account="77", program=program, now=start + timedelta(days=15)
        )
    code, out, _ = cli(
        "adjust", SHOP, "--customer-id", "77", "--points", "-100", "--reason", "Bruch"
    )
    assert code == 0
    # show
    code, out, _ = cli("show", SHOP, "--customer-id", "77")
    assert code == 0
    assert f"account 77 at {SHOP} (customer 77, kim@example.com)" in out
    assert "balance: 300 available, 300 pending" in out
    assert "tier: " in out
    assert "earn:1: 400 points earned 2026-11-01" in out
    assert "Sammelkarte (karte): [##.] 2 of 3 stamps" in out
    assert "adjusted" in out.split("last movements")[1].splitlines()[1]
    # export
    code, out, _ = cli("export", SHOP)
    assert code == 0
    assert list(csv.reader(io.StringIO(out))) == [
        ["customer_id", "email", "points", "pending", "debt", "account"],
        ["77", "kim@example.com", "300", "300", "0", "77"],
    ]
    target = cli.tmp / "out.csv"
    code, out, _ = cli("export", SHOP, "--out", str(target))
    assert code == 0 and out == f"wrote {target}: 1 accounts\n"
    # report: November holds both earnings, the release of the first one
    code, out, _ = cli("report", SHOP, "--since", "2026-11-01", "--until", "2026-11-30")
    assert code == 0, out
    table = {line[:18].strip(): line[18:].split() for line in out.splitlines()[3:12]}
    assert table["opening balance"] == ["0", "0", "0"]
    assert table["earned (pending)"] == ["2", "700", "0", "700"]
    assert table["released"] == ["1", "-400", "400", "0"]
    assert table["closing balance"] == ["300", "400", "700"]
    assert "liability at 0.01 EUR per point (option fuenf: 500 points = 5.00 EUR):" in out
    assert "total               700 points          7.00 EUR" in out
    # configured: 1 point per EUR at 0.01 = 1.00 per 100; as earned: 400 / 400 EUR -> 1.00;
    # Gold: 1.5 points per EUR -> 1.50 configured, 300 points on 200 EUR -> 1.50 earned
    assert (
        "base         1 points per EUR: 1.00 EUR / 1.00 EUR; first reward after 500.00 EUR" in out
    )
    assert (
        "Gold         1.5 points per EUR: 1.50 EUR / 1.50 EUR; first reward after 333.33 EUR" in out
    )
    # the whole time up to now: the adjustment too, and the closing balance is the running total
    code, out, _ = cli("report", SHOP, "--since", "2026-01-01", "--format", "csv")
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["section", "item", "count", "pending", "available", "total", "amount"]
    by_item = {(r[0], r[1]): r[2:] for r in rows[1:]}
    assert by_item[("points", "adjusted")] == ["1", "0", "-100", "-100", ""]
    assert by_item[("points", "closing balance")] == ["", "300", "300", "600", ""]
    assert by_item[("liability", "total")] == ["", "", "", "600", "6.00"]
    assert by_item[("reward_per_100_configured", "Gold")][-1] == "1.50"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_shows_on_a_terminal_for_many_rows_only() -> None:
    from aftersale_kit.service.progress import Progress

    screen = _Terminal()
    bar = Progress(2000, label="importing", stream=screen, interval=0)
    for done in (500, 2000):
        bar(done)
    bar.close()
    assert screen.getvalue() == (
        "\rimporting [#######-----------------------] 500/2,000  25%"
        "\rimporting [##############################] 2,000/2,000 100%\n"
    )
    quiet = [
        Progress(2000, label="x", stream=io.StringIO()),
        Progress(10, label="x", stream=screen),
    ]
    for other in quiet:
        other(5)
        other.close()
    assert not quiet[0].enabled and not quiet[1].enabled
