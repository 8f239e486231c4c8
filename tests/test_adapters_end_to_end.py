"""Both adapters end to end over real HTTP: one campaign file, a vendor payload, a signed webhook,
enrichment, the engine, a coupon and the confirmation content on each platform's sandbox.

The acceptance points of the platform adapters:

1. The same campaign file, with only its ``shop:`` section changed, issues a coupon on each
   sandbox from a signed webhook carrying a vendor payload, and writes the confirmation content
   there.
2. Replaying the same webhook five times, or the same decision twice, creates one coupon.
3. A first-order campaign fires for a customer whose order count the adapter fetched as 1, not
   for one with 3 and not for a guest; a product campaign fires only when the fetched product
   taxonomy matches. Shopify has product types; WooCommerce has none (``line_items.product_type``
   is not among its fields), so there the campaign reads the fetched product categories.

The pipeline is the one the service runs (``verify_webhook`` -> ``enrich`` with exactly the
engine's ``enrichment_fields`` -> ``decide`` -> ``create_coupon(coupon_spec(...))`` and
``write_content(confirmation_content(...))``), called directly. The webhooks are the sandboxes'
own signed deliveries to a receiver on loopback.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aftersale_kit_shopify.adapter import ShopifyAdapter
from aftersale_kit_shopify.sandbox import ShopifySandbox
from aftersale_kit_shopify.sandbox.fixtures import running_sandbox as shopify_sandbox
from aftersale_kit_woocommerce.adapter import (
    BLOCKS_META_KEY,
    HTML_META_KEY,
    WooCommerceAdapter,
)
from aftersale_kit_woocommerce.sandbox import WooCommerceSandbox
from aftersale_kit_woocommerce.sandbox.fixtures import running_sandbox as woocommerce_sandbox

from aftersale_kit.content import ContentRenderer, confirmation_content
from aftersale_kit.content.params import param_problems
from aftersale_kit.core.campaign import IssueCoupon, ShopConfig, ShopSettings
from aftersale_kit.core.config import load_config_text
from aftersale_kit.core.counters import InMemoryCounters
from aftersale_kit.core.decision import Decision, Reason
from aftersale_kit.core.engine import decide, enrichment_fields
from aftersale_kit.core.model import EventKind, Order
from aftersale_kit.core.platform import (
    ConfirmationContent,
    CouponRef,
    IncomingWebhook,
    Platform,
    WebhookKind,
    coupon_spec,
    unknown_fields,
)
from aftersale_kit.testing.httpserver import Request, Response, SandboxHTTPServer

HERE = Path(__file__).parent
CAMPAIGN_FILE = HERE / "data" / "configs" / "one_campaign_file.yaml"
SHOPIFY_SAMPLE = HERE / "fixtures" / "shopify" / "shopify_sample_webhook_order_2025.json"
WOO_SAMPLE_BODY = HERE / "fixtures" / "woocommerce" / "webhook_order_updated_body.raw.json"
WOO_SAMPLE_DELIVERY = HERE / "fixtures" / "woocommerce" / "webhook_order_updated_delivery.json"

API_VERSION = "2026-01"
SHOP_NAME = "bohnenglueck-kaffee"
WOO_WEBHOOK_SECRET = "end-to-end-webhook-secret"
CODE_SECRET = "end-to-end-code-secret-0123456789"
#: Catalogue products of the WooCommerce sandbox used for the taxonomy campaigns.
WOO_COFFEE_PRODUCT, WOO_TEA_PRODUCT = 41, 42

Delivery = tuple[dict[str, str], bytes]


# -- the campaign file and its shop sections -------------------------------------------------------


_TOP_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*):")


def sections(text: str) -> dict[str, str]:
    """The top-level sections of a YAML file by key, each with its indented lines (comment lines
    at column 0 belong to the key after them; the lines before the first key are ``""``)."""
    out: dict[str, list[str]] = {"": []}
    pending: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        match = _TOP_KEY.match(line)
        if match:
            current = match.group(1)
            out[current] = [*pending, line]
            pending = []
        elif line.startswith("#"):
            pending.append(line)
        else:
            out[current] += [*pending, line]
            pending = []
    out[current] += pending
    return {key: "".join(lines) for key, lines in out.items()}


def with_shop(text: str, shop_section: str) -> str:
    """``text`` with its ``shop:`` section replaced (everything else byte for byte)."""
    parts = sections(text)
    assert "shop" in parts, "the campaign file has no shop: section"
    parts["shop"] = shop_section
    return "".join(parts.values())


def shopify_shop_section(sandbox: ShopifySandbox) -> str:
    return f"""shop:
  platform: shopify
  domain: {sandbox.shop_domain}
  currency: USD
  locale: de_DE
  timezone: Europe/Berlin
  api_base_url: {sandbox.url}
  api_version: "{API_VERSION}"
  secrets:
    webhook_secret: SHOPIFY_WEBHOOK_SECRET
    api_token: SHOPIFY_ACCESS_TOKEN
    code_secret: AFTERSALE_CODE_SECRET

