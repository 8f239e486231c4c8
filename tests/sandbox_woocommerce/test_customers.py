"""``/wc/v3/customers/<id>``: a customer's user meta, written by key as WooCommerce does."""

from __future__ import annotations

import requests
from aftersale_kit_woocommerce.sandbox import WooCommerceSandbox


def test_meta_is_written_by_key_replaced_and_removed_with_null(shop: WooCommerceSandbox) -> None:
    shop.add_customer(31, "lee@example.com")
    api = shop.client()
    # when two keys are written, then one again with another value and the other with null
    first = api.put(
        "customers/31",
        {"meta_data": [{"key": "points", "value": "640"}, {"key": "tier", "value": "Silber"}]},
    )
    again = api.put(
        "customers/31",
        {"meta_data": [{"key": "points", "value": "15"}, {"key": "tier", "value": None}]},
    )
    # then each key is one row, holding the latest value, and a null removed its row
    assert first.status_code == again.status_code == 200
    assert [(m["key"], m["value"]) for m in first.json()["meta_data"]] == [
        ("points", "640"),
        ("tier", "Silber"),
    ]
    assert [(m["key"], m["value"]) for m in shop.customer_meta(31)] == [("points", "15")]
    read = api.get("customers/31").json()
    assert (read["id"], read["email"]) == (31, "lee@example.com")
    assert read["meta_data"] == shop.customer_meta(31)


def test_an_unknown_customer_is_invalid_404_on_read_400_on_update(
    shop: WooCommerceSandbox,
) -> None:
    api = shop.client()
    read = api.get("customers/4711")
    write = api.put("customers/4711", {"meta_data": [{"key": "points", "value": "1"}]})
    assert (read.status_code, read.json()["code"]) == (404, "woocommerce_rest_invalid_id")
    assert (write.status_code, write.json()["code"]) == (400, "woocommerce_rest_invalid_id")
    assert write.json()["message"] == "Invalid resource ID."
    assert shop.customer_meta(4711) == []


def test_customers_need_a_key(shop: WooCommerceSandbox) -> None:
    shop.add_customer(31)
    url = f"{shop.url}/wp-json/wc/v3/customers/31"
    body = {"meta_data": [{"key": "points", "value": "1"}]}
    response = requests.put(url, json=body, timeout=5)
    assert (response.status_code, response.json()["code"]) == (401, "woocommerce_rest_cannot_edit")
    assert shop.customer_meta(31) == []
