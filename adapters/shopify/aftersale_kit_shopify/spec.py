"""What the product needs to know about Shopify without its SDK: :data:`SPEC`.

Registered as the ``aftersale_kit.platforms`` entry point ``shopify``. Importing this module loads
neither ShopifyAPI nor requests; the adapter (:mod:`.adapter`) and the service extension
(:mod:`.service`: the install routes and checkout-extension session tokens) are named by path.

Sources: webhook headers and topics
https://shopify.dev/docs/apps/build/webhooks/subscribe/https; API versions (quarterly, YYYY-01,
-04, -07, -10) https://shopify.dev/docs/api/usage/versioning; access token prefixes
https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from aftersale_kit.core.fields import FIELDS
from aftersale_kit.core.model import EventKind
from aftersale_kit.core.platform_spec import AuthMethod, PlatformSpec, WebhookHeaders

from .normalize import normalize_shopify_order

__all__ = ["SPEC"]

_DOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")
_VERSION = re.compile(r"^[0-9]{4}-(01|04|07|10)$|^unstable$")
_GID = "gid://shopify/Order/"
_ORDER_ID = re.compile(r"[0-9]{1,20}")
_ORDER_KEYS = ("financial_status", "total_price", "subtotal_price")


def _check_domain(domain: str) -> str | None:
    if _DOMAIN.match(domain):
        return None
    return (
        "expected the shop's myshopify.com domain (e.g. kaffeeroesterei.myshopify.com; "
        "not the shop's own domain)"
    )


def _check_version(version: str) -> str | None:
    if _VERSION.match(version):
        return None
    return 'expected a Shopify API version YYYY-01, -04, -07 or -10 (e.g. "2026-01")'


def _recognizes(body: Mapping[str, Any]) -> bool:
    gid = body.get("admin_graphql_api_id")
    if isinstance(gid, str) and gid.startswith(_GID):
        return True
    return (
        "order_key" not in body and "line_items" in body and any(key in body for key in _ORDER_KEYS)
    )


def _order_id(raw: str) -> str | None:
    text = raw.removeprefix(_GID)
    return text if _ORDER_ID.fullmatch(text) else None


def _header(*names: str) -> Any:
    def read(headers: Mapping[str, str]) -> str:
        for name in names:
            value = headers.get(name)
            if value:
                return value
        return ""

    return read


SPEC = PlatformSpec(
    name="shopify",
    title="Shopify",
    secrets={
        "webhook_secret": "the app's client secret, which signs webhooks (X-Shopify-Hmac-Sha256)",
        "api_token": "the Admin API access token (starts with shpat_)",
        "client_secret": "the app's client secret for checkout-extension session tokens",
        "code_secret": "the key from which coupon codes are derived",
    },
    auth_methods=(
        AuthMethod(
            "token",
            ("api_token",),
            "a legacy app created in the Shopify admin: its static Admin API access token",
        ),
        AuthMethod(
            "client_credentials",
            ("client_id", "client_secret"),
            "a Dev Dashboard app installed on your own organisation's store: the service "
            "fetches and refreshes its token with the client id and secret",
            webhook_secret_from="client_secret",
            stored=True,
        ),
        AuthMethod(
            "oauth",
            ("client_id", "client_secret"),
            "an app installed on other merchants' stores through the service's install link "
            "(/auth/shopify/install?shop=...)",
            webhook_secret_from="client_secret",
            stored=True,
        ),
    ),
    fields=frozenset(FIELDS),
    triggers=frozenset(EventKind),
    normalize=normalize_shopify_order,
    adapter="aftersale_kit_shopify.adapter:ShopifyAdapter",
    extra="shopify",
    webhook=WebhookHeaders(
        shop=_header("x-shopify-shop-domain", "shopify-shop-domain"),
        topic=_header("x-shopify-topic", "shopify-topic"),
        kept_prefixes=("x-shopify-", "shopify-"),
    ),
    env_examples={
        "webhook_secret": "SHOPIFY_WEBHOOK_SECRET",
        "api_token": "SHOPIFY_ACCESS_TOKEN",
        "client_id": "SHOPIFY_CLIENT_ID",
        "client_secret": "SHOPIFY_CLIENT_SECRET",
    },
    domain_help="the *.myshopify.com domain",
    check_domain=_check_domain,
    api_version_help="YYYY-MM (e.g. 2026-01)",
    check_api_version=_check_version,
    recognizes=_recognizes,
    recognizes_help=(
        "'admin_graphql_api_id' (gid://shopify/Order/...) or 'line_items' with "
        "'financial_status', 'total_price' or 'subtotal_price'"
    ),
    order_id=_order_id,
    shop_key=lambda domain: domain.strip().lower(),
    service="aftersale_kit_shopify.service",
    secret_prefixes=("shpat_", "shpss_", "shpca_", "shppa_", "shpua_"),
    block_secrets=("client_secret", "webhook_secret"),
    service_options={"shopify_api_key": "SHOPIFY_API_KEY"},
    register_note=(
        "the compliance topics (customers/data_request, customers/redact, shop/redact) are "
        "declared in the app's shopify.app.toml; the API cannot subscribe them"
    ),
)
