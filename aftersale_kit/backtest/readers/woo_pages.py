"""WooCommerce REST order pages (``GET /wp-json/wc/v3/orders``), read as past orders.

A file holds one page (a JSON array of orders, as the API returns it), several values one after
another, or JSON Lines (one order, or one page, per line). Each order is read by the live
normaliser and completed with what the REST order carries for a history but a live decision
does not need, by the adapter's reading of a listed order
(``aftersale_kit_woocommerce.listed.read_listed_order``, the one ``--from-shop`` uses; see
https://woocommerce.github.io/woocommerce-rest-api-docs/#order-properties):

- ``fulfilled_at`` is ``date_completed_gmt`` (the order reached *completed*: shipped).
- ``cancelled_at``: WooCommerce keeps no cancellation date; for a *cancelled* order it is
  ``date_modified_gmt`` (its last change, normally the cancellation).
- Refund dates: the order's ``refunds[]`` holds only ``id``, ``reason`` and ``total``; when an
  entry also carries ``date_created_gmt`` (or ``date_created``), as
  ``GET /orders/<id>/refunds`` returns it and tools merge it in, that is the refund's date;
  otherwise the date is unknown (``None``).
- WooCommerce has no *partially refunded* status: a paid order with refunds less than its
  total is ``PARTIALLY_REFUNDED`` (as Shopify reports it), so both platforms read alike.

WooCommerce line items carry no vendor, product type or tags; customers no marketing consent.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from aftersale_kit_woocommerce.listed import read_listed_order

from aftersale_kit.core.errors import PayloadError

from ..history import BadRow, BadRowSink, HistoryOrder, SourceRef
from ._io import LineSource
from ._jsonstream import json_values

__all__ = ["WooJsonLinesReader", "WooPagesReader"]


class WooPagesReader:
    """:class:`~aftersale_kit.backtest.history.OrderReader` for JSON pages (streamed)."""

    def read(
        self, path: str, *, shop: str, currency: str, on_bad: BadRowSink
    ) -> Iterator[HistoryOrder]:
        for line, value in json_values(path, on_bad):
            yield from _orders(value, path, line, shop=shop, on_bad=on_bad)


class WooJsonLinesReader:
    """:class:`~aftersale_kit.backtest.history.OrderReader` for JSON Lines of orders or pages."""

    def read(
        self, path: str, *, shop: str, currency: str, on_bad: BadRowSink
    ) -> Iterator[HistoryOrder]:
        source = LineSource(path, on_bad)
        for text in source:
            if not text.strip():
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                on_bad(
                    BadRow(path, source.line, f"not valid JSON ({exc.msg} at column {exc.colno})")
                )
                continue
            except RecursionError:
                on_bad(BadRow(path, source.line, "the JSON is nested too deeply to be an order"))
                continue
            yield from _orders(value, path, source.line, shop=shop, on_bad=on_bad)


def _orders(
    value: object, path: str, line: int, *, shop: str, on_bad: BadRowSink
) -> Iterator[HistoryOrder]:
    items = value if isinstance(value, list) else [value]
    for item in items:
        found = _history(item, path, line, shop=shop, on_bad=on_bad)
        if found is not None:
            yield found


def _history(
    item: object, path: str, line: int, *, shop: str, on_bad: BadRowSink
) -> HistoryOrder | None:
    if not isinstance(item, dict):
        on_bad(BadRow(path, line, "not an order: expected a JSON object"))
        return None
    try:
        # the same reading as an order listed from the shop (``--from-shop``)
        listed = read_listed_order(item, shop=shop)
    except PayloadError as exc:
        label = item.get("number") or item.get("id")
        on_bad(BadRow(path, line, f"order {label}: {exc}" if label else str(exc)))
        return None
    return HistoryOrder(
        order=listed.order, source=SourceRef(path, line), fulfilled_at=listed.fulfilled_at
    )
