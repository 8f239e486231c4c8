"""The Shopify adapter against the Shopify sandbox: the shared contract plus Shopify specifics
(enrichment cache and query shape, coupon inputs as stored, rotation, two shops from many
threads, webhook subscriptions, THROTTLED from the real leaky bucket)."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from aftersale_kit_shopify import RetryPolicy, ShopifyAdapter
from aftersale_kit_shopify import queries as q
from aftersale_kit_shopify.sandbox import ShopifySandbox, sign

from aftersale_kit.core.campaign import CouponKind, IssueCoupon, ShopSettings
from aftersale_kit.core.decision import PlannedAction
from aftersale_kit.core.errors import InvalidRequestError, RateLimitedError
from aftersale_kit.core.money import Money
from aftersale_kit.core.platform import (
    CUSTOMER_ORDERS_COUNT,
    CUSTOMER_TAGS,
    CUSTOMER_TOTAL_SPENT,
    ENRICHABLE_FIELDS,
    LINE_ITEMS_CATEGORIES,
    LINE_ITEMS_PRODUCT_TYPE,
    LINE_ITEMS_TAGS,
    ConfirmationContent,
    CustomerLoyalty,
    WebhookKind,
    coupon_spec,
)
from aftersale_kit.testing.faults import FaultPlan
from aftersale_kit.testing.httpserver import Request, Response, SandboxHTTPServer

from .base import ContractHarness, Delivery, PlatformContract

API_VERSION = "2026-01"


class _Receiver:
    """The app's webhook endpoint: records the raw bytes and headers the sandbox sends."""

    def __init__(self) -> None:
        self.received: list[Delivery] = []
        self.lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        with self.lock:
            self.received.append(({k: v for k, v in request.headers.items()}, request.body))
        return Response(200)


