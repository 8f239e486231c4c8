"""What the product needs to know about WooCommerce without its client: :data:`SPEC`.

Registered as the ``aftersale_kit.platforms`` entry point ``woocommerce``. Importing this module
loads neither the ``woocommerce`` client nor requests; the adapter (:mod:`.adapter`) and the
service extension (:mod:`.service`: the key-approval callback and the thank-you token) are
named by path.

Sources: webhook headers and the unsigned ping
https://woocommerce.github.io/woocommerce-rest-api-docs/#webhooks (``WC_Webhook`` in
class-wc-webhook.php); REST keys ``ck_``/``cs_``
https://woocommerce.github.io/woocommerce-rest-api-docs/#authentication.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from aftersale_kit.core.model import EventKind
from aftersale_kit.core.platform_spec import AuthMethod, PlatformSpec, WebhookHeaders

from .normalize import normalize_woocommerce_order

__all__ = ["SPEC"]

_PING = re.compile(rb"webhook_id=\d+")
_ORDER_KEYS = ("date_created_gmt", "date_created")
_FIELDS = frozenset(
    {
        "customer.email", "customer.id", "customer.is_guest", "customer.locale",
        "customer.orders_count", "first_order", "line_items.categories", "line_items.price",
        "line_items.product_id", "line_items.quantity", "line_items.sku", "line_items.tags",
        "line_items.title", "line_items.total", "line_items.variant_id", "order.billing_country",
        "order.created_at", "order.currency", "order.discount_codes", "order.discounts",
        "order.email", "order.financial_status", "order.item_count", "order.paid_at",
        "order.payment_gateway", "order.shipping", "order.shipping_country",
        "order.shipping_method", "order.source", "order.subtotal", "order.tax", "order.total",
    }
)  # fmt: skip


def _check_version(version: str) -> str | None:
    return None if version == "wc/v3" else "expected wc/v3"


def _recognizes(body: Mapping[str, Any]) -> bool:
    if "order_key" in body:
        return True
    return "line_items" in body and any(key in body for key in _ORDER_KEYS)


def _shop_key(domain: str) -> str:
    """The lower-case host name without ``www.`` (``X-WC-Webhook-Source`` is ``https://host/``)."""
    text = domain.strip().lower()
    host = urlsplit(text if "://" in text else f"//{text}").hostname or ""
    return host.rstrip(".").removeprefix("www.")


def _is_ping(headers: Mapping[str, str], body: bytes) -> bool:
    """WooCommerce's ping after a webhook is saved: the form body ``webhook_id=<id>``, no
    ``X-WC-Webhook-*`` header and no signature; the admin wants a 200."""
    unsigned = not any(k.startswith("x-wc-") for k in headers)
    return unsigned and _PING.fullmatch(body.strip()) is not None


def _header(name: str) -> Any:
    return lambda headers: headers.get(name, "")


SPEC = PlatformSpec(
    name="woocommerce",
    title="WooCommerce",
    secrets={
        "webhook_secret": "the secret entered for the webhook in WooCommerce",
        "consumer_key": "the REST API consumer key (starts with ck_)",
        "consumer_secret": "the REST API consumer secret (starts with cs_)",
        "code_secret": "the key from which coupon codes are derived",
    },
    auth_methods=(
        AuthMethod(
            "keys",
            ("consumer_key", "consumer_secret"),
            "REST API keys created by hand (WooCommerce > Settings > Advanced > REST API)",
        ),
        AuthMethod(
            "approve",
            (),
            "keys created by WooCommerce's approval page (aftersale-kit shops connect)",
            stored=True,
            synonyms=("wc_auth",),
        ),
    ),
    fields=_FIELDS,
    triggers=frozenset(EventKind) - {EventKind.ORDER_CREATED},
    trigger_notes={
        EventKind.ORDER_CREATED: (
            EventKind.ORDER_PAID,
            "WooCommerce reports an order by its status, first when it is paid",
        )
    },
    normalize=normalize_woocommerce_order,
    adapter="aftersale_kit_woocommerce.adapter:WooCommerceAdapter",
    extra="woocommerce",
    webhook=WebhookHeaders(
        shop=_header("x-wc-webhook-source"),
        topic=_header("x-wc-webhook-topic"),
        kept_prefixes=("x-wc-",),
        is_handshake=_is_ping,
    ),
    env_examples={
        "webhook_secret": "WC_WEBHOOK_SECRET",
        "consumer_key": "WC_CONSUMER_KEY",
        "consumer_secret": "WC_CONSUMER_SECRET",
    },
    domain_help="the host name of the WordPress site",
    api_version_help="wc/v3",
    check_api_version=_check_version,
    recognizes=_recognizes,
    recognizes_help="'order_key' or 'line_items' with 'date_created_gmt' or 'date_created'",
    shop_key=_shop_key,
    service="aftersale_kit_woocommerce.service",
    secret_prefixes=("ck_", "cs_"),
)