"""


def woocommerce_shop_section(sandbox: WooCommerceSandbox) -> str:
    return f"""shop:
  platform: woocommerce
  domain: 127.0.0.1
  currency: USD
  locale: de_DE
  timezone: Europe/Berlin
  api_base_url: {sandbox.url}
  api_version: wc/v3
  secrets:
    webhook_secret: WC_WEBHOOK_SECRET
    consumer_key: WC_CONSUMER_KEY
    consumer_secret: WC_CONSUMER_SECRET
    code_secret: AFTERSALE_CODE_SECRET

"""


# -- receiving webhooks ----------------------------------------------------------------------------


class Receiver:
    """The app's webhook endpoint on loopback: records every raw delivery. For the orders in
    ``refuse``, it answers 500 to the first ``n`` deliveries (the platform then retries)."""

    def __init__(self, order_id_of: Callable[[Mapping[str, str], bytes], str | None]) -> None:
        self._order_id_of = order_id_of
        self._lock = threading.Lock()
        self.received: list[Delivery] = []
        self.refuse: dict[str, int] = {}

    def __call__(self, request: Request) -> Response:
        headers = {k: v for k, v in request.headers.items()}
        order_id = self._order_id_of(headers, request.body)
        with self._lock:
            self.received.append((headers, request.body))
            left = self.refuse.get(order_id or "", 0)
            if left:
                self.refuse[order_id or ""] = left - 1
                return Response(500, b"not now")
        return Response(200, b"ok")

    def wait_for(self, order_id: str, count: int, *, timeout: float = 10.0) -> list[Delivery]:
        """The first ``count`` paid-order deliveries for the order (waits for them)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                found = [(h, b) for h, b in self.received if self._order_id_of(h, b) == order_id]
            if len(found) >= count or time.monotonic() > deadline:
                assert len(found) >= count, (
                    f"{len(found)} paid-order deliveries for order {order_id}, expected {count}"
                )
                return found[:count]
            time.sleep(0.02)


def _shopify_paid_order(headers: Mapping[str, str], body: bytes) -> str | None:
    if headers.get("X-Shopify-Topic") != "orders/paid":
        return None
    return str(json.loads(body)["id"])


def _woocommerce_paid_order(headers: Mapping[str, str], body: bytes) -> str | None:
    if headers.get("X-WC-Webhook-Topic") != "order.updated":
        return None
    payload = json.loads(body)
    return str(payload["id"]) if payload.get("status") == "processing" else None


# -- one shop on each platform ---------------------------------------------------------------------


