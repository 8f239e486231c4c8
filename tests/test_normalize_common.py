"""normalize_order / guess_platform, and what holds for every vendor order payload."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aftersale_kit_shopify.normalize import normalize_shopify_order
from aftersale_kit_woocommerce.normalize import normalize_woocommerce_order

from aftersale_kit.core.errors import AftersaleKitError, PayloadError
from aftersale_kit.core.model import Order
from aftersale_kit.core.normalize import guess_platform, normalize_order
from aftersale_kit.core.normalize.reading import describe, split_tags
from aftersale_kit.core.registry import names as platform_names

FIXTURES = Path(__file__).resolve().parent / "fixtures"

ORDERS = {
    "shopify/shopify_sample_webhook_order_2019.json": "shopify",
    "shopify/shopify_sample_webhook_order_2025.json": "shopify",
    "shopify/shopify_python_api_order.json": "shopify",
    "woocommerce/wc_v3_order_727.json": "woocommerce",
    "woocommerce/wc96_recorded_order_77.json": "woocommerce",
    "woocommerce/webhook_order_updated_body.raw.json": "woocommerce",
}

NOT_ORDERS = [
    "shopify/shopify_python_api_price_rule.json",
    "shopify/shopify_python_api_discount_code.json",
    "woocommerce/wc_v3_coupon_719.json",
    "woocommerce/wc_v3_coupons_batch_response.json",
    "woocommerce/wc_v3_order_note.json",
    "woocommerce/wc_v3_errors.json",
]


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_bytes())


def test_every_order_fixture_is_listed() -> None:
    # A new vendor order payload must be added to ORDERS so that it is checked below.
    found = {
        str(p.relative_to(FIXTURES))
        for p in FIXTURES.glob("*/*.json")
        if "order" in p.name and "note" not in p.name and "delivery" not in p.name
    }
    assert found == set(ORDERS)


@pytest.mark.parametrize(("name", "platform"), ORDERS.items())
def test_guess_platform(name: str, platform: str) -> None:
    assert guess_platform(load(name)) == platform


@pytest.mark.parametrize(("name", "platform"), ORDERS.items())
def test_normalize_order_guesses_and_matches_the_platform_function(
    name: str, platform: str
) -> None:
    payload = load(name)
    direct = {"shopify": normalize_shopify_order, "woocommerce": normalize_woocommerce_order}

    order = normalize_order(payload, shop="s.example")

    assert order.platform == platform
    assert order == direct[platform](payload, shop="s.example")
    assert order == normalize_order(payload, platform=platform.upper(), shop="s.example")


@pytest.mark.parametrize("name", ORDERS)
def test_invariants_of_every_normalized_order(name: str) -> None:
    order = normalize_order(load(name))

    assert isinstance(order, Order)
    assert order.id and order.number and order.shop
    # times are timezone-aware
    for moment in (order.created_at, order.paid_at, order.cancelled_at):
        assert moment is None or moment.utcoffset() is not None
    # money is Decimal in the order's currency
    amounts = [order.subtotal, order.total, order.discounts, order.shipping, order.tax]
    amounts += [item.unit_price for item in order.line_items]
    for money in amounts:
        assert isinstance(money.amount, Decimal)
        assert money.currency == order.currency
    # ids are strings; unknown taxonomy is None, not empty
    assert order.line_items
    for item in order.line_items:
        assert isinstance(item.id, str)
        assert item.product_id is None or item.product_id.isdigit()
        assert item.quantity > 0
        assert (item.product_type, item.tags, item.categories) == (None, None, None)
    if order.customer is not None:
        assert isinstance(order.customer.id, str)
    assert all(isinstance(v, str) for _, v in order.platform_ref)


def test_orders_are_values() -> None:
    # Normalizing twice gives equal, hashable orders (usable as dict keys and in sets).
    payload = load("shopify/shopify_sample_webhook_order_2025.json")
    first, second = normalize_order(payload), normalize_order(payload)
    assert first == second
    assert len({first, second}) == 1


@pytest.mark.parametrize("name", NOT_ORDERS)
def test_other_resources_are_refused_naming_what_was_looked_for(name: str) -> None:
    with pytest.raises(PayloadError) as caught:
        normalize_order(load(name))
    assert str(caught.value).startswith("not an order of Shopify or WooCommerce: looked for")


def test_the_coupon_is_refused_with_the_keys_looked_for() -> None:
    with pytest.raises(PayloadError) as caught:
        guess_platform(load("woocommerce/wc_v3_coupon_719.json"))
    message = str(caught.value)
    assert message.startswith("not an order of Shopify or WooCommerce: looked for")
    for key in ("admin_graphql_api_id", "financial_status", "order_key", "line_items"):
        assert repr(key) in message
    assert "found keys: _links, amount, code, date_created, " in message
    assert message.endswith(", ...")  # more than a dozen keys: the list is cut


def test_the_coupon_with_an_explicit_platform_names_the_missing_field() -> None:
    coupon = load("woocommerce/wc_v3_coupon_719.json")
    with pytest.raises(PayloadError) as caught:
        normalize_order(coupon, platform="woocommerce")
    assert caught.value.field == "line_items"


@pytest.mark.parametrize("payload", [[], [{"id": 1}], "order", 42, None])
def test_not_an_object(payload: Any) -> None:
    with pytest.raises(PayloadError, match="must be a JSON object, got"):
        normalize_order(payload)


def test_empty_object() -> None:
    with pytest.raises(PayloadError, match=r"found keys: none$"):
        guess_platform({})


def test_shopify_rest_wrapper_is_recognized() -> None:
    assert guess_platform({"order": {"id": 1, "line_items": [], "total_price": "1"}}) == "shopify"


def test_gid_alone_is_enough_for_shopify() -> None:
    assert guess_platform({"admin_graphql_api_id": "gid://shopify/Order/1"}) == "shopify"
    with pytest.raises(PayloadError):
        guess_platform({"admin_graphql_api_id": "gid://shopify/Customer/1"})


def test_unknown_platform_name() -> None:
    payload = load("woocommerce/wc_v3_order_727.json")
    with pytest.raises(PayloadError, match="unknown platform 'magento'") as caught:
        normalize_order(payload, platform="magento")
    assert caught.value.field == "platform"
    assert platform_names() == ("shopify", "woocommerce")


def test_wrong_explicit_platform_fails_on_a_named_field() -> None:
    woo = load("woocommerce/wc_v3_order_727.json")
    with pytest.raises(PayloadError) as caught:
        normalize_order(woo, platform="shopify")
    assert caught.value.field == "created_at"


def test_a_payload_of_no_platform_is_caught_by_the_projects_root_error() -> None:
    # given JSON that is no order of either platform
    payload = {"id": 1, "currency": "EUR"}
    # when it is normalised, the one handler that callers write (the CLI and the service catch
    # AftersaleKitError) catches it, with a message that says what was looked for and found
    try:
        normalize_order(payload)
    except AftersaleKitError as exc:
        message = str(exc)
    else:
        pytest.fail("no error for a payload of no platform")
    assert message.startswith("not an order of Shopify or WooCommerce: looked for Shopify's")
    assert message.endswith("found keys: currency, id")


def test_messages_clip_long_values() -> None:
    assert describe("x" * 100) == "a string '" + "x" * 36 + "..."
    assert describe(None) == "NoneType None"
    assert describe(1.5) == "a number 1.5"


@pytest.mark.parametrize(
    ("text", "tags"),
    [("", ()), ("a", ("a",)), ("a, b", ("a", "b")), (" a ,, b ,", ("a", "b"))],
)
def test_split_tags(text: str, tags: tuple[str, ...]) -> None:
    assert split_tags(text) == tags


@pytest.mark.parametrize(
    ("platform", "key"), [("shopify", "created_at"), ("woocommerce", "date_created_gmt")]
)
@pytest.mark.parametrize("moment", ["9999-12-31T23:30:00+00:00", "0001-01-01T00:00:00+00:00"])
def test_an_order_time_at_the_ends_of_the_calendar_is_refused_by_name(
    platform: str, key: str, moment: str
) -> None:
    # given: a real order whose creation time no shop could have (the calendar arithmetic of
    # budgets and follow-up delays would run past what a date can hold)
    name = next(n for n, p in ORDERS.items() if p == platform)
    payload = load(name)
    body = payload.get("order", payload)
    body[key] = moment if platform == "shopify" else moment[:19]
    # when / then: one precise message naming the field and the range
    with pytest.raises(PayloadError) as refused:
        normalize_order(payload, platform=platform)
    assert key in str(refused.value)
    assert "between the years 1970 and 2999" in str(refused.value)
