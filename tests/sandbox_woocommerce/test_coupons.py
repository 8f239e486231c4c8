"""Coupons as WooCommerce stores and returns them."""

from __future__ import annotations

from typing import Any

from aftersale_kit_woocommerce.sandbox import WooCommerceSandbox

from .conftest import fixture_json

ERRORS = fixture_json("wc_v3_errors.json")


def test_create_returns_201_in_the_vendor_shape(shop: WooCommerceSandbox) -> None:
    # when a coupon is created with a mixed-case code and a numeric-string amount
    response = shop.client().post(
        "coupons",
        {
            "code": "  Thanks-10 ",
            "amount": "10",
            "discount_type": "percent",
            "individual_use": True,
            "usage_limit": 1,
            "email_restrictions": ["Ada@Example.com"],
            "date_expires": "2030-01-31T23:59:59",
            "meta_data": [{"key": "_aftersale_kit_rule", "value": "thank-you"}],
        },
    )
    # then: 201, the code lower-cased, money with two decimals, unset limits null
    assert response.status_code == 201
    coupon = response.json()
    assert response.headers["Location"].endswith(f"/wp-json/wc/v3/coupons/{coupon['id']}")
    reference = fixture_json("wc_v3_coupon_719.json")
    expected_keys = list(reference)
    expected_keys.insert(expected_keys.index("amount") + 1, "status")  # current core adds it
    assert list(coupon) == expected_keys
    assert coupon["code"] == "thanks-10"
    assert coupon["amount"] == "10.00"
    assert coupon["minimum_amount"] == "0.00" and coupon["maximum_amount"] == "0.00"
    assert coupon["usage_limit"] == 1
    assert coupon["usage_limit_per_user"] is None and coupon["limit_usage_to_x_items"] is None
    assert coupon["email_restrictions"] == ["ada@example.com"]
    assert coupon["date_expires"] == "2030-01-31T23:59:59"
    assert coupon["date_expires_gmt"] == "2030-01-31T23:59:59"
    assert coupon["meta_data"][0]["key"] == "_aftersale_kit_rule"
    assert isinstance(coupon["meta_data"][0]["id"], int)
    assert coupon["status"] == "publish"


def test_duplicates_and_empty_codes_get_woocommerce_s_errors(shop: WooCommerceSandbox) -> None:
    api = shop.client()
    assert api.post("coupons", {"code": "welcome"}).status_code == 201
    duplicate = api.post("coupons", {"code": "WELCOME"})
    assert duplicate.status_code == 400
    assert duplicate.json() == ERRORS["coupon_exists_http400"]
    empty = api.post("coupons", {"code": ""})
    assert empty.status_code == 400
    assert empty.json() == ERRORS["empty_coupon_code_http400"]
    missing = api.post("coupons", {"amount": "5"})
    assert missing.json()["code"] == "rest_missing_callback_param"
    assert missing.json()["data"] == {"status": 400, "params": ["code"]}


def test_schema_types_are_enforced(shop: WooCommerceSandbox) -> None:
    # WordPress validates "type": "string" strictly: a JSON number is refused
    response = shop.client().post("coupons", {"code": "typed", "amount": 10})
    assert response.status_code == 400
    assert response.json() == {
        "code": "rest_invalid_param",
        "message": "Invalid parameter(s): amount",
        "data": {"status": 400, "params": {"amount": "amount is not of type string."}},
    }
    bad_type = shop.client().post("coupons", {"code": "typed", "discount_type": "bogus"})
    assert bad_type.json()["data"]["params"] == {
        "discount_type": "discount_type is not one of percent, fixed_cart, and fixed_product."
    }


def test_date_expires_gmt_is_dropped_as_by_the_platform(shop: WooCommerceSandbox) -> None:
    response = shop.client().post(
        "coupons", {"code": "gmt-only", "date_expires_gmt": "2030-01-01T00:00:00"}
    )
    assert response.status_code == 201
    assert response.json()["date_expires"] is None
    assert response.json()["date_expires_gmt"] is None


def test_code_filter_is_exact_and_case_insensitive(shop: WooCommerceSandbox) -> None:
    api = shop.client()
    for code in ("vip", "vip-2", "avip"):
        api.post("coupons", {"code": code})
    found = api.get("coupons", params={"code": "VIP"})
    assert [c["code"] for c in found.json()] == ["vip"]
    assert found.headers["X-WP-Total"] == "1"
    assert api.get("coupons", params={"code": "nope"}).json() == []


