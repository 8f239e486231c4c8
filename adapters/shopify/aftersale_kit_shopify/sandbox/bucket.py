"""The GraphQL Admin API's leaky bucket (one per shop and app).

Shopify: every query's calculated cost is taken from the bucket before it runs and the difference
between requested and actual cost is given back afterwards; the bucket refills continuously at
``restoreRate`` points per second up to ``maximumAvailable`` (Standard plan: 2000 / 100).
(shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits)
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["LeakyBucket"]


class LeakyBucket:
    def __init__(
        self,
        *,
        maximum_available: float = 2000.0,
        restore_rate: float = 100.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if maximum_available <= 0 or restore_rate <= 0:
            raise ValueError("maximum_available and restore_rate must be positive")
        self._clock = clock
        self._lock = threading.Lock()
        self.maximum_available = float(maximum_available)
        self.restore_rate = float(restore_rate)
        self._available = float(maximum_available)
        self._stamp = clock()

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._stamp)
        self._stamp = now
        self._available = min(self.maximum_available, self._available + elapsed * self.restore_rate)

    def try_take(self, cost: float) -> bool:
        """Take ``cost`` points if that many are available; ``False`` (nothing taken) otherwise."""
        with self._lock:
            self._refill()
            if cost > self._available:
                return False
            self._available -= cost
            return True

    def give_back(self, points: float) -> None:
        with self._lock:
            self._refill()
            self._available = min(self.maximum_available, self._available + max(0.0, points))

    def seconds_until(self, cost: float) -> float:
        """How long until ``cost`` points are available: ``(cost - available) / restoreRate``."""
        with self._lock:
            self._refill()
            missing = cost - self._available
            return max(0.0, missing / self.restore_rate)

    def retry_after(self, cost: float) -> str:
        """``Retry-After`` as Shopify sends it: a float string, rounded up to a tenth."""
        seconds = max(0.1, math.ceil(self.seconds_until(cost) * 10) / 10)
        return f"{seconds:.1f}"

    def status(self) -> dict[str, Any]:
        """``throttleStatus`` as Shopify reports it (floats for the limits, a whole number left)."""
        with self._lock:
            self._refill()
            return {
                "maximumAvailable": self.maximum_available,
                "currentlyAvailable": int(self._available),
                "restoreRate": self.restore_rate,
            }

    def configure(
        self,
        *,
        maximum_available: float | None = None,
        restore_rate: float | None = None,
        currently_available: float | None = None,
    ) -> None:
        with self._lock:
            self._refill()
            if maximum_available is not None:
                if maximum_available <= 0:
                    raise ValueError("maximum_available must be positive")
                self.maximum_available = float(maximum_available)
                self._available = min(self._available, self.maximum_available)
            if restore_rate is not None:
                if restore_rate <= 0:
                    raise ValueError("restore_rate must be positive")
                self.restore_rate = float(restore_rate)
            if currently_available is not None:
                self._available = max(0.0, min(float(currently_available), self.maximum_available))

    def reset(self) -> None:
        with self._lock:
            self._available = self.maximum_available
            self._stamp = self._clock()
