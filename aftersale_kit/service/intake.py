"""Webhook intake: verify, deduplicate, persist, answer 200 in milliseconds.

``POST /webhooks/shopify`` and ``POST /webhooks/woocommerce``. The work happens later in the
worker; the request does only this:

1. size: ``Content-Length`` above the limit is a 413 before reading; the body is read with the
   same limit (a sender that lies about the length gets a 413 too);
2. shop: ``X-Shopify-Shop-Domain`` / ``X-WC-Webhook-Source`` names a configured shop, else 401
   (a WooCommerce ping, unsigned and form-encoded, is answered 200 and stored nowhere);
3. signature: the adapter's ``verify_webhook`` over the raw bytes; a bad or missing signature is
   a 401 and nothing is stored, a body that is not the topic's JSON a 400, a topic the product
   does not handle a 200 (acknowledged, not stored, so the platform stops retrying);
4. one short transaction (:meth:`Store.accept_event`): the event and its ``process_event`` job,
   or nothing for a duplicate. Either way 200. A database failure is a 503: the platform retries.

A shop that uninstalled the app gets 401 for everything but the privacy webhooks.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from ..core.errors import (
    MalformedWebhookError,
    SignatureError,
    StorageError,
    UnknownTopicError,
)
from ..storage import Store
from .effects import Processor
from .logs import log_event
from .metrics import Metrics
from .shops import ShopRegistry

__all__ = ["Intake", "IntakeResult"]

_PING = re.compile(rb"webhook_id=\d+")
_KEPT_PREFIXES = ("x-shopify-", "shopify-", "x-wc-")
_COMPLIANCE_TOPICS = ("customers/data_request", "customers/redact", "shop/redact")


@dataclass(frozen=True, slots=True)
class IntakeResult:
    status: int
    result: str
    reason: str = ""


class Intake:
    """The synchronous part of a webhook request (run it in a thread)."""

    def __init__(
        self,
        *,
        registry: ShopRegistry,
        store: Store,
        processor: Processor,
        metrics: Metrics,
    ) -> None:
        self.registry = registry
        self.store = store
        self.processor = processor
        self.metrics = metrics

    def _reject(self, platform: str, status: int, reason: str, **fields: str) -> IntakeResult:
        self.metrics.rejected(platform, reason)
        log_event(logging.WARNING, "webhook rejected", platform=platform, reason=reason, **fields)
        return IntakeResult(status, "rejected", reason)

    def receive(self, platform: str, headers: Mapping[str, str], body: bytes) -> IntakeResult:
        """``headers`` with lower-case names (as Starlette gives them)."""
        if platform == "shopify":
            shop_header = headers.get("x-shopify-shop-domain") or headers.get(
                "shopify-shop-domain", ""
            )
            topic = headers.get("x-shopify-topic") or headers.get("shopify-topic", "")
        else:
            shop_header = headers.get("x-wc-webhook-source", "")
            topic = headers.get("x-wc-webhook-topic", "")
            unsigned = not shop_header and not any(k.startswith("x-wc-") for k in headers)
            if unsigned and _PING.fullmatch(body.strip()):
                self.metrics.webhooks.labels(platform, "ping", "").inc()
                return IntakeResult(200, "ping")
        if not shop_header:
            return self._reject(platform, 401, "no_shop")
        entry = self.registry.get(platform, shop_header)
        if entry is None:
            return self._reject(platform, 401, "unknown_shop", shop=shop_header[:200])
        if topic not in _COMPLIANCE_TOPICS and self.processor.uninstalled(entry.domain):
            return self._reject(platform, 401, "uninstalled", shop=entry.domain)
        try:
            webhook = entry.adapter.verify_webhook(headers, body)
        except SignatureError:
            return self._reject(platform, 401, "signature", shop=entry.domain)
        except MalformedWebhookError:
            return self._reject(platform, 400, "malformed", shop=entry.domain, topic=topic)
        except UnknownTopicError:
            self.metrics.webhooks.labels(platform, "ignored", "topic").inc()
            return IntakeResult(200, "ignored", "topic")
        if webhook.topic == "ping":
            self.metrics.webhooks.labels(platform, "ping", "").inc()
            return IntakeResult(200, "ping")
        kept = {k: v for k, v in headers.items() if k.startswith(_KEPT_PREFIXES)}
        try:
            new = self.store.accept_event(
                shop=entry.domain,
                platform=platform,
                topic=webhook.topic,
                dedupe_key=webhook.dedupe_key,
                received_at=datetime.now(UTC),
                body=body,
                headers=kept,
                order_id=webhook.order_id,
            )
        except StorageError as exc:
            log_event(logging.ERROR, "webhook not stored", platform=platform, error=str(exc))
            self.metrics.rejected(platform, "storage")
            return IntakeResult(503, "rejected", "storage")
        result = "accepted" if new else "duplicate"
        self.metrics.webhooks.labels(platform, result, "").inc()
        return IntakeResult(200, result)
