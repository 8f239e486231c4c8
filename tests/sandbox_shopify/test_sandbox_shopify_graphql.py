"""The GraphQL Admin API of the sandbox, driven by ShopifyAPI (urllib) over real sockets."""

from __future__ import annotations

import json
import time
import urllib.error
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
import shopify
from aftersale_kit_shopify.sandbox import ShopifySandbox, activate, running_sandbox
from shopify_receiver import Receiver

GQL = Callable[..., dict[str, Any]]

CREATE_BASIC = """
mutation Create($input: DiscountCodeBasicInput!) {
  discountCodeBasicCreate(basicCodeDiscount: $input) {
    codeDiscountNode {
      id
      codeDiscount {
        ... on DiscountCodeBasic {
          title
          status
          usageLimit
          appliesOncePerCustomer
          codes(first: 5) { nodes { code } }
          customerGets {
            value {
              ... on DiscountPercentage { percentage }
              ... on DiscountAmount { amount { amount currencyCode } appliesOnEachItem }
            }
            items { ... on AllDiscountItems { allItems } }
          }
          minimumRequirement {
            ... on DiscountMinimumSubtotal { greaterThanOrEqualToSubtotal { amount } }
          }
          context {
            ... on DiscountCustomers { customers { id } }
            ... on DiscountBuyerSelectionAll { all }
          }
        }
      }
    }
    userErrors { field message code }
  }
}
"""


def coupon(code: str, **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "title": f"Thank you {code}",
        "code": code,
        "startsAt": "2025-01-01T00:00:00Z",
        "context": {"all": "ALL"},
        "customerGets": {"value": {"percentage": 0.1}, "items": {"all": True}},
        "usageLimit": 1,
        "appliesOncePerCustomer": True,
        "combinesWith": {"orderDiscounts": False, "productDiscounts": False},
    }
    base.update(changes)
    return base


def test_creates_a_coupon_and_refuses_the_same_code_in_other_case(
    sandbox: ShopifySandbox, gql: GQL
) -> None:
    # when a coupon is created
    first = gql(CREATE_BASIC, input=coupon("THANKS-7Q2"))
    # then it exists, active, with Shopify's shapes
    payload = first["data"]["discountCodeBasicCreate"]
    assert payload["userErrors"] == []
    node = payload["codeDiscountNode"]
    assert node["id"].startswith("gid://shopify/DiscountCodeNode/")
    discount = node["codeDiscount"]
    assert discount["status"] == "ACTIVE"
    assert discount["codes"]["nodes"] == [{"code": "THANKS-7Q2"}]
    assert discount["customerGets"]["value"] == {"percentage": 0.1}
    assert discount["context"] == {"all": "ALL"}
    assert first["extensions"]["cost"]["requestedQueryCost"] == 10

    # when the same code is created again, differently cased
    second = gql(CREATE_BASIC, input=coupon("thanks-7q2"))
    # then Shopify's TAKEN user error comes back in a 200
    assert second["data"]["discountCodeBasicCreate"] == {
        "codeDiscountNode": None,
        "userErrors": [
            {
                "field": ["basicCodeDiscount", "code"],
                "message": "Code must be unique. Please try a different code.",
                "code": "TAKEN",
            }
        ],
    }
    assert [d["codes"] for d in sandbox.discounts()] == [["THANKS-7Q2"]]


def test_required_fields_and_value_rules_give_user_errors(gql: GQL) -> None:
    # when a coupon lacks its required fields
    empty = gql(CREATE_BASIC, input={"code": " "})
    errors = empty["data"]["discountCodeBasicCreate"]["userErrors"]
    # then each missing field is named, with BLANK
    assert {(tuple(e["field"]), e["code"]) for e in errors} == {
        (("basicCodeDiscount", "title"), "BLANK"),
        (("basicCodeDiscount", "code"), "BLANK"),
        (("basicCodeDiscount", "startsAt"), "BLANK"),
        (("basicCodeDiscount", "context"), "BLANK"),
        (("basicCodeDiscount", "customerGets"), "BLANK"),
    }
    # and out-of-range values are refused
    bad = gql(
        CREATE_BASIC,
        input=coupon(
            "BAD-1",
            customerGets={"value": {"percentage": 1.5}, "items": {"all": True}},
            minimumRequirement={
                "subtotal": {"greaterThanOrEqualToSubtotal": "50.00"},
                "quantity": {"greaterThanOrEqualToQuantity": "2"},
            },
            endsAt="2024-12-31T00:00:00Z",
        ),
    )
    codes = {e["code"] for e in bad["data"]["discountCodeBasicCreate"]["userErrors"]}
    assert codes == {
        "VALUE_OUTSIDE_RANGE",
        "MINIMUM_SUBTOTAL_AND_QUANTITY_RANGE_BOTH_PRESENT",
        "INVALID",
    }


