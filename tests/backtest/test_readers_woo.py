"""WooCommerce REST order pages read as past orders: real responses, streaming, bad objects."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aftersale_kit_woocommerce.normalize import normalize_woocommerce_order

from aftersale_kit.backtest.history import BadRow
from aftersale_kit.backtest.readers import _jsonstream, detect_format
from aftersale_kit.core.model import FinancialStatus
from aftersale_kit.core.money import Money

from .readers_support import FIXTURES, read

REAL = [
    json.loads((FIXTURES / "woocommerce" / name).read_text(encoding="utf-8"))
    for name in ("wc_v3_order_727.json", "wc96_recorded_order_77.json")
]


def _page(path: Path, orders: list[Any], *, indent: int | None = 2) -> Path:
    path.write_text(json.dumps(orders, indent=indent), encoding="utf-8")
    return path


def test_a_page_of_real_responses_reads_as_the_live_normaliser_reads_them(tmp_path: Path) -> None:
    page = _page(tmp_path / "orders-1.json", REAL)
    assert detect_format(str(page)) == "woo-json"
    orders, bad = read(page)
    assert bad == []
    assert [h.order for h in orders] == [
        normalize_woocommerce_order(o, shop="shop.example") for o in REAL
    ]
    # each order's line is where its object starts in the pretty-printed page
    text = page.read_text(encoding="utf-8").splitlines()
    assert [text[h.source.line - 1].strip() for h in orders] == ["{", "{"]
    assert orders[0].source.line == 2
    completed = REAL[1]["date_completed_gmt"]
    assert orders[1].fulfilled_at == datetime.fromisoformat(completed).replace(tzinfo=UTC)


def test_json_lines_of_orders_and_of_pages(tmp_path: Path) -> None:
    path = tmp_path / "orders.jsonl"
    path.write_text(json.dumps(REAL[0]) + "\n\n" + json.dumps(REAL) + "\n", encoding="utf-8")
    assert detect_format(str(path)) == "woo-jsonl"
    orders, bad = read(path)
    assert bad == []
    assert [(h.order.id, h.source.line) for h in orders] == [("727", 1), ("727", 3), ("77", 3)]


def _order(n: int, **extra: Any) -> dict[str, Any]:
    order: dict[str, Any] = REAL[0] | {"id": n, "number": str(n)} | extra
    return order


def test_refund_dates_partial_refunds_and_cancellations(tmp_path: Path) -> None:
    refunded = _order(
        1,
        status="completed",
        refunds=[
            {"id": 9, "reason": "", "total": "-10.00", "date_created_gmt": "2025-02-01T10:00:00"}
        ],
    )
    undated = _order(2, status="completed", refunds=[{"id": 10, "reason": "", "total": "-5.00"}])
    cancelled = _order(3, status="cancelled", date_modified_gmt="2025-02-03T08:30:00")
    orders, bad = read(_page(tmp_path / "p.json", [refunded, undated, cancelled]))
    assert bad == []
    r, u, c = (h.order for h in orders)
    assert r.financial_status is FinancialStatus.PARTIALLY_REFUNDED
    assert r.refunds[0].created_at == datetime(2025, 2, 1, 10, 0, tzinfo=UTC)
    assert r.refunds[0].amount == Money(Decimal("10.00"), r.currency)
    assert u.refunds[0].created_at is None
    assert c.financial_status is FinancialStatus.CANCELLED
    assert c.cancelled_at == datetime(2025, 2, 3, 8, 30, tzinfo=UTC)


def test_a_big_page_is_streamed_through_a_small_window(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_jsonstream, "CHUNK", 512)  # orders straddle every chunk border
    orders_in = [_order(n) for n in range(1, 121)]
    page = _page(tmp_path / "big.json", orders_in, indent=None)
    orders, bad = read(page)
    assert bad == []
    assert [h.order.id for h in orders] == [str(n) for n in range(1, 121)]
    assert {h.source.line for h in orders} == {1}  # one line: compact JSON


def test_a_broken_order_inside_a_page_is_skipped_and_the_rest_read(tmp_path: Path) -> None:
    good = [json.dumps(_order(n)) for n in range(1, 5)]
    broken = good[1].replace('"currency": "USD"', '"currency": USD', 1)
    assert broken != good[1]
    deep = "[" * 50_000 + "]" * 50_000
    text = (
        "[\n"
        + ",\n".join([good[0], broken, deep, '{"id": 7, "line_items": "x"}', good[3]])
        + "\n]\n"
    )
    path = tmp_path / "p.json"
    path.write_text(text, encoding="utf-8")
    orders, bad = read(path)
    assert [h.order.id for h in orders] == ["1", "4"]
    assert [b.line for b in bad] == [3, 4, 5]
    assert "not valid JSON" in bad[0].reason
    assert "nested too deeply" in bad[1].reason or "not an order" in bad[1].reason
    assert "line_items" in bad[2].reason


def test_a_cut_off_page_reads_what_is_whole_and_says_where_it_ends(tmp_path: Path) -> None:
    text = json.dumps([_order(1), _order(2)], indent=2)
    path = tmp_path / "p.json"
    path.write_text(text[: len(text) // 2 + 200], encoding="utf-8")
    orders, bad = read(path)
    assert [h.order.id for h in orders] == ["1"]
    assert len(bad) == 1
    assert "does not end" in bad[0].reason or "cut off" in bad[0].reason


@pytest.mark.parametrize("chunk", [1, 7, 64, 333])
def test_values_and_their_lines_do_not_depend_on_where_chunks_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setattr(_jsonstream, "CHUNK", chunk)
    values = [{"a": 'x\\"}{[', "n": [1, {"b": None}]}, {"s": "\u00e4\u00f6\u00fc \u20ac"}, {}]
    text = "\ufeff[\n" + ",\n".join(json.dumps(v, indent=1, ensure_ascii=False) for v in values)
    text += "\n]\n" + json.dumps({"after": True}) + "\n"
    path = tmp_path / "v.json"
    path.write_text(text, encoding="utf-8")
    seen: list[BadRow] = []
    found = list(_jsonstream.json_values(str(path), seen.append))
    assert seen == []
    assert [v for _, v in found] == [*values, {"after": True}]
    lines = text.lstrip("\ufeff").splitlines()
    assert [lines[n - 1].lstrip()[:1] for n, _ in found] == ["{", "{", "{", "{"]
