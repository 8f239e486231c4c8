"""CouponSpec -> the input of ``discountCodeBasicCreate`` / ``discountCodeFreeShippingCreate``.

https://shopify.dev/docs/api/admin-graphql/latest/mutations/discountCodeBasicCreate

* Who may redeem: ``context`` (since API 2025-10; earlier ``customerSelection``) is
  ``customers.add: [customer GID]`` when the spec names a customer, else ``all: ALL``. A guest's
  coupon is open to everyone; ``appliesOncePerCustomer`` and ``usageLimit`` keep it single-use.
* Value: ``percentage`` is a fraction (10 % -> 0.1); a fixed amount is
  ``discountAmount { amount, appliesOnEachItem: false }`` (once per order, not per item).
* Items: everything, or the given products / collections (GIDs).
* ``minimumRequirement.subtotal`` for a minimum order; ``combinesWith`` is left to the shop's
  defaults.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aftersale_kit.core.campaign import CouponKind
from aftersale_kit.core.platform import CouponSpec

from .mapping import gid

__all__ = ["basic_input", "free_shipping_input", "uses_context"]


def uses_context(api_version: str) -> bool:
    """``context`` replaced ``customerSelection`` in API 2025-10."""
    return api_version >= "2025-10"


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _decimal(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral() else str(value)


def _who(spec: CouponSpec, api_version: str) -> dict[str, Any]:
    if uses_context(api_version):
        if spec.customer_id:
            return {"context": {"customers": {"add": [gid("Customer", spec.customer_id)]}}}
        return {"context": {"all": "ALL"}}
    if spec.customer_id:
        return {"customerSelection": {"customers": {"add": [gid("Customer", spec.customer_id)]}}}
    return {"customerSelection": {"all": True}}


def _common(spec: CouponSpec, api_version: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": spec.title,
        "code": spec.code,
        "startsAt": _iso(spec.starts_at),
        "endsAt": _iso(spec.ends_at) if spec.ends_at else None,
        "usageLimit": spec.usage_limit,
        "appliesOncePerCustomer": spec.once_per_customer,
        **_who(spec, api_version),
    }
    if spec.minimum_order is not None:
        data["minimumRequirement"] = {
            "subtotal": {"greaterThanOrEqualToSubtotal": _decimal(spec.minimum_order.amount)}
        }
    return data


def basic_input(
    spec: CouponSpec, *, api_version: str, collection_ids: Sequence[str] = ()
) -> dict[str, Any]:
    """``DiscountCodeBasicInput`` for a percentage or fixed-amount coupon."""
    if spec.kind is CouponKind.PERCENTAGE:
        value: dict[str, Any] = {"percentage": float(spec.value / Decimal(100))}
    elif spec.kind is CouponKind.FIXED_AMOUNT:
        value = {"discountAmount": {"amount": _decimal(spec.value), "appliesOnEachItem": False}}
    else:
        raise ValueError(f"{spec.kind} coupons are created with discountCodeFreeShippingCreate")
    items: dict[str, Any]
    if spec.product_ids:
        items = {"products": {"productsToAdd": [gid("Product", p) for p in spec.product_ids]}}
    elif collection_ids:
        items = {"collections": {"add": list(collection_ids)}}
    else:
        items = {"all": True}
    return {**_common(spec, api_version), "customerGets": {"value": value, "items": items}}


def free_shipping_input(spec: CouponSpec, *, api_version: str) -> dict[str, Any]:
    """``DiscountCodeFreeShippingInput``: free shipping to every destination."""
    return {**_common(spec, api_version), "destination": {"all": True}}
