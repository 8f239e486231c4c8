"""The replay's figures on small histories checked by hand: budgets per month, take-backs,
contacts against the cap, the time order of late refunds, the spill to disk."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from aftersale_kit.backtest.history import HistoryOrder, SourceRef
from aftersale_kit.backtest.replay import StepRecord, replay
from aftersale_kit.core.config.loader import load_config_text
from aftersale_kit.core.model import Customer, EventKind, FinancialStatus, LineItem, Order, Refund
from aftersale_kit.core.money import Money
from bench._history import history

SHOP = "figures.myshopify.com"
HEAD = f"""\
version: 1
shop:
  platform: shopify
  domain: {SHOP}
  currency: EUR
  timezone: Europe/Berlin
  secrets:
    code_secret: FIGURES_CODE_SECRET
"""
SECRET = b"figures"


def eur(amount: str) -> Money:
    return Money.of(amount, "EUR")


def order(
    n: int,
    at: datetime,
    *,
    customer: str | None = None,
    subtotal: str = "50.00",
    marketing: bool | None = True,
) -> HistoryOrder:
    buyer = None
    if customer is not None:
        buyer = Customer(
            id=customer,
            email=f"{customer}@example.org",
            orders_count=1,
            accepts_marketing=marketing,
        )
    placed = Order(
        platform="shopify",
        shop=SHOP,
        id=str(n),
        number=f"#{n}",
        currency="EUR",
        created_at=at,
        financial_status=FinancialStatus.PAID,
        subtotal=eur(subtotal),
        total=eur(subtotal),
        discounts=eur("0"),
        shipping=eur("0"),
        tax=eur("0"),
        line_items=(LineItem(id=f"{n}-1", title="Bohnen", quantity=1, unit_price=eur(subtotal)),),
        customer=buyer,
        email=buyer.email if buyer is not None else None,
        paid_at=at,
    )
    return HistoryOrder(placed, SourceRef("test.jsonl", n))


def mid_month(year: int, month: int, day: int = 15) -> datetime:
    return datetime(year, month, day, 11, 0, tzinfo=UTC)


def test_a_monthly_budget_that_runs_out_in_march_shows_march_exhausted_and_only_march() -> None:
    # given a 5 EUR coupon with 20 EUR a month, one order a month and six in March
    config = load_config_text(
        HEAD
        + """campaigns:
  - id: danke
    budget: {amount: 20, period: month}
    actions:
      - issue_coupon: {type: fixed_amount, value: 5, valid_days: 30}
"""
    )
    orders = [order(m, mid_month(2025, m)) for m in range(1, 13)]
    orders += [order(100 + d, mid_month(2025, 3, d)) for d in range(1, 6)]
    orders.sort(key=lambda h: h.order.created_at)
    # when the year is replayed (half the coupons assumed redeemed)
    result = replay(config, orders, code_secret=SECRET, redemption_rate=Decimal("0.5"))
    # then March spent its 20 EUR and refused the last two orders; no other month ran out
    (danke,) = result.campaigns
    assert len(danke.budget) == 12
    assert [b.start.strftime("%Y-%m") for b in danke.exhausted_periods] == ["2025-03"]
    march = danke.budget[2]
    assert (march.spent, march.refused, march.budget) == (Decimal(20), 2, Decimal(20))
    assert all(b.spent == Decimal(5) for i, b in enumerate(danke.budget) if i != 2)
    assert danke.hits == {"budget_exhausted": 2}
    # and 15 coupons were issued: 75 EUR face value, 37.50 EUR expected at 50 %
    assert (danke.orders, danke.coupons) == (15, 15)
    assert (danke.face_value, danke.expected_cost) == (Decimal(75), Decimal("37.5"))
    assert result.months == tuple(f"2025-{m:02d}" for m in range(1, 13))
    assert [m.orders for m in danke.months] == [1, 1, 4] + [1] * 9
    assert (result.orders, result.events) == (17, 34)  # each order created and paid


def test_a_coupon_taken_back_by_a_later_refund_costs_nothing_and_frees_its_budget() -> None:
    # given a coupon that a refund takes back, with a budget of one coupon a month
    config = load_config_text(
        HEAD
        + """campaigns:
  - id: danke
    on_refund: revoke
    budget: {amount: 5, period: month}
    actions:
      - issue_coupon: {type: fixed_amount, value: 5, valid_days: 30}
