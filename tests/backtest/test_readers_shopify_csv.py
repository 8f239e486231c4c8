"""The Shopify orders CSV export read as past orders: columns, grouping, bad rows."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from aftersale_kit.backtest.readers import detect_format
from aftersale_kit.core.model import Address, FinancialStatus
from aftersale_kit.core.money import Money

from .readers_support import DATA, read

EXPORT = DATA / "shopify_orders_export.csv"


def test_the_export_is_detected_and_read_one_order_per_name() -> None:
    assert detect_format(str(EXPORT)) == "shopify-csv"
    orders, bad = read(EXPORT)
    assert bad == []
    assert [h.order.number for h in orders] == ["#1001", "#1002"]
    # the order's first row; #1001 spans lines 2-4 (a quoted cell holds a line break)
    assert [h.source.line for h in orders] == [2, 5]


def test_every_column_a_rule_uses_is_mapped() -> None:
    (first, _), _ = read(EXPORT)
    o = first.order
    assert (o.platform, o.shop, o.id, o.currency) == (
        "shopify",
        "shop.example",
        "5623451234567",
        "EUR",
    )
    assert o.created_at == datetime(2025, 3, 4, 9, 15, 22, tzinfo=UTC)
    assert o.paid_at == datetime(2025, 3, 4, 9, 16, 2, tzinfo=UTC)
    assert first.fulfilled_at == datetime(2025, 3, 5, 13, 2, 11, tzinfo=UTC)
    assert o.financial_status is FinancialStatus.PARTIALLY_REFUNDED
    assert (o.subtotal, o.shipping, o.tax, o.total, o.discounts) == (
        Money(Decimal("63.26"), "EUR"),
        Money(Decimal("4.90"), "EUR"),
        Money(Decimal("12.02"), "EUR"),
        Money(Decimal("80.18"), "EUR"),
        Money(Decimal("6.49"), "EUR"),
    )
    assert o.discount_codes == ("WELCOME10",)
    assert o.code_discounts == (("WELCOME10", Money(Decimal("6.49"), "EUR")),)
    assert o.email == "anna.schmidt@example.com"
    assert o.customer is None  # the export has no customer id
    assert o.billing_address == Address(country_code="DE", city="Hamburg", zip="20095")
    assert o.shipping_method == "Standard"
    assert o.payment_gateway == "shopify_payments"
    assert o.source == "web"
    assert o.tags == ("stammkunde", "newsletter")
    assert o.note_attributes == (("gift", "yes"), ("source", "newsletter"))
    assert [
        (li.id, li.title, li.quantity, li.unit_price.amount, li.sku, li.vendor)
        for li in o.line_items
    ] == [
        (
            "5623451234567-1",
            "Kaffeebohnen Hausmischung 1 kg",
            2,
            Decimal("24.90"),
            "KB-1000",
            "Roesterei Nord",
        ),
        ("5623451234567-2", "Milchkaennchen 350 ml", 1, Decimal("19.95"), "MK-350", "Metallform"),
    ]
    assert [li.discount for li in o.line_items] == [
        Money(Decimal("4.98"), "EUR"),
        Money(Decimal("1.51"), "EUR"),
    ]
    assert all(li.product_type is None for li in o.line_items)  # not in the export: unknown
    (refund,) = o.refunds
    assert (refund.amount, refund.created_at, refund.lines) == (
        Money(Decimal("19.95"), "EUR"),
        None,
        None,
    )


def test_a_cancelled_guest_order_in_another_currency() -> None:
    (_, second), _ = read(EXPORT)
    o = second.order
    assert o.currency == "USD"
    assert o.financial_status is FinancialStatus.CANCELLED
    assert o.cancelled_at == datetime(2025, 3, 7, 13, 0, tzinfo=UTC)
    assert o.paid_at is None and second.fulfilled_at is None
    assert o.refunds == ()
    assert o.shipping_address == Address(
        country_code="US", province_code="NY", city="New York", zip="10001"
    )


def test_a_customer_id_column_makes_the_buyer_a_customer(tmp_path: Path) -> None:
    lines = EXPORT.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    lines[0] = lines[0].rstrip("\r\n") + ",Customer ID\r\n"
    lines[1] = lines[1].rstrip("\r\n") + "\n"
    lines[2] = lines[2].rstrip("\r\n") + ",7001\r\n"
    lines[3] = lines[3].rstrip("\r\n") + ",\r\n"
    lines[4] = lines[4].rstrip("\r\n") + ",\r\n"
    path = tmp_path / "orders_export.csv"
    path.write_text("".join(lines), encoding="utf-8")
    (first, second), bad = read(path)
    assert bad == []
    assert first.order.customer is not None
    assert (first.order.customer.id, first.order.customer.accepts_marketing) == ("7001", True)
    assert second.order.customer is None


def test_a_missing_required_column_is_one_bad_row_for_the_file(tmp_path: Path) -> None:
    text = EXPORT.read_text(encoding="utf-8-sig").replace("Lineitem price,", "Lineitem cost,", 1)
    path = tmp_path / "export.csv"
    path.write_text(text, encoding="utf-8")
    orders, bad = read(path, fmt="shopify-csv")
    assert orders == []
    assert len(bad) == 1
    assert (bad[0].path, bad[0].line) == (str(path), 1)
    assert "'Lineitem price'" in bad[0].reason


def _rows(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8-sig").splitlines(keepends=True)


def test_a_bad_line_item_row_skips_its_order_and_names_the_line(tmp_path: Path) -> None:
    lines = _rows(EXPORT)
    lines[3] = lines[3].replace(",1,Milchkaennchen", ",one,Milchkaennchen")
    path = tmp_path / "export.csv"
    path.write_text("".join(lines), encoding="utf-8")
    orders, bad = read(path)
    assert [h.order.number for h in orders] == ["#1002"]
    assert [(b.line, "Lineitem quantity 'one' is not a whole number" in b.reason) for b in bad] == [
        (4, True)
    ]
    assert "#1001" in bad[0].reason


def test_a_row_with_too_few_columns_and_a_bad_date_each_skip_one_order(tmp_path: Path) -> None:
    lines = _rows(EXPORT)
    lines[4] = ",".join(lines[4].split(",")[:20]) + "\r\n"  # #1002 cut short
    lines[1] = lines[1].replace("2025-03-04 10:15:22 +0100", "04.03.2025 10:15")
    path = tmp_path / "export.csv"
    path.write_text("".join(lines), encoding="utf-8")
    orders, bad = read(path)
    assert orders == []
    assert [b.line for b in bad] == [2, 5]
    assert "Created at '04.03.2025 10:15' is not a date" in bad[0].reason
    assert "the row has 20 columns" in bad[1].reason


def test_a_line_that_is_not_utf8_is_reported_and_the_rest_read(tmp_path: Path) -> None:
    data = EXPORT.read_bytes().replace(b"Handmuehle", "Handm\u00fchle".encode("latin-1"))
    path = tmp_path / "export.csv"
    path.write_bytes(data)
    orders, bad = read(path)
    assert [h.order.number for h in orders] == ["#1001"]
    assert [b.line for b in bad] == [5]
    assert "not UTF-8" in bad[0].reason


def test_a_gzipped_export_reads_the_same(tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "export.csv.gz"
    with EXPORT.open("rb") as src, gzip.open(path, "wb") as dst:
        shutil.copyfileobj(src, dst)
    plain, _ = read(EXPORT)
    gz, bad = read(path)
    assert bad == []
    assert [h.order for h in gz] == [h.order for h in plain]