def test_fixed_amount_coupon_for_one_customer_with_minimum(
    sandbox: ShopifySandbox, gql: GQL
) -> None:
    # given an order with a customer
    order = sandbox.create_order(customer={"email": "ann@example.com"})
    customer_gid = order["customer"]["admin_graphql_api_id"]
    # when a fixed-amount coupon is made for that customer only
    result = gql(
        CREATE_BASIC,
        input=coupon(
            "ANN-20",
            context={"customers": {"add": [customer_gid]}},
            customerGets={
                "value": {"discountAmount": {"amount": "20.00", "appliesOnEachItem": False}},
                "items": {"all": True},
            },
            minimumRequirement={"subtotal": {"greaterThanOrEqualToSubtotal": "50.00"}},
        ),
    )
    discount = result["data"]["discountCodeBasicCreate"]["codeDiscountNode"]["codeDiscount"]
    # then amounts are Decimal strings and the customer is attached
    assert discount["customerGets"]["value"] == {
        "amount": {"amount": "20.0", "currencyCode": "USD"},
        "appliesOnEachItem": False,
    }
    assert discount["minimumRequirement"] == {"greaterThanOrEqualToSubtotal": {"amount": "50.0"}}
    assert discount["context"] == {"customers": [{"id": customer_gid}]}
    # and a customer that does not exist is refused
    unknown = gql(
        CREATE_BASIC,
        input=coupon("NOBODY", context={"customers": {"add": ["gid://shopify/Customer/1"]}}),
    )
    assert unknown["data"]["discountCodeBasicCreate"]["userErrors"][0]["code"] == "INVALID"


def test_free_shipping_lookup_by_code_and_deactivation(sandbox: ShopifySandbox, gql: GQL) -> None:
    # given a free-shipping coupon
    created = gql(
        """mutation($input: DiscountCodeFreeShippingInput!) {
          discountCodeFreeShippingCreate(freeShippingCodeDiscount: $input) {
            codeDiscountNode { id }
            userErrors { field code message }
          }
        }""",
        input={
            "title": "Free shipping next time",
            "code": "SHIPFREE-1",
            "startsAt": "2025-01-01T00:00:00Z",
            "context": {"all": "ALL"},
            "destination": {"all": True},
            "appliesOncePerCustomer": True,
        },
    )
    node_id = created["data"]["discountCodeFreeShippingCreate"]["codeDiscountNode"]["id"]
    lookup = """query($code: String!) {
      codeDiscountNodeByCode(code: $code) {
        id
        codeDiscount {
          __typename
          ... on DiscountCodeFreeShipping {
            status
            destinationSelection { ... on DiscountCountryAll { allCountries } }
          }
        }
      }
    }"""
    # when it is looked up by code (any case)
    found = gql(lookup, code="shipfree-1")["data"]["codeDiscountNodeByCode"]
    # then it is the same discount
    assert found["id"] == node_id
    assert found["codeDiscount"] == {
        "__typename": "DiscountCodeFreeShipping",
        "status": "ACTIVE",
        "destinationSelection": {"allCountries": True},
    }
    # and an absent code gives null
    assert gql(lookup, code="NOPE")["data"]["codeDiscountNodeByCode"] is None
    # when it is deactivated
    deactivated = gql(
        """mutation($id: ID!) { discountCodeDeactivate(id: $id) {
             codeDiscountNode { codeDiscount { ... on DiscountCodeFreeShipping { status endsAt } } }
             userErrors { field message } } }""",
        id=node_id,
    )["data"]["discountCodeDeactivate"]
    # then it has expired
    assert deactivated["userErrors"] == []
    assert deactivated["codeDiscountNode"]["codeDiscount"]["status"] == "EXPIRED"
    assert [d["status"] for d in sandbox.discounts()] == ["EXPIRED"]


