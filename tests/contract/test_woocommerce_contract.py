"""The shared platform contract against the WooCommerce sandbox, over real HTTP (OAuth 1.0a).

The harness drives the sandbox through its Python control API: checkouts and payments, webhook
deliveries to a real receiver on loopback (subscribed through the adapter's own
``register_webhooks``), faults counted per request, and the store's records (coupons, order meta).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
from aftersale_kit_woocommerce.adapter import (
    CONSENT_META_KEY,
    CONTENT_META_KEYS,
    LOYALTY_META_KEY,
    NEWSLETTER_META_KEY,
    TAGS_META_KEY,
    WooCommerceAdapter,
)
from aftersale_kit_woocommerce.sandbox import WooCommerceSandbox, signature

from aftersale_kit.core.campaign import SecretRef, ShopSettings
from aftersale_kit.core.platform import (
    LINE_ITEMS_CATEGORIES,
    LINE_ITEMS_PRODUCT_TYPE,
    Platform,
    note_marker,
)
from aftersale_kit.testing.faults import FaultPlan
from aftersale_kit.testing.httpserver import Request, Response, SandboxHTTPServer

from .base import ContractHarness, Delivery, PlatformContract

WEBHOOK_SECRET = "contract-webhook-secret"
WRONG_SECRET = "cs_" + "0" * 40
#: A catalogue product of the sandbox (category "t-shirts", tag "bestseller").
PRODUCT_ID = 93


class Receiver:
    """The service's webhook endpoint: records every raw request, answers 200."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        with self._lock:
            self.requests.append(({k: v for k, v in request.headers.items()}, request.body))
        return Response(200, b"ok")

    def deliveries_for(self, order_id: str) -> list[Delivery]:
        with self._lock:
            found = []
            for headers, body in self.requests:
                if headers.get("X-WC-Webhook-Topic") != "order.updated":
                    continue
                if str(json.loads(body).get("id")) == order_id:
                    found.append((headers, body))
            return found


