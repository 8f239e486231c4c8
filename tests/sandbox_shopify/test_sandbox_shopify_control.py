"""The control API under /_sandbox/ and injected faults (5xx, 429 + Retry-After, timeouts)."""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
from collections.abc import Callable
from typing import Any

import jwt
import pytest
import requests
import shopify
from aftersale_kit_shopify.sandbox import ShopifySandbox, activate
from shopify import session_token
from shopify_receiver import Receiver

GQL = Callable[..., dict[str, Any]]


def control(sandbox: ShopifySandbox, method: str, path: str, **body: Any) -> requests.Response:
    return requests.request(method, sandbox.control_url + path, json=body or None, timeout=5)


def test_orders_move_through_their_states_from_the_control_api(
    sandbox: ShopifySandbox, receiver: Receiver, gql: GQL
) -> None:
    # given a receiver for every order topic
    for topic in (
        "orders/create",
        "orders/paid",
        "orders/fulfilled",
        "refunds/create",
        "orders/cancelled",
    ):
        control(sandbox, "POST", "/webhooks/subscriptions", topic=topic, uri=receiver.url)
    # when an unpaid order is built with enrichment data and moved through its life
    created = control(
        sandbox,
        "POST",
        "/orders",
        financial_status="pending",
        line_items=[
            {
                "title": "Grinder",
                "price": "60.00",
                "quantity": 2,
                "product": {"product_type": "Tools"},
            }
        ],
        customer={"email": "c@example.com", "orders_count": 2, "total_spent": "99.00"},
        shipping_price="5.00",
    )
    assert created.status_code == 201
    order = created.json()["order"]
    path = f"/orders/{order['id']}"
    assert control(sandbox, "POST", path + "/pay").json()["order"]["financial_status"] == "paid"
    fulfilled = control(sandbox, "POST", path + "/fulfill", tracking_number="T-9").json()
    assert fulfilled["order"]["fulfillment_status"] == "fulfilled"
    refund = control(sandbox, "POST", path + "/refund", amount="25.00").json()["refund"]
    assert refund["transactions"][0]["amount"] == "25.00"
    cancelled = control(sandbox, "POST", path + "/cancel", reason="other").json()["order"]
    # then the order's REST state follows, and the API sees the same
    assert cancelled["financial_status"] == "partially_refunded"
    assert cancelled["cancel_reason"] == "other"
    assert control(sandbox, "GET", path).json()["order"]["current_total_price"] == "100.00"
    seen = gql(
        """query($id: ID!) { order(id: $id) { displayFinancialStatus displayFulfillmentStatus
             cancelReason totalRefundedSet { shopMoney { amount } }
             refunds { totalRefundedSet { shopMoney { amount } } }
             fulfillments { status trackingInfo { number } } } }""",
        id=order["admin_graphql_api_id"],
    )["data"]["order"]
    assert seen == {
        "displayFinancialStatus": "PARTIALLY_REFUNDED",
        "displayFulfillmentStatus": "FULFILLED",
        "cancelReason": "OTHER",
        "totalRefundedSet": {"shopMoney": {"amount": "25.0"}},
        "refunds": [{"totalRefundedSet": {"shopMoney": {"amount": "25.0"}}}],
        "fulfillments": [{"status": "SUCCESS", "trackingInfo": [{"number": "T-9"}]}],
    }
    # and each transition fired its webhook
    receiver.wait_for(5)
    assert sandbox.wait_for_deliveries(5)
    assert receiver.topics() == [
        "orders/create",
        "orders/paid",
        "orders/fulfilled",
        "refunds/create",
        "orders/cancelled",
    ]
    # and deliveries are listed with their attempts
    deliveries = control(sandbox, "GET", "/webhooks/deliveries").json()["deliveries"]
    assert [len(d["attempts"]) for d in deliveries] == [1, 1, 1, 1, 1]
    assert all(d["attempts"][0]["status"] == 200 for d in deliveries)


