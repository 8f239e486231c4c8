"""The JSON Lines result of a Shopify bulk operation over ``orders``, read as past orders.

A bulk query's result file has one JSON object per line: each order (``id`` a
``gid://shopify/Order/...``) on its own line, and the nodes of its connections (``lineItems``)
on lines of their own that name the order in ``__parentId``; list fields (``refunds``,
``fulfillments``, ``transactions``, ``discountCodes``, ``tags``) stay inside the order's line
(https://shopify.dev/docs/api/usage/bulk-operations/queries; fields as in
https://shopify.dev/docs/api/admin-graphql/latest/objects/Order). Refund nodes on lines of
their own (``gid://shopify/Refund/...`` with ``__parentId``) are read too.

Each order is turned into the REST order shape and read by the live normaliser
(``aftersale_kit_shopify.normalize``), so a backtest reads amounts, statuses and customers as
live decisions do. The query the reader understands (any subset; absent fields are unknown)::

    orders { edges { node {
      id name email createdAt cancelledAt displayFinancialStatus displayFulfillmentStatus
      currencyCode presentmentCurrencyCode tags discountCodes sourceName paymentGatewayNames
      customerLocale test
      subtotalPriceSet totalPriceSet totalDiscountsSet totalShippingPriceSet totalTaxSet
        { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }
      customer { id email firstName lastName locale tags emailMarketingConsent { marketingState } }
      billingAddress shippingAddress { countryCodeV2 provinceCode city zip }
      shippingLine { title code }  customAttributes { key value }
      transactions { kind status processedAt }  fulfillments { createdAt }
      refunds { id createdAt totalRefundedSet { shopMoney { amount } }
                refundLineItems { edges { node { quantity lineItem { id } subtotalSet {...} } } } }
      lineItems { edges { node {
        id name title quantity sku vendor isGiftCard product { id productType } variant { id }
        originalUnitPriceSet { shopMoney { amount } }
        discountAllocations { allocatedAmountSet { shopMoney { amount } } } } } }
    } } }

Beyond the normaliser: ``paid_at`` is the earliest successful ``SALE`` or ``CAPTURE``
transaction, ``fulfilled_at`` the first fulfillment's ``createdAt``; with exactly one discount
code, that code's amount is the order's discount total. A refund without ``refundLineItems`` has
unknown lines (``None``).

In a file cut off (a damaged gzip), the order at the cut is dropped: it may lack lines.
Child lines normally follow their order; the reader keeps the last :data:`WINDOW` orders open
for late children (bounded memory). A child whose order is unknown or already closed is a bad
row.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from aftersale_kit_shopify.normalize import normalize_shopify_order

from aftersale_kit.core.errors import PayloadError

from ..history import BadRow, BadRowSink, HistoryOrder, SourceRef
from ._io import LineSource
from ._values import RowError, parse_time

__all__ = ["WINDOW", "ShopifyBulkReader"]

#: Orders kept open for child lines that arrive after later orders.
WINDOW = 1000


@dataclass(slots=True)
class _Open:
    node: dict[str, Any]
    line: int
    items: list[dict[str, Any]] = field(default_factory=list)
    refunds: list[dict[str, Any]] = field(default_factory=list)


def _kind(gid: object) -> str:
    """``"Order"`` for ``gid://shopify/Order/1``; ``""`` for anything else."""
    if not isinstance(gid, str) or not gid.startswith("gid://"):
        return ""
    parts = gid.split("/")
    return parts[3] if len(parts) > 4 else ""


def _number(gid: object) -> str | None:
    if not isinstance(gid, str) or not gid:
        return None
    return gid.rsplit("/", 1)[-1].split("?", 1)[0]