class ShopifyHarness:
    """Runs one sandbox shop (and a webhook receiver) for the contract tests."""

    platform = "shopify"
    unknown_topic = "products/update"
    paid_topic = "orders/paid"
    orders_page_size = q.ORDERS_PAGE

    def __init__(self, *, shop: str = "contract-shop") -> None:
        self.faults = FaultPlan(hang_seconds=1.0)
        self.sandbox = ShopifySandbox(
            shop=shop, api_version=API_VERSION, currency="EUR", faults=self.faults
        )
        self.receiver = _Receiver()
        self.receiver_server = SandboxHTTPServer(self.receiver)
        self.wrong_token = "shpat_" + uuid.uuid4().hex
        self.previous_secret: str | None = None

    def __enter__(self) -> ShopifyHarness:
        self.sandbox.start()
        self.receiver_server.start()
        for topic in ("orders/paid", "refunds/create", "customers/redact"):
            self.sandbox.subscribe(topic, self.receiver_server.url + "/webhooks")
        # a port nobody listens on: bind, note, close
        probe = SandboxHTTPServer(lambda r: Response(200)).start()
        self.dead_url = probe.url
        probe.stop()
        return self

    def __exit__(self, *exc: object) -> None:
        self.receiver_server.stop()
        self.sandbox.stop()

    @property
    def settings(self) -> ShopSettings:
        return ShopSettings(
            platform="shopify",
            domain=self.sandbox.shop_domain,
            currency="EUR",
            api_base_url=self.sandbox.url,
            api_version=API_VERSION,
        )

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.sandbox.token, self.sandbox.secret, self.wrong_token)

    def adapter(
        self,
        *,
        wrong_token: bool = False,
        unreachable: bool = False,
        timeout: float = 5.0,
        max_attempts: int = 3,
        max_total_wait: float = 3.0,
    ) -> ShopifyAdapter:
        settings = self.settings
        if unreachable:
            settings = replace(settings, api_base_url=self.dead_url)
        secrets = {
            "api_token": self.wrong_token if wrong_token else self.sandbox.token,
            "webhook_secret": self.sandbox.secret,
        }
        if self.previous_secret:
            secrets["previous_webhook_secret"] = self.previous_secret
        retry = RetryPolicy(
            max_attempts=max_attempts,
            base_delay=0.02,
            max_delay=0.1,
            max_total_wait=max_total_wait,
            timeout=timeout,
        )
        return ShopifyAdapter.from_settings(settings, secrets=secrets, retry=retry)

    def create_paid_order(
        self,
        *,
        customer_orders: int = 1,
        product_type: str = "Kaffee",
        guest: bool = False,
        email: str | None = None,
        customer_note: str | None = None,
    ) -> str:
        customer: Any = None
        if not guest:
            customer = {
                "first_name": "Anna",
                "last_name": "Muster",
                "orders_count": customer_orders,
                "total_spent": str(Decimal(40) * customer_orders),
                "tags": ["vip"] if customer_orders > 2 else [],
            }
            if email:
                customer["email"] = email
        line = {
            "title": "Espresso 1kg",
            "price": "40.00",
            "product": {
                "product_type": product_type,
                "tags": ["bio"],
                "collections": ["coffee"],
            },
        }
        spec: dict[str, Any] = {"line_items": [line], "financial_status": "paid"}
        if email:
            spec["email"] = email
        if customer_note is not None:
            spec["note"] = customer_note
        order = self.sandbox.create_order(customer=customer, **spec)
        return str(order["id"])

    def order_webhook(self, order_id: str, *, delivery: int = 0) -> Delivery:
        self.sandbox.wait_for_deliveries(5.0)
        with self.receiver.lock:
            found = [
                (headers, body)
                for headers, body in self.receiver.received
                if headers.get("X-Shopify-Topic") == "orders/paid"
                and str(json.loads(body)["id"]) == order_id
            ]
        assert found, f"the sandbox sent no orders/paid delivery for order {order_id}"
        headers, body = found[0]
        if delivery:
            # Shopify retries with the original payload; a second subscription delivers the
            # same event with another webhook id.
            headers = {**headers, "X-Shopify-Webhook-Id": str(uuid.uuid4())}
        return dict(headers), body

    def deliveries(self, topic: str) -> list[Delivery]:
        """What the sandbox delivered on ``topic`` so far (raw headers and bytes)."""
        self.sandbox.wait_for_deliveries(5.0)
        with self.receiver.lock:
            return [(h, b) for h, b in self.receiver.received if h.get("X-Shopify-Topic") == topic]

    def signed_webhook(self, topic: str, body: bytes) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": sign(body, self.sandbox.secret),
            "X-Shopify-Shop-Domain": self.sandbox.shop_domain,
            "X-Shopify-API-Version": API_VERSION,
            "X-Shopify-Webhook-Id": str(uuid.uuid4()),
            "X-Shopify-Event-Id": str(uuid.uuid4()),
            "X-Shopify-Triggered-At": datetime.now(UTC).isoformat(),
        }

    def inject(self, fault: str, *, count: int, retry_after: float = 0.2) -> None:
        self.faults.fail_next(fault, count, retry_after=retry_after)

    def clear_faults(self) -> None:
        """No scripted faults, and a full bucket (so tests do not inherit each other's cost)."""
        self.faults.clear_script()
        self.sandbox.set_bucket(currently_available=2000, restore_rate=100)

    def api_requests(self) -> int:
        return self.faults.requests

    def coupons(self, code: str) -> list[Mapping[str, Any]]:
        return [
            {**d, "active": d["status"] == "ACTIVE"}
            for d in self.sandbox.discounts()
            if any(c.lower() == code.lower() for c in d["codes"])
        ]

    def content(self, order_id: str) -> str:
        owner = f"gid://shopify/Order/{order_id}"
        values = [
            m["value"]
            for m in self.sandbox.metafields()
            if m["owner_id"] == owner and m["key"] == "blocks"
        ]
        assert len(values) <= 1, "the content metafield exists more than once"
        return values[0] if values else ""

    def order_tags(self, order_id: str) -> set[str]:
        return set(self.sandbox.tags().get(f"gid://shopify/Order/{order_id}", []))

    def customer_note(self, order_id: str) -> str:
        return str(self.sandbox.order(order_id).get("note") or "")

    def staff_notes(self, order_id: str) -> list[str]:
        return [line for line in self.customer_note(order_id).splitlines() if line.strip()]

    def customer_loyalty(self, customer_id: str) -> list[Mapping[str, Any]]:
        owner = f"gid://shopify/Customer/{customer_id}"
        return [
            json.loads(m["value"])
            for m in self.sandbox.metafields()
            if m["owner_id"] == owner and m["key"] == "loyalty"
        ]

    def marketing_consent(self, customer_id: str) -> tuple[bool, str | None]:
        found = self.sandbox.email_marketing_consent(int(customer_id))
        assert found is not None
        return found["marketing_state"] == "SUBSCRIBED", found["consent_updated_at"]

    def customer_tags(self, customer_id: str) -> list[str]:
        return self.sandbox.tags().get(f"gid://shopify/Customer/{customer_id}", [])


