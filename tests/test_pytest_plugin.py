"""The shipped pytest fixtures start real sandboxes that the official clients can talk to."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from aftersale_kit.core.errors import MissingExtraError
from aftersale_kit.testing.pytest_plugin import _running


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


def test_a_missing_platform_extra_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    # given the Shopify package cannot be imported
    monkeypatch.setitem(sys.modules, "aftersale_kit_shopify.sandbox.fixtures", None)
    # when the fixture starts, then the error names the extra to install
    with pytest.raises(MissingExtraError) as caught:
        next(_running(request, "shopify"))
    assert str(caught.value) == (
        "the shopify_sandbox fixture needs an optional dependency: "
        "pip install 'aftersale-kit[sandbox]'"
    )