class ShopifyBulkReader:
    """:class:`~aftersale_kit.backtest.history.OrderReader` for bulk-operation JSON Lines."""

    def read(
        self, path: str, *, shop: str, currency: str, on_bad: BadRowSink
    ) -> Iterator[HistoryOrder]:
        source = LineSource(path, on_bad)
        pending: OrderedDict[str, _Open] = OrderedDict()
        closed = 0
        for text in source:
            if not text.strip():
                continue
            node = _decode(text, path, source.line, on_bad)
            if node is None:
                continue
            parent = node.get("__parentId")
            if parent is None:
                if _kind(node.get("id")) != "Order":
                    on_bad(BadRow(path, source.line, "not an order: its id is not an Order id"))
                    continue
                pending[node["id"]] = _Open(node, source.line)
                if len(pending) > WINDOW:
                    _, oldest = pending.popitem(last=False)
                    closed += 1
                    yield from _emit(oldest, path, shop, currency, on_bad)
                continue
            owner = pending.get(parent) if isinstance(parent, str) else None
            if owner is None:
                on_bad(
                    BadRow(
                        path,
                        source.line,
                        f"a {_kind(node.get('id')) or 'child'} line of order {parent!r}, which "
                        "is not among the orders just before it (put each order's lines after "
                        "it, as the bulk operation writes them)",
                    )
                )
                continue
            kind = _kind(node.get("id"))
            if kind == "LineItem":
                owner.items.append(node)
            elif kind == "Refund":
                owner.refunds.append(node)
        if source.truncated and pending:
            pending.popitem()  # the order at the cut may lack lines: not read
        for open_order in pending.values():
            yield from _emit(open_order, path, shop, currency, on_bad)


def _decode(text: str, path: str, line: int, on_bad: BadRowSink) -> dict[str, Any] | None:
    try:
        node = json.loads(text)
    except json.JSONDecodeError as exc:
        on_bad(BadRow(path, line, f"not valid JSON ({exc.msg} at column {exc.colno})"))
        return None
    except RecursionError:
        on_bad(BadRow(path, line, "the JSON is nested too deeply to be an order"))
        return None
    if not isinstance(node, dict):
        on_bad(BadRow(path, line, "not a JSON object"))
        return None
    return node


def _emit(
    open_order: _Open, path: str, shop: str, currency: str, on_bad: BadRowSink
) -> Iterator[HistoryOrder]:
    try:
        rest = _rest(open_order, currency)
        order = normalize_shopify_order(rest, shop=shop)
        node = open_order.node
        order = replace(
            order,
            paid_at=_paid_at(node),
            refunds=tuple(
                r if _has_lines(raw) else replace(r, lines=None)
                for r, raw in zip(order.refunds, _refunds(open_order), strict=True)
            ),
        )
        fulfilled = [
            t
            for f in _list(node.get("fulfillments"))
            if (t := parse_time(_str(f, "createdAt"), what="a fulfillment's createdAt"))
        ]
    except (PayloadError, RowError, TypeError, ValueError, AttributeError) as exc:
        on_bad(BadRow(path, open_order.line, f"order {_number(open_order.node.get('id'))}: {exc}"))
        return
    yield HistoryOrder(
        order=order,
        source=SourceRef(path, open_order.line),
        fulfilled_at=min(fulfilled) if fulfilled else None,
    )


def _list(value: object) -> list[dict[str, Any]]:
    """A list field, or a connection's ``edges``/``nodes``, as a list of objects."""
    if isinstance(value, dict):
        if isinstance(value.get("edges"), list):
            value = [e.get("node") for e in value["edges"] if isinstance(e, dict)]
        else:
            value = value.get("nodes")
    if not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, dict)]


def _str(o: Mapping[str, Any], key: str) -> str | None:
    value = o.get(key)
    return value if isinstance(value, str) else None


def _paid_at(node: Mapping[str, Any]) -> datetime | None:
    times = [
        t
        for tx in _list(node.get("transactions"))
        if str(tx.get("kind", "")).upper() in {"SALE", "CAPTURE"}
        and str(tx.get("status", "SUCCESS")).upper() == "SUCCESS"
        and (t := parse_time(_str(tx, "processedAt"), what="a transaction's processedAt"))
    ]
    return min(times) if times else None


def _refunds(open_order: _Open) -> list[dict[str, Any]]:
    return _list(open_order.node.get("refunds")) + open_order.refunds


def _has_lines(refund: Mapping[str, Any]) -> bool:
    return refund.get("refundLineItems") is not None


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


def _amount(value: object) -> Any:
    """``shopMoney.amount`` of a ``MoneyBag``."""
    if not isinstance(value, dict):
        return None
    shop_money = value.get("shopMoney")
    return shop_money.get("amount") if isinstance(shop_money, dict) else None


def _address(value: object) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        return None
    return {
        "country_code": value.get("countryCodeV2") or value.get("countryCode"),
        "province_code": value.get("provinceCode"),
        "city": value.get("city"),
        "zip": value.get("zip"),
    }


