"""A per-shop send rate: one token bucket per shop, on an injected clock.

A bucket holds up to ``capacity`` tokens (by default a minute's worth) and refills at
``rate_per_minute``. Taking a token either succeeds or says how long until the next one; nothing
here sleeps, the caller turns the wait into a retry time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["SendRateLimiter", "TokenBucket"]


@dataclass
class TokenBucket:
    rate_per_minute: int
    capacity: float
    tokens: float
    updated: float

    def take(self, now: float) -> float:
        """Take a token: ``0.0`` when one was there, else the seconds until there is one."""
        per_second = self.rate_per_minute / 60.0
        if now > self.updated:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * per_second)
            self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / per_second


class SendRateLimiter:
    """The buckets of all shops. ``clock`` returns seconds (monotonic); thread-safe."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()

    def acquire(self, shop: str, rate_per_minute: int, *, burst: int | None = None) -> float:
        """Take one send for ``shop``: ``0.0`` to go now, else seconds to wait (nothing taken).

        A changed rate (the config was reloaded) replaces the shop's bucket.
        """
        if rate_per_minute < 1:
            raise ValueError("rate_per_minute must be at least 1")
        capacity = float(burst if burst is not None else rate_per_minute)
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(shop)
            if bucket is None or bucket.rate_per_minute != rate_per_minute:
                bucket = TokenBucket(rate_per_minute, capacity, capacity, now)
                self._buckets[shop] = bucket
            return bucket.take(now)
