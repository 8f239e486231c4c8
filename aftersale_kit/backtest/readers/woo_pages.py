"""WooCommerce REST order pages (``GET /wp-json/wc/v3/orders``), read as past orders.

A file holds one page (a JSON array of orders, as the API returns it), several values one after
another, or JSON Lines (one order, or one page, per line). Each order is read by the live
normaliser (``aftersale_kit_woocommerce.normalize``), then completed with what the REST order
carries for a history but a live decision does not need
(https://woocommerce.github.io/woocommerce-rest-api-docs/#order-properties):

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
from collections.abc import Iterator, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

from aftersale_kit_woocommerce.normalize import normalize_woocommerce_order

from aftersale_kit.core.errors import PayloadError
from aftersale_kit.core.model import FinancialStatus, Order

from ..history import BadRow, BadRowSink, HistoryOrder, SourceRef
from ._io import LineSource
from ._jsonstream import json_values
from ._values import RowError, parse_time

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
        order = normalize_woocommerce_order(item, shop=shop)
        order = _complete(order, item)
        fulfilled_at = parse_time(_text(item, "date_completed"), what="date_completed_gmt")
    except (PayloadError, RowError) as exc:
        label = item.get("number") or item.get("id")
        on_bad(BadRow(path, line, f"order {label}: {exc}" if label else str(exc)))
        return None
    return HistoryOrder(order=order, source=SourceRef(path, line), fulfilled_at=fulfilled_at)


def _text(item: Mapping[str, Any], key: str) -> str | None:
    """``<key>_gmt`` if present, else ``<key>`` (naive times are UTC, as the normaliser reads)."""
    value = item.get(f"{key}_gmt", item.get(key))
    return value if isinstance(value, str) else None


def _complete(order: Order, item: Mapping[str, Any]) -> Order:
    """What the live normaliser leaves out (see the module's docstring)."""
    if not order.refunds and order.financial_status is not FinancialStatus.CANCELLED:
        return order  # the common case: nothing to add
    raw_refunds = item.get("refunds")
    refunds = order.refunds
    if isinstance(raw_refunds, list) and len(raw_refunds) == len(refunds):
        refunds = tuple(
            replace(r, created_at=parse_time(_text(raw, "date_created"), what="a refund's date"))
            if isinstance(raw, dict)
            else r
            for r, raw in zip(refunds, raw_refunds, strict=True)
        )
    refunded = sum((r.amount.amount for r in refunds), Decimal(0))
    status = order.financial_status
    if status is FinancialStatus.PAID and 0 < refunded < order.total.amount:
        status = FinancialStatus.PARTIALLY_REFUNDED
    cancelled_at = order.cancelled_at
    if status is FinancialStatus.CANCELLED and cancelled_at is None:
        cancelled_at = parse_time(_text(item, "date_modified"), what="date_modified_gmt")
    return replace(order, refunds=refunds, financial_status=status, cancelled_at=cancelled_at)
