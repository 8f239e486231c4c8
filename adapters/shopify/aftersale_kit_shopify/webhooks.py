"""Shopify webhook deliveries: signature check over the raw bytes, topic mapping, dedupe key.

Pure (no network): the HTTP handler answers within Shopify's 5 s deadline.

* Signature: ``X-Shopify-Hmac-Sha256`` is base64(HMAC-SHA256(app client secret, raw body)),
  compared in constant time against the current and, during a rotation, the previous secret
  (https://shopify.dev/docs/apps/build/webhooks/subscribe/https). The "events" preview sends the
  same headers without the ``X-`` prefix (https://shopify.dev/docs/apps/build/events/verify-deliveries);
  both spellings are read.
* Checks run in this order, so that an unsigned request learns nothing: signature, shop
  (present, and this adapter's shop), topic, body.
* Dedupe key: ``shopify:<shop>:<topic>:<X-Shopify-Event-Id>`` (shared by all deliveries of one
  merchant action, https://shopify.dev/apps/build/webhooks/ignore-duplicates); without an event
  id, the ``X-Shopify-Webhook-Id``; without either, a digest of the body (retries carry the
  original payload, so the digest is stable).
* Event time: ``X-Shopify-Triggered-At``. Shopify signs the body only, not this header, so the
  service never reactivates an uninstalled shop because of a delivery.
* Privacy topics (``customers/data_request``, ``customers/redact``, ``shop/redact``; payloads
  ``{shop_id, shop_domain, customer: {id, email, phone}, orders_to_redact | orders_requested,
  data_request: {id}}``, https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance)
  become the neutral privacy kinds the service's compliance handler processes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from aftersale_kit.core.errors import (
    MalformedWebhookError,
    PayloadError,
    SignatureError,
    UnknownTopicError,
    UnusableOrderError,
)
from aftersale_kit.core.jsonread import JSONInputError, read_json
from aftersale_kit.core.platform import IncomingWebhook, WebhookEnvelope, WebhookKind
from aftersale_kit_shopify.normalize import normalize_shopify_order, normalize_shopify_refund

__all__ = [
    "TOPICS",
    "normalize_shop_domain",
    "peek_shopify_webhook",
    "sign_body",
    "verify_shopify_webhook",
]

PLATFORM = "shopify"

#: Shopify topic -> what it means to the product.
TOPICS: Mapping[str, WebhookKind] = {
    "orders/create": WebhookKind.ORDER_CREATED,
    "orders/paid": WebhookKind.ORDER_PAID,
    "orders/fulfilled": WebhookKind.ORDER_FULFILLED,
    "orders/cancelled": WebhookKind.ORDER_CANCELLED,
    "refunds/create": WebhookKind.REFUND_CREATED,
    "app/uninstalled": WebhookKind.APP_UNINSTALLED,
    "customers/data_request": WebhookKind.CUSTOMERS_DATA_REQUEST,
    "customers/redact": WebhookKind.CUSTOMERS_REDACT,
    "shop/redact": WebhookKind.SHOP_REDACT,
}

_ORDER_TOPICS = {
    "orders/create",
    "orders/paid",
    "orders/fulfilled",
    "orders/cancelled",
}

#: Topics whose body names an order: a signed body there that is not one is quarantined
#: (:class:`UnusableOrderError`), not refused.
_CARRY_ORDER = _ORDER_TOPICS | {"refunds/create"}

#: What :func:`normalize_shopify_order` needs at the top level of an order (checked by the
#: intake's fast path, which does not normalise): name -> accepted JSON types.
_ORDER_SHAPE: Mapping[str, tuple[type, ...]] = {
    "line_items": (list,),
    "currency": (str,),
    "created_at": (str,),
    "subtotal_price": (str, int, float),
    "total_price": (str, int, float),
}

#: Headers kept on the IncomingWebhook (never the signature).
_KEPT = (
    "topic",
    "shop-domain",
    "api-version",
    "webhook-id",
    "event-id",
    "triggered-at",
    "name",
)


def sign_body(body: bytes, secret: str) -> str:
    """The ``X-Shopify-Hmac-Sha256`` value for ``body`` (for tests and sandboxes)."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def normalize_shop_domain(value: str) -> str:
    """``Brand.myshopify.com`` / ``https://brand.myshopify.com/`` -> ``brand.myshopify.com``."""
    text = value.strip().lower()
    for prefix in ("https://", "http://"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    return text.rstrip("/")


def _headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Lower-cased names; ``X-Shopify-Foo`` and ``Shopify-Foo`` both become ``foo``."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        for prefix in ("x-shopify-", "shopify-"):
            if key.startswith(prefix):
                out.setdefault(key[len(prefix) :], value.strip())
    return out


def _signature_ok(body: bytes, header: str, secrets: Iterable[str]) -> bool:
    try:
        given = base64.b64decode(header.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        return False
    ok = False
    for secret in secrets:
        expected = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
        # No early exit: every secret is tried, so timing does not tell which one matched.
        ok |= hmac.compare_digest(expected, given)
    return ok


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _checked(
    headers: Mapping[str, str], body: bytes, secrets: Iterable[str], shop: str | None
) -> tuple[dict[str, str], str, str, WebhookKind, dict[str, Any], str]:
    """Signature, shop, topic and JSON checks shared by verify and peek: ``(normalised headers,
    shop, topic, kind, payload, dedupe key)``."""
    h = _headers(headers)
    keys = [s for s in secrets if s]
    if not keys:
        raise SignatureError("no webhook secret is configured: cannot verify Shopify webhooks")
    signature = h.get("hmac-sha256")
    if not signature:
        raise SignatureError("missing header X-Shopify-Hmac-Sha256: not a signed Shopify webhook")
    if not _signature_ok(body, signature, keys):
        sent_for = normalize_shop_domain(h.get("shop-domain", "")) or "an unnamed shop"
        raise SignatureError(
            f"X-Shopify-Hmac-Sha256 does not match the body (delivery for {sent_for}): wrong "
            "webhook secret, or the body was changed (verify the raw bytes, not re-encoded JSON)"
        )

    sent_shop = normalize_shop_domain(h.get("shop-domain", ""))
    if not sent_shop:
        raise MalformedWebhookError("missing header X-Shopify-Shop-Domain")
    if shop is not None and sent_shop != normalize_shop_domain(shop):
        raise SignatureError(
            f"webhook for shop {sent_shop} reached the adapter of shop {shop}: route it by "
            "X-Shopify-Shop-Domain"
        )

    topic = h.get("topic", "").lower()
    if not topic:
        raise MalformedWebhookError(f"missing header X-Shopify-Topic (shop {sent_shop})")
    kind = TOPICS.get(topic)
    if kind is None:
        raise UnknownTopicError(f"Shopify topic {topic!r} is not handled (shop {sent_shop})")

    try:
        payload: Any = read_json(body, what=f"the {topic} webhook body (shop {sent_shop})")
    except JSONInputError as exc:
        raise MalformedWebhookError(str(exc)) from exc
    if not isinstance(payload, dict):
        error = UnusableOrderError if topic in _CARRY_ORDER else MalformedWebhookError
        raise error(
            f"{topic} webhook body must be a JSON object (shop {sent_shop}), "
            f"got {type(payload).__name__}"
        )

    event_id = h.get("event-id") or h.get("webhook-id")
    if not event_id:
        event_id = "sha256-" + hashlib.sha256(body).hexdigest()[:32]
    return h, sent_shop, topic, kind, payload, f"{PLATFORM}:{sent_shop}:{topic}:{event_id}"


def verify_shopify_webhook(
    headers: Mapping[str, str],
    body: bytes,
    *,
    secrets: Iterable[str],
    shop: str | None = None,
) -> IncomingWebhook:
    """Verify and parse one delivery. ``secrets``: the current secret, then the previous one.

    ``shop``: the myshopify domain this adapter serves; a delivery for another shop is refused
    (``None``: any shop).
    """
    h, sent_shop, topic, kind, payload, dedupe_key = _checked(headers, body, secrets, shop)
    occurred_at = _parse_time(h.get("triggered-at"))
    base = IncomingWebhook(
        platform=PLATFORM,
        topic=topic,
        kind=kind,
        shop=sent_shop,
        dedupe_key=dedupe_key,
        payload=payload,
        occurred_at=occurred_at,
        delivery_id=h.get("webhook-id"),
        headers=tuple((f"x-shopify-{k}", h[k]) for k in _KEPT if k in h),
    )

    if topic in _ORDER_TOPICS:
        try:
            order = normalize_shopify_order(payload, shop=sent_shop)
        except PayloadError as exc:
            raise UnusableOrderError(f"{topic} webhook (shop {sent_shop}): {exc}") from exc
        if kind is WebhookKind.ORDER_PAID and order.paid_at is None and occurred_at is not None:
            # The order body has no payment time; orders/paid fires when it was paid.
            order = replace(order, paid_at=occurred_at)
        return replace(base, order=order, order_id=order.id)
    if kind is WebhookKind.REFUND_CREATED:
        try:
            refund = normalize_shopify_refund(payload, currency=_refund_currency(payload))
        except PayloadError as exc:
            raise UnusableOrderError(f"{topic} webhook (shop {sent_shop}): {exc}") from exc
        return replace(
            base, order_id=_id_field(payload, "order_id", topic, sent_shop), refund=refund
        )
    return base


def _refund_currency(payload: Mapping[str, Any]) -> str:
    """The shop currency of a refund body: a ``*_set.shop_money.currency_code`` of its lines,
    else its transactions' ``currency``, else ``XXX`` (no currency: an empty refund)."""
    for line in payload.get("refund_line_items") or ():
        bag = line.get("subtotal_set") if isinstance(line, dict) else None
        shop_money = bag.get("shop_money") if isinstance(bag, dict) else None
        code = shop_money.get("currency_code") if isinstance(shop_money, dict) else None
        if isinstance(code, str) and len(code) == 3:
            return code.upper()
    for tx in payload.get("transactions") or ():
        code = tx.get("currency") if isinstance(tx, dict) else None
        if isinstance(code, str) and len(code) == 3:
            return code.upper()
    return "XXX"


def peek_shopify_webhook(
    headers: Mapping[str, str],
    body: bytes,
    *,
    secrets: Iterable[str],
    shop: str | None = None,
) -> WebhookEnvelope:
    """:func:`verify_shopify_webhook` without normalising the order (the intake's fast path):
    the same checks and errors up to the JSON object, the same dedupe key and order id."""
    _h, sent_shop, topic, kind, payload, dedupe_key = _checked(headers, body, secrets, shop)
    order_id = None
    if topic in _ORDER_TOPICS:
        order_id = _order_id(payload, topic, sent_shop)
        _check_shape(payload, topic, sent_shop)
    elif kind is WebhookKind.REFUND_CREATED:
        order_id = _id_field(payload, "order_id", topic, sent_shop)
    return WebhookEnvelope(
        platform=PLATFORM,
        topic=topic,
        kind=kind,
        shop=sent_shop,
        dedupe_key=dedupe_key,
        order_id=order_id,
    )


def _order_id(payload: Mapping[str, Any], topic: str, shop: str) -> str:
    """The order's ``id`` as :func:`normalize_shopify_order` reads it (JSON integers exact)."""
    value = payload.get("id")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise UnusableOrderError(
        f"{topic} webhook (shop {shop}): field 'id' must be an id, got {value!r}"[:200]
    )


def _check_shape(payload: Mapping[str, Any], topic: str, shop: str) -> None:
    """The top-level fields an order must have (:data:`_ORDER_SHAPE`), without normalising."""
    for key, types in _ORDER_SHAPE.items():
        value = payload.get(key)
        if not isinstance(value, types) or isinstance(value, bool):
            found = "nothing" if value is None else type(value).__name__
            raise UnusableOrderError(
                f"{topic} webhook (shop {shop}) is not an order: field {key!r} must be "
                f"{' or '.join(t.__name__ for t in types)}, got {found}"
            )


def _id_field(payload: Mapping[str, Any], key: str, topic: str, shop: str) -> str:
    value = payload.get(key)
    if isinstance(value, bool) or not isinstance(value, int | str) or str(value).strip() == "":
        raise UnusableOrderError(
            f"{topic} webhook (shop {shop}): field {key!r} must be an id, got {value!r}"[:200]
        )
    text = str(value).strip()
    if text.startswith("gid://"):
        text = text.rsplit("/", 1)[-1]
    return text
