"""``apply_enrichment``: what an enrichment object fills in on an order, matched by SKU or
product id, and each mistake named with its place."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest

from aftersale_kit.core.model import Order
from aftersale_kit.core.money import Money
from aftersale_kit.evaluation import (
    EvaluationError,
    apply_enrichment,
    load_shop_config,
    read_json_file,
    read_payload,
)

SHOP = Path(__file__).resolve().parent.parent / "examples" / "kaffeeroesterei-shopify"


@cache  # orders are frozen; loading the example config once keeps the test fast
def order(name: str = "02-stammkunde-grosseinkauf") -> Order:
    config = load_shop_config(SHOP / "shop.yaml")
    return read_payload(config, read_json_file(SHOP / "orders" / f"{name}.json"))


def test_customer_and_products_are_filled_in_by_sku_or_product_id() -> None:
    plain = order()
    enriched = apply_enrichment(
        plain,
        {
            "customer": {"orders_count": 4, "total_spent": "99.50", "tags": ["vip"]},
            "products": {
                "KAF-ESP-500": {"product_type": "Kaffee", "tags": ["bohnen"]},
                "788032119674292003": {"categories": ["filter"]},
            },
        },
    )
    assert enriched.customer is not None
    assert enriched.customer.orders_count == 4
    assert enriched.customer.total_spent == Money.of("99.50", "EUR")
    assert enriched.customer.tags == ("vip",)
    assert enriched.customer.email == "t.mueller@example.de"
    rows = [(i.sku, i.product_type, i.tags, i.categories) for i in enriched.line_items]
    assert rows == [
        ("ZUB-HANDMUEHLE", None, None, None),
        ("KAF-ESP-500", "Kaffee", ("bohnen",), None),
        ("KAF-ETH-250", None, None, ("filter",)),
    ]
    # and an empty object changes nothing
    assert apply_enrichment(plain, {}) == plain


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "src: expected a JSON object"),
        ({"orders": {}}, "src: unknown key 'orders'; expected customer, products"),
        ({"customer": []}, "src: customer: expected a JSON object"),
        (
            {"customer": {"email": "x"}},
            "src: customer.email: unknown; expected one of ('orders_count', 'total_spent', 'tags', "
            "'care_cost', 'care_cost_share', 'care_cost_note')",
        ),
        (
            {"customer": {"care_cost_share": "a quarter"}},
            "src: customer.care_cost_share: expected a number such as 0.25, got 'a quarter'",
        ),
        (
            {"customer": {"care_cost_share": -0.5}},
            "src: customer.care_cost_share: expected a number of at least 0, got -0.5",
        ),
        (
            {"customer": {"care_cost_share": True}},
            "src: customer.care_cost_share: expected a number such as 0.25, got True",
        ),
        (
            {"customer": {"care_cost_note": 3}},
            "src: customer.care_cost_note: expected a text",
        ),
        (
            {"customer": {"orders_count": True}},
            "src: customer.orders_count: expected a whole number of at least 1",
        ),
        (
            {"customer": {"orders_count": 0}},
            "src: customer.orders_count: expected a whole number of at least 1",
        ),
        ({"customer": {"total_spent": "lots"}}, "src: customer.total_spent: "),
        (
            {"customer": {"tags": "vip"}},
            "src: customer.tags: expected a list of texts, got 'vip'",
        ),
        ({"products": []}, "src: products: expected a JSON object"),
        ({"products": {"X": 1}}, "src: products.X: expected a JSON object"),
        (
            {"products": {"X": {"vendor": "y"}}},
            "src: products.X.vendor: unknown; expected one of ('product_type', 'tags', "
            "'categories')",
        ),
        (
            {"products": {"KAF-ESP-500": {"product_type": 5}}},
            "src: products: product_type: expected a text",
        ),
        (
            {"products": {"KAF-ESP-500": {"categories": [1]}}},
            "src: products: categories: expected a list of texts, got [1]",
        ),
    ],
)
def test_mistakes_are_named(data: Any, message: str) -> None:
    with pytest.raises(EvaluationError) as caught:
        apply_enrichment(order(), data, source="src")
    assert str(caught.value).startswith(message), str(caught.value)


def test_a_guest_order_takes_no_customer_facts() -> None:
    guest = order("03-gastbestellung")
    assert guest.customer is None
    with pytest.raises(EvaluationError, match="the order is a guest order; remove customer"):
        apply_enrichment(guest, {"customer": {"orders_count": 2}})
