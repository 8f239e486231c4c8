"""Margin on what was paid, and money in the shop currency: normalizers, engine, conversion.

Every expected amount is worked out by hand in the comments next to it.
"""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aftersale_kit_shopify.normalize import normalize_shopify_order
from aftersale_kit_woocommerce.normalize import normalize_woocommerce_order

from aftersale_kit.core.campaign import (
    Action,
    Campaign,
    CouponKind,
    FreeGift,
    IssueCoupon,
    MarginGuard,
    ShopConfig,
    ShopSettings,
    ShowBlock,
)
from aftersale_kit.core.conditions import compile_condition
from aftersale_kit.core.counters import InMemoryCounters
from aftersale_kit.core.currency import buyer_rate, price_order
from aftersale_kit.core.decision import Decision, Outcome, Reason
from aftersale_kit.core.engine import decide, margin_basis, order_margin
from aftersale_kit.core.errors import PayloadError
from aftersale_kit.core.model import (
    Customer,
    EventKind,
    FinancialStatus,
    LineItem,
    Order,
    Presentment,
)
from aftersale_kit.core.money import Money

FIXTURES = Path(__file__).resolve().parent / "fixtures"
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
SHOP = "kaffee.example"


def money(amount: str, currency: str = "EUR") -> Money:
    return Money(Decimal(amount), currency)


def load(platform: str, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / platform / name).read_bytes())
    return data


def bag(shop: str, shop_currency: str, presented: str, presented_currency: str) -> dict[str, Any]:
    return {
        "shop_money": {"amount": shop, "currency_code": shop_currency},
        "presentment_money": {"amount": presented, "currency_code": presented_currency},
    }


# -- normalizers ---------------------------------------------------------------------------------


def test_shopify_line_discount_is_the_sum_of_its_allocations_in_shop_money() -> None:
    # given Shopify's 2025 sample with two allocations on the sunglasses (10.00 + 5.00 USD; the
    # buyer saw them in CHF) and none on the protection plan
    payload = load("shopify", "shopify_sample_webhook_order_2025.json")
    payload["line_items"][0]["discount_allocations"] = [
        {
            "amount": "10.00",
            "amount_set": bag("10.00", "USD", "9.20", "CHF"),
            "discount_application_index": 0,
        },
        {"amount": "5.00", "discount_application_index": 1},
    ]
    # when
    order = normalize_shopify_order(payload)
    # then the shop-money amounts are summed; an empty list is a known zero
    assert order.line_items[0].discount == money("15.00", "USD")
    assert order.line_items[1].discount == money("0", "USD")


def test_shopify_payload_without_allocations_leaves_the_line_discount_unknown() -> None:
    order = normalize_shopify_order(load("shopify", "shopify_python_api_order.json"))
    assert [li.discount for li in order.line_items] == [None, None, None]


def test_shopify_amounts_come_from_shop_money_where_given() -> None:
    # given a payload whose bare total disagrees with its total_price_set (shop money wins)
    payload = load("shopify", "shopify_sample_webhook_order_2025.json")
    payload["total_price_set"] = bag("399.00", "USD", "367.08", "CHF")
    # when / then
    assert normalize_shopify_order(payload).total == money("399.00", "USD")


def test_shopify_presentment_amounts_are_kept_for_the_buyer() -> None:
    # given the 2025 sample paid in CHF (shop currency USD)
    payload = load("shopify", "shopify_sample_webhook_order_2025.json")
    payload["presentment_currency"] = "CHF"
    payload["subtotal_price_set"] = bag("404.95", "USD", "372.55", "CHF")
    payload["total_price_set"] = bag("404.95", "USD", "372.55", "CHF")
    payload["total_discounts_set"] = bag("20.00", "USD", "18.40", "CHF")
    payload["total_shipping_price_set"] = bag("10.00", "USD", "9.20", "CHF")
    payload["line_items"][0]["price_set"] = bag("89.99", "USD", "82.79", "CHF")
    # when
    order = normalize_shopify_order(payload)
    # then rules keep reading the shop currency, the buyer's amounts are kept beside them
    assert order.currency == "USD" and order.total == money("404.95", "USD")
    assert order.presentment == Presentment(
        currency="CHF",
        subtotal=money("372.55", "CHF"),
        total=money("372.55", "CHF"),
        discounts=money("18.40", "CHF"),
        shipping=money("9.20", "CHF"),
        # the sample's tax bag names USD for its presentment money: not taken as CHF
        tax=money("0", "CHF"),
        # likewise the other lines' price_set (USD): only the sunglasses have a CHF price
        unit_prices=(("487817672276298554", money("82.79", "CHF")),),
    )