def test_discount_mutations_on_an_unknown_id_give_a_user_error(gql: GQL) -> None:
    # given an id that names no discount
    unknown = "gid://shopify/DiscountCodeNode/1"
    error = {"field": ["id"], "message": "Discount does not exist", "code": "INVALID"}
    # when it is deactivated, activated and deleted, then each answers with a user error
    for mutation, field in (
        ("discountCodeDeactivate", "codeDiscountNode { id }"),
        ("discountCodeActivate", "codeDiscountNode { id }"),
        ("discountCodeDelete", "deletedCodeDiscountId"),
    ):
        document = (
            f"mutation ($id: ID!) {{ {mutation}(id: $id) {{ {field} "
            "userErrors { field message code } } }"
        )
        payload = gql(document, id=unknown)["data"][mutation]
        assert payload["userErrors"] == [error]
        assert payload[field.split()[0]] is None
    # and the query for it finds nothing
    assert gql("query ($id: ID!) { codeDiscountNode(id: $id) { id } }", id=unknown)["data"] == {
        "codeDiscountNode": None
    }


def test_context_is_not_in_versions_before_2025_10(sandbox: ShopifySandbox) -> None:
    # given a client on API version 2025-04
    with activate(sandbox, api_version="2025-04"):
        client = shopify.GraphQL()
        # when it selects the 2025-10 ``context`` field
        result = json.loads(client.execute(CREATE_BASIC, variables={"input": coupon("OLD-1")}))
        # then the field does not exist there
        assert result["errors"][0]["message"] == (
            "Field 'context' doesn't exist on type 'DiscountCodeBasic'"
        )
        # when it sends ``context`` in the input
        short = """mutation($input: DiscountCodeBasicInput!) {
            discountCodeBasicCreate(basicCodeDiscount: $input) { userErrors { code } } }"""
        refused = json.loads(client.execute(short, variables={"input": coupon("OLD-1")}))
        # then the variable is refused
        assert refused["errors"][0]["message"] == (
            "Variable $input of type DiscountCodeBasicInput! was provided invalid value"
        )
        # and the deprecated customerSelection works
        legacy = coupon("OLD-1")
        del legacy["context"]
        legacy["customerSelection"] = {"all": True}
        ok = json.loads(client.execute(short, variables={"input": legacy}))
        assert ok["data"]["discountCodeBasicCreate"]["userErrors"] == []


ORDERS_PAGE = """
query Page($after: String, $query: String) {
  orders(first: 2, after: $after, query: $query, sortKey: CREATED_AT) {
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id name createdAt displayFinancialStatus } }
  }
}
"""


def test_pages_through_orders_with_cursors_and_filters(sandbox: ShopifySandbox, gql: GQL) -> None:
    # given five orders: three paid, two pending, created one after another
    for index in range(5):
        sandbox.create_order(
            financial_status="paid" if index % 2 == 0 else "pending",
            created_at=f"2025-03-0{index + 1}T10:00:00+00:00",
        )
    # when all orders are paged through, two at a time
    names: list[str] = []
    after = None
    pages = 0
    while True:
        page = gql(ORDERS_PAGE, after=after)["data"]["orders"]
        names.extend(edge["node"]["name"] for edge in page["edges"])
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    # then every order came exactly once, in creation order
    assert names == ["#1001", "#1002", "#1003", "#1004", "#1005"]
    assert pages == 3
    # and the query filters by status and time, as Shopify's search syntax does
    paid = gql(ORDERS_PAGE, query="financial_status:paid")["data"]["orders"]["edges"]
    assert [e["node"]["name"] for e in paid] == ["#1001", "#1003"]
    recent = gql(ORDERS_PAGE, query="created_at:>='2025-03-04T00:00:00Z'")["data"]["orders"]
    assert [e["node"]["name"] for e in recent["edges"]] == ["#1004", "#1005"]
    assert recent["pageInfo"]["hasNextPage"] is False
    updated = gql(ORDERS_PAGE, query="updated_at:>'2025-03-02T12:00:00Z' financial_status:paid")
    assert [e["node"]["name"] for e in updated["data"]["orders"]["edges"]] == ["#1003", "#1005"]


