"""The ``/_sandbox/`` control API over HTTP, as a test written in any language would use it."""

from __future__ import annotations

from typing import Any

import requests
from aftersale_kit_woocommerce.sandbox import WooCommerceSandbox

from .conftest import Receiver


def _call(shop: WooCommerceSandbox, method: str, path: str, body: Any = None) -> Any:
    response = requests.request(method, f"{shop.url}/_sandbox/{path}", json=body, timeout=10)
    assert response.status_code < 300, response.text
    return response.json()


def test_orders_move_through_their_lifecycle_with_webhooks(
    shop: WooCommerceSandbox, receiver: Receiver
) -> None:
    _call(
        shop,
        "POST",
        "webhooks",
        {"topic": "order.updated", "delivery_url": receiver.url, "secret": "s", "id": 9},
    )
    _call(shop, "POST", "webhook-options", {"created_also_updated": False})
    order = _call(
        shop,
        "POST",
        "orders",
        {"fixture": "wc96_recorded_order_77", "customer_id": 23, "email": "kim@example.com"},
    )
    assert order["status"] == "pending" and order["billing"]["email"] == "kim@example.com"
    assert order["customer_id"] == 23 and order["needs_payment"] is True
    order_id = order["id"]
    assert _call(shop, "POST", f"orders/{order_id}/pay", {"transaction_id": "t"})["status"] == (
        "processing"
    )
    assert _call(shop, "POST", f"orders/{order_id}/complete")["status"] == "completed"
    refunded = _call(shop, "POST", f"orders/{order_id}/refund", {"reason": "returned"})
    assert refunded["status"] == "refunded"
    assert refunded["refunds"][0]["total"] == "-" + order["total"]
    other = _call(shop, "POST", "orders", {"fixture": "wc_v3_order_727"})
    assert _call(shop, "POST", f"orders/{other['id']}/cancel")["status"] == "cancelled"
    _call(shop, "POST", "deliveries/wait", {"timeout": 5})
    statuses = [d["status"] for d in _call(shop, "GET", "deliveries")]
    assert statuses == [200, 200, 200, 200]
    assert len(receiver.deliveries()) == 4
    notes = _call(shop, "GET", f"orders/{order_id}/notes")
    assert any("Completed to Refunded" in n["note"] for n in notes)
    webhooks = _call(shop, "GET", "webhooks")
    assert webhooks[0]["id"] == 9 and webhooks[0]["failure_count"] == 0


def test_records_options_and_reset(shop: WooCommerceSandbox) -> None:
    api = shop.client()
    _call(shop, "POST", "orders/load", {"fixture": "wc_v3_order_727"})
    api.put("orders/727", {"meta_data": [{"key": "_aftersale_kit_html", "value": "hi"}]})
    api.post("coupons", {"code": "seen"})
    assert [m["key"] for m in _call(shop, "GET", "orders/727/meta")][-1] == "_aftersale_kit_html"
    assert [c["code"] for c in _call(shop, "GET", "coupons")] == ["seen"]
    assert _call(shop, "GET", "recalculations") == []
    logged = _call(shop, "GET", "requests")
    assert [(r["method"], r["status"]) for r in logged] == [("PUT", 200), ("POST", 201)]
    assert _call(shop, "POST", "faults", {"rate_429": 1.0})["rate_429"] == 1.0
    assert api.get("coupons").status_code == 429
    key = _call(shop, "POST", "keys", {"permissions": "read"})
    assert key["consumer_key"].startswith("ck_")
    terms = _call(shop, "POST", "products/93/terms", {"categories": ["Gifts"]})
    assert [c["name"] for c in terms["categories"]] == ["Gifts"]
    _call(shop, "POST", "reset")
    state = _call(shop, "GET", "state")
    assert state["counts"]["orders"] == 0 and state["counts"]["coupons"] == 0
    assert state["faults"]["rate_429"] == 1.0  # faults are settings, not state
    _call(shop, "POST", "faults", {"rate_429": 0})
    assert api.get("coupons").status_code == 200


def test_bad_control_requests_name_the_problem(shop: WooCommerceSandbox) -> None:
    missing = requests.post(f"{shop.url}/_sandbox/orders/1/pay", timeout=5)
    assert missing.status_code == 404 and "no order 1" in missing.json()["error"]
    unknown = requests.post(f"{shop.url}/_sandbox/orders", json={"fixture": "nope"}, timeout=5)
    assert unknown.status_code == 404 and "known:" in unknown.json()["error"]
    bad = requests.post(f"{shop.url}/_sandbox/faults", json={"bogus": 1}, timeout=5)
    assert bad.status_code == 400 and "bogus" in bad.json()["error"]
    _call(shop, "POST", "orders/load", {"fixture": "wc_v3_order_727"})
    again = requests.post(f"{shop.url}/_sandbox/orders/727/pay", timeout=5)
    assert again.status_code == 400 and "payment_complete" in again.json()["error"]