class Shop:
    """A sandbox shop, the receiver it delivers paid-order webhooks to, and the campaign file
    with a ``shop:`` section pointing at it. Subclasses know their platform's sandbox."""

    platform: str
    #: The product campaign of acceptance point 3 (the taxonomy this platform has) and its field.
    product_condition: str
    product_field: str

    def __init__(
        self,
        campaign_text: str,
        shop_section: str,
        environment: dict[str, str],
        *,
        paid_order_of: Callable[[Mapping[str, str], bytes], str | None],
    ) -> None:
        self.receiver = Receiver(paid_order_of)
        self.shop_section = shop_section
        self.config_text = with_shop(campaign_text, shop_section)
        self.config = load(self.config_text, CAMPAIGN_FILE.name)
        self.environment = environment

    def build(self, settings: ShopSettings, *, secrets: Mapping[str, str]) -> Platform:
        raise NotImplementedError

    def adapter(self) -> Platform:
        """A fresh adapter (empty caches) from the file's shop section, its secrets resolved from
        the environment by the names the file gives, as a deployment does."""
        settings = self.config.settings
        secrets = {ref.name: self.environment[ref.env] for ref in settings.secrets}
        return self.build(settings, secrets=secrets)

    @property
    def code_secret(self) -> bytes:
        ref = self.config.settings.secret("code_secret")
        assert ref is not None
        return self.environment[ref.env].encode()

    def vendor_order(self, *, deliveries: int = 1) -> str:
        """The platform's vendor sample order, as the first paid order of a customer; the
        sandbox delivers its paid-order webhook ``deliveries`` times. Returns the order id."""
        raise NotImplementedError

    def paid_order(self, *, customer_orders: int | None, matching_product: bool) -> str:
        """A paid order of a customer with ``customer_orders`` orders (``None``: a guest) for a
        product whose taxonomy matches :attr:`product_condition` or not."""
        raise NotImplementedError

    def coupons(self, code: str) -> list[dict[str, Any]]:
        raise NotImplementedError

    def content(self, order_id: str) -> tuple[dict[str, Any], str]:
        """The blocks document and the HTML stored on the order (HTML empty where the platform
        stores blocks only)."""
        raise NotImplementedError


class ShopifyShop(Shop):
    platform = "shopify"
    product_condition = 'any line_items.product_type == "Kaffee"'
    product_field = "line_items.product_type"

    def __init__(self, sandbox: ShopifySandbox, campaign_text: str) -> None:
        self.sandbox = sandbox
        super().__init__(
            campaign_text,
            shopify_shop_section(sandbox),
            {
                "SHOPIFY_WEBHOOK_SECRET": sandbox.secret,
                "SHOPIFY_ACCESS_TOKEN": sandbox.token,
                "AFTERSALE_CODE_SECRET": CODE_SECRET,
            },
            paid_order_of=_shopify_paid_order,
        )

    def build(self, settings: ShopSettings, *, secrets: Mapping[str, str]) -> Platform:
        return ShopifyAdapter.from_settings(settings, secrets=secrets)

    def vendor_order(self, *, deliveries: int = 1) -> str:
        # Shopify's sample order (a voided test order) made paid, loaded with fresh ids; its
        # webhooks go out 0.3 s later, when the receiver knows how often to refuse them (Shopify
        # retries a refused delivery with the same event id).
        sample = json.loads(SHOPIFY_SAMPLE.read_text(encoding="utf-8"))
        rest = self.sandbox.create_order(
            order=sample,
            new_id=True,
            overrides={"financial_status": "paid", "cancelled_at": None, "cancel_reason": None},
            customer={"orders_count": 1},
            visible_after=0.3,
        )
        order_id = str(rest["id"])
        self.receiver.refuse[order_id] = deliveries - 1
        return order_id

    def paid_order(self, *, customer_orders: int | None, matching_product: bool) -> str:
        customer = None if customer_orders is None else {"orders_count": customer_orders}
        product_type = "Kaffee" if matching_product else "Tee"
        line = {"title": f"{product_type} 500 g", "price": "24.00"}
        rest = self.sandbox.create_order(
            customer=customer,
            line_items=[{**line, "product": {"product_type": product_type}}],
            financial_status="paid",
        )
        return str(rest["id"])

    def coupons(self, code: str) -> list[dict[str, Any]]:
        return [
            d
            for d in self.sandbox.discounts()
            if any(c.lower() == code.lower() for c in d["codes"])
        ]

    def content(self, order_id: str) -> tuple[dict[str, Any], str]:
        owner = f"gid://shopify/Order/{order_id}"
        (blocks,) = [
            m for m in self.sandbox.metafields() if m["owner_id"] == owner and m["key"] == "blocks"
        ]
        assert blocks["type"] == "json"
        return json.loads(blocks["value"]), ""


