"""Routes of the Shopify sandbox's control API not driven elsewhere: the root and HEAD, the
fixtures list, webhook settings (any method), subscriptions, trigger, wait, uninstall, the bucket,
and the 404 for a known path under another method."""

from __future__ import annotations

from typing import Any

import requests
from aftersale_kit_shopify.sandbox import ShopifySandbox
from shopify_receiver import Receiver


def control(sandbox: ShopifySandbox, method: str, path: str, **body: Any) -> requests.Response:
    return requests.request(method, sandbox.control_url + path, json=body or None, timeout=5)


def test_root_head_fixtures_and_unknown_methods(sandbox: ShopifySandbox) -> None:
    # the root and /state (with or without a trailing slash) are the same summary
    root = control(sandbox, "GET", "")
    assert root.status_code == 200
    assert root.json() == control(sandbox, "GET", "/state/").json()
    assert control(sandbox, "HEAD", "/state").status_code == 200
    fixtures = control(sandbox, "GET", "/fixtures").json()["fixtures"]
    assert isinstance(fixtures, list) and fixtures
    assert all(isinstance(name, str) for name in fixtures)
    # a known path under a method it does not take is a 404 naming both
    wrong = control(sandbox, "DELETE", "/orders")
    assert wrong.status_code == 404
    assert wrong.json() == {"error": "no control route DELETE /_sandbox/orders"}
    assert control(sandbox, "POST", "/state").status_code == 404
    assert control(sandbox, "PUT", "/orders/1/pay").status_code == 404
    assert control(sandbox, "POST", "/orders/1").status_code == 404
    # a body that is not a JSON object is refused where a body is read
    refused = requests.post(sandbox.control_url + "/customers", data=b"[1]", timeout=5)
    assert refused.status_code == 400
    assert refused.json() == {"error": "request body must be a JSON object"}


def test_webhook_routes(sandbox: ShopifySandbox, receiver: Receiver) -> None:
    # webhook settings: POST changes them, any other method reads them
    changed = control(sandbox, "POST", "/webhooks", max_attempts=2, delay=0)
    assert changed.status_code == 200
    assert changed.json()["settings"]["max_attempts"] == 2
    for method in ("GET", "PUT"):
        read = control(sandbox, method, "/webhooks").json()
        assert read["settings"]["max_attempts"] == 2
        assert read["subscriptions"] == [] and read["deleted_subscriptions"] == []
    assert control(sandbox, "POST", "/webhooks", colour="red").status_code == 400
    # a subscription, listed
    made = control(
        sandbox, "POST", "/webhooks/subscriptions", topic="orders/paid", uri=receiver.url
    )
    assert made.status_code == 201
    listed = control(sandbox, "GET", "/webhooks/subscriptions").json()["subscriptions"]
    assert [s["topic"] for s in listed] == ["orders/paid"]
    # a trigger needs a topic; with one it delivers, and wait says when nothing is queued
    missing = control(sandbox, "POST", "/webhooks/trigger")
    assert (missing.status_code, missing.json()) == (400, {"error": "topic is required"})
    order = sandbox.create_order()
    triggered = control(
        sandbox, "POST", "/webhooks/trigger", topic="orders/paid", payload={"id": order["id"]}
    )
    assert triggered.status_code == 200
    assert triggered.json() == {"deliveries": 1}
    assert control(sandbox, "POST", "/webhooks/wait", timeout=5).json() == {"idle": True}
    # (the order's own orders/paid and the triggered one)
    assert [r.topic for r in receiver.wait_for(2)] == ["orders/paid", "orders/paid"]
    # uninstalling answers with how many deliveries it made (none subscribed to it here)
    uninstalled = control(sandbox, "POST", "/uninstall")
    assert (uninstalled.status_code, uninstalled.json()) == (200, {"deliveries": 0})


def test_bucket_reads_back(sandbox: ShopifySandbox) -> None:
    control(sandbox, "POST", "/bucket", maximum_available=100, throttle_status=429)
    bucket = control(sandbox, "GET", "/bucket").json()["bucket"]
    assert bucket["maximumAvailable"] == 100
    assert bucket["throttleHttpStatus"] == 429