def test_order_fields_for_the_neutral_model_and_enrichment(
    sandbox: ShopifySandbox, gql: GQL
) -> None:
    # given an order with customer history and product taxonomy
    order = sandbox.create_order(
        line_items=[
            {
                "title": "Espresso machine",
                "price": "199.00",
                "sku": "ESP-1",
                "product": {
                    "product_type": "Machines",
                    "tags": ["premium", "coffee"],
                    "vendor": "Brew Co",
                    "collections": ["coffee", "gifts"],
                },
            }
        ],
        customer={
            "email": "vip@example.com",
            "orders_count": 7,
            "total_spent": "950.50",
            "tags": ["vip"],
        },
        shipping_price="4.90",
        tags=["first"],
        note_attributes=[{"name": "gift", "value": "yes"}],
    )
    # when the adapter's enrichment query runs
    result = gql(
        """query($id: ID!) { order(id: $id) {
            id legacyResourceId name email currencyCode displayFinancialStatus tags
            totalPriceSet { shopMoney { amount currencyCode } }
            totalShippingPriceSet { shopMoney { amount } }
            customer { id numberOfOrders amountSpent { amount currencyCode } tags email }
            lineItems(first: 50) { nodes { title quantity sku
              originalUnitPriceSet { shopMoney { amount } }
              product { productType tags vendor collections(first: 10) { nodes { handle } } } } }
            customAttributes { key value }
            shippingAddress { countryCodeV2 }
        } }""",
        id=order["admin_graphql_api_id"],
    )["data"]["order"]
    # then the values are those given, in GraphQL shapes
    assert result["legacyResourceId"] == str(order["id"])
    assert int(result["legacyResourceId"]) > 2**53
    assert result["displayFinancialStatus"] == "PAID"
    assert result["totalPriceSet"]["shopMoney"] == {"amount": "203.9", "currencyCode": "USD"}
    assert result["totalShippingPriceSet"]["shopMoney"]["amount"] == "4.9"
    assert result["customer"]["numberOfOrders"] == "7"
    assert result["customer"]["amountSpent"] == {"amount": "950.5", "currencyCode": "USD"}
    assert result["customer"]["tags"] == ["vip"]
    (item,) = result["lineItems"]["nodes"]
    assert item["product"] == {
        "productType": "Machines",
        "tags": ["coffee", "premium"],
        "vendor": "Brew Co",
        "collections": {"nodes": [{"handle": "coffee"}, {"handle": "gifts"}]},
    }
    assert result["customAttributes"] == [{"key": "gift", "value": "yes"}]
    assert result["tags"] == ["first"]


def test_guest_order_has_no_customer_and_unknown_ids_are_null(
    sandbox: ShopifySandbox, gql: GQL
) -> None:
    # given a guest order
    order = sandbox.create_order(customer=None, email="guest@example.com")
    query = "query($id: ID!) { order(id: $id) { email customer { id } } }"
    # then it has an email but no customer
    assert gql(query, id=order["admin_graphql_api_id"])["data"]["order"] == {
        "email": "guest@example.com",
        "customer": None,
    }
    # and an order that does not exist is null; a malformed id is an error
    assert gql(query, id="gid://shopify/Order/1")["data"]["order"] is None
    broken = gql(query, id="12345")
    assert broken["errors"][0]["message"] == "Invalid global id '12345'"
    assert broken["errors"][0]["path"] == ["order"]


