"""``GET /v1/blocks/{platform}/{shop}/{order_id}``: the thank-you page's content for one order.

Authentication
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

Authentication comes first: no request causes a platform call before its token is verified,
and an order id that cannot be one (Shopify and WooCommerce ids are decimal numbers; Shopify's
``gid://shopify/Order/<n>`` is accepted) is a 404 before anything is looked up.

Answers
    200 with :func:`aftersale_kit.content.blocks_payload` (``{"status": "ready", "blocks": [...]}``
    with HTML and structured data per block); 202 ``{"status": "pending"}`` while nothing can be
    decided yet (the order is not visible yet or not paid); 401 for a missing, malformed, forged
    or expired token or one for another shop; 404 for an unknown shop, an unknown order, and
    another customer's order (indistinguishable on purpose); 503 with ``Retry-After`` when the
    platform did not answer (or refused the service's credentials).

Race with the webhook
    The page often renders before ``orders/paid`` arrives. Then the order is fetched through the
    adapter and decided through the same :meth:`Processor.decide_order` (``decide_once``), so the
    later webhook finds the decision and creates nothing twice.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt

from ..core.errors import NotFoundError, PlatformError, RateLimitedError
from ..core.model import EventKind, Order
from ..storage.blocks_raw import load_blocks_json
from .effects import PAID, Processor
from .logs import log_event
from .metrics import Metrics
from .shops import ShopEntry, ShopRegistry

__all__ = ["BlockResult", "BlockService", "woocommerce_block_token"]

_LEEWAY = 10
#: An order id as both platforms write it: a decimal number.
_ORDER_ID = re.compile(r"[0-9]{1,20}")
_SHOPIFY_GID = "gid://shopify/Order/"
#: A WooCommerce token: HMAC-SHA256 in hex; an order key as WooCommerce makes them.
_WOO_TOKEN = re.compile(r"[0-9a-fA-F]{64}")
_WOO_KEY = re.compile(r"wc_[A-Za-z0-9_]{1,120}")
#: Longer session tokens are refused before they are decoded (Shopify's are about 500 bytes).
_MAX_JWT = 4096
_RETRY_PENDING = 3
_RETRY_PLATFORM = 5


def woocommerce_block_token(*, secret: str, shop: str, order_id: str, order_key: str) -> str:
    """The token the companion plugin puts in ``?token=`` (see the module docstring)."""
    message = f"{shop}|{order_id}|{order_key}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class BlockResult:
    status: int
    body: Mapping[str, Any] = field(default_factory=dict)
    #: The answer as JSON bytes when it was read as stored (``body`` is then empty).
    raw: bytes | None = None
    #: Seconds for the ``Retry-After`` header (202 and 503).
    retry_after: int | None = None


def _error(status: int, message: str) -> BlockResult:
    return BlockResult(status, {"status": "error", "error": message})


_PENDING = BlockResult(202, {"status": "pending"}, retry_after=_RETRY_PENDING)


def _numeric_id(order_id: str) -> str:
    """``gid://shopify/Order/123`` (or OrderIdentity) -> ``123``."""
    return order_id.rsplit("/", 1)[-1].split("?", 1)[0]


def _order_id(platform: str, raw: str) -> str | None:
    """The decimal order id of the path, or ``None`` for anything else (path tricks, names)."""
    text = raw.removeprefix(_SHOPIFY_GID) if platform == "shopify" else raw
    return text if _ORDER_ID.fullmatch(text) else None


