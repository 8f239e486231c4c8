"""The JSON Lines result of a Shopify bulk operation over ``orders``, read as past orders.

A bulk query's result file has one JSON object per line: each order (``id`` a
``gid://shopify/Order/...``) on its own line, and the nodes of its connections (``lineItems``)
on lines of their own that name the order in ``__parentId``; list fields (``refunds``,
``fulfillments``, ``transactions``, ``discountCodes``, ``tags``) stay inside the order's line
(https://shopify.dev/docs/api/usage/bulk-operations/queries; fields as in
https://shopify.dev/docs/api/admin-graphql/latest/objects/Order). Refund nodes on lines of
their own (``gid://shopify/Refund/...`` with ``__parentId``) are read too.

Each order is read as the live normaliser (``aftersale_kit_shopify.normalize``) reads the
REST order, so a backtest reads amounts, statuses and customers as live decisions do: the
reference turns it into the REST shape and calls the normaliser (:mod:`._bulk_rest`); the
common case is built directly (:mod:`._bulk_fast`, the same result, faster).

The query the reader understands (any subset; absent fields are unknown)::

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
from collections.abc import Iterator
from typing import Any

from aftersale_kit.core.errors import PayloadError

from ..history import BadRow, BadRowSink, HistoryOrder, SourceRef
from ._bulk_fast import fast
from ._bulk_rest import normalised
from ._graphql import OpenOrder, as_list, kind, number, text
from ._io import LineSource
from ._values import RowError, parse_time

__all__ = ["WINDOW", "ShopifyBulkReader"]

#: Orders kept open for child lines that arrive after later orders.
WINDOW = 1000


class ShopifyBulkReader:
    """:class:`~aftersale_kit.backtest.history.OrderReader` for bulk-operation JSON Lines."""

    def read(
        self, path: str, *, shop: str, currency: str, on_bad: BadRowSink
    ) -> Iterator[HistoryOrder]:
        source = LineSource(path, on_bad)
        pending: OrderedDict[str, OpenOrder] = OrderedDict()
        for line_text in source:
            if not line_text.strip():
                continue
            node = _decode(line_text, path, source.line, on_bad)
            if node is None:
                continue
            parent = node.get("__parentId")
            if parent is None:
                if kind(node.get("id")) != "Order":
                    on_bad(BadRow(path, source.line, "not an order: its id is not an Order id"))
                    continue
                pending[node["id"]] = OpenOrder(node, source.line)
                if len(pending) > WINDOW:
                    _, oldest = pending.popitem(last=False)
                    yield from _emit(oldest, path, shop, currency, on_bad)
                continue
            owner = pending.get(parent) if isinstance(parent, str) else None
            if owner is None:
                on_bad(
                    BadRow(
                        path,
                        source.line,
                        f"a {kind(node.get('id')) or 'child'} line of order {parent!r}, which "
                        "is not among the orders just before it (put each order's lines after "
                        "it, as the bulk operation writes them)",
                    )
                )
                continue
            child = kind(node.get("id"))
            if child == "LineItem":
                owner.items.append(node)
            elif child == "Refund":
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
    open_order: OpenOrder, path: str, shop: str, currency: str, on_bad: BadRowSink
) -> Iterator[HistoryOrder]:
    try:
        order = fast(open_order, shop=shop, currency=currency) or normalised(
            open_order, shop=shop, currency=currency
        )
        fulfilled = [
            t
            for f in as_list(open_order.node.get("fulfillments"))
            if (t := parse_time(text(f, "createdAt"), what="a fulfillment's createdAt"))
        ]
    except (PayloadError, RowError, TypeError, ValueError, AttributeError) as exc:
        on_bad(BadRow(path, open_order.line, f"order {number(open_order.node.get('id'))}: {exc}"))
        return
    yield HistoryOrder(
        order=order,
        source=SourceRef(path, open_order.line),
        fulfilled_at=min(fulfilled) if fulfilled else None,
    )
