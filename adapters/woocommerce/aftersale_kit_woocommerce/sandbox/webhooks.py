"""WooCommerce webhook delivery: topics, queueing, payload at send time, headers, failures, ping.

Source: woocommerce/woocommerce ``includes/class-wc-webhook.php`` and
``includes/wc-webhook-functions.php``.

* A hook queues a delivery for every **active** webhook of the topic (orders in
  ``checkout-draft``, ``auto-draft`` or ``new`` are skipped). Within one request a resource is
  queued at most once per webhook; while a queued delivery for the same webhook and resource is
  still waiting, no second one is queued (bursts coalesce, intermediate states are missed).
* The payload is built **when the delivery runs** (the REST response of the resource as the
  webhook's owner; ``{"id": N}`` for ``deleted``), encoded as ``trim(wp_json_encode())`` and
  signed ``base64(hmac_sha256(body, secret))`` over exactly the bytes sent.
* Headers: ``X-WC-Webhook-Source`` (``home_url('/')``), ``-Topic``, ``-Resource``, ``-Event``,
  ``-Signature``, ``-ID``, ``-Delivery-ID`` (``wp_hash(id . time())``: deliveries of one webhook
  in the same second share it) and ``User-Agent: WooCommerce/X Hookshot (WordPress/Y)``.
* No retries. Success is a status in 200..302; a success resets the failure count; a failure
  disables the webhook when the count is already above ``max_failures`` (default 5, the
  ``woocommerce_max_webhook_delivery_failures`` filter), else increments it: the 7th consecutive
  failure disables it.
* The ping on creation is a form POST ``webhook_id=<id>`` with no ``X-WC-*`` headers and no
  signature, sent synchronously; only exactly 200 counts as success, and the result never
  changes the webhook (REST creation ignores it).
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import hmac
import http.client
import itertools
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aftersale_kit.testing.webhooks import Attempt, Delivery, WebhookSender

from . import phpjson
from .state import SiteSettings, Store, WebhookRecord

__all__ = ["VALID_TOPICS", "WebhookDispatcher", "WebhookOptions", "signature"]

RESOURCES = ("coupon", "customer", "order", "product")
EVENTS = ("created", "updated", "deleted", "restored")
VALID_TOPICS = tuple(f"{r}.{e}" for r in RESOURCES for e in EVENTS)
TOPIC_HOOKS: dict[str, list[str]] = {
    "coupon.created": ["woocommerce_process_shop_coupon_meta", "woocommerce_new_coupon"],
    "coupon.updated": ["woocommerce_process_shop_coupon_meta", "woocommerce_update_coupon"],
    "coupon.deleted": ["wp_trash_post"],
    "coupon.restored": ["untrashed_post"],
    "customer.created": [
        "user_register",
        "woocommerce_created_customer",
        "woocommerce_new_customer",
    ],
    "customer.updated": ["profile_update", "woocommerce_update_customer"],
    "customer.deleted": ["delete_user"],
    "customer.restored": [],
    "order.created": ["woocommerce_new_order"],
    "order.updated": [
        "woocommerce_update_order",
        "woocommerce_order_refunded",
        "woocommerce_delete_order_refund",
    ],
    "order.deleted": ["wp_trash_post", "woocommerce_trash_order"],
    "order.restored": ["untrashed_post", "woocommerce_untrash_order"],
    "product.created": [
        "woocommerce_process_product_meta",
        "woocommerce_new_product",
        "woocommerce_new_product_variation",
    ],
    "product.updated": [
        "woocommerce_process_product_meta",
        "woocommerce_update_product",
        "woocommerce_update_product_variation",
    ],
    "product.deleted": ["wp_trash_post"],
    "product.restored": ["untrashed_post"],
}
_SKIPPED_ORDER_STATUSES = ("checkout-draft", "auto-draft", "new")


def is_valid_topic(topic: str) -> bool:
    """``wc_is_webhook_valid_topic``: a core topic or ``action.<hook>``."""
    return topic in VALID_TOPICS or (topic.startswith("action.") and len(topic) > 7)


def hooks_for(topic: str) -> list[str]:
    if topic.startswith("action."):
        return [topic[7:]]
    return list(TOPIC_HOOKS.get(topic, []))


def _specialchars_decode(secret: str) -> str:
    """``wp_specialchars_decode($secret, ENT_QUOTES)``: what the HMAC is keyed with."""
    for entity, char in (
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&quot;", '"'),
        ("&#039;", "'"),
        ("&#39;", "'"),
        ("&amp;", "&"),
    ):
        secret = secret.replace(entity, char)
    return secret


def signature(body: bytes, secret: str, algorithm: str = "sha256") -> str:
    """``X-WC-Webhook-Signature`` for ``body``."""
    key = _specialchars_decode(secret).encode("utf-8")
    return base64.b64encode(hmac.new(key, body, getattr(hashlib, algorithm)).digest()).decode()


def _user_agent(site: SiteSettings) -> str:
    return f"WooCommerce/{site.wc_version} Hookshot (WordPress/{site.wp_version})"


@dataclass
class WebhookOptions:
    """How the emulated store delivers. Change at run time through the control API."""

    #: A checkout-created order also fires ``order.updated`` with the same data (#19764).
    created_also_updated: bool = True
    #: ``order.updated`` deliveries per change, drawn from this range (#20047 sees 2-4).
    updated_repeats: tuple[int, int] = (1, 1)
    #: Seconds a queued delivery waits before it runs (Action Scheduler lag).
    delay: float = 0.0
    #: While a delivery for (webhook, resource) waits out ``delay``, no second one is queued.
    coalesce: bool = True
    #: ``woocommerce_max_webhook_delivery_failures``.
    max_failures: int = 5
    #: Seconds before a delivery counts as failed (WooCommerce uses 60).
    timeout: float = 10.0
    #: Seconds the creation ping waits for the receiver.
    ping_timeout: float = 5.0
    #: ``woocommerce_webhook_hash_algorithm``.
    hash_algorithm: str = "sha256"
    #: Whether the creation ping is sent at all.
    ping: bool = True

    def update(self, **settings: Any) -> None:
        for key, value in settings.items():
            if key.startswith("_") or not hasattr(self, key):
                raise ValueError(f"unknown webhook option {key!r}")
            if key == "updated_repeats":
                low, high = (value, value) if isinstance(value, int) else tuple(value)
                if not 1 <= int(low) <= int(high):
                    raise ValueError("updated_repeats must be 1 <= low <= high")
                value = (int(low), int(high))
            elif key == "hash_algorithm" and value not in hashlib.algorithms_guaranteed:
                raise ValueError(f"unknown hash algorithm {value!r}")
            else:
                value = type(getattr(self, key))(value)
            setattr(self, key, value)

    def as_dict(self) -> dict[str, Any]:
        return {
            "created_also_updated": self.created_also_updated,
            "updated_repeats": list(self.updated_repeats),
            "delay": self.delay,
            "coalesce": self.coalesce,
            "max_failures": self.max_failures,
            "timeout": self.timeout,
            "ping_timeout": self.ping_timeout,
            "hash_algorithm": self.hash_algorithm,
            "ping": self.ping,
        }


@dataclass
class _Action:
    due: float
    seq: int
    webhook_id: int
    resource_id: int
    coalescing: bool


PayloadBuilder = Callable[[WebhookRecord, int], Any]


class WebhookDispatcher:
    """Queues, builds, signs and sends deliveries; counts failures; sends pings."""

    def __init__(
        self,
        store: Store,
        build_payload: PayloadBuilder,
        *,
        options: WebhookOptions | None = None,
        salt: str = "sandbox-auth-salt",
        seed: int = 0,
    ) -> None:
        self.store = store
        self.options = options or WebhookOptions()
        self._build_payload = build_payload
        self._salt = salt.encode()
        self._rng = random.Random(seed)
        self._seq = itertools.count(1)
        self._lock = threading.Condition()
        self._queue: list[_Action] = []
        self._building = 0
        self._pings: list[Delivery] = []
        self._meta: dict[str, dict[str, Any]] = {}
        self._scope = threading.local()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.sender = WebhookSender(
            retry_delays=(),
            timeout=self.options.timeout,
            is_success=lambda status: 200 <= status < 303,
            on_result=self._on_result,
        )
        #: Secret for webhooks created without one (WooCommerce would generate a random one).
        self.default_secret: str | None = None

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        self.sender.start()
        if self._thread is None:
            self._stopping = False
            self._thread = threading.Thread(
                target=self._run, name="woocommerce-action-scheduler", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            self._lock.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.sender.stop()

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
            self._pings.clear()
            self._meta.clear()
        self.sender.reset()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._queue or self._building:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(min(left, 0.05))
        return self.sender.wait_idle(max(0.0, deadline - time.monotonic()))

    @contextlib.contextmanager
    def request_scope(self) -> Iterator[None]:
        """One PHP request: each (webhook, resource) is processed at most once inside it."""
        outer = getattr(self._scope, "processed", None)
        self._scope.processed = set() if outer is None else outer
        try:
            yield
        finally:
            self._scope.processed = outer

    # -- firing -----------------------------------------------------------------------------

    def fire(self, resource: str, event: str, resource_id: int) -> None:
        """A WooCommerce hook for ``resource.event`` ran for ``resource_id``."""
        topic = f"{resource}.{event}"
        store = self.store
        with store.lock:
            if resource == "order":
                order = store.orders.get(resource_id)
                if order is not None and order.data.get("status") in _SKIPPED_ORDER_STATUSES:
                    return
            webhooks = [
                w for w in store.webhooks.values() if w.status == "active" and w.topic == topic
            ]
        processed: set[tuple[int, int]] | None = getattr(self._scope, "processed", None)
        for webhook in webhooks:
            if processed is not None:
                if (webhook.id, resource_id) in processed:
                    continue
                processed.add((webhook.id, resource_id))
            copies = 1
            if topic == "order.updated":
                low, high = self.options.updated_repeats
                copies = self._rng.randint(low, high)
            for copy in range(copies):
                self._enqueue(webhook.id, resource_id, coalescing=copy == 0)

    def trigger(self, webhook_id: int, resource_id: int) -> None:
        """Queue one delivery now, whatever the webhook's status (control API)."""
        self._enqueue(webhook_id, resource_id, coalescing=False)

    def _enqueue(self, webhook_id: int, resource_id: int, *, coalescing: bool) -> None:
        with self._lock:
            # Coalescing needs a queue lag to coalesce in; with no delay every hook delivers
            # (deterministic), with a delay bursts collapse as on the platform.
            if coalescing and self.options.coalesce and self.options.delay > 0:
                for action in self._queue:
                    if (action.webhook_id, action.resource_id) == (webhook_id, resource_id):
                        return
            self._queue.append(
                _Action(
                    due=time.monotonic() + self.options.delay,
                    seq=next(self._seq),
                    webhook_id=webhook_id,
                    resource_id=resource_id,
                    coalescing=coalescing,
                )
            )
            self._queue.sort(key=lambda a: (a.due, a.seq))
            self._lock.notify_all()

    # -- the scheduler ----------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._stopping and (
                    not self._queue or self._queue[0].due > time.monotonic()
                ):
                    wait = self._queue[0].due - time.monotonic() if self._queue else 0.1
                    self._lock.wait(max(0.001, min(wait, 0.1)))
                if self._stopping:
                    return
                action = self._queue.pop(0)
                self._building += 1
            try:
                delivery = self._build(action)
                if delivery is not None:
                    self.sender.timeout = self.options.timeout
                    self.sender.send(delivery)
            finally:
                with self._lock:
                    self._building -= 1
                    self._lock.notify_all()

    def delivery_id(self, webhook_id: int) -> str:
        """``wp_hash($id . strtotime('now'))``: an MD5 HMAC, the same within one second."""
        message = f"{webhook_id}{int(self.store.clock.time())}".encode()
        return hmac.new(self._salt, message, hashlib.md5).hexdigest()

    def _build(self, action: _Action) -> Delivery | None:
        store = self.store
        with store.lock:
            webhook = store.webhooks.get(action.webhook_id)
            if webhook is None:
                return None
            snapshot = dataclasses.replace(webhook)
        if snapshot.event == "deleted":
            payload: Any = {"id": action.resource_id}
        elif snapshot.resource == "action":
            payload = {"action": hooks_for(snapshot.topic)[0], "arg": action.resource_id}
        else:
            payload = self._build_payload(snapshot, action.resource_id)
        body = phpjson.dumps(payload).strip()
        site = store.site
        headers = {
            "User-Agent": _user_agent(site),
            "Content-Type": "application/json",
            "X-WC-Webhook-Source": site.home_url.rstrip("/") + "/",
            "X-WC-Webhook-Topic": snapshot.topic,
            "X-WC-Webhook-Resource": snapshot.resource,
            "X-WC-Webhook-Event": snapshot.event,
            "X-WC-Webhook-Signature": signature(body, snapshot.secret, self.options.hash_algorithm),
            "X-WC-Webhook-ID": str(snapshot.id),
            "X-WC-Webhook-Delivery-ID": self.delivery_id(snapshot.id),
        }
        internal_id = f"d{action.seq}"
        with self._lock:
            self._meta[internal_id] = {
                "resource_id": action.resource_id,
                "kind": "delivery",
                "coalescing": action.coalescing,
            }
        return Delivery(
            id=internal_id,
            subscription_id=str(snapshot.id),
            url=snapshot.delivery_url,
            topic=snapshot.topic,
            headers=headers,
            body=body,
        )

    def _on_result(self, delivery: Delivery, ok: bool) -> None:
        with self.store.lock:
            webhook = self.store.webhooks.get(int(delivery.subscription_id))
            if webhook is None:
                return
            if ok:
                webhook.failure_count = 0
            elif webhook.failure_count > self.options.max_failures:
                webhook.status = "disabled"
            else:
                webhook.failure_count += 1

    # -- ping -------------------------------------------------------------------------------

    def ping(self, webhook: WebhookRecord) -> Delivery:
        """``deliver_ping``: synchronous, unsigned, form-encoded; success is exactly 200."""
        site = self.store.site
        body = f"webhook_id={webhook.id}".encode()
        headers = {
            "User-Agent": _user_agent(site),
            "Content-Type": "application/x-www-form-urlencoded",
        }
        delivery = Delivery(
            id=f"p{next(self._seq)}",
            subscription_id=str(webhook.id),
            url=webhook.delivery_url,
            topic="ping",
            headers=headers,
            body=body,
        )
        started = time.monotonic()
        status: int | None = None
        error: str | None = None
        parts = urlsplit(webhook.delivery_url)
        connection_type = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        connection = connection_type(
            parts.hostname or "127.0.0.1", parts.port, timeout=self.options.ping_timeout
        )
        try:
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            error = f"{type(exc).__name__}: {exc}"
        finally:
            connection.close()
        delivery.attempts.append(Attempt(time.time(), status, error, time.monotonic() - started))
        delivery.state = "delivered" if status == 200 else "failed"
        with self._lock:
            self._pings.append(delivery)
            self._meta[delivery.id] = {"resource_id": None, "kind": "ping", "coalescing": False}
        return delivery

    # -- records ----------------------------------------------------------------------------

    def deliveries(self) -> list[Delivery]:
        """Every ping and delivery so far, oldest first."""
        everything = [*self._pings, *self.sender.deliveries()]
        return sorted(everything, key=lambda d: d.attempts[0].at if d.attempts else float("inf"))

    def describe(self, delivery: Delivery) -> dict[str, Any]:
        record = delivery.as_dict()
        with self._lock:
            record.update(self._meta.get(delivery.id, {}))
        attempts = delivery.attempts
        record["status"] = attempts[-1].status if attempts else None
        record["delivery_id"] = delivery.headers.get("X-WC-Webhook-Delivery-ID")
        return record
