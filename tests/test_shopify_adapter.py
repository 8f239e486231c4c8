"""Shopify adapter units: webhook verification, the platform port's pure helpers, the GraphQL
mapper, coupon inputs, and the transport's error translation over real HTTP (a loopback server
answering exactly what each test needs). The full adapter against the Shopify sandbox is in
``tests/contract/test_shopify_contract.py``."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import shopify
from aftersale_kit_shopify import RetryPolicy, ShopifyAdapter, sign_body
from aftersale_kit_shopify import queries as q
from aftersale_kit_shopify.coupons import basic_input, free_shipping_input
from aftersale_kit_shopify.enrich import EnrichmentCache
from aftersale_kit_shopify.errors import Redactor
from aftersale_kit_shopify.graphql_client import GraphQLClient
from aftersale_kit_shopify.mapping import (
    Enrichment,
    LineFacts,
    apply_enrichment,
    order_from_graphql,
)
from aftersale_kit_shopify.normalize import normalize_shopify_order

from aftersale_kit.core.campaign import CouponKind, IssueCoupon, SecretRef, ShopSettings, TagOrder
from aftersale_kit.core.decision import PlannedAction
from aftersale_kit.core.errors import (
    ConfigError,
    InvalidRequestError,
    MalformedWebhookError,
    NotAuthorizedError,
    NotFoundError,
    PlatformUnavailableError,
    RateLimitedError,
    SignatureError,
    UnknownTopicError,
)
from aftersale_kit.core.model import EventKind, FinancialStatus
from aftersale_kit.core.money import Money
from aftersale_kit.core.platform import (
    ENRICHABLE_FIELDS,
    ConfirmationContent,
    CouponSpec,
    Platform,
    WebhookKind,
    coupon_spec,
    unknown_fields,
)
from aftersale_kit.testing.faults import FaultPlan
from aftersale_kit.testing.httpserver import Request, Response, SandboxHTTPServer, json_response

FIXTURES = Path(__file__).parent / "fixtures" / "shopify"
SHOP = "demo-shop.myshopify.com"
SECRET = "whsec-current-0123456789"
OLD_SECRET = "whsec-previous-9876543210"
TOKEN = "shpat_test_token_abcdef0123456789"
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def _body(name: str = "shopify_sample_webhook_order_2025.json") -> bytes:
    return (FIXTURES / name).read_bytes()


def _headers(
    body: bytes, *, topic: str = "orders/paid", secret: str = SECRET, **extra: str
) -> dict[str, str]:
    headers = {
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": sign_body(body, secret),
        "X-Shopify-Shop-Domain": SHOP,
        "X-Shopify-API-Version": "2026-01",
        "X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        "X-Shopify-Event-Id": "98880550-7158-44d4-b7cd-2c97c8a091b5",
        "X-Shopify-Triggered-At": "2026-11-24T09:59:58.123Z",
    }
    headers.update(extra)
    return headers


def _adapter(**kwargs: Any) -> ShopifyAdapter:
    options: dict[str, Any] = {
        "shop": SHOP,
        "api_token": TOKEN,
        "webhook_secret": SECRET,
        "previous_webhook_secret": OLD_SECRET,
    }
    options.update(kwargs)
    return ShopifyAdapter(**options)


# -- webhooks -----------------------------------------------------------------------------------


def test_signed_order_webhook_becomes_an_order_event_with_a_stable_dedupe_key() -> None:
    # given the vendor's sample body, signed as Shopify signs it
    body = _body()
    adapter = _adapter()
    # when it is verified
    hook = adapter.verify_webhook(_headers(body), body)
    # then it is an ORDER_PAID event for the sample order with ids as exact strings
    assert hook.kind is WebhookKind.ORDER_PAID
    assert hook.event_kind is EventKind.ORDER_PAID
    assert hook.order is not None and hook.order.id == "820982911946154508"
    assert hook.order_id == "820982911946154508"
    assert hook.shop == SHOP
    assert hook.dedupe_key == f"shopify:{SHOP}:orders/paid:98880550-7158-44d4-b7cd-2c97c8a091b5"
    # the payment time is the event's (the order body has none)
    assert hook.order.paid_at == datetime(2026, 11, 24, 9, 59, 58, 123000, tzinfo=UTC)
    event = hook.order_event()
    assert event is not None and event.dedupe_key == hook.dedupe_key
    assert hook.header("X-Shopify-Hmac-Sha256") is None  # signatures are not kept
    assert hook.header("x-shopify-webhook-id") == "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"


def test_a_redelivery_has_the_same_dedupe_key_and_another_delivery_id() -> None:
    body = _body()
    adapter = _adapter()
    first = adapter.verify_webhook(_headers(body), body)
    again = adapter.verify_webhook(_headers(body, **{"X-Shopify-Webhook-Id": "other"}), body)
    assert again.dedupe_key == first.dedupe_key
    assert again.delivery_id == "other" != first.delivery_id


def test_dedupe_key_falls_back_to_the_webhook_id_then_to_the_body() -> None:
    body = _body()
    adapter = _adapter()
    headers = _headers(body)
    del headers["X-Shopify-Event-Id"]
    assert adapter.verify_webhook(headers, body).dedupe_key.endswith(
        ":orders/paid:b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
    )
    del headers["X-Shopify-Webhook-Id"]
    key = adapter.verify_webhook(headers, body).dedupe_key
    assert key.startswith(f"shopify:{SHOP}:orders/paid:sha256-")
    assert adapter.verify_webhook(headers, body).dedupe_key == key


def test_header_names_are_case_insensitive_and_the_events_spelling_is_read() -> None:
    body = _body()
    lower = {k.lower(): v for k, v in _headers(body).items()}
    assert _adapter().verify_webhook(lower, body).kind is WebhookKind.ORDER_PAID
    unprefixed = {k.removeprefix("X-"): v for k, v in _headers(body).items()}
    assert _adapter().verify_webhook(unprefixed, body).kind is WebhookKind.ORDER_PAID


def test_the_previous_secret_is_accepted_during_a_rotation() -> None:
    body = _body()
    hook = _adapter().verify_webhook(_headers(body, secret=OLD_SECRET), body)
    assert hook.kind is WebhookKind.ORDER_PAID
    # without a previous secret configured, the old signature is refused
    with pytest.raises(SignatureError):
        _adapter(previous_webhook_secret=None).verify_webhook(
            _headers(body, secret=OLD_SECRET), body
        )


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda h, b: (h, b + b" "), id="body changed"),
        pytest.param(lambda h, b: ({**h, "X-Shopify-Hmac-Sha256": "AAAA"}, b), id="forged"),
        pytest.param(
            lambda h, b: ({k: v for k, v in h.items() if "Hmac" not in k}, b), id="missing"
        ),
        pytest.param(
            lambda h, b: ({**h, "X-Shopify-Hmac-Sha256": "not base64 !!"}, b), id="not base64"
        ),
        pytest.param(
            lambda h, b: (
                {
                    **h,
                    "X-Shopify-Hmac-Sha256": __import__("hmac")
                    .new(SECRET.encode(), b, "sha256")
                    .hexdigest(),
                },
                b,
            ),
            id="hex digest",
        ),
        pytest.param(
            lambda h, b: (
                h,
                json.dumps(json.loads(b)).encode(),  # re-serialised JSON never matches
            ),
            id="re-encoded",
        ),
    ],
)
def test_a_wrong_signature_is_refused(
    tamper: Callable[[dict[str, str], bytes], tuple[dict[str, str], bytes]],
) -> None:
    body = _body()
    headers, sent = tamper(_headers(body), body)
    with pytest.raises(SignatureError) as err:
        _adapter().verify_webhook(headers, sent)
    assert SECRET not in str(err.value) and OLD_SECRET not in str(err.value)


def test_signature_is_checked_before_anything_else() -> None:
    # an unsigned request with an unknown topic and a broken body learns only "signature"
    with pytest.raises(SignatureError):
        _adapter().verify_webhook({"X-Shopify-Topic": "nope/nope"}, b"{")


def test_a_delivery_for_another_shop_or_without_a_shop_is_refused() -> None:
    body = _body()
    with pytest.raises(SignatureError, match=r"other-shop\.myshopify\.com"):
        _adapter().verify_webhook(
            _headers(body, **{"X-Shopify-Shop-Domain": "other-shop.myshopify.com"}), body
        )
    headers = _headers(body)
    del headers["X-Shopify-Shop-Domain"]
    with pytest.raises(MalformedWebhookError, match="X-Shopify-Shop-Domain"):
        _adapter().verify_webhook(headers, body)


def test_body_not_json_and_not_an_order_are_malformed() -> None:
    with pytest.raises(MalformedWebhookError, match="not JSON"):
        _adapter().verify_webhook(_headers(b"<html>"), b"<html>")
    body = b'{"id": 1}'
    with pytest.raises(MalformedWebhookError, match="orders/paid"):
        _adapter().verify_webhook(_headers(body), body)
    body = b"[1, 2]"
    with pytest.raises(MalformedWebhookError, match="JSON object"):
        _adapter().verify_webhook(_headers(body), body)


def test_unknown_topic() -> None:
    body = b'{"id": 1}'
    with pytest.raises(UnknownTopicError, match="products/update"):
        _adapter().verify_webhook(_headers(body, topic="products/update"), body)


def test_refund_maps_to_refund_created_for_its_order() -> None:
    body = json.dumps(
        {"id": 929361462, "order_id": 820982911946154508, "created_at": "2026-11-24T10:00:00Z"}
    ).encode()
    hook = _adapter().verify_webhook(_headers(body, topic="refunds/create"), body)
    assert hook.kind is WebhookKind.REFUND_CREATED
    assert hook.order is None and hook.order_id == "820982911946154508"
    assert hook.order_event(now=NOW) is None  # the caller fetches the order first
    bad = b'{"id": 1}'
    with pytest.raises(MalformedWebhookError, match="order_id"):
        _adapter().verify_webhook(_headers(bad, topic="refunds/create"), bad)


@pytest.mark.parametrize(
    ("topic", "kind"),
    [
        ("customers/data_request", WebhookKind.CUSTOMERS_DATA_REQUEST),
        ("customers/redact", WebhookKind.CUSTOMERS_REDACT),
        ("shop/redact", WebhookKind.SHOP_REDACT),
        ("app/uninstalled", WebhookKind.APP_UNINSTALLED),
    ],
)
def test_compliance_and_uninstall_topics(topic: str, kind: WebhookKind) -> None:
    body = json.dumps(
        {"shop_id": 954889, "shop_domain": SHOP, "customer": {"id": 191167, "email": "j@x.io"}}
    ).encode()
    hook = _adapter().verify_webhook(_headers(body, topic=topic), body)
    assert hook.kind is kind and hook.order is None and hook.event_kind is None
    assert hook.payload["shop_id"] == 954889
    assert hook.dedupe_key.startswith(f"shopify:{SHOP}:{topic}:")


# -- the port's pure helpers ----------------------------------------------------------------------


def _planned(action: Any, code: str | None = "DANKE-7KQ9MZ4T") -> PlannedAction:
    return PlannedAction(
        campaign_id="thanks",
        action=action,
        idempotency_key=f"{SHOP}:1001:thanks:0",
        cost=Money.of("5", "EUR"),
        coupon_code=code,
    )


def _order(*, guest: bool = False) -> Any:
    order = normalize_shopify_order(json.loads(_body()), shop=SHOP)
    return replace(order, customer=None) if guest else order


def test_coupon_spec_for_a_customer_and_for_a_guest() -> None:
    settings = ShopSettings(platform="shopify", domain=SHOP, currency="eur")
    action = IssueCoupon(
        kind=CouponKind.PERCENTAGE, value=Decimal(10), valid_days=30, minimum_order=Decimal(50)
    )
    spec = coupon_spec(_planned(action), _order(), settings, NOW)
    assert spec.code == "DANKE-7KQ9MZ4T"
    assert spec.kind is CouponKind.PERCENTAGE and spec.value == Decimal(10)
    assert spec.starts_at == NOW and spec.ends_at == NOW + timedelta(days=30)
    assert spec.minimum_order == Money(Decimal(50), "EUR")
    assert spec.usage_limit == 1 and spec.once_per_customer
    assert spec.customer_id == "115310627314723954"
    assert spec.email == "jon@example.com"
    assert spec.title == "aftersale-kit thanks · order #9999"
    guest = coupon_spec(_planned(action), _order(guest=True), settings, NOW)
    assert guest.customer_id is None and guest.once_per_customer and guest.usage_limit == 1


def test_coupon_spec_refuses_what_it_cannot_build() -> None:
    settings = ShopSettings(platform="shopify", domain=SHOP, currency="EUR")
    action = IssueCoupon(kind=CouponKind.FIXED_AMOUNT, value=Decimal(5), valid_days=7)
    with pytest.raises(ValueError, match="no code"):
        coupon_spec(_planned(action, code=None), _order(), settings, NOW)
    with pytest.raises(ValueError, match="not issue_coupon"):
        coupon_spec(_planned(TagOrder(tag="vip")), _order(), settings, NOW)
    with pytest.raises(ValueError, match="timezone"):
        coupon_spec(_planned(action), _order(), settings, NOW.replace(tzinfo=None))


def test_unknown_fields_skips_known_and_impossible_fields() -> None:
    order = _order()
    assert unknown_fields(order, frozenset()) == frozenset()
    assert unknown_fields(order, frozenset({"order.total"})) == frozenset()
    assert unknown_fields(order, frozenset({"first_order"})) == {"customer.orders_count"}
    assert order.customer is not None
    known = replace(order, customer=replace(order.customer, orders_count=3))
    assert unknown_fields(known, frozenset({"customer.orders_count"})) == frozenset()
    guest = _order(guest=True)
    assert unknown_fields(guest, ENRICHABLE_FIELDS) == {
        "line_items.product_type",
        "line_items.tags",
        "line_items.categories",
    }


def test_confirmation_content_json_is_compact_and_stable() -> None:
    content = ConfirmationContent(
        blocks=({"type": "coupon", "code": "X", "value": Decimal("10.00")},), locale="de"
    )
    assert json.loads(content.blocks_json()) == {
        "version": 1,
        "locale": "de",
        "blocks": [{"type": "coupon", "code": "X", "value": "10.00"}],
    }


def test_through_the_port_the_adapter_names_its_platform_and_the_fields_it_supplies() -> None:
    # (that it implements every method of the port: the contract suite, tests/contract)
    port: Platform = _adapter()
    assert port.name == "shopify"
    assert port.supported_fields >= ENRICHABLE_FIELDS
    assert "order.total" in port.supported_fields


# -- construction -------------------------------------------------------------------------------


def test_from_settings_names_the_missing_secret_and_bad_settings() -> None:
    settings = ShopSettings(
        platform="shopify",
        domain=SHOP,
        currency="EUR",
        secrets=(SecretRef("api_token", "DEMO_SHOPIFY_TOKEN"),),
    )
    with pytest.raises(ConfigError, match="DEMO_SHOPIFY_TOKEN"):
        ShopifyAdapter.from_settings(settings, secrets={"webhook_secret": SECRET})
    with pytest.raises(ConfigError, match="myshopify domain"):
        ShopifyAdapter.from_settings(
            replace(settings, domain="brand.com"),
            secrets={"api_token": TOKEN, "webhook_secret": SECRET},
        )
    with pytest.raises(ConfigError, match="2026-01"):
        ShopifyAdapter.from_settings(
            replace(settings, api_version="2026-1"),
            secrets={"api_token": TOKEN, "webhook_secret": SECRET},
        )
    with pytest.raises(ConfigError, match="woocommerce"):
        ShopifyAdapter.from_settings(
            replace(settings, platform="woocommerce"),
            secrets={"api_token": TOKEN, "webhook_secret": SECRET},
        )
    adapter = ShopifyAdapter.from_settings(
        replace(settings, domain="Demo-Shop.myshopify.com"),
        secrets={"api_token": TOKEN, "webhook_secret": SECRET},
    )
    assert adapter.shop == SHOP and adapter.api_version == "2026-01"
    assert TOKEN not in repr(adapter) and TOKEN not in repr(adapter.client)


# -- coupon inputs --------------------------------------------------------------------------------


def _spec(**changes: Any) -> CouponSpec:
    spec = CouponSpec(
        code="DANKE-7KQ9MZ4T",
        kind=CouponKind.PERCENTAGE,
        value=Decimal(15),
        currency="EUR",
        title="aftersale-kit thanks · order #1001",
        starts_at=NOW,
        ends_at=NOW + timedelta(days=30),
        minimum_order=Money(Decimal("50.00"), "EUR"),
        usage_limit=1,
        once_per_customer=True,
        customer_id="42",
    )
    return replace(spec, **changes)


def test_basic_input_for_a_customer_percentage_coupon() -> None:
    data = basic_input(_spec(), api_version="2026-01")
    assert data["context"] == {"customers": {"add": ["gid://shopify/Customer/42"]}}
    assert data["customerGets"] == {"value": {"percentage": 0.15}, "items": {"all": True}}
    assert data["minimumRequirement"] == {"subtotal": {"greaterThanOrEqualToSubtotal": "50"}}
    assert data["startsAt"] == "2026-11-24T10:00:00Z" and data["usageLimit"] == 1
    assert data["appliesOncePerCustomer"] is True


def test_basic_input_for_a_guest_fixed_amount_on_products_and_before_2025_10() -> None:
    spec = _spec(
        kind=CouponKind.FIXED_AMOUNT, value=Decimal("7.50"), customer_id=None, product_ids=("9",)
    )
    data = basic_input(spec, api_version="2026-01")
    assert data["context"] == {"all": "ALL"}
    assert data["customerGets"]["value"] == {
        "discountAmount": {"amount": "7.50", "appliesOnEachItem": False}
    }
    assert data["customerGets"]["items"] == {
        "products": {"productsToAdd": ["gid://shopify/Product/9"]}
    }
    old = basic_input(_spec(), api_version="2025-07")
    assert "context" not in old
    assert old["customerSelection"] == {"customers": {"add": ["gid://shopify/Customer/42"]}}


def test_free_shipping_input() -> None:
    data = free_shipping_input(
        _spec(kind=CouponKind.FREE_SHIPPING, value=Decimal(0)), api_version="2026-01"
    )
    assert data["destination"] == {"all": True}
    assert "customerGets" not in data
    with pytest.raises(ValueError):
        basic_input(_spec(kind=CouponKind.FREE_SHIPPING, value=Decimal(0)), api_version="2026-01")


# -- the GraphQL mapper ---------------------------------------------------------------------------


def _money(amount: str, currency: str = "EUR") -> dict[str, Any]:
    return {"shopMoney": {"amount": amount, "currencyCode": currency}}


def _graphql_order(**changes: Any) -> dict[str, Any]:
    node: dict[str, Any] = {
        "id": "gid://shopify/Order/9007199254741993",
        "legacyResourceId": "9007199254741993",
        "name": "#1001",
        "createdAt": "2026-11-24T09:00:00Z",
        "processedAt": "2026-11-24T09:00:00Z",
        "cancelledAt": None,
        "test": False,
        "email": "anna@example.com",
        "currencyCode": "EUR",
        "displayFinancialStatus": "PAID",
        "tags": ["vip", "wholesale"],
        "discountCodes": ["WELCOME"],
        "customerLocale": "de",
        "sourceName": "web",
        "paymentGatewayNames": ["shopify_payments"],
        "customAttributes": [{"key": "gift", "value": "yes"}],
        "subtotalPriceSet": _money("90.00"),
        "totalPriceSet": _money("104.90"),
        "totalDiscountsSet": _money("10.00"),
        "totalShippingPriceSet": _money("4.90"),
        "totalTaxSet": _money("16.75"),
        "shippingLine": {"title": "DHL Paket", "code": "dhl"},
        "billingAddress": {"countryCodeV2": "DE", "provinceCode": None, "city": "Köln", "zip": "1"},
        "shippingAddress": None,
        "customer": {
            "id": "gid://shopify/Customer/9007199254741001",
            "email": "anna@example.com",
            "firstName": "Anna",
            "lastName": "Muster",
            "locale": "de",
            "numberOfOrders": "3",
            "amountSpent": {"amount": "250.00", "currencyCode": "EUR"},
            "tags": ["vip"],
        },
        "lineItems": {
            "pageInfo": {"hasNextPage": False, "endCursor": None},
            "nodes": [
                {
                    "id": "gid://shopify/LineItem/9007199254742001",
                    "title": "Espresso",
                    "name": "Espresso - 1kg",
                    "quantity": 2,
                    "sku": "ESP-1",
                    "vendor": "Rösterei",
                    "isGiftCard": False,
                    "variant": {"id": "gid://shopify/ProductVariant/77"},
                    "originalUnitPriceSet": _money("45.00"),
                    "product": {
                        "id": "gid://shopify/Product/66",
                        "productType": "Kaffee",
                        "tags": ["bio"],
                        "collections": {"nodes": [{"handle": "coffee"}, {"handle": "sale"}]},
                    },
                },
                {
                    "id": "gid://shopify/LineItem/9007199254742002",
                    "title": "Custom engraving",
                    "name": "Custom engraving",
                    "quantity": 1,
                    "sku": None,
                    "vendor": None,
                    "isGiftCard": False,
                    "variant": None,
                    "originalUnitPriceSet": _money("0.00"),
                    "product": None,
                },
            ],
        },
    }
    node.update(changes)
    return node


def test_graphql_order_maps_to_the_neutral_order_with_legacy_ids() -> None:
    order = order_from_graphql(_graphql_order(), shop=SHOP)
    assert order.id == "9007199254741993" and order.number == "#1001"
    assert order.ref("gid") == "gid://shopify/Order/9007199254741993"
    assert order.ref("customer_gid") == "gid://shopify/Customer/9007199254741001"
    assert order.financial_status is FinancialStatus.PAID
    assert order.total == Money(Decimal("104.90"), "EUR")
    assert order.shipping == Money(Decimal("4.90"), "EUR")
    assert order.tags == ("vip", "wholesale") and order.discount_codes == ("WELCOME",)
    assert order.note_attributes == (("gift", "yes"),)
    assert order.billing_country == "DE" and order.shipping_address is None
    assert order.shipping_method == "DHL Paket" and order.payment_gateway == "shopify_payments"
    first = order.line_items[0]
    assert (first.id, first.product_id, first.variant_id) == ("9007199254742001", "66", "77")
    assert first.unit_price == Money(Decimal(45), "EUR") and first.quantity == 2
    # nothing enriched unless asked: unknown, not empty
    assert order.customer is not None and order.customer.orders_count is None
    assert first.product_type is None and first.tags is None and first.categories is None


def test_graphql_order_with_enrichment_fields() -> None:
    order = order_from_graphql(_graphql_order(), shop=SHOP, fields=ENRICHABLE_FIELDS)
    assert order.customer is not None
    assert order.customer.orders_count == 3  # UnsignedInt64 arrives as a string
    assert order.customer.total_spent == Money(Decimal(250), "EUR")
    assert order.customer.tags == ("vip",)
    first, custom = order.line_items
    assert (first.product_type, first.tags, first.categories) == (
        "Kaffee",
        ("bio",),
        ("coffee", "sale"),
    )
    # a line without product is known to have no type, tags or collections
    assert (custom.product_type, custom.tags, custom.categories) == ("", (), ())


def test_graphql_order_cancelled_and_guest() -> None:
    order = order_from_graphql(
        _graphql_order(customer=None, cancelledAt="2026-11-24T11:00:00Z"), shop=SHOP
    )
    assert order.is_guest and order.financial_status is FinancialStatus.CANCELLED
    assert order.email == "anna@example.com"


def test_apply_enrichment_fills_only_unknown_requested_fields_and_matches_by_product() -> None:
    order = order_from_graphql(_graphql_order(), shop=SHOP)
    assert order.customer is not None
    order = replace(order, customer=replace(order.customer, tags=("known",)))
    facts = Enrichment(
        orders_count=1,
        customer_tags=("vip",),
        lines={"other-line-id": LineFacts(product_id="66", product_type="Tee")},
    )
    enriched = apply_enrichment(
        order,
        facts,
        frozenset({"customer.orders_count", "customer.tags", "line_items.product_type"}),
    )
    customer = order.customer
    assert customer is not None
    assert enriched.customer == replace(customer, orders_count=1)  # tags were known
    assert enriched.line_items[0].product_type == "Tee"  # matched by product id
    assert enriched.line_items[1].product_type is None  # no match: stays unknown


def test_every_document_validates_against_the_sandbox_schema() -> None:
    graphql = pytest.importorskip("graphql")
    from aftersale_kit_shopify.sandbox.schema import schema_for_version

    schema = schema_for_version("2026-01")
    full = q.Selection.of(ENRICHABLE_FIELDS)
    documents = [
        q.order_query(full),
        q.order_query(q.Selection()),
        q.enrich_query(full),
        q.enrich_query(q.Selection(orders_count=True)),
        q.line_items_page_query(full, full=False),
        q.ORDER_LINES_PAGE,
        q.orders_since_query(q.Selection()),
        q.CODE_DISCOUNT_BY_CODE,
        q.DISCOUNT_BASIC_CREATE,
        q.DISCOUNT_FREE_SHIPPING_CREATE,
        q.DISCOUNT_DEACTIVATE,
        q.METAFIELDS_SET,
        q.TAGS_ADD,
        q.WEBHOOK_SUBSCRIPTIONS,
        q.WEBHOOK_SUBSCRIPTION_CREATE,
    ]
    problems = {
        doc[:60]: [e.message for e in graphql.validate(schema, graphql.parse(doc))]
        for doc in documents
    }
    assert {k: v for k, v in problems.items() if v} == {}


# -- the enrichment cache -------------------------------------------------------------------------


def test_enrichment_cache_expires_and_merges() -> None:
    now = [100.0]
    cache = EnrichmentCache(ttl=60, clock=lambda: now[0])
    cache.put(SHOP, "1", Enrichment(orders_count=2, fields={"customer.orders_count"}))
    now[0] += 30
    cache.put(SHOP, "1", Enrichment(customer_tags=("vip",), fields={"customer.tags"}))
    got = cache.get(SHOP, "1")
    assert got is not None and got.orders_count == 2 and got.customer_tags == ("vip",)
    assert got.fields == {"customer.orders_count", "customer.tags"}
    assert cache.get("other.myshopify.com", "1") is None
    now[0] += 31  # the entry keeps the age of its first read
    assert cache.get(SHOP, "1") is None


# -- the transport over real HTTP -----------------------------------------------------------------


class _Script:
    """A loopback GraphQL endpoint answering from a list of responses, recording requests."""

    def __init__(self, responses: list[Response | Callable[[], Response]]) -> None:
        self.responses = list(responses)
        self.requests: list[Request] = []
        self.lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        with self.lock:
            self.requests.append(request)
            item = self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]
        return item() if callable(item) else item


class _Endpoint:
    """One loopback server for the module; each test plugs in its own script."""

    def __init__(self) -> None:
        self.script: _Script | None = None

    def __call__(self, request: Request) -> Response:
        assert self.script is not None
        return self.script(request)


@pytest.fixture(scope="module")
def _endpoint() -> Iterator[tuple[_Endpoint, str]]:
    endpoint = _Endpoint()
    server = SandboxHTTPServer(endpoint).start()
    yield endpoint, server.url
    server.stop()


@pytest.fixture
def serve(_endpoint: tuple[_Endpoint, str]) -> Iterator[Callable[[_Script], str]]:
    endpoint, url = _endpoint

    def start(script: _Script) -> str:
        endpoint.script = script
        return url

    yield start
    endpoint.script = None


def _ok(data: dict[str, Any], available: float = 1990) -> Response:
    return json_response(
        200,
        {
            "data": data,
            "extensions": {
                "cost": {
                    "requestedQueryCost": 10,
                    "actualQueryCost": 10,
                    "throttleStatus": {
                        "maximumAvailable": 2000.0,
                        "currentlyAvailable": available,
                        "restoreRate": 100.0,
                    },
                }
            },
        },
    )


def _client(url: str, sleeps: list[float], **policy: Any) -> GraphQLClient:
    settings: dict[str, Any] = {
        "max_attempts": 4,
        "base_delay": 0.01,
        "max_delay": 0.05,
        "timeout": 2.0,
    }
    settings.update(policy)
    return GraphQLClient(
        shop=SHOP,
        token=TOKEN,
        api_version="2026-01",
        base_url=url,
        retry=RetryPolicy(**settings),
        sleep=sleeps.append,
    )


def test_client_posts_with_the_session_headers_to_the_versioned_endpoint(
    serve: Callable[[_Script], str],
) -> None:
    script = _Script([_ok({"shop": {"name": "x"}})])
    client = _client(serve(script), [])
    assert client.execute("{ shop { name } }", operation="shop") == {"shop": {"name": "x"}}
    request = script.requests[0]
    assert request.method == "POST" and request.path == "/admin/api/2026-01/graphql.json"
    assert request.headers["X-Shopify-Access-Token"] == TOKEN
    assert request.headers["User-Agent"].startswith("ShopifyPythonAPI/")
    assert json.loads(request.body)["query"] == "{ shop { name } }"
    assert client.throttle_status is not None
    assert client.throttle_status.currently_available == 1990


def test_throttled_waits_for_the_bucket_then_succeeds(serve: Callable[[_Script], str]) -> None:
    throttled = json_response(
        200,
        {
            "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
            "extensions": {
                "cost": {
                    "requestedQueryCost": 250,
                    "actualQueryCost": None,
                    "throttleStatus": {
                        "maximumAvailable": 2000.0,
                        "currentlyAvailable": 50,
                        "restoreRate": 100.0,
                    },
                }
            },
        },
    )
    script = _Script([throttled, _ok({"ok": True})])
    sleeps: list[float] = []
    client = _client(serve(script), sleeps, max_total_wait=5)
    assert client.execute("{ ok }", operation="q") == {"ok": True}
    assert sleeps == [pytest.approx(2.0)]  # (250 - 50) / 100


def test_429_honours_a_float_retry_after(serve: Callable[[_Script], str]) -> None:
    limited = json_response(429, {"errors": "Throttled"}, [("Retry-After", "0.7")])
    script = _Script([limited, _ok({"ok": True})])
    sleeps: list[float] = []
    assert _client(serve(script), sleeps).execute("{ ok }", operation="q") == {"ok": True}
    assert sleeps == [pytest.approx(0.7)]


def test_a_wait_beyond_the_budget_is_not_made(serve: Callable[[_Script], str]) -> None:
    limited = json_response(429, {"errors": "Throttled"}, [("Retry-After", "30.0")])
    sleeps: list[float] = []
    with pytest.raises(RateLimitedError) as err:
        _client(serve(_Script([limited])), sleeps, max_total_wait=5).execute(
            "{ ok }", operation="q"
        )
    assert err.value.retry_after == 30.0 and sleeps == []


def test_5xx_is_retried_with_bounded_backoff_and_prints_nothing(
    serve: Callable[[_Script], str], capsys: pytest.CaptureFixture[str]
) -> None:
    script = _Script([json_response(503, {"errors": "Service Unavailable"})])
    sleeps: list[float] = []
    with pytest.raises(PlatformUnavailableError) as err:
        _client(serve(script), sleeps).execute("{ ok }", operation="q")
    assert len(script.requests) == 4 and len(sleeps) == 3
    assert all(s <= 0.05 * 1.2 for s in sleeps)
    assert err.value.status == 503
    assert capsys.readouterr() == ("", "")


def test_non_json_200_is_unavailable_after_retries(serve: Callable[[_Script], str]) -> None:
    script = _Script([Response(200, b"<html>maintenance</html>", [("Content-Type", "text/html")])])
    with pytest.raises(PlatformUnavailableError, match="not JSON"):
        _client(serve(script), []).execute("{ ok }", operation="q")


@pytest.mark.parametrize(
    ("response", "error", "code"),
    [
        (json_response(401, {"errors": f"[API] Invalid token {TOKEN}"}), NotAuthorizedError, None),
        (json_response(403, {"errors": "Forbidden"}), NotAuthorizedError, None),
        (json_response(404, {"errors": "Not Found"}), NotFoundError, None),
        (json_response(400, {"errors": "bad"}), InvalidRequestError, None),
        (
            json_response(
                200,
                {"errors": [{"message": "Access denied", "extensions": {"code": "ACCESS_DENIED"}}]},
            ),
            NotAuthorizedError,
            None,
        ),
        (
            json_response(
                200,
                {
                    "errors": [
                        {
                            "message": "Field 'nope' doesn't exist",
                            "extensions": {"code": "undefinedField"},
                        }
                    ]
                },
            ),
            InvalidRequestError,
            "undefinedField",
        ),
    ],
)
def test_final_errors_are_translated_and_not_retried(
    serve: Callable[[_Script], str], response: Response, error: type[Exception], code: str | None
) -> None:
    script = _Script([response])
    with pytest.raises(error) as err:
        _client(serve(script), []).execute("{ ok }", operation="q")
    assert len(script.requests) == 1
    assert TOKEN not in str(err.value)
    if code is not None:
        assert isinstance(err.value, InvalidRequestError) and err.value.code == code


def test_a_hanging_server_times_out() -> None:
    # given a server that holds every connection without answering, then closes it
    faults = FaultPlan(timeout=1.0, hang_seconds=1.0)
    with SandboxHTTPServer(_Script([_ok({"late": True})]), faults=faults) as server:
        sleeps: list[float] = []
        started = time.monotonic()
        # when the client calls it with a 0.2 s timeout and two attempts
        with pytest.raises(PlatformUnavailableError, match="timed out"):
            _client(server.url, sleeps, timeout=0.2, max_attempts=2).execute(
                "{ ok }", operation="q"
            )
        # then it gives up after two timeouts, long before the server would answer
        assert time.monotonic() - started < 0.9
        assert faults.counts["timeout"] == 2 and len(sleeps) == 1


def test_connection_refused_is_unavailable() -> None:
    sleeps: list[float] = []
    client = _client("http://127.0.0.1:9", sleeps, max_attempts=2)
    with pytest.raises(PlatformUnavailableError, match="unreachable"):
        client.execute("{ ok }", operation="q")
    assert len(sleeps) == 1


def test_the_threads_own_shopify_session_survives_a_call(serve: Callable[[_Script], str]) -> None:
    # given a thread that uses ShopifyAPI itself with another shop
    session = shopify.Session("mine.myshopify.com", "2026-01", "my-own-token")
    shopify.ShopifyResource.activate_session(session)
    try:
        _client(serve(_Script([_ok({"ok": True})])), []).execute("{ ok }", operation="q")
        # then its session is still active
        assert shopify.ShopifyResource.get_site() == session.site
        assert shopify.ShopifyResource.get_headers()["X-Shopify-Access-Token"] == "my-own-token"
    finally:
        shopify.ShopifyResource.clear_session()
    # and a thread without a session keeps none
    _client(serve(_Script([_ok({"ok": True})])), []).execute("{ ok }", operation="q")
    assert "X-Shopify-Access-Token" not in shopify.ShopifyResource.get_headers()


def test_redactor_masks_secrets_and_emails() -> None:
    redact = Redactor([TOKEN, "abc"])  # "abc" is too short to mask safely
    assert redact(f"token {TOKEN} for anna.muster@example.com") == "token *** for a***@example.com"
    assert redact("abc") == "abc"