class WooCommerceHarness:
    platform = "woocommerce"
    unknown_topic = "product.updated"
    paid_topic = "order.updated"
    orders_page_size = 5

    def __init__(self) -> None:
        self.faults = FaultPlan(hang_seconds=1.0)
        self.sandbox = WooCommerceSandbox(webhook_secret=WEBHOOK_SECRET, faults=self.faults)
        self.receiver = Receiver()
        self._receiver_server = SandboxHTTPServer(self.receiver)
        self._customers = itertools.count(500)
        self._updated_webhook = 0
        self.settings: ShopSettings
        self.secrets: tuple[str, ...] = ()
        self._dead_url = ""

    def __enter__(self) -> WooCommerceHarness:
        self.sandbox.start()
        self._receiver_server.start()
        with SandboxHTTPServer(Receiver()) as gone:
            self._dead_url = gone.url  # a port where nobody listens any more
        self.settings = ShopSettings(
            platform="woocommerce",
            domain="127.0.0.1",
            currency="USD",
            api_base_url=self.sandbox.url,
            secrets=(
                SecretRef("consumer_key", "WC_CONSUMER_KEY"),
                SecretRef("consumer_secret", "WC_CONSUMER_SECRET"),
                SecretRef("webhook_secret", "WC_WEBHOOK_SECRET"),
            ),
        )
        self.secrets = (
            self.sandbox.consumer_key,
            self.sandbox.consumer_secret,
            WEBHOOK_SECRET,
            WRONG_SECRET,
        )
        # The receiver is subscribed the way a deployment does it: through the adapter.
        ids = self.adapter().register_webhooks(self._receiver_server.url + "/webhooks")
        hooks = {self.sandbox.webhook_state(int(i))["topic"]: int(i) for i in ids}
        self._updated_webhook = hooks["order.updated"]
        return self

    def __exit__(self, *exc: object) -> None:
        self._receiver_server.stop()
        self.sandbox.stop()

    # -- the adapter ------------------------------------------------------------------------

    def adapter(
        self,
        *,
        wrong_token: bool = False,
        unreachable: bool = False,
        timeout: float = 5.0,
        max_attempts: int = 3,
        max_total_wait: float = 3.0,
    ) -> Platform:
        settings = self.settings
        if unreachable:
            settings = ShopSettings(
                platform="woocommerce",
                domain="127.0.0.1",
                currency="USD",
                api_base_url=self._dead_url,
                secrets=settings.secrets,
            )
        secrets = {
            "consumer_key": self.sandbox.consumer_key,
            "consumer_secret": WRONG_SECRET if wrong_token else self.sandbox.consumer_secret,
            "webhook_secret": WEBHOOK_SECRET,
        }
        return WooCommerceAdapter.from_settings(
            settings,
            secrets=secrets,
            timeout=timeout,
            max_retries=max_attempts - 1,
            backoff=0.02,
            max_retry_after=max_total_wait,
            page_size=self.orders_page_size,
        )

    # -- orders and webhooks ----------------------------------------------------------------

    def create_paid_order(
        self,
        *,
        customer_orders: int = 1,
        product_type: str = "Kaffee",
        guest: bool = False,
        email: str | None = None,
        customer_note: str | None = None,
    ) -> str:
        # WooCommerce has no product types: product_type cannot be stored (see the override
        # of test_fetch_and_enrich below).
        customer = 0 if guest else next(self._customers)
        address = email or f"kunde{customer}@example.com"
        order_id = ""
        for _ in range(1 if guest else customer_orders):
            order = self.sandbox.create_order(
                customer_id=customer,
                email=address,
                line_items=[{"product_id": PRODUCT_ID, "quantity": 2}],
                customer_note=customer_note,
            )
            self.sandbox.pay(order["id"])
            order_id = str(order["id"])
        return order_id

    def order_webhook(self, order_id: str, *, delivery: int = 0) -> Delivery:
        before = len(self.receiver.deliveries_for(order_id))
        self.sandbox.trigger_webhook(self._updated_webhook, int(order_id))
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            self.sandbox.wait_for_webhooks(1)
            found = self.receiver.deliveries_for(order_id)
            if len(found) > before:
                return found[-1]
            time.sleep(0.01)
        raise AssertionError(f"the sandbox delivered no order.updated for order {order_id}")

    def signed_webhook(self, topic: str, body: bytes) -> dict[str, str]:
        resource, _, event = topic.partition(".")
        return {
            "User-Agent": "WooCommerce/9.6.0 Hookshot (WordPress/6.7.1)",
            "Content-Type": "application/json",
            "X-WC-Webhook-Source": self.sandbox.home_url.rstrip("/") + "/",
            "X-WC-Webhook-Topic": topic,
            "X-WC-Webhook-Resource": resource,
            "X-WC-Webhook-Event": event,
            "X-WC-Webhook-Signature": signature(body, WEBHOOK_SECRET),
            "X-WC-Webhook-ID": str(self._updated_webhook),
            "X-WC-Webhook-Delivery-ID": "0" * 32,
        }

    # -- faults and records -----------------------------------------------------------------

    def inject(self, fault: str, *, count: int, retry_after: float = 0.2) -> None:
        self.faults.fail_next(fault, count, retry_after=retry_after)

    def clear_faults(self) -> None:
        self.faults.clear_script()

    def api_requests(self) -> int:
        return self.faults.requests

    def coupons(self, code: str) -> list[Mapping[str, Any]]:
        wanted = code.strip().lower()
        now = datetime.now(UTC).replace(tzinfo=None)
        found: list[Mapping[str, Any]] = []
        for coupon in self.sandbox.coupons(include_trash=False):
            if coupon["code"].lower() != wanted:
                continue
            expires = coupon.get("date_expires_gmt")
            limit = coupon.get("usage_limit")
            active = (
                coupon.get("status") == "publish"
                and (not expires or datetime.fromisoformat(expires) > now)
                and (not limit or coupon.get("usage_count", 0) < limit)
            )
            found.append({**coupon, "active": active})
        return found

    def _meta(self, order_id: str) -> dict[str, Any]:
        return {m["key"]: m["value"] for m in self.sandbox.order_meta(int(order_id))}

    def content(self, order_id: str) -> str:
        meta = self._meta(order_id)
        return "\n".join(str(meta[k]) for k in CONTENT_META_KEYS if k in meta)

    def order_tags(self, order_id: str) -> set[str]:
        value = self._meta(order_id).get(TAGS_META_KEY) or ""
        return {t.strip() for t in str(value).split(",") if t.strip()}

    def customer_note(self, order_id: str) -> str:
        return str(self.sandbox.order(int(order_id)).get("customer_note") or "")

    def staff_notes(self, order_id: str) -> list[str]:
        notes = self.sandbox.notes(int(order_id))
        return [str(n["note"]) for n in notes if not n["customer_note"]]

    def customer_loyalty(self, customer_id: str) -> list[Mapping[str, Any]]:
        rows = self.sandbox.customer_meta(int(customer_id))
        return [json.loads(r["value"]) for r in rows if r["key"] == LOYALTY_META_KEY]

    def marketing_consent(self, customer_id: str) -> tuple[bool, str | None]:
        meta = {r["key"]: r["value"] for r in self.sandbox.customer_meta(int(customer_id))}
        proof = json.loads(meta.get(CONSENT_META_KEY) or "{}")
        return meta.get(NEWSLETTER_META_KEY) == "yes", proof.get("at")

    def customer_tags(self, customer_id: str) -> list[str]:
        meta = {r["key"]: r["value"] for r in self.sandbox.customer_meta(int(customer_id))}
        return [t.strip() for t in str(meta.get(TAGS_META_KEY) or "").split(",") if t.strip()]


@pytest.fixture(scope="module")
def harness() -> Iterator[WooCommerceHarness]:
    with WooCommerceHarness() as h:
        yield h


def test_the_harness_builds_an_adapter_for_its_sandbox_store(harness: WooCommerceHarness) -> None:
    checked: ContractHarness = harness  # mypy checks the structure
    # given an order the harness created in the sandbox store
    order_id = checked.create_paid_order(email="harness@example.com")
    # when the adapter the harness builds fetches it
    order = checked.adapter().fetch_order(order_id)
    # then it is that order, read by the WooCommerce adapter
    assert checked.platform == "woocommerce"
    assert order.id == order_id
    assert order.customer is not None and order.customer.email == "harness@example.com"


