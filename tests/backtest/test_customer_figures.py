"""Customers' order count and spend derived from the history when the data lacks them: the
second order of a customer fires ``customer.orders_count >= 2``, in whatever order the export
lists the orders, and the batch pre-filter decides as the per-order engine does."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from aftersale_kit.backtest.history import HistoryOrder, SourceRef
from aftersale_kit.backtest.ordering import in_time_order
from aftersale_kit.backtest.replay import StepRecord, replay
from aftersale_kit.core.config.loader import load_config_text
from aftersale_kit.core.model import Customer, EventKind, FinancialStatus, LineItem, Order, Refund
from aftersale_kit.core.money import Money

SHOP = "figures.myshopify.com"
CONFIG = f"""\
version: 1
shop:
  platform: shopify
  domain: {SHOP}
  currency: EUR
  timezone: Europe/Berlin
campaigns:
  - id: stammkunde
    when: customer.orders_count >= 2
    trigger: order_paid
    actions:
      - issue_coupon: {{type: fixed_amount, value: 5, valid_days: 30}}
  - id: vip
    when: customer.total_spent >= 300
    trigger: order_paid
    actions:
      - issue_coupon: {{type: fixed_amount, value: 20, valid_days: 30}}
"""
SECRET = b"figures"
START = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)


def eur(amount: str) -> Money:
    return Money.of(amount, "EUR")


def order(
    n: int,
    day: int,
    *,
    customer: str | None,
    total: str = "100.00",
    paid: bool = True,
    refund: str | None = None,
    orders_count: int | None = None,
) -> HistoryOrder:
    at = START + timedelta(days=day)
    buyer = None
    if customer is not None:
        buyer = Customer(id=customer, email=f"{customer}@example.org", orders_count=orders_count)
    refunds = ()
    if refund is not None:
        refunds = (Refund(id=f"r{n}", amount=eur(refund), created_at=at + timedelta(hours=2)),)
    placed = Order(
        platform="shopify",
        shop=SHOP,
        id=str(n),
        number=f"#{n}",
        currency="EUR",
        created_at=at,
        financial_status=(
            FinancialStatus.PARTIALLY_REFUNDED
            if refund
            else FinancialStatus.PAID
            if paid
            else FinancialStatus.PENDING
        ),
        subtotal=eur(total),
        total=eur(total),
        discounts=eur("0"),
        shipping=eur("0"),
        tax=eur("0"),
        line_items=(LineItem(id=f"{n}-1", title="Bohnen", quantity=1, unit_price=eur(total)),),
        customer=buyer,
        email=f"{customer or 'gast'}@example.org",
        paid_at=at + timedelta(minutes=5) if paid else None,
        refunds=refunds,
    )
    return HistoryOrder(placed, SourceRef("orders.jsonl", n))


def fired(history: list[HistoryOrder], *, batch: bool = False) -> dict[str, set[str]]:
    """Per campaign, the orders it fired on."""
    config = load_config_text(CONFIG)
    steps: list[StepRecord] = []
    options: dict[str, object] = {}
    orders: object = history
    if batch:
        from aftersale_kit.backtest.batch import prefilter

        orders, options["candidates"] = prefilter(config, history, chunk_size=2)
    replay(
        config,
        orders,  # type: ignore[arg-type]
        code_secret=SECRET,
        redemption_rate=Decimal(1),
        on_step=steps.append,
        **options,  # type: ignore[arg-type]
    )
    found: dict[str, set[str]] = {"stammkunde": set(), "vip": set()}
    for step in steps:
        for outcome in step.decision.outcomes:
            if outcome.fired:
                found[outcome.campaign_id].add(step.order_id)
    return found


HISTORY = [
    order(1, 0, customer="anna"),
    order(2, 1, customer=None),
    order(3, 2, customer="bert", total="250.00"),
    order(4, 5, customer="anna", total="80.00"),
    order(5, 6, customer=None),
    order(6, 9, customer="bert", total="60.00", refund="60.00"),
    order(7, 12, customer="bert", total="40.00"),
]


@pytest.mark.parametrize("newest_first", [False, True])
def test_a_customers_second_order_fires_the_returning_customer_campaign(
    newest_first: bool,
) -> None:
    # given a history without orders_count / total_spent, possibly listed newest-first
    history = list(reversed(HISTORY)) if newest_first else HISTORY
    # when it is replayed
    found = fired(history)
    # then anna's and bert's later orders count as returning customers, their first ones and
    # the guests' orders do not
    assert found["stammkunde"] == {"4", "6", "7"}
    # and bert's spend (250 + 60, the 60 refunded before order 7: 250 + 40) reaches 300 on
    # order 6 only
    assert found["vip"] == {"6"}


def test_the_batch_pre_filter_fires_the_same_campaigns_on_the_derived_figures() -> None:
    # given the same history, newest-first
    history = list(reversed(HISTORY))
    # when it is replayed with and without the pre-filter
    # then the same orders fire the same campaigns
    assert fired(history, batch=True) == fired(history)


def test_figures_the_data_carries_are_kept_and_unpaid_orders_do_not_count() -> None:
    # given a customer whose first export row says 7 orders, and an unpaid order before another
    history = [
        order(1, 0, customer="carla", orders_count=7),
        order(2, 1, customer="dora", paid=False),
        order(3, 2, customer="dora"),
    ]
    events = list(in_time_order(history))
    counts = {
        e.order.id: (e.order.customer.orders_count, e.order.customer.total_spent)
        for e in events
        if e.order.customer is not None and e.kind is EventKind.ORDER_PAID
    }
    created = {
        e.order.id: e.order.customer.orders_count
        for e in events
        if e.order.customer is not None and e.kind is EventKind.ORDER_CREATED
    }
    # then carla keeps her 7 (her spend, not in the data, is derived), dora's unpaid order
    # counted itself only, and her paid one is her first purchase
    assert counts["1"] == (7, eur("100.00"))
    assert created["2"] == 1
    assert counts["3"] == (1, eur("100.00"))


def test_guests_get_no_figures() -> None:
    # given a guest ordering twice with the same e-mail
    history = [order(1, 0, customer=None), order(2, 3, customer=None)]
    # when the events are built
    events = list(in_time_order(history))
    # then no order has a customer: the platforms keep no count for guests
    assert events and all(e.order.customer is None for e in events)
    assert replace(history[0].order).customer is None


def test_a_warm_up_counts_earlier_orders_without_replaying_them() -> None:
    # given anna's first order before the replayed period and her second in it
    history = [order(1, 0, customer="anna"), order(2, 10, customer="anna", total="250.00")]
    since = START + timedelta(days=5)
    config = load_config_text(CONFIG)

    def run(**options: object) -> tuple[set[str], int]:
        steps: list[StepRecord] = []
        result = replay(
            config,
            history,
            code_secret=SECRET,
            redemption_rate=Decimal(1),
            since=since,
            on_step=steps.append,
            **options,  # type: ignore[arg-type]
        )
        fired = {o.campaign_id for s in steps for o in s.decision.outcomes if o.fired}
        return fired, result.orders

    # when it is replayed from `since` with and without a warm-up from the start
    warmed, warmed_orders = run(warm_up=START)
    cold, cold_orders = run()
    # then only the warm-up knows her as a returning customer who spent 350
    assert warmed == {"stammkunde", "vip"}
    assert cold == set()
    # and the warm-up's order is not replayed
    assert warmed_orders == cold_orders == 1


def test_a_warm_up_without_since_is_wrong_usage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from aftersale_kit.cli import main

    config = tmp_path / "shop.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    orders = tmp_path / "orders.jsonl"
    orders.write_text("", encoding="utf-8")
    code = main(["backtest", str(config), str(orders), "--warm-up", "2025-01-01"])
    assert code == 2
    assert "--warm-up goes with --since" in capsys.readouterr().err