class WooCommerceShop(Shop):
    platform = "woocommerce"
    # WooCommerce has no product types: the taxonomy it has is the product's categories.
    product_condition = 'any line_items.categories contains "kaffee"'
    product_field = "line_items.categories"

    def __init__(self, sandbox: WooCommerceSandbox, campaign_text: str) -> None:
        self.sandbox = sandbox
        self._customers = iter(range(9100, 9999))
        super().__init__(
            campaign_text,
            woocommerce_shop_section(sandbox),
            {
                "WC_WEBHOOK_SECRET": WOO_WEBHOOK_SECRET,
                "WC_CONSUMER_KEY": sandbox.consumer_key,
                "WC_CONSUMER_SECRET": sandbox.consumer_secret,
                "AFTERSALE_CODE_SECRET": CODE_SECRET,
            },
            paid_order_of=_woocommerce_paid_order,
        )
        sandbox.set_product_terms(WOO_COFFEE_PRODUCT, categories=["Kaffee"])
        sandbox.set_product_terms(WOO_TEA_PRODUCT, categories=["Tee"])

    def build(self, settings: ShopSettings, *, secrets: Mapping[str, str]) -> Platform:
        return WooCommerceAdapter.from_settings(settings, secrets=secrets)

    def _checkout(
        self, payload: dict[str, Any] | None, *, customer: int, email: str, **fields: Any
    ) -> str:
        order = self.sandbox.create_order(
            payload=payload, customer_id=customer, email=email, **fields
        )
        self.sandbox.pay(order["id"])  # processing: order.updated
        return str(order["id"])

    def vendor_order(self, *, deliveries: int = 1) -> str:
        # The docs' order 727 as WooCommerce's webhook body carries it, checked out again by a
        # registered customer (the sample is a guest's) and paid. WooCommerce sends one change's
        # order.updated several times (woocommerce#20047): the sandbox repeats it on request.
        payload = json.loads(WOO_SAMPLE_BODY.read_bytes())
        customer = next(self._customers)
        self.sandbox.set_webhook_options(updated_repeats=deliveries)
        try:
            return self._checkout(payload, customer=customer, email=f"kunde{customer}@example.com")
        finally:
            self.sandbox.wait_for_webhooks(5.0)
            self.sandbox.set_webhook_options(updated_repeats=1)

    def paid_order(self, *, customer_orders: int | None, matching_product: bool) -> str:
        product = WOO_COFFEE_PRODUCT if matching_product else WOO_TEA_PRODUCT
        customer = 0 if customer_orders is None else next(self._customers)
        order_id = ""
        for _ in range(customer_orders or 1):
            order_id = self._checkout(
                None,
                customer=customer,
                email=f"kunde{customer}@example.com",
                line_items=[{"product_id": product, "quantity": 2}],
            )
        return order_id

    def coupons(self, code: str) -> list[dict[str, Any]]:
        return [
            c
            for c in self.sandbox.coupons(include_trash=False)
            if c["code"].lower() == code.lower()
        ]

    def content(self, order_id: str) -> tuple[dict[str, Any], str]:
        meta = {m["key"]: m["value"] for m in self.sandbox.order_meta(int(order_id))}
        return json.loads(meta[BLOCKS_META_KEY]), str(meta[HTML_META_KEY])


def load(text: str, name: str) -> ShopConfig:
    return load_config_text(text, filename=name, param_check=param_problems)


@pytest.fixture(scope="module")
def campaign_text() -> str:
    return CAMPAIGN_FILE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def shopify(campaign_text: str) -> Iterator[ShopifyShop]:
    # time_scale: Shopify's retry schedule (minutes to hours) in fractions of a second
    with shopify_sandbox(
        shop=SHOP_NAME, api_version=API_VERSION, currency="USD", time_scale=0.0005
    ) as sandbox:
        shop = ShopifyShop(sandbox, campaign_text)
        with SandboxHTTPServer(shop.receiver) as endpoint:
            sandbox.subscribe("orders/paid", endpoint.url + "/webhooks")
            yield shop


