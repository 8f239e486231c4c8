"""Filling in what WooCommerce's order payload lacks, and only what a campaign asked for.

=========================  ========================================================================
field                      how
=========================  ========================================================================
customer.orders_count      ``GET orders?customer=<id>&status=<paid statuses>&per_page=1`` and
                           its ``X-WP-Total``: the customer's orders that were paid (processing,
                           completed, refunded; pending, on-hold, failed, cancelled and draft
                           orders are no purchase); the order itself counts even before it is
                           paid. Guests: stays absent (the engine treats a guest as not a first
                           order). Customer resources have had no
                           ``orders_count`` since WooCommerce 3.5 (woocommerce PR #20309).
customer.total_spent       the same query, every page (``per_page=100``), summing ``total`` minus
                           its refunds in the order's currency.
line_items.categories      ``GET products?include=<ids>`` (one call per 100 products): category
                           slugs, like Shopify collection handles.
line_items.tags            the same call: tag names (as shop owners see and type them).
=========================  ========================================================================

A line without a product, or whose product no longer exists, gets ``()``: known to have none.
``customer.tags`` and ``line_items.product_type`` do not exist on WooCommerce and stay unknown.
Results are kept for ``ttl`` seconds: products by id, customer figures per (customer, order), so a
redelivered webhook costs no second call while the customer's next order is counted afresh.
Nothing is fetched when nothing requested is unknown.
"""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any

from aftersale_kit.core.model import FinancialStatus, LineItem, Order
from aftersale_kit.core.money import Money
from aftersale_kit.core.platform import (
    CUSTOMER_ORDERS_COUNT,
    CUSTOMER_TOTAL_SPENT,
    LINE_ITEMS_CATEGORIES,
    LINE_ITEMS_TAGS,
    unknown_fields,
)

from .client import WooClient

__all__ = ["ENRICHABLE", "Enricher", "TTLCache"]

#: The enrichable fields WooCommerce can provide.
ENRICHABLE: frozenset[str] = frozenset(
    {CUSTOMER_ORDERS_COUNT, CUSTOMER_TOTAL_SPENT, LINE_ITEMS_CATEGORIES, LINE_ITEMS_TAGS}
)

#: Order statuses that count as a purchase for the customer's history.
PURCHASE_STATUSES = ("processing", "completed", "refunded")
_COUNTED = frozenset({FinancialStatus.PAID, FinancialStatus.REFUNDED})
_PAGE = 100

_MISSING = object()


