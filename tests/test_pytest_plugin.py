"""The shipped pytest fixtures start real sandboxes that the official clients can talk to."""

from __future__ import annotations

from typing import Any


def test_woocommerce_fixture_serves_the_rest_api(woocommerce_sandbox: Any) -> None:
    # given the fixture's sandbox and its own configured client
    client = woocommerce_sandbox.client()
    # when a coupon is created through the official client
    response = client.post("coupons", {"code": "Plugin-Test", "amount": "5.00"})
    # then the sandbox stored it, lower-cased as WooCommerce does
    assert response.status_code == 201
    assert response.json()["code"] == "plugin-test"


def test_shopify_fixture_serves_graphql(shopify_sandbox: Any) -> None:
    # given the fixture's sandbox
    import json
    import urllib.request

    url = shopify_sandbox.admin_url() + "/graphql.json"
    request = urllib.request.Request(
        url,
        data=json.dumps({"query": "{ shop { name } }"}).encode(),
        headers={
            "Content-Type": "application/json",
            "X-Shopify-Access-Token": shopify_sandbox.token,
        },
    )
    # when a GraphQL query is sent over a real socket
    with urllib.request.urlopen(request, timeout=5) as response:
        body = json.loads(response.read())
    # then it answers in Shopify's shape, with the cost extension
    assert "errors" not in body
    assert body["data"]["shop"]["name"]
    assert "cost" in body["extensions"]