def test_collections_are_found_by_handle_title_or_id(sandbox: ShopifySandbox, gql: GQL) -> None:
    # given products in three collections
    coffee = sandbox.set_product(title="Espresso", collections=["coffee", "summer-sale"])
    sandbox.set_product(title="Sencha", collections=["tea"])
    coffee_id, summer_id = coffee["collection_ids"]
    document = "query ($q: String) { collections(first: 10, query: $q) { nodes { id handle } } }"

    def handles(query: str | None) -> list[str]:
        nodes = gql(document, q=query)["data"]["collections"]["nodes"]
        return [n["handle"] for n in nodes]

    # when they are searched for, then they are found as with Shopify's search syntax
    found = gql(document, q="handle:coffee OR handle:tea OR handle:missing")
    assert found["data"]["collections"]["nodes"][0] == {"id": coffee_id, "handle": "coffee"}
    assert handles("handle:coffee OR handle:tea OR handle:missing") == ["coffee", "tea"]
    assert handles(f"id:{summer_id.rsplit('/', 1)[-1]}") == ["summer-sale"]
    assert handles("title:'Summer Sale'") == ["summer-sale"]
    assert handles("-handle:tea") == ["coffee", "summer-sale"]
    assert handles(None) == ["coffee", "summer-sale", "tea"]
    # and an unknown field is ignored with a warning, as Shopify does
    ignored = gql(document, q="vendor:acme")
    assert [n["handle"] for n in ignored["data"]["collections"]["nodes"]] == [
        "coffee",
        "summer-sale",
        "tea",
    ]
    assert ignored["extensions"]["search"][0]["warnings"][0]["field"] == "vendor"


@pytest.mark.slow
def test_order_is_invisible_during_its_creation_window(sandbox: ShopifySandbox, gql: GQL) -> None:
    # given an order that the API will only see after 0.4 s
    order = sandbox.create_order(visible_after=0.4)
    query = "query($id: ID!) { order(id: $id) { name } }"
    # then at first the API does not know it
    assert gql(query, id=order["admin_graphql_api_id"])["data"]["order"] is None
    assert gql("{ orders(first: 5) { nodes { name } } }")["data"]["orders"]["nodes"] == []
    # and later it does
    time.sleep(0.5)
    assert gql(query, id=order["admin_graphql_api_id"])["data"]["order"] == {"name": "#1001"}


def test_unknown_field_is_a_graphql_error_shaped_like_shopifys(gql: GQL) -> None:
    # when a query names a field Shopify does not have
    result = gql("query Orders { orders(first: 1) { nodes { id totalPrice } } }")
    # then the answer is a 200 with graphql-ruby's error shape and no data
    assert result == {
        "errors": [
            {
                "message": "Field 'totalPrice' doesn't exist on type 'Order'",
                "locations": [{"line": 1, "column": 46}],
                "path": ["query Orders", "orders", "nodes", "totalPrice"],
                "extensions": {
                    "code": "undefinedField",
                    "typeName": "Order",
                    "fieldName": "totalPrice",
                },
            }
        ]
    }


def test_other_validation_and_syntax_errors(gql: GQL) -> None:
    missing = gql("{ order { id } }")["errors"][0]
    assert missing["message"] == "Field 'order' is missing required arguments: id"
    assert missing["extensions"]["code"] == "missingRequiredArguments"
    extra = gql('{ shop { name } orders(first: 1, color: "red") { nodes { id } } }')["errors"][0]
    assert extra["message"] == "Field 'orders' doesn't accept argument 'color'"
    no_selection = gql("{ shop }")["errors"][0]
    assert no_selection["extensions"]["code"] == "selectionMismatch"
    syntax = gql("{ shop { name }")["errors"][0]
    assert syntax["message"] == "Unexpected end of document"
    paging = gql("{ orders { nodes { id } } }")
    assert paging["errors"][0]["message"] == "you must provide one of first or last"


