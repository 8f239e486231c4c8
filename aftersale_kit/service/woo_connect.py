"""Connecting a WooCommerce store through its approval page (``auth: approve``).

WooCommerce creates REST keys for an app when the store manager approves
``https://STORE/wc-auth/v1/authorize?app_name=&scope=read_write&user_id=&return_url=&callback_url=``
and POSTs them as JSON (``key_id``, ``user_id``, ``consumer_key``, ``consumer_secret``,
``key_permissions``) to the HTTPS ``callback_url``; the browser then goes to ``return_url`` with
``success=1&user_id=`` (https://developer.woocommerce.com/docs/apis/rest-api/authentication/,
``WC_Auth`` in ``class-wc-auth.php``).

The ``user_id`` is the single-use nonce of a pending connection request of one configured
store (``aftersale-kit shops connect woocommerce DOMAIN`` prints the link; ``GET
/auth/woocommerce/connect?shop=DOMAIN`` redirects to it). The callback stores the keys for that
store only, encrypted, and only when the nonce is pending; an unknown or used one stores
nothing (400). The store's webhooks are then registered through the adapter. WooCommerce
deletes the keys unless the callback answers 200, so every refusal is a non-200.
"""

from __future__ import annotations

import json
import logging
import urllib.parse
from datetime import UTC, datetime

from ..core.errors import AftersaleKitError
from ..storage import Store, auth_requests
from .logs import log_event
from .shops import ShopEntry, ShopRegistry

__all__ = ["APP_NAME", "KEYS_KIND", "WooConnect"]

APP_NAME = "aftersale-kit"
KEYS_KIND = "rest_keys"


class WooConnect:
    """Start a connection request and accept its callback."""

    def __init__(self, *, registry: ShopRegistry, store: Store) -> None:
        self.registry = registry
        self.store = store

    def entry(self, domain: str) -> ShopEntry | str:
        entry = self.registry.get("woocommerce", domain)
        if entry is None or entry.config.settings.auth_method != "approve":
            return f"store {domain} is not configured for approval (auth: method: approve)"
        if entry.credentials is None:
            return "the service has no credential store (AFTERSALE_CREDENTIALS_KEY)"
        return entry

    def authorize_url(self, entry: ShopEntry, *, public_url: str) -> str:
        """A new pending request of ``entry`` and the approval link that carries it."""
        nonce = auth_requests.create(
            self.store.db, platform="woocommerce", shop=entry.domain, now=datetime.now(UTC)
        )
        base = entry.config.settings.api_base_url or f"https://{entry.domain}"
        query = urllib.parse.urlencode(
            {
                "app_name": APP_NAME,
                "scope": "read_write",
                "user_id": nonce,
                "return_url": f"{public_url}/auth/woocommerce/return",
                "callback_url": f"{public_url}/auth/woocommerce/callback",
            }
        )
        return f"{base.rstrip('/')}/wc-auth/v1/authorize?{query}"

    def callback(self, body: bytes, *, public_url: str) -> tuple[int, str]:
        """Store the posted keys for the request they answer; ``(status, text)``."""
        try:
            data = json.loads(body)
        except ValueError:
            return 400, "expected the JSON WooCommerce posts"
        if not isinstance(data, dict):
            return 400, "expected the JSON WooCommerce posts"
        key, secret = str(data.get("consumer_key", "")), str(data.get("consumer_secret", ""))
        if not key.startswith("ck_") or not secret.startswith("cs_"):
            return 400, "consumer_key and consumer_secret are missing"
        if data.get("key_permissions") != "read_write":
            return 400, "the keys need read_write permissions"
        domain = auth_requests.consume_for(
            self.store.db,
            nonce=str(data.get("user_id", "")),
            platform="woocommerce",
            now=datetime.now(UTC),
        )
        if domain is None:
            log_event(logging.WARNING, "woocommerce keys refused", reason="no pending request")
            return 400, "user_id is not a pending connection request (unknown or used)"
        entry = self.entry(domain)
        if isinstance(entry, str):
            return 400, entry
        assert entry.credentials is not None
        entry.credentials.put(
            entry.domain, KEYS_KIND, {"consumer_key": key, "consumer_secret": secret}
        )
        entry.forget_adapter()
        log_event(logging.INFO, "woocommerce connected", shop=entry.domain)
        self._register(entry, public_url)
        return 200, "connected"

    def _register(self, entry: ShopEntry, public_url: str) -> None:
        try:
            ids = entry.adapter.register_webhooks(f"{public_url}/webhooks/woocommerce")
        except AftersaleKitError as exc:
            # The keys are good and stored; say how to finish by hand.
            log_event(
                logging.WARNING,
                "woocommerce webhooks not registered; run aftersale-kit shops register-webhooks",
                shop=entry.domain,
                error=str(exc),
            )
            return
        log_event(
            logging.INFO, "woocommerce webhooks registered", shop=entry.domain, count=len(ids)
        )
