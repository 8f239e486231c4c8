"""A store's past orders page by page, for a backtest (``OrderHistory`` of the platform port).

``GET /wp-json/wc/v3/orders?after=&before=&dates_are_gmt=true&orderby=id&order=asc``
(``per_page``, ``page``)
(list parameters and pagination: https://woocommerce.github.io/woocommerce-rest-api-docs/#list-all-orders,
https://woocommerce.github.io/woocommerce-rest-api-docs/#pagination). Choices:

- ``after`` and ``before`` are exclusive (WordPress's ``WP_Date_Query``), and order dates have
  whole seconds: ``since`` is sent one second earlier so that an order placed in that very
  second is listed ("at or after ``since``"); ``until`` is sent as it is ("before").
- Ordered by id, not by date: WordPress sorts by date with no tie-breaker, so orders placed in
  the same second could move between pages from one request to the next and be read twice or
  not at all. Ids grow with creation, so id order is creation order for orders placed through
  the store (imported orders may carry older dates; the backtest sorts events by time anyway).
  Orders placed while the listing runs land after the last page (or beyond ``before``); an
  order deleted meanwhile shifts the following pages by one (the platform has no cursor).
- The cursor is ``"<page>:<per_page>"``: a rerun continues with the page size it started with.
- The last page is known from ``X-WP-TotalPages``, or a short page when a proxy strips it;
  ``X-WP-Total`` is the page's :attr:`~aftersale_kit.core.platform.OrderPage.total`.
- Refund dates: the order's ``refunds[]`` holds only ``id``, ``reason`` and ``total``. For an
  order with refunds, ``GET /orders/<id>/refunds`` is read as well and each entry's
  ``date_created_gmt`` merged into the order's ``refunds[]`` before the page is handed out
  (https://woocommerce.github.io/woocommerce-rest-api-docs/#list-all-refunds), so the raw order
  carries its refund dates wherever it is spooled. One more request per refunded order only.

Reading a listed order: :mod:`.listed` (no SDK needed there, so a core install reads exported
pages).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from aftersale_kit.core.errors import InvalidRequestError, NotFoundError
from aftersale_kit.core.platform import OrderPage

from .client import WooClient
from .coupons import wc_datetime
from .listed import read_listed_order

__all__ = ["MAX_PAGE", "list_orders", "read_listed_order"]

PLATFORM = "woocommerce"
#: WordPress refuses ``per_page`` above 100 (``rest_invalid_param``).
MAX_PAGE = 100


def _cursor(cursor: str | None, page_size: int, shop: str) -> tuple[int, int]:
    if cursor is None:
        return 1, max(1, min(MAX_PAGE, page_size))
    page, _, per_page = cursor.partition(":")
    if not (page.isdigit() and per_page.isdigit() and int(page) >= 1):
        raise InvalidRequestError(
            f"WooCommerce store {shop}: {cursor!r} is not an order listing cursor "
            "(expected '<page>:<per_page>'); start the listing over",
            platform=PLATFORM,
            status=None,
        )
    return int(page), max(1, min(MAX_PAGE, int(per_page)))


def list_orders(
    client: WooClient,
    *,
    shop: str,
    since: datetime | None,
    until: datetime | None,
    cursor: str | None,
    page_size: int,
) -> OrderPage:
    """One page of the store's orders (see the module's docstring)."""
    for name, bound in (("since", since), ("until", until)):
        if bound is not None and bound.tzinfo is None:
            raise ValueError(f"{name} must be a timezone-aware datetime")
    page, per_page = _cursor(cursor, page_size, shop)
    params: dict[str, object] = {
        "dates_are_gmt": "true",
        "orderby": "id",
        "order": "asc",
        "per_page": per_page,
        "page": page,
    }
    if since is not None:
        params["after"] = wc_datetime(since - timedelta(seconds=1))
    if until is not None:
        params["before"] = wc_datetime(until)
    answer = client.get("orders", params=params)
    if not isinstance(answer.data, list):
        raise InvalidRequestError(
            f"WooCommerce store {shop} answered the order listing (page {page}) with something "
            "other than a list of orders",
            platform=PLATFORM,
            status=answer.status,
        )
    items = tuple(_with_refund_dates(client, item) for item in answer.data)
    last = answer.last_page(page, len(items), per_page)
    return OrderPage(
        orders=items,
        next_cursor=None if last else f"{page + 1}:{per_page}",
        total=answer.total,
    )


def _with_refund_dates(client: WooClient, item: Any) -> Any:
    """``item`` with ``date_created_gmt`` merged into its ``refunds[]`` entries."""
    if not isinstance(item, Mapping):
        return item
    refunds = item.get("refunds")
    oid = str(item.get("id", ""))
    if not isinstance(refunds, list) or not refunds or not oid.isdigit():
        return item
    try:
        answer = client.get(f"orders/{oid}/refunds", params={"per_page": MAX_PAGE})
    except NotFoundError:
        return item  # deleted since it was listed: the dates stay unknown
    found = answer.data if isinstance(answer.data, list) else []
    dates = {str(r.get("id")): r.get("date_created_gmt") for r in found if isinstance(r, Mapping)}
    merged = [
        {**r, "date_created_gmt": dates[str(r.get("id"))]}
        if isinstance(r, Mapping) and not r.get("date_created_gmt") and dates.get(str(r.get("id")))
        else r
        for r in refunds
    ]
    return {**item, "refunds": merged}
