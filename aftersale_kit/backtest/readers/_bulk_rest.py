"""A bulk operation's order turned into the REST shape and read by the live normaliser.

This is the reference reading of a bulk order; :mod:`._bulk_fast` builds the same order directly
for the common case, faster, and falls back to this one for everything else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from aftersale_kit_shopify.normalize import normalize_shopify_order

from aftersale_kit.core.model import Order

from ._graphql import OpenOrder, amount, as_list, has_lines, number, paid_at, refunds

__all__ = ["normalised"]


def normalised(open_order: OpenOrder, *, shop: str, currency: str) -> Order:
    """The order as the live normaliser reads it, plus its payment time and refund lines."""
    order = normalize_shopify_order(_rest(open_order, currency), shop=shop)
    return replace(
        order,
        paid_at=paid_at(open_order.node),
        refunds=tuple(
            r if has_lines(raw) else replace(r, lines=None)
            for r, raw in zip(order.refunds, refunds(open_order), strict=True)
        ),
    )


def _money_set(value: object) -> dict[str, Any] | None:
    """A GraphQL ``MoneyBag`` as the REST ``*_set``."""
    if not isinstance(value, dict):
        return None
    out: dict[str, Any] = {}
    for graphql, rest in (("shopMoney", "shop_money"), ("presentmentMoney", "presentment_money")):
        money = value.get(graphql)
        if isinstance(money, dict):
            out[rest] = {"amount": money.get("amount"), "currency_code": money.get("currencyCode")}
    return out


def _address(value: object) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        return None
    return {
        "country_code": value.get("countryCodeV2") or value.get("countryCode"),
        "province_code": value.get("provinceCode"),
        "city": value.get("city"),
        "zip": value.get("zip"),
    }


def _rest(open_order: OpenOrder, currency: str) -> dict[str, Any]:
    """The order in the REST shape the live normaliser reads."""
    n = open_order.node
    # The ``*_set`` bags matter only for the buyer's currency (``presentment``); without one
    # the bare shop amounts say it all, and the normaliser reads less.
    presentment = n.get("presentmentCurrencyCode")
    foreign = bool(presentment) and presentment != n.get("currencyCode")
    bag = _money_set if foreign else _none
    codes = [c for c in n.get("discountCodes") or () if isinstance(c, str) and c.strip()]
    discounts = amount(n.get("totalDiscountsSet"))
    shipping_line = n.get("shippingLine")
    return {
        "id": number(n.get("id")),
        "admin_graphql_api_id": n.get("id"),
        "name": n.get("name"),
        "email": n.get("email"),
        "created_at": n.get("createdAt"),
        "cancelled_at": n.get("cancelledAt"),
        "currency": n.get("currencyCode") or currency,
        "presentment_currency": n.get("presentmentCurrencyCode"),
        "financial_status": str(n.get("displayFinancialStatus") or "").lower() or None,
        "subtotal_price": amount(n.get("subtotalPriceSet")),
        "subtotal_price_set": bag(n.get("subtotalPriceSet")),
        "total_price": amount(n.get("totalPriceSet")),
        "total_price_set": bag(n.get("totalPriceSet")),
        "total_discounts": discounts,
        "total_discounts_set": bag(n.get("totalDiscountsSet")),
        "total_tax": amount(n.get("totalTaxSet")),
        "total_tax_set": bag(n.get("totalTaxSet")),
        "total_shipping_price_set": _money_set(n.get("totalShippingPriceSet")),
        "line_items": [_line_item(li, foreign) for li in open_order.items]
        + [_line_item(li, foreign) for li in as_list(n.get("lineItems"))],
        "customer": _customer(n.get("customer")),
        "billing_address": _address(n.get("billingAddress")),
        "shipping_address": _address(n.get("shippingAddress")),
        "shipping_lines": (
            [{"title": shipping_line.get("title"), "code": shipping_line.get("code")}]
            if isinstance(shipping_line, dict)
            else []
        ),
        "payment_gateway_names": n.get("paymentGatewayNames") or [],
        "source_name": n.get("sourceName"),
        "discount_codes": [
            {"code": c, "amount": discounts if len(codes) == 1 else None} for c in codes
        ],
        "note_attributes": [
            {"name": a.get("key"), "value": a.get("value")}
            for a in as_list(n.get("customAttributes"))
        ],
        "tags": n.get("tags"),
        "customer_locale": n.get("customerLocale"),
        "test": n.get("test"),
        "refunds": [_refund(r) for r in refunds(open_order)],
    }


def _none(value: object) -> None:
    return None


def _line_item(li: Mapping[str, Any], foreign: bool) -> dict[str, Any]:
    product = li.get("product") if isinstance(li.get("product"), dict) else {}
    variant = li.get("variant") if isinstance(li.get("variant"), dict) else {}
    allocations = li.get("discountAllocations")
    return {
        "id": number(li.get("id")),
        "title": li.get("title") or li.get("name"),
        "name": li.get("name"),
        "quantity": li.get("quantity"),
        "sku": li.get("sku"),
        "vendor": li.get("vendor"),
        "gift_card": li.get("isGiftCard"),
        "price": amount(li.get("originalUnitPriceSet")),
        "price_set": _money_set(li.get("originalUnitPriceSet")) if foreign else None,
        "product_id": number(product.get("id")) if product else None,
        "variant_id": number(variant.get("id")) if variant else None,
        "product_type": (product.get("productType") or None) if product else None,
        "discount_allocations": (
            [{"amount": amount(a.get("allocatedAmountSet"))} for a in as_list(allocations)]
            if allocations is not None
            else None
        ),
    }


def _customer(value: object) -> dict[str, Any] | None:
    if not isinstance(value, dict) or not value:
        return None
    consent = value.get("emailMarketingConsent")
    state = consent.get("marketingState") if isinstance(consent, dict) else None
    return {
        "id": number(value.get("id")),
        "admin_graphql_api_id": value.get("id"),
        "email": value.get("email"),
        "first_name": value.get("firstName"),
        "last_name": value.get("lastName"),
        "locale": value.get("locale"),
        "tags": value.get("tags"),
        "email_marketing_consent": {"state": str(state).lower()} if state else None,
    }


def _refund(r: Mapping[str, Any]) -> dict[str, Any]:
    total = amount(r.get("totalRefundedSet"))
    return {
        "id": number(r.get("id")),
        "created_at": r.get("createdAt"),
        "transactions": (
            [{"kind": "refund", "status": "success", "amount": total}] if total is not None else []
        ),
        "refund_line_items": [
            {
                "line_item_id": number((rl.get("lineItem") or {}).get("id")),
                "quantity": rl.get("quantity"),
                "subtotal": amount(rl.get("subtotalSet")),
            }
            for rl in as_list(r.get("refundLineItems"))
        ],
    }
