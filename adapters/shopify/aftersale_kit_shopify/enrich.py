"""A short-lived cache of enrichment reads, keyed by (shop, order id).

A webhook burst for one order (``orders/create``, ``orders/paid``, a redelivery) asks for the same
customer and product facts within seconds; the cache answers those without a call. It keeps
what each read learnt and which fields it covered, so a later request for more fields fetches
only the missing ones. Entries expire after ``ttl`` seconds; the oldest are dropped beyond
``max_entries``. Thread-safe.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from .mapping import Enrichment

__all__ = ["EnrichmentCache"]


class EnrichmentCache:
    def __init__(
        self,
        *,
        ttl: float = 60.0,
        max_entries: int = 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, str], tuple[float, Enrichment]] = OrderedDict()

    def get(self, shop: str, order_id: str) -> Enrichment | None:
        """A copy of what is known and fresh for the order, or ``None``."""
        if self.ttl <= 0:
            return None
        key = (shop, order_id)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            stored_at, facts = entry
            if self._clock() - stored_at > self.ttl:
                del self._entries[key]
                return None
            copy = Enrichment()
            copy.merge(facts)
            return copy

    def put(self, shop: str, order_id: str, facts: Enrichment) -> None:
        """Merge ``facts`` into the order's entry, which keeps its age (nothing outlives ttl)."""
        if self.ttl <= 0:
            return
        key = (shop, order_id)
        now = self._clock()
        with self._lock:
            entry = self._entries.pop(key, None)
            merged = Enrichment()
            stored_at = now
            if entry is not None and now - entry[0] <= self.ttl:
                merged.merge(entry[1])
                stored_at = entry[0]
            merged.merge(facts)
            self._entries[key] = (stored_at, merged)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
