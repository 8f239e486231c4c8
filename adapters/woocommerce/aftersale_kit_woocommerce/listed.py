"""Reading a WooCommerce REST order as a past order (:func:`read_listed_order`): the shop's
listing (:mod:`.history`) and the backtest's page reader use it alike. Imports no SDK.

It completes the live normaliser's order with what a history needs:

- ``fulfilled_at`` is ``date_completed_gmt``: a store marks an order *completed* when it has
  shipped it (https://woocommerce.com/document/managing-orders/order-statuses/);
- each refund's ``created_at`` is its merged ``date_created_gmt`` (unknown without one);
- WooCommerce has no *partially refunded* status: a paid order refunded less than its total is
  ``PARTIALLY_REFUNDED``, as Shopify reports it;
- WooCommerce keeps no cancellation date: a *cancelled* order's ``cancelled_at`` is its
  ``date_modified_gmt`` (its last change, normally the cancellation).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from aftersale_kit.core.model import FinancialStatus, Order
from aftersale_kit.core.normalize.reading import Obj
from aftersale_kit.core.platform import ListedOrder

from .normalize import _LABEL, _datetime, normalize_woocommerce_order

__all__ = ["read_listed_order"]


def _gmt(item: Mapping[str, Any], key: str, *, path: str = "") -> datetime | None:
    """``<key>_gmt`` (else ``<key>``) read as the normaliser reads the order's own dates (the
    same range and messages); text that is no date is a :class:`PayloadError`, so the order is
    reported, not read with a date missing."""
    return _datetime(Obj(item, label=_LABEL, path=path), key)


def _complete(order: Order, raw: Mapping[str, Any]) -> Order:
    """What the live normaliser leaves out (see the module's docstring)."""
    refunds = order.refunds
    entries = raw.get("refunds")
    if refunds and isinstance(entries, list) and len(entries) == len(refunds):
        refunds = tuple(
            replace(r, created_at=_gmt(e, "date_created", path=f"refunds[{i}]"))
            if isinstance(e, Mapping)
            else r
            for i, (r, e) in enumerate(zip(refunds, entries, strict=True))
        )
    status = order.financial_status
    refunded = sum((r.amount.amount for r in refunds), Decimal(0))
    if status is FinancialStatus.PAID and 0 < refunded < order.total.amount:
        status = FinancialStatus.PARTIALLY_REFUNDED
    cancelled_at = order.cancelled_at
    if status is FinancialStatus.CANCELLED and cancelled_at is None:
        cancelled_at = _gmt(raw, "date_modified")
    return replace(order, refunds=refunds, financial_status=status, cancelled_at=cancelled_at)


def read_listed_order(raw: Mapping[str, Any], *, shop: str) -> ListedOrder:
    """The neutral order of a listed REST order (PayloadError when it cannot be read)."""
    order = _complete(normalize_woocommerce_order(raw, shop=shop), raw)
    return ListedOrder(order=order, fulfilled_at=_gmt(raw, "date_completed"))
