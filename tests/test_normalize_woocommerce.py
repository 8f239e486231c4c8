"""WooCommerce wc/v3 order JSON -> neutral Order, every field checked against vendor payloads."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aftersale_kit_woocommerce.normalize import (
    normalize_woocommerce_order,
    woocommerce_financial_status,
)

from aftersale_kit.core.errors import PayloadError
from aftersale_kit.core.model import Address, FinancialStatus
from aftersale_kit.core.money import Money

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "woocommerce"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_bytes())
    return data


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


@pytest.fixture
def docs_order() -> dict[str, Any]:
    return load("wc_v3_order_727.json")


@pytest.fixture
def recorded_order() -> dict[str, Any]:
    return load("wc96_recorded_order_77.json")


# -- the vendor payloads ---------------------------------------------------------------------


def test_docs_order_727(docs_order: dict[str, Any]) -> None:
    # when
    order = normalize_woocommerce_order(docs_order)

    # then
    assert order.platform == "woocommerce"
    assert order.shop == "unknown"
    assert order.id == "727"
    assert order.number == "727"
    assert order.currency == "USD"
    assert order.financial_status is FinancialStatus.PAID  # processing
    assert order.created_at == datetime(2017, 3, 22, 19, 28, 2, tzinfo=UTC)  # the _gmt twin
    assert order.paid_at == datetime(2017, 3, 22, 19, 28, 8, tzinfo=UTC)
    assert order.cancelled_at is None
    assert order.subtotal == usd("18.00")
    assert order.discounts == usd("0.00")
    assert order.shipping == usd("10.00")
    assert order.tax == usd("1.35")
    assert order.total == usd("29.35")
    assert order.subtotal + order.shipping + order.tax == order.total
    # a guest: no customer, the email from billing
    assert order.customer is None
    assert order.email == "john.doe@example.com"
    assert order.billing_address == Address(
        country_code="US", province_code="CA", city="San Francisco", zip="94103"
    )
    assert order.shipping_country == "US"
    assert order.shipping_method == "Flat Rate"
    assert order.payment_gateway == "bacs"
    assert order.source == "rest-api"
    assert order.discount_codes == ()
    assert order.note_attributes == ()  # meta_data is not copied; customer_note is ""
    assert order.tags == ()
    assert order.locale is None
    assert order.test is False
    assert order.platform_ref == (("order_key", "wc_order_58d2d042d1d"),)


def test_docs_order_line_items(docs_order: dict[str, Any]) -> None:
    single, variation = normalize_woocommerce_order(docs_order).line_items

    assert single.id == "315"
    assert single.title == "Woo Single #1"
    assert single.quantity == 2
    assert single.unit_price == usd("3.00")
    assert single.total == usd("6.00")
    assert single.product_id == "93"
    assert single.variant_id is None  # variation_id 0
    assert single.sku is None  # ""
    assert variation.title == "Ship Your Idea – Color: Black, Size: M Test"  # &ndash; decoded
    assert variation.product_id == "22"
    assert variation.variant_id == "23"
    assert variation.sku == "Bar3"
    assert variation.unit_price == usd("12.00")
    for item in (single, variation):
        assert item.vendor is None
        assert (item.product_type, item.tags, item.categories) == (None, None, None)
        assert item.gift_card is False


def test_raw_webhook_body_gives_the_same_order(docs_order: dict[str, Any]) -> None:
    raw = (FIXTURES / "webhook_order_updated_body.raw.json").read_bytes()
    assert normalize_woocommerce_order(json.loads(raw)) == normalize_woocommerce_order(docs_order)


def test_recorded_wc96_order(recorded_order: dict[str, Any]) -> None:
    order = normalize_woocommerce_order(recorded_order, shop="https://woocommercetest.local/")

    assert order.shop == "https://woocommercetest.local/"
    assert order.id == "77"
    assert order.financial_status is FinancialStatus.PAID  # completed
    assert order.created_at == datetime(2025, 2, 3, 22, 0, tzinfo=UTC)
    assert order.paid_at == datetime(2025, 2, 4, 8, 0, tzinfo=UTC)
    assert order.subtotal == usd("17346.91")
    assert order.total == usd("17346.91")
    assert order.shipping == usd("0.00")
    assert order.shipping_method is None
    assert order.payment_gateway is None  # ""
    assert order.source == "smooth-generator"
    assert order.billing_address == Address(
        country_code="VN", province_code=None, city="Đà Nẵng", zip="36526-3045"
    )
    assert order.shipping_address is None  # every field empty
    assert order.email == "fma@ma.com"
    assert order.ref("order_key") == "wc_order_0MZoEb7aXPJvF"
    assert order.ref("customer_id") == "23"


def test_recorded_wc96_customer_is_known_but_history_unknown(
    recorded_order: dict[str, Any],
) -> None:
    customer = normalize_woocommerce_order(recorded_order).customer

    assert customer is not None
    assert customer.id == "23"
    assert customer.email == "fma@ma.com"
    assert (customer.first_name, customer.last_name) == (None, None)  # "" in billing
    assert customer.orders_count is None
    assert customer.total_spent is None
    assert customer.tags is None
    assert customer.locale is None
    assert customer.accepts_marketing is None


def test_float_prices_do_not_leak_into_money(recorded_order: dict[str, Any]) -> None:
    # given line 60 whose price is the float 480.59000000000003 and whose image.id is a string
    items = normalize_woocommerce_order(recorded_order).line_items

    # then the unit price comes from the exact subtotal string
    plate = items[2]
    assert plate.unit_price == usd("480.59")
    assert plate.total == usd("3364.13")
    assert [i.unit_price for i in items] == [
        usd("343.61"),
        usd("633.32"),
        usd("480.59"),
        usd("544.90"),
        usd("619.95"),
    ]
    assert [(i.product_id, i.variant_id) for i in items][:2] == [("42", None), ("44", "47")]
    assert items[1].title == "Ergonomic Aluminum Computer - debitis"
    assert items[1].sku == "ergonomic-aluminum-computer-21848049"
    assert [i.quantity for i in items] == [2, 8, 7, 6, 8]


def test_the_payload_is_not_modified(recorded_order: dict[str, Any]) -> None:
    before = copy.deepcopy(recorded_order)
    normalize_woocommerce_order(recorded_order)
    assert recorded_order == before


# -- status --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("pending", FinancialStatus.PENDING),
        ("processing", FinancialStatus.PAID),
        ("on-hold", FinancialStatus.PENDING),
        ("completed", FinancialStatus.PAID),
        ("cancelled", FinancialStatus.CANCELLED),
        ("refunded", FinancialStatus.REFUNDED),
        ("failed", FinancialStatus.FAILED),
        ("checkout-draft", FinancialStatus.PENDING),
        ("trash", FinancialStatus.CANCELLED),
        ("wc-completed", FinancialStatus.PAID),
        ("shipped-by-plugin", FinancialStatus.UNKNOWN),
        (None, FinancialStatus.UNKNOWN),
    ],
)
def test_status_mapping(status: str | None, expected: FinancialStatus) -> None:
    assert woocommerce_financial_status(status) is expected


def test_status_is_read_from_the_order(docs_order: dict[str, Any]) -> None:
    docs_order["status"] = "on-hold"
    assert normalize_woocommerce_order(docs_order).financial_status is FinancialStatus.PENDING


# -- discounts, coupons, notes ----------------------------------------------------------------


def test_subtotal_is_after_discounts_and_unit_price_before(docs_order: dict[str, Any]) -> None:
    # given a 10 % coupon on both lines: 6.00 -> 5.40, 12.00 -> 10.80
    first, second = docs_order["line_items"]
    first.update(total="5.40", price=2.7)
    second.update(total="10.80", price=10.8)
    docs_order.update(
        discount_total="1.80",
        total="27.55",
        coupon_lines=[{"id": 9, "code": "welcome10", "discount": "1.80", "discount_tax": "0"}],
    )

    order = normalize_woocommerce_order(docs_order)

    assert order.subtotal == usd("16.20")  # sum of line totals = line subtotals - discount_total
    assert order.discounts == usd("1.80")
    assert order.discount_codes == ("welcome10",)
    assert [i.unit_price for i in order.line_items] == [usd("3.00"), usd("12.00")]


def test_customer_note_is_kept_as_note_attribute(docs_order: dict[str, Any]) -> None:
    docs_order["customer_note"] = "Bitte beim Nachbarn abgeben"
    order = normalize_woocommerce_order(docs_order)
    assert order.attribute("customer_note") == "Bitte beim Nachbarn abgeben"


def test_unit_price_falls_back_to_price_without_subtotal(docs_order: dict[str, Any]) -> None:
    line = docs_order["line_items"][1]
    del line["subtotal"], line["total"]
    line["price"] = 19.99

    item = normalize_woocommerce_order(docs_order).line_items[1]

    assert item.unit_price == usd("19.99")


# -- customers ------------------------------------------------------------------------------


@pytest.mark.parametrize("guest_id", [0, "0", None])
def test_guest_orders(docs_order: dict[str, Any], guest_id: object) -> None:
    docs_order["customer_id"] = guest_id
    order = normalize_woocommerce_order(docs_order)
    assert order.customer is None
    assert order.email == "john.doe@example.com"
    assert order.ref("customer_id") is None


def test_account_customer_with_string_id(docs_order: dict[str, Any]) -> None:
    docs_order["customer_id"] = "42"
    customer = normalize_woocommerce_order(docs_order).customer
    assert customer is not None
    assert (customer.id, customer.first_name, customer.last_name) == ("42", "John", "Doe")
    assert customer.email == "john.doe@example.com"


# -- dates ---------------------------------------------------------------------------------


def test_without_gmt_twins_plain_dates_are_utc(docs_order: dict[str, Any]) -> None:
    # given a wc/v1-style order: dates in GMT, no *_gmt twins
    for key in ("date_created_gmt", "date_paid_gmt", "date_modified_gmt", "date_completed_gmt"):
        del docs_order[key]
    docs_order["date_created"] = "2017-03-22T19:28:02"
    docs_order["date_paid"] = "2017-03-22T21:28:08+02:00"

    order = normalize_woocommerce_order(docs_order)

    assert order.created_at == datetime(2017, 3, 22, 19, 28, 2, tzinfo=UTC)
    assert order.paid_at == datetime(2017, 3, 22, 21, 28, 8, tzinfo=timezone(timedelta(hours=2)))
    assert order.paid_at == datetime(2017, 3, 22, 19, 28, 8, tzinfo=UTC)


def test_unpaid_order_has_no_paid_at(docs_order: dict[str, Any]) -> None:
    docs_order.update(status="pending", date_paid=None, date_paid_gmt=None)
    order = normalize_woocommerce_order(docs_order)
    assert order.paid_at is None
    assert order.financial_status is FinancialStatus.PENDING


# -- missing optional blocks and loose types ---------------------------------------------------


def test_minimal_order_without_optional_blocks() -> None:
    payload = {
        "id": 5,
        "currency": "EUR",
        "date_created_gmt": "2025-01-01T12:00:00",
        "total": "9.50",
        "line_items": [{"id": 1, "name": "Tee", "quantity": 1, "subtotal": "9.50"}],
    }

    order = normalize_woocommerce_order(payload)

    assert order.number == "5"
    assert order.financial_status is FinancialStatus.UNKNOWN
    assert order.subtotal == Money(Decimal("9.50"), "EUR")
    assert order.discounts == order.shipping == order.tax == Money(Decimal(0), "EUR")
    assert order.customer is None
    assert order.email is None
    assert (order.billing_address, order.shipping_address) == (None, None)
    assert (order.shipping_method, order.payment_gateway, order.source) == (None, None, None)
    assert (order.discount_codes, order.note_attributes, order.platform_ref) == ((), (), ())
    assert order.line_items[0].product_id is None


def test_numbers_where_strings_are_usual_and_the_reverse(docs_order: dict[str, Any]) -> None:
    docs_order.update(total=29.35, shipping_total=10, id="727", number=727)
    docs_order["line_items"][0].update(quantity="2", subtotal=6)

    order = normalize_woocommerce_order(docs_order)

    assert order.total == usd("29.35")
    assert order.shipping == usd("10")
    assert order.id == "727"
    assert order.number == "727"
    assert order.line_items[0].quantity == 2
    assert order.line_items[0].unit_price == usd("3")


# -- not an order / wrong types: the error names the field ---------------------------------------


def test_a_coupon_is_not_an_order() -> None:
    with pytest.raises(PayloadError) as caught:
        normalize_woocommerce_order(load("wc_v3_coupon_719.json"))
    assert str(caught.value) == "WooCommerce order payload has no 'line_items' (list expected)"
    assert caught.value.field == "line_items"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (lambda p: p.pop("id"), "id", "has no 'id'"),
        (lambda p: p.update(total="lots"), "total", "must be a money amount, got a string"),
        (lambda p: p.pop("total"), "total", "has no 'total'"),
        (lambda p: p.update(line_items="none"), "line_items", "must be a list"),
        (lambda p: p["line_items"][0].update(quantity=2.5), "line_items[0].quantity", "integer"),
        (lambda p: p["line_items"][1].pop("name"), "line_items[1].name", "has no"),
        (lambda p: p["line_items"][1].update(subtotal={}), "line_items[1].subtotal", "money"),
        (lambda p: p.update(billing=["x"]), "billing", "must be an object, got a list"),
        (lambda p: p["billing"].update(email=["a@b.c"]), "billing.email", "must be a string"),
        (lambda p: p.update(date_created_gmt=None), "date_created_gmt", "has no"),
        (lambda p: p.update(date_created_gmt=17), "date_created_gmt", "ISO 8601"),
        (lambda p: p.update(currency=""), "currency", "has no 'currency'"),
        (lambda p: p.update(customer_id=[1]), "customer_id", "must be an id"),
        (lambda p: p.update(coupon_lines={}), "coupon_lines", "must be a list"),
    ],
)
def test_wrong_fields_are_named(
    docs_order: dict[str, Any], change: Any, field: str, message: str
) -> None:
    change(docs_order)
    with pytest.raises(PayloadError, match=r"^WooCommerce order payload ") as caught:
        normalize_woocommerce_order(docs_order)
    assert caught.value.field == field
    assert message in str(caught.value)


def test_a_list_instead_of_an_object(docs_order: dict[str, Any]) -> None:
    with pytest.raises(PayloadError, match="must be a JSON object, got a list"):
        normalize_woocommerce_order([docs_order])  # type: ignore[arg-type]