def test_control_api_refuses_what_cannot_be(sandbox: ShopifySandbox) -> None:
    order = sandbox.create_order(financial_status="pending")
    path = f"/orders/{order['id']}"
    # refunding an unpaid order is a conflict
    refused = control(sandbox, "POST", path + "/refund")
    assert refused.status_code == 409
    assert "only paid orders can be refunded" in refused.json()["error"]
    # an unknown order is not found; an unknown field is named
    assert control(sandbox, "GET", "/orders/42").status_code == 404
    typo = control(sandbox, "POST", path + "/cancel", reson="fraud")
    assert typo.status_code == 400
    assert "reson" in typo.json()["error"]
    assert control(sandbox, "POST", "/orders", fixture="nope").status_code == 404
    assert control(sandbox, "GET", "/nothing-here").status_code == 404
    # paying twice is a conflict
    assert control(sandbox, "POST", path + "/pay").status_code == 200
    assert control(sandbox, "POST", path + "/pay").status_code == 409


def test_lists_discounts_metafields_tags_and_resets(sandbox: ShopifySandbox, gql: GQL) -> None:
    # given a coupon, a metafield and tags made through the API
    order = sandbox.create_order()
    gql(
        """mutation { discountCodeBasicCreate(basicCodeDiscount: {title: "T", code: "LIST-1",
             startsAt: "2025-01-01T00:00:00Z", context: {all: ALL},
             customerGets: {value: {percentage: 0.05}, items: {all: true}}}) {
             userErrors { code } } }"""
    )
    gql(
        """mutation($id: ID!) { metafieldsSet(metafields: [{ownerId: $id, key: "seen",
             type: "boolean", value: "true"}]) { userErrors { code } } }""",
        id=order["admin_graphql_api_id"],
    )
    gql(
        """mutation($id: ID!) { tagsAdd(id: $id, tags: ["vip"]) { userErrors { message } } }""",
        id=order["customer"]["admin_graphql_api_id"],
    )
    # then the control API lists them
    (discount,) = control(sandbox, "GET", "/discounts").json()["discounts"]
    assert (discount["codes"], discount["status"]) == (["LIST-1"], "ACTIVE")
    (metafield,) = control(sandbox, "GET", "/metafields").json()["metafields"]
    assert (metafield["namespace"], metafield["key"], metafield["value"]) == (
        "app--1234567",
        "seen",
        "true",
    )
    assert control(sandbox, "GET", "/tags").json()["tags"] == {
        order["customer"]["admin_graphql_api_id"]: ["vip"]
    }
    state = control(sandbox, "GET", "/state").json()
    assert (state["orders"], state["discounts"], state["metafields"]) == (1, 1, 1)
    # when the sandbox is reset
    assert control(sandbox, "POST", "/reset").json() == {"reset": True}
    # then it is empty
    state = control(sandbox, "GET", "/state").json()
    assert (state["orders"], state["discounts"], state["metafields"]) == (0, 0, 0)


def test_customers_and_products_for_enrichment(sandbox: ShopifySandbox, gql: GQL) -> None:
    # given a product and a customer set up through the control API
    product = control(
        sandbox,
        "POST",
        "/products",
        title="Mug",
        product_type="Kitchen",
        tags=["ceramic"],
        collections=["kitchen"],
    ).json()["product"]
    customer = control(
        sandbox,
        "POST",
        "/customers",
        email="m@example.com",
        tags=["returning"],
        orders_count=4,
        total_spent="120.00",
    ).json()["customer"]
    # when an order references them
    order = sandbox.create_order(
        line_items=[{"title": "Mug", "price": "12.00", "product_id": product["legacy_id"]}],
        customer={"id": customer["legacy_id"]},
    )
    result = gql(
        """query($id: ID!) { order(id: $id) { email customer { numberOfOrders tags }
             lineItems(first: 5) { nodes { product { productType collections(first: 5) {
               nodes { handle title } } } } } } }""",
        id=order["admin_graphql_api_id"],
    )["data"]["order"]
    # then the enrichment data comes back
    assert result["email"] == "m@example.com"
    assert result["customer"] == {"numberOfOrders": "4", "tags": ["returning"]}
    assert result["lineItems"]["nodes"][0]["product"] == {
        "productType": "Kitchen",
        "collections": {"nodes": [{"handle": "kitchen", "title": "Kitchen"}]},
    }


