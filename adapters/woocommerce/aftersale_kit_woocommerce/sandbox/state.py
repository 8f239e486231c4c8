"""The sandbox store's data: orders, products, terms, coupons, notes, refunds, webhooks.

Records are kept in their REST shape (plain dicts in WooCommerce's key order) so that what goes
in as a vendor payload comes back out the same. One re-entrant lock guards everything; the
route and control code takes it for each operation. Events (``("order", "updated", 727)``) go
to :attr:`Store.emit`, which the webhook dispatcher listens on.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .values import DATE_FORMAT

__all__ = ["Clock", "OrderRecord", "SiteSettings", "Store", "WebhookRecord"]


class Clock:
    """Unix time plus an adjustable skew (to test timestamp windows without waiting)."""

    def __init__(self, source: Callable[[], float] = time.time, *, utc_offset: float = 0.0):
        self._source = source
        self.skew = 0.0
        #: The site's timezone as hours east of UTC (dates "without offset" are in it).
        self.utc_offset = utc_offset

    def time(self) -> float:
        return self._source() + self.skew

    def now_gmt(self) -> datetime:
        return datetime.fromtimestamp(int(self.time()), UTC).replace(tzinfo=None)

    def stamps(self) -> tuple[str, str]:
        """``(site-local, GMT)`` for now, formatted as WooCommerce returns dates."""
        gmt = self.now_gmt()
        return self.local(gmt).strftime(DATE_FORMAT), gmt.strftime(DATE_FORMAT)

    def local(self, gmt: datetime) -> datetime:
        return gmt + timedelta(hours=self.utc_offset)


@dataclass
class SiteSettings:
    """What ``get_option()`` and the version constants would return on the emulated site."""

    home_url: str = "http://127.0.0.1"
    wc_version: str = "9.6.0"
    wp_version: str = "6.7.1"
    currency: str = "USD"
    currency_symbol: str = "$"
    #: WordPress 6.7+ adds ``targetHints.allow`` to every ``self`` link.
    target_hints: bool = True


@dataclass
class OrderRecord:
    data: dict[str, Any]
    #: Whether ``_links.self`` carries ``targetHints`` (kept from the payload it was loaded from).
    target_hints: bool = True
    refunds: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class WebhookRecord:
    id: int
    name: str
    status: str
    topic: str
    delivery_url: str
    secret: str
    date_created: tuple[str, str]
    date_modified: tuple[str, str]
    failure_count: int = 0
    pending_delivery: bool = True
    user_id: int = 1
    api_version: int = 3

    @property
    def resource(self) -> str:
        return self.topic.split(".", 1)[0] if self.topic else ""

    @property
    def event(self) -> str:
        return self.topic.split(".", 1)[1] if "." in self.topic else ""


class Store:
    """All records of one sandbox. Ids: one counter for posts (orders, coupons, products,
    refunds), one each for terms, comments (notes), order items, meta rows and webhooks."""

    def __init__(self, clock: Clock, site: SiteSettings, *, seed: int = 0) -> None:
        self.clock = clock
        self.site = site
        #: Seeded randomness (order keys), so that a run is repeatable.
        self.rng = random.Random(seed)
        self.lock = threading.RLock()
        self.emit: Callable[[str, str, int], None] = lambda resource, event, rid: None
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.orders: dict[int, OrderRecord] = {}
            self.coupons: dict[int, dict[str, Any]] = {}
            self.products: dict[int, dict[str, Any]] = {}
            self.categories: dict[int, dict[str, Any]] = {}
            self.tags: dict[int, dict[str, Any]] = {}
            self.notes: dict[int, list[dict[str, Any]]] = {}
            self.webhooks: dict[int, WebhookRecord] = {}
            self.customers: dict[int, str] = {}
            #: A customer's user meta rows (``{"id", "key", "value"}``), by customer id.
            self.customer_meta: dict[int, list[dict[str, Any]]] = {}
            #: Every order save that ran ``calculate_totals(true)``: what triggered it and when.
            self.recalculations: list[dict[str, Any]] = []
            #: Customer notes, i.e. the "Customer note" emails WooCommerce would have sent.
            self.customer_emails: list[dict[str, Any]] = []
            self._post_ids = _Sequence(1000)
            self._term_ids = _Sequence(100)
            self._comment_ids = _Sequence(500)
            self._item_ids = _Sequence(1000)
            self._meta_ids = _Sequence(20000)
            self._webhook_ids = _Sequence(1)

    # -- ids --------------------------------------------------------------------------------

    def new_post_id(self) -> int:
        refund_ids = {r["id"] for o in self.orders.values() for r in o.refunds}
        return self._post_ids.next_free(
            lambda i: i in self.orders or i in self.coupons or i in self.products or i in refund_ids
        )

    def new_term_id(self) -> int:
        return self._term_ids.next_free(lambda i: i in self.categories or i in self.tags)

    def new_comment_id(self) -> int:
        used = {n["id"] for notes in self.notes.values() for n in notes}
        return self._comment_ids.next_free(lambda i: i in used)

    def new_item_id(self) -> int:
        return self._item_ids.next_free(lambda i: False)

    def new_meta_id(self) -> int:
        return self._meta_ids.next_free(lambda i: False)

    def new_webhook_id(self) -> int:
        return self._webhook_ids.next_free(lambda i: i in self.webhooks)

    def reserve_ids(self, *, items: int = 0, meta: int = 0) -> None:
        """Move the item/meta counters past ids seen in a loaded payload."""
        self._item_ids.skip_past(items)
        self._meta_ids.skip_past(meta)


class _Sequence:
    def __init__(self, start: int) -> None:
        self._next = start

    def next_free(self, taken: Callable[[int], bool]) -> int:
        while taken(self._next):
            self._next += 1
        value = self._next
        self._next += 1
        return value

    def skip_past(self, value: int) -> None:
        self._next = max(self._next, value + 1)