class TestWooCommerceContract(PlatformContract):
    @pytest.mark.parametrize("count", [1, 3])
    def test_fetch_and_enrich(self, harness: ContractHarness, count: int) -> None:
        """WooCommerce has no product types (``line_items.product_type`` is not among its
        supported fields, so a campaign reading it fails at load time); the enrichable line
        field it has is the category, which stands in here."""
        order_id = harness.create_paid_order(customer_orders=count)
        adapter = harness.adapter()
        assert LINE_ITEMS_PRODUCT_TYPE not in adapter.supported_fields
        fields = frozenset({"customer.orders_count", LINE_ITEMS_CATEGORIES})
        # fetched with enrichment
        fetched = adapter.fetch_order(order_id, enrich=fields)
        assert fetched.customer is not None and fetched.customer.orders_count == count
        assert [li.categories for li in fetched.line_items] == [("t-shirts",)]
        assert [li.product_type for li in fetched.line_items] == [None]
        # fetched plain (unknown), then enriched
        plain = harness.adapter().fetch_order(order_id)
        assert plain.customer is not None and plain.customer.orders_count is None
        enriched = harness.adapter().enrich(plain, fields)
        assert enriched.customer is not None and enriched.customer.orders_count == count
        assert [li.categories for li in enriched.line_items] == [("t-shirts",)]


def test_staff_note_is_one_private_note_never_mailed(harness: WooCommerceHarness) -> None:
    # given a paid order with the customer's checkout note
    order_id = harness.create_paid_order(customer_note="Bitte nicht knicken")
    adapter = harness.adapter()
    order = adapter.fetch_order(order_id)
    mails = len(harness.sandbox.customer_emails())
    # when the gift's note is written three times
    for _ in range(3):
        adapter.add_order_note(order, text="USB-C-Kabel beilegen", key="woo:gift:0")
    # then the order has exactly one note of ours, private, and nobody was e-mailed
    ours = [n for n in harness.sandbox.notes(int(order_id)) if "USB-C-Kabel" in n["note"]]
    assert [(n["note"], n["customer_note"]) for n in ours] == [
        (f"USB-C-Kabel beilegen {note_marker('woo:gift:0')}", False)
    ]
    assert len(harness.sandbox.customer_emails()) == mails
    assert harness.customer_note(order_id) == "Bitte nicht knicken"


# -- an order saved in the buyer's currency -------------------------------------------------------


def test_an_order_saved_in_yen_is_never_compared_as_euros(harness: WooCommerceHarness) -> None:
    from dataclasses import replace
    from decimal import Decimal
    from pathlib import Path

    from aftersale_kit.core.campaign import Campaign, CouponKind, IssueCoupon, ShopConfig
    from aftersale_kit.core.conditions import compile_condition
    from aftersale_kit.core.counters import InMemoryCounters
    from aftersale_kit.core.decision import Reason
    from aftersale_kit.core.engine import decide
    from aftersale_kit.core.model import EventKind

    # given the docs order as a multi-currency plugin saves it: 600 + 1,200 = 1,800 JPY
    fixtures = Path(__file__).resolve().parent.parent / "fixtures" / "woocommerce"
    payload = json.loads((fixtures / "wc_v3_order_727.json").read_bytes())
    payload["currency"] = "JPY"
    payload["line_items"][0].update(subtotal="600", total="600", price=300)
    payload["line_items"][1].update(subtotal="1200", total="1200", price=1200)
    created = harness.sandbox.create_order(payload=payload, status="processing")
    order = harness.adapter().fetch_order(str(created["id"]))
    assert order.currency == "JPY"
    campaign = Campaign(
        id="ab-10",
        conditions=(compile_condition("subtotal >= 10"),),
        actions=(IssueCoupon(kind=CouponKind.FIXED_AMOUNT, value=Decimal(5), valid_days=30),),
    )
    settings = replace(harness.settings, currency="EUR")

    def run(rates: tuple[tuple[str, Decimal], ...]) -> Any:
        config = ShopConfig(settings=replace(settings, exchange_rates=rates), campaigns=(campaign,))
        decision = decide(
            config,
            order,
            event=EventKind.ORDER_PAID,
            counters=InMemoryCounters(),
            now=datetime.now(UTC),
            code_secret=b"contract",
        )
        return decision.outcome("ab-10")

    # when the shop file has no rate: 1,800 JPY is not "1,800 EUR >= 10", it is unknown
    unknown = run(())
    assert (unknown.fired, unknown.reason) == (False, Reason.FIELD_UNKNOWN)
    assert "the order is in JPY, the shop in EUR" in unknown.detail
    # with 1 JPY = 0.0061 EUR: 1,800 JPY = 10.98 EUR, so it fires and names the rate
    converted = run((("JPY", Decimal("0.0061")),))
    assert converted.fired
    assert converted.detail.endswith("(order amounts converted at 1 JPY = 0.0061 EUR)")