def test_computed_customer_history(sandbox: ShopifySandbox, gql: GQL) -> None:
    # given two paid orders and one pending order of the same customer, without explicit history
    first = sandbox.create_order(line_items=[{"price": "10.00"}])
    customer_id = first["customer"]["id"]
    sandbox.create_order(line_items=[{"price": "15.50"}], customer={"id": customer_id})
    sandbox.create_order(
        line_items=[{"price": "99.00"}], customer={"id": customer_id}, financial_status="pending"
    )
    # then orders count all three, amount spent only what was paid
    customer = gql(
        "query($id: ID!) { customer(id: $id) { numberOfOrders amountSpent { amount } } }",
        id=first["customer"]["admin_graphql_api_id"],
    )["data"]["customer"]
    assert customer == {"numberOfOrders": "3", "amountSpent": {"amount": "25.5"}}


def test_bucket_and_faults_are_set_from_the_control_api(sandbox: ShopifySandbox) -> None:
    bucket = control(
        sandbox, "POST", "/bucket", maximum_available=100, restore_rate=5, throttle_status=429
    ).json()["bucket"]
    assert bucket == {
        "maximumAvailable": 100.0,
        "currentlyAvailable": 100,
        "restoreRate": 5.0,
        "throttleHttpStatus": 429,
    }
    faults = control(sandbox, "POST", "/faults", error_5xx=0.5, seed=3).json()["faults"]
    assert faults["error_5xx"] == 0.5
    assert control(sandbox, "POST", "/faults", nonsense=1).status_code == 400


def test_injected_5xx_hits_the_api_but_never_the_control_api(sandbox: ShopifySandbox) -> None:
    # given every API call fails with a 5xx
    sandbox.set_faults(error_5xx=1.0)
    # when ShopifyAPI calls
    with activate(sandbox), pytest.raises(urllib.error.HTTPError) as caught:
        shopify.GraphQL().execute("{ shop { name } }")
    # then it gets the 503, while the control API still answers
    assert caught.value.code == 503
    assert control(sandbox, "GET", "/state").status_code == 200
    assert sandbox.faults.counts["5xx"] == 1


