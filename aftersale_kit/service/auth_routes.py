"""Connecting shops through the service: Shopify's install flow (``auth: oauth``).

``GET /auth/shopify/install?shop=NAME.myshopify.com`` answers 302 to Shopify's authorize page
with the scopes the features need (:data:`aftersale_kit_shopify.tokens.SCOPES`), the callback
and a single-use ``state`` nonce kept in the store. ``GET /auth/shopify/callback`` (Shopify's
redirect after the merchant approved, with ``code``, ``hmac``, ``shop``, ``state``,
``timestamp``; https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/authorization-code-grant)
is accepted only when, in this order: the shop is a ``*.myshopify.com`` domain configured with
``auth: oauth``; the ``hmac`` of the query is the app's (checked by ShopifyAPI); the timestamp is
within :data:`MAX_SKEW` of the service's clock; the ``state`` is a pending request of that shop
(used up here). Then the code is exchanged for the offline token, which is stored encrypted;
the shop becomes active (a reinstall through this flow reactivates it: unlike a webhook, the
callback is authenticated) and its webhooks are registered through the adapter at once.

A refusal is a 400 naming what was wrong, and nothing is stored. The callback URL is
``$AFTERSALE_PUBLIC_URL/auth/shopify/callback`` (the service's address as the platforms reach
it), else the address the install request came to. No token, code or secret is ever logged or
answered.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from ..core.errors import AftersaleKitError
from ..storage import ShopState, Store, auth_requests
from .logs import log_event
from .shops import ShopEntry, ShopRegistry

if TYPE_CHECKING:
    from .effects import Processor

__all__ = ["MAX_SKEW", "PUBLIC_URL_ENV", "ShopifyInstall", "auth_routes"]

PUBLIC_URL_ENV = "AFTERSALE_PUBLIC_URL"
#: How far the callback's ``timestamp`` may be from the service's clock.
MAX_SKEW = 300
_SHOP = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")


@dataclass(frozen=True, slots=True)
class Outcome:
    status: int
    text: str
    location: str | None = None


class ShopifyInstall:
    """The two steps of the install flow, as plain functions of the query (run in a thread)."""

    def __init__(
        self,
        *,
        registry: ShopRegistry,
        store: Store,
        processor: Processor | None = None,
        clock: Any = time.time,
    ) -> None:
        self.registry = registry
        self.store = store
        self.processor = processor
        self.clock = clock

    def _shop(self, raw: str) -> ShopEntry | str:
        domain = raw.strip().lower()
        if not _SHOP.match(domain):
            return "shop must be a *.myshopify.com domain"
        entry = self.registry.get("shopify", domain)
        if entry is None or entry.config.settings.auth_method != "oauth":
            return f"shop {domain} is not configured for installation (auth: method: oauth)"
        if entry.credentials is None:
            return "the service has no credential store (AFTERSALE_CREDENTIALS_KEY)"
        return entry

    def install(self, params: Mapping[str, str], *, public_url: str) -> Outcome:
        from aftersale_kit_shopify.tokens import permission_url

        entry = self._shop(params.get("shop", ""))
        if isinstance(entry, str):
            return Outcome(400, entry)
        nonce = auth_requests.create(
            self.store.db, platform="shopify", shop=entry.key, now=datetime.now(UTC)
        )
        url = permission_url(
            shop=entry.key,
            client_id=entry.secrets["client_id"],
            client_secret=entry.secrets["client_secret"],
            redirect_uri=f"{public_url}/auth/shopify/callback",
            state=nonce,
            base_url=entry.config.settings.api_base_url,
        )
        log_event(logging.INFO, "shopify install started", shop=entry.key)
        return Outcome(302, "to Shopify", location=url)

    def callback(self, params: Mapping[str, str], *, public_url: str) -> Outcome:
        entry = self._shop(params.get("shop", ""))
        if isinstance(entry, str):
            return self._refuse(params, entry)
        refusal = self._check(entry, params)
        if refusal is not None:
            return self._refuse(params, refusal)
        try:
            self._connect(entry, params["code"], public_url=public_url)
        except AftersaleKitError as exc:
            log_event(logging.WARNING, "shopify install failed", shop=entry.key, error=str(exc))
            return Outcome(502, f"the install of {entry.key} failed: {exc}")
        return Outcome(200, f"{entry.key} is connected: aftersale-kit serves it from now on")

    def _check(self, entry: ShopEntry, params: Mapping[str, str]) -> str | None:
        from aftersale_kit_shopify.tokens import valid_callback_hmac

        if not params.get("code"):
            return "the callback has no code"
        secrets = entry.secrets
        if not valid_callback_hmac(
            params, client_id=secrets["client_id"], client_secret=secrets["client_secret"]
        ):
            return "the hmac of the callback is not the app's"
        stamp = params.get("timestamp", "")
        if not stamp.isdigit() or abs(self.clock() - int(stamp)) > MAX_SKEW:
            return f"the callback's timestamp is not within {MAX_SKEW} s of now"
        if not auth_requests.consume(
            self.store.db,
            nonce=params.get("state", ""),
            platform="shopify",
            shop=entry.key,
            now=datetime.now(UTC),
        ):
            return "the state is not a pending install of this shop (used, expired or foreign)"
        return None

    def _connect(self, entry: ShopEntry, code: str, *, public_url: str) -> None:
        from aftersale_kit_shopify.tokens import exchange_code

        token, scope = exchange_code(
            shop=entry.key,
            client_id=entry.secrets["client_id"],
            client_secret=entry.secrets["client_secret"],
            code=code,
            base_url=entry.config.settings.api_base_url,
        )
        assert entry.credentials is not None
        entry.credentials.put(entry.key, "access_token", {"access_token": token, "scope": scope})
        self.store.set_shop_state(
            shop=entry.domain, platform="shopify", state=ShopState.ACTIVE, now=datetime.now(UTC)
        )
        if self.processor is not None:
            self.processor.forget_state(entry.domain)
        ids = entry.adapter.register_webhooks(f"{public_url}/webhooks/shopify")
        log_event(logging.INFO, "shopify installed", shop=entry.key, webhooks=len(ids))

    def _refuse(self, params: Mapping[str, str], reason: str) -> Outcome:
        log_event(logging.WARNING, "shopify install refused", reason=reason)
        return Outcome(400, f"install refused: {reason}; start again from the install link")


def _public_url(request: Request) -> str:
    configured = os.environ.get(PUBLIC_URL_ENV, "").strip().rstrip("/")
    return configured or str(request.base_url).rstrip("/")


def _respond(outcome: Outcome) -> Response:
    if outcome.location is not None:
        return RedirectResponse(outcome.location, status_code=302)
    return PlainTextResponse(outcome.text + "\n", status_code=outcome.status)


def auth_routes(
    *, registry: ShopRegistry, store: Store, processor: Processor | None = None
) -> list[Route]:
    """The routes of the install and approval flows (only for the methods some shop uses)."""
    methods = {e.config.settings.auth_method for e in registry}
    routes = _woocommerce_routes(registry, store) if "approve" in methods else []
    if "oauth" not in methods:
        return routes
    flow = ShopifyInstall(registry=registry, store=store, processor=processor)

    async def install(request: Request) -> Response:
        params = dict(request.query_params)
        return _respond(
            await run_in_threadpool(flow.install, params, public_url=_public_url(request))
        )

    async def callback(request: Request) -> Response:
        params = dict(request.query_params)
        return _respond(
            await run_in_threadpool(flow.callback, params, public_url=_public_url(request))
        )

    return [
        *routes,
        Route("/auth/shopify/install", install, methods=["GET"]),
        Route("/auth/shopify/callback", callback, methods=["GET"]),
    ]


def _woocommerce_routes(registry: ShopRegistry, store: Store) -> list[Route]:
    from .woo_connect import WooConnect

    flow = WooConnect(registry=registry, store=store)

    async def connect(request: Request) -> Response:
        entry = flow.entry(request.query_params.get("shop", "").strip().lower())
        if isinstance(entry, str):
            return PlainTextResponse(entry + "\n", status_code=400)
        url = await run_in_threadpool(flow.authorize_url, entry, public_url=_public_url(request))
        return RedirectResponse(url, status_code=302)

    async def callback(request: Request) -> Response:
        body = await request.body()
        status, text = await run_in_threadpool(flow.callback, body, public_url=_public_url(request))
        return PlainTextResponse(text + "\n", status_code=status)

    async def returned(request: Request) -> Response:
        if request.query_params.get("success") == "1":
            return PlainTextResponse("connected: aftersale-kit serves the store from now on\n")
        return PlainTextResponse("not approved: nothing was connected\n")

    return [
        Route("/auth/woocommerce/connect", connect, methods=["GET"]),
        Route("/auth/woocommerce/callback", callback, methods=["POST"]),
        Route("/auth/woocommerce/return", returned, methods=["GET"]),
    ]