@pytest.fixture(scope="module")
def harness() -> Iterator[ShopifyHarness]:
    with ShopifyHarness() as running:
        yield running


@pytest.fixture(autouse=True)
def _full_bucket(request: pytest.FixtureRequest) -> None:
    """The Shopify-specific tests below start, as the contract's do, with a full bucket and no
    scripted faults: none inherits the query cost of the tests before it (which ones ran before
    depends on the selection, e.g. `make unit-fast` leaves the slow ones out)."""
    if "harness" in request.fixturenames:
        request.getfixturevalue("harness").clear_faults()


class TestShopifyContract(PlatformContract):
    """Everything in :class:`PlatformContract`, against the Shopify sandbox."""


def test_the_harness_implements_the_protocol(harness: ShopifyHarness) -> None:
    checked: ContractHarness = harness  # mypy checks the structure
    assert checked.platform == "shopify"


# -- Shopify specifics ----------------------------------------------------------------------------


def _planned(code: str, **action: Any) -> PlannedAction:
    options: dict[str, Any] = {"kind": CouponKind.PERCENTAGE, "value": Decimal(10)}
    options.update(action)
    return PlannedAction(
        campaign_id="thanks",
        action=IssueCoupon(valid_days=30, **options),
        idempotency_key=f"shopify:{code}",
        cost=Money(Decimal(5), "EUR"),
        coupon_code=code,
    )


def test_fetched_order_agrees_with_the_webhook_order(harness: ShopifyHarness) -> None:
    # given a paid order and the webhook the sandbox sent for it
    order_id = harness.create_paid_order(customer_orders=2)
    headers, body = harness.order_webhook(order_id)
    adapter = harness.adapter()
    hooked = adapter.verify_webhook(headers, body).order
    # when the same order is read through the API
    fetched = adapter.fetch_order(order_id)
    # then both describe it alike
    assert hooked is not None
    for name in ("id", "number", "currency", "total", "subtotal", "shipping", "tax", "email"):
        assert getattr(fetched, name) == getattr(hooked, name), name
    assert fetched.financial_status == hooked.financial_status
    assert fetched.ref("gid") == hooked.ref("gid")
    assert fetched.customer is not None and hooked.customer is not None
    assert fetched.customer.id == hooked.customer.id
    assert [li.id for li in fetched.line_items] == [li.id for li in hooked.line_items]
    assert [li.product_id for li in fetched.line_items] == [
        li.product_id for li in hooked.line_items
    ]


def test_vendor_sample_order_through_the_sandbox_webhook(harness: ShopifyHarness) -> None:
    # given Shopify's own sample order (made paid), loaded into the sandbox with fresh ids
    rest = harness.sandbox.create_order(
        fixture="shopify_sample_webhook_order_2025",
        new_id=True,
        overrides={"financial_status": "paid", "cancelled_at": None, "cancel_reason": None},
    )
    order_id = str(rest["id"])
    # when the sandbox's signed orders/paid delivery reaches the adapter
    headers, body = harness.order_webhook(order_id)
    hook = harness.adapter().verify_webhook(headers, body)
    # then it is the paid sample order, ids exact (above 2**53)
    assert hook.kind is WebhookKind.ORDER_PAID and hook.order is not None
    assert hook.order.id == order_id and int(order_id) > 2**53
    assert [li.title for li in hook.order.line_items] == [li["title"] for li in rest["line_items"]]
    assert hook.order.total == Money(Decimal(rest["total_price"]), rest["currency"])


