"""Orders, notes, products and terms through the REST API."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import requests
from aftersale_kit_woocommerce.sandbox import WooCommerceSandbox, fixture_names

from .conftest import fixture_json

ERRORS = fixture_json("wc_v3_errors.json")
VENDOR_ORDERS = ["wc_v3_order_727.json", "wc96_recorded_order_77.json"]


@pytest.mark.parametrize("name", VENDOR_ORDERS)
def test_every_vendor_order_comes_back_in_the_vendor_s_shape(
    shop: WooCommerceSandbox, name: str
) -> None:
    # given a vendor payload loaded as a sandbox order
    vendor = fixture_json(name)
    shop.load_order(payload=copy.deepcopy(vendor))
    # when the client reads it back
    order = shop.client().get(f"orders/{vendor['id']}").json()
    # then it is the same document: keys in order, types (float prices, string image ids)
    assert list(order) == list(vendor)
    assert {k: v for k, v in order.items() if k != "_links"} == {
        k: v for k, v in vendor.items() if k != "_links"
    }
    assert [type(i["price"]) for i in order["line_items"]] == [
        type(i["price"]) for i in vendor["line_items"]
    ]
    # and only the links point at this site (with the same link structure)
    assert {rel: [list(link) for link in links] for rel, links in order["_links"].items()} == {
        rel: [list(link) for link in links] for rel, links in vendor["_links"].items()
    }
    assert (
        order["_links"]["self"][0]["href"] == f"{shop.home_url}/wp-json/wc/v3/orders/{vendor['id']}"
    )


def test_the_shipped_seed_has_every_vendor_order() -> None:
    assert {f"{n}.json" for n in fixture_names() if "order" in n and "note" not in n} == set(
        VENDOR_ORDERS
    )


def _orders(shop: WooCommerceSandbox, count: int, **options: Any) -> list[dict[str, Any]]:
    made = []
    for index in range(count):
        shop.skew_clock(index)  # distinct creation seconds
        made.append(shop.create_order("wc_v3_order_727", **options))
    return made


def test_pages_with_totals_and_links(shop: WooCommerceSandbox) -> None:
    made = _orders(shop, 5, customer_id=7)
    api = shop.client()
    first = api.get("orders", params={"per_page": 2})
    assert first.headers["X-WP-Total"] == "5" and first.headers["X-WP-TotalPages"] == "3"
    assert [o["id"] for o in first.json()] == [o["id"] for o in reversed(made)][:2]
    assert set(first.links) == {"next"}
    assert "page=2" in first.links["next"]["url"]
    middle = api.get("orders", params={"per_page": 2, "page": 2})
    assert set(middle.links) == {"prev", "next"}
    seen = [
        o["id"]
        for page in (1, 2, 3)
        for o in api.get("orders", params={"per_page": 2, "page": page}).json()
    ]
    assert sorted(seen) == sorted(o["id"] for o in made)
    assert api.get("orders", params={"per_page": 2, "page": 9}).json() == []


def test_per_page_above_100_is_the_documented_400(shop: WooCommerceSandbox) -> None:
    response = shop.client().get("orders", params={"per_page": 101})
    assert response.status_code == 400
    assert response.json() == ERRORS["per_page_over_100_http400"]


def test_filters_customer_status_dates_and_order(shop: WooCommerceSandbox) -> None:
    api = shop.client()
    mine = _orders(shop, 3, customer_id=23)
    other = shop.create_order("wc_v3_order_727", customer_id=99)
    shop.pay(mine[0]["id"])
    shop.complete(mine[1]["id"])
    counted = api.get("orders", params={"customer": 23, "per_page": 1})
    assert counted.headers["X-WP-Total"] == "3"
    paid = api.get("orders", params={"status": "processing,completed"}).json()
    assert sorted(o["id"] for o in paid) == sorted([mine[0]["id"], mine[1]["id"]])
    bad = api.get("orders", params={"status": "paid"})
    assert bad.status_code == 400 and "status" in bad.json()["data"]["params"]
    since = api.get("orders", params={"modified_after": mine[1]["date_modified_gmt"]}).json()
    assert other["id"] in [o["id"] for o in since]
    asc = api.get("orders", params={"orderby": "id", "order": "asc"}).json()
    assert [o["id"] for o in asc] == sorted(o["id"] for o in asc)
    after = api.get("orders", params={"after": "2999-01-01T00:00:00"}).json()
    assert after == []


def test_meta_only_updates_save_meta_and_never_recalculate(shop: WooCommerceSandbox) -> None:
    shop.load_order("wc_v3_order_727")
    api = shop.client()
    api.put("orders/727", {"meta_data": [{"key": "_aftersale_kit_html", "value": "<p>1</p>"}]})
    response = api.put(
        "orders/727", {"meta_data": [{"key": "_aftersale_kit_html", "value": "<p>2</p>"}]}
    )
    assert response.status_code == 200
    meta = [m for m in shop.order_meta(727) if m["key"] == "_aftersale_kit_html"]
    assert [m["value"] for m in meta] == ["<p>2</p>"]
    assert shop.recalculations() == []
    assert response.json()["total"] == "29.35"
    assert response.json()["date_modified_gmt"] != "2017-03-22T19:28:08"


def test_writing_lines_recalculates_and_is_recorded(shop: WooCommerceSandbox) -> None:
    shop.load_order("wc_v3_order_727")
    response = shop.client().put("orders/727", {"line_items": [{"id": 315, "quantity": 4}]})
    assert response.status_code == 200
    (recalculation,) = shop.recalculations()
    assert recalculation["order_id"] == 727 and recalculation["fields"] == ["line_items"]
    assert recalculation["paid"] is True
    line = response.json()["line_items"][0]
    assert line["quantity"] == 4 and line["total"] == "12.00" and line["price"] == 3.0


def test_customer_notes_are_created_and_listed(shop: WooCommerceSandbox) -> None:
    shop.load_order("wc_v3_order_727")
    api = shop.client()
    created = api.post("orders/727/notes", {"note": "Your coupon: thanks10", "customer_note": True})
    assert created.status_code == 201
    note = created.json()
    reference = fixture_json("wc_v3_order_note.json")
    assert list(note) == list(reference)
    assert note["author"] == "system" and note["customer_note"] is True
    notes = api.get("orders/727/notes", params={"type": "customer"}).json()
    assert [n["id"] for n in notes] == [note["id"]]
    assert shop.customer_emails()[0]["to"] == "john.doe@example.com"
    assert (
        api.post("orders/1/notes", {"note": "x"}).json()["code"]
        == "woocommerce_rest_order_invalid_id"
    )


def test_unknown_ids_and_routes(shop: WooCommerceSandbox) -> None:
    api = shop.client()
    assert api.get("orders/4242").json() == {
        "code": "woocommerce_rest_shop_order_invalid_id",
        "message": "Invalid ID.",
        "data": {"status": 404},
    }
    no_route = api.get("nothing/here")
    assert no_route.status_code == 404
    assert no_route.json()["code"] == ERRORS["no_route_http404"]["code"]
    assert api.delete("coupons").json()["code"] == "rest_no_route"
    assert requests.get(shop.url + "/shop/", timeout=5).status_code == 404


def test_products_carry_settable_categories_and_tags(shop: WooCommerceSandbox) -> None:
    order = shop.load_order("wc96_recorded_order_77")
    ids = sorted({i["product_id"] for i in order["line_items"]})
    shop.set_product_terms(42, categories=["Shoes", "Sale"], tags=["vip"])
    api = shop.client()
    products = api.get("products", params={"include": ",".join(map(str, ids))}).json()
    assert sorted(p["id"] for p in products) == ids
    shoes = next(p for p in products if p["id"] == 42)
    assert [c["name"] for c in shoes["categories"]] == ["Shoes", "Sale"]
    assert [t["slug"] for t in shoes["tags"]] == ["vip"]
    categories = api.get("products/categories", params={"per_page": 100}).json()
    sale = next(c for c in categories if c["name"] == "Sale")
    assert sale["count"] == 1
    tagged = api.put("products/56", {"tags": [{"id": shoes["tags"][0]["id"]}]}).json()
    assert [t["name"] for t in tagged["tags"]] == ["vip"]
    assert api.get("products/4242").json()["code"] == "woocommerce_rest_product_invalid_id"


def test_fields_trims_the_response(shop: WooCommerceSandbox) -> None:
    shop.load_order("wc_v3_order_727")
    data = shop.client().get("orders/727", params={"_fields": "id,status,billing.email"}).json()
    assert data == {"id": 727, "status": "processing", "billing": {"email": "john.doe@example.com"}}


def test_rest_checkout_with_a_coupon_counts_its_usage(
    shop: WooCommerceSandbox,
) -> None:
    api = shop.client()
    api.post("coupons", {"code": "back10", "amount": "10", "discount_type": "percent"})
    shop.add_customer(31, "lee@example.com")
    response = api.post(
        "orders",
        {
            "customer_id": 31,
            "billing": {"email": "lee@example.com"},
            "line_items": [{"product_id": 42, "quantity": 2}],
            "coupon_lines": [{"code": "BACK10"}],
            "set_paid": True,
        },
    )
    assert response.status_code == 201
    order = response.json()
    assert order["status"] == "processing" and order["created_via"] == "rest-api"
    assert order["line_items"][0]["subtotal"] == "687.22"
    assert order["coupon_lines"][0]["discount"] == "68.72"
    assert order["total"] == "618.50"
    (coupon,) = shop.coupons()
    assert coupon["usage_count"] == 1 and coupon["used_by"] == ["31"]
    shop.cancel(order["id"])
    assert shop.coupons()[0]["usage_count"] == 0
    unknown = api.post("orders", {"customer_id": 404})
    assert unknown.json()["code"] == "woocommerce_rest_invalid_customer_id"


def test_checkout_from_line_items(shop: WooCommerceSandbox) -> None:
    order = shop.create_order(line_items=[{"product_id": 93, "quantity": 3}], customer_id=8)
    assert order["status"] == "pending" and order["total"] == "9.00"
    assert order["line_items"][0]["name"] == "Woo Single #1"
    assert order["order_key"].startswith("wc_order_")
    assert order["payment_url"].endswith(f"key={order['order_key']}")
