"""Platform order JSON -> the neutral :class:`~aftersale_kit.core.model.Order`.

Pure functions over decoded JSON (``json.loads`` output): no SDK, no I/O. Fields a payload does
not carry (customer history, product taxonomy) stay ``None`` for the adapters to fill in with
:func:`dataclasses.replace`. Anything that is not an order, or an order field of the wrong type,
raises :class:`~aftersale_kit.core.errors.PayloadError` naming the field.

>>> order = normalize_order(json.loads(body))                  # doctest: +SKIP
>>> order = normalize_order(body_dict, platform="woocommerce", shop="https://shop.example/")
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..errors import PayloadError
from ..model import Order
from ._read import describe
from .shopify import normalize_shopify_order, shopify_financial_status
from .woocommerce import normalize_woocommerce_order, woocommerce_financial_status

__all__ = [
    "PLATFORMS",
    "guess_platform",
    "normalize_order",
    "normalize_shopify_order",
    "normalize_woocommerce_order",
    "shopify_financial_status",
    "woocommerce_financial_status",
]

_NORMALIZERS: dict[str, Callable[..., Order]] = {
    "shopify": normalize_shopify_order,
    "woocommerce": normalize_woocommerce_order,
}
#: The platform names :func:`normalize_order` understands.
PLATFORMS: tuple[str, ...] = tuple(_NORMALIZERS)

_SHOPIFY_GID = "gid://shopify/Order/"
_SHOPIFY_KEYS = ("financial_status", "total_price", "subtotal_price")
_WOO_KEYS = ("date_created_gmt", "date_created")


def guess_platform(payload: Mapping[str, Any]) -> str:
    """``"shopify"`` or ``"woocommerce"``, from the keys only each platform's orders have.

    Shopify: an ``admin_graphql_api_id`` starting ``gid://shopify/Order/``, or ``line_items``
    next to one of ``financial_status``, ``total_price``, ``subtotal_price``. WooCommerce:
    ``order_key``, or ``line_items`` next to ``date_created_gmt`` or ``date_created``. The REST
    wrapper ``{"order": {...}}`` is looked into. Coupons, price rules and the like are refused.
    """
    if not isinstance(payload, Mapping):
        raise PayloadError(f"an order payload must be a JSON object, got {describe(payload)}")
    body = payload
    inner = payload.get("order")
    if "id" not in payload and isinstance(inner, Mapping):
        body = inner
    gid = body.get("admin_graphql_api_id")
    if isinstance(gid, str) and gid.startswith(_SHOPIFY_GID):
        return "shopify"
    if "order_key" in body:
        return "woocommerce"
    if "line_items" in body:
        if any(key in body for key in _SHOPIFY_KEYS):
            return "shopify"
        if any(key in body for key in _WOO_KEYS):
            return "woocommerce"
    names = sorted(str(k) for k in body)
    keys = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "") if names else "none"
    raise PayloadError(
        "not an order of Shopify or WooCommerce: looked for Shopify's 'admin_graphql_api_id' "
        "(gid://shopify/Order/...) or 'line_items' with 'financial_status', 'total_price' or "
        "'subtotal_price', and for WooCommerce's 'order_key' or 'line_items' with "
        f"'date_created_gmt' or 'date_created'; found keys: {keys}"
    )


def normalize_order(
    payload: Mapping[str, Any], *, platform: str | None = None, shop: str | None = None
) -> Order:
    """The neutral order from a Shopify or WooCommerce order payload.

    ``platform`` is guessed with :func:`guess_platform` when ``None``. ``shop`` is passed on to
    the platform's normalizer (see :func:`normalize_shopify_order`,
    :func:`normalize_woocommerce_order` for its default).
    """
    name = guess_platform(payload) if platform is None else platform.strip().lower()
    normalizer = _NORMALIZERS.get(name)
    if normalizer is None:
        raise PayloadError(
            f"unknown platform {platform!r}: expected one of {', '.join(PLATFORMS)}",
            field="platform",
        )
    return normalizer(payload, shop=shop)
