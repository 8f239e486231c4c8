"""Order writes through the REST API: addresses, rows of each line group (added, changed,
deleted), plain fields and the customer id, as the sandbox applies them."""

from __future__ import annotations

from aftersale_kit_woocommerce.sandbox import WooCommerceSandbox


def test_rows_of_each_group_are_added_changed_and_deleted(shop: WooCommerceSandbox) -> None:
    shop.load_order("wc_v3_order_727")
    api = shop.client()
    # when a fee is added, the shipping row repriced and one line item deleted by quantity 0
    response = api.put(
        "orders/727",
        {
            "fee_lines": [{"name": "Gift wrap", "total": "2"}],
            "shipping_lines": [{"id": 317, "total": "5", "method_title": "Cheap"}],
            "line_items": [{"id": 316, "quantity": 0}],
        },
    )
    assert response.status_code == 200
    order = response.json()
    # then each group holds the result and the totals follow
    (fee,) = order["fee_lines"]
    assert (fee["name"], fee["total"]) == ("Gift wrap", "2.00")
    assert isinstance(fee["id"], int)
    (shipping,) = order["shipping_lines"]
    assert (shipping["id"], shipping["total"], shipping["method_title"]) == (317, "5.00", "Cheap")
    assert [line["id"] for line in order["line_items"]] == [315]
    assert order["shipping_total"] == "5.00"
    assert order["total"] == "13.45"  # the kept line's tax stays
    (recalculation,) = shop.recalculations()
    assert recalculation["fields"] == ["line_items", "shipping_lines", "fee_lines"]
    # when a row id is posted with only nulls
    deleted = api.put("orders/727", {"fee_lines": [{"id": fee["id"], "name": None}]})
    # then that row is deleted
    assert deleted.json()["fee_lines"] == []
    # when a line item's meta and total are written
    meta = api.put(
        "orders/727",
        {"line_items": [{"id": 315, "total": "4", "meta_data": [{"key": "gift", "value": "y"}]}]},
    ).json()
    (line,) = meta["line_items"]
    assert line["total"] == "4.00" and line["price"] == 2.0
    assert [(m["key"], m["value"]) for m in line["meta_data"]] == [("gift", "y")]


def test_addresses_plain_fields_and_customer(shop: WooCommerceSandbox) -> None:
    shop.load_order("wc_v3_order_727")
    shop.add_customer(31, "lee@example.com")
    api = shop.client()
    # when addresses, plain fields and a customer are written
    response = api.put(
        "orders/727",
        {
            "billing": {"city": "Oslo", "phone": None, "nickname": "x"},
            "shipping": {"postcode": 1234},
            "customer_note": "leave at door",
            "transaction_id": "tx-9",
            "customer_id": 31,
        },
    )
    assert response.status_code == 200
    order = response.json()
    # then known address fields are set as strings (null empties), unknown ones are dropped
    assert order["billing"]["city"] == "Oslo"
    assert order["billing"]["phone"] == ""
    assert "nickname" not in order["billing"]
    assert order["shipping"]["postcode"] == "1234"
    assert (order["customer_note"], order["transaction_id"]) == ("leave at door", "tx-9")
    assert order["customer_id"] == 31
    # and the addresses (not the other fields) recalculate the totals, which stay the same
    assert [r["fields"] for r in shop.recalculations()] == [["billing", "shipping"]]
    assert order["total"] == "29.35"
    # when the customer id names nobody
    unknown = api.put("orders/727", {"customer_id": 404})
    # then it is refused, and 0 (a guest) is allowed
    assert unknown.status_code == 400
    assert unknown.json()["code"] == "woocommerce_rest_invalid_customer_id"
    assert api.put("orders/727", {"customer_id": 0}).json()["customer_id"] == 0