def test_shopify_presentment_currency_must_be_a_currency_code() -> None:
    payload = load("shopify", "shopify_sample_webhook_order_2025.json")
    payload["presentment_currency"] = "Franken"
    with pytest.raises(PayloadError) as caught:
        normalize_shopify_order(payload)
    assert str(caught.value) == (
        "Shopify order payload field 'presentment_currency' must be an ISO 4217 code like "
        "'CHF', got a string 'Franken'"
    )


def test_shopify_order_paid_in_the_shop_currency_has_no_presentment() -> None:
    order = normalize_shopify_order(load("shopify", "shopify_sample_webhook_order_2025.json"))
    assert order.presentment is None


def test_woocommerce_line_discount_is_subtotal_minus_total() -> None:
    # given the docs order 727 with a 25 % coupon: 6.00 -> 4.50 and 12.00 -> 9.00
    payload = load("woocommerce", "wc_v3_order_727.json")
    payload["line_items"][0].update(subtotal="6.00", total="4.50")
    payload["line_items"][1].update(subtotal="12.00", total="9.00")
    payload["discount_total"] = "4.50"
    # when
    order = normalize_woocommerce_order(payload)
    # then
    assert [li.discount for li in order.line_items] == [money("1.50", "USD"), money("3.00", "USD")]
    assert order.subtotal == money("13.50", "USD")  # 4.50 + 9.00, after the coupon


def test_woocommerce_order_in_the_buyers_currency_keeps_it() -> None:
    # given a multi-currency plugin's order: saved in JPY, amounts not converted back
    payload = load("woocommerce", "wc_v3_order_727.json")
    payload["currency"] = "JPY"
    order = normalize_woocommerce_order(payload)
    assert order.currency == "JPY" and order.subtotal == money("18.00", "JPY")
    assert order.presentment is None


# -- the margin on what was paid -----------------------------------------------------------------


def line(lid: str, qty: int, price: str, *, discount: str | None = None, **kw: Any) -> LineItem:
    return LineItem(
        id=lid,
        title=f"item {lid}",
        quantity=qty,
        unit_price=money(price),
        discount=money(discount) if discount is not None else None,
        **kw,
    )


def make_order(
    *lines: LineItem, discounts: str = "0", currency: str = "EUR", **changes: Any
) -> Order:
    items = lines or (line("1", 2, "30.00", sku="BOHNE"), line("2", 1, "40.00", sku="TASSE"))
    gross = sum((li.unit_price.amount * li.quantity for li in items), Decimal(0))
    subtotal = gross - Decimal(discounts)
    base = Order(
        platform="shopify",
        shop=SHOP,
        id="1001",
        number="#1001",
        currency=currency,
        created_at=NOW - timedelta(minutes=5),
        financial_status=FinancialStatus.PAID,
        subtotal=Money(subtotal, currency),
        total=Money(subtotal, currency),
        discounts=Money(Decimal(discounts), currency),
        shipping=Money.zero(currency),
        tax=Money.zero(currency),
        line_items=tuple(
            replace(li, unit_price=Money(li.unit_price.amount, currency)) for li in items
        ),
        customer=Customer(id="c-1", orders_count=1),
        email="anna@example.de",
    )
    return replace(base, **changes)


def settings(**changes: Any) -> ShopSettings:
    return replace(
        ShopSettings(platform="shopify", domain=SHOP, currency="EUR", timezone="Europe/Berlin"),
        **changes,
    )


def campaign(cid: str, *actions: Action, when: tuple[str, ...] = (), **kw: Any) -> Campaign:
    return Campaign(
        id=cid,
        actions=actions,
        conditions=tuple(compile_condition(c) for c in when),
        **kw,
    )


def run(order: Order, *campaigns: Campaign, **settings_changes: Any) -> Decision:
    cfg = ShopConfig(settings=settings(**settings_changes), campaigns=campaigns)
    return decide(
        cfg,
        order,
        event=EventKind.ORDER_PAID,
        counters=InMemoryCounters(),
        now=NOW,
        code_secret=b"money-test",
    )


def outcome(decision: Decision, cid: str) -> Outcome:
    found = decision.outcome(cid)
    assert found is not None
    return found


GIFT = FreeGift(note="Probierpäckchen", cost=Decimal("3.50"))
GUARD = MarginGuard(max_share=Decimal("0.3"))
FIXED = IssueCoupon(kind=CouponKind.FIXED_AMOUNT, value=Decimal("5"), valid_days=30)
PERCENT = IssueCoupon(kind=CouponKind.PERCENTAGE, value=Decimal("10"), valid_days=30)


