"""The fast reading of a bulk order equals the reference (REST shape through the live
normaliser) wherever it applies, and leaves the rest to the reference."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from aftersale_kit.backtest.readers._bulk_fast import fast
from aftersale_kit.backtest.readers._bulk_rest import normalised
from aftersale_kit.backtest.readers._graphql import OpenOrder, kind
from bench.orders import generate, write

from .readers_support import DATA


def _open_orders(path: Path) -> list[OpenOrder]:
    opened: dict[str, OpenOrder] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        node = json.loads(line)
        parent = node.get("__parentId")
        if parent is None:
            opened[node["id"]] = OpenOrder(node, n)
        elif kind(node["id"]) == "LineItem":
            opened[parent].items.append(node)
        else:
            opened[parent].refunds.append(node)
    return list(opened.values())


def _both(o: OpenOrder) -> tuple[Any, Any]:
    return fast(o, shop="s.example", currency="EUR"), normalised(
        o, shop="s.example", currency="EUR"
    )


def test_generated_orders_read_the_same_both_ways(tmp_path: Path) -> None:
    write(generate(count=120, customers=30, seed=2), ("shopify-bulk",), tmp_path)
    opened = _open_orders(tmp_path / "bulk-orders.jsonl")
    for o in opened:
        quick, reference = _both(o)
        assert quick is not None
        assert quick == reference


def _fixture_order() -> OpenOrder:
    (first, _) = _open_orders(DATA / "shopify_bulk_orders.jsonl")
    return first


def _variant(change: dict[str, Any]) -> OpenOrder:
    o = _fixture_order()
    node = copy.deepcopy(o.node) | {"presentmentCurrencyCode": "EUR"} | change
    return OpenOrder(node, o.line, o.items, o.refunds)


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"customer": {"id": "gid://shopify/Customer/9", "tags": [" a ", ""], "locale": None}},
        {
            "customer": {
                "id": "gid://shopify/Customer/9",
                "emailMarketingConsent": {"marketingState": "PENDING"},
            }
        },
        {"customer": {}},
        {"discountCodes": ["A", " B "], "tags": None, "test": True},
        {"customAttributes": [{"key": " k ", "value": None}, {"key": None, "value": "x"}]},
        {"shippingLine": {"title": " ", "code": "EXP"}, "paymentGatewayNames": ["", "paypal"]},
        {"billingAddress": {"countryCodeV2": "de", "provinceCode": "", "city": None, "zip": None}},
        {"email": None, "name": None, "sourceName": " "},
        {"refunds": [{"id": "gid://shopify/Refund/1", "createdAt": None}]},
        {"totalShippingPriceSet": None, "totalTaxSet": None, "totalDiscountsSet": None},
    ],
)
def test_variants_read_the_same_both_ways(change: dict[str, Any]) -> None:
    quick, reference = _both(_variant(change))
    assert quick is not None
    assert quick == reference


@pytest.mark.parametrize(
    "change",
    [
        {"presentmentCurrencyCode": "CHF"},
        {"createdAt": "2025-03-04T09:15:22"},
        {"totalPriceSet": {"shopMoney": {"amount": 80.18}}},
        {"customAttributes": [{"key": "n", "value": 3}]},
        {"tags": "a, b"},
    ],
)
def test_anything_unusual_is_left_to_the_reference(change: dict[str, Any]) -> None:
    o = _fixture_order()
    o = OpenOrder(copy.deepcopy(o.node) | change, o.line, o.items, o.refunds)
    assert fast(o, shop="s", currency="EUR") is None
