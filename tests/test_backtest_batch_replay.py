"""Batch and per-order decisions are identical (issue 15, acceptance of step 5).

Hypothesis draws a shop's campaigns (conditions over amounts, customers, guests, line items and
times; limits per customer, cooldowns, usage limits, money budgets per day, week, month or in
total that run out in the middle of a period, exclusive groups, A/B splits with holdouts, margin
guards, refund policies, every trigger) and a history of orders (repeat customers, guests,
another currency with and without an exchange rate, unknown order counts, refunds weeks later,
cancellations, unpaid orders). The replay runs once deciding every campaign per order and once
with the batch pre-filter's candidates: every step must be the same decision, and the figures
the same.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aftersale_kit.backtest.batch import prefilter
from aftersale_kit.backtest.history import HistoryOrder, SourceRef
from aftersale_kit.core.campaign import (
    Action,
    Budget,
    BudgetPeriod,
    Campaign,
    CouponKind,
    FreeGift,
    IssueCoupon,
    MarginGuard,
    PerCustomerLimit,
    RefundPolicy,
    ShopConfig,
    ShopSettings,
    ShowBlock,
    Split,
)
from aftersale_kit.core.conditions import compile_condition
from aftersale_kit.core.model import (
    Address,
    Customer,
    EventKind,
    FinancialStatus,
    LineItem,
    Order,
    Refund,
)
from aftersale_kit.core.money import Money

pytest.importorskip("polars")
replay_module = pytest.importorskip("aftersale_kit.backtest.replay")

SHOP = "batch-prop.example"
SECRET = b"batch-secret"
T0 = datetime(2026, 1, 26, 9, 0, tzinfo=UTC)
PROPERTY = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

CONDITIONS = [
    compile_condition(text)
    for text in (
        "subtotal >= 40",
        "subtotal < 60",
        "total > 45.5",
        "first_order",
        "not first_order",
        "customer.orders_count >= 2",
        "customer.is_guest",
        '"vip" in customer.tags',
        "order.item_count >= 2",
        'any line_items.product_type == "Kaffee"',
        "all line_items.quantity >= 2",
        'none line_items.tags contains "sale"',
        'shipping_country in ["DE", "AT"]',
        "shipping_country is empty",
        'order.created_at >= "2026-02-10T00:00:00+01:00"',
        'financial_status == "paid"',
        'customer.email == "a@example.org" or subtotal > 50',
        "customer.total_spent > 100",
    )
]
ACTIONS: list[Action] = [
    IssueCoupon(kind=CouponKind.FIXED_AMOUNT, value=Decimal("5"), valid_days=30),
    IssueCoupon(kind=CouponKind.PERCENTAGE, value=Decimal("10"), valid_days=30),
    IssueCoupon(kind=CouponKind.FIXED_AMOUNT, value=Decimal("3"), valid_days=9, variant="B"),
    FreeGift(note="Probe", cost=Decimal("2")),
    ShowBlock(block="thank_you"),
]
TRIGGERS = [EventKind.ORDER_PAID] * 5 + [
    EventKind.ORDER_CREATED,
    EventKind.ORDER_FULFILLED,
    EventKind.REFUND_CREATED,
    EventKind.ORDER_CANCELLED,
]


def eur(amount: Decimal | int | str) -> Money:
    return Money.of(amount, "EUR")


@st.composite
def campaigns(draw: st.DrawFn, cid: str) -> Campaign:
    limits = st.builds(
        PerCustomerLimit,
        max_uses=st.sampled_from([1, 2, None]),
        cooldown_days=st.one_of(st.none(), st.integers(1, 20)),
    )
    budgets = st.builds(
        Budget, amount=st.integers(0, 30).map(eur), period=st.sampled_from(list(BudgetPeriod))
    )
    splits = st.builds(
        Split,
        variants=st.just((("A", 1), ("B", 1))),
        holdout=st.decimals("0", "0.3", places=1),
    )
    return Campaign(
        id=cid,
        actions=tuple(draw(st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=3))),
        enabled=draw(st.sampled_from([True] * 9 + [False])),
        trigger=draw(st.sampled_from(TRIGGERS)),
        conditions=tuple(draw(st.lists(st.sampled_from(CONDITIONS), max_size=3))),
        priority=draw(st.integers(0, 3)),
        exclusive_group=draw(st.sampled_from([None, None, "g1", "g1", "g2"])),
        per_customer=draw(st.one_of(st.none(), limits)),
        usage_limit=draw(st.one_of(st.none(), st.integers(0, 8))),
        budget=draw(st.one_of(st.none(), st.none(), budgets)),
        margin_guard=draw(
            st.one_of(st.none(), st.decimals("0.05", "1", places=2).map(MarginGuard))
        ),
        split=draw(st.one_of(st.none(), splits)),
        on_refund=draw(st.sampled_from(list(RefundPolicy))),
    )


@st.composite
def configs(draw: st.DrawFn) -> ShopConfig:
    n = draw(st.integers(1, 7))
    return ShopConfig(
        settings=ShopSettings(
            platform="shopify",
            domain=SHOP,
            currency="EUR",
            timezone="Europe/Berlin",
            max_offers_per_order=draw(st.sampled_from([None, 1, 2])),
            exchange_rates=(("USD", Decimal("0.9")),),
        ),
        campaigns=tuple(draw(campaigns(f"c{i}")) for i in range(n)),
    )


@st.composite
def orders(draw: st.DrawFn, n: int) -> HistoryOrder:
    currency = draw(st.sampled_from(["EUR"] * 6 + ["USD", "JPY"]))
    lines = tuple(
        LineItem(
            id=f"{n}-{i}",
            title="x",
            quantity=draw(st.integers(1, 2)),
            unit_price=Money.of(
                draw(st.sampled_from(["9.50", "14.90", "20.00", "32.00"])), currency
            ),
            sku=f"S{i}",
            product_type=draw(st.sampled_from(["Kaffee", "Tee", None])),
            tags=draw(st.sampled_from([(), ("sale",), None])),
        )
        for i in range(draw(st.integers(0, 3)))
    )
    subtotal = sum((li.total.amount for li in lines), Decimal(0))
    who = draw(st.sampled_from(["a", "b", "c", "guest", "nobody"]))
    customer, email = None, None
    if who in ("a", "b", "c"):
        customer = Customer(
            id=who,
            email=f"{who}@example.org",
            orders_count=draw(st.sampled_from([1, 2, 3, None])),
            tags=draw(st.sampled_from([(), ("vip",), None])),
            total_spent=draw(st.sampled_from([None, eur("80"), eur("150")])),
        )
        email = customer.email
    elif who == "guest":
        email = "Gast@Example.org"
    created = T0 + timedelta(hours=draw(st.integers(0, 24 * 70)))
    country = draw(st.sampled_from([None, "DE", "AT", "CH"]))
    order = Order(
        platform="shopify",
        shop=SHOP,
        id=str(5000 + n),
        number=f"#{n}",
        currency=currency,
        created_at=created,
        financial_status=FinancialStatus.PAID,
        subtotal=Money(subtotal, currency),
        total=Money(subtotal + draw(st.sampled_from([0, 5])), currency),
        discounts=Money(Decimal(0), currency),
        shipping=Money(Decimal(draw(st.sampled_from([0, 5]))), currency),
        tax=Money(Decimal(0), currency),
        line_items=lines,
        customer=customer,
        email=email,
        paid_at=created + timedelta(minutes=draw(st.sampled_from([0, 5]))),
        shipping_address=None if country is None else Address(country_code=country),
    )
    fate = draw(st.sampled_from(["kept"] * 4 + ["unpaid", "cancelled", "refund", "refunds"]))
    fulfilled = created + timedelta(days=draw(st.integers(1, 4))) if draw(st.booleans()) else None
    if fate == "unpaid":
        order = replace(order, paid_at=None, financial_status=FinancialStatus.PENDING)
        if draw(st.booleans()):
            order = replace(order, cancelled_at=created + timedelta(days=1))
        return HistoryOrder(order, SourceRef("prop", n), None)
    if fate == "cancelled":
        at = created + timedelta(hours=draw(st.integers(1, 400)))
        order = replace(order, cancelled_at=at, financial_status=FinancialStatus.VOIDED)
    elif fate.startswith("refund"):
        later = created + timedelta(days=draw(st.integers(1, 45)))
        part = (subtotal / 2).quantize(Decimal("0.01"))
        refunds = [Refund(id=f"r{n}a", amount=Money(part, currency), created_at=later, lines=())]
        status = FinancialStatus.PARTIALLY_REFUNDED
        if fate == "refunds":
            second = later + timedelta(days=draw(st.integers(0, 10)))
            refunds.append(
                Refund(f"r{n}b", Money(subtotal - part, currency), created_at=second, lines=())
            )
            status = FinancialStatus.REFUNDED
        order = replace(order, refunds=tuple(refunds), financial_status=status)
    return HistoryOrder(order, SourceRef("prop", n), fulfilled)


@st.composite
def histories(draw: st.DrawFn) -> list[HistoryOrder]:
    size = draw(st.integers(1, 16))
    drawn = [draw(orders(n)) for n in range(size)]
    return sorted(drawn, key=lambda h: h.order.created_at)


def _run(config: ShopConfig, history: list[HistoryOrder], batch: bool) -> tuple[list[Any], object]:
    records: list[object] = []
    feed: object = history
    options = {}
    if batch:
        feed, options["candidates"] = prefilter(config, history, chunk_size=5)
    result = replay_module.replay(
        config,
        feed,
        code_secret=SECRET,
        redemption_rate=Decimal("0.5"),
        on_step=records.append,
        **options,
    )
    return records, result


def _outcomes(record: object) -> list[tuple[object, ...]]:
    """An outcome as the replay records it, without its wording (a skipped campaign's detail
    says that the pre-filter ruled it out)."""
    return [(o.campaign_id, o.fired, o.reason, o.variant) for o in record.decision.outcomes]  # type: ignore[attr-defined]


@pytest.mark.slow
@PROPERTY
@given(configs(), histories())
def test_batch_and_per_order_decisions_are_identical(
    config: ShopConfig, history: list[HistoryOrder]
) -> None:
    # given the replay deciding every campaign for every event
    full, whole = _run(config, history, batch=False)
    # when the batch pre-filter names the candidates
    batched, part = _run(config, history, batch=True)
    # then every step is the same decision: the same campaigns fire with the same actions for
    # the same reasons, budgets run out at the same order, refunds take back the same
    assert len(batched) == len(full)
    for a, b in zip(batched, full, strict=True):
        assert (a.order_id, a.kind, a.ref, a.at) == (b.order_id, b.kind, b.ref, b.at)
        assert a.decision.actions == b.decision.actions
        assert _outcomes(a) == _outcomes(b)
        fired = [o for o in a.decision.outcomes if o.fired]
        assert fired == [o for o in b.decision.outcomes if o.fired]
    # and the report's figures are the same
    assert part == whole
