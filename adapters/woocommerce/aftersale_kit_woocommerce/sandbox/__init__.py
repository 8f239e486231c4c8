"""A local WooCommerce store for tests: the REST API v3, webhooks, faults and a control API.

Real HTTP on loopback, driven by the official ``woocommerce`` client, like moto for AWS::

    from aftersale_kit_woocommerce.sandbox import WooCommerceSandbox

    with WooCommerceSandbox() as shop:
        api = shop.client()
        api.post("coupons", {"code": "THANKS10", "amount": "10"}).status_code  # 201
"""

from __future__ import annotations

from .auth import ApiKey, oauth_signature
from .fixtures import running_sandbox
from .phpjson import dumps as php_json_dumps
from .server import (
    DEFAULT_CONSUMER_KEY,
    DEFAULT_CONSUMER_SECRET,
    WooCommerceSandbox,
    fixture,
    fixture_names,
)
from .webhooks import WebhookOptions, signature

__all__ = [
    "DEFAULT_CONSUMER_KEY",
    "DEFAULT_CONSUMER_SECRET",
    "ApiKey",
    "WebhookOptions",
    "WooCommerceSandbox",
    "fixture",
    "fixture_names",
    "oauth_signature",
    "php_json_dumps",
    "running_sandbox",
    "signature",
]