def test_metafields_and_tags(sandbox: ShopifySandbox, gql: GQL) -> None:
    # given an order
    order = sandbox.create_order()
    order_gid = order["admin_graphql_api_id"]
    # when an app-owned metafield is set on it
    result = gql(
        """mutation($m: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $m) {
            metafields { namespace key value type ownerType }
            userErrors { field message code elementIndex } } }""",
        m=[
            {
                "ownerId": order_gid,
                "namespace": "$app:aftersale",
                "key": "decision",
                "type": "json",
                "value": json.dumps({"coupon": "THANKS-1"}),
            }
        ],
    )["data"]["metafieldsSet"]
    # then it is stored under the app's reserved namespace
    assert result["userErrors"] == []
    assert result["metafields"] == [
        {
            "namespace": "app--1234567--aftersale",
            "key": "decision",
            "value": '{"coupon": "THANKS-1"}',
            "type": "json",
            "ownerType": "ORDER",
        }
    ]
    read = gql(
        """query($id: ID!) { order(id: $id) {
             metafield(namespace: "$app:aftersale", key: "decision") { jsonValue } } }""",
        id=order_gid,
    )
    assert read["data"]["order"]["metafield"] == {"jsonValue": {"coupon": "THANKS-1"}}
    # and invalid input is refused as a whole, with the element's index
    refused = gql(
        """mutation($m: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $m) {
            metafields { id } userErrors { field code elementIndex } } }""",
        m=[
            {"ownerId": order_gid, "key": "ok", "type": "number_integer", "value": "3"},
            {"ownerId": order_gid, "key": "bad", "type": "json", "value": "{not json"},
        ],
    )["data"]["metafieldsSet"]
    assert refused["userErrors"] == [
        {"field": ["metafields", "1", "value"], "code": "INVALID_VALUE", "elementIndex": 1}
    ]
    assert len(sandbox.metafields()) == 1
    # when tags are added to the order
    tagged = gql(
        """mutation($id: ID!, $tags: [String!]!) { tagsAdd(id: $id, tags: $tags) {
             node { id ... on Order { tags } } userErrors { field message } } }""",
        id=order_gid,
        tags=["aftersale-coupon", "vip, loyal"],
    )["data"]["tagsAdd"]
    # then they are on the order
    assert tagged["node"]["tags"] == ["aftersale-coupon", "vip", "loyal"]
    assert sandbox.tags()[order_gid] == ["aftersale-coupon", "vip", "loyal"]


ORDER_UPDATE = """mutation($input: OrderInput!) { orderUpdate(input: $input) {
    order { id note customAttributes { key value } tags } userErrors { field message } } }"""


def test_order_update_overwrites_note_and_attributes_and_fires_orders_updated(
    sandbox: ShopifySandbox, receiver: Receiver, gql: GQL
) -> None:
    # given an order with the customer's note and an attribute, and a receiver of orders/updated
    order = sandbox.create_order(
        note="Bitte klingeln", note_attributes=[{"name": "gift_wrap", "value": "yes"}]
    )
    order_gid = order["admin_graphql_api_id"]
    sandbox.subscribe("orders/updated", receiver.url)
    # when the note and the attributes are written
    result = gql(
        ORDER_UPDATE,
        input={
            "id": order_gid,
            "note": "Bitte klingeln\nGeschenk beilegen",
            "customAttributes": [{"key": "packer", "value": "Ana"}],
        },
    )["data"]["orderUpdate"]
    # then each replaced what was there (as on Shopify: read, merge and write back), tags stay
    assert result == {
        "order": {
            "id": order_gid,
            "note": "Bitte klingeln\nGeschenk beilegen",
            "customAttributes": [{"key": "packer", "value": "Ana"}],
            "tags": [],
        },
        "userErrors": [],
    }
    assert sandbox.order(order["id"])["note"] == "Bitte klingeln\nGeschenk beilegen"
    # and the change went out as orders/updated with the new note
    (hook,) = receiver.wait_for(1)
    assert hook.topic == "orders/updated" and hook.json()["note"].endswith("Geschenk beilegen")


def test_order_update_of_an_unknown_order_is_a_user_error(gql: GQL) -> None:
    result = gql(ORDER_UPDATE, input={"id": "gid://shopify/Order/424242", "note": "x"})
    assert result["data"]["orderUpdate"] == {
        "order": None,
        "userErrors": [{"field": ["id"], "message": "Order does not exist"}],
    }


def test_webhook_subscriptions_are_created_and_listed(sandbox: ShopifySandbox, gql: GQL) -> None:
    create = """mutation($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) {
      webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) {
        webhookSubscription {
          id topic format endpoint { ... on WebhookHttpEndpoint { callbackUrl } }
        }
        userErrors { field message }
      }
    }"""
    url = "https://hooks.example.com/shopify"
    # when two topics are subscribed
    for topic in ("ORDERS_PAID", "REFUNDS_CREATE"):
        made = gql(create, topic=topic, sub={"callbackUrl": url, "format": "JSON"})
        assert made["data"]["webhookSubscriptionCreate"]["userErrors"] == []
    # then they are listed
    listed = gql("{ webhookSubscriptions(first: 10) { nodes { topic callbackUrl } } }")
    assert listed["data"]["webhookSubscriptions"]["nodes"] == [
        {"topic": "ORDERS_PAID", "callbackUrl": url},
        {"topic": "REFUNDS_CREATE", "callbackUrl": url},
    ]
    # and the same address twice, or plain HTTP to a public host, are refused
    again = gql(create, topic="ORDERS_PAID", sub={"callbackUrl": url})
    assert again["data"]["webhookSubscriptionCreate"]["userErrors"] == [
        {
            "field": ["webhookSubscription", "callbackUrl"],
            "message": "Address for this topic has already been taken",
        }
    ]
    plain = gql(create, topic="ORDERS_PAID", sub={"callbackUrl": "http://hooks.example.com/x"})
    assert plain["data"]["webhookSubscriptionCreate"]["userErrors"][0]["message"] == (
        "Address protocol http:// is not supported"
    )
    assert [s["topic"] for s in sandbox.subscriptions()] == ["orders/paid", "refunds/create"]


