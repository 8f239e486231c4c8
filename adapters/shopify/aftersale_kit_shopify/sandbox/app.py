"""The Shopify sandbox: a local server that answers like Shopify's GraphQL Admin API, sends
Shopify-signed webhooks, and is controlled from Python or from ``/_sandbox/``.

::

    with ShopifySandbox() as sandbox:
        order = sandbox.create_order(fixture="shopify_sample_webhook_order_2025", new_id=True)
        sandbox.subscribe("orders/paid", "http://127.0.0.1:8000/webhooks")
        ...
"""

from __future__ import annotations

import copy
import ipaddress
import json
import re
import secrets
import ssl
import threading
import time
import uuid
from collections import deque
from pathlib import Path
from typing import Any

from aftersale_kit.core.errors import MissingExtraError
from aftersale_kit.testing.faults import FaultPlan
from aftersale_kit.testing.httpserver import Request, Response, SandboxHTTPServer, json_response

from . import orders as order_ops
from .bucket import LeakyBucket
from .graphql_api import THROTTLE_DOCS, run_graphql
from .orders import Event
from .state import DiscountRecord, OrderRecord, RedeemCode, ShopState, SubscriptionRecord
from .tokens import DAY_SECONDS, TokenIssuer
from .util import SandboxError, now_utc, parse_gid, parse_time, to_decimal
from .views import Context
from .webhooks import ShopifyWebhooks

__all__ = ["DEFAULT_API_VERSION", "ShopifySandbox"]