@pytest.fixture(scope="module")
def woocommerce(campaign_text: str) -> Iterator[WooCommerceShop]:
    with woocommerce_sandbox(webhook_secret=WOO_WEBHOOK_SECRET) as sandbox:
        shop = WooCommerceShop(sandbox, campaign_text)
        with SandboxHTTPServer(shop.receiver) as endpoint:
            sandbox.add_webhook("order.updated", endpoint.url + "/webhooks")
            yield shop


@pytest.fixture(params=["shopify", "woocommerce"])
def shop(request: pytest.FixtureRequest) -> Shop:
    found = request.getfixturevalue(request.param)
    assert isinstance(found, Shop)
    return found


@pytest.fixture(scope="module")
def renderer(campaign_text: str) -> ContentRenderer:
    return ContentRenderer.for_config(load(campaign_text, CAMPAIGN_FILE.name))


# -- the pipeline ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Processed:
    hook: IncomingWebhook
    received: Order
    fields: frozenset[str]
    order: Order
    decision: Decision
    coupons: tuple[CouponRef, ...]
    content: ConfirmationContent


def process(
    shop: Shop,
    adapter: Platform,
    renderer: ContentRenderer,
    delivery: Delivery,
    *,
    config: ShopConfig | None = None,
) -> Processed:
    """One delivery through the product: verify, enrich what the campaigns need, decide, issue
    the coupons, write the confirmation content (``config``: another than the shop's)."""
    headers, body = delivery
    now = datetime.now(UTC).replace(microsecond=0)
    hook = adapter.verify_webhook(headers, body)
    event = hook.order_event(now=now)
    assert event is not None, f"{hook.topic} carries no order event"
    config = config or shop.config
    fields = enrichment_fields(config.campaigns, event=event.kind)
    order = adapter.enrich(event.order, fields)
    decision = decide(
        config,
        order,
        event=event.kind,
        counters=InMemoryCounters(),
        now=now,
        code_secret=shop.code_secret,
    )
    refs = tuple(
        adapter.create_coupon(coupon_spec(planned, order, config.settings, now))
        for planned in decision.actions
        if isinstance(planned.action, IssueCoupon)
    )
    content = confirmation_content(
        decision=decision, order=order, config=config, now=now, renderer=renderer
    )
    adapter.write_content(order, content)
    return Processed(hook, event.order, fields, order, decision, refs, content)


def _coupon_block(blocks: Mapping[str, Any]) -> dict[str, Any]:
    (block,) = [b for b in blocks["blocks"] if b["type"] == "coupon"]
    return dict(block)


# -- 1. one campaign file, both platforms ----------------------------------------------------------


def test_the_two_files_differ_only_in_the_shop_section(
    shopify: ShopifyShop, woocommerce: WooCommerceShop, campaign_text: str
) -> None:
    original, one, other = (
        sections(t) for t in (campaign_text, shopify.config_text, woocommerce.config_text)
    )
    assert original.keys() == one.keys() == other.keys() >= {"version", "shop", "campaigns"}
    assert one["shop"] == shopify.shop_section and other["shop"] == woocommerce.shop_section
    assert one["shop"] != other["shop"]
    for key in original.keys() - {"shop"}:
        assert one[key] == other[key] == original[key], key
    # and both files load to the same campaigns (apart from the line each starts on)
    assert [replace(c, source=None) for c in shopify.config.campaigns] == [
        replace(c, source=None) for c in woocommerce.config.campaigns
    ]
    assert (shopify.config.settings.platform, woocommerce.config.settings.platform) == (
        "shopify",
        "woocommerce",
    )


