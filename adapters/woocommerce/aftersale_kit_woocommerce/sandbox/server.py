"""``WooCommerceSandbox``: a local WooCommerce store on a real socket, with a Python control API.

::

    with WooCommerceSandbox() as shop:
        api = shop.client()                     # woocommerce.API pointed at the sandbox
        order = shop.create_order("wc_v3_order_727", customer_id=23)
        shop.pay(order["id"])                   # pending -> processing, order.updated fired
        api.get("orders", params={"customer": 23}).headers["X-WP-Total"]

Everything here is also reachable over HTTP under ``/_sandbox/`` (see :mod:`.control`).
"""

from __future__ import annotations

import copy
import hashlib
import json
import ssl
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from aftersale_kit.testing.faults import FaultPlan
from aftersale_kit.testing.httpserver import Request, Response, SandboxHTTPServer

from .app import RestApp
from .auth import ApiKey, Authenticator
from .catalog import blank_product, product_response, seed_catalog, set_terms
from .control import make_control
from .coupons import coupon_response
from .orders import (
    ORDER_STATUSES,
    add_refund,
    load_order,
    net_total,
    new_order,
    order_response,
    past_order,
    payment_complete,
    purchases_of,
    refresh_derived,
    set_status,
)
from .routes_webhooks import create_webhook_record, webhook_response
from .state import Clock, OrderRecord, SiteSettings, Store
from .wc_auth import PREFIX as WC_AUTH_PREFIX
from .wc_auth import WcAuth
from .webhooks import WebhookDispatcher, WebhookOptions

__all__ = ["DEFAULT_CONSUMER_KEY", "DEFAULT_CONSUMER_SECRET", "WooCommerceSandbox"]


def _derived(label: str) -> str:
    return hashlib.sha1(f"aftersale-kit sandbox {label}".encode()).hexdigest()


DEFAULT_CONSUMER_KEY = "ck_" + _derived("consumer key")
DEFAULT_CONSUMER_SECRET = "cs_" + _derived("consumer secret")
READ_ONLY_CONSUMER_KEY = "ck_" + _derived("read-only consumer key")
READ_ONLY_CONSUMER_SECRET = "cs_" + _derived("read-only consumer secret")

#: WooCommerce-shaped bodies for injected faults. The 5xx is WordPress's fatal-error handler
#: answer; the 429 is modelled on the Store API rate limiter (wc/v3 has none of its own).
FAULT_ERROR_BODY = {
    "code": "internal_server_error",
    "message": "<p>There has been a critical error on this website.</p><p>"
    '<a href="https://wordpress.org/documentation/article/faq-troubleshooting/">'
    "Learn more about troubleshooting WordPress.</a></p>",
    "data": {"status": 500},
    "additional_errors": [],
}
FAULT_THROTTLE_BODY = {
    "code": "rate_limit_exceeded",
    "message": "Too many requests. Please wait and try again.",
    "data": {"status": 429},
}


def _seed_file(name: str) -> Any:
    text = resources.files(__package__).joinpath("seed", name).read_text(encoding="utf-8")
    return json.loads(text)


def fixture_names() -> list[str]:
    """The vendor payloads shipped as seed data (order and coupon fixtures)."""
    folder = resources.files(__package__).joinpath("seed")
    return sorted(
        entry.name.removesuffix(".json")
        for entry in folder.iterdir()
        if entry.name.endswith(".json") and ("order" in entry.name or "coupon" in entry.name)
    )


def order_fixture_names() -> list[str]:
    return [name for name in fixture_names() if "order" in name and "note" not in name]


def fixture(name: str) -> dict[str, Any]:
    """One seed payload by name (with or without ``.json``)."""
    stem = name.removesuffix(".json")
    if stem not in fixture_names():
        raise KeyError(f"no fixture {name!r}; known: {', '.join(fixture_names())}")
    data = _seed_file(stem + ".json")
    assert isinstance(data, dict)
    return data


