"""The kasse adapter: the platform keeps coupons and content in memory (its "API")."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

from aftersale_kit.core.campaign import ShopSettings
from aftersale_kit.core.errors import (
    MalformedWebhookError,
    NotFoundError,
    SignatureError,
    UnknownTopicError,
)
from aftersale_kit.core.model import Order
from aftersale_kit.core.platform import (
    ConfirmationContent,
    CouponRef,
    CouponSpec,
    CustomerLoyalty,
    IncomingWebhook,
    MarketingConsent,
    WebhookEnvelope,
    WebhookKind,
    WebhookSubscription,
    platform_customer_id,
)

from .orders import NAME, normalize_kasse_order
from .spec import FIELDS

TOPICS = {"order.paid": WebhookKind.ORDER_PAID, "order.cancelled": WebhookKind.ORDER_CANCELLED}


def sign(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class KasseAdapter:
    """One kasse shop. ``PLATFORM`` is the shared in-memory state of the platform."""

    PLATFORM: ClassVar[dict[str, dict[str, Any]]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, shop: str, webhook_secret: str) -> None:
        self.shop = shop
        self.webhook_secret = webhook_secret
        with self._lock:
            self.state = self.PLATFORM.setdefault(
                shop, {"orders": {}, "coupons": {}, "content": {}, "loyalty": {}}
            )

    @classmethod
    def from_settings(
        cls, settings: ShopSettings, *, secrets: Mapping[str, str], **_: Any
    ) -> KasseAdapter:
        return cls(settings.domain, secrets["webhook_secret"])

    @property
    def name(self) -> str:
        return NAME

    @property
    def supported_fields(self) -> frozenset[str]:
        return FIELDS

    def _check(
        self, headers: Mapping[str, str], body: bytes
    ) -> tuple[str, WebhookKind, dict[str, Any]]:
        h = {k.lower(): v for k, v in headers.items()}
        if h.get("x-kasse-shop") != self.shop:
            raise SignatureError("delivery for another shop")
        if not hmac.compare_digest(sign(body, self.webhook_secret), h.get("x-kasse-signature", "")):
            raise SignatureError("bad x-kasse-signature")
        topic = h.get("x-kasse-topic", "")
        if topic not in TOPICS:
            raise UnknownTopicError(topic)
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise MalformedWebhookError(f"not JSON: {exc}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("kasse_order"), dict):
            raise MalformedWebhookError("expected {'kasse_order': {...}}")
        return topic, TOPICS[topic], data

    def peek_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEnvelope:
        topic, kind, data = self._check(headers, body)
        order_id = str(data["kasse_order"].get("id"))
        return WebhookEnvelope(
            NAME, topic, kind, self.shop, f"kasse:{self.shop}:{order_id}:{topic}", order_id
        )

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> IncomingWebhook:
        topic, kind, data = self._check(headers, body)
        order = normalize_kasse_order(data, shop=self.shop)
        with self._lock:
            self.state["orders"][order.id] = order
        return IncomingWebhook(
            platform=NAME,
            topic=topic,
            kind=kind,
            shop=self.shop,
            dedupe_key=f"kasse:{self.shop}:{order.id}:{topic}",
            payload=data,
            order=order,
            order_id=order.id,
            occurred_at=order.created_at,
        )

    def fetch_order(self, order_id: str, *, enrich: frozenset[str] = frozenset()) -> Order:
        with self._lock:
            order: Order | None = self.state["orders"].get(order_id)
        if order is None:
            raise NotFoundError(f"kasse order {order_id} not found")
        return order

    def enrich(self, order: Order, fields: frozenset[str]) -> Order:
        return order

    def create_coupon(self, spec: CouponSpec) -> CouponRef:
        with self._lock:
            created = spec.code not in self.state["coupons"]
            self.state["coupons"].setdefault(spec.code, spec)
        return CouponRef(platform_id=spec.code, code=spec.code, created=created)

    def deactivate_coupon(self, code: str) -> None:
        with self._lock:
            self.state["coupons"].pop(code, None)

    def write_content(self, order: Order, content: ConfirmationContent) -> None:
        with self._lock:
            self.state["content"][order.id] = content

    def write_customer_loyalty(self, customer_id: str | None, loyalty: CustomerLoyalty) -> bool:
        customer = platform_customer_id(customer_id)
        if customer is None:
            return False
        with self._lock:
            self.state["loyalty"][customer] = loyalty
        return True

    def record_marketing_consent(
        self, customer_id: str | None, email: str, consent: MarketingConsent
    ) -> bool:
        customer = platform_customer_id(customer_id)
        if customer is None:
            return False
        with self._lock:
            self.state.setdefault("consents", {})[customer] = (email, consent)
        return True

    def tag_order(self, order: Order, tags: Sequence[str]) -> None:
        return None

    def tag_customer(self, customer_id: str | None, tags: Sequence[str]) -> bool:
        customer = platform_customer_id(customer_id)
        if customer is None:
            return False
        with self._lock:
            found = self.state.setdefault("customer_tags", {}).setdefault(customer, [])
            found.extend(t for t in tags if t not in found)
        return True

    def untag_customer(self, customer_id: str | None, tags: Sequence[str]) -> bool:
        customer = platform_customer_id(customer_id)
        if customer is None:
            return False
        with self._lock:
            found = self.state.setdefault("customer_tags", {}).setdefault(customer, [])
            found[:] = [t for t in found if t not in tags]
        return True

    def customer_tags(self, customer_id: str | None) -> list[str] | None:
        customer = platform_customer_id(customer_id)
        if customer is None:
            return None
        with self._lock:
            return list(self.state.setdefault("customer_tags", {}).get(customer, []))

    def add_order_note(self, order: Order, *, text: str, key: str) -> bool:
        return False

    def register_webhooks(self, address: str) -> list[str]:
        return [f"{t}->{address}" for t in TOPICS]

    def list_webhooks(self) -> list[WebhookSubscription]:
        return []

    def orders_since(self, since: datetime) -> Iterator[Order]:
        with self._lock:
            return iter(list(self.state["orders"].values()))