def test_vendor_order_webhook_issues_a_coupon_and_writes_the_content(
    shop: Shop, renderer: ContentRenderer
) -> None:
    # given the vendor's sample order, paid, as a customer's first order, and its signed delivery
    order_id = shop.vendor_order()
    (delivery,) = shop.receiver.wait_for(order_id, 1)
    # when it goes through verify -> enrich -> decide -> coupon -> content
    done = process(shop, shop.adapter(), renderer, delivery)
    # then it is the paid order, whose customer's order count the adapter fetched
    assert done.hook.platform == shop.platform and done.hook.kind is WebhookKind.ORDER_PAID
    assert done.order.id == order_id
    assert done.fields == frozenset({"first_order", "customer.orders_count"})
    assert done.received.customer is not None and done.received.customer.orders_count is None
    assert done.order.customer is not None and done.order.customer.orders_count == 1
    assert unknown_fields(done.order, done.fields) == frozenset()
    # the first-order campaign and the thank-you fired
    assert set(done.decision.fired) == {"danke-erstkunde", "bestaetigung"}
    (planned,) = [p for p in done.decision.actions if isinstance(p.action, IssueCoupon)]
    assert planned.coupon_code and planned.coupon_code.startswith("DANKE")
    code = planned.coupon_code
    # one coupon with the engine's code exists on the platform
    (ref,) = done.coupons
    assert ref.created and ref.code.lower() == code.lower()
    (stored,) = shop.coupons(code)
    assert str(stored["id"]) in ref.platform_id
    # and the confirmation content with that coupon is stored on the order
    blocks, html = shop.content(order_id)
    assert blocks == json.loads(done.content.blocks_json())
    assert _coupon_block(blocks)["code"] == code
    assert {b["type"] for b in blocks["blocks"]} == {"coupon", "thank_you"}
    if shop.platform == "woocommerce":
        assert code in html and html == done.content.html


def test_woocommerce_sample_delivery_byte_for_byte_thanks_a_guest_without_coupon(
    woocommerce: WooCommerceShop, campaign_text: str, renderer: ContentRenderer
) -> None:
    # given WooCommerce's order.updated delivery exactly as in the fixture (a guest's order 727
    # from the store example.com, signed with its demo secret), the order in the sandbox store,
    # and the campaign file with a shop section for that store
    delivery = json.loads(WOO_SAMPLE_DELIVERY.read_text(encoding="utf-8"))
    body = (WOO_SAMPLE_BODY.parent / delivery["body_file"]).read_bytes()
    assert body == WOO_SAMPLE_BODY.read_bytes()
    woocommerce.sandbox.load_order(payload=json.loads(body))
    section = woocommerce.shop_section.replace("domain: 127.0.0.1", "domain: example.com")
    config = load(with_shop(campaign_text, section), CAMPAIGN_FILE.name)
    environment = {**woocommerce.environment, "WC_WEBHOOK_SECRET": delivery["secret"]}
    secrets = {ref.name: environment[ref.env] for ref in config.settings.secrets}
    adapter = WooCommerceAdapter.from_settings(config.settings, secrets=secrets)
    # when it goes through the pipeline
    done = process(woocommerce, adapter, renderer, (delivery["headers"], body), config=config)
    # then it is order 727, paid by a guest: thanked, but no first-order coupon
    assert done.hook.kind is WebhookKind.ORDER_PAID and done.order.id == "727"
    assert done.order.is_guest
    outcome = done.decision.outcome("danke-erstkunde")
    assert outcome is not None and outcome.reason is Reason.CONDITION_FAILED
    assert "guest order" in outcome.detail
    assert done.decision.fired == ("bestaetigung",) and done.coupons == ()
    blocks, html = woocommerce.content("727")
    assert [b["type"] for b in blocks["blocks"]] == ["thank_you"]
    assert "Vielen Dank" in html


