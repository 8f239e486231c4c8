"""WooCommerce webhook deliveries: signature over the raw bytes, ping, status mapping, dedupe key.

Pure (no network): the HTTP handler answers at once, as WooCommerce expects.

* **Signature.** ``X-WC-Webhook-Signature`` is base64(HMAC-SHA256(secret, raw body)); the body
  is PHP's ``wp_json_encode`` output (``\\/`` and ``\\uXXXX`` escapes), so it is verified as
  received, never re-encoded. WooCommerce signs with ``wp_specialchars_decode(secret,
  ENT_QUOTES)`` (``WC_Webhook::get_secret``/``generate_signature`` in class-wc-webhook.php), so a
  secret stored with ``&amp;`` is also tried decoded. Compared with :func:`hmac.compare_digest`.
* **Ping.** After ``POST /webhooks`` WooCommerce posts the form body ``webhook_id=<id>`` with no
  ``X-WC-Webhook-*`` header and no signature; the admin reports an error unless the answer is
  exactly 200. It is recognised (:attr:`WebhookKind.PING`) and never refused.
* **Kinds, by the order's status** (``order.created`` and ``order.updated`` carry the same
  REST order and fire together, several times, so the topic does not decide):

  =============================  ===============================================================
  status                         kind
  =============================  ===============================================================
  processing + ``date_paid``     ORDER_PAID
  completed + ``date_paid``      ORDER_FULFILLED, or ORDER_PAID when it was completed within
                                 :data:`SIMULTANEOUS` of being paid (virtual goods, auto-complete
                                 plugins: no ``processing`` delivery ever came, and a campaign
                                 on "paid" must still fire; the engine's per-order idempotency
                                 keeps a repeated "paid" harmless)
  completed without date_paid    ORDER_FULFILLED
  cancelled, trash               ORDER_CANCELLED
  refunded                       REFUND_CREATED (a partial refund leaves the status as it was
                                 and is reported as that status' kind)
  pending, on-hold, failed,      ORDER_UPDATED: no campaign event, not an error
  checkout-draft, others
  =============================  ===============================================================

  WooCommerce therefore never reports ORDER_CREATED: an unpaid order is no trigger.
* **Dedupe key.** ``X-WC-Webhook-Delivery-ID`` is new on every delivery, so the key is
  ``woocommerce:<store host>:order:<id>:<status>:<date_modified_gmt>``: the same order state gives
  the same key whichever topic or delivery brought it.
* **Shop.** ``X-WC-Webhook-Source`` (``home_url('/')``) normalised to its host name; a delivery
  from another store than the adapter's is refused (a leading ``www.`` is not a difference).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from aftersale_kit.core.errors import (
    MalformedWebhookError,
    PayloadError,
    SignatureError,
    UnknownTopicError,
    UnusableOrderError,
)
from aftersale_kit.core.jsonread import JSONInputError, read_json
from aftersale_kit.core.platform import IncomingWebhook, WebhookEnvelope, WebhookKind
from aftersale_kit_woocommerce.normalize import normalize_woocommerce_order

__all__ = [
    "ORDER_TOPICS",
    "SIMULTANEOUS",
    "kind_for_order",
    "normalize_store",
    "order_key_of",
    "peek_woocommerce_delivery",
    "peek_woocommerce_webhook",
    "sign_body",
    "verify_woocommerce_webhook",
]

PLATFORM = "woocommerce"

#: The topics the product subscribes to and understands.
ORDER_TOPICS: tuple[str, ...] = ("order.created", "order.updated")

#: "Completed" this soon after "paid" counts as the payment itself (see the module docstring).
SIMULTANEOUS = timedelta(minutes=2)

_PING = re.compile(rb"\s*webhook_id=(\d{1,20})\s*")

#: Headers kept on the IncomingWebhook (lower-case, never the signature).
_KEPT = (
    "x-wc-webhook-source",
    "x-wc-webhook-topic",
    "x-wc-webhook-resource",
    "x-wc-webhook-event",
    "x-wc-webhook-id",
    "x-wc-webhook-delivery-id",
    "user-agent",
)

#: What :func:`normalize_woocommerce_order` needs at the top level of an order (checked by the
#: intake's fast path, which does not normalise): name -> accepted JSON types.
_ORDER_SHAPE: Mapping[str, tuple[type, ...]] = {
    "line_items": (list,),
    "currency": (str,),
}
_ORDER_KEY = re.compile(r"[A-Za-z0-9_\-]{1,128}")

_PAID = frozenset({"processing", "completed"})
_CANCELLED = frozenset({"cancelled", "trash"})


def sign_body(body: bytes, secret: str) -> str:
    """The ``X-WC-Webhook-Signature`` value for ``body`` (for tests and sandboxes)."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def normalize_store(value: str) -> str:
    """``https://Shop.example/`` or ``shop.example:8443`` -> ``shop.example`` (the host name)."""
    text = value.strip()
    if not text:
        return ""
    if "://" not in text:
        text = f"//{text}"
    try:
        host = urlsplit(text).hostname
    except ValueError:
        host = None
    return (host or "").rstrip(".").lower()