def test_refund_and_redact_deliveries_from_the_sandbox(harness: ShopifyHarness) -> None:
    adapter = harness.adapter()
    order_id = harness.create_paid_order()
    refund = harness.sandbox.refund(order_id, amount="40.00")
    (headers, body) = next(
        (h, b)
        for h, b in harness.deliveries("refunds/create")
        if json.loads(b)["id"] == refund["id"]
    )
    hook = adapter.verify_webhook(headers, body)
    assert hook.kind is WebhookKind.REFUND_CREATED and hook.order_id == order_id
    refunded = adapter.fetch_order(order_id)
    assert refunded.financial_status.value in ("refunded", "partially_refunded")
    customer = refunded.customer
    assert customer is not None
    harness.sandbox.trigger("customers/redact", customer_id=customer.id)
    headers, body = harness.deliveries("customers/redact")[-1]
    redact = adapter.verify_webhook(headers, body)
    assert redact.kind is WebhookKind.CUSTOMERS_REDACT
    assert int(order_id) in redact.payload["orders_to_redact"]


def test_enrich_reads_exactly_the_requested_fields_once_then_caches(
    harness: ShopifyHarness,
) -> None:
    order_id = harness.create_paid_order(customer_orders=3, product_type="Tee")
    adapter = harness.adapter()
    headers, body = harness.order_webhook(order_id)
    order = adapter.verify_webhook(headers, body).order
    assert order is not None and order.customer is not None
    assert order.customer.orders_count is None and order.line_items[0].product_type is None
    # one request fills every enrichment field
    before = harness.api_requests()
    enriched = adapter.enrich(order, ENRICHABLE_FIELDS)
    assert harness.api_requests() - before == 1
    assert enriched.customer is not None
    assert enriched.customer.orders_count == 3
    assert enriched.customer.total_spent == Money(Decimal(120), "EUR")
    assert enriched.customer.tags == ("vip",)
    line = enriched.line_items[0]
    assert (line.product_type, line.tags, line.categories) == ("Tee", ("bio",), ("coffee",))
    # the same order again (a redelivery): answered from the cache
    again = adapter.enrich(order, frozenset({CUSTOMER_ORDERS_COUNT, LINE_ITEMS_TAGS}))
    assert harness.api_requests() - before == 1
    assert again.customer is not None and again.customer.orders_count == 3


def test_long_orders_are_read_page_by_page(harness: ShopifyHarness) -> None:
    # given an order with 30 line items (pages hold 25, 10 with collections, 5 in the sweep)
    since = datetime.now(UTC).replace(microsecond=0)
    lines = [
        {"title": f"Tee {i}", "price": "5.00", "product": {"product_type": f"Type {i}"}}
        for i in range(30)
    ]
    rest = harness.sandbox.create_order(line_items=lines, financial_status="paid")
    order_id = str(rest["id"])
    adapter = harness.adapter()
    # (a Plus shop's bucket: this is about pages, and the three reads cost more than a standard
    # bucket holds, so they would wait for it to refill or, past the wait budget, fail)
    standard = harness.sandbox.bucket.maximum_available
    harness.sandbox.set_bucket(maximum_available=20000, currently_available=20000)
    try:
        # when it is fetched, enriched with collections, and swept
        fetched = adapter.fetch_order(order_id)
        before = harness.api_requests()
        fields = frozenset({LINE_ITEMS_CATEGORIES, LINE_ITEMS_PRODUCT_TYPE})
        enriched = adapter.enrich(fetched, fields)
        enrich_requests = harness.api_requests() - before
        swept = next(o for o in adapter.orders_since(since) if o.id == order_id)
    finally:
        harness.sandbox.set_bucket(maximum_available=standard, currently_available=standard)
    # then every line item is there, in order, and enriched
    expected = [str(li["id"]) for li in rest["line_items"]]
    assert [li.id for li in fetched.line_items] == expected
    assert [li.id for li in swept.line_items] == expected
    assert [li.product_type for li in enriched.line_items] == [f"Type {i}" for i in range(30)]
    assert all(li.categories == () for li in enriched.line_items)
    assert enrich_requests == 3  # 10 + 10 + 10


def test_enrich_asks_only_for_what_is_missing(harness: ShopifyHarness) -> None:
    order_id = harness.create_paid_order(customer_orders=2)
    adapter = harness.adapter()
    plain = adapter.fetch_order(order_id)
    before = harness.api_requests()
    partial = adapter.enrich(plain, frozenset({CUSTOMER_ORDERS_COUNT}))
    more = adapter.enrich(partial, frozenset({CUSTOMER_ORDERS_COUNT, CUSTOMER_TOTAL_SPENT}))
    assert harness.api_requests() - before == 2  # the second read fetched total_spent only
    assert more.customer is not None
    assert (more.customer.orders_count, more.customer.total_spent) == (
        2,
        Money(Decimal(80), "EUR"),
    )
    assert more.customer.tags is None  # not asked: still unknown


