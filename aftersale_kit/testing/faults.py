"""Fault injection for the sandboxes: a share of 5xx, of 429 with Retry-After, latency, timeouts.

Draws are made from a seeded random generator, so a test run is repeatable. Thread-safe.
"""

from __future__ import annotations

import json
import random
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .httpserver import Response

__all__ = ["FaultPlan", "InjectedFault"]


@dataclass(frozen=True, slots=True)
class InjectedFault:
    response: Response | None = None
    latency: float = 0.0
    hang: float = 0.0


@dataclass
class FaultPlan:
    """Shares are probabilities in 0..1, drawn per request in this order: timeout, 5xx, 429."""

    error_5xx: float = 0.0
    rate_429: float = 0.0
    #: Seconds sent in ``Retry-After`` with a 429 (Shopify sends a float string such as "2.0").
    retry_after: float = 1.0
    timeout: float = 0.0
    #: How long a "timeout" holds the connection before closing it without an answer.
    hang_seconds: float = 2.0
    latency: float = 0.0
    seed: int = 0
    #: Body of an injected 5xx / 429 (platform-shaped); set by each sandbox.
    error_body: dict[str, Any] = field(default_factory=lambda: {"errors": "Internal Server Error"})
    throttle_body: dict[str, Any] = field(
        default_factory=lambda: {"errors": "Exceeded 2 calls per second for api client."}
    )
    counts: dict[str, int] = field(default_factory=lambda: {"5xx": 0, "429": 0, "timeout": 0})

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()

    def update(self, **settings: Any) -> None:
        """Change settings at run time (from the control API); ``seed`` restarts the draws."""
        with self._lock:
            for key, value in settings.items():
                if not hasattr(self, key) or key.startswith("_") or key == "counts":
                    raise ValueError(f"unknown fault setting {key!r}")
                setattr(self, key, type(getattr(self, key))(value))
            if "seed" in settings:
                self._rng = random.Random(self.seed)

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            return {
                "error_5xx": self.error_5xx,
                "rate_429": self.rate_429,
                "retry_after": self.retry_after,
                "timeout": self.timeout,
                "hang_seconds": self.hang_seconds,
                "latency": self.latency,
                "seed": self.seed,
                "counts": dict(self.counts),
            }

    def draw(self) -> InjectedFault:
        from .httpserver import Response

        with self._lock:
            roll = self._rng.random()
            if roll < self.timeout:
                self.counts["timeout"] += 1
                return InjectedFault(latency=self.latency, hang=self.hang_seconds)
            roll -= self.timeout
            if roll < self.error_5xx:
                self.counts["5xx"] += 1
                body = json.dumps(self.error_body).encode()
                return InjectedFault(
                    Response(503, body, [("Content-Type", "application/json")]), self.latency
                )
            roll -= self.error_5xx
            if roll < self.rate_429:
                self.counts["429"] += 1
                body = json.dumps(self.throttle_body).encode()
                headers = [
                    ("Content-Type", "application/json"),
                    ("Retry-After", f"{self.retry_after:.1f}"),
                ]
                return InjectedFault(Response(429, body, headers), self.latency)
            return InjectedFault(latency=self.latency)