def test_query_cost_is_requested_up_front_and_refunded_after(gql: GQL) -> None:
    # when a connection of ten orders is asked for in an empty shop
    result = gql("{ orders(first: 10) { nodes { id } } }")
    # then ten objects were requested (2 + 10) but only the connection was paid for
    cost = result["extensions"]["cost"]
    assert (cost["requestedQueryCost"], cost["actualQueryCost"]) == (12, 2)
    assert cost["throttleStatus"]["maximumAvailable"] == 2000.0
    assert cost["throttleStatus"]["restoreRate"] == 100.0
    assert 1990 <= cost["throttleStatus"]["currentlyAvailable"] <= 2000


def test_throttled_with_200_then_recovers_after_waiting(sandbox: ShopifySandbox, gql: GQL) -> None:
    # given a tiny bucket: 25 points, 20 per second back
    sandbox.set_bucket(maximum_available=25, restore_rate=20)
    mutation = (
        'mutation { tagsAdd(id: "gid://shopify/Order/1", tags: ["x"]) { userErrors { message } } }'
    )
    # when three mutations (10 points each) are sent at once
    first, second, third = gql(mutation), gql(mutation), gql(mutation)
    # then the third is THROTTLED, in a 200, with the cost data and no data
    assert "errors" not in first and "errors" not in second
    status = third["extensions"]["cost"]["throttleStatus"]
    assert third == {
        "errors": [
            {
                "message": "Throttled",
                "extensions": {
                    "code": "THROTTLED",
                    "documentation": "https://shopify.dev/api/usage/rate-limits",
                },
            }
        ],
        "extensions": {
            "cost": {
                "requestedQueryCost": 10,
                "actualQueryCost": None,
                "throttleStatus": {
                    "maximumAvailable": 25.0,
                    "currentlyAvailable": status["currentlyAvailable"],
                    "restoreRate": 20.0,
                },
            }
        },
    }
    assert status["currentlyAvailable"] < 10
    # when the client waits (requested - available) / restoreRate seconds
    time.sleep((10 - status["currentlyAvailable"]) / status["restoreRate"] + 0.05)
    # then the mutation goes through
    assert "errors" not in gql(mutation)


def test_throttled_as_429_with_retry_after(sandbox: ShopifySandbox) -> None:
    # given a bucket with no points left and the 429 variant switched on
    # (a slow refill: a busy machine must not find the bucket full again before the query)
    sandbox.set_bucket(
        maximum_available=50, restore_rate=2, currently_available=0, throttle_status=429
    )
    with activate(sandbox):
        # when a query is sent
        with pytest.raises(urllib.error.HTTPError) as caught:
            shopify.GraphQL().execute("{ shop { name } }")
        # then it is a 429 with a float Retry-After and the THROTTLED body
        assert caught.value.code == 429
        retry_after = caught.value.headers["Retry-After"]
        assert retry_after == "0.5"  # the query's cost (1) at 2 points a second
        # and after waiting that long it succeeds
        time.sleep(float(retry_after) + 0.05)
        answer = json.loads(shopify.GraphQL().execute("{ shop { name myshopifyDomain } }"))
    assert answer["data"]["shop"] == {
        "name": "sandbox-shop",
        "myshopifyDomain": "sandbox-shop.myshopify.com",
    }


