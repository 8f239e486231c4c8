"""Input checks of the sandbox's code-discount create mutations: each field group's user errors
(field path, code, message) and what a valid input stores, over real sockets."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from aftersale_kit_shopify.sandbox import ShopifySandbox

GQL = Callable[..., dict[str, Any]]

BASIC = """mutation($input: DiscountCodeBasicInput!) {
  discountCodeBasicCreate(basicCodeDiscount: $input) {
    codeDiscountNode { id }
    userErrors { field code message }
  }
}"""
FREE_SHIPPING = """mutation($input: DiscountCodeFreeShippingInput!) {
  discountCodeFreeShippingCreate(freeShippingCodeDiscount: $input) {
    codeDiscountNode { id }
    userErrors { field code message }
  }
}"""


def basic(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "title": "Thanks",
        "code": "THANKS-1",
        "startsAt": "2025-01-01T00:00:00Z",
        "context": {"all": "ALL"},
        "customerGets": {"value": {"percentage": 0.1}, "items": {"all": True}},
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def errors(result: dict[str, Any], field: str) -> list[tuple[str, str, str]]:
    payload = result["data"][field]
    assert (payload["codeDiscountNode"] is None) == bool(payload["userErrors"])
    return [(".".join(e["field"][1:]), e["code"], e["message"]) for e in payload["userErrors"]]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"title": "x" * 256},
            [("title", "TOO_LONG", "Title is too long (maximum is 255 characters)")],
        ),
        ({"code": "A\nB"}, [("code", "INVALID", "Code cannot contain newline characters.")]),
        (
            {"code": "C" * 256},
            [("code", "TOO_LONG", "Code is too long (maximum is 255 characters)")],
        ),
        (
            {"startsAt": "2025-02-01T00:00:00Z", "endsAt": "2025-01-01T00:00:00Z"},
            [("endsAt", "INVALID", "Ends at needs to be after starts_at")],
        ),
        (
            {"context": None},
            [("context", "BLANK", "Context can't be blank")],
        ),
        (
            {"customerSelection": {"all": True}},
            [("context", "INVALID", "Only one of context or customerSelection can be provided.")],
        ),
        (
            {"context": {"all": "ALL", "customerSegments": {"add": ["gid://shopify/Segment/1"]}}},
            [
                (
                    "context",
                    "INVALID",
                    "Exactly one of all, customers or customerSegments must be provided.",
                )
            ],
        ),
        (
            {"context": {"customers": {"add": []}}},
            [("context.customers.add", "BLANK", "Customers can't be blank")],
        ),
        (
            {"customerGets": {"value": {}, "items": {"all": True}}},
            [("customerGets.value", "BLANK", "Value can't be blank")],
        ),
        (
            {
                "customerGets": {
                    "value": {"percentage": 0.1, "discountAmount": {"amount": "5"}},
                    "items": {"all": True},
                }
            },
            [
                (
                    "customerGets.value",
                    "INVALID",
                    "Only one of percentage or discountAmount can be provided.",
                )
            ],
        ),
        (
            {
                "customerGets": {
                    "value": {"discountAmount": {"amount": "0"}},
                    "items": {"all": True},
                }
            },
            [
                (
                    "customerGets.value.discountAmount.amount",
                    "GREATER_THAN",
                    "Value must be greater than 0",
                )
            ],
        ),
        (
            {"customerGets": {"value": {"percentage": 0.1}}},
            [("customerGets.items", "BLANK", "Items can't be blank")],
        ),
        (
            {"customerGets": {"value": {"percentage": 0.1}, "items": {"all": False}}},
            [("customerGets.items", "BLANK", "Items can't be blank")],
        ),
        (
            {
                "customerGets": {
                    "value": {"percentage": 0.1},
                    "items": {"products": {"productsToAdd": ["gid://shopify/Product/999"]}},
                }
            },
            [
                (
                    "customerGets.items.products.productsToAdd",
                    "INVALID",
                    "Product gid://shopify/Product/999 does not exist",
                )
            ],
        ),
        (
            {
                "customerGets": {
                    "value": {"percentage": 0.1},
                    "items": {"collections": {"add": ["gid://shopify/Collection/998"]}},
                }
            },
            [
                (
                    "customerGets.items.collections.add",
                    "INVALID",
                    "Collection gid://shopify/Collection/998 does not exist",
                )
            ],
        ),
        (
            {"minimumRequirement": {"subtotal": {"greaterThanOrEqualToSubtotal": "0"}}},
            [
                (
                    "minimumRequirement.subtotal.greaterThanOrEqualToSubtotal",
                    "GREATER_THAN",
                    "Minimum subtotal must be greater than 0",
                )
            ],
        ),
        (
            {"minimumRequirement": {"quantity": {"greaterThanOrEqualToQuantity": "0"}}},
            [
                (
                    "minimumRequirement.quantity.greaterThanOrEqualToQuantity",
                    "GREATER_THAN",
                    "Minimum quantity must be greater than 0",
                )
            ],
        ),
        ({"usageLimit": 0}, [("usageLimit", "GREATER_THAN", "Usage limit must be greater than 0")]),
        (
            {"title": "", "code": "", "startsAt": "soon", "usageLimit": -1},
            [
                ("title", "BLANK", "Title can't be blank"),
                ("code", "BLANK", "Code can't be blank"),
                ("startsAt", "INVALID", "Starts at is invalid"),
                ("usageLimit", "GREATER_THAN", "Usage limit must be greater than 0"),
            ],
        ),
    ],
)
def test_basic_discount_input_errors(
    gql: GQL, changes: dict[str, Any], expected: list[tuple[str, str, str]]
) -> None:
    # when a basic code discount is created with one field group wrong
    result = gql(BASIC, input=basic(**changes))
    # then exactly that group's user errors come back, in order, and nothing is stored
    assert errors(result, "discountCodeBasicCreate") == expected


def test_basic_discount_stores_products_segments_and_quantity(
    sandbox: ShopifySandbox, gql: GQL
) -> None:
    # given a product
    product = sandbox.set_product(title="Mug")
    # when a fixed-amount discount on that product for a segment, with a minimum quantity, is made
    result = gql(
        BASIC,
        input=basic(
            title="Mugs",
            code=" MUGS-5 ",
            endsAt="2025-03-01T00:00:00Z",
            context={"customerSegments": {"add": ["gid://shopify/Segment/7"]}},
            customerGets={
                "value": {"discountAmount": {"amount": "5.50", "appliesOnEachItem": True}},
                "items": {"products": {"productsToAdd": [product["id"], "gid://shopify/Order/1"]}},
            },
            minimumRequirement={"quantity": {"greaterThanOrEqualToQuantity": "3"}},
            usageLimit=10,
            appliesOncePerCustomer=True,
            combinesWith={"orderDiscounts": True, "productDiscounts": None},
        ),
    )
    assert errors(result, "discountCodeBasicCreate") == []
    # then the record holds each part as given
    (record,) = sandbox.state.discounts.values()
    assert record.kind == "basic"
    assert record.title == "Mugs"
    assert [c.code for c in record.codes] == ["MUGS-5"]
    assert record.ends_at is not None and record.ends_at.isoformat() == "2025-03-01T00:00:00+00:00"
    assert record.context == {"segments": ["gid://shopify/Segment/7"]}
    assert record.value == {"amount": Decimal("5.50"), "applies_on_each_item": True}
    assert record.items == {"products": [product["legacy_id"]]}
    assert record.minimum == {"quantity": 3}
    assert record.usage_limit == 10
    assert record.applies_once_per_customer is True
    assert record.combines_with == {
        "orderDiscounts": True,
        "productDiscounts": False,
        "shippingDiscounts": False,
    }
    assert record.destination == {"all": True}
    assert record.applies_on_one_time_purchase is True


def test_free_shipping_discount_checks_and_stores_destination(
    sandbox: ShopifySandbox, gql: GQL
) -> None:
    base = {
        "title": "Ship free",
        "code": "SHIP-1",
        "startsAt": "2025-01-01T00:00:00Z",
        "context": {"all": "ALL"},
    }
    # when free shipping is made combinable with other shipping discounts
    refused = gql(FREE_SHIPPING, input={**base, "combinesWith": {"shippingDiscounts": True}})
    # then that is refused for the discount class
    assert errors(refused, "discountCodeFreeShippingCreate") == [
        (
            "combinesWith",
            "INVALID_COMBINES_WITH_FOR_DISCOUNT_CLASS",
            "The combinesWith settings are not valid for the discount class.",
        )
    ]
    # when it is made for two countries with a price cap and a minimum subtotal
    created = gql(
        FREE_SHIPPING,
        input={
            **base,
            "destination": {"countries": {"add": ["DE", "FR"], "includeRestOfWorld": True}},
            "maximumShippingPrice": "12.5",
            "minimumRequirement": {"subtotal": {"greaterThanOrEqualToSubtotal": "40"}},
            "appliesOnOneTimePurchase": False,
            "appliesOnSubscription": True,
        },
    )
    assert errors(created, "discountCodeFreeShippingCreate") == []
    # then the record holds them
    (record,) = sandbox.state.discounts.values()
    assert record.kind == "free_shipping"
    assert record.destination == {"all": False, "countries": ["DE", "FR"], "rest_of_world": True}
    assert record.maximum_shipping_price == Decimal("12.5")
    assert record.minimum == {"subtotal": Decimal("40")}
    assert record.value == {}
    assert record.items == {"all": True}
    assert record.applies_on_one_time_purchase is False
    assert record.applies_on_subscription is True
