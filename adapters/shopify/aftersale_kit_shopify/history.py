"""A shop's past orders page by page, for a backtest (``OrderHistory`` of the platform port).

The Admin GraphQL ``orders`` connection, as the rest of the adapter speaks GraphQL:
``orders(first:, after:, query: "created_at:>='...' created_at:<'...'", sortKey: CREATED_AT)``
with cursor pagination (``pageInfo { hasNextPage endCursor }``;
https://shopify.dev/docs/api/admin-graphql/latest/queries/orders,
https://shopify.dev/docs/api/usage/pagination-graphql, search syntax
https://shopify.dev/docs/api/usage/search-syntax). The cursor is Shopify's ``endCursor``, so a
rerun continues exactly after the last order read, and orders placed meanwhile come after it.

Rate limits are the transport's (:mod:`.graphql_client`): a ``THROTTLED`` answer waits for the
leaky bucket (``extensions.cost``), a 429 for its ``Retry-After``, all within the retry bounds.
A page is :data:`MAX_PAGE` orders with their first :data:`~.queries.ORDERS_PAGE_LINES` line
items (longer orders get the rest from follow-up pages), which keeps the requested cost of one
page well under the single-query maximum of 1000 points.
For years of orders a bulk operation (``bulkOperationRunQuery``, its JSON Lines result read as
an order file) is the faster way: it is not paged and not rate limited per page.

An order is read by the adapter's own GraphQL reader (:func:`.mapping.order_from_graphql`,
what ``fetch_order`` uses), plus what a past order has and a live one does not yet:

- ``refunds``: each with its ``createdAt`` and ``totalRefundedSet`` (shop money); the refunded
  lines are not read (``lines`` unknown);
- ``paid_at``: ``processedAt`` when the financial status says it was paid (paid, partially paid,
  partially or fully refunded). The order object has no payment time; ``processedAt`` is when
  the checkout completed, which is when a card payment is captured on the default automatic
  capture (https://help.shopify.com/en/manual/payments/payment-authorization). Manually captured
  orders are taken as paid when placed;
- ``fulfilled_at``: the earliest ``fulfillments.createdAt``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from aftersale_kit.core.errors import PayloadError
from aftersale_kit.core.model import Refund
from aftersale_kit.core.platform import ListedOrder

from .mapping import _bad, _money_set, _time, legacy_id, order_from_graphql

__all__ = ["MAX_PAGE", "PAID_STATUSES", "history_search", "read_listed_order"]

#: Orders per page at most (see the module's docstring for the cost).
MAX_PAGE = 10
#: Refunds and fulfillments read per order.
LIST_FIRST = 10
#: ``displayFinancialStatus`` values of an order that was paid.
PAID_STATUSES = frozenset({"PAID", "PARTIALLY_PAID", "PARTIALLY_REFUNDED", "REFUNDED"})


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def history_search(since: datetime | None, until: datetime | None) -> str:
    """The search string for orders created at or after ``since`` and before ``until``."""
    terms = []
    if since is not None:
        if since.tzinfo is None:
            raise ValueError("since must be a timezone-aware datetime")
        terms.append(f"created_at:>='{_stamp(since)}'")
    if until is not None:
        if until.tzinfo is None:
            raise ValueError("until must be a timezone-aware datetime")
        terms.append(f"created_at:<'{_stamp(until)}'")
    return " ".join(terms)


def _list(node: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    value = node.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise _bad(f"order.{key}", "a list of objects", value)
    return value


def _refund(node: Mapping[str, Any], index: int) -> Refund:
    path = f"order.refunds[{index}]."
    amount = _money_set(node, "totalRefundedSet", path)
    if amount is None:
        raise _bad(f"{path}totalRefundedSet", "a money bag with shopMoney", None)
    if not node.get("id") and not node.get("legacyResourceId"):
        raise _bad(f"{path}id", "a refund id", None)
    return Refund(
        id=str(node.get("legacyResourceId") or legacy_id(node["id"])),
        amount=amount,
        created_at=_time(node, "createdAt", path),
    )


def read_listed_order(raw: Mapping[str, Any], *, shop: str) -> ListedOrder:
    """The neutral order of a listed order node (PayloadError naming the field otherwise)."""
    if not isinstance(raw, Mapping):
        raise PayloadError("Shopify GraphQL order: not an object", field="order")
    order = order_from_graphql(raw, shop=shop)
    refunds = tuple(_refund(r, i) for i, r in enumerate(_list(raw, "refunds")))
    status = str(raw.get("displayFinancialStatus") or "").upper()
    paid_at = _time(raw, "processedAt", "order.") if status in PAID_STATUSES else None
    shipped = [
        t
        for i, f in enumerate(_list(raw, "fulfillments"))
        if (t := _time(f, "createdAt", f"order.fulfillments[{i}].")) is not None
    ]
    return ListedOrder(
        order=replace(order, refunds=refunds, paid_at=paid_at or order.paid_at),
        fulfilled_at=min(shipped) if shipped else None,
    )