def test_bad_token_and_unknown_version(sandbox: ShopifySandbox) -> None:
    url = sandbox.graphql_url()
    query = {"query": "{ shop { name } }"}
    # a wrong token gets Shopify's 401 body
    wrong = requests.post(url, json=query, headers={"X-Shopify-Access-Token": "nope"}, timeout=5)
    assert wrong.status_code == 401
    assert wrong.json() == {
        "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
    }
    # no token at all too
    assert requests.post(url, json=query, timeout=5).status_code == 401
    # a version that is not YYYY-MM is not found
    bad = sandbox.url + "/admin/api/latest/graphql.json"
    headers = {"X-Shopify-Access-Token": sandbox.token}
    assert requests.post(bad, json=query, headers=headers, timeout=5).status_code == 404
    # a body without a query is a 400
    empty = requests.post(url, json={}, headers=headers, timeout=5)
    assert empty.status_code == 400
    assert empty.json() == {"errors": {"query": "Required parameter missing or invalid"}}


def test_a_query_above_the_single_query_limit_is_refused(gql: GQL) -> None:
    # 250 line items, each with a product and 20 collections: 2 + 250 * (1 + 1 + 2 + 20) points
    result = gql(
        '{ order(id: "gid://shopify/Order/1") { lineItems(first: 250) { nodes { '
        "product { collections(first: 20) { nodes { handle } } } } } } }"
    )
    (error,) = result["errors"]
    assert error["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert error["extensions"]["cost"] == 1 + 2 + 250 * (1 + 1 + 2 + 20)
    assert error["message"].startswith("Query cost is 6003, which exceeds the single query max")


def test_over_https_with_a_test_certificate(tmp_path: Path) -> None:
    # given the sandbox serving HTTPS with a throw-away CA
    with running_sandbox(https=True) as secure:
        assert secure.url.startswith("https://")
        assert secure.ca_file is not None
        secure.create_order()
        # when ShopifyAPI is activated with that CA trusted
        with activate(secure):
            created = json.loads(
                shopify.GraphQL().execute(CREATE_BASIC, variables={"input": coupon("TLS-1")})
            )
            listed = shopify.GraphQL().execute("{ orders(first: 5) { nodes { name } } }")
            orders = json.loads(listed)
        # then both work over TLS
        assert created["data"]["discountCodeBasicCreate"]["userErrors"] == []
        assert orders["data"]["orders"]["nodes"] == [{"name": "#1001"}]
        # and without the CA the certificate is refused
        session = shopify.Session(secure.shop_domain, "2025-10", secure.token)
        shopify.ShopifyResource.activate_session(session)
        shopify.ShopifyResource.site = secure.admin_url()
        try:
            with pytest.raises(urllib.error.URLError):
                shopify.GraphQL().execute("{ shop { name } }")
        finally:
            shopify.ShopifyResource.clear_session()


def test_bulk_redeem_codes_are_an_async_job(sandbox: ShopifySandbox, gql: GQL) -> None:
    created = gql(CREATE_BASIC, input=coupon("BULK-0"))
    node_id = created["data"]["discountCodeBasicCreate"]["codeDiscountNode"]["id"]
    job = gql(
        """mutation($id: ID!, $codes: [DiscountRedeemCodeInput!]!) {
            discountRedeemCodeBulkAdd(discountId: $id, codes: $codes) {
              bulkCreation { id done } userErrors { code } } }""",
        id=node_id,
        codes=[{"code": "BULK-1"}, {"code": "BULK-2"}, {"code": "bulk-0"}],
    )["data"]["discountRedeemCodeBulkAdd"]
    assert job["bulkCreation"]["done"] is False
    poll = """query($id: ID!) { discountRedeemCodeBulkCreation(id: $id) {
        done codesCount importedCount failedCount
        codes(first: 10) { nodes { code errors { code } } } } }"""
    deadline = time.monotonic() + 5
    while True:
        state = gql(poll, id=job["bulkCreation"]["id"])["data"]["discountRedeemCodeBulkCreation"]
        if state["done"] or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert state["done"] is True
    assert (state["codesCount"], state["importedCount"], state["failedCount"]) == (3, 2, 1)
    assert state["codes"]["nodes"][2] == {"code": "bulk-0", "errors": [{"code": "TAKEN"}]}
    assert sandbox.discounts()[0]["codes"] == ["BULK-0", "BULK-1", "BULK-2"]