class WooCommerceSandbox:
    """A WooCommerce store emulation serving ``/wp-json/wc/v3/`` on loopback.

    ``https=True`` serves TLS with a throw-away CA (``ca_file`` is what clients verify with;
    pass ``tls=`` to bring your own context). Over plain HTTP clients must use OAuth 1.0a, as
    the ``woocommerce`` client does; over HTTPS Basic auth or query-string keys.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        https: bool = False,
        tls: ssl.SSLContext | None = None,
        cert_dir: Path | None = None,
        consumer_key: str = DEFAULT_CONSUMER_KEY,
        consumer_secret: str = DEFAULT_CONSUMER_SECRET,
        webhook_secret: str | None = None,
        home_url: str | None = None,
        utc_offset: float = 0.0,
        wc_version: str = "9.6.0",
        wp_version: str = "6.7.1",
        faults: FaultPlan | None = None,
        webhook_options: WebhookOptions | None = None,
        seed: int = 0,
        seed_orders: bool = False,
        blocked_user_agents: tuple[str, ...] = (),
        clock: Callable[[], float] = time.time,
        allow_http_callback: bool = False,
    ) -> None:
        self.ca_file: Path | None = None
        self._tls = tls
        self._tempdir: tempfile.TemporaryDirectory[str] | None = None
        if https and tls is None:
            from aftersale_kit.testing.tls import make_test_certificate

            if cert_dir is None:
                self._tempdir = tempfile.TemporaryDirectory(prefix="wc-sandbox-tls-")
            directory = cert_dir or Path(self._tempdir.name if self._tempdir else ".")
            certificate = make_test_certificate(directory, host, "localhost")
            self._tls = certificate.server_context
            self.ca_file = certificate.ca_file
        self._fixed_home = home_url
        self._seed_orders = seed_orders
        self.clock = Clock(clock, utc_offset=utc_offset)
        self.site = SiteSettings(wc_version=wc_version, wp_version=wp_version)
        self.store = Store(self.clock, self.site, seed=seed)
        self.auth = Authenticator(self.clock.time)
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.auth.add_key(consumer_key, consumer_secret, description="sandbox read/write")
        self.read_only_key = self.auth.add_key(
            READ_ONLY_CONSUMER_KEY,
            READ_ONLY_CONSUMER_SECRET,
            permissions="read",
            description="sandbox read-only",
        )
        self.faults = faults or FaultPlan(seed=seed)
        self.faults.error_body = dict(FAULT_ERROR_BODY)
        self.faults.throttle_body = dict(FAULT_THROTTLE_BODY)
        self.webhook_options = webhook_options or WebhookOptions()
        self.app: RestApp
        self.webhooks = WebhookDispatcher(
            self.store,
            lambda webhook, resource_id: self.app.build_payload(webhook, resource_id),
            options=self.webhook_options,
            seed=seed,
        )
        self.webhooks.default_secret = webhook_secret
        self.store.emit = self.webhooks.fire
        self.app = RestApp(
            self.store,
            self.auth,
            self.webhooks,
            control=make_control(self),
            blocked_user_agents=blocked_user_agents,
            is_ssl=self._tls is not None,
        )
        #: ``/wc-auth/v1/``: WooCommerce's key approval (see :mod:`.wc_auth`).
        self.wc_auth = WcAuth(
            self.auth,
            home_url=lambda: self.site.home_url,
            allow_http_callback=allow_http_callback,
        )
        self._server = SandboxHTTPServer(
            self._dispatch, host=host, port=port, faults=self.faults, tls=self._tls
        )
        self._host = host
        self._seed()

    def _dispatch(self, request: Request) -> Response:
        if request.path.startswith(WC_AUTH_PREFIX):
            return self.wc_auth(request)
        return self.app(request)

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> WooCommerceSandbox:
        self._server.start()
        if self._fixed_home is None:
            self.site.home_url = self._server.url
        else:
            self.site.home_url = self._fixed_home.rstrip("/")
        self.webhooks.start()
        return self

    def stop(self) -> None:
        self.webhooks.stop()
        self._server.stop()
        if self._tempdir is not None:
            self._tempdir.cleanup()
            self._tempdir = None

    def __enter__(self) -> WooCommerceSandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Where the server listens (give this to the client)."""
        return self._server.url

    @property
    def home_url(self) -> str:
        """The emulated site's ``home_url`` (links, webhook source, OAuth base URI)."""
        return self.site.home_url

    def client(self, **options: Any) -> Any:
        """A ``woocommerce.API`` for this sandbox (``verify_ssl`` set to the test CA)."""
        from woocommerce import API

        settings: dict[str, Any] = {"version": "wc/v3", "timeout": 10}
        if self.ca_file is not None:
            settings["verify_ssl"] = str(self.ca_file)
        settings.update(options)
        return API(self.url, self.consumer_key, self.consumer_secret, **settings)

    def reset(self) -> None:
        """Back to the seeded state: orders, coupons, webhooks, deliveries, nonces, log."""
        self.webhooks.wait_idle(2)
        self.webhooks.reset()
        self.store.reset()
        self.auth.forget_nonces()
        self.app.clear_log()
        self.clock.skew = 0.0
        self._seed()

    def _seed(self) -> None:
        with self.store.lock:
            seed_catalog(self.store, _seed_file("catalog.json"))
            if self._seed_orders:
                for name in order_fixture_names():
                    load_order(self.store, fixture(name))

    # -- settings ---------------------------------------------------------------------------

    def set_faults(self, **settings: Any) -> dict[str, Any]:
        self.faults.update(**settings)
        return self.faults.as_dict()

    def set_webhook_options(self, **settings: Any) -> dict[str, Any]:
        self.webhook_options.update(**settings)
        return self.webhook_options.as_dict()

    def add_api_key(self, permissions: str = "read_write") -> ApiKey:
        index = len(self.auth.keys()) + 1
        return self.auth.add_key(
            "ck_" + _derived(f"key {index}"),
            "cs_" + _derived(f"secret {index}"),
            permissions=permissions,
        )

    def skew_clock(self, seconds: float) -> None:
        """Move the store's clock (OAuth timestamp window, dates) by ``seconds``."""
        self.clock.skew = float(seconds)

    # -- orders -----------------------------------------------------------------------------

    def _payload(self, fixture_name: str | None, payload: dict[str, Any] | None) -> Any:
        if fixture_name is not None and payload is not None:
            raise ValueError("give a fixture name or a payload, not both")
        if fixture_name is not None:
            return fixture(fixture_name)
        return copy.deepcopy(payload) if payload is not None else None

    def load_order(
        self, fixture_name: str | None = None, *, payload: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Store a vendor order as it is (same id, dates, shape); no webhooks fire."""
        data = self._payload(fixture_name, payload)
        if data is None:
            raise ValueError("load_order needs a fixture name or a payload")
        with self.store.lock:
            record = load_order(self.store, data)
            return order_response(self.store, record)

    def create_order(
        self,
        fixture_name: str | None = None,
        *,
        payload: dict[str, Any] | None = None,
        order_id: int | None = None,
        customer_id: int | None = None,
        email: str | None = None,
        status: str = "pending",
        line_items: list[dict[str, Any]] | None = None,
        customer_note: str | None = None,
    ) -> dict[str, Any]:
        """A checkout: a new order (from a vendor payload or from ``line_items``).

        It gets a new id (unless ``order_id``), order key and dates, starts in ``status`` and
        fires ``order.created`` (and ``order.updated`` with ``created_also_updated``).
        ``customer_note`` is what the customer wrote at checkout ("Notes about your order").
        """
        template = self._payload(fixture_name, payload)
        store = self.store
        with store.lock, self.webhooks.request_scope():
            if customer_id:
                store.customers.setdefault(int(customer_id), email or "")
            fields: dict[str, Any] = {}
            if line_items is not None:
                fields["line_items"] = line_items
            record = new_order(
                store, store.rng, template=template, order_id=order_id, fields=fields or None
            )
            data = record.data
            if customer_id is not None:
                data["customer_id"] = int(customer_id)
            if email is not None:
                data.setdefault("billing", {})["email"] = email
            if customer_note is not None:
                data["customer_note"] = customer_note
            data["status"] = status
            if status not in ("processing", "completed"):
                for key in ("date_paid", "date_completed"):
                    data[key] = None
                    data[f"{key}_gmt"] = None
            elif status == "processing":
                data["date_completed"] = data["date_completed_gmt"] = None
            refresh_derived(store, data)
            order_id = int(data["id"])
            store.emit("order", "created", order_id)
            if self.webhook_options.created_also_updated:
                store.emit("order", "updated", order_id)
            return order_response(store, record)

    def _transition(self, order_id: int, change: Callable[[OrderRecord], Any]) -> dict[str, Any]:
        store = self.store
        with store.lock, self.webhooks.request_scope():
            record = self._order_record(order_id)
            change(record)
            store.emit("order", "updated", int(order_id))
            return order_response(store, record)

    def pay(self, order_id: int, *, transaction_id: str = "") -> dict[str, Any]:
        """``payment_complete``: processing (sets ``date_paid``), fires ``order.updated``."""
        return self._transition(order_id, lambda r: payment_complete(self.store, r, transaction_id))

    def complete(self, order_id: int) -> dict[str, Any]:
        """Fulfilled: status completed (sets ``date_completed``)."""
        return self.set_status(order_id, "completed")

    fulfil = complete

    def cancel(self, order_id: int) -> dict[str, Any]:
        return self.set_status(order_id, "cancelled")

    def hold(self, order_id: int) -> dict[str, Any]:
        return self.set_status(order_id, "on-hold")

    def fail(self, order_id: int) -> dict[str, Any]:
        return self.set_status(order_id, "failed")

    def set_status(self, order_id: int, status: str) -> dict[str, Any]:
        if status not in ORDER_STATUSES:
            raise ValueError(f"unknown order status {status!r}; one of {ORDER_STATUSES}")
        return self._transition(order_id, lambda r: set_status(self.store, r, status))

    def refund(self, order_id: int, amount: Any = None, *, reason: str = "") -> dict[str, Any]:
        """A refund (all that is left by default); a full refund sets status refunded."""
        return self._transition(order_id, lambda r: add_refund(self.store, r, amount, reason))

    def _order_record(self, order_id: int) -> OrderRecord:
        record = self.store.orders.get(int(order_id))
        if record is None:
            raise KeyError(f"no order {order_id}")
        return record

    def order(self, order_id: int) -> dict[str, Any]:
        with self.store.lock:
            return order_response(self.store, self._order_record(order_id))

    def order_meta(self, order_id: int) -> list[dict[str, Any]]:
        return list(self.order(order_id).get("meta_data", []))

    def notes(self, order_id: int) -> list[dict[str, Any]]:
        with self.store.lock:
            return copy.deepcopy(self.store.notes.get(int(order_id), []))

    def customer_meta(self, customer_id: int) -> list[dict[str, Any]]:
        """The customer's user meta rows (``{"id", "key", "value"}``), as stored."""
        with self.store.lock:
            return copy.deepcopy(self.store.customer_meta.get(int(customer_id), []))

    def add_customer(self, customer_id: int, email: str = "") -> None:
        with self.store.lock:
            self.store.customers[int(customer_id)] = email

    def set_customer_history(
        self,
        customer_id: int,
        *,
        orders_count: int,
        total_spent: Any = None,
        email: str = "",
        currency: str | None = None,
        before: datetime | None = None,
    ) -> list[int]:
        """Give a customer ``orders_count`` purchases in all: orders in processing, completed or
        refunded, which is what a client counts with ``GET orders?customer=<id>&status=...``.

        Adds completed orders (30 days apart, the newest 30 days before ``before``, default
        now) while the customer has fewer; removes none. With ``total_spent``, the added
        orders' totals (in ``currency``, default the site's) bring the sum of the customer's
        purchases less refunds to it. Fires no webhooks. Returns the ids of the added orders;
        ``ValueError`` when the customer already has more purchases or spent more.
        """
        cid = int(customer_id)
        with self.store.lock:
            self.store.customers.setdefault(cid, email)
            existing = purchases_of(self.store, cid)
            missing = int(orders_count) - len(existing)
            if missing < 0:
                raise ValueError(
                    f"customer {cid} already has {len(existing)} purchases, more than "
                    f"orders_count={orders_count}"
                )
            totals = _split_total(
                total_spent, sum((net_total(r) for r in existing), Decimal(0)), missing, cid
            )
            newest = (before or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
            added = [
                past_order(
                    self.store,
                    self.store.rng,
                    customer_id=cid,
                    email=email or self.store.customers.get(cid, ""),
                    currency=currency or self.site.currency,
                    total=total,
                    paid_gmt=newest - timedelta(days=30 * (missing - index)),
                )
                for index, total in enumerate(totals)
            ]
            return [int(record.data["id"]) for record in added]

    # -- coupons and products ---------------------------------------------------------------

    def load_coupon(
        self, fixture_name: str | None = None, *, payload: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        data = self._payload(fixture_name, payload)
        if data is None:
            raise ValueError("load_coupon needs a fixture name or a payload")
        data.pop("_links", None)
        coupon: dict[str, Any] = {}
        for key, value in data.items():
            coupon[key] = value
            if key == "amount" and "status" not in data:
                coupon["status"] = "publish"
        with self.store.lock:
            self.store.coupons[int(coupon["id"])] = coupon
            return coupon_response(self.store, coupon)

    def coupons(self, *, include_trash: bool = True) -> list[dict[str, Any]]:
        with self.store.lock:
            return [
                coupon_response(self.store, c)
                for c in sorted(self.store.coupons.values(), key=lambda c: c["id"])
                if include_trash or c["status"] != "trash"
            ]

    def add_product(
        self,
        product_id: int,
        *,
        name: str,
        sku: str = "",
        categories: Any = None,
        tags: Any = None,
    ) -> dict[str, Any]:
        """Add a simple product to the catalogue (no-op for an id that exists), then set its
        categories/tags by name (created when missing) or id, as :meth:`set_product_terms`."""
        with self.store.lock:
            if int(product_id) not in self.store.products:
                product = blank_product(self.store, int(product_id), name)
                product["sku"] = sku
                self.store.products[int(product_id)] = product
        if categories is None and tags is None:
            with self.store.lock:
                return product_response(self.store, self.store.products[int(product_id)])
        return self.set_product_terms(product_id, categories=categories, tags=tags)

    def set_product_terms(
        self, product_id: int, *, categories: Any = None, tags: Any = None
    ) -> dict[str, Any]:
        """Categories/tags by name (created when missing) or id."""
        with self.store.lock:
            product = self.store.products.get(int(product_id))
            if product is None:
                raise KeyError(f"no product {product_id}")
            set_terms(self.store, product, categories=categories, tags=tags)
            return product_response(self.store, product)

    # -- webhooks ---------------------------------------------------------------------------

    def add_webhook(
        self,
        topic: str,
        delivery_url: str,
        *,
        secret: str | None = None,
        webhook_id: int = 0,
        status: str = "active",
        name: str | None = None,
        ping: bool = False,
    ) -> dict[str, Any]:
        """Register a webhook directly (optionally with a chosen id); no ping by default."""
        body = {"topic": topic, "delivery_url": delivery_url, "status": status}
        if secret is not None:
            body["secret"] = secret
        if name is not None:
            body["name"] = name
        with self.store.lock:
            if webhook_id and webhook_id in self.store.webhooks:
                raise ValueError(f"webhook {webhook_id} already exists")
        webhook = create_webhook_record(
            self.app.context,
            body,
            default_secret=self.webhooks.default_secret,
            webhook_id=webhook_id,
        )
        if ping:
            self.webhooks.ping(webhook)
        return webhook_response(self.app.context, webhook)

    def webhook_state(self, webhook_id: int) -> dict[str, Any]:
        """Status, failure count and secret of a webhook (the REST API never shows these)."""
        with self.store.lock:
            webhook = self.store.webhooks[int(webhook_id)]
            return {
                **webhook_response(self.app.context, webhook),
                "failure_count": webhook.failure_count,
                "secret": webhook.secret,
            }

    def trigger_webhook(self, webhook_id: int, resource_id: int) -> None:
        """Deliver ``webhook_id`` for ``resource_id`` now (payload built at send time)."""
        if int(webhook_id) not in self.store.webhooks:
            raise KeyError(f"no webhook {webhook_id}")
        self.webhooks.trigger(int(webhook_id), int(resource_id))

    def fire(self, topic: str, resource_id: int) -> None:
        """Run the hook of ``topic`` (e.g. ``order.updated``) for ``resource_id``."""
        resource, _, event = topic.partition(".")
        with self.webhooks.request_scope():
            self.webhooks.fire(resource, event, int(resource_id))

    def wait_for_webhooks(self, timeout: float = 10.0) -> bool:
        return self.webhooks.wait_idle(timeout)

    def deliveries(self) -> list[dict[str, Any]]:
        """Pings and deliveries with headers, body, attempts and final status."""
        return [self.webhooks.describe(d) for d in self.webhooks.deliveries()]

    # -- records ----------------------------------------------------------------------------

    def recalculations(self) -> list[dict[str, Any]]:
        """Every ``calculate_totals(true)`` a REST write caused (should stay empty for paid
        orders)."""
        with self.store.lock:
            return copy.deepcopy(self.store.recalculations)

    def customer_emails(self) -> list[dict[str, Any]]:
        with self.store.lock:
            return copy.deepcopy(self.store.customer_emails)

    def requests(self) -> list[dict[str, Any]]:
        """Every API request so far: method, path, query, body, auth method, status."""
        return self.app.logged_requests()


def _split_total(total_spent: Any, spent: Decimal, count: int, customer_id: int) -> list[Decimal]:
    """``count`` amounts that add ``total_spent - spent`` (0.00 each without ``total_spent``)."""
    if total_spent is None:
        return [Decimal("0.00")] * count
    rest = Decimal(str(total_spent)) - spent
    if rest < 0 or (count == 0 and rest != 0):
        raise ValueError(
            f"customer {customer_id} has already spent {spent}; total_spent={total_spent} "
            f"cannot be reached by adding {count} orders"
        )
    if count == 0:
        return []
    share = (rest / count).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    return [share] * (count - 1) + [rest - share * (count - 1)]