def test_enrich_query_text_selects_only_the_requested_fields() -> None:
    text = q.enrich_query(q.Selection.of(frozenset({CUSTOMER_TAGS})))
    assert "tags" in text and "numberOfOrders" not in text and "lineItems" not in text
    text = q.enrich_query(q.Selection.of(frozenset({LINE_ITEMS_CATEGORIES})))
    assert "collections" in text and "customer" not in text and "productType" not in text


def test_guest_order_enrich_fetches_product_fields_only(harness: ShopifyHarness) -> None:
    adapter = harness.adapter()
    order = adapter.fetch_order(harness.create_paid_order(guest=True, product_type="Zubehoer"))
    enriched = adapter.enrich(order, frozenset({CUSTOMER_ORDERS_COUNT, LINE_ITEMS_PRODUCT_TYPE}))
    assert enriched.customer is None
    assert enriched.line_items[0].product_type == "Zubehoer"


def test_coupon_is_stored_as_specified(harness: ShopifyHarness) -> None:
    adapter = harness.adapter()
    order = adapter.fetch_order(harness.create_paid_order())
    now = datetime.now(UTC).replace(microsecond=0)
    spec = coupon_spec(
        _planned("AK-SHOP-STORED", minimum_order=Decimal(30)), order, harness.settings, now
    )
    adapter.create_coupon(spec)
    (stored,) = harness.coupons(spec.code)
    assert stored["title"] == spec.title and stored["kind"] == "basic"
    assert stored["usage_limit"] == 1 and stored["applies_once_per_customer"] is True
    assert stored["value"] == {"percentage": 0.1}
    assert stored["minimum"] == {"subtotal": "30"}
    assert order.customer is not None
    assert stored["context"] == {"customers": [f"gid://shopify/Customer/{order.customer.id}"]}
    guest = adapter.fetch_order(harness.create_paid_order(guest=True))
    guest_spec = coupon_spec(_planned("AK-SHOP-GUEST"), guest, harness.settings, now)
    adapter.create_coupon(guest_spec)
    (open_coupon,) = harness.coupons(guest_spec.code)
    assert open_coupon["context"] == {"all": True}


def test_coupon_for_collections_names_them_by_id(harness: ShopifyHarness) -> None:
    # given a shop with the collections "coffee" (from the order's product) and "tea"
    adapter = harness.adapter()
    order = adapter.fetch_order(harness.create_paid_order())
    tea = harness.sandbox.set_product(title="Sencha", collections=["tea"])
    coffee_id = harness.sandbox.set_product(title="Lungo", collections=["coffee"])[
        "collection_ids"
    ][0]
    now = datetime.now(UTC).replace(microsecond=0)
    # when a coupon is created for collections named by handle and by id
    legacy_tea = tea["collection_ids"][0].rsplit("/", 1)[-1]
    spec = coupon_spec(
        _planned("AK-SHOP-COLL", collections=("coffee", legacy_tea)), order, harness.settings, now
    )
    adapter.create_coupon(spec)
    # then the discount holds the collections' ids
    (stored,) = harness.coupons(spec.code)
    assert sorted(stored["items"]["collections"]) == sorted(
        [int(coffee_id.rsplit("/", 1)[-1]), int(legacy_tea)]
    )
    # and a handle the shop does not have is refused before anything is created
    missing = coupon_spec(
        _planned("AK-SHOP-NOCOLL", collections=("coffee", "no-such-collection")),
        order,
        harness.settings,
        now,
    )
    with pytest.raises(InvalidRequestError, match="no collection with handle no-such-coll") as err:
        adapter.create_coupon(missing)
    assert err.value.code == "UNKNOWN_COLLECTION"
    assert harness.coupons(missing.code) == []