def _same_store(a: str, b: str) -> bool:
    return a.removeprefix("www.") == b.removeprefix("www.")


def _php_specialchars_decode(text: str) -> str:
    """``wp_specialchars_decode($secret, ENT_QUOTES)`` for the entities it decodes."""
    out = text
    for entity, char in (
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&quot;", '"'),
        ("&#039;", "'"),
        ("&#39;", "'"),
        ("&#x27;", "'"),
    ):
        out = out.replace(entity, char)
    return out.replace("&amp;", "&")


def _keys(secrets: Iterable[str]) -> list[bytes]:
    keys: list[bytes] = []
    for secret in secrets:
        if not secret:
            continue
        for variant in (secret, _php_specialchars_decode(secret)):
            key = variant.encode("utf-8")
            if key not in keys:
                keys.append(key)
    return keys


def _signature_ok(body: bytes, header: str, keys: list[bytes]) -> bool:
    try:
        given = base64.b64decode(header.strip().encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        return False
    ok = False
    for key in keys:
        # No early exit: every key is tried, so timing does not tell which one matched.
        ok |= hmac.compare_digest(hmac.new(key, body, hashlib.sha256).digest(), given)
    return ok


def _gmt(value: object) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _date(payload: Mapping[str, Any], key: str) -> datetime | None:
    """``<key>_gmt`` when the payload has that twin (v2/v3), else ``<key>`` (v1 sent GMT)."""
    twin = f"{key}_gmt"
    return _gmt(payload.get(twin) if twin in payload else payload.get(key))


def kind_for_order(payload: Mapping[str, Any]) -> WebhookKind:
    """What a WooCommerce order in this state means to the product (table in the module doc)."""
    status = str(payload.get("status") or "").strip().lower().removeprefix("wc-")
    paid_at = _date(payload, "date_paid")
    if status == "processing":
        return WebhookKind.ORDER_PAID if paid_at else WebhookKind.ORDER_UPDATED
    if status == "completed":
        if paid_at is None:
            return WebhookKind.ORDER_FULFILLED
        completed_at = _date(payload, "date_completed")
        if completed_at is None or completed_at - paid_at <= SIMULTANEOUS:
            return WebhookKind.ORDER_PAID
        return WebhookKind.ORDER_FULFILLED
    if status in _CANCELLED:
        return WebhookKind.ORDER_CANCELLED
    if status == "refunded":
        return WebhookKind.REFUND_CREATED
    return WebhookKind.ORDER_UPDATED


def _lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value.strip() for name, value in headers.items()}


