"""Shopify order JSON -> neutral Order: every field checked against the vendor payloads."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aftersale_kit_shopify.normalize import normalize_shopify_order, shopify_financial_status

from aftersale_kit.core.errors import PayloadError
from aftersale_kit.core.model import Address, FinancialStatus
from aftersale_kit.core.money import Money

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "shopify"
EDT = timezone(timedelta(hours=-4))
EST = timezone(timedelta(hours=-5))


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_bytes())
    return data


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


@pytest.fixture
def sample_2025() -> dict[str, Any]:
    return load("shopify_sample_webhook_order_2025.json")


@pytest.fixture
def sample_2019() -> dict[str, Any]:
    return load("shopify_sample_webhook_order_2019.json")


@pytest.fixture
def rest_order() -> dict[str, Any]:
    return load("shopify_python_api_order.json")


# -- the vendor payloads ---------------------------------------------------------------------


def test_2025_webhook_sample_keeps_every_rule_input(sample_2025: dict[str, Any]) -> None:
    # when
    order = normalize_shopify_order(sample_2025)

    # then: identity, kept exact although the id exceeds 2**53
    assert order.platform == "shopify"
    assert order.shop == "jsmith.myshopify.com"
    assert order.id == "820982911946154508"
    assert order.number == "#9999"
    assert order.currency == "USD"
    # money: the original amounts, not the current_* ones (414.95)
    assert order.subtotal == usd("404.95")
    assert order.total == usd("404.95")
    assert order.discounts == usd("20.00")
    assert order.shipping == usd("10.00")
    assert order.tax == usd("0.00")
    # status: a voided order that was cancelled
    assert order.financial_status is FinancialStatus.CANCELLED
    assert order.created_at == datetime(2021, 12, 31, 19, 0, tzinfo=EST)
    assert order.created_at.tzinfo is not None
    assert order.cancelled_at == datetime(2022, 1, 1, 0, 0, tzinfo=UTC)
    assert order.paid_at is None
    assert order.test is True
    # context
    assert order.email == "jon@example.com"
    assert order.locale == "en"
    assert order.tags == ("tag1", "tag2")
    assert order.source == "web"
    assert order.payment_gateway == "visa"
    assert order.shipping_method == "Generic Shipping"
    assert order.discount_codes == ()
    assert order.note_attributes == ()
    assert order.billing_address == Address(
        country_code="US", province_code="KY", city="Shippington", zip="40003"
    )
    assert order.shipping_country == "US"
    # handles for the adapter
    assert order.ref("gid") == "gid://shopify/Order/820982911946154508"
    assert order.ref("token") == "123456abcd"
    assert order.ref("order_status_url") == sample_2025["order_status_url"]
    assert order.ref("checkout_token") is None
    assert order.ref("order_number") == "1234"
    assert order.ref("customer_gid") == "gid://shopify/Customer/115310627314723954"


def test_2025_customer_has_no_history_so_it_stays_unknown(sample_2025: dict[str, Any]) -> None:
    customer = normalize_shopify_order(sample_2025).customer

    assert customer is not None
    assert customer.id == "115310627314723954"
    assert customer.email == "john@example.com"  # differs from the order's email, as sent
    assert (customer.first_name, customer.last_name) == ("John", "Smith")
    assert customer.locale == "en"  # from the order's customer_locale
    assert customer.orders_count is None
    assert customer.total_spent is None
    assert customer.tags is None
    assert customer.accepts_marketing is True  # buyer_accepts_marketing


def test_2025_line_items(sample_2025: dict[str, Any]) -> None:
    items = normalize_shopify_order(sample_2025).line_items

    assert [i.id for i in items] == [str(li["id"]) for li in sample_2025["line_items"]]
    first, plan = items[0], items[1]
    assert first.id == "487817672276298554"
    assert first.title == "Aviator sunglasses"
    assert first.quantity == 1
    assert first.unit_price == usd("89.99")
    assert first.product_id == "788032119674292922"
    assert first.variant_id is None
    assert first.sku == "SKU2006-001"
    assert first.vendor is None
    assert first.gift_card is False
    # webhooks carry no taxonomy: unknown, not empty
    assert (first.product_type, first.tags, first.categories) == (None, None, None)
    assert plan.product_id is None
    assert plan.sku == "LENS-PROTECT-2YR"
    assert sum((i.total for i in items), usd("0")) == usd("414.95")


def test_2019_webhook_sample(sample_2019: dict[str, Any]) -> None:
    order = normalize_shopify_order(sample_2019)

    assert order.shop == "apple.myshopify.com"
    assert order.id == "820982911946154508"
    assert order.subtotal == usd("393.00")
    assert order.total == usd("403.00")
    assert order.discounts == usd("5.00")
    assert order.shipping == usd("10.00")
    assert order.tax == usd("0.00")
    assert order.financial_status is FinancialStatus.CANCELLED
    assert order.created_at == datetime(2019, 6, 4, 13, 53, 6, tzinfo=EDT)
    assert order.cancelled_at == order.created_at
    assert order.email == "jon@doe.ca"
    assert order.tags == ()
    assert order.payment_gateway == "visa"  # gateway is null, first of payment_gateway_names
    assert order.billing_address == Address(
        country_code="US", province_code="KY", city="Billtown", zip="K2P0B0"
    )
    assert order.shipping_address == Address(
        country_code="US", province_code="KY", city="Shippington", zip="40003"
    )
    assert order.ref("gid") is None
    assert [i.id for i in order.line_items] == ["866550311766439020", "141249953214522974"]
    assert order.line_items[0].variant_id == "808950810"
    assert order.line_items[0].sku == "IPOD2008PINK"


def test_2019_customer_history_is_used_when_the_payload_has_it(
    sample_2019: dict[str, Any],
) -> None:
    customer = normalize_shopify_order(sample_2019).customer

    assert customer is not None
    assert customer.id == "115310627314723954"
    assert customer.email == "john@test.com"
    assert customer.orders_count == 0
    assert customer.total_spent == usd("0.00")
    assert customer.tags == ()  # "" on the customer: known to have no tags
    assert customer.accepts_marketing is False  # the customer's own flag wins


def test_older_customer_fields_with_values(sample_2019: dict[str, Any]) -> None:
    # given an older payload whose customer carries history and tags
    sample_2019["customer"].update(
        orders_count=7, total_spent="1234.50", tags="vip, wholesale", currency="EUR"
    )

    customer = normalize_shopify_order(sample_2019).customer

    assert customer is not None
    assert customer.orders_count == 7
    assert customer.total_spent == Money(Decimal("1234.50"), "EUR")
    assert customer.tags == ("vip", "wholesale")


def test_rest_wrapper_from_the_python_api(rest_order: dict[str, Any]) -> None:
    order = normalize_shopify_order(rest_order)

    assert order.id == "450789469"
    assert order.number == "#1001"
    assert order.shop == "unknown"  # no order_status_url
    assert order.financial_status is FinancialStatus.AUTHORIZED
    assert order.cancelled_at is None
    assert order.subtotal == usd("398.00")
    assert order.total == usd("409.94")
    assert order.discounts == usd("0.00")
    assert order.tax == usd("11.94")
    assert order.shipping == usd("0.00")  # no shipping set: the shipping lines' sum
    assert order.shipping_method == "Free Shipping"
    assert order.payment_gateway == "authorize_net"
    assert order.discount_codes == ("TENOFF",)
    assert order.note_attributes == (("custom engraving", "Happy Birthday"), ("colour", "green"))
    assert order.attribute("colour") == "green"
    assert order.test is False
    assert order.locale is None
    assert order.created_at == datetime(2008, 1, 10, 16, 0, tzinfo=UTC)
    assert order.ref("token") == "b1946ac92492d2347c6235b4d2611184"
    assert [(i.sku, i.variant_id) for i in order.line_items] == [
        ("IPOD2008GREEN", "39072856"),
        ("IPOD2008RED", "49148385"),
        ("IPOD2008BLACK", "457924702"),
    ]
    assert order.customer is not None
    assert order.customer.id == "207119551"
    assert order.customer.locale is None


def test_shop_argument_wins_over_the_status_url(sample_2025: dict[str, Any]) -> None:
    assert normalize_shopify_order(sample_2025, shop="other.myshopify.com").shop == (
        "other.myshopify.com"
    )


def test_the_payload_is_not_modified(sample_2025: dict[str, Any]) -> None:
    before = copy.deepcopy(sample_2025)
    normalize_shopify_order(sample_2025)
    assert sample_2025 == before


# -- status --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("pending", FinancialStatus.PENDING),
        ("authorized", FinancialStatus.AUTHORIZED),
        ("partially_paid", FinancialStatus.PARTIALLY_PAID),
        ("paid", FinancialStatus.PAID),
        ("partially_refunded", FinancialStatus.PARTIALLY_REFUNDED),
        ("refunded", FinancialStatus.REFUNDED),
        ("voided", FinancialStatus.VOIDED),
        ("expired", FinancialStatus.VOIDED),
        ("PAID", FinancialStatus.PAID),
        ("something_new", FinancialStatus.UNKNOWN),
        (None, FinancialStatus.UNKNOWN),
    ],
)
def test_financial_status_mapping(value: str | None, expected: FinancialStatus) -> None:
    assert shopify_financial_status(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("paid", FinancialStatus.CANCELLED),
        ("voided", FinancialStatus.CANCELLED),
        ("partially_refunded", FinancialStatus.CANCELLED),
        ("refunded", FinancialStatus.REFUNDED),
    ],
)
def test_cancelled_orders(value: str, expected: FinancialStatus) -> None:
    assert shopify_financial_status(value, cancelled=True) is expected


def test_a_paid_variant_of_the_sample(sample_2025: dict[str, Any]) -> None:
    # given the official sample turned into a paid, live order
    sample_2025.update(financial_status="paid", cancelled_at=None, cancel_reason=None, test=False)

    order = normalize_shopify_order(sample_2025)

    assert order.financial_status is FinancialStatus.PAID
    assert order.cancelled_at is None
    assert order.test is False


# -- missing and optional blocks -----------------------------------------------------------


@pytest.mark.parametrize("how", ["absent", "null", "empty"])
def test_guest_order_has_no_customer(sample_2025: dict[str, Any], how: str) -> None:
    if how == "absent":
        del sample_2025["customer"]
    else:
        sample_2025["customer"] = None if how == "null" else {}

    order = normalize_shopify_order(sample_2025)

    assert order.customer is None
    assert order.is_guest
    assert order.email == "jon@example.com"
    assert order.ref("customer_gid") is None


def test_email_falls_back_to_contact_email_then_customer(sample_2025: dict[str, Any]) -> None:
    sample_2025["email"] = None
    assert normalize_shopify_order(sample_2025).email == "jon@example.com"
    sample_2025["contact_email"] = ""
    assert normalize_shopify_order(sample_2025).email == "john@example.com"


def test_minimal_order_without_optional_blocks() -> None:
    # given only what an order cannot do without
    payload = {
        "id": 1,
        "currency": "eur",
        "created_at": "2024-05-01T10:00:00Z",
        "subtotal_price": "10.00",
        "total_price": "12.00",
        "line_items": [{"id": 2, "title": "Mug", "quantity": 1, "price": "10.00"}],
    }

    order = normalize_shopify_order(payload)

    assert order.currency == "EUR"
    assert order.created_at == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert order.financial_status is FinancialStatus.UNKNOWN
    assert order.number == "1"
    assert order.shop == "unknown"
    assert order.discounts == order.shipping == order.tax == Money(Decimal(0), "EUR")
    assert order.customer is None
    assert order.email is None
    assert order.billing_address is None
    assert order.shipping_address is None
    assert order.shipping_method is None
    assert order.payment_gateway is None
    assert order.source is None
    assert (order.discount_codes, order.note_attributes, order.tags) == ((), (), ())
    assert order.platform_ref == ()
    item = order.line_items[0]
    assert (item.product_id, item.variant_id, item.sku, item.vendor) == (None, None, None, None)


def test_shipping_from_lines_skips_removed_ones(sample_2025: dict[str, Any]) -> None:
    del sample_2025["total_shipping_price_set"]
    extra = copy.deepcopy(sample_2025["shipping_lines"][0])
    extra.update(price="7.50", title="Express", is_removed=False)
    removed = copy.deepcopy(extra)
    removed.update(price="99.00", title="Removed", is_removed=True)
    sample_2025["shipping_lines"] = [removed, *sample_2025["shipping_lines"], extra]

    order = normalize_shopify_order(sample_2025)

    assert order.shipping == usd("17.50")
    assert order.shipping_method == "Generic Shipping"


def test_empty_address_counts_as_none(sample_2025: dict[str, Any]) -> None:
    sample_2025["shipping_address"] = {"country_code": None, "city": "", "zip": None}
    assert normalize_shopify_order(sample_2025).shipping_address is None


def test_unknown_fields_are_ignored(sample_2025: dict[str, Any]) -> None:
    sample_2025["brand_new_field"] = {"nested": [1, 2, 3]}
    sample_2025["line_items"][0]["another_new_field"] = None
    assert normalize_shopify_order(sample_2025).id == "820982911946154508"


def test_consent_state_gives_accepts_marketing(sample_2025: dict[str, Any]) -> None:
    sample_2025["customer"]["email_marketing_consent"] = {"state": "unsubscribed"}
    customer = normalize_shopify_order(sample_2025).customer
    assert customer is not None
    assert customer.accepts_marketing is False


def test_note_attribute_values_become_text(sample_2025: dict[str, Any]) -> None:
    sample_2025["note_attributes"] = [
        {"name": "gift", "value": True},
        {"name": "floor", "value": 3},
        {"name": "empty", "value": None},
        {"value": "nameless is skipped"},
    ]
    order = normalize_shopify_order(sample_2025)
    assert order.note_attributes == (("gift", "true"), ("floor", "3"), ("empty", ""))


def test_tags_are_split_and_trimmed(sample_2025: dict[str, Any]) -> None:
    sample_2025["tags"] = " vip,wholesale , ,  b2b "
    assert normalize_shopify_order(sample_2025).tags == ("vip", "wholesale", "b2b")


# -- strings where numbers are expected, and the reverse ----------------------------------------


def test_numbers_as_strings_and_strings_as_numbers(sample_2025: dict[str, Any]) -> None:
    item = sample_2025["line_items"][0]
    item.update(quantity="3", price=89.99, id=str(item["id"]), product_id="788032119674292922")
    sample_2025["total_price"] = 404.95
    sample_2025["id"] = "820982911946154508"

    order = normalize_shopify_order(sample_2025)

    assert order.line_items[0].quantity == 3
    assert order.line_items[0].unit_price == usd("89.99")
    assert order.total == usd("404.95")
    assert order.id == "820982911946154508"


# -- not an order / wrong types: the error names the field ---------------------------------------


def test_missing_line_items() -> None:
    with pytest.raises(PayloadError) as caught:
        normalize_shopify_order({"id": 1, "currency": "USD"})
    assert str(caught.value) == "Shopify order payload has no 'line_items' (list expected)"
    assert caught.value.field == "line_items"


def test_missing_id() -> None:
    with pytest.raises(PayloadError, match=r"has no 'id' \(an id expected\)") as caught:
        normalize_shopify_order({"line_items": []})
    assert caught.value.field == "id"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            lambda p: p.update(line_items={"id": 1}),
            "line_items",
            "field 'line_items' must be a list, got an object",
        ),
        (
            lambda p: p["line_items"][1].update(price="abc"),
            "line_items[1].price",
            "field 'line_items[1].price' must be a money amount, got a string 'abc'",
        ),
        (
            lambda p: p["line_items"][0].update(quantity="two"),
            "line_items[0].quantity",
            "must be an integer",
        ),
        (
            lambda p: p["line_items"][0].update(quantity=True),
            "line_items[0].quantity",
            "must be an integer, got a boolean True",
        ),
        (lambda p: p["line_items"][0].pop("price"), "line_items[0].price", "has no"),
        (lambda p: p.update(id=1.5), "id", "must be an id"),
        (lambda p: p.update(total_price=[]), "total_price", "must be a money amount"),
        (lambda p: p.pop("subtotal_price"), "subtotal_price", "has no 'subtotal_price'"),
        (lambda p: p.update(currency="US Dollar"), "currency", "ISO 4217"),
        (lambda p: p.update(created_at="yesterday"), "created_at", "ISO 8601"),
        (lambda p: p.update(created_at="2024-05-01T10:00:00"), "created_at", "UTC offset"),
        (lambda p: p.pop("created_at"), "created_at", "has no 'created_at'"),
        (lambda p: p.update(customer="John"), "customer", "must be an object"),
        (lambda p: p["customer"].pop("id"), "customer.id", "has no 'customer.id'"),
        (lambda p: p.update(tags={"a": 1}), "tags", "comma-separated"),
        (lambda p: p.update(test="yes"), "test", "true or false"),
        (lambda p: p.update(line_items=[None]), "line_items[0]", "must be a JSON object"),
        (lambda p: p.update(payment_gateway_names="visa"), "payment_gateway_names", "list"),
    ],
)
def test_wrong_fields_are_named(
    sample_2025: dict[str, Any], change: Any, field: str, message: str
) -> None:
    # given one field broken
    change(sample_2025)
    # when / then
    with pytest.raises(PayloadError, match=r"^Shopify order payload ") as caught:
        normalize_shopify_order(sample_2025)
    assert caught.value.field == field
    assert message in str(caught.value)


def test_errors_inside_the_rest_wrapper_carry_its_path(rest_order: dict[str, Any]) -> None:
    rest_order["order"]["line_items"][2]["quantity"] = "lots"
    with pytest.raises(PayloadError) as caught:
        normalize_shopify_order(rest_order)
    assert caught.value.field == "order.line_items[2].quantity"


def test_a_list_instead_of_an_object() -> None:
    with pytest.raises(PayloadError) as caught:
        normalize_shopify_order([{"id": 1}])  # type: ignore[arg-type]
    assert str(caught.value) == (
        "Shopify order payload must be a JSON object, got a list [{'id': 1}]"
    )


@pytest.mark.parametrize(
    "name", ["shopify_python_api_price_rule.json", "shopify_python_api_discount_code.json"]
)
def test_other_shopify_resources_are_not_orders(name: str) -> None:
    with pytest.raises(PayloadError, match="has no 'id'"):
        normalize_shopify_order(load(name))