def _rest(open_order: _Open, currency: str) -> dict[str, Any]:
    """The order in the REST shape the live normaliser reads."""
    n = open_order.node
    # The ``*_set`` bags matter only for the buyer's currency (``presentment``); without one
    # the bare shop amounts say it all, and the normaliser reads less.
    presentment = n.get("presentmentCurrencyCode")
    foreign = bool(presentment) and presentment != n.get("currencyCode")
    bag = _money_set if foreign else _none
    codes = [c for c in n.get("discountCodes") or () if isinstance(c, str)]
    discounts = _amount(n.get("totalDiscountsSet"))
    shipping_line = n.get("shippingLine")
    return {
        "id": _number(n.get("id")),
        "admin_graphql_api_id": n.get("id"),
        "name": n.get("name"),
        "email": n.get("email"),
        "created_at": n.get("createdAt"),
        "cancelled_at": n.get("cancelledAt"),
        "currency": n.get("currencyCode") or currency,
        "presentment_currency": n.get("presentmentCurrencyCode"),
        "financial_status": str(n.get("displayFinancialStatus") or "").lower() or None,
        "subtotal_price": _amount(n.get("subtotalPriceSet")),
        "subtotal_price_set": bag(n.get("subtotalPriceSet")),
        "total_price": _amount(n.get("totalPriceSet")),
        "total_price_set": bag(n.get("totalPriceSet")),
        "total_discounts": discounts,
        "total_discounts_set": bag(n.get("totalDiscountsSet")),
        "total_tax": _amount(n.get("totalTaxSet")),
        "total_tax_set": bag(n.get("totalTaxSet")),
        "total_shipping_price_set": _money_set(n.get("totalShippingPriceSet")),
        "line_items": [_line_item(li, foreign) for li in open_order.items]
        + [_line_item(li, foreign) for li in _list(n.get("lineItems"))],
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
            for a in _list(n.get("customAttributes"))
        ],
        "tags": n.get("tags"),
        "customer_locale": n.get("customerLocale"),
        "test": n.get("test"),
        "refunds": [_refund(r) for r in _refunds(open_order)],
    }


def _none(value: object) -> None:
    return None


def _line_item(li: Mapping[str, Any], foreign: bool) -> dict[str, Any]:
    product = li.get("product") if isinstance(li.get("product"), dict) else {}
    variant = li.get("variant") if isinstance(li.get("variant"), dict) else {}
    allocations = li.get("discountAllocations")
    return {
        "id": _number(li.get("id")),
        "title": li.get("title") or li.get("name"),
        "name": li.get("name"),
        "quantity": li.get("quantity"),
        "sku": li.get("sku"),
        "vendor": li.get("vendor"),
        "gift_card": li.get("isGiftCard"),
        "price": _amount(li.get("originalUnitPriceSet")),
        "price_set": _money_set(li.get("originalUnitPriceSet")) if foreign else None,
        "product_id": _number(product.get("id")) if product else None,
        "variant_id": _number(variant.get("id")) if variant else None,
        "product_type": (product.get("productType") or None) if product else None,
        "discount_allocations": (
            [{"amount": _amount(a.get("allocatedAmountSet"))} for a in _list(allocations)]
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
        "id": _number(value.get("id")),
        "admin_graphql_api_id": value.get("id"),
        "email": value.get("email"),
        "first_name": value.get("firstName"),
        "last_name": value.get("lastName"),
        "locale": value.get("locale"),
        "tags": value.get("tags"),
        "email_marketing_consent": {"state": str(state).lower()} if state else None,
    }


def _refund(r: Mapping[str, Any]) -> dict[str, Any]:
    total = _amount(r.get("totalRefundedSet"))
    return {
        "id": _number(r.get("id")),
        "created_at": r.get("createdAt"),
        "transactions": (
            [{"kind": "refund", "status": "success", "amount": total}] if total is not None else []
        ),
        "refund_line_items": [
            {
                "line_item_id": _number((rl.get("lineItem") or {}).get("id")),
                "quantity": rl.get("quantity"),
                "subtotal": _amount(rl.get("subtotalSet")),
            }
            for rl in _list(r.get("refundLineItems"))
        ],
    }