def test_a_fully_discounted_order_funds_no_gift() -> None:
    # given 2 x 30.00 + 1 x 40.00 = 100.00, discounted 100 % (Shopify allocated 60.00 and 40.00)
    order = make_order(
        line("1", 2, "30.00", discount="60.00"),
        line("2", 1, "40.00", discount="40.00"),
        discounts="100.00",
    )
    # then the margin is zero (net 0.00 minus the goods' cost 70.00, never below zero) ...
    assert order_margin(order, settings()) == money("0")
    # ... and a guarded gift is refused, saying which margin was used
    d = run(order, campaign("gift", GIFT, margin_guard=GUARD))
    assert outcome(d, "gift") == Outcome(
        "gift",
        False,
        Reason.MARGIN_GUARD,
        "this order's margin 0.00 EUR (net of 100.00 EUR discounts) leaves nothing to fund an "
        "offer (the offer costs 3.50 EUR)",
    )
    assert d.actions == ()


def test_the_guard_uses_the_margin_net_of_discounts() -> None:
    # given 100.00 of goods with 20.00 discounts (12.00 and 8.00): net 80.00, goods' cost
    # 70.00 (default margin 30 %), margin 10.00; a 30 % guard allows 3.00
    order = make_order(
        line("1", 2, "30.00", discount="12.00"),
        line("2", 1, "40.00", discount="8.00"),
        discounts="20.00",
    )
    basis = margin_basis(order, settings())
    assert (basis.margin, basis.net, basis.discounts) == (
        money("10.00"),
        money("80.00"),
        money("20.00"),
    )
    dear = campaign("dear", GIFT, margin_guard=GUARD)
    cheap = campaign("cheap", replace(GIFT, cost=Decimal("3.00")), margin_guard=GUARD)
    d = run(order, dear, cheap)
    assert outcome(d, "dear").detail == (
        "the offer costs 3.50 EUR, more than 30% of this order's margin 10.00 EUR (net of "
        "20.00 EUR discounts) (at most 3.00 EUR)"
    )
    assert outcome(d, "cheap").detail == (
        "fired: free gift (Probierpäckchen); offer cost 3.00 EUR; within the margin guard on "
        "this order's margin 10.00 EUR (net of 20.00 EUR discounts)"
    )


def test_without_line_allocations_the_order_discount_is_spread_by_value() -> None:
    # given no per-line discounts from the platform, 20.00 off the order, beans at cost 12.00
    order = make_order(
        line("1", 2, "30.00", sku="BOHNE"), line("2", 1, "40.00", sku="TASSE"), discounts="20.00"
    )
    s = settings(product_costs=(("BOHNE", Decimal("12.00")),))
    # then beans carry 60/100 of 20.00 = 12.00, the cup 8.00:
    # beans 60.00 - 12.00 - 2 x 12.00 = 24.00; cup 40.00 - 8.00 - 28.00 = 4.00
    basis = margin_basis(order, s)
    assert basis.margin == money("28.00") and basis.spread
    assert basis.describe() == (
        "this order's margin 28.00 EUR (net of 20.00 EUR discounts, spread over the lines by value)"
    )


def test_gift_cards_are_neither_margin_nor_discounted() -> None:
    # given beans for 60.00 and a 50.00 gift card, 10.00 off the order (on the beans only)
    order = make_order(
        line("1", 2, "30.00"),
        line("g", 1, "50.00", gift_card=True),
        discounts="10.00",
    )
    # then net 50.00, goods' cost 42.00 (70 % of 60.00), margin 8.00
    basis = margin_basis(order, settings())
    assert (basis.margin, basis.net) == (money("8.00"), money("50.00"))


def test_an_order_without_discounts_keeps_the_plain_margin() -> None:
    # 100.00 of goods at the default 30 %: margin 30.00, the text as before
    basis = margin_basis(make_order(), settings())
    assert basis.margin == money("30.00")
    assert basis.describe() == "this order's margin 30.00 EUR"


# -- currencies ----------------------------------------------------------------------------------


def jpy_order() -> Order:
    # a WooCommerce multi-currency order: 1 x 4,500 JPY, saved in JPY
    return make_order(line("1", 1, "4500"), currency="JPY", platform="woocommerce")


UNKNOWN_JPY = (
    "the order is in JPY, the shop in EUR, and the shop file gives no exchange rate for JPY "
    "(add shop.exchange_rates: {JPY: ...}, the value of 1 JPY in EUR)"
)


