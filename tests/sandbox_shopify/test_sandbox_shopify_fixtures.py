"""Every vendor payload loads as a sandbox order and comes back in the vendor's shapes: through
GraphQL in Shopify's GraphQL shape, through webhooks in the REST shape it was written in."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from aftersale_kit_shopify.sandbox import ShopifySandbox
from aftersale_kit_shopify.sandbox.orders import ORDER_FIXTURES
from shopify_receiver import Receiver

GQL = Callable[..., dict[str, Any]]
VENDOR = Path(__file__).resolve().parent.parent / "fixtures" / "shopify"
SEED = (
    Path(__file__).resolve().parents[2]
    / "adapters"
    / "shopify"
    / "aftersale_kit_shopify"
    / "sandbox"
    / "seed"
)

ORDER_QUERY = """query($id: ID!) { order(id: $id) {
  id legacyResourceId name email createdAt processedAt cancelledAt cancelReason
  displayFinancialStatus currencyCode tags test sourceName discountCodes paymentGatewayNames
  subtotalPriceSet { shopMoney { amount currencyCode } presentmentMoney { amount } }
  totalPriceSet { shopMoney { amount currencyCode } }
  totalDiscountsSet { shopMoney { amount } }
  totalTaxSet { shopMoney { amount } }
  customer { id legacyResourceId email firstName lastName }
  customAttributes { key value }
  shippingAddress { countryCodeV2 city zip }
  shippingLine { title originalPriceSet { shopMoney { amount } } }
  lineItems(first: 20) { nodes { id title quantity sku variantTitle
    originalUnitPriceSet { shopMoney { amount } }
    product { id } variant { id } } }
} }"""


def vendor_order(name: str) -> dict[str, Any]:
    data = json.loads((VENDOR / f"{name}.json").read_text("utf-8"))
    return dict(data.get("order", data))


def decimal_text(value: Any) -> str:
    """Shopify's GraphQL ``Decimal``: no trailing zeros, one decimal at least."""
    text = format(Decimal(str(value)).normalize(), "f")
    return text if "." in text else text + ".0"


def test_the_shipped_seed_payloads_are_the_vendor_payloads() -> None:
    # the sandbox ships copies (users' installs have no tests/ folder); they must not drift
    shipped = sorted(p.name for p in SEED.glob("*.json"))
    assert shipped == sorted(p.name for p in VENDOR.glob("*.json"))
    for name in shipped:
        assert (SEED / name).read_bytes() == (VENDOR / name).read_bytes(), name
    assert sorted(ShopifySandbox.fixtures()) == sorted(n.removesuffix(".json") for n in shipped)


@pytest.mark.parametrize("name", ORDER_FIXTURES)
def test_vendor_order_comes_back_through_graphql_in_shopify_shape(
    sandbox: ShopifySandbox, gql: GQL, name: str
) -> None:
    # given the vendor payload loaded through the control API
    created = requests.post(
        sandbox.control_url + "/orders", json={"fixture": name}, timeout=5
    ).json()["order"]
    vendor = vendor_order(name)
    # when the order is read through GraphQL
    order = gql(ORDER_QUERY, id=created["admin_graphql_api_id"])["data"]["order"]
    # then the values are the vendor's, in GraphQL's shapes
    assert order["id"] == f"gid://shopify/Order/{vendor['id']}"
    assert order["legacyResourceId"] == str(vendor["id"])
    assert order["name"] == vendor["name"]
    assert order["email"] == vendor["email"]
    assert order["displayFinancialStatus"] == vendor["financial_status"].upper()
    assert order["currencyCode"] == vendor["currency"]
    assert order["test"] == vendor["test"]
    assert order["createdAt"].endswith("Z")
    assert order["totalPriceSet"]["shopMoney"] == {
        "amount": decimal_text(vendor["total_price"]),
        "currencyCode": vendor["currency"],
    }
    assert order["subtotalPriceSet"]["shopMoney"]["amount"] == decimal_text(
        vendor["subtotal_price"]
    )
    assert order["totalDiscountsSet"]["shopMoney"]["amount"] == decimal_text(
        vendor["total_discounts"]
    )
    assert order["totalTaxSet"]["shopMoney"]["amount"] == decimal_text(vendor["total_tax"])
    assert order["discountCodes"] == [c["code"] for c in vendor["discount_codes"]]
    assert order["customAttributes"] == [
        {"key": a["name"], "value": a["value"]} for a in vendor["note_attributes"]
    ]
    assert order["tags"] == [t.strip() for t in (vendor.get("tags") or "").split(",") if t.strip()]
    reason = vendor["cancel_reason"]
    assert order["cancelReason"] == (reason.upper() if reason else None)
    assert order["customer"]["legacyResourceId"] == str(vendor["customer"]["id"])
    assert order["customer"]["email"] == vendor["customer"]["email"]
    assert order["shippingAddress"]["countryCodeV2"] == vendor["shipping_address"]["country_code"]
    assert order["shippingLine"]["title"] == vendor["shipping_lines"][0]["title"]
    items = order["lineItems"]["nodes"]
    assert [(i["title"], i["quantity"], i["sku"]) for i in items] == [
        (v["title"], v["quantity"], v["sku"] or None) for v in vendor["line_items"]
    ]
    assert [i["originalUnitPriceSet"]["shopMoney"]["amount"] for i in items] == [
        decimal_text(v["price"]) for v in vendor["line_items"]
    ]
    assert [i["product"]["id"] if i["product"] else None for i in items] == [
        f"gid://shopify/Product/{v['product_id']}" if v["product_id"] else None
        for v in vendor["line_items"]
    ]