def _ping(h: Mapping[str, str], body: bytes, *, shop: str | None) -> IncomingWebhook | None:
    if any(name.startswith("x-wc-webhook-") for name in h):
        return None
    match = _PING.fullmatch(body)
    if match is None:
        return None
    webhook_id = match.group(1).decode("ascii")
    store = shop or "unknown"
    return IncomingWebhook(
        platform=PLATFORM,
        topic="ping",
        kind=WebhookKind.PING,
        shop=store,
        dedupe_key=f"{PLATFORM}:{store}:ping:{webhook_id}",
        payload={"webhook_id": webhook_id},
        headers=tuple((k, h[k]) for k in _KEPT if k in h),
    )


def _checked(
    headers: Mapping[str, str], body: bytes, secrets: Iterable[str], shop: str | None
) -> tuple[dict[str, str], str, str, dict[str, Any]] | IncomingWebhook:
    """Ping, signature, store, topic and JSON checks shared by verify and peek:
    ``(lower-case headers, store, topic, payload)``, or the ping."""
    h = _lower_headers(headers)
    ping = _ping(h, body, shop=normalize_store(shop) if shop else None)
    if ping is not None:
        return ping
    keys = _keys(secrets)
    if not keys:
        raise SignatureError("no webhook secret is configured: cannot verify WooCommerce webhooks")
    signature = h.get("x-wc-webhook-signature")
    source = normalize_store(h.get("x-wc-webhook-source", ""))
    sent_for = source or "an unnamed store"
    if not signature:
        raise SignatureError(
            "missing header X-WC-Webhook-Signature: not a signed WooCommerce webhook "
            f"(delivery for {sent_for})"
        )
    if not _signature_ok(body, signature, keys):
        raise SignatureError(
            f"X-WC-Webhook-Signature does not match the body (delivery for {sent_for}): wrong "
            "webhook secret, or the body was changed (verify the raw bytes, not re-encoded JSON)"
        )
    expected = normalize_store(shop) if shop else None
    if expected and source and not _same_store(source, expected):
        raise SignatureError(
            f"delivery for store {source} (X-WC-Webhook-Source), but this adapter serves {expected}"
        )
    store = expected or source
    if not store:
        raise MalformedWebhookError(
            "missing header X-WC-Webhook-Source: cannot tell which store sent the delivery"
        )
    topic = h.get("x-wc-webhook-topic", "").lower()
    if topic not in ORDER_TOPICS:
        raise UnknownTopicError(
            f"WooCommerce topic {topic or '(none)'!r} from {store} is not handled "
            f"(handled: {', '.join(ORDER_TOPICS)}); acknowledge it and ignore it"
        )
    return h, store, topic, _json_object(body, topic=topic, store=store)


def _state(payload: Mapping[str, Any]) -> tuple[str, str]:
    """``(status, date modified)`` as they enter the dedupe key."""
    status = str(payload.get("status") or "").strip().lower()
    modified_key = "date_modified_gmt" if "date_modified_gmt" in payload else "date_modified"
    return status, str(payload.get(modified_key) or "")


def verify_woocommerce_webhook(
    headers: Mapping[str, str],
    body: bytes,
    *,
    secrets: Iterable[str],
    shop: str | None = None,
) -> IncomingWebhook:
    """Verify and parse one delivery to the webhook endpoint.

    ``secrets``: the webhook secret(s) (a rotation may list the old one too). ``shop``: the
    store's host name this adapter serves; a delivery from another store is refused (``None``:
    any store). Checks run in this order, so that an unsigned request learns nothing:
    ping, signature, store, topic, body.
    """
    checked = _checked(headers, body, secrets, shop)
    if isinstance(checked, IncomingWebhook):
        return checked
    h, store, topic, payload = checked
    try:
        order = normalize_woocommerce_order(payload, shop=store)
    except PayloadError as exc:
        raise UnusableOrderError(f"{topic} from {store}: {exc}") from exc
    status, modified = _state(payload)
    return IncomingWebhook(
        platform=PLATFORM,
        topic=topic,
        kind=kind_for_order(payload),
        shop=store,
        dedupe_key=f"{PLATFORM}:{store}:order:{order.id}:{status}:{modified}",
        payload=payload,
        order=order,
        order_id=order.id,
        occurred_at=_gmt(modified),
        delivery_id=h.get("x-wc-webhook-delivery-id") or None,
        headers=tuple((k, h[k]) for k in _KEPT if k in h),
    )


