"""The service extension of WooCommerce: key approval and the thank-you page token.

Named by :data:`aftersale_kit_woocommerce.spec.SPEC` (``service``) and imported by the service
on first use (see :mod:`aftersale_kit.service.extensions`); the only adapter module that may
import the service.

**Connecting a store through its approval page** (``auth: approve``)
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

**Thank-you blocks** (:func:`authorize_block`)
    **WooCommerce**: ``?token=`` computed by the companion plugin from the order key, which only
    the customer's thank-you page knows::

        token = hex(HMAC-SHA256(key=<the shop's webhook secret>,
                                msg="{shop}|{order_id}|{order_key}"))

    ``shop`` is the store's host name as configured (``shop.domain``), ``order_id`` the decimal
    order id, ``order_key`` WooCommerce's ``wc_order_...`` key, UTF-8, hex in lower case. In PHP:
    ``hash_hmac('sha256', "$shop|$order_id|" . $order->get_order_key(), $secret)``.

    The token is checked against the order key the intake kept from the order's webhook
    (:meth:`Store.order_key`), never against an order fetched for the purpose: a request with a
    bad token costs no call to the shop. Before the first webhook of the order arrived there is
    no stored key: a request may then name the key itself (``&key=wc_order_...``, as the
    order-received URL does); the token is checked against that (only the secret's holder can
    make a token for it), and only then is the order fetched, and its key must be the one named.
    Without a stored or a named key the answer is 202 ``pending`` (with ``Retry-After``).
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import urllib.parse
from datetime import UTC, datetime

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from aftersale_kit.core.errors import AftersaleKitError
from aftersale_kit.core.model import Order
from aftersale_kit.service.auth_routes import public_url
from aftersale_kit.service.extensions import (
    BlockDenial,
    BlockLookup,
    BlockRequest,
    ExtensionContext,
)
from aftersale_kit.service.logs import log_event
from aftersale_kit.service.privacy import privacy_route
from aftersale_kit.service.shops import ShopEntry, ShopRegistry
from aftersale_kit.storage import Store, auth_requests

from .tokens import block_token

__all__ = ["APP_NAME", "KEYS_KIND", "WooConnect", "authorize_block", "connect_link", "routes"]

PLATFORM = "woocommerce"
APP_NAME = "aftersale-kit"
KEYS_KIND = "rest_keys"
#: A token: HMAC-SHA256 in hex; an order key as WooCommerce makes them.
_TOKEN = re.compile(r"[0-9a-fA-F]{64}")
_KEY = re.compile(r"wc_[A-Za-z0-9_]{1,120}")


class WooConnect:
    """Start a connection request and accept its callback."""

    def __init__(self, *, registry: ShopRegistry, store: Store) -> None:
        self.registry = registry
        self.store = store

    def entry(self, domain: str) -> ShopEntry | str:
        entry = self.registry.get(PLATFORM, domain)
        if entry is None or entry.config.settings.auth_method != "approve":
            return f"store {domain} is not configured for approval (auth: method: approve)"
        if entry.credentials is None:
            return "the service has no credential store (AFTERSALE_CREDENTIALS_KEY)"
        return entry

    def authorize_url(self, entry: ShopEntry, *, public_url: str) -> str:
        """A new pending request of ``entry`` and the approval link that carries it."""
        nonce = auth_requests.create(
            self.store.db, platform=PLATFORM, shop=entry.domain, now=datetime.now(UTC)
        )
        base = entry.config.settings.api_base_url or f"https://{entry.domain}"
        query = urllib.parse.urlencode(
            {
                "app_name": APP_NAME,
                "scope": "read_write",
                "user_id": nonce,
                "return_url": f"{public_url}/auth/{PLATFORM}/return",
                "callback_url": f"{public_url}/auth/{PLATFORM}/callback",
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
            platform=PLATFORM,
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
            ids = entry.adapter.register_webhooks(f"{public_url}/webhooks/{PLATFORM}")
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


def connect_link(ctx: ExtensionContext, domain: str, *, public_url: str) -> str:
    """The approval link of a configured store (``aftersale-kit shops connect``)."""
    flow = WooConnect(registry=ctx.registry, store=ctx.store)
    entry = flow.entry(domain)
    if isinstance(entry, str):
        raise ValueError(entry)
    return flow.authorize_url(entry, public_url=public_url)


def routes(ctx: ExtensionContext) -> list[Route]:
    """The companion plugin's privacy endpoint, and the approval routes when some configured
    store is connected that way (``auth: approve``)."""
    served = [privacy_route(registry=ctx.registry, store=ctx.store, platform=PLATFORM)]
    if not any(
        e.platform == PLATFORM and e.config.settings.auth_method == "approve" for e in ctx.registry
    ):
        return served
    flow = WooConnect(registry=ctx.registry, store=ctx.store)

    async def connect(request: Request) -> Response:
        entry = flow.entry(request.query_params.get("shop", "").strip().lower())
        if isinstance(entry, str):
            return PlainTextResponse(entry + "\n", status_code=400)
        url = await run_in_threadpool(flow.authorize_url, entry, public_url=public_url(request))
        return RedirectResponse(url, status_code=302)

    async def callback(request: Request) -> Response:
        body = await request.body()
        status, text = await run_in_threadpool(flow.callback, body, public_url=public_url(request))
        return PlainTextResponse(text + "\n", status_code=status)

    async def returned(request: Request) -> Response:
        if request.query_params.get("success") == "1":
            return PlainTextResponse("connected: aftersale-kit serves the store from now on\n")
        return PlainTextResponse("not approved: nothing was connected\n")

    return [
        *served,
        Route(f"/auth/{PLATFORM}/connect", connect, methods=["GET"]),
        Route(f"/auth/{PLATFORM}/callback", callback, methods=["POST"]),
        Route(f"/auth/{PLATFORM}/return", returned, methods=["GET"]),
    ]


# -- thank-you blocks -------------------------------------------------------------------------


def authorize_block(request: BlockRequest, lookup: BlockLookup) -> Order | BlockDenial:
    """The order once ``?token=`` is verified: against the stored key, else against the key the
    request names (then the fetched order must have that key)."""
    token = (request.token or "").strip()
    if not request.token:
        return BlockDenial(401, "missing ?token=")
    if not _TOKEN.fullmatch(token):
        return BlockDenial(401, "malformed ?token= (64 hex digits expected)")
    number = request.order_id
    if number is None:
        return BlockDenial(404, "unknown order")
    entry = request.entry
    key = lookup.order_key(number)
    named = (request.order_key or "").strip()
    if key is None and not _KEY.fullmatch(named):
        return BlockDenial(202, "pending", pending=True)  # nothing to check the token by yet
    if not _token_ok(entry, number, key or named, token):
        return BlockDenial(404, "unknown order")
    order = lookup.order(number)
    if order is None:
        return BlockDenial(404, "unknown order")
    actual = dict(order.platform_ref).get("order_key")
    if key is None and (not actual or not hmac.compare_digest(actual, named)):
        return BlockDenial(404, "unknown order")
    return order


def _token_ok(entry: ShopEntry, order_id: str, key: str, token: str) -> bool:
    expected = block_token(
        secret=entry.token_secret, shop=entry.domain, order_id=order_id, order_key=key
    )
    return hmac.compare_digest(expected, token.lower())