def test_a_code_taken_by_another_discount_is_an_error(harness: ShopifyHarness) -> None:
    adapter = harness.adapter()
    order = adapter.fetch_order(harness.create_paid_order())
    now = datetime.now(UTC).replace(microsecond=0)
    spec = coupon_spec(_planned("AK-SHOP-CLASH"), order, harness.settings, now)
    adapter.create_coupon(spec)
    other = replace(spec, title="someone else's discount")
    with pytest.raises(InvalidRequestError) as err:
        adapter.create_coupon(other)
    assert err.value.code == "TAKEN"
    assert len(harness.coupons(spec.code)) == 1


@pytest.mark.slow
def test_concurrent_creates_of_one_coupon_make_one(harness: ShopifyHarness) -> None:
    adapter = harness.adapter()
    order = adapter.fetch_order(harness.create_paid_order())
    now = datetime.now(UTC).replace(microsecond=0)
    spec = coupon_spec(_planned("AK-SHOP-RACE"), order, harness.settings, now)
    with ThreadPoolExecutor(max_workers=5) as pool:
        refs = list(pool.map(lambda _: adapter.create_coupon(spec), range(5)))
    assert sum(r.created for r in refs) == 1
    assert len({r.platform_id for r in refs}) == 1
    assert len(harness.coupons(spec.code)) == 1


@pytest.mark.slow
def test_content_is_an_app_owned_json_metafield(harness: ShopifyHarness) -> None:
    adapter = harness.adapter()
    order_id = harness.create_paid_order()
    order = adapter.fetch_order(order_id)
    content = ConfirmationContent(
        blocks=({"type": "coupon", "code": "AK-X", "value": Decimal("10.00")},), locale="de"
    )
    adapter.write_content(order, content)
    (metafield,) = [
        m
        for m in harness.sandbox.metafields()
        if m["owner_id"] == f"gid://shopify/Order/{order_id}"
    ]
    # "$app:aftersale" is the app-reserved namespace app--<app id>--aftersale
    assert metafield["namespace"] == f"app--{harness.sandbox.app_id}--aftersale"
    assert metafield["key"] == "blocks" and metafield["type"] == "json"
    assert json.loads(metafield["value"]) == {
        "version": 1,
        "locale": "de",
        "blocks": [{"type": "coupon", "code": "AK-X", "value": "10.00"}],
    }


def test_customer_loyalty_is_an_app_owned_json_metafield_on_the_customer(
    harness: ShopifyHarness,
) -> None:
    adapter = harness.adapter()
    order = adapter.fetch_order(harness.create_paid_order())
    assert order.customer is not None
    value = CustomerLoyalty(balance=640, pending=120, tier="Silber", currency="EUR")
    # the customer id as the order names it, and as a GID, write the same metafield
    assert adapter.write_customer_loyalty(order.customer.id, value)
    assert adapter.write_customer_loyalty(f"gid://shopify/Customer/{order.customer.id}", value)
    (metafield,) = [
        m
        for m in harness.sandbox.metafields()
        if m["owner_id"] == f"gid://shopify/Customer/{order.customer.id}"
    ]
    assert metafield["namespace"] == f"app--{harness.sandbox.app_id}--aftersale"
    assert (metafield["key"], metafield["type"]) == ("loyalty", "json")
    assert metafield["value"] == value.to_json()


def test_secret_rotation_accepts_old_and_new_signatures(harness: ShopifyHarness) -> None:
    old = "previous-app-secret-0000"
    harness.previous_secret = old
    try:
        adapter = harness.adapter()
        body = json.dumps({"shop_id": 1, "shop_domain": harness.sandbox.shop_domain}).encode()
        headers = harness.signed_webhook("shop/redact", body)
        assert adapter.verify_webhook(headers, body).kind is WebhookKind.SHOP_REDACT
        headers["X-Shopify-Hmac-Sha256"] = sign(body, old)
        assert adapter.verify_webhook(headers, body).kind is WebhookKind.SHOP_REDACT
    finally:
        harness.previous_secret = None


@pytest.mark.slow
def test_throttled_by_the_leaky_bucket_waits_and_succeeds(harness: ShopifyHarness) -> None:
    order_id = harness.create_paid_order()
    # given an almost empty bucket that refills at 200 points/s
    harness.sandbox.set_bucket(currently_available=0, restore_rate=200)
    try:
        adapter = harness.adapter(max_total_wait=5.0)
        order = adapter.fetch_order(order_id)
        assert order.id == order_id
        status = adapter.client.throttle_status
        assert status is not None and status.restore_rate == 200
        # an empty bucket that refills too slowly for the wait budget: RateLimitedError
        harness.sandbox.set_bucket(currently_available=0, restore_rate=1)
        with pytest.raises(RateLimitedError) as err:
            harness.adapter(max_total_wait=1.0).fetch_order(order_id)
        assert err.value.retry_after > 1.0
    finally:
        harness.sandbox.set_bucket(currently_available=2000, restore_rate=100)


