"""Bulk-operation JSON Lines over orders read as past orders: children, refunds, bad lines."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from aftersale_kit.backtest.readers import common_view, detect_format, shopify_bulk
from aftersale_kit.core.model import FinancialStatus, RefundLine
from aftersale_kit.core.money import Money

from .readers_support import DATA, read

BULK = DATA / "shopify_bulk_orders.jsonl"
EXPORT = DATA / "shopify_orders_export.csv"


def test_bulk_lines_are_detected_and_children_join_their_order() -> None:
    assert detect_format(str(BULK)) == "shopify-bulk"
    orders, bad = read(BULK)
    assert bad == []
    assert [h.order.number for h in orders] == ["#1001", "#1002"]
    assert [h.source.line for h in orders] == [1, 3]
    first = orders[0].order
    # the second line item came after order #1002 and still joined #1001
    assert [li.id for li in first.line_items] == ["13001", "13002"]


def test_fields_through_the_live_normaliser_plus_payment_and_shipping_times() -> None:
    (first, second), _ = read(BULK)
    o = first.order
    assert o.customer is not None
    assert (o.customer.id, o.customer.accepts_marketing, o.customer.tags) == (
        "7001",
        True,
        ("vip",),
    )
    assert o.customer.orders_count is None  # today's count is not the count at the time
    assert o.paid_at == datetime(2025, 3, 4, 9, 16, 2, tzinfo=UTC)  # the capture
    assert first.fulfilled_at == datetime(2025, 3, 5, 13, 2, 11, tzinfo=UTC)
    assert o.financial_status is FinancialStatus.PARTIALLY_REFUNDED
    assert [li.product_type for li in o.line_items] == ["Kaffee", "Zubehoer"]
    assert [li.product_id for li in o.line_items] == ["801", "802"]
    assert o.presentment is not None and o.presentment.total == Money(Decimal("77.95"), "CHF")
    (refund,) = o.refunds
    assert refund.created_at == datetime(2025, 3, 20, 8, 0, tzinfo=UTC)
    assert refund.amount == Money(Decimal("19.95"), "EUR")
    assert refund.lines == (RefundLine("13002", 1, Money(Decimal("18.44"), "EUR")),)
    assert o.code_discounts == (("WELCOME10", Money(Decimal("6.49"), "EUR")),)
    assert o.note_attributes == (("gift", "yes"),)
    g = second.order
    assert g.customer is None and g.email == "gast@example.net"
    assert g.financial_status is FinancialStatus.CANCELLED
    assert g.cancelled_at == datetime(2025, 3, 7, 13, 0, tzinfo=UTC)


def test_the_bulk_file_and_the_csv_export_of_the_same_orders_read_alike() -> None:
    bulk, _ = read(BULK)
    export, _ = read(EXPORT)
    # the CSV has no customer id: compare with the bulk customer taken away
    views = [common_view(h) for h in bulk]
    csv_views = [common_view(h) for h in export]
    customer_field = 10
    assert [v[:customer_field] + v[customer_field + 1 :] for v in views] == [
        v[:customer_field] + v[customer_field + 1 :] for v in csv_views
    ]


def _write(path: Path, *nodes: object) -> Path:
    path.write_text("".join(json.dumps(n) + "\n" for n in nodes), encoding="utf-8")
    return path


def test_bad_lines_are_reported_with_their_numbers(tmp_path: Path) -> None:
    lines = BULK.read_text(encoding="utf-8").splitlines()
    deep = "[" * 100_000 + "]" * 100_000
    lines.insert(1, '{"id": "gid://shopify/Order/1", "name": ')  # cut off
    lines.insert(3, deep)
    lines.append('{"id": "gid://shopify/Product/1", "title": "x"}')
    lines.append('{"id": "gid://shopify/LineItem/5", "__parentId": "gid://shopify/Order/404"}')
    path = tmp_path / "bulk.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    orders, bad = read(path, fmt="shopify-bulk")
    assert [h.order.number for h in orders] == ["#1001", "#1002"]
    assert [b.line for b in bad] == [2, 4, 8, 9]
    assert "not valid JSON" in bad[0].reason
    assert "nested too deeply" in bad[1].reason
    assert "not an order" in bad[2].reason
    assert "gid://shopify/Order/404" in bad[3].reason


def test_an_order_the_normaliser_refuses_is_one_bad_row(tmp_path: Path) -> None:
    order = json.loads(BULK.read_text(encoding="utf-8").splitlines()[0])
    order["createdAt"] = "yesterday"
    path = _write(tmp_path / "bulk.jsonl", order)
    orders, bad = read(path)
    assert orders == []
    assert [b.line for b in bad] == [1]
    assert "created_at" in bad[0].reason


def test_a_child_later_than_the_window_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shopify_bulk, "WINDOW", 1)
    orders, bad = read(BULK)
    assert [b.line for b in bad] == [5]  # #1001 was closed when #1002 arrived
    assert len(orders[0].order.line_items) == 1
