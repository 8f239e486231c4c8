"""The order's timeline, pure: net of refunds, what refunds and closure take back, the content."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from aftersale_kit.core.campaign import (
    Campaign,
    CouponKind,
    FreeGift,
    IssueCoupon,
    RefundPolicy,
    ShopConfig,
    ShopSettings,
    ShowBlock,
)
from aftersale_kit.core.conditions import compile_condition
from aftersale_kit.core.counters import InMemoryCounters
from aftersale_kit.core.engine import decide
from aftersale_kit.core.model import (
    Customer,
    EventKind,
    FinancialStatus,
    LineItem,
    Order,
    Refund,
    RefundLine,
)
from aftersale_kit.core.money import Money
from aftersale_kit.core.timeline import Step, net_of_refunds, take_backs, timeline_decision

SHOP = "bohne.example"
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def eur(amount: str) -> Money:
    return Money.of(amount, "EUR")


def order(**changes: object) -> Order:
    base = Order(
        platform="shopify",
        shop=SHOP,
        id="1001",
        number="#1001",
        currency="EUR",
        created_at=NOW,
        financial_status=FinancialStatus.PAID,
        subtotal=eur("80.00"),
        total=eur("84.90"),
        discounts=eur("0"),
        shipping=eur("4.90"),
        tax=eur("0"),
        line_items=(
            LineItem(id="l1", title="Espresso", quantity=2, unit_price=eur("30.00")),
            LineItem(id="l2", title="Filter", quantity=1, unit_price=eur("20.00")),
        ),
    )
    return _replace(base, **changes)


def _replace(o: Order, **changes: object) -> Order:
    from dataclasses import replace

    return replace(o, **changes)  # type: ignore[arg-type]


def campaign(cid: str, *, when: str | None = None, **changes: object) -> Campaign:
    from dataclasses import replace

    base = Campaign(
        id=cid,
        actions=(
            IssueCoupon(kind=CouponKind.FIXED_AMOUNT, value=Decimal(5), valid_days=30),
            ShowBlock(block="coupon"),
        ),
        conditions=(compile_condition(when),) if when else (),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def config(*campaigns: Campaign) -> ShopConfig:
    return ShopConfig(
        settings=ShopSettings(platform="shopify", domain=SHOP, currency="EUR"),
        campaigns=campaigns,
    )


def money_refund(rid: str, amount: str) -> Refund:
    return Refund(id=rid, amount=eur(amount), lines=())


# -- net of refunds -----------------------------------------------------------------------------


def test_a_money_only_refund_lowers_subtotal_and_total_by_its_amount() -> None:
    net = net_of_refunds(order(), [money_refund("r1", "5.00")])
    assert (net.subtotal, net.total) == (eur("75.00"), eur("79.90"))
    assert [li.quantity for li in net.line_items] == [2, 1]


def test_a_line_refund_removes_the_quantity_and_its_subtotal() -> None:
    refund = Refund(
        id="r1",
        amount=eur("30.00"),
        lines=(RefundLine(line_item_id="l1", quantity=1, subtotal=eur("30.00")),),
    )
    net = net_of_refunds(order(), [refund])
    assert [(li.id, li.quantity) for li in net.line_items] == [("l1", 1), ("l2", 1)]
    assert net.subtotal == eur("50.00")


def test_refunded_shipping_is_not_taken_off_the_goods() -> None:
    refund = Refund(id="r1", amount=eur("14.90"), lines=(), shipping=eur("4.90"))
    net = net_of_refunds(order(), [refund])
    assert (net.subtotal, net.shipping, net.total) == (eur("70.00"), eur("0.00"), eur("70.00"))


def test_a_line_refunded_in_full_leaves_the_order_and_nothing_goes_below_zero() -> None:
    refund = Refund(
        id="r1",
        amount=eur("100.00"),
        lines=(RefundLine(line_item_id="l2", quantity=1, subtotal=None),),
    )
    net = net_of_refunds(order(), [refund, money_refund("r2", "90.00")])
    assert [li.id for li in net.line_items] == ["l1"]
    # l2 at its unit price (20.00) plus the money-only 90.00: more than the goods
    assert (net.subtotal, net.total) == (eur("0"), eur("0"))


# -- take-backs ---------------------------------------------------------------------------------

FROM_50 = "order.subtotal >= 50"


def test_reevaluate_keeps_a_coupon_the_net_order_still_earns_and_takes_back_one_it_does_not() -> (
    None
):
    shop = config(campaign("ab-50", when=FROM_50))
    # 80.00 refunded 5.00: still 75.00, still "from 50"
    kept = take_backs(
        config=shop,
        order=order(),
        refunds=[money_refund("r1", "5.00")],
        open_campaigns=["ab-50"],
        closed=None,
    )
    # refunded 40.00: 40.00 left, no longer "from 50"
    lost = take_backs(
        config=shop,
        order=order(),
        refunds=[money_refund("r1", "5.00"), money_refund("r2", "35.00")],
        open_campaigns=["ab-50"],
        closed=None,
    )
    assert kept == {}
    assert lost == {
        "ab-50": "refund r1, r2: condition 1 `order.subtotal >= 50` no longer holds on the order "
        "net of refunds (subtotal 40.00 EUR, total 44.90 EUR)"
    }


def test_revoke_takes_back_on_any_refund_and_keep_on_none() -> None:
    shop = config(
        campaign("streng", on_refund=RefundPolicy.REVOKE),
        campaign("kulant", on_refund=RefundPolicy.KEEP),
    )
    result = take_backs(
        config=shop,
        order=order(),
        refunds=[money_refund("r9", "0.50")],
        open_campaigns=["streng", "kulant"],
        closed=None,
    )
    assert result == {"streng": "refund r9: the campaign takes its offer back on any refund"}


def test_closure_takes_back_everything_but_what_a_reversal_triggered() -> None:
    shop = config(
        campaign("danke", on_refund=RefundPolicy.KEEP),
        campaign("storno-umfrage", trigger=EventKind.ORDER_CANCELLED),
        campaign("erstattet", trigger=EventKind.REFUND_CREATED),
    )
    result = take_backs(
        config=shop,
        order=order(),
        refunds=[],
        open_campaigns=["danke", "storno-umfrage", "erstattet"],
        closed="the order was cancelled",
    )
    assert result == {"danke": "the order was cancelled"}


def test_nothing_is_taken_back_without_refunds_or_closure() -> None:
    shop = config(campaign("ab-50", when=FROM_50, on_refund=RefundPolicy.REVOKE))
    assert (
        take_backs(config=shop, order=order(), refunds=[], open_campaigns=["ab-50"], closed=None)
        == {}
    )


def test_an_unknown_condition_keeps_the_offer() -> None:
    # the customer's order count is not in the order: reevaluating cannot say "no"
    shop = config(campaign("erstkauf", when="customer.orders_count == 1"))
    result = take_backs(
        config=shop,
        order=order(customer=Customer(id="c1", orders_count=None)),
        refunds=[money_refund("r1", "80.00")],
        open_campaigns=["erstkauf"],
        closed=None,
    )
    assert result == {}


# -- the content of all steps -------------------------------------------------------------------


def test_the_content_is_all_steps_by_priority_then_life_without_what_was_taken_back() -> None:
    paid = campaign("danke", priority=1)
    gift = campaign(
        "geschenk",
        priority=5,
        actions=(FreeGift(note="Probe", cost=Decimal(2)), ShowBlock(block="free_gift")),
    )
    survey = campaign(
        "umfrage",
        priority=1,
        trigger=EventKind.ORDER_FULFILLED,
        actions=(ShowBlock(block="survey", params=(("url", "/umfrage"),)),),
    )
    shop = config(paid, gift, survey)
    counters = InMemoryCounters()
    first = decide(
        shop, order(), event=EventKind.ORDER_PAID, counters=counters, now=NOW, code_secret=b"s"
    )
    later = NOW - timedelta(days=2)  # "fulfilled" happened to be decided first
    second = decide(
        shop,
        order(),
        event=EventKind.ORDER_FULFILLED,
        counters=counters,
        now=later,
        code_secret=b"s",
    )
    steps = [Step(decision=second, decided_at=later), Step(decision=first, decided_at=NOW)]
    coupon_key = f"{SHOP}:1001:danke:0"
    union, times = timeline_decision(
        config=shop, shop=SHOP, order_id="1001", steps=steps, taken_back={coupon_key: True}
    )
    keys = [p.idempotency_key for p in union.actions]
    # the gift campaign (priority 5) first; then priority 1 in the order's life: paid's block,
    # then fulfilled's (whatever order the steps were decided in)
    assert keys == [
        f"{SHOP}:1001:geschenk:0",
        f"{SHOP}:1001:geschenk:1",
        f"{SHOP}:1001:danke:1",
        f"{SHOP}:1001:umfrage:0",
    ]
    assert times[f"{SHOP}:1001:umfrage:0"] == later
    assert times[f"{SHOP}:1001:danke:1"] == NOW
    assert union.event is EventKind.ORDER_FULFILLED


def yen_order() -> Order:
    def jpy(amount: str) -> Money:
        return Money.of(amount, "JPY")

    return order(
        currency="JPY",
        subtotal=jpy("10000"),
        total=jpy("10000"),
        discounts=jpy("0"),
        shipping=jpy("0"),
        tax=jpy("0"),
        line_items=(LineItem(id="l1", title="Espresso", quantity=1, unit_price=jpy("10000")),),
    )


def test_a_refund_of_an_order_in_another_currency_is_reevaluated_in_the_shop_currency() -> None:
    # given 10,000 JPY (61.00 EUR at 0.0061) refunded 4,000 JPY: 6,000 JPY = 36.60 EUR left
    from dataclasses import replace

    refund = Refund(id="r1", amount=Money.of("4000", "JPY"), lines=())
    shop = config(campaign("ab-50", when=FROM_50))
    with_rate = replace(
        shop, settings=replace(shop.settings, exchange_rates=(("JPY", Decimal("0.0061")),))
    )
    # without a rate the amounts say nothing in EUR: the coupon is kept, not taken on a guess
    kept = take_backs(
        config=shop, order=yen_order(), refunds=[refund], open_campaigns=["ab-50"], closed=None
    )
    # with the rate, 36.60 EUR is below 50: taken back
    lost = take_backs(
        config=with_rate,
        order=yen_order(),
        refunds=[refund],
        open_campaigns=["ab-50"],
        closed=None,
    )
    assert kept == {}
    assert list(lost) == ["ab-50"]
    assert "subtotal 36.60 EUR" in lost["ab-50"]


def test_a_partly_returned_line_keeps_its_share_of_the_discount() -> None:
    discounted = order(
        line_items=(
            LineItem(
                id="l1", title="Espresso", quantity=4, unit_price=eur("10.00"), discount=eur("8.00")
            ),
        )
    )
    refund = Refund(
        id="r1",
        amount=eur("8.00"),
        lines=(RefundLine(line_item_id="l1", quantity=1, subtotal=eur("8.00")),),
    )
    [line] = net_of_refunds(discounted, [refund]).line_items
    assert (line.quantity, line.discount) == (3, eur("6.00"))