DEFAULT_API_VERSION = "2025-10"
_VERSION = re.compile(r"^\d{4}-\d{2}$")
_GRAPHQL_PATH = re.compile(r"^/admin/api/([^/]+)/graphql\.json$")
UNAUTHORIZED_BODY = {
    "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
}
_UNSET: Any = object()
#: How many API requests :meth:`ShopifySandbox.api_requests` keeps (the oldest go first).
REQUEST_LOG_SIZE = 1000
#: Topics that are not order events and can only be triggered by hand.
MANUAL_TOPICS = ("app/uninstalled", "customers/data_request", "customers/redact", "shop/redact")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ShopifySandbox:
    """One Shopify shop on loopback.

    Options: ``shop`` (the part before ``.myshopify.com``), ``token`` (the Admin API access
    token; default random ``shpat_…``), ``secret`` (the app's client secret that signs webhooks;
    default random), ``api_version`` (webhook serialisation and the default for helpers), ``port``
    (0: a free one), ``tls`` (an ``ssl.SSLContext`` to serve HTTPS) and ``ca_file`` (the CA that
    signed it, for clients), ``faults`` (:class:`FaultPlan`), ``bucket_size`` / ``restore_rate``
    (the leaky bucket, Standard plan 2000 / 100), ``throttle_status`` (200 or 429 for THROTTLED),
    ``time_scale`` (multiplies webhook retry delays: 0.0001 turns 4 hours into 1.4 s),
    ``webhook_timeout`` (5 s), ``webhook_max_attempts`` (8), ``delete_after_failures`` (8),
    ``duplicate`` / ``reorder_window`` / ``drop`` / ``delay`` (webhook misbehaviour), ``seed``,
    ``app_id`` (the ``$app`` metafield namespace is ``app--<app_id>``), ``currency``,
    ``bulk_job_seconds`` (how long a bulk code job runs), ``webhook_ssl_context`` (to trust an
    HTTPS receiver's test CA), ``client_id`` (the app's API key, ``aud`` of session tokens;
    with ``secret`` it gets tokens from ``/admin/oauth/access_token``, see :mod:`.tokens`),
    ``token_lifetime`` (seconds such a token lives; default a day times ``time_scale``).
    """

    def __init__(
        self,
        *,
        shop: str = "sandbox-shop",
        token: str | None = None,
        secret: str | None = None,
        api_version: str = DEFAULT_API_VERSION,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: ssl.SSLContext | None = None,
        ca_file: str | Path | None = None,
        faults: FaultPlan | None = None,
        bucket_size: float = 2000.0,
        restore_rate: float = 100.0,
        throttle_status: int = 200,
        time_scale: float = 1.0,
        webhook_timeout: float = 5.0,
        webhook_max_attempts: int = 8,
        delete_after_failures: int = 8,
        duplicate: float = 0.0,
        reorder_window: float = 0.0,
        drop: float = 0.0,
        delay: float = 0.0,
        seed: int = 0,
        app_id: int = 1234567,
        currency: str = "USD",
        bulk_job_seconds: float = 0.2,
        webhook_ssl_context: ssl.SSLContext | None = None,
        client_id: str | None = None,
        token_lifetime: float | None = None,
    ) -> None:
        if not re.match(r"^[a-z0-9][a-z0-9-]*$", shop):
            raise ValueError(
                f"shop must be the part before .myshopify.com (letters, digits, '-'), got {shop!r}"
            )
        if not _VERSION.match(api_version):
            raise ValueError(f"api_version must look like YYYY-MM, got {api_version!r}")
        if not _is_loopback(host):
            raise ValueError(
                f"the sandbox listens on loopback only (its control API has no auth), got {host!r}"
            )
        if throttle_status not in (200, 429):
            raise ValueError("throttle_status must be 200 or 429")
        self.shop = shop
        self.token = token or "shpat_" + secrets.token_hex(16)
        self.secret = secret or secrets.token_hex(16)
        self.client_id = client_id or secrets.token_hex(16)
        # Client credentials grant: tokens expire on the scaled clock (a day * time_scale).
        self.tokens = TokenIssuer(
            client_id=self.client_id,
            client_secret=self.secret,
            lifetime=token_lifetime if token_lifetime is not None else DAY_SECONDS * time_scale,
        )
        self.api_version = api_version
        self.app_id = app_id
        self.ca_file = Path(ca_file) if ca_file is not None else None
        self.throttle_status = throttle_status
        self.bulk_job_seconds = bulk_job_seconds
        self.state = ShopState(shop=shop, currency=currency)
        self.bucket = LeakyBucket(maximum_available=bucket_size, restore_rate=restore_rate)
        self.faults = faults if faults is not None else FaultPlan(seed=seed)
        self.faults.error_body = {"errors": "Internal Server Error"}
        self.faults.throttle_body = {
            "errors": [
                {
                    "message": "Throttled",
                    "extensions": {"code": "THROTTLED", "documentation": THROTTLE_DOCS},
                }
            ]
        }
        self.webhooks = ShopifyWebhooks(
            self.state,
            secret=self.secret,
            time_scale=time_scale,
            timeout=webhook_timeout,
            max_attempts=webhook_max_attempts,
            delete_after_failures=delete_after_failures,
            duplicate=duplicate,
            reorder_window=reorder_window,
            drop=drop,
            delay=delay,
            seed=seed,
            ssl_context=webhook_ssl_context,
        )
        self.revoked = False
        self._requests: deque[dict[str, Any]] = deque(maxlen=REQUEST_LOG_SIZE)
        self._requests_lock = threading.Lock()
        self._timers: list[threading.Timer] = []
        self._timers_lock = threading.Lock()
        self.server = SandboxHTTPServer(
            self._handle, host=host, port=port, faults=self.faults, tls=tls
        )

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> ShopifySandbox:
        self.webhooks.start()
        self.server.start()
        return self

    def stop(self) -> None:
        self._cancel_timers()
        self.server.stop()
        self.webhooks.stop()

    def __enter__(self) -> ShopifySandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget every order, discount, metafield, subscription and delivery; refill the bucket."""
        self._cancel_timers()
        self.webhooks.reset()
        self.state.clear()
        self.bucket.reset()
        self.revoked = False
        with self._requests_lock:
            self._requests.clear()

    def _cancel_timers(self) -> None:
        with self._timers_lock:
            for timer in self._timers:
                timer.cancel()
            self._timers.clear()

    # -- addresses ------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``http(s)://127.0.0.1:<port>``."""
        return self.server.url

    @property
    def shop_domain(self) -> str:
        return self.state.domain

    def admin_url(self, api_version: str | None = None) -> str:
        """The site for ShopifyAPI: ``<url>/admin/api/<version>``."""
        return f"{self.url}/admin/api/{api_version or self.api_version}"

    def graphql_url(self, api_version: str | None = None) -> str:
        return self.admin_url(api_version) + "/graphql.json"

    @property
    def control_url(self) -> str:
        return self.url + "/_sandbox"

    # -- HTTP -----------------------------------------------------------------------------------

    def _handle(self, request: Request) -> Response:
        if request.path.startswith("/_sandbox/") or request.path == "/_sandbox":
            from .control import handle_control

            return handle_control(self, request)
        response = self._handle_api(request)
        self._log_request(request, response)
        return response

    def _log_request(self, request: Request, response: Response) -> None:
        try:
            payload = json.loads(request.body) if request.body else None
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            payload = {"query": request.body.decode("utf-8", errors="replace") or None}
        entry = {
            "method": request.method,
            "path": request.path,
            "status": response.status,
            "query": payload.get("query"),
            "variables": payload.get("variables"),
            "operation_name": payload.get("operationName"),
        }
        with self._requests_lock:
            self._requests.append(entry)

    def api_requests(self) -> list[dict[str, Any]]:
        """The API requests answered so far, oldest first (the last :data:`REQUEST_LOG_SIZE`):
        ``method``, ``path``, ``status``, ``query``, ``variables``, ``operation_name``.

        Requests failed by an injected fault never reach the shop, so they are not here;
        ``faults.requests`` counts every API request, faulted or not."""
        with self._requests_lock:
            return copy.deepcopy(list(self._requests))

    def _handle_api(self, request: Request) -> Response:
        if request.path == "/admin/oauth/access_token":
            return self.tokens.handle(request)
        if request.path == "/admin/oauth/authorize" and request.method == "GET":
            response = self.tokens.authorize(request, shop=self.shop_domain)
            if response.status == 302:
                self.revoked = False  # installed (again)
            return response
        match = _GRAPHQL_PATH.match(request.path)
        if match is None or not _VERSION.match(match.group(1)):
            return json_response(404, {"errors": "Not Found"})
        version = match.group(1)
        if request.method != "POST":
            return json_response(405, {"errors": "Method Not Allowed"})
        token = request.headers.get("X-Shopify-Access-Token")
        if self.revoked or token is None or not self._authorized(token):
            return json_response(401, UNAUTHORIZED_BODY)
        context = Context(
            state=self.state,
            version=version,
            app_id=self.app_id,
            emit=self._emit,
            bulk_job_seconds=self.bulk_job_seconds,
        )
        outcome = run_graphql(
            body=request.body,
            content_type=request.headers.get("Content-Type", "application/json"),
            context=context,
            bucket=self.bucket,
            throttle_status=self.throttle_status,
        )
        headers = [
            ("X-Request-Id", str(uuid.uuid4())),
            ("X-Shopify-API-Version", version),
            *outcome.headers,
        ]
        return json_response(outcome.status, outcome.body, headers)

    def _authorized(self, token: str) -> bool:
        """The static token, or an issued one that has not expired."""
        return secrets.compare_digest(token, self.token) or self.tokens.valid(token)

    # -- webhooks -------------------------------------------------------------------------------

    def _emit(self, events: list[Event]) -> None:
        self.webhooks.emit(events)

    def _emit_later(self, events: list[Event], delay: float) -> None:
        if delay <= 0:
            self._emit(events)
            return
        timer = threading.Timer(delay, self._emit, args=(events,))
        timer.daemon = True
        with self._timers_lock:
            self._timers.append(timer)
        timer.start()

    def subscribe(
        self,
        topic: str,
        uri: str,
        *,
        source: str = "app",
        api_version: str | None = None,
        include_fields: list[str] | None = None,
    ) -> dict[str, Any]:
        """Add a subscription. ``source="app"`` is one declared in ``shopify.app.toml`` (compliance
        topics included; never deleted for failures); ``"api"`` behaves like one made with
        ``webhookSubscriptionCreate``."""
        if source not in ("app", "api"):
            raise SandboxError("source must be 'app' or 'api'")
        if "/" not in topic:
            raise SandboxError(f"topic must look like 'orders/paid', got {topic!r}")
        record = SubscriptionRecord(
            id=self.state.new_id(),
            topic=topic,
            uri=uri,
            api_version=api_version or self.api_version,
            include_fields=list(include_fields or []),
            source=source,
        )
        with self.state.lock:
            self.state.subscriptions[record.id] = record
        return record.as_dict()

    def subscriptions(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return [s.as_dict() for s in self.state.subscriptions.values()]

    def deliveries(self) -> list[dict[str, Any]]:
        """Every delivery with its headers, body and attempts (dropped ones too)."""
        return [d.as_dict() for d in self.webhooks.deliveries()]

    def wait_for_deliveries(self, timeout: float = 10.0) -> bool:
        """Wait until no delivery is queued or in flight (scheduled retries count as queued)."""
        return self.webhooks.wait_idle(timeout)

    def configure_webhooks(self, **settings: Any) -> dict[str, Any]:
        """``duplicate``, ``reorder_window``, ``drop``, ``delay``, ``time_scale``, ``timeout``,
        ``max_attempts``, ``delete_after_failures``."""
        self.webhooks.configure(**settings)
        return self.webhooks.settings()

    def trigger(self, topic: str, payload: dict[str, Any] | None = None, **fields: Any) -> int:
        """Send a topic that no order transition fires (``app/uninstalled`` and the compliance
        topics ``customers/data_request``, ``customers/redact``, ``shop/redact``); returns how
        many deliveries were made. ``customer_id`` fills in the compliance payloads."""
        if topic not in MANUAL_TOPICS and payload is None:
            raise SandboxError(
                f"topic {topic!r} needs a payload; without one only {', '.join(MANUAL_TOPICS)}"
            )
        body = payload if payload is not None else self._manual_payload(topic, **fields)
        return len(self.webhooks.emit([Event(topic, body)]))

    def uninstall(self) -> int:
        """The merchant uninstalls the app: ``app/uninstalled`` goes out, the token stops
        working and the API-created subscriptions are gone."""
        count = self.trigger("app/uninstalled")
        self.tokens.expire_all()
        with self.state.lock:
            self.revoked = True
            for key in [k for k, s in self.state.subscriptions.items() if s.source == "api"]:
                del self.state.subscriptions[key]
        return count

    def _manual_payload(self, topic: str, *, customer_id: Any = None) -> dict[str, Any]:
        state = self.state
        base = {"shop_id": state.shop_id, "shop_domain": state.domain}
        if topic == "app/uninstalled":
            return {
                "id": state.shop_id,
                "name": state.shop,
                "email": state.email,
                "domain": state.domain,
                "myshopify_domain": state.domain,
                "country_code": "US",
                "currency": state.currency,
                "iana_timezone": "Etc/UTC",
                "plan_name": "partner_test",
                "plan_display_name": "Developer Preview",
                "primary_locale": "en",
                "created_at": "2021-01-01T00:00:00+00:00",
                "updated_at": "2021-01-01T00:00:00+00:00",
            }
        if topic == "shop/redact":
            return base
        customer: dict[str, Any] = {"id": None, "email": None, "phone": None}
        order_ids: list[int] = []
        with state.lock:
            if customer_id is not None:
                record = state.customers.get(int(str(customer_id).rsplit("/", 1)[-1]))
                if record is None:
                    raise SandboxError(f"customer {customer_id} does not exist", status=404)
                customer = {"id": record.id, "email": record.email, "phone": record.phone}
                order_ids = [
                    r.id
                    for r in state.orders.values()
                    if (r.rest.get("customer") or {}).get("id") == record.id
                ]
        if topic == "customers/redact":
            return {**base, "customer": customer, "orders_to_redact": order_ids}
        return {
            **base,
            "customer": customer,
            "orders_requested": order_ids,
            "data_request": {"id": self.state.new_id()},
        }

    # -- checkout extension session tokens -------------------------------------------------------

    def session_token(
        self,
        *,
        customer_id: Any = None,
        ttl: float = 300.0,
        issued_at: float | None = None,
    ) -> str:
        """A session token as ``shopify.sessionToken.get()`` gives a checkout UI extension.

        HS256, signed with the client secret, claims ``dest`` (the shop domain), ``aud`` (the
        client id), ``exp``/``nbf``/``iat``/``jti`` and ``sub`` (the customer GID) for logged-in
        buyers; no ``iss`` and no ``sid`` (shopify.dev/docs/api/checkout-ui-extensions, session
        token). ``ttl``: 5 minutes, as Shopify's.
        """
        try:
            import jwt
        except ImportError as exc:  # pragma: no cover - PyJWT comes with the sandbox extra
            raise MissingExtraError("minting sandbox session tokens", "sandbox") from exc
        now = int(issued_at if issued_at is not None else time.time())
        claims: dict[str, Any] = {
            "dest": self.shop_domain,
            "aud": self.client_id,
            "exp": now + int(ttl),
            "nbf": now,
            "iat": now,
            "jti": str(uuid.uuid4()),
        }
        if customer_id is not None:
            text = str(customer_id)
            claims["sub"] = text if text.startswith("gid://") else f"gid://shopify/Customer/{text}"
        return str(jwt.encode(claims, self.secret, algorithm="HS256"))

    # -- orders ---------------------------------------------------------------------------------

    def _record(self, order_id: Any) -> OrderRecord:
        text = str(order_id)
        parsed = parse_gid(text)
        try:
            key = parsed[1] if parsed else int(text)
        except ValueError as exc:
            raise SandboxError(f"order id must be a number or an Order GID, got {text!r}") from exc
        record = self.state.orders.get(key)
        if record is None:
            raise SandboxError(f"order {text} does not exist in the sandbox", status=404)
        return record

    def _built_order(
        self, customer: Any, spec: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None]:
        """``(rest, inline products, customer spec)`` of an order built from ``spec``."""
        if isinstance(customer, dict):
            known = self.state.customers.get(int(customer.get("id") or 0))
            email = customer.get("email") or (known.email if known else None)
            if email:
                spec.setdefault("email", email)
        rest, inline_products = order_ops.build_order(self.state, spec)
        customer_spec: dict[str, Any] | None = None
        if customer is _UNSET:
            customer_spec = {"first_name": "Sandbox", "last_name": "Buyer"}
        elif customer is not None:
            customer_spec = dict(customer)
        if customer_spec is not None:
            customer_spec.setdefault("email", rest["email"])
        return rest, inline_products, customer_spec

    def create_order(
        self,
        fixture: str | None = None,
        *,
        order: dict[str, Any] | None = None,
        overrides: dict[str, Any] | None = None,
        customer: Any = _UNSET,
        products: dict[str, dict[str, Any]] | None = None,
        visible_after: float = 0.0,
        new_id: bool = False,
        **spec: Any,
    ) -> dict[str, Any]:
        """Create an order and fire ``orders/create`` (and ``orders/paid`` when it is paid).

        From a vendor ``fixture`` (by name, see :meth:`fixtures`), from a full REST ``order``, or
        built from ``spec`` (``line_items``, ``currency``, ``email``, ``financial_status``, ...,
        see ``orders.build_order``). ``customer``: history and tags for the order's customer
        (``orders_count``, ``total_spent``, ``tags``, ``email``, ...), or ``None`` for a guest
        order. ``products``: taxonomy per product id (``product_type``, ``tags``, ``vendor``,
        ``collections`` as handles). ``visible_after``: seconds during which the API does not see
        the order yet (its webhooks go out when it becomes visible). Returns the REST order.
        """
        if fixture is not None and order is not None:
            raise SandboxError("give either fixture or order, not both")
        with self.state.lock:
            inline_products: dict[str, Any] = {}
            customer_spec: dict[str, Any] | None = None
            if fixture is not None:
                rest = _fixture_order(fixture)
            elif order is not None:
                rest = copy.deepcopy(order.get("order", order))
            else:
                rest, inline_products, customer_spec = self._built_order(customer, spec)
            if overrides:
                rest = {**rest, **copy.deepcopy(overrides)}
            customer_spec = _attach_customer(rest, customer, customer_spec)
            record = order_ops.register_order(
                self.state,
                rest,
                customer=customer_spec,
                products={**inline_products, **(products or {})},
                visible_after=visible_after,
                new_id=new_id,
            )
            events = [Event("orders/create", copy.deepcopy(record.rest))]
            if record.rest.get("financial_status") == "paid":
                events.append(Event("orders/paid", copy.deepcopy(record.rest)))
            result = copy.deepcopy(record.rest)
        self._emit_later(events, visible_after)
        return result

    def _transition(self, events: list[Event]) -> None:
        self._emit(events)

    def pay(self, order_id: Any) -> dict[str, Any]:
        with self.state.lock:
            record = self._record(order_id)
            events = order_ops.pay(record)
            result = copy.deepcopy(record.rest)
        self._transition(events)
        return result

    def fulfill(self, order_id: Any, *, tracking_number: str | None = None) -> dict[str, Any]:
        with self.state.lock:
            record = self._record(order_id)
            events = order_ops.fulfill(self.state, record, tracking_number=tracking_number)
            result = copy.deepcopy(record.rest)
        self._transition(events)
        return result

    def cancel(
        self, order_id: Any, *, reason: str = "customer", refund: bool = False
    ) -> dict[str, Any]:
        with self.state.lock:
            record = self._record(order_id)
            events = order_ops.cancel(self.state, record, reason=reason, refund_payment=refund)
            result = copy.deepcopy(record.rest)
        self._transition(events)
        return result

    def refund(
        self,
        order_id: Any,
        *,
        amount: Any = None,
        line_items: list[dict[str, Any]] | None = None,
        note: str | None = None,
    ) -> dict[str, Any]:
        """Refund; returns the REST refund (the ``refunds/create`` body)."""
        with self.state.lock:
            record = self._record(order_id)
            events = order_ops.refund(
                self.state, record, amount=amount, line_items=line_items, note=note
            )
            result = copy.deepcopy(events[0].body)
        self._transition(events)
        return result

    def order(self, order_id: Any) -> dict[str, Any]:
        """The REST order as the sandbox holds it (visible or not)."""
        with self.state.lock:
            return copy.deepcopy(self._record(order_id).rest)

    def orders(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return [copy.deepcopy(r.rest) for r in self.state.orders.values()]

    @staticmethod
    def fixtures() -> list[str]:
        """Names of the vendor payloads shipped with the sandbox."""
        return order_ops.fixture_names()

    # -- customers, products --------------------------------------------------------------------

    def set_customer(self, **spec: Any) -> dict[str, Any]:
        """Create or update a customer: ``id``, ``email``, ``first_name``, ``last_name``,
        ``tags``, ``orders_count`` and ``total_spent`` (absolute; default computed), ``locale``."""
        with self.state.lock:
            record = order_ops.upsert_customer(
                self.state, {**spec, "_explicit_history": True}, currency=self.state.currency
            )
            count, spent = self.state.customer_history(record)
            return {
                "id": record.gid,
                "legacy_id": record.id,
                "email": record.email,
                "tags": list(record.tags),
                "orders_count": count,
                "total_spent": str(spent),
            }

    def set_product(self, product_id: Any = None, **spec: Any) -> dict[str, Any]:
        """Create or update a product: ``title``, ``product_type``, ``vendor``, ``tags``,
        ``collections`` (handles)."""
        with self.state.lock:
            if product_id is None:
                key = self.state.new_id()
            else:
                parsed = parse_gid(str(product_id))
                key = parsed[1] if parsed else int(str(product_id))
            record = order_ops.upsert_product(self.state, key, spec)
            return {
                "id": record.gid,
                "legacy_id": record.id,
                "title": record.title,
                "product_type": record.product_type,
                "vendor": record.vendor,
                "tags": list(record.tags),
                "collections": list(record.collections),
                "collection_ids": [self.state.collection(h).gid for h in record.collections],
            }

    # -- discounts, metafields, tags ---------------------------------------------------------

    def discounts(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return [d.summary_dict() for d in self.state.discounts.values()]

    def load_discount_fixture(
        self,
        price_rule: str = "shopify_python_api_price_rule",
        discount_code: str = "shopify_python_api_discount_code",
    ) -> dict[str, Any]:
        """Seed a discount from the legacy REST price rule and discount code payloads."""
        rule = order_ops.load_fixture(price_rule).get("price_rule")
        code = order_ops.load_fixture(discount_code).get("discount_code")
        if not isinstance(rule, dict) or not isinstance(code, dict):
            raise SandboxError("expected a price_rule fixture and a discount_code fixture")
        with self.state.lock:
            if self.state.discount_by_code(str(code["code"])):
                raise SandboxError(f"code {code['code']} already exists", status=409)
            raw_value = to_decimal(rule.get("value", 0))
            value: dict[str, Any]
            if rule.get("value_type") == "percentage":
                value = {"percentage": float(abs(raw_value) / 100)}
            else:
                value = {"amount": abs(raw_value), "applies_on_each_item": False}
            redeem = RedeemCode(
                int(code["id"]), str(code["code"]), int(code.get("usage_count") or 0)
            )
            record = DiscountRecord(
                id=int(rule["id"]),
                kind="basic",
                title=str(rule.get("title") or code["code"]),
                codes=[redeem],
                starts_at=parse_time(rule.get("starts_at")) or now_utc(),
                ends_at=parse_time(rule.get("ends_at")),
                usage_limit=rule.get("usage_limit"),
                applies_once_per_customer=bool(rule.get("once_per_customer")),
                value=value,
                currency=self.state.currency,
            )
            self.state.discounts[record.id] = record
            return record.summary_dict()

    def email_marketing_consent(self, customer_id: int) -> dict[str, Any] | None:
        """The customer's ``emailMarketingConsent`` as stored (``None``: no such customer)."""
        with self.state.lock:
            record = self.state.customers.get(int(customer_id))
            if record is None:
                return None
            at = record.email_consent_updated_at
            return {
                "marketing_state": record.email_marketing_state,
                "opt_in_level": record.email_opt_in_level,
                "consent_updated_at": at.isoformat() if at is not None else None,
            }

    def metafields(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return [m.as_dict() for m in self.state.metafields.values()]

    def tags(self) -> dict[str, list[str]]:
        """Tags per resource GID (orders, customers, products that have any)."""
        with self.state.lock:
            out: dict[str, list[str]] = {}
            for record in self.state.orders.values():
                tags = [t.strip() for t in str(record.rest.get("tags") or "").split(",")]
                if any(tags):
                    out[record.gid] = [t for t in tags if t]
            for customer in self.state.customers.values():
                if customer.tags:
                    out[customer.gid] = list(customer.tags)
            for product in self.state.products.values():
                if product.tags:
                    out[product.gid] = list(product.tags)
            return out

    # -- faults and bucket ----------------------------------------------------------------------

    def set_faults(self, **settings: Any) -> dict[str, Any]:
        """``error_5xx``, ``rate_429``, ``retry_after``, ``timeout``, ``hang_seconds``,
        ``latency``, ``seed`` (shares are 0..1)."""
        self.faults.update(**settings)
        return self.faults.as_dict()

    def fail_next(
        self, kind: str, count: int = 1, *, retry_after: float | None = None
    ) -> dict[str, Any]:
        """The next ``count`` API requests fail with ``kind``: ``"5xx"``, ``"429"`` (with
        ``Retry-After``) or ``"timeout"`` (held, then closed); ``count`` < 0: every request until
        :meth:`clear_fault_script`."""
        try:
            self.faults.fail_next(kind, count, retry_after=retry_after)
        except ValueError as exc:
            raise SandboxError(str(exc)) from exc
        return self.faults.as_dict()

    def clear_fault_script(self) -> dict[str, Any]:
        """Forget the faults scripted with :meth:`fail_next`."""
        self.faults.clear_script()
        return self.faults.as_dict()

    def set_bucket(
        self,
        *,
        maximum_available: float | None = None,
        restore_rate: float | None = None,
        currently_available: float | None = None,
        throttle_status: int | None = None,
    ) -> dict[str, Any]:
        if throttle_status is not None:
            if throttle_status not in (200, 429):
                raise SandboxError("throttle_status must be 200 or 429")
            self.throttle_status = throttle_status
        try:
            self.bucket.configure(
                maximum_available=maximum_available,
                restore_rate=restore_rate,
                currently_available=currently_available,
            )
        except ValueError as exc:
            raise SandboxError(str(exc)) from exc
        return {**self.bucket.status(), "throttleHttpStatus": self.throttle_status}

    def summary(self) -> dict[str, Any]:
        with self.state.lock:
            return {
                "shop_domain": self.shop_domain,
                "url": self.url,
                "api_version": self.api_version,
                "orders": len(self.state.orders),
                "customers": len(self.state.customers),
                "products": len(self.state.products),
                "discounts": len(self.state.discounts),
                "metafields": len(self.state.metafields),
                "subscriptions": len(self.state.subscriptions),
                "deliveries": len(self.webhooks.deliveries()),
                "api_requests": self.faults.requests,
                "bucket": {**self.bucket.status(), "throttleHttpStatus": self.throttle_status},
                "faults": self.faults.as_dict(),
                "webhooks": self.webhooks.settings(),
                "revoked": self.revoked,
            }


def _fixture_order(fixture: str) -> dict[str, Any]:
    """The REST order of a shipped vendor fixture."""
    if fixture.removesuffix(".json") not in order_ops.ORDER_FIXTURES:
        raise SandboxError(
            f"fixture {fixture!r} is not an order; order fixtures: "
            f"{', '.join(order_ops.ORDER_FIXTURES)}",
            status=404 if fixture not in order_ops.fixture_names() else 400,
        )
    loaded = order_ops.load_fixture(fixture)
    rest: dict[str, Any] = loaded.get("order", loaded)
    return rest


def _attach_customer(
    rest: dict[str, Any], customer: Any, customer_spec: dict[str, Any] | None
) -> dict[str, Any] | None:
    """Drop the customer of a guest order (``customer=None``), or fill the order's emails from the
    customer's; returns the customer spec to register."""
    if customer is None:
        rest.pop("customer", None)
    elif customer is not _UNSET and customer_spec is None:
        customer_spec = dict(customer)
    if customer_spec is not None and customer_spec.get("email"):
        rest["email"] = rest.get("email") or customer_spec["email"]
        if "contact_email" in rest:
            rest["contact_email"] = rest.get("contact_email") or customer_spec["email"]
    return customer_spec
