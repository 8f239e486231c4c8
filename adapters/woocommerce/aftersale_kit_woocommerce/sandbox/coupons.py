"""Coupons: ``WC_Coupon`` setters and ``WC_REST_Coupons_V2_Controller`` rules.

Sources: woocommerce/woocommerce ``includes/rest-api/Controllers/Version2/
class-wc-rest-coupons-v2-controller.php``, ``Version3/class-wc-rest-coupons-controller.php``,
``includes/class-wc-coupon.php``, ``includes/wc-core-functions.php`` (``wc_format_coupon_code``).

* Codes are stored as ``wc_format_coupon_code`` leaves them: HTML entities decoded, tags
  stripped, trimmed, lower-cased (``wc_strtolower``).
* A code is taken when a **published** coupon has it, compared case-insensitively (the lookup
  is a MySQL ``post_title =`` comparison); trashed coupons do not block their code.
* ``date_expires_gmt`` is in the schema but ``WC_Coupon`` has no ``set_date_expires_gmt``, so the
  controller drops it silently: only ``date_expires`` (naive = site time, or with ``Z``/offset)
  sets the expiry.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

from .errors import RestError
from .rest import links
from .state import Store
from .values import (
    apply_meta_writes,
    date_pair,
    format_decimal,
    parse_wc_date,
    to_bool,
)

__all__ = ["apply_coupon_fields", "coupon_response", "find_coupon_by_code", "format_code"]

DISCOUNT_TYPES = ("percent", "fixed_cart", "fixed_product")
_TAGS = re.compile(r"<[^>]*>")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def format_code(value: Any) -> str:
    return _TAGS.sub("", html.unescape(str(value))).strip().lower()


def find_coupon_by_code(store: Store, code: str, exclude: int = 0) -> int:
    """``wc_get_coupon_id_by_code``: newest published coupon with this code, else 0."""
    wanted = format_code(code)
    matches = [
        cid
        for cid, coupon in store.coupons.items()
        if coupon["status"] == "publish" and coupon["code"].lower() == wanted and cid != exclude
    ]
    return max(matches) if matches else 0


def blank_coupon(store: Store, coupon_id: int) -> dict[str, Any]:
    local, gmt = store.clock.stamps()
    return {
        "id": coupon_id,
        "code": "",
        "amount": "0",
        "status": "publish",
        "date_created": local,
        "date_created_gmt": gmt,
        "date_modified": local,
        "date_modified_gmt": gmt,
        "discount_type": "fixed_cart",
        "description": "",
        "date_expires": None,
        "date_expires_gmt": None,
        "usage_count": 0,
        "individual_use": False,
        "product_ids": [],
        "excluded_product_ids": [],
        "usage_limit": 0,
        "usage_limit_per_user": 0,
        "limit_usage_to_x_items": None,
        "free_shipping": False,
        "product_categories": [],
        "excluded_product_categories": [],
        "exclude_sale_items": False,
        "minimum_amount": "",
        "maximum_amount": "",
        "email_restrictions": [],
        "used_by": [],
        "meta_data": [],
    }


def _int_list(value: Any) -> list[int]:
    items = value if isinstance(value, list) else [value]
    result = []
    for item in items:
        try:
            number = int(float(str(item)))
        except ValueError:
            continue
        if number:
            result.append(number)
    return result


def _absint(value: Any) -> int:
    try:
        return abs(int(float(str(value))))
    except ValueError:
        return 0


def _data_error(code: str, message: str) -> RestError:
    """A ``WC_Data_Exception`` from a setter, as the REST controller returns it (400)."""
    return RestError(code, message, 400)


Setter = Callable[[Store, dict[str, Any], str, Any], None]


def _set_code(store: Store, coupon: dict[str, Any], key: str, value: Any) -> None:
    code = format_code(value)
    if find_coupon_by_code(store, code, coupon["id"]):
        raise RestError(
            "woocommerce_rest_coupon_code_already_exists",
            "The coupon code already exists",
            400,
        )
    coupon["code"] = code


def _set_as_is(store: Store, coupon: dict[str, Any], key: str, value: Any) -> None:
    coupon[key] = value


def _set_text(store: Store, coupon: dict[str, Any], key: str, value: Any) -> None:
    coupon[key] = str(value)


def _set_discount_type(store: Store, coupon: dict[str, Any], key: str, value: Any) -> None:
    if value not in DISCOUNT_TYPES:
        raise _data_error("coupon_invalid_discount_type", "Invalid discount type")
    coupon[key] = value


def _set_expiry(store: Store, coupon: dict[str, Any], key: str, value: Any) -> None:
    offset = store.clock.utc_offset
    expires = parse_wc_date(value, offset)
    coupon["date_expires"], coupon["date_expires_gmt"] = date_pair(expires, offset)


def _set_bool(store: Store, coupon: dict[str, Any], key: str, value: Any) -> None:
    coupon[key] = to_bool(value)


def _set_ids(store: Store, coupon: dict[str, Any], key: str, value: Any) -> None:
    coupon[key] = _int_list(value)


def _set_absint(store: Store, coupon: dict[str, Any], key: str, value: Any) -> None:
    coupon[key] = _absint(value)


def _set_x_items(store: Store, coupon: dict[str, Any], key: str, value: Any) -> None:
    coupon[key] = None if value == "" else _absint(value)


def _set_emails(store: Store, coupon: dict[str, Any], key: str, value: Any) -> None:
    emails = [str(e).strip().lower() for e in (value if isinstance(value, list) else [value])]
    emails = [e for e in emails if e]
    for email in emails:
        if not _EMAIL.match(email.replace("*", "x")):
            raise _data_error("coupon_invalid_email_address", "Invalid email address restriction")
    coupon[key] = emails


def _set_meta(store: Store, coupon: dict[str, Any], key: str, value: Any) -> None:
    apply_meta_writes(store, coupon["meta_data"], value)


#: The writable fields, in the order the controller sets them, and the setter of each.
_SETTERS: dict[str, Setter] = {
    "code": _set_code,
    "amount": _set_text,
    "status": _set_as_is,
    "discount_type": _set_discount_type,
    "description": _set_as_is,
    "date_expires": _set_expiry,
    "individual_use": _set_bool,
    "product_ids": _set_ids,
    "excluded_product_ids": _set_ids,
    "usage_limit": _set_absint,
    "usage_limit_per_user": _set_absint,
    "limit_usage_to_x_items": _set_x_items,
    "free_shipping": _set_bool,
    "product_categories": _set_ids,
    "excluded_product_categories": _set_ids,
    "exclude_sale_items": _set_bool,
    "minimum_amount": _set_text,
    "maximum_amount": _set_text,
    "email_restrictions": _set_emails,
    "meta_data": _set_meta,
}


def apply_coupon_fields(
    store: Store, coupon: dict[str, Any], body: dict[str, Any], *, creating: bool
) -> None:
    """``prepare_object_for_database``: validate and set every writable field present."""
    if creating and not body.get("code"):
        raise RestError(
            "woocommerce_rest_empty_coupon_code", "The coupon code cannot be empty.", 400
        )
    for key, setter in _SETTERS.items():
        if body.get(key) is not None:
            setter(store, coupon, key, body[key])
    amount = format_decimal(coupon["amount"])
    if amount.startswith("-"):
        raise _data_error("coupon_invalid_amount", "Invalid discount amount")
    if coupon["discount_type"] == "percent" and float(amount) > 100:
        raise _data_error("coupon_invalid_amount", "Invalid discount amount")


def coupon_response(store: Store, coupon: dict[str, Any]) -> dict[str, Any]:
    """``get_formatted_item_data`` plus ``_links``."""
    data = dict(coupon)
    for key in ("amount", "minimum_amount", "maximum_amount"):
        data[key] = format_decimal(data[key])
    for key in ("usage_limit", "usage_limit_per_user", "limit_usage_to_x_items"):
        data[key] = data[key] or None
    data["_links"] = links(store.site, f"/wc/v3/coupons/{coupon['id']}", "/wc/v3/coupons")
    return data