"""
    )
    refunded = order(1, mid_month(2025, 4, 2), customer="a")
    refund = Refund(id="r1", amount=eur("10.00"), created_at=mid_month(2025, 4, 9), lines=())
    refunded = replace(
        refunded,
        order=replace(
            refunded.order, refunds=(refund,), financial_status=FinancialStatus.PARTIALLY_REFUNDED
        ),
    )
    later = order(2, mid_month(2025, 4, 20), customer="b")
    steps: list[StepRecord] = []
    # when replayed
    result = replay(
        config,
        [refunded, later],
        code_secret=SECRET,
        redemption_rate=Decimal(1),
        on_step=steps.append,
    )
    # then the refund (a week later) took the first coupon back, which gave the April budget
    # back to the second order
    (danke,) = result.campaigns
    assert (danke.orders, danke.coupons, danke.taken_back) == (2, 2, 1)
    assert (danke.face_value, danke.expected_cost) == (Decimal(10), Decimal(5))
    assert danke.budget[0].spent == Decimal(5) and not danke.budget[0].exhausted
    assert [(s.order_id, s.kind) for s in steps] == [
        ("1", EventKind.ORDER_CREATED),
        ("1", EventKind.ORDER_PAID),
        ("1", EventKind.REFUND_CREATED),
        ("2", EventKind.ORDER_CREATED),
        ("2", EventKind.ORDER_PAID),
    ]
    assert [o.order_id for o in result.top_orders] == ["2"]


def test_contacts_per_customer_are_counted_against_the_marketing_cap_and_consent() -> None:
    # given a marketing e-mail a day after each order, at most one in 14 days
    config = load_config_text(
        HEAD
        + """contact_policy:
  marketing_cap: {max: 1, days: 14}
campaigns:
  - id: bewertung
    actions:
      - follow_up: {kind: review_request, after: {days: 1}}
"""
    )
    start = mid_month(2025, 5, 5)
    orders = [
        order(1, start, customer="a"),
        order(2, start + timedelta(days=3), customer="a"),
        order(3, start + timedelta(days=6), customer="a"),
        order(4, start + timedelta(days=30), customer="a"),
        order(5, start, customer="b"),
        order(6, start, customer="c", marketing=False),
    ]
    # when replayed
    result = replay(config, orders, code_secret=SECRET, redemption_rate=Decimal(1))
    # then a got two (days 1 and 31), b one, c none (no consent); two held back by the cap
    contacts = result.contacts
    assert (contacts.cap, contacts.window_days) == (1, 14)
    assert contacts.per_customer == {1: 1, 2: 1}
    assert contacts.sent == 3
    assert contacts.held_back == {"consent": 1, "marketing_cap": 2}
    (bewertung,) = result.campaigns
    assert bewertung.follow_ups == 6


@pytest.mark.slow
def test_a_history_larger_than_the_memory_limit_is_sorted_on_disk_with_the_same_result() -> None:
    # given a generated history with late refunds, cancellations and unpaid orders
    config = load_config_text(
        HEAD
        + """campaigns:
  - id: danke
    when: subtotal >= 20
    per_customer: {cooldown_days: 30}
    budget: {amount: 40, period: week}
    actions:
      - issue_coupon: {type: percentage, value: 10, valid_days: 30}
  - id: sorry
    trigger: refund_created
    actions:
      - free_gift: {note: Entschuldigung, cost: 2}
"""
    )
    orders = history(300, shop=SHOP, days=120)
    in_memory: list[StepRecord] = []
    on_disk: list[StepRecord] = []
    # when sorted in memory and, with a limit of 50 events, on disk
    a = replay(
        config, orders, code_secret=SECRET, redemption_rate=Decimal(1), on_step=in_memory.append
    )
    b = replay(
        config,
        orders,
        code_secret=SECRET,
        redemption_rate=Decimal(1),
        on_step=on_disk.append,
        memory_events=50,
    )
    # then both replay the same steps in the same order, in time order, to the same figures
    assert on_disk == in_memory
    assert a == b
    times = [s.at for s in in_memory]
    assert times == sorted(times)
    assert any(s.kind is EventKind.REFUND_CREATED for s in in_memory)


def test_the_window_selects_orders_by_placement_and_keeps_their_later_refunds() -> None:
    # given a coupon a refund takes back, and orders in April, May and June
    config = load_config_text(
        HEAD
        + """campaigns:
  - id: danke
    on_refund: revoke
    actions:
      - issue_coupon: {type: fixed_amount, value: 5, valid_days: 30}
