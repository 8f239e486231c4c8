"""Webhook delivery for the sandboxes: a background sender with retries, duplicates and reordering.

Each sandbox builds the platform's headers and signature and decides its retry policy (Shopify
retries with back-off; WooCommerce never retries) and what a failure does to the subscription
(both platforms disable or delete it after consecutive failures). The bytes signed are the bytes
sent.
"""

from __future__ import annotations

import heapq
import http.client
import itertools
import random
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

__all__ = ["Attempt", "Delivery", "WebhookSender"]


@dataclass(slots=True)
class Attempt:
    at: float
    status: int | None
    error: str | None
    seconds: float


@dataclass(slots=True)
class Delivery:
    id: str
    subscription_id: str
    url: str
    topic: str
    headers: dict[str, str]
    body: bytes
    attempts: list[Attempt] = field(default_factory=list)
    #: pending, delivered, failed (no attempts left) or cancelled (see ``WebhookSender.cancel``).
    state: str = "pending"
    duplicate_of: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "subscription_id": self.subscription_id,
            "url": self.url,
            "topic": self.topic,
            "headers": dict(self.headers),
            "body": self.body.decode("utf-8", errors="replace"),
            "state": self.state,
            "duplicate_of": self.duplicate_of,
            "attempts": [
                {"at": a.at, "status": a.status, "error": a.error, "seconds": a.seconds}
                for a in self.attempts
            ],
        }


class WebhookSender:
    """Delivers :class:`Delivery` objects in a background thread.

    ``retry_delays``: seconds before each retry (empty: no retries). ``is_success`` decides from
    the status code. ``on_result(delivery, ok)`` runs after every attempt (failure counting).
    ``duplicate`` is the share of deliveries sent twice; ``reorder_window`` delays each delivery
    by a random 0..window seconds so that deliveries overtake each other. ``ssl_context`` is used
    for ``https`` receivers (e.g. one trusting a test CA); default: the system's trust store.
    """

    def __init__(
        self,
        *,
        retry_delays: Sequence[float] = (),
        timeout: float = 5.0,
        is_success: Callable[[int], bool] = lambda status: 200 <= status < 300,
        on_result: Callable[[Delivery, bool], None] | None = None,
        duplicate: float = 0.0,
        reorder_window: float = 0.0,
        seed: int = 0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.retry_delays = list(retry_delays)
        self.ssl_context = ssl_context
        self.timeout = timeout
        self.is_success = is_success
        self.on_result = on_result
        self.duplicate = duplicate
        self.reorder_window = reorder_window
        self._rng = random.Random(seed)
        self._queue: list[tuple[float, int, Delivery]] = []
        self._seq = itertools.count()
        self._all: list[Delivery] = []
        self._lock = threading.Condition()
        self._in_flight = 0
        self._stopping = False
        self._thread: threading.Thread | None = None

    # -- control ----------------------------------------------------------------------------

    def start(self) -> WebhookSender:
        if self._thread is None:
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="webhook-sender", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            self._lock.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout + 2)
            self._thread = None

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
            self._all.clear()

    def configure(
        self,
        *,
        duplicate: float | None = None,
        reorder_window: float | None = None,
        retry_delays: Sequence[float] | None = None,
    ) -> None:
        with self._lock:
            if duplicate is not None:
                self.duplicate = duplicate
            if reorder_window is not None:
                self.reorder_window = reorder_window
            if retry_delays is not None:
                self.retry_delays = list(retry_delays)

    # -- use --------------------------------------------------------------------------------

    def send(self, delivery: Delivery, *, delay: float = 0.0) -> None:
        """Queue ``delivery`` (first attempt after ``delay`` seconds, plus any reorder jitter)."""
        with self._lock:
            copies = [delivery]
            if self.duplicate and self._rng.random() < self.duplicate:
                twin = Delivery(
                    id=delivery.id + "-dup",
                    subscription_id=delivery.subscription_id,
                    url=delivery.url,
                    topic=delivery.topic,
                    headers=dict(delivery.headers),
                    body=delivery.body,
                    duplicate_of=delivery.id,
                )
                copies.append(twin)
            now = time.monotonic() + max(0.0, delay)
            for copy in copies:
                self._all.append(copy)
                jitter = self._rng.uniform(0, self.reorder_window) if self.reorder_window else 0.0
                heapq.heappush(self._queue, (now + jitter, next(self._seq), copy))
            self._lock.notify_all()

    def cancel(self, predicate: Callable[[Delivery], bool]) -> int:
        """Drop queued deliveries (first tries and retries) matching ``predicate``.

        They end in state ``cancelled``; an attempt already in flight finishes. Returns how many
        were dropped.
        """
        with self._lock:
            keep = [entry for entry in self._queue if not predicate(entry[2])]
            dropped = [entry[2] for entry in self._queue if predicate(entry[2])]
            for delivery in dropped:
                delivery.state = "cancelled"
            self._queue[:] = keep
            heapq.heapify(self._queue)
            self._lock.notify_all()
            return len(dropped)

    def deliveries(self) -> list[Delivery]:
        with self._lock:
            return list(self._all)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until nothing is queued or in flight (retries pending count as queued)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._queue or self._in_flight:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(min(left, 0.05))
            return True

    # -- worker -----------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._stopping and (
                    not self._queue or self._queue[0][0] > time.monotonic()
                ):
                    wait = self._queue[0][0] - time.monotonic() if self._queue else 0.1
                    self._lock.wait(max(0.001, min(wait, 0.1)))
                if self._stopping:
                    return
                _, _, delivery = heapq.heappop(self._queue)
                self._in_flight += 1
            try:
                ok = self._attempt(delivery)
            finally:
                with self._lock:
                    self._in_flight -= 1
                    retries_done = len(delivery.attempts) - 1
                    if ok:
                        delivery.state = "delivered"
                    elif delivery.state == "cancelled":
                        pass
                    elif retries_done < len(self.retry_delays):
                        due = time.monotonic() + self.retry_delays[retries_done]
                        heapq.heappush(self._queue, (due, next(self._seq), delivery))
                    else:
                        delivery.state = "failed"
                    self._lock.notify_all()
            if self.on_result is not None:
                self.on_result(delivery, ok)

    def _attempt(self, delivery: Delivery) -> bool:
        started = time.monotonic()
        status: int | None = None
        error: str | None = None
        parts = urlsplit(delivery.url)
        conn: http.client.HTTPConnection
        if parts.scheme == "https":
            conn = http.client.HTTPSConnection(
                parts.hostname or "127.0.0.1",
                parts.port,
                timeout=self.timeout,
                context=self.ssl_context,
            )
        else:
            conn = http.client.HTTPConnection(
                parts.hostname or "127.0.0.1", parts.port, timeout=self.timeout
            )
        try:
            path = parts.path or "/"
            if parts.query:
                path += "?" + parts.query
            conn.request("POST", path, body=delivery.body, headers=delivery.headers)
            response = conn.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            error = f"{type(exc).__name__}: {exc}"
        finally:
            conn.close()
        elapsed = time.monotonic() - started
        # A receiver slower than the timeout failed, whatever it answered in the end.
        ok = status is not None and self.is_success(status) and elapsed <= self.timeout
        delivery.attempts.append(Attempt(time.time(), status, error, elapsed))
        return ok