def test_delete_trashes_unless_forced_and_a_trashed_code_is_free(
    shop: WooCommerceSandbox,
) -> None:
    api = shop.client()
    first = api.post("coupons", {"code": "once"}).json()
    trashed = api.delete(f"coupons/{first['id']}")
    assert trashed.status_code == 200 and trashed.json()["status"] == "publish"
    assert api.get(f"coupons/{first['id']}").json()["status"] == "trash"
    again = api.delete(f"coupons/{first['id']}")
    assert again.status_code == 410
    assert again.json()["code"] == "woocommerce_rest_already_trashed"
    assert api.get("coupons").json() == []
    second = api.post("coupons", {"code": "once"})
    assert second.status_code == 201
    gone = api.delete(f"coupons/{second.json()['id']}", params={"force": True})
    assert gone.status_code == 200
    assert api.get(f"coupons/{second.json()['id']}").json() == {
        "code": "woocommerce_rest_shop_coupon_invalid_id",
        "message": "Invalid ID.",
        "data": {"status": 404},
    }


def test_batch_limits_and_per_item_errors(shop: WooCommerceSandbox) -> None:
    api = shop.client()
    existing = api.post("coupons", {"code": "taken"}).json()
    too_many: dict[str, Any] = {
        "create": [{"code": f"c{i}"} for i in range(60)],
        "update": [{"id": existing["id"], "amount": "1"}] * 30,
        "delete": [999999] * 11,
    }
    response = api.post("coupons/batch", too_many)
    assert response.status_code == 413
    assert response.json() == ERRORS["batch_too_large_http413"]
    assert len(shop.coupons()) == 1
    response = api.post(
        "coupons/batch",
        {
            "create": [{"code": "taken"}, {"code": "fresh", "amount": "5"}],
            "update": [{"id": existing["id"], "amount": "7.5"}, {"id": 424242, "amount": "1"}],
            "delete": [existing["id"]],
        },
    )
    assert response.status_code == 200
    result = response.json()
    assert result["create"][0] == ERRORS["batch_item_error_shape"]["create"][0]
    assert result["create"][1]["code"] == "fresh"
    assert result["update"][0]["amount"] == "7.50"
    assert result["update"][1] == {
        "id": 424242,
        "error": {
            "code": "woocommerce_rest_shop_coupon_invalid_id",
            "message": "Invalid ID.",
            "data": {"status": 400},
        },
    }
    assert result["delete"][0]["id"] == existing["id"]
    assert [c["code"] for c in shop.coupons()] == ["fresh"]
    assert api.post("coupons/batch", {}).json() == []


def test_updates_bump_date_modified_and_check_codes(shop: WooCommerceSandbox) -> None:
    api = shop.client()
    api.post("coupons", {"code": "other"})
    coupon = api.post("coupons", {"code": "mine"}).json()
    shop.skew_clock(5)
    updated = api.put(f"coupons/{coupon['id']}", {"description": "x"}).json()
    assert updated["date_modified_gmt"] > coupon["date_modified_gmt"]
    clash = api.put(f"coupons/{coupon['id']}", {"code": "OTHER"})
    assert clash.json() == ERRORS["coupon_exists_http400"]
    assert api.put("coupons/987654", {"amount": "1"}).json()["data"] == {"status": 400}


def test_the_docs_coupon_loads_and_reads_back(shop: WooCommerceSandbox) -> None:
    shop.load_coupon("wc_v3_coupon_719")
    coupon = shop.client().get("coupons/719").json()
    reference = fixture_json("wc_v3_coupon_719.json")
    assert {k: v for k, v in coupon.items() if k not in ("status", "_links")} == {
        k: v for k, v in reference.items() if k != "_links"
    }


def test_batch_updates_without_a_usable_id_fail_one_by_one(shop: WooCommerceSandbox) -> None:
    # when a batch updates by an id that is not a number, is missing, or is not an object
    result = shop.client().post(
        "coupons/batch", {"update": [{"id": "x", "amount": "1"}, {"amount": "1"}, 5]}
    )
    # then each item carries its own 400 invalid-ID error, with the id as it was sent
    assert result.status_code == 200
    invalid = {
        "code": "woocommerce_rest_shop_coupon_invalid_id",
        "message": "Invalid ID.",
        "data": {"status": 400},
    }
    assert result.json() == {
        "update": [
            {"id": "x", "error": invalid},
            {"id": None, "error": invalid},
            {"id": None, "error": invalid},
        ]
    }
    assert shop.coupons() == []
