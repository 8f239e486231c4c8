"""Fault injection for the sandboxes: a share of 5xx, of 429 with Retry-After, latency, timeouts,
or a script of faults for the next N requests.

Draws are made from a seeded random generator, so a test run is repeatable. Thread-safe.
"""

from __future__ import annotations

import json
import random
import threading
from collections import deque
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .httpserver import Response

__all__ = ["FAULT_KINDS", "FaultPlan", "InjectedFault"]

#: What :meth:`FaultPlan.fail_next` accepts: a 503, a 429 with ``Retry-After``, a held connection.
FAULT_KINDS = ("5xx", "429", "timeout")
#: Fields that are records, not settings: :meth:`FaultPlan.update` refuses them.
_RECORDS = frozenset({"counts", "requests"})


@dataclass(frozen=True, slots=True)
class InjectedFault:
    response: Response | None = None
    latency: float = 0.0
    hang: float = 0.0


@dataclass
class FaultPlan:
    """Shares are probabilities in 0..1, drawn per request in this order: timeout, 5xx, 429.

    :meth:`fail_next` scripts faults that come before any share is drawn. The server draws once
    per API request (never for its control API), so ``requests`` counts the API requests.
    """

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
    #: API requests drawn for so far (faulted ones included).
    requests: int = 0

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()
        self._script: deque[str] = deque()
        self._always: str | None = None

    def fail_next(self, kind: str, count: int = 1, *, retry_after: float | None = None) -> None:
        """The next ``count`` API requests fail with ``kind`` (one of :data:`FAULT_KINDS`), after
        any already scripted; ``count`` < 0: every request until :meth:`clear_script`.
        ``retry_after`` sets the ``Retry-After`` of 429s; a timeout holds ``hang_seconds``."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; expected one of {', '.join(FAULT_KINDS)}")
        with self._lock:
            if retry_after is not None:
                self.retry_after = float(retry_after)
            if count < 0:
                self._always = kind
            else:
                self._script.extend([kind] * count)

    def clear_script(self) -> None:
        """Forget the faults scripted with :meth:`fail_next` (shares stay as they are)."""
        with self._lock:
            self._script.clear()
            self._always = None

    def update(self, **settings: Any) -> None:
        """Change settings at run time (from the control API); ``seed`` restarts the draws."""
        with self._lock:
            for key, value in settings.items():
                if key not in _SETTINGS:
                    raise ValueError(
                        f"unknown fault setting {key!r}; known: {', '.join(sorted(_SETTINGS))}"
                    )
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
                "requests": self.requests,
                "scripted": {"next": list(self._script), "always": self._always},
            }

    def draw(self) -> InjectedFault:
        with self._lock:
            self.requests += 1
            kind = self._script.popleft() if self._script else self._always
            if kind is None:
                kind = self._roll()
            if kind is None:
                return InjectedFault(latency=self.latency)
            self.counts[kind] += 1
            if kind == "timeout":
                return InjectedFault(latency=self.latency, hang=self.hang_seconds)
            return InjectedFault(self._response(kind), self.latency)

    def _roll(self) -> str | None:
        roll = self._rng.random()
        for kind, share in (
            ("timeout", self.timeout),
            ("5xx", self.error_5xx),
            ("429", self.rate_429),
        ):
            if roll < share:
                return kind
            roll -= share
        return None

    def _response(self, kind: str) -> Response:
        from .httpserver import Response

        if kind == "5xx":
            body = json.dumps(self.error_body).encode()
            return Response(503, body, [("Content-Type", "application/json")])
        body = json.dumps(self.throttle_body).encode()
        headers = [
            ("Content-Type", "application/json"),
            ("Retry-After", f"{self.retry_after:.1f}"),
        ]
        return Response(429, body, headers)


_SETTINGS = frozenset(f.name for f in fields(FaultPlan)) - _RECORDS