class TTLCache:
    """A small thread-safe cache whose entries expire after ``ttl`` seconds."""

    def __init__(
        self, ttl: float, *, max_entries: int = 2048, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._data: dict[Hashable, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        """The value, or the module's ``_MISSING`` sentinel."""
        with self._lock:
            entry = self._data.get(key)
            if entry is None:
                return _MISSING
            if entry[0] <= self._clock():
                del self._data[key]
                return _MISSING
            return entry[1]

    def put(self, key: Hashable, value: Any) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            if len(self._data) >= self.max_entries:
                now = self._clock()
                for k in [k for k, (exp, _) in self._data.items() if exp <= now]:
                    del self._data[k]
                while len(self._data) >= self.max_entries:
                    del self._data[next(iter(self._data))]
            self._data[key] = (self._clock() + self.ttl, value)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


class Enricher:
    """Fetches the requested unknown fields of an order from one store."""

    def __init__(self, client: WooClient, *, ttl: float = 60.0) -> None:
        self._client = client
        self._cache = TTLCache(ttl)

    def clear_cache(self) -> None:
        self._cache.clear()

    def enrich(self, order: Order, fields: frozenset[str]) -> Order:
        wanted = unknown_fields(order, fields) & ENRICHABLE
        if not wanted:
            return order
        if order.customer is not None and wanted & {CUSTOMER_ORDERS_COUNT, CUSTOMER_TOTAL_SPENT}:
            order = self._customer(order, wanted)
        line_fields = wanted & {LINE_ITEMS_CATEGORIES, LINE_ITEMS_TAGS}
        if line_fields:
            order = self._lines(order, line_fields)
        return order

    # -- customer history -------------------------------------------------------------------

    def _customer(self, order: Order, wanted: frozenset[str]) -> Order:
        customer = order.customer
        assert customer is not None
        count: int | None = None
        spent: Money | None = None
        # Cached per order: a redelivery costs no call, a new order of the customer counts anew.
        if CUSTOMER_TOTAL_SPENT in wanted:
            count, spent = self._history(customer.id, order.id, order.currency)
        else:
            count = self._count(customer.id, order.id)
        if order.financial_status not in _COUNTED:
            count += 1  # this order, not (yet) among the purchases
        changes: dict[str, Any] = {}
        if CUSTOMER_ORDERS_COUNT in wanted:
            changes["orders_count"] = count
        if CUSTOMER_TOTAL_SPENT in wanted:
            changes["total_spent"] = spent
        return replace(order, customer=replace(customer, **changes))

    def _params(self, customer_id: str, *, per_page: int, page: int = 1) -> dict[str, object]:
        return {
            "customer": customer_id,
            "status": ",".join(PURCHASE_STATUSES),
            "per_page": per_page,
            "page": page,
        }

    def _count(self, customer_id: str, order_id: str) -> int:
        key = ("count", customer_id, order_id)
        cached = self._cache.get(key)
        if cached is not _MISSING:
            return int(cached)
        answer = self._client.get("orders", params=self._params(customer_id, per_page=1))
        if answer.total is not None:
            count = answer.total
        else:  # no X-WP-Total (a proxy stripped it): count the long way
            count, _ = self._history(customer_id, order_id, None)
        self._cache.put(key, count)
        return count

    def _history(self, customer_id: str, order_id: str, currency: str | None) -> tuple[int, Money]:
        key = ("history", customer_id, order_id, currency)
        cached = self._cache.get(key)
        if cached is not _MISSING:
            count_c, spent_c = cached
            return int(count_c), spent_c
        total = Decimal(0)
        seen = 0
        page = 1
        reported: int | None = None
        while True:
            params = self._params(customer_id, per_page=_PAGE, page=page)
            params["_fields"] = "id,total,currency,refunds"
            answer = self._client.get("orders", params=params)
            items = answer.data if isinstance(answer.data, list) else []
            if reported is None:
                reported = answer.total
            for item in items:
                if not isinstance(item, Mapping):
                    continue
                seen += 1
                if currency is not None and str(item.get("currency", currency)).upper() != currency:
                    continue
                total += _dec(item.get("total")) - sum(
                    (abs(_dec(r.get("total"))) for r in _refunds(item)), Decimal(0)
                )
            if answer.last_page(page, len(items), _PAGE):
                break
            page += 1
        count = reported if reported is not None else seen
        result = (count, Money(total, currency or "XXX"))
        self._cache.put(key, result)
        self._cache.put(("count", customer_id, order_id), count)
        return result

    # -- product taxonomy -------------------------------------------------------------------

    def _lines(self, order: Order, wanted: frozenset[str]) -> Order:
        ids = sorted({li.product_id for li in order.line_items if li.product_id is not None})
        products = self._products(ids)
        items: list[LineItem] = []
        for li in order.line_items:
            cats, tags = products.get(li.product_id or "", ((), ()))
            changes: dict[str, Any] = {}
            if LINE_ITEMS_CATEGORIES in wanted and li.categories is None:
                changes["categories"] = cats
            if LINE_ITEMS_TAGS in wanted and li.tags is None:
                changes["tags"] = tags
            items.append(replace(li, **changes) if changes else li)
        return replace(order, line_items=tuple(items))

    def _products(self, ids: list[str]) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
        found: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
        todo: list[str] = []
        for pid in ids:
            cached = self._cache.get(("product", pid))
            if cached is _MISSING:
                todo.append(pid)
            else:
                found[pid] = cached
        for start in range(0, len(todo), _PAGE):
            chunk = todo[start : start + _PAGE]
            answer = self._client.get(
                "products",
                params={"include": ",".join(chunk), "per_page": len(chunk)},
            )
            items = answer.data if isinstance(answer.data, list) else []
            for item in items:
                if not isinstance(item, Mapping) or item.get("id") is None:
                    continue
                pid = str(item["id"])
                entry = (
                    _terms(item.get("categories"), "slug"),
                    tuple(html.unescape(t) for t in _terms(item.get("tags"), "name")),
                )
                found[pid] = entry
            for pid in chunk:
                # A product that no longer exists has no categories or tags.
                entry = found.setdefault(pid, ((), ()))
                self._cache.put(("product", pid), entry)
        return found


def _terms(value: object, key: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    out: list[str] = []
    for term in value:
        if isinstance(term, Mapping) and isinstance(term.get(key), str) and term[key].strip():
            text = term[key].strip()
            if text not in out:
                out.append(text)
    return tuple(out)


def _refunds(item: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    refunds = item.get("refunds")
    if not isinstance(refunds, list):
        return ()
    return [r for r in refunds if isinstance(r, Mapping)]


def _dec(value: object) -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "") else Decimal(0)
    except InvalidOperation:
        return Decimal(0)