# -- 2. replays ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_five_deliveries_of_one_webhook_create_one_coupon(
    shop: Shop, renderer: ContentRenderer
) -> None:
    # given one paid-order event the platform delivers five times
    order_id = shop.vendor_order(deliveries=5)
    deliveries = shop.receiver.wait_for(order_id, 5)
    adapter = shop.adapter()
    # when every delivery goes through the whole pipeline
    runs = [process(shop, adapter, renderer, d) for d in deliveries]
    # then they are one event, decided alike, and only the first run created the coupon
    assert len({r.hook.dedupe_key for r in runs}) == 1
    assert len({r.decision.actions for r in runs}) == 1
    assert [ref.created for r in runs for ref in r.coupons] == [True, False, False, False, False]
    assert len({ref.platform_id for r in runs for ref in r.coupons}) == 1
    code = runs[0].coupons[0].code
    assert len(shop.coupons(code)) == 1
    # the same decision carried out twice more, by a fresh adapter: still one coupon
    first = runs[0]
    now = datetime.now(UTC).replace(microsecond=0)
    again = shop.adapter()
    specs = [coupon_spec(first.decision.actions[0], first.order, shop.config.settings, now)] * 2
    assert [again.create_coupon(s).created for s in specs] == [False, False]
    assert len(shop.coupons(code)) == 1


# -- 3. enrichment decides -------------------------------------------------------------------------


def taxonomy_config(shop: Shop) -> ShopConfig:
    text = shop.shop_section + (
        "campaigns:\n"
        "  - id: erstkauf\n"
        "    when: first_order\n"
        "    actions:\n"
        "      - show_block: {block: thank_you, params: {headline: Willkommen!}}\n"
        "  - id: kaffee\n"
        f"    when: '{shop.product_condition}'\n"
        "    actions:\n"
        "      - show_block: {block: thank_you, params: {headline: Frisch geröstet}}\n"
    )
    return load(text, f"{shop.platform}-taxonomy.yaml")


@pytest.mark.parametrize(
    ("customer_orders", "matching_product", "first_fires", "product_fires"),
    [(1, True, True, True), (3, False, False, False), (None, True, False, True)],
    ids=["first-order-coffee", "third-order-tea", "guest-coffee"],
)
def test_fetched_order_count_and_taxonomy_decide(
    shop: Shop,
    customer_orders: int | None,
    matching_product: bool,
    first_fires: bool,
    product_fires: bool,
) -> None:
    # given a paid order whose webhook lacks the customer's order count and product taxonomy
    config = taxonomy_config(shop)
    order_id = shop.paid_order(customer_orders=customer_orders, matching_product=matching_product)
    (delivery,) = shop.receiver.wait_for(order_id, 1)
    adapter = shop.adapter()
    received = adapter.verify_webhook(*delivery).order
    assert received is not None and received.id == order_id
    fields = enrichment_fields(config.campaigns, event=EventKind.ORDER_PAID)
    assert fields == {"first_order", "customer.orders_count", shop.product_field}
    now = datetime.now(UTC)

    def outcomes(order: Order) -> dict[str, tuple[bool, Reason, str]]:
        decision = decide(
            config,
            order,
            event=EventKind.ORDER_PAID,
            counters=InMemoryCounters(),
            now=now,
            code_secret=shop.code_secret,
        )
        return {o.campaign_id: (o.fired, o.reason, o.detail) for o in decision.outcomes}

    before = outcomes(received)
    assert before["kaffee"][1] is Reason.FIELD_UNKNOWN
    # when the adapter fetches exactly what the campaigns need
    enriched = adapter.enrich(received, fields)
    after = outcomes(enriched)
    # then the fetched values decide
    if customer_orders is None:
        assert enriched.is_guest
        fired, reason, detail = after["erstkauf"]
        assert (fired, reason) == (False, Reason.CONDITION_FAILED)
        assert "guest order" in detail
    else:
        assert before["erstkauf"][1] is Reason.FIELD_UNKNOWN
        assert enriched.customer is not None
        assert enriched.customer.orders_count == customer_orders
        expected = Reason.FIRED if first_fires else Reason.CONDITION_FAILED
        assert after["erstkauf"][:2] == (first_fires, expected)
    expected = Reason.FIRED if product_fires else Reason.CONDITION_FAILED
    assert after["kaffee"][:2] == (product_fires, expected)
