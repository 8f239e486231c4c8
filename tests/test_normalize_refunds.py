"""Refunds in the neutral model: Shopify's ``refunds/create`` body and order ``refunds[]``,
WooCommerce's order ``refunds[]``, and the codes an order used with their amounts."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from aftersale_kit_shopify.normalize import normalize_shopify_order, normalize_shopify_refund
from aftersale_kit_woocommerce.normalize import normalize_woocommerce_order

from aftersale_kit.core.model import RefundLine
from aftersale_kit.core.money import Money

FIXTURES = Path(__file__).resolve().parent / "fixtures"

# The REST Refund shape (https://shopify.dev/docs/api/admin-rest/latest/resources/refund): one
# line refunded, shipping refunded, a successful and a failed refund transaction.
SHOPIFY_REFUND = {
    "id": 929361465,
    "order_id": 450789469,
    "created_at": "2026-03-02T13:00:00-05:00",
    "refund_line_items": [
        {
            "id": 1,
            "line_item_id": 466157049,
            "quantity": 1,
            "subtotal": 199.0,
            "subtotal_set": {
                "shop_money": {"amount": "199.00", "currency_code": "EUR"},
                "presentment_money": {"amount": "210.94", "currency_code": "CHF"},
            },
        }
    ],
    "refund_shipping_lines": [
        {"id": 2, "subtotal_amount_set": {"shop_money": {"amount": "5.00", "currency_code": "EUR"}}}
    ],
    "transactions": [
        {
            "kind": "refund",
            "status": "success",
            "amount": "216.24",
            "currency": "CHF",
            "amount_set": {"shop_money": {"amount": "204.00", "currency_code": "EUR"}},
        },
        {"kind": "refund", "status": "failure", "amount": "10.00", "currency": "EUR"},
    ],
}


def test_a_shopify_refund_body_in_shop_money() -> None:
    refund = normalize_shopify_refund(SHOPIFY_REFUND, currency="EUR")
    assert refund.id == "929361465"
    # the successful transaction in shop money, not the buyer's 216.24 CHF; the failed one not
    assert refund.amount == Money.of("204.00", "EUR")
    assert refund.lines == (
        RefundLine(line_item_id="466157049", quantity=1, subtotal=Money.of("199.00", "EUR")),
    )
    assert refund.shipping == Money.of("5.00", "EUR")


def test_a_shopify_order_carries_its_refunds_and_the_amounts_of_its_codes() -> None:
    raw = json.loads((FIXTURES / "shopify" / "shopify_python_api_order.json").read_text())
    body = raw.get("order", raw)
    body["refunds"] = [SHOPIFY_REFUND]
    order = normalize_shopify_order(body)
    assert [r.id for r in order.refunds] == ["929361465"]
    assert order.code_discounts == (("TENOFF", Money.of("10.00", order.currency)),)


def test_woocommerce_refunds_are_positive_amounts_with_unknown_lines() -> None:
    raw = json.loads((FIXTURES / "woocommerce" / "wc_v3_order_727.json").read_text())
    raw["refunds"] = [
        {"id": 901, "reason": "Kratzer", "total": "-10.00"},
        {"id": 902, "reason": "", "total": "-2.50"},
    ]
    raw["coupon_lines"] = [{"id": 5, "code": "danke-x9cdd28k", "discount": "10.00"}]
    order = normalize_woocommerce_order(raw)
    assert [(r.id, r.amount.amount, r.lines) for r in order.refunds] == [
        ("901", Decimal("10.00"), None),
        ("902", Decimal("2.50"), None),
    ]
    assert order.code_discounts == (("danke-x9cdd28k", Money.of("10.00", order.currency)),)
