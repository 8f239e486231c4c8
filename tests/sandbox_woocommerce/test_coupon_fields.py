"""Each writable coupon field as the sandbox's coupon setters store it, and the setters' own
``WC_Data_Exception`` refusals."""

from __future__ import annotations

import pytest
from aftersale_kit_woocommerce.sandbox import WooCommerceSandbox


def test_every_field_group_is_stored_as_woocommerce_does(shop: WooCommerceSandbox) -> None:
    api = shop.client()
    # when a coupon sets lists, flags, limits and amounts
    response = api.post(
        "coupons",
        {
            "code": "<b>Spring</b>",
            "amount": "12.5",
            "discount_type": "fixed_product",
            "description": "spring sale",
            "status": "draft",
            "product_ids": [3, 0, 7],
            "excluded_product_ids": [9],
            "product_categories": [15],
            "excluded_product_categories": [16, 17],
            "free_shipping": True,
            "exclude_sale_items": True,
            "usage_limit_per_user": 2,
            "limit_usage_to_x_items": 4,
            "minimum_amount": "20",
            "maximum_amount": "200",
            "email_restrictions": ["*@Example.com", " "],
        },
    )
    assert response.status_code == 201, response.text
    coupon = response.json()
    # then each is stored in WooCommerce's shape (zero ids dropped, emails lower-cased)
    assert coupon["code"] == "spring"
    assert coupon["amount"] == "12.50"
    assert coupon["discount_type"] == "fixed_product"
    assert coupon["description"] == "spring sale"
    assert coupon["status"] == "draft"
    assert coupon["product_ids"] == [3, 7]
    assert coupon["excluded_product_ids"] == [9]
    assert coupon["product_categories"] == [15]
    assert coupon["excluded_product_categories"] == [16, 17]
    assert coupon["free_shipping"] is True
    assert coupon["exclude_sale_items"] is True
    assert coupon["individual_use"] is False
    assert coupon["usage_limit_per_user"] == 2
    assert coupon["limit_usage_to_x_items"] == 4
    assert coupon["minimum_amount"] == "20.00"
    assert coupon["maximum_amount"] == "200.00"
    assert coupon["email_restrictions"] == ["*@example.com"]
    # when an update sets only some fields
    updated = api.put(f"coupons/{coupon['id']}", {"free_shipping": False, "usage_limit": 3})
    # then only those change
    assert updated.status_code == 200
    assert updated.json()["free_shipping"] is False
    assert updated.json()["usage_limit"] == 3
    assert updated.json()["product_ids"] == [3, 7]


@pytest.mark.parametrize(
    ("fields", "code", "message"),
    [
        ({"discount_type": "bogo"}, "rest_invalid_param", None),
        ({"email_restrictions": ["not-an-email"]}, "coupon_invalid_email_address", None),
        ({"amount": "-1"}, "coupon_invalid_amount", "Invalid discount amount"),
        (
            {"amount": "101", "discount_type": "percent"},
            "coupon_invalid_amount",
            "Invalid discount amount",
        ),
    ],
)
def test_refused_values(
    shop: WooCommerceSandbox, fields: dict[str, object], code: str, message: str | None
) -> None:
    # when a coupon is created with a value the schema or a setter refuses
    response = shop.client().post("coupons", {"code": "bad", **fields})
    # then it is a 400 with WooCommerce's code, and nothing is stored
    assert response.status_code == 400
    assert response.json()["code"] == code
    if message is not None:
        assert response.json()["message"] == message
    assert shop.client().get("coupons").json() == []