def test_register_webhooks_is_idempotent(harness: ShopifyHarness) -> None:
    adapter = harness.adapter()
    address = "https://app.example.com/webhooks/shopify"
    first = adapter.register_webhooks(address)
    second = adapter.register_webhooks(address)
    assert first == second and len(first) == 6
    mine = [s for s in harness.sandbox.subscriptions() if s["uri"] == address]
    assert sorted(s["topic"] for s in mine) == sorted(
        [
            "orders/create",
            "orders/paid",
            "orders/fulfilled",
            "orders/cancelled",
            "refunds/create",
            "app/uninstalled",
        ]
    )


def test_concurrent_registrations_agree(harness: ShopifyHarness) -> None:
    address = "https://app.example.com/webhooks/concurrent"
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda _: harness.adapter().register_webhooks(address), range(3)))
    assert results[0] == results[1] == results[2]
    assert len([s for s in harness.sandbox.subscriptions() if s["uri"] == address]) == 6


@pytest.mark.slow
def test_two_shops_from_many_threads_without_cross_talk() -> None:
    # given two shops, each with its own token, secret and orders
    with ShopifyHarness(shop="shop-north") as north, ShopifyHarness(shop="shop-south") as south:
        orders = {
            "north": [north.create_paid_order(customer_orders=1) for _ in range(4)],
            "south": [south.create_paid_order(customer_orders=5) for _ in range(4)],
        }
        adapters = {"north": north.adapter(), "south": south.adapter()}
        expected_count = {"north": 1, "south": 5}
        domains = {"north": north.sandbox.shop_domain, "south": south.sandbox.shop_domain}

        def work(job: tuple[str, str, int]) -> tuple[str, str, int | None, str]:
            name, order_id, round_ = job
            adapter = adapters[name]
            order = adapter.fetch_order(order_id, enrich=frozenset({CUSTOMER_ORDERS_COUNT}))
            code = f"AK-{name.upper()}-{order_id[-6:]}-{round_}"
            spec = coupon_spec(
                _planned(code),
                order,
                north.settings if name == "north" else south.settings,
                datetime.now(UTC).replace(microsecond=0),
            )
            adapter.create_coupon(spec)
            count = order.customer.orders_count if order.customer else None
            return name, order.shop, count, code

        jobs = [(n, o, r) for r in range(3) for n in ("north", "south") for o in orders[n]]
        # when both are used from eight threads at once
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(work, jobs))
        # then every answer came from the right shop and each coupon sits in its own shop
        for name, shop, count, code in results:
            assert shop == domains[name] and count == expected_count[name]
            own, other = (north, south) if name == "north" else (south, north)
            assert len(own.coupons(code)) == 1 and other.coupons(code) == []
        assert len(results) == 24


# -- margin and currency through the sandbox ----------------------------------------------------


def _discounted_chf_order(harness: ShopifyHarness, code_amount: str) -> str:
    """2 x 40.00 + 1 x 20.00 = 100.00 EUR with one code, paid in CHF at 0.95 CHF per EUR."""
    rest = harness.sandbox.create_order(
        customer={"first_name": "Anna", "last_name": "Muster", "orders_count": 1},
        line_items=[
            {"title": "Espresso 1kg", "price": "40.00", "quantity": 2, "sku": "ESP-1KG"},
            {"title": "Tasse", "price": "20.00", "quantity": 1, "sku": "TASSE"},
        ],
        discount_codes=[{"code": "WELCOME", "amount": code_amount}],
        financial_status="paid",
        presentment_currency="CHF",
        presentment_rate="0.95",
        customer_locale="de",
    )
    return str(rest["id"])


