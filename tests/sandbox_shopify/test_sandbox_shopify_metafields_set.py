"""``metafieldsSet`` of the sandbox: each refusal (field, code, message, element index), the input
limit, and updates that keep an existing metafield's type, over real sockets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aftersale_kit_shopify.sandbox import ShopifySandbox

GQL = Callable[..., dict[str, Any]]

SET = """mutation($m: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $m) {
  metafields { namespace key value type ownerType }
  userErrors { field message code elementIndex } } }"""


@pytest.fixture
def order_gid(sandbox: ShopifySandbox) -> str:
    return str(sandbox.create_order()["admin_graphql_api_id"])


@pytest.mark.parametrize(
    ("entry", "field", "code", "message"),
    [
        ({"ownerId": "gid://shopify/Order/999999"}, "ownerId", "INVALID", "Owner does not exist."),
        ({"ownerId": "gid://shopify/Refund/1"}, "ownerId", "INVALID", "Owner does not exist."),
        (
            {"namespace": "app--42--other"},
            "namespace",
            "APP_NOT_AUTHORIZED",
            "Access to this namespace and key on Metafields for this resource type is not allowed.",
        ),
        (
            {"namespace": "ab"},
            "namespace",
            "TOO_SHORT",
            "Namespace is too short (minimum is 3 characters)",
        ),
        ({"key": "k"}, "key", "TOO_SHORT", "Key is too short (minimum is 2 characters)"),
        ({"key": "k" * 65}, "key", "TOO_LONG", "Key is too long (maximum is 64 characters)"),
        ({"type": None}, "type", "BLANK", "Type can't be blank"),
        (
            {"type": "colour"},
            "type",
            "INVALID_TYPE",
            "Type 'colour' is not a valid metafield type",
        ),
        (
            {"value": "maybe", "type": "boolean"},
            "value",
            "INVALID_VALUE",
            "Value must be true or false.",
        ),
        (
            {"value": "a\nb", "type": "single_line_text_field"},
            "value",
            "INVALID_VALUE",
            "Value must be a single line text string.",
        ),
        (
            {"value": "ftp://x", "type": "url"},
            "value",
            "INVALID_VALUE",
            "Value must be a valid URL.",
        ),
        (
            {"value": "three", "type": "number_integer"},
            "value",
            "INVALID_VALUE",
            "Value is invalid for type number_integer.",
        ),
        (
            {"value": "yesterday", "type": "date"},
            "value",
            "INVALID_VALUE",
            "Value is invalid for type date.",
        ),
    ],
)
def test_refusals_name_the_field_and_the_element(
    sandbox: ShopifySandbox,
    gql: GQL,
    order_gid: str,
    entry: dict[str, Any],
    field: str,
    code: str,
    message: str,
) -> None:
    good = {"ownerId": order_gid, "namespace": "custom", "key": "ok", "type": "number_integer"}
    bad = {**good, "key": "bad", "value": "1", **entry}
    # when the second of two entries is wrong in one way
    result = gql(SET, m=[{**good, "value": "1"}, {k: v for k, v in bad.items() if v is not None}])
    payload = result["data"]["metafieldsSet"]
    # then that one error comes back with the element's index and nothing is stored
    assert payload == {
        "metafields": [],
        "userErrors": [
            {
                "field": ["metafields", "1", field],
                "message": message,
                "code": code,
                "elementIndex": 1,
            }
        ],
    }
    assert sandbox.metafields() == []


def test_more_than_25_entries_are_refused(
    sandbox: ShopifySandbox, gql: GQL, order_gid: str
) -> None:
    entries = [
        {
            "ownerId": order_gid,
            "namespace": "custom",
            "key": f"k{i}",
            "type": "boolean",
            "value": "true",
        }
        for i in range(26)
    ]
    payload = gql(SET, m=entries)["data"]["metafieldsSet"]
    assert payload == {
        "metafields": [],
        "userErrors": [
            {
                "field": ["metafields"],
                "message": "Exceeded the maximum metafields input limit of 25.",
                "code": "LESS_THAN_OR_EQUAL_TO",
                "elementIndex": None,
            }
        ],
    }


def test_a_second_set_updates_in_place_and_keeps_the_type(
    sandbox: ShopifySandbox, gql: GQL, order_gid: str
) -> None:
    # given a metafield of type json
    entry = {"ownerId": order_gid, "namespace": "custom", "key": "seen", "type": "json"}
    gql(SET, m=[{**entry, "value": "[1]"}])
    # when it is set again without a type, with a list type alongside
    payload = gql(
        SET,
        m=[
            {"ownerId": order_gid, "namespace": "custom", "key": "seen", "value": "[1, 2]"},
            {**entry, "key": "refs", "type": "list.single_line_text_field", "value": '["a"]'},
        ],
    )["data"]["metafieldsSet"]
    # then the first keeps json and is updated, not duplicated
    assert payload["userErrors"] == []
    assert [(m["key"], m["value"], m["type"], m["ownerType"]) for m in payload["metafields"]] == [
        ("seen", "[1, 2]", "json", "ORDER"),
        ("refs", '["a"]', "list.single_line_text_field", "ORDER"),
    ]
    assert sorted(m["key"] for m in sandbox.metafields()) == ["refs", "seen"]
