"""Webhook delivery as Shopify does it, on top of the shared :class:`WebhookSender`.

- Headers (shopify.dev/docs/apps/build/webhooks/delivery-structure): ``X-Shopify-Topic``,
  ``X-Shopify-Hmac-Sha256`` (base64 HMAC-SHA256 of the exact body bytes, keyed with the app's
  client secret), ``X-Shopify-Shop-Domain``, ``X-Shopify-API-Version``, ``X-Shopify-Webhook-Id``
  (one per delivery), ``X-Shopify-Event-Id`` (shared by every delivery one merchant action
  causes) and ``X-Shopify-Triggered-At``.
- Body: the REST-shaped resource as compact JSON (ids as JSON numbers), serialised once; retries
  resend the same bytes and headers (shopify.dev/changelog/updates-to-webhook-retry-mechanism:
  "delivered with the original payload from the time they were triggered").
- Retries: 8 tries in all over 4 hours with exponential back-off; 5 s per try; any non-2xx answer
  (3xx included) or a timeout is a failure. ``time_scale`` shrinks the schedule for tests.
- A subscription created through the API is deleted after 8 consecutive failed tries; one
  declared in the app's configuration (``source="app"``) is kept.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import ssl
import threading
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from aftersale_kit.testing.webhooks import Delivery, WebhookSender

from .orders import LEGACY_CUSTOMER_FIELDS, Event
from .state import ShopState, SubscriptionRecord

__all__ = ["RETRY_SCHEDULE", "ShopifyWebhooks", "sign"]

#: Seconds before each retry: doubling gaps that add up to 4 hours (Shopify does not publish the
#: exact schedule; "8 times over 4 hours using an exponential backoff schedule").
RETRY_SCHEDULE: tuple[float, ...] = tuple(14400 / 127 * 2**i for i in range(7))


def sign(body: bytes, secret: str) -> str:
    """``X-Shopify-Hmac-Sha256``: base64 of the HMAC-SHA256 digest of ``body``."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def _triggered_at() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def serialise(body: dict[str, Any], subscription: SubscriptionRecord) -> bytes:
    """The bytes Shopify would send for ``body`` on ``subscription``'s API version."""
    payload = body
    if subscription.api_version >= "2022-07" and isinstance(body.get("customer"), dict):
        customer = {k: v for k, v in body["customer"].items() if k not in LEGACY_CUSTOMER_FIELDS}
        payload = {**body, "customer": customer}
    if subscription.include_fields:
        payload = {k: v for k, v in payload.items() if k in subscription.include_fields}
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class ShopifyWebhooks:
    def __init__(
        self,
        state: ShopState,
        *,
        secret: str,
        time_scale: float = 1.0,
        timeout: float = 5.0,
        max_attempts: int = 8,
        delete_after_failures: int = 8,
        duplicate: float = 0.0,
        reorder_window: float = 0.0,
        drop: float = 0.0,
        delay: float = 0.0,
        seed: int = 0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.state = state
        self.secret = secret
        self.time_scale = time_scale
        self.max_attempts = max_attempts
        self.delete_after_failures = delete_after_failures
        self.drop = drop
        self.delay = delay
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._dropped: list[Delivery] = []
        #: Subscriptions removed after consecutive failures (what Shopify emails the developer).
        self.deleted_subscriptions: list[dict[str, Any]] = []
        self.sender = WebhookSender(
            retry_delays=self._retry_delays(),
            timeout=timeout,
            on_result=self._on_result,
            duplicate=duplicate,
            reorder_window=reorder_window,
            seed=seed,
            ssl_context=ssl_context,
        )

    def _retry_delays(self) -> list[float]:
        delays = [d * self.time_scale for d in RETRY_SCHEDULE]
        while len(delays) < self.max_attempts - 1:
            delays.append(delays[-1] * 2 if delays else self.time_scale)
        return delays[: self.max_attempts - 1]

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        self.sender.start()

    def stop(self) -> None:
        self.sender.stop()

    def reset(self) -> None:
        self.sender.cancel(lambda d: True)
        self.sender.reset()
        with self._lock:
            self._dropped.clear()
            self.deleted_subscriptions.clear()

    def configure(
        self,
        *,
        duplicate: float | None = None,
        reorder_window: float | None = None,
        drop: float | None = None,
        delay: float | None = None,
        time_scale: float | None = None,
        timeout: float | None = None,
        max_attempts: int | None = None,
        delete_after_failures: int | None = None,
    ) -> None:
        with self._lock:
            if drop is not None:
                self.drop = drop
            if delay is not None:
                self.delay = delay
            if time_scale is not None:
                self.time_scale = time_scale
            if max_attempts is not None:
                if max_attempts < 1:
                    raise ValueError("max_attempts must be at least 1")
                self.max_attempts = max_attempts
            if delete_after_failures is not None:
                self.delete_after_failures = delete_after_failures
            if timeout is not None:
                self.sender.timeout = timeout
        self.sender.configure(
            duplicate=duplicate,
            reorder_window=reorder_window,
            retry_delays=self._retry_delays(),
        )

    def settings(self) -> dict[str, Any]:
        return {
            "duplicate": self.sender.duplicate,
            "reorder_window": self.sender.reorder_window,
            "drop": self.drop,
            "delay": self.delay,
            "time_scale": self.time_scale,
            "timeout": self.sender.timeout,
            "max_attempts": self.max_attempts,
            "delete_after_failures": self.delete_after_failures,
            "retry_delays": list(self.sender.retry_delays),
        }

    # -- delivery -----------------------------------------------------------------------------

    def emit(self, events: Iterable[Event]) -> list[Delivery]:
        """Deliver the events of one merchant action to every matching subscription."""
        event_id = str(uuid.uuid4())
        triggered_at = _triggered_at()
        sent: list[Delivery] = []
        with self.state.lock:
            subscriptions = list(self.state.subscriptions.values())
            domain = self.state.domain
        for event in events:
            for subscription in subscriptions:
                if subscription.topic != event.topic:
                    continue
                body = serialise(event.body, subscription)
                delivery = Delivery(
                    id=str(uuid.uuid4()),
                    subscription_id=str(subscription.id),
                    url=subscription.uri,
                    topic=event.topic,
                    headers={
                        "Content-Type": "application/json",
                        "User-Agent": "Shopify-Captain-Hook",
                        "Accept": "*/*",
                        "X-Shopify-Topic": event.topic,
                        "X-Shopify-Hmac-Sha256": sign(body, self.secret),
                        "X-Shopify-Shop-Domain": domain,
                        "X-Shopify-API-Version": subscription.api_version,
                        "X-Shopify-Webhook-Id": "",
                        "X-Shopify-Event-Id": event_id,
                        "X-Shopify-Triggered-At": triggered_at,
                    },
                    body=body,
                )
                delivery.headers["X-Shopify-Webhook-Id"] = delivery.id
                with self._lock:
                    dropped = bool(self.drop) and self._rng.random() < self.drop
                    if dropped:
                        delivery.state = "dropped"
                        self._dropped.append(delivery)
                    delay = self.delay
                if not dropped:
                    self.sender.send(delivery, delay=delay)
                sent.append(delivery)
        return sent

    def _on_result(self, delivery: Delivery, ok: bool) -> None:
        with self.state.lock:
            subscription = self.state.subscriptions.get(int(delivery.subscription_id))
            if subscription is None:
                return
            if ok:
                subscription.consecutive_failures = 0
                return
            subscription.consecutive_failures += 1
            if (
                subscription.source == "api"
                and subscription.consecutive_failures >= self.delete_after_failures
            ):
                del self.state.subscriptions[subscription.id]
                with self._lock:
                    self.deleted_subscriptions.append(
                        {
                            **subscription.as_dict(),
                            "reason": f"{subscription.consecutive_failures} consecutive failures",
                        }
                    )
                sid = delivery.subscription_id
                self.sender.cancel(lambda d: d.subscription_id == sid)

    # -- inspection ---------------------------------------------------------------------------

    def deliveries(self) -> list[Delivery]:
        with self._lock:
            dropped = list(self._dropped)
        return self.sender.deliveries() + dropped

    def wait_idle(self, timeout: float = 10.0) -> bool:
        return self.sender.wait_idle(timeout)
