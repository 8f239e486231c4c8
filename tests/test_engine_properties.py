"""Properties of the engine over random shops, campaigns and order sequences (hypothesis)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
    ShopConfig,
    ShopSettings,
    ShowBlock,
    Split,
)
from aftersale_kit.core.conditions import TRUE, compile_condition
from aftersale_kit.core.counters import InMemoryCounters
from aftersale_kit.core.decision import Decision
from aftersale_kit.core.engine import budget_period_start, customer_key, decide
from aftersale_kit.core.model import (
    Address,
    Customer,
    EventKind,
    FinancialStatus,
    LineItem,
    Order,
)
from aftersale_kit.core.money import Money

SHOP = "prop.example"
SECRET = b"property-secret"
START = datetime(2024, 11, 25, 8, 0, tzinfo=UTC)
PROPERTY_SETTINGS = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

CONDITIONS = [
    compile_condition(text)
    for text in (
        "subtotal >= 50",
        "subtotal < 80",
        "first_order",
        "not first_order",
        '"vip" in customer.tags',
        'any line_items.product_type == "Kaffee"',
        'all line_items.product_type != "Tee"',
        'shipping_country in ["DE", "AT"]',
        "customer.is_guest",
        "order.item_count >= 2",
        "customer.orders_count >= 2 or subtotal > 90",
    )
]


def eur(amount: Decimal | int | str) -> Money:
    return Money.of(amount, "EUR")


amounts = st.decimals(min_value=1, max_value=200, places=2)

line_items = st.builds(
    lambda n, qty, price, ptype: LineItem(
        id=str(n), title="x", quantity=qty, unit_price=eur(price), sku=f"S{n}", product_type=ptype
    ),
    st.integers(0, 5),
    st.integers(1, 3),
    amounts,
    st.sampled_from(["Kaffee", "Tee", "Tasse", None]),
)

customers = st.one_of(
    st.none(),
    st.builds(
        lambda cid, count, tags: Customer(id=cid, orders_count=count, tags=tags),
        st.sampled_from(["c1", "c2", "c3"]),
        st.one_of(st.none(), st.integers(1, 4)),
        st.one_of(st.none(), st.sampled_from([(), ("vip",)])),
    ),
)


@st.composite
def orders(draw: st.DrawFn, order_id: str = "1") -> Order:
    items = tuple(draw(st.lists(line_items, min_size=0, max_size=3)))
    subtotal = sum((li.total.amount for li in items), Decimal(0))
    return Order(
        platform="shopify",
        shop=SHOP,
        id=order_id,
        number=order_id,
        currency="EUR",
        created_at=START,
        financial_status=FinancialStatus.PAID,
        subtotal=eur(subtotal),
        total=eur(subtotal),
        discounts=eur(0),
        shipping=eur(draw(st.sampled_from(["0", "4.90"]))),
        tax=eur(0),
        line_items=items,
        customer=draw(customers),
        email=draw(st.sampled_from([None, "a@example.de", "B@example.de"])),
        shipping_address=Address(country_code=draw(st.sampled_from(["DE", "AT", "CH"]))),
    )


actions: st.SearchStrategy[Action] = st.sampled_from(
    [
        IssueCoupon(kind=CouponKind.FIXED_AMOUNT, value=Decimal("5"), valid_days=30),
        IssueCoupon(kind=CouponKind.PERCENTAGE, value=Decimal("10"), valid_days=30),
        IssueCoupon(kind=CouponKind.FREE_SHIPPING, value=Decimal(0), valid_days=30),
        IssueCoupon(kind=CouponKind.FIXED_AMOUNT, value=Decimal("3"), valid_days=9, variant="B"),
        FreeGift(note="Probe", cost=Decimal("2")),
        ShowBlock(block="thank_you"),
    ]
)


@st.composite
def campaigns(draw: st.DrawFn, cid: str) -> Campaign:
    return Campaign(
        id=cid,
        actions=tuple(draw(st.lists(actions, min_size=1, max_size=3))),
        enabled=draw(st.sampled_from([True] * 9 + [False])),
        trigger=draw(st.sampled_from([EventKind.ORDER_PAID] * 9 + [EventKind.ORDER_CREATED])),
        conditions=tuple(draw(st.lists(st.sampled_from(CONDITIONS), max_size=1))),
        priority=draw(st.integers(0, 3)),
        exclusive_group=draw(st.sampled_from([None, "g1", "g1", "g2"])),
        per_customer=draw(
            st.one_of(
                st.none(),
                st.builds(
                    PerCustomerLimit,
                    max_uses=st.sampled_from([1, 1, 2, None]),
                    cooldown_days=st.one_of(st.none(), st.none(), st.integers(1, 3)),
                ),
            )
        ),
        usage_limit=draw(st.one_of(st.none(), st.none(), st.integers(0, 6))),
        budget=draw(
            st.one_of(
                st.none(),
                st.builds(
                    Budget,
                    amount=st.integers(0, 40).map(eur),
                    period=st.sampled_from([BudgetPeriod.DAY, BudgetPeriod.TOTAL]),
                ),
            )
        ),
        margin_guard=draw(
            st.one_of(
                st.none(), st.none(), st.none(), st.decimals("0.05", "1", places=2).map(MarginGuard)
            )
        ),
        split=draw(
            st.one_of(
                st.none(),
                st.builds(
                    Split,
                    variants=st.just((("A", 1), ("B", 1))),
                    holdout=st.decimals("0", "0.3", places=1),
                ),
            )
        ),
    )


@st.composite
def configs(draw: st.DrawFn) -> ShopConfig:
    n = draw(st.integers(1, 6))
    return ShopConfig(
        settings=ShopSettings(
            platform="shopify",
            domain=SHOP,
            currency="EUR",
            timezone="Europe/Berlin",
            max_offers_per_order=draw(st.sampled_from([None, 1, 2])),
        ),
        campaigns=tuple(draw(campaigns(f"c{i}")) for i in range(n)),
    )


def _decide(
    cfg: ShopConfig, order: Order, counters: InMemoryCounters, now: datetime = START
) -> Decision:
    return decide(
        cfg, order, event=EventKind.ORDER_PAID, counters=counters, now=now, code_secret=SECRET
    )


def _is_offer(campaign: Campaign, variant: str | None) -> bool:
    return any(
        isinstance(a, IssueCoupon | FreeGift) and (a.variant is None or a.variant == variant)
        for a in campaign.actions
    )


@pytest.mark.slow
@PROPERTY_SETTINGS
@given(configs(), orders())
def test_the_decision_is_deterministic(cfg: ShopConfig, order: Order) -> None:
    assert _decide(cfg, order, InMemoryCounters()) == _decide(cfg, order, InMemoryCounters())


@pytest.mark.slow
@PROPERTY_SETTINGS
@given(configs(), orders())
def test_one_outcome_per_campaign_and_fired_means_every_check_passed(
    cfg: ShopConfig, order: Order
) -> None:
    decision = _decide(cfg, order, InMemoryCounters())
    assert [o.campaign_id for o in decision.outcomes] == [c.id for c in cfg.campaigns]
    by_id = {c.id: c for c in cfg.campaigns}
    for outcome in decision.outcomes:
        campaign = by_id[outcome.campaign_id]
        if not outcome.fired:
            assert not any(p.campaign_id == campaign.id for p in decision.actions)
            continue
        # no campaign fires unless it is enabled, on this event, and every condition is true
        assert campaign.enabled and campaign.trigger is EventKind.ORDER_PAID
        assert all(c.evaluate(order) == TRUE for c in campaign.conditions)
        assert any(p.campaign_id == campaign.id for p in decision.actions)
    # an exclusive group has at most one fired campaign
    groups = Counter(
        by_id[cid].exclusive_group for cid in decision.fired if by_id[cid].exclusive_group
    )
    assert all(n == 1 for n in groups.values())
    # the contact limit holds
    cap = cfg.settings.max_offers_per_order
    offers = [
        o for o in decision.outcomes if o.fired and _is_offer(by_id[o.campaign_id], o.variant)
    ]
    assert cap is None or len(offers) <= cap


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    configs(),
    st.lists(st.tuples(orders(), st.integers(0, 30)), min_size=1, max_size=12),
)
def test_limits_and_budgets_hold_over_a_sequence_of_orders(
    cfg: ShopConfig, sequence: list[tuple[Order, int]]
) -> None:
    counters = InMemoryCounters()
    now = START
    fired_at: dict[tuple[str, str], list[datetime]] = {}
    for n, (drawn, hours_later) in enumerate(sequence):
        order = Order(
            **{**{f: getattr(drawn, f) for f in drawn.__dataclass_fields__}, "id": str(n)}
        )
        now += timedelta(hours=hours_later)
        decision = _decide(cfg, order, counters, now)
        counters.record(decision, order)
        key = customer_key(order)
        for campaign in cfg.campaigns:
            limited = campaign.per_customer is not None and (
                campaign.per_customer.max_uses is not None
                or campaign.per_customer.cooldown_days is not None
            )
            # a per-customer limit that cannot be checked (no customer key) does not fire
            if limited and key is None:
                assert campaign.id not in decision.fired
            if campaign.id in decision.fired and key is not None:
                fired_at.setdefault((campaign.id, key), []).append(now)
            # usage limit
            if campaign.usage_limit is not None:
                assert counters.usage_count(SHOP, campaign.id) <= campaign.usage_limit
            # budget in the current period (and in total)
            if campaign.budget is not None:
                since = budget_period_start(campaign.budget.period, now, "Europe/Berlin")
                assert counters.spent(SHOP, campaign.id, since) <= campaign.budget.amount.amount
    # per-customer limit and cooldown
    by_id = {c.id: c for c in cfg.campaigns}
    for (cid, _key), times in fired_at.items():
        limit = by_id[cid].per_customer
        if limit is None:
            continue
        if limit.max_uses is not None:
            assert len(times) <= limit.max_uses
        if limit.cooldown_days is not None:
            gaps = [b - a for a, b in pairwise(times)]
            assert all(gap >= timedelta(days=limit.cooldown_days) for gap in gaps)


@st.composite
def repeat_customer_configs(draw: st.DrawFn) -> ShopConfig:
    """Campaigns that always pass their other checks, each with a per-customer limit."""
    limits = st.builds(
        PerCustomerLimit,
        max_uses=st.sampled_from([None, 1, 2, 3]),
        cooldown_days=st.sampled_from([None, 1, 2, 5]),
    ).filter(lambda lim: lim.max_uses is not None or lim.cooldown_days is not None)
    n = draw(st.integers(1, 3))
    return ShopConfig(
        settings=ShopSettings(platform="shopify", domain=SHOP, currency="EUR"),
        campaigns=tuple(
            Campaign(id=f"c{i}", actions=(ShowBlock(block="thank_you"),), per_customer=draw(limits))
            for i in range(n)
        ),
    )


@settings(max_examples=40, deadline=None)
@given(
    repeat_customer_configs(),
    st.lists(
        st.tuples(st.sampled_from(["c1", "c2", None]), st.integers(0, 60)), min_size=2, max_size=15
    ),
)
def test_per_customer_limits_hold_for_repeat_customers(
    cfg: ShopConfig, visits: list[tuple[str | None, int]]
) -> None:
    counters = InMemoryCounters()
    now = START
    fired_at: dict[tuple[str, str], list[datetime]] = {}
    for n, (cid, hours_later) in enumerate(visits):
        now += timedelta(hours=hours_later)
        order = Order(
            platform="shopify",
            shop=SHOP,
            id=str(n),
            number=str(n),
            currency="EUR",
            created_at=now,
            financial_status=FinancialStatus.PAID,
            subtotal=eur(10),
            total=eur(10),
            discounts=eur(0),
            shipping=eur(0),
            tax=eur(0),
            customer=Customer(id=cid) if cid else None,
            email="guest@example.de",
        )
        decision = _decide(cfg, order, counters, now)
        counters.record(decision, order)
        key = customer_key(order)
        assert key is not None
        for campaign_id in decision.fired:
            fired_at.setdefault((campaign_id, key), []).append(now)
    by_id = {c.id: c for c in cfg.campaigns}
    for (campaign_id, _key), times in fired_at.items():
        limit = by_id[campaign_id].per_customer
        assert limit is not None
        if limit.max_uses is not None:
            assert len(times) <= limit.max_uses
        if limit.cooldown_days is not None:
            assert all(b - a >= timedelta(days=limit.cooldown_days) for a, b in pairwise(times))
    # and the limits do bite: someone got something
    assert fired_at