class BlockService:
    def __init__(self, *, registry: ShopRegistry, processor: Processor, metrics: Metrics) -> None:
        self.registry = registry
        self.processor = processor
        self.store = processor.store
        self.metrics = metrics

    def get(
        self,
        platform: str,
        shop: str,
        order_id: str,
        *,
        authorization: str | None,
        token: str | None,
        order_key: str | None = None,
    ) -> BlockResult:
        try:
            result = self._get(
                platform,
                shop,
                order_id,
                authorization=authorization,
                token=token,
                order_key=order_key,
            )
        except RateLimitedError as exc:
            result = self._unavailable(shop, exc, retry_after=max(1, round(exc.retry_after)))
        except NotFoundError:
            result = _error(404, "unknown order")
        except PlatformError as exc:
            result = self._unavailable(shop, exc, retry_after=_RETRY_PLATFORM)
        self.metrics.blocks.labels(platform, str(result.status)).inc()
        return result

    @staticmethod
    def _unavailable(shop: str, exc: PlatformError, *, retry_after: int) -> BlockResult:
        log_event(
            logging.WARNING,
            "block request: platform did not answer",
            shop=shop[:200],
            error=str(exc),
        )
        return BlockResult(
            503,
            {"status": "error", "error": "the shop's platform did not answer; retry shortly"},
            retry_after=retry_after,
        )

    def _get(
        self,
        platform: str,
        shop: str,
        order_id: str,
        *,
        authorization: str | None,
        token: str | None,
        order_key: str | None,
    ) -> BlockResult:
        entry = self.registry.get(platform, shop) if len(shop) <= 255 else None
        if entry is None or self.processor.uninstalled(entry.domain):
            return _error(404, "unknown shop")
        number = _order_id(platform, order_id)
        if platform == "shopify":
            claims = self._shopify_claims(entry, authorization)
            if isinstance(claims, BlockResult):
                return claims
            if number is None:
                return _error(404, "unknown order")
            if not claims.get("sub"):
                # No customer to match: the stored blocks are the answer, the order is not
                # needed (blocks are stored only for an order that was fetched and decided).
                stored = self._stored(entry, number)
                if stored is not None:
                    return stored
            order = self._order(entry, number)
            if order is None:
                return _PENDING
            if not _customer_matches(claims, order):
                return _error(404, "unknown order")
        else:
            if not token:
                return _error(401, "missing ?token=")
            if not _WOO_TOKEN.fullmatch(token.strip()):
                return _error(401, "malformed ?token= (64 hex digits expected)")
            if number is None:
                return _error(404, "unknown order")
            found = self._woo_order(entry, number, token, order_key)
            if isinstance(found, BlockResult):
                return found
            order = found
        return self._blocks(entry, order)

    def _woo_order(
        self, entry: ShopEntry, number: str, token: str, named: str | None
    ) -> Order | BlockResult:
        """The order once the token is verified: against the stored key, else against the key
        the request names (then the fetched order must have that key)."""
        key = self.store.order_key(entry.domain, number)
        named = (named or "").strip()
        if key is None and not _WOO_KEY.fullmatch(named):
            return _PENDING  # no webhook of this order yet: nothing to check the token by
        if not self._woo_token_ok(entry, number, key or named, token):
            return _error(404, "unknown order")
        order = self._order(entry, number)
        if order is None:
            return _error(404, "unknown order")
        actual = dict(order.platform_ref).get("order_key")
        if key is None and (not actual or not hmac.compare_digest(actual, named)):
            return _error(404, "unknown order")
        return order

    # -- authentication -------------------------------------------------------------------------

    def _shopify_claims(
        self, entry: ShopEntry, authorization: str | None
    ) -> dict[str, Any] | BlockResult:
        scheme, _, raw = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            return _error(401, "missing Authorization: Bearer <session token>")
        if len(raw) > _MAX_JWT:
            return _error(401, "invalid session token")
        audience = self.registry.settings.shopify_api_key
        if not audience:
            log_event(logging.ERROR, "shopify_api_key is not configured; block tokens refused")
            return _error(401, "the service has no Shopify client id configured")
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
            log_event(
                logging.INFO, "block token refused", shop=entry.domain, why=type(exc).__name__
            )
            return _error(401, "invalid session token")
        dest = str(claims.get("dest", "")).strip().rstrip("/").lower().removeprefix("https://")
        if dest != entry.domain.lower():
            log_event(logging.INFO, "block token for another shop", shop=entry.domain)
            return _error(401, "session token is for another shop")
        return claims

    @staticmethod
    def _woo_token_ok(entry: ShopEntry, order_id: str, key: str, token: str) -> bool:
        expected = woocommerce_block_token(
            secret=entry.token_secret, shop=entry.domain, order_id=order_id, order_key=key
        )
        return hmac.compare_digest(expected, token.strip().lower())

    # -- content --------------------------------------------------------------------------------

    def _order(self, entry: ShopEntry, order_id: str) -> Order | None:
        if not order_id or not order_id.isascii() or len(order_id) > 64:
            return None
        try:
            return self.processor.order(entry, order_id)
        except NotFoundError:
            return None

    def _kind(self, entry: ShopEntry) -> EventKind:
        triggers = {c.trigger for c in entry.config.campaigns if c.enabled}
        if EventKind.ORDER_PAID in triggers or EventKind.ORDER_CREATED not in triggers:
            return EventKind.ORDER_PAID
        return EventKind.ORDER_CREATED

    def _stored(self, entry: ShopEntry, order_id: str) -> BlockResult | None:
        if not order_id or not order_id.isascii() or len(order_id) > 64:
            return None
        raw = load_blocks_json(self.store.db, entry.domain, order_id)
        return None if raw is None else BlockResult(200, raw=raw)

    def _blocks(self, entry: ShopEntry, order: Order) -> BlockResult:
        stored = self._stored(entry, order.id)
        if stored is not None:
            return stored
        kind = self._kind(entry)
        record = self.store.decision(shop=entry.domain, order_id=order.id, event_kind=kind)
        if record is None:
            if kind is EventKind.ORDER_PAID and order.financial_status not in PAID:
                order = self.processor.order(entry, order.id, fresh=True)
                if order.financial_status not in PAID:
                    return BlockResult(202, {"status": "pending"})
            record, _created = self.processor.decide_order(entry, order, kind)
        return BlockResult(200, self.processor.render(entry, record, order))


def _customer_matches(claims: Mapping[str, Any], order: Order) -> bool:
    sub = claims.get("sub")
    if not sub:
        return True
    if order.customer is None:
        return False
    return _numeric_id(str(sub)) == _numeric_id(order.customer.id)
