"""The same generated orders in every format read to the same history (issue 15's acceptance:
the three formats of one order set give the same figures; the readers' part is reading alike)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from aftersale_kit.backtest.history import BadRow, HistoryOrder
from aftersale_kit.backtest.readers import common_view, detect_format, read_orders
from aftersale_kit.core.model import FinancialStatus
from bench.__main__ import main as bench_main
from bench.orders import FORMATS, OUTPUTS, generate, write

from .readers_support import read


def _generated(out: Path, count: int, *, gz: bool = False) -> dict[str, Path]:
    orders = generate(count=count, customers=count // 4, seed=7)
    assert write(orders, FORMATS, out, gz=gz, page_size=100) == count
    suffix = ".gz" if gz else ""
    return {f: out / (OUTPUTS[f] if f == "woo-json" else OUTPUTS[f] + suffix) for f in FORMATS}


@pytest.mark.slow
def test_a_thousand_orders_read_alike_from_all_four_formats(tmp_path: Path) -> None:
    files = _generated(tmp_path, 1000)
    views = {}
    for fmt, path in files.items():
        orders, bad = read(path)
        assert bad == [], fmt
        assert len(orders) == 1000, fmt
        views[fmt] = [common_view(h) for h in orders]
    reference = views["shopify-bulk"]
    for fmt, seen in views.items():
        differing = [i for i, (a, b) in enumerate(zip(reference, seen, strict=True)) if a != b]
        assert differing == [], f"{fmt}: orders {differing[:5]} differ"


@pytest.mark.slow
def test_bulk_and_woocommerce_agree_on_refund_dates_too(tmp_path: Path) -> None:
    files = _generated(tmp_path, 1000)
    bulk, _ = read(files["shopify-bulk"])
    woo, _ = read(files["woo-json"])

    def refunds(orders: list[HistoryOrder]) -> list[list[tuple[object, ...]]]:
        return [[(r.id, r.amount, r.created_at) for r in h.order.refunds] for h in orders]

    assert refunds(bulk) == refunds(woo)
    assert any(refunds(bulk))


def test_the_generated_history_is_the_kind_a_shop_has(tmp_path: Path) -> None:
    files = _generated(tmp_path, 400)
    orders, bad = read(files["shopify-bulk"])
    assert bad == []
    per_customer = Counter(h.order.customer.id for h in orders if h.order.customer)
    guests = [h for h in orders if h.order.customer is None]
    statuses = Counter(h.order.financial_status for h in orders)
    currencies = Counter(h.order.currency for h in orders)
    assert 0.1 < len(guests) / len(orders) < 0.3
    assert all(h.order.email for h in guests)
    counts = sorted(per_customer.values(), reverse=True)
    top_tenth = counts[: max(len(counts) // 10, 1)]
    assert sum(top_tenth) > 0.3 * sum(counts)  # a few customers buy very often
    assert counts.count(1) >= len(counts) / 10  # many buy once
    assert statuses[FinancialStatus.PARTIALLY_REFUNDED] and statuses[FinancialStatus.REFUNDED]
    assert statuses[FinancialStatus.CANCELLED] and statuses[FinancialStatus.PAID]
    assert currencies.most_common(1)[0][0] == "EUR" and len(currencies) >= 3
    assert [h.order.created_at for h in orders] == sorted(h.order.created_at for h in orders)
    refunded = [h for h in orders if h.order.refunds]
    assert all(
        r.created_at is not None and r.created_at > h.order.created_at
        for h in refunded
        for r in h.order.refunds
    )
    assert any(h.order.discount_codes for h in orders)
    assert all(
        h.fulfilled_at is None or (h.order.paid_at and h.fulfilled_at > h.order.paid_at)
        for h in orders
    )


def test_gzipped_output_reads_the_same_and_formats_are_detected(tmp_path: Path) -> None:
    plain = _generated(tmp_path / "plain", 120)
    gz = _generated(tmp_path / "gz", 120, gz=True)
    for fmt in FORMATS:
        if fmt != "woo-json":
            assert detect_format(str(gz[fmt])) == fmt
            assert gz[fmt].read_bytes()[:2] == b"\x1f\x8b"
        a, _ = read(plain[fmt])
        b, bad = read(gz[fmt])
        assert bad == []
        assert [common_view(h) for h in a] == [common_view(h) for h in b]


def test_the_generator_runs_as_a_bench_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = bench_main(
        [
            "orders",
            "--count",
            "25",
            "--customers",
            "5",
            "--format",
            "woo-jsonl",
            "--out",
            str(tmp_path),
            "--seed",
            "3",
            "--start",
            "2024-06-01",
            "--months",
            "2",
        ]
    )
    assert code == 0
    assert str(tmp_path / "woo-orders.jsonl") in capsys.readouterr().out
    bad: list[BadRow] = []
    orders = list(read_orders([str(tmp_path)], shop="s", currency="EUR", on_bad=bad.append))
    assert len(orders) == 25 and bad == []
    assert min(h.order.created_at for h in orders).strftime("%Y-%m") == "2024-06"
    assert max(h.order.created_at for h in orders).strftime("%Y-%m") == "2024-07"