def _decide(order: Any, *campaigns: Any) -> Any:
    from aftersale_kit.core.campaign import ShopConfig
    from aftersale_kit.core.counters import InMemoryCounters
    from aftersale_kit.core.engine import decide
    from aftersale_kit.core.model import EventKind

    settings = ShopSettings(platform="shopify", domain=order.shop, currency="EUR", locale="de_DE")
    config = ShopConfig(settings=settings, campaigns=campaigns)
    decision = decide(
        config,
        order,
        event=EventKind.ORDER_PAID,
        counters=InMemoryCounters(),
        now=datetime.now(UTC),
        code_secret=b"contract",
    )
    return config, decision


@pytest.mark.slow
def test_line_discounts_and_presentment_agree_in_webhook_and_fetch(
    harness: ShopifyHarness,
) -> None:
    # given the 20.00 code spread over the lines by value: 80/100 -> 16.00, the rest 4.00
    order_id = _discounted_chf_order(harness, "20.00")
    headers, body = harness.order_webhook(order_id)
    adapter = harness.adapter()
    hooked = adapter.verify_webhook(headers, body).order
    fetched = adapter.fetch_order(order_id)
    assert hooked is not None
    for order in (hooked, fetched):
        assert [li.discount for li in order.line_items] == [
            Money(Decimal("16.00"), "EUR"),
            Money(Decimal("4.00"), "EUR"),
        ]
        # shop money for rules: 100.00 - 20.00; the buyer's CHF at 0.95 for the content
        assert order.currency == "EUR" and order.subtotal == Money(Decimal("80.00"), "EUR")
        p = order.presentment
        assert p is not None and p.currency == "CHF"
        assert (p.subtotal, p.total, p.discounts) == (
            Money(Decimal("76.00"), "CHF"),
            Money(Decimal("76.00"), "CHF"),
            Money(Decimal("19.00"), "CHF"),
        )
        assert [p.unit_price(li.id) for li in order.line_items] == [
            Money(Decimal("38.00"), "CHF"),
            Money(Decimal("19.00"), "CHF"),
        ]


@pytest.mark.parametrize(
    ("code_amount", "detail"),
    [
        # net 80.00, goods' cost 70.00 (default margin 30 %): margin 10.00, 30 % of it 3.00
        (
            "20.00",
            "the offer costs 3.50 EUR, more than 30% of this order's margin 10.00 EUR (net of "
            "20.00 EUR discounts) (at most 3.00 EUR)",
        ),
        # 100 % off: net 0.00, no margin at all
        (
            "100.00",
            "this order's margin 0.00 EUR (net of 100.00 EUR discounts) leaves nothing to fund "
            "an offer (the offer costs 3.50 EUR)",
        ),
    ],
)
def test_a_discounted_sandbox_order_funds_no_gift_beyond_its_net_margin(
    harness: ShopifyHarness, code_amount: str, detail: str
) -> None:
    from aftersale_kit.core.campaign import Campaign, FreeGift, MarginGuard

    order = harness.adapter().fetch_order(_discounted_chf_order(harness, code_amount))
    gift = Campaign(
        id="gift",
        actions=(FreeGift(note="Probe", cost=Decimal("3.50")),),
        margin_guard=MarginGuard(max_share=Decimal("0.3")),
    )
    _, decision = _decide(order, gift)
    outcome = decision.outcome("gift")
    assert outcome is not None and not outcome.fired
    assert outcome.detail == detail


def test_a_chf_buyer_sees_chf_on_the_content_of_a_fetched_order(harness: ShopifyHarness) -> None:
    from aftersale_kit.content import ContentRenderer, render_blocks
    from aftersale_kit.core.campaign import Campaign, ShowBlock

    order = harness.adapter().fetch_order(_discounted_chf_order(harness, "20.00"))
    coupon = IssueCoupon(kind=CouponKind.FIXED_AMOUNT, value=Decimal(5), valid_days=30)
    thanks = Campaign(id="danke", actions=(coupon, ShowBlock(block="coupon")))
    config, decision = _decide(order, thanks)
    (block,) = render_blocks(
        decision=decision,
        order=order,
        config=config,
        now=datetime.now(UTC),
        renderer=ContentRenderer.load(),
    )
    # this checkout's rate: 76.00 CHF / 80.00 EUR = 0.95; 5.00 EUR ~ 4.75 CHF
    assert block.data["estimate"].replace("\xa0", " ") == (
        "5,00 € sind etwa 4,75 CHF (geschätzt; der Code gilt in EUR)"
    )