def test_injected_429_carries_a_float_retry_after(
    sandbox: ShopifySandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.set_faults(rate_429=1.0, retry_after=2.0)
    with activate(sandbox), pytest.raises(urllib.error.HTTPError) as caught:
        shopify.GraphQL().execute("{ shop { name } }")
    assert caught.value.code == 429
    assert caught.value.headers["Retry-After"] == "2.0"
    # ShopifyAPI prints the error body (and so consumes it) before it re-raises
    assert caught.value.read() == b""
    assert "THROTTLED" in capsys.readouterr().out


@pytest.mark.slow
def test_injected_timeout_and_latency(sandbox: ShopifySandbox) -> None:
    # given the server holds a call 0.5 s, then hangs up without answering
    sandbox.set_faults(timeout=1.0, hang_seconds=0.5)
    # when a client with a 0.2 s timeout calls, it times out
    with pytest.raises(requests.Timeout):
        requests.post(
            sandbox.graphql_url(),
            json={"query": "{ shop { name } }"},
            headers={"X-Shopify-Access-Token": sandbox.token},
            timeout=0.2,
        )
    # and ShopifyAPI, which sets no timeout, sees the connection drop
    with activate(sandbox), pytest.raises((http.client.RemoteDisconnected, urllib.error.URLError)):
        shopify.GraphQL().execute("{ shop { name } }")
    # given added latency instead
    sandbox.set_faults(timeout=0.0, latency=0.25)
    started = time.monotonic()
    with activate(sandbox):
        answer = json.loads(shopify.GraphQL().execute("{ shop { name } }"))
    # then the answer comes, late
    assert answer["data"]["shop"]["name"] == "sandbox-shop"
    assert time.monotonic() - started >= 0.25


def test_session_tokens_carry_the_checkout_claims(sandbox: ShopifySandbox) -> None:
    # given a session token as a checkout extension would get it, for a logged-in buyer
    token = sandbox.session_token(customer_id=42)
    # when the backend decodes it as the platform notes say (PyJWT, aud checked by hand)
    claims = jwt.decode(
        token, sandbox.secret, algorithms=["HS256"], leeway=10, options={"verify_aud": False}
    )
    # then it names the shop, the app and the buyer, and has no iss or sid
    assert claims["dest"] == "sandbox-shop.myshopify.com"
    assert claims["aud"] == sandbox.client_id
    assert claims["sub"] == "gid://shopify/Customer/42"
    assert claims["exp"] - claims["iat"] == 300
    assert "iss" not in claims and "sid" not in claims
    # and ShopifyAPI's own decoder cannot read it, as on the real platform
    with pytest.raises(session_token.SessionTokenError, match="iss"):
        session_token.decode_from_header(
            f"Bearer {token}", api_key=sandbox.client_id, secret=sandbox.secret
        )
    # and an expired one is refused
    old = sandbox.session_token(issued_at=time.time() - 3600)
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(old, sandbox.secret, algorithms=["HS256"], options={"verify_aud": False})


def test_scripted_faults_fail_the_next_requests_and_the_log_keeps_the_answered_ones(
    sandbox: ShopifySandbox, gql: GQL
) -> None:
    # given the next two API requests fail with a 5xx and a 429, set over the control API
    scripted = control(sandbox, "POST", "/faults/next", kind="5xx", count=1).json()["faults"]
    assert scripted["scripted"] == {"next": ["5xx"], "always": None}
    sandbox.fail_next("429", 1, retry_after=3.0)
    assert control(sandbox, "POST", "/faults/next", kind="gateway").status_code == 400
    assert control(sandbox, "POST", "/faults/next", count=1).status_code == 400
    # when ShopifyAPI calls three times
    codes: list[int] = []
    retry_after: list[str | None] = []
    for _ in range(2):
        with pytest.raises(urllib.error.HTTPError) as caught:
            gql("{ shop { name } }")
        codes.append(caught.value.code)
        retry_after.append(caught.value.headers.get("Retry-After"))
    answered = gql("query Named($n: Int!) { orders(first: $n) { edges { cursor } } }", n=1)
    # then the first two failed in script order, the third was answered
    assert codes == [503, 429]
    assert retry_after == [None, "3.0"]
    assert answered["data"]["orders"]["edges"] == []
    # and every API request is counted, while only the answered one is in the request log
    faults = control(sandbox, "GET", "/faults").json()["faults"]
    assert faults["requests"] == 3
    assert faults["counts"] == {"5xx": 1, "429": 1, "timeout": 0}
    assert control(sandbox, "GET", "/state").json()["api_requests"] == 3
    (logged,) = control(sandbox, "GET", "/requests").json()["requests"]
    assert logged["status"] == 200
    assert logged["path"].endswith("/graphql.json")
    assert logged["query"].startswith("query Named")
    assert logged["variables"] == {"n": 1}


def test_a_fault_for_every_request_holds_until_the_script_is_cleared(
    sandbox: ShopifySandbox, gql: GQL
) -> None:
    # given every API request fails with a 5xx
    sandbox.fail_next("5xx", -1)
    # when ShopifyAPI calls twice, then the script is cleared and it calls again
    for _ in range(2):
        with pytest.raises(urllib.error.HTTPError) as caught:
            gql("{ shop { name } }")
        assert caught.value.code == 503
    cleared = control(sandbox, "POST", "/faults/clear").json()["faults"]
    # then the call after clearing is answered, and the shares were never touched
    assert cleared["scripted"] == {"next": [], "always": None}
    assert cleared["error_5xx"] == 0.0
    assert gql("{ shop { name } }")["data"]["shop"]["name"]
    assert [r["status"] for r in sandbox.api_requests()] == [200]
    with pytest.raises(ValueError, match="unknown fault setting 'requests'"):
        sandbox.set_faults(requests=0)
