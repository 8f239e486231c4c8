"""The service extension of Shopify: the install flow and checkout-extension session tokens.

Named by :data:`aftersale_kit_shopify.spec.SPEC` (``service``) and imported by the service on
first use (see :mod:`aftersale_kit.service.extensions`); the only adapter module that may
import the service.

**Install** (``auth: oauth``)
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

**Thank-you blocks** (:func:`authorize_block`)
    **Shopify**: the checkout UI extension's session token, ``Authorization: Bearer <JWT>``,
    HS256-signed with the app's client secret (the shop's ``client_secret``, else its
    ``webhook_secret``). Checked: signature, ``aud`` = the app's client id
    (``shopify_api_key`` in ``service.yaml`` or ``$SHOPIFY_API_KEY``), ``exp`` and ``nbf``
    (10 s leeway), ``dest`` = the shop (checkout UI extensions send the bare domain,
    ``store-name.myshopify.com``, per Shopify's session-token example in Shopify/ui-extensions;
    App Bridge tokens ``https://store-name.myshopify.com``: both are accepted); when the token
    has a ``sub`` (a logged-in
    customer, ``gid://shopify/Customer/<id>``) it must be the order's customer. These tokens have
    no ``iss``/``sid``, so PyJWT checks them directly.
    (https://shopify.dev/docs/api/checkout-ui-extensions/latest/apis/session-token)
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import jwt
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aftersale_kit.core.errors import AftersaleKitError
from aftersale_kit.core.model import Order
from aftersale_kit.service.auth_routes import Outcome, public_url, respond
from aftersale_kit.service.extensions import (
    BlockDenial,
    BlockGrant,
    BlockLookup,
    BlockRequest,
    ExtensionContext,
)
from aftersale_kit.service.logs import log_event
from aftersale_kit.service.shops import ShopEntry, ShopRegistry
from aftersale_kit.storage import ShopState, Store, auth_requests

from .tokens import exchange_code, permission_url, valid_callback_hmac

__all__ = ["MAX_SKEW", "ShopifyInstall", "authorize_block", "routes"]

PLATFORM = "shopify"
#: How far the callback's ``timestamp`` may be from the service's clock.
MAX_SKEW = 300
_SHOP = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")
_LEEWAY = 10
#: Longer session tokens are refused before they are decoded (Shopify's are about 500 bytes).
_MAX_JWT = 4096
#: The service.yaml option that holds the app's client id (the tokens' ``aud``).
API_KEY_OPTION = "shopify_api_key"


class ShopifyInstall:
    """The two steps of the install flow, as plain functions of the query (run in a thread)."""

    def __init__(
        self,
        *,
        registry: ShopRegistry,
        store: Store,
        processor: Any = None,
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
        entry = self.registry.get(PLATFORM, domain)
        if entry is None or entry.config.settings.auth_method != "oauth":
            return f"shop {domain} is not configured for installation (auth: method: oauth)"
        if entry.credentials is None:
            return "the service has no credential store (AFTERSALE_CREDENTIALS_KEY)"
        return entry

    def install(self, params: Mapping[str, str], *, public_url: str) -> Outcome:
        entry = self._shop(params.get("shop", ""))
        if isinstance(entry, str):
            return Outcome(400, entry)
        nonce = auth_requests.create(
            self.store.db, platform=PLATFORM, shop=entry.key, now=datetime.now(UTC)
        )
        url = permission_url(
            shop=entry.key,
            client_id=entry.secrets["client_id"],
            client_secret=entry.secrets["client_secret"],
            redirect_uri=f"{public_url}/auth/{PLATFORM}/callback",
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
            platform=PLATFORM,
            shop=entry.key,
            now=datetime.now(UTC),
        ):
            return "the state is not a pending install of this shop (used, expired or foreign)"
        return None

    def _connect(self, entry: ShopEntry, code: str, *, public_url: str) -> None:
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
            shop=entry.domain, platform=PLATFORM, state=ShopState.ACTIVE, now=datetime.now(UTC)
        )
        if self.processor is not None:
            self.processor.forget_state(entry.domain)
        ids = entry.adapter.register_webhooks(f"{public_url}/webhooks/{PLATFORM}")
        log_event(logging.INFO, "shopify installed", shop=entry.key, webhooks=len(ids))

    def _refuse(self, params: Mapping[str, str], reason: str) -> Outcome:
        log_event(logging.WARNING, "shopify install refused", reason=reason)
        return Outcome(400, f"install refused: {reason}; start again from the install link")


def routes(ctx: ExtensionContext) -> list[Route]:
    """The install routes, when some configured shop installs through them (``auth: oauth``)."""
    if not any(
        e.platform == PLATFORM and e.config.settings.auth_method == "oauth" for e in ctx.registry
    ):
        return []
    flow = ShopifyInstall(registry=ctx.registry, store=ctx.store, processor=ctx.processor)

    async def install(request: Request) -> Response:
        params = dict(request.query_params)
        return respond(
            await run_in_threadpool(flow.install, params, public_url=public_url(request))
        )

    async def callback(request: Request) -> Response:
        params = dict(request.query_params)
        return respond(
            await run_in_threadpool(flow.callback, params, public_url=public_url(request))
        )

    return [
        Route(f"/auth/{PLATFORM}/install", install, methods=["GET"]),
        Route(f"/auth/{PLATFORM}/callback", callback, methods=["GET"]),
    ]


# -- thank-you blocks -------------------------------------------------------------------------


def authorize_block(request: BlockRequest, lookup: BlockLookup) -> BlockDenial | BlockGrant:
    """The session token verified; a token without ``sub`` may see the stored blocks, one
    with ``sub`` only an order of that customer."""
    claims = _claims(request)
    if isinstance(claims, BlockDenial):
        return claims
    if request.order_id is None:
        return BlockDenial(404, "unknown order")
    if not claims.get("sub"):
        # No customer to match: the stored blocks are the answer, the order is not needed
        # (blocks are stored only for an order that was fetched and decided).
        return BlockGrant(request.order_id)

    def same_customer(order: Order) -> BlockDenial | None:
        return None if _customer_matches(claims, order) else BlockDenial(404, "unknown order")

    return BlockGrant(request.order_id, use_stored=False, verify=same_customer)


def _claims(request: BlockRequest) -> dict[str, Any] | BlockDenial:
    entry = request.entry
    scheme, _, raw = (request.authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        return BlockDenial(401, "missing Authorization: Bearer <session token>")
    if len(raw) > _MAX_JWT:
        return BlockDenial(401, "invalid session token")
    audience = request.options.get(API_KEY_OPTION)
    if not audience:
        log_event(logging.ERROR, "shopify_api_key is not configured; block tokens refused")
        return BlockDenial(401, "the service has no Shopify client id configured")
    try:
        claims: dict[str, Any] = jwt.decode(
            raw.strip(),
            entry.token_secret,
            algorithms=["HS256"],
            audience=audience,
            leeway=_LEEWAY,
            options={"require": ["exp", "nbf", "aud", "dest"]},
        )
    except (jwt.PyJWTError, ValueError, RecursionError) as exc:
        log_event(logging.INFO, "block token refused", shop=entry.domain, why=type(exc).__name__)
        return BlockDenial(401, "invalid session token")
    dest = str(claims.get("dest", "")).strip().rstrip("/").lower().removeprefix("https://")
    if dest != entry.domain.lower():
        log_event(logging.INFO, "block token for another shop", shop=entry.domain)
        return BlockDenial(401, "session token is for another shop")
    return claims


def _numeric_id(value: str) -> str:
    """``gid://shopify/Customer/123`` (or a plain id) -> ``123``."""
    return value.rsplit("/", 1)[-1].split("?", 1)[0]


def _customer_matches(claims: Mapping[str, Any], order: Order) -> bool:
    sub = claims.get("sub")
    if not sub:
        return True
    if order.customer is None:
        return False
    return _numeric_id(str(sub)) == _numeric_id(order.customer.id)