"""
    )
    may = order(2, mid_month(2025, 5, 20), customer="b")
    refund = Refund(id="r2", amount=eur("5.00"), created_at=mid_month(2025, 6, 20), lines=())
    may = replace(
        may,
        order=replace(
            may.order, refunds=(refund,), financial_status=FinancialStatus.PARTIALLY_REFUNDED
        ),
    )
    orders = [order(1, mid_month(2025, 4), customer="a"), may, order(3, mid_month(2025, 6, 25))]
    # when only May is replayed
    result = replay(
        config,
        orders,
        code_secret=SECRET,
        redemption_rate=Decimal(1),
        since=datetime(2025, 5, 1, tzinfo=UTC),
        until=datetime(2025, 6, 1),  # naive: UTC
    )
    # then the May order alone counts, and its refund in June still took its coupon back
    (danke,) = result.campaigns
    assert (result.orders, danke.orders, danke.taken_back) == (1, 1, 1)
    assert danke.expected_cost == 0
    assert result.months == ("2025-05", "2025-06")


def test_an_order_no_campaign_can_fire_on_still_earns_its_points() -> None:
    # given a loyalty program and a campaign the pre-filter rules out everywhere
    config = load_config_text(
        HEAD
        + """loyalty:
  earn: {points_per_unit: 1}
  pending_days: 0
campaigns:
  - id: danke
    when: subtotal >= 1000
    actions:
      - issue_coupon: {type: fixed_amount, value: 5, valid_days: 30}
"""
    )
    orders = [order(1, mid_month(2025, 4), customer="a", subtotal="42.00")]
    # when replayed with every campaign ruled out, and without a pre-filter
    ruled_out = replay(
        config,
        orders,
        code_secret=SECRET,
        redemption_rate=Decimal(1),
        candidates=lambda o: frozenset(),
    )
    full = replay(config, orders, code_secret=SECRET, redemption_rate=Decimal(1))
    # then the order earned its 42 points either way
    assert ruled_out.loyalty.points_earned == 42 == full.loyalty.points_earned
    assert ruled_out.loyalty == full.loyalty


def test_fixed_bonus_points_are_priced_at_the_value_of_a_point() -> None:
    # given 50 bonus points on every order, and 100 points buy a 5 EUR coupon
    config = load_config_text(
        HEAD
        + """loyalty:
  earn: {points_per_unit: 1}
  redeem:
    options:
      - {id: fuenf, points: 100, coupon: 5}
campaigns:
  - id: bonus
    actions:
      - award_points: {points: 50}
"""
    )
    orders = [
        order(1, mid_month(2025, 4), customer="a"),
        order(2, mid_month(2025, 5), customer="b"),
    ]
    # (placed five minutes before they were paid: the bonus of the paid step is in the earning)
    orders = [
        replace(h, order=replace(h.order, created_at=h.order.created_at - timedelta(minutes=5)))
        for h in orders
    ]
    # when replayed
    result = replay(config, orders, code_secret=SECRET, redemption_rate=Decimal("0.1"))
    # then 100 bonus points worth 5 EUR were given, in full (points are not redeemed at a rate)
    (bonus,) = result.campaigns
    assert (bonus.points, bonus.face_value, bonus.expected_cost) == (100, Decimal(5), Decimal(5))
    assert result.loyalty.points_earned == 2 * (50 + 50)


def test_a_presale_announcement_is_one_contact_per_customer_and_none_after_the_sale() -> None:
    # given a VIP pre-sale from June 1 to June 7 for orders from 40 EUR
    config = load_config_text(
        HEAD
        + """campaigns:
  - id: vip
    when: order.subtotal >= 40
    actions:
      - vip_presale: {name: Sommer, starts: 2025-06-01T09:00, ends: 2025-06-07}
"""
    )
    orders = [
        order(1, mid_month(2025, 5, 5), customer="a"),
        order(2, mid_month(2025, 5, 20), customer="a"),  # the same customer again
        order(3, mid_month(2025, 6, 3), customer="b"),  # during the sale: at once
        order(4, mid_month(2025, 5, 6), customer="c", marketing=False),
        order(5, mid_month(2025, 6, 20), customer="d"),  # after the sale: nothing
    ]
    # when replayed
    result = replay(config, orders, code_secret=SECRET, redemption_rate=Decimal(1))
    # then a and b got one announcement each, c none (no consent), d none
    contacts = result.contacts
    assert contacts.per_customer == {1: 2}
    assert contacts.sent == 2
    assert contacts.held_back == {"consent": 1}