@pytest.mark.parametrize("name", ORDER_FIXTURES)
def test_vendor_order_comes_back_through_webhooks_in_rest_shape(
    sandbox: ShopifySandbox, receiver: Receiver, name: str
) -> None:
    # given a subscription on the API version of the payload's era
    sandbox.subscribe("orders/create", receiver.url, api_version="2022-04")
    # when the vendor payload is loaded as an order
    sandbox.create_order(fixture=name)
    (delivery,) = receiver.wait_for(1)
    body = json.loads(delivery.body)
    vendor = vendor_order(name)
    # then every vendor field is in the webhook body, unchanged (big ids exact)
    assert {k: body[k] for k in vendor if k != "line_items"} == {
        k: v for k, v in vendor.items() if k != "line_items"
    }
    for sent, given in zip(body["line_items"], vendor["line_items"], strict=True):
        assert {k: sent[k] for k in given} == given
        assert set(sent) - set(given) <= {"admin_graphql_api_id"}
    assert delivery.verified
    # and the only additions are fields Shopify always sends
    assert set(body) - set(vendor) <= {
        "admin_graphql_api_id",
        "processed_at",
        "tags",
        "refunds",
        "fulfillments",
    }


def test_the_2025_sample_is_delivered_byte_for_byte_as_parsed(
    sandbox: ShopifySandbox, receiver: Receiver
) -> None:
    sandbox.subscribe("orders/create", receiver.url)
    sandbox.create_order(fixture="shopify_sample_webhook_order_2025")
    (delivery,) = receiver.wait_for(1)
    assert json.loads(delivery.body) == vendor_order("shopify_sample_webhook_order_2025")


def test_a_fixture_loads_many_times_with_fresh_ids(sandbox: ShopifySandbox, gql: GQL) -> None:
    # given the same vendor payload loaded twice
    first = sandbox.create_order(fixture="shopify_sample_webhook_order_2025")
    second = sandbox.create_order(fixture="shopify_sample_webhook_order_2025", new_id=True)
    # then the copy has its own ids, still above 2**53
    assert second["id"] != first["id"]
    assert second["id"] > 2**53
    assert {i["id"] for i in second["line_items"]}.isdisjoint(i["id"] for i in first["line_items"])
    # and loading it again without new_id is refused with a hint
    again = requests.post(
        sandbox.control_url + "/orders",
        json={"fixture": "shopify_sample_webhook_order_2025"},
        timeout=5,
    )
    assert again.status_code == 409
    assert "new_id" in again.json()["error"]
    listed = gql("{ orders(first: 10) { nodes { legacyResourceId } } }")
    assert len(listed["data"]["orders"]["nodes"]) == 2


def test_the_price_rule_and_discount_code_payloads_load_as_a_discount(
    sandbox: ShopifySandbox, gql: GQL
) -> None:
    # given the legacy REST price rule and its discount code
    response = requests.post(sandbox.control_url + "/discounts", json={}, timeout=5)
    assert response.status_code == 201
    # when the code is looked up
    node = gql(
        """{ codeDiscountNodeByCode(code: "25off") { id codeDiscount { ... on DiscountCodeBasic {
             title appliesOncePerCustomer asyncUsageCount usageLimit
             customerGets { value { ... on DiscountPercentage { percentage } } }
             codes(first: 1) { nodes { code asyncUsageCount } } } } } }"""
    )["data"]["codeDiscountNodeByCode"]
    # then the price rule's values show through the GraphQL discount
    assert node["id"] == "gid://shopify/DiscountCodeNode/1213131"
    assert node["codeDiscount"] == {
        "title": "BOGO",
        "appliesOncePerCustomer": True,
        "asyncUsageCount": 3,
        "usageLimit": None,
        "customerGets": {"value": {"percentage": 1.0}},
        "codes": {"nodes": [{"code": "25OFF", "asyncUsageCount": 3}]},
    }