def test_a_jpy_order_against_an_eur_shop_fires_no_money_condition_and_says_why() -> None:
    order = jpy_order()
    d = run(
        order,
        campaign("from-25", FIXED, when=("subtotal >= 25",)),
        campaign("guest-only", FIXED, when=("subtotal >= 25", "customer.is_guest")),
        campaign("percent", PERCENT),
        campaign("guarded", GIFT, margin_guard=GUARD),
        campaign("thanks", ShowBlock(block="thank_you")),
    )
    # 4,500 is not compared as if it were 4,500 EUR: the condition is unknown, naming why
    assert outcome(d, "from-25") == Outcome(
        "from-25",
        False,
        Reason.FIELD_UNKNOWN,
        f"condition 1 `subtotal >= 25`: amounts unknown in EUR: {UNKNOWN_JPY}",
    )
    # a condition that is false anyway still says so
    assert outcome(d, "guest-only").detail == "condition 2 `customer.is_guest` is false"
    # costs that are a share of the order, and the margin guard, cannot be priced either
    assert outcome(d, "percent").detail == (
        f"the offer's cost is a share of this order's amounts, unknown in EUR: {UNKNOWN_JPY}"
    )
    assert outcome(d, "guarded").detail == f"the margin guard cannot be checked: {UNKNOWN_JPY}"
    # what reads no amount still fires
    assert d.fired == ("thanks",)


def test_with_exchange_rates_a_jpy_order_is_converted_and_the_rate_named() -> None:
    # given 1 JPY = 0.0061 EUR: 4,500 JPY = 27.45 EUR
    rates = (("JPY", Decimal("0.0061")),)
    d = run(
        jpy_order(),
        campaign("from-25", FIXED, when=("subtotal >= 25",)),
        campaign("from-30", FIXED, when=("subtotal >= 30",)),
        campaign("percent", PERCENT),
        exchange_rates=rates,
    )
    note = "(order amounts converted at 1 JPY = 0.0061 EUR)"
    assert outcome(d, "from-25").fired
    assert outcome(d, "from-25").detail.endswith(note)
    assert outcome(d, "from-30").detail == f"condition 1 `subtotal >= 30` is false {note}"
    # 10 % of 27.45 EUR = 2.745, rounded half up: 2.75 EUR, booked in the shop currency
    percent = [a for a in d.actions if a.campaign_id == "percent"]
    assert [a.cost for a in percent] == [money("2.75")]


def test_conversion_changes_amounts_only_and_keeps_the_buyers_currency() -> None:
    pricing = price_order(jpy_order(), settings(exchange_rates=(("JPY", Decimal("0.0061")),)))
    converted = pricing.order
    assert converted.currency == "JPY"  # `order.currency == "JPY"` still reads the buyer's
    assert converted.subtotal == money("27.4500")
    assert converted.line_items[0].unit_price == money("27.4500")
    assert pricing.rate == Decimal("0.0061") and pricing.unknown is None


def test_a_shopify_order_paid_in_chf_is_decided_in_the_shop_currency() -> None:
    # given an EUR shop's order of 100.00 EUR that the buyer paid as 95.00 CHF
    presented = Presentment(
        currency="CHF",
        subtotal=money("95.00", "CHF"),
        total=money("95.00", "CHF"),
        discounts=money("0", "CHF"),
        shipping=money("0", "CHF"),
        tax=money("0", "CHF"),
    )
    order = make_order(presentment=presented)
    # then `subtotal >= 100` reads 100.00 EUR (true), not 95 CHF
    d = run(order, campaign("from-100", FIXED, when=("subtotal >= 100",)))
    assert d.fired == ("from-100",)
    # and the buyer's rate for the content is 95 / 100 CHF per EUR
    assert buyer_rate(order, settings()) == ("CHF", Decimal("0.95"))


def test_the_buyer_rate_of_a_foreign_order_is_the_inverse_of_the_shop_rate() -> None:
    s = settings(exchange_rates=(("JPY", Decimal("0.005")),))
    assert buyer_rate(jpy_order(), s) == ("JPY", Decimal(200))
    assert buyer_rate(jpy_order(), settings()) is None


def test_a_foreign_payload_end_to_end_through_the_normalizer() -> None:
    # given WooCommerce's docs order saved in JPY by a plugin: 6.00 + 12.00 -> 1,800 JPY
    payload = copy.deepcopy(load("woocommerce", "wc_v3_order_727.json"))
    payload["currency"] = "JPY"
    payload["line_items"][0].update(subtotal="600", total="600", price=300)
    payload["line_items"][1].update(subtotal="1200", total="1200", price=1200)
    order = normalize_woocommerce_order(payload)
    check = campaign("from-10", FIXED, when=("subtotal >= 10",))
    # without a rate: unknown; at 0.0061 EUR per JPY: 10.98 EUR, so it fires
    assert outcome(run(order, check), "from-10").reason is Reason.FIELD_UNKNOWN
    rated = run(order, check, exchange_rates=(("JPY", Decimal("0.0061")),))
    assert rated.fired == ("from-10",)


@pytest.mark.parametrize("currency", ["EUR", "eur"])
def test_the_shop_currency_needs_no_rate(currency: str) -> None:
    assert settings().exchange_rate(currency) == Decimal(1)