def peek_woocommerce_webhook(
    headers: Mapping[str, str],
    body: bytes,
    *,
    secrets: Iterable[str],
    shop: str | None = None,
) -> WebhookEnvelope:
    """:func:`verify_woocommerce_webhook` without normalising the order (the intake's fast
    path): the same checks and errors up to the JSON object, the same kind, dedupe key and
    order id (read as the normaliser reads it; a missing or malformed id, or a body without the
    fields of an order, is an :class:`UnusableOrderError` here too)."""
    return _peek(headers, body, secrets=secrets, shop=shop)[0]


def peek_woocommerce_delivery(
    headers: Mapping[str, str],
    body: bytes,
    *,
    secrets: Iterable[str],
    shop: str | None = None,
) -> tuple[WebhookEnvelope, str | None]:
    """:func:`peek_woocommerce_webhook` and the order's ``order_key`` (``None`` when the body
    has none): the service keeps it to check thank-you page tokens without asking the shop."""
    return _peek(headers, body, secrets=secrets, shop=shop)


def order_key_of(payload: Mapping[str, Any]) -> str | None:
    """The order's ``order_key`` (``wc_order_...``), if the payload has a plausible one."""
    key = payload.get("order_key")
    return key if isinstance(key, str) and _ORDER_KEY.fullmatch(key) else None


def _peek(
    headers: Mapping[str, str], body: bytes, *, secrets: Iterable[str], shop: str | None
) -> tuple[WebhookEnvelope, str | None]:
    checked = _checked(headers, body, secrets, shop)
    if isinstance(checked, IncomingWebhook):
        return WebhookEnvelope.of(checked), None
    _h, store, topic, payload = checked
    order_id = _order_id(payload, topic=topic, store=store)
    _check_shape(payload, topic=topic, store=store)
    status, modified = _state(payload)
    envelope = WebhookEnvelope(
        platform=PLATFORM,
        topic=topic,
        kind=kind_for_order(payload),
        shop=store,
        dedupe_key=f"{PLATFORM}:{store}:order:{order_id}:{status}:{modified}",
        order_id=order_id,
    )
    return envelope, order_key_of(payload)


def _check_shape(payload: Mapping[str, Any], *, topic: str, store: str) -> None:
    """The top-level fields an order must have (:data:`_ORDER_SHAPE`), without normalising."""
    for key, types in _ORDER_SHAPE.items():
        value = payload.get(key)
        if not isinstance(value, types):
            found = "nothing" if value is None else type(value).__name__
            raise UnusableOrderError(
                f"{topic} from {store} is not an order: field {key!r} must be "
                f"{' or '.join(t.__name__ for t in types)}, got {found}"
            )
    if not isinstance(payload.get("date_created_gmt") or payload.get("date_created"), str):
        raise UnusableOrderError(
            f"{topic} from {store} is not an order: field 'date_created_gmt' must be a date-time"
        )


def _order_id(payload: Mapping[str, Any], *, topic: str, store: str) -> str:
    """The order's ``id`` as :func:`normalize_woocommerce_order` reads it."""
    value = payload.get("id")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise UnusableOrderError(
        f"{topic} from {store}: field 'id' must be an order id, got {value!r}"[:200]
    )


def _json_object(body: bytes, *, topic: str, store: str) -> dict[str, Any]:
    try:
        payload = read_json(body, what=f"the {topic} body from {store}")
    except JSONInputError as exc:
        raise MalformedWebhookError(str(exc)) from exc
    if not isinstance(payload, dict):
        raise UnusableOrderError(
            f"{topic} from {store}: the body must be a JSON object (an order), "
            f"got {type(payload).__name__}"
        )
    return payload
