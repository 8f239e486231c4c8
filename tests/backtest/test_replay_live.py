"""The backtest decides as the live service decides: the property of issue 15, step 2.

Slow (hypothesis runs each over many drawn shops and histories): not in the fast loop.

Hypothesis draws a shop's campaigns (limits per customer, cooldowns, usage limits, money budgets
per day, week, month or in total, exclusive groups, A/B splits with holdouts, margin guards,
refund policies, every trigger) and a history of orders (repeat customers, guests, refunds weeks
later, cancellations, unpaid orders). The replay runs over the history; the live path, the
service's ``Processor`` on the memory store, gets the same events in the same time order with
its clock set to each event's time. Every step both decide must be the same decision, and what
stays booked in the live ledger must be what the backtest counts as cost after take-backs.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aftersale_kit.backtest.history import HistoryOrder, SourceRef
from aftersale_kit.backtest.ordering import in_time_order
from aftersale_kit.backtest.replay import StepRecord, replay
from aftersale_kit.backtest.result import LoyaltyFigures
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
    SecretRef,
    ShopConfig,
    ShopSettings,
    ShowBlock,
    Split,
)
from aftersale_kit.core.conditions import compile_condition
from aftersale_kit.core.decision import Reason
from aftersale_kit.core.loyalty.actions import AwardPoints, Stamp
from aftersale_kit.core.loyalty.ledger import MovementKind
from aftersale_kit.core.loyalty.program import (
    Earn,
    Expiry,
    GuestPolicy,
    LoyaltyProgram,
    StampCard,
    account_key,
)
from aftersale_kit.core.loyalty.stamps import RewardStatus
from aftersale_kit.core.model import (
    Customer,
    EventKind,
    FinancialStatus,
    LineItem,
    Order,
    Refund,
)
from aftersale_kit.core.money import Money
from aftersale_kit.service.effects import Processor
from aftersale_kit.service.shops import ShopEntry
from aftersale_kit.storage.memory import MemoryStore

SHOP = "prop-backtest.myshopify.com"
SECRET = "backtest-secret"
T0 = datetime(2026, 1, 26, 9, 0, tzinfo=UTC)
PROPERTY = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

CONDITIONS = [
    compile_condition(text)
    for text in (
        "subtotal >= 40",
        "subtotal < 60",
        "first_order",
        "customer.orders_count >= 2",
        "order.item_count >= 2",
        'any line_items.product_type == "Kaffee"',
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


LOYALTY_ACTIONS: list[Action] = [
    AwardPoints(points=10),
    AwardPoints(multiplier=Decimal(2), product_types=("Kaffee",)),
    Stamp(card="karte"),
]
PROGRAM = LoyaltyProgram(
    currency="EUR",
    earn=Earn(rate=Decimal(1)),
    pending_days=14,
    guests=GuestPolicy.EMAIL,
    expiry=Expiry(lifetime_months=1),
    stamp_cards=(
        StampCard(
            id="karte",
            name="Kaffeekarte",
            stamps=2,
            reward=(IssueCoupon(kind=CouponKind.FIXED_AMOUNT, value=Decimal(4), valid_days=30),),
        ),
    ),
)


@st.composite
def campaigns(draw: st.DrawFn, cid: str, loyalty: bool = False) -> Campaign:
    maybe = st.one_of(st.none(), st.none())
    kinds = ACTIONS + LOYALTY_ACTIONS if loyalty else ACTIONS
    return Campaign(
        id=cid,
        actions=tuple(draw(st.lists(st.sampled_from(kinds), min_size=1, max_size=3))),
        enabled=draw(st.sampled_from([True] * 9 + [False])),
        trigger=draw(st.sampled_from(TRIGGERS)),
        conditions=tuple(draw(st.lists(st.sampled_from(CONDITIONS), max_size=2))),
        priority=draw(st.integers(0, 3)),
        exclusive_group=draw(st.sampled_from([None, None, "g1", "g1", "g2"])),
        per_customer=draw(
            st.one_of(
                st.none(),
                st.builds(
                    PerCustomerLimit,
                    max_uses=st.sampled_from([1, 2, None]),
                    cooldown_days=st.one_of(st.none(), st.integers(1, 20)),
                ),
            )
        ),
        usage_limit=draw(st.one_of(maybe, st.integers(0, 8))),
        budget=draw(
            st.one_of(
                st.none(),
                st.builds(
                    Budget,
                    amount=st.integers(0, 30).map(eur),
                    period=st.sampled_from(list(BudgetPeriod)),
                ),
            )
        ),
        margin_guard=draw(st.one_of(maybe, st.decimals("0.05", "1", places=2).map(MarginGuard))),
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
        on_refund=draw(st.sampled_from(list(RefundPolicy))),
    )


@st.composite
def configs(draw: st.DrawFn) -> ShopConfig:
    n = draw(st.integers(1, 6))
    program = draw(st.sampled_from([None, PROGRAM]))
    return ShopConfig(
        settings=ShopSettings(
            platform="shopify",
            domain=SHOP,
            currency="EUR",
            timezone="Europe/Berlin",
            max_offers_per_order=draw(st.sampled_from([None, 1, 2])),
            secrets=(SecretRef("code_secret", "PROP_CODE_SECRET"),),
        ),
        campaigns=tuple(draw(campaigns(f"c{i}", program is not None)) for i in range(n)),
        loyalty=program,
    )


@st.composite
def orders(draw: st.DrawFn, n: int, counts: dict[str, int]) -> HistoryOrder:
    lines = tuple(
        LineItem(
            id=f"{n}-{i}",
            title="x",
            quantity=draw(st.integers(1, 2)),
            unit_price=eur(draw(st.sampled_from(["9.50", "14.90", "32.00"]))),
            sku=f"S{i}",
            product_type=draw(st.sampled_from(["Kaffee", "Tee"])),
        )
        for i in range(draw(st.integers(1, 3)))
    )
    subtotal = sum((li.total.amount for li in lines), Decimal(0))
    who = draw(st.sampled_from(["a", "b", "c", "guest", "nobody"]))
    customer, email = None, None
    if who in ("a", "b", "c"):
        counts[who] = counts.get(who, 0) + 1
        customer = Customer(id=who, email=f"{who}@example.org", orders_count=counts[who])
        email = customer.email
    elif who == "guest":
        email = "Gast@Example.org"
    created = T0 + timedelta(hours=draw(st.integers(0, 24 * 70)))
    order = Order(
        platform="shopify",
        shop=SHOP,
        id=str(5000 + n),
        number=f"#{n}",
        currency="EUR",
        created_at=created,
        financial_status=FinancialStatus.PAID,
        subtotal=eur(subtotal),
        total=eur(subtotal),
        discounts=eur(0),
        shipping=eur(0),
        tax=eur(0),
        line_items=lines,
        customer=customer,
        email=email,
        paid_at=created + timedelta(minutes=draw(st.sampled_from([0, 5]))),
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
        refunds = [Refund(id=f"r{n}a", amount=eur(part), created_at=later, lines=())]
        status = FinancialStatus.PARTIALLY_REFUNDED
        if fate == "refunds":
            refunds.append(
                Refund(
                    id=f"r{n}b",
                    amount=eur(subtotal - part),
                    created_at=later + timedelta(days=draw(st.integers(0, 10))),
                    lines=(),
                )
            )
            status = FinancialStatus.REFUNDED
        order = replace(order, refunds=tuple(refunds), financial_status=status)
    return HistoryOrder(order, SourceRef("prop", n), fulfilled)


@st.composite
def histories(draw: st.DrawFn) -> list[HistoryOrder]:
    counts: dict[str, int] = {}
    size = draw(st.integers(1, 14))
    drawn = [draw(orders(n, counts)) for n in range(size)]
    # the customers' order counts rise with time, as the platform reports them
    drawn.sort(key=lambda h: h.order.created_at)
    seen: dict[str, int] = {}
    out = []
    for h in drawn:
        customer = h.order.customer
        if customer is not None:
            seen[customer.id] = seen.get(customer.id, 0) + 1
            customer = replace(customer, orders_count=seen[customer.id])
            h = replace(h, order=replace(h.order, customer=customer))
        out.append(h)
    return out


class NoEnrichment:
    """The platform port as far as deciding needs it: the history's orders are complete."""

    def enrich(self, order: Order, fields: frozenset[str]) -> Order:
        return order

    def __getattr__(self, name: str) -> Any:  # pragma: no cover - never reached when deciding
        raise AssertionError(f"the live path called the platform: {name}")


def live_records(config: ShopConfig, history: list[HistoryOrder]) -> tuple[list[StepRecord], Any]:
    """The service's decisions for the history's events, in time order, and its store."""
    entry = ShopEntry(config=config, secrets={"code_secret": SECRET}, _adapter=NoEnrichment())  # type: ignore[arg-type]
    store = MemoryStore()
    clock = {"now": T0}
    processor = Processor(registry=None, store=store, clock=lambda: clock["now"])  # type: ignore[arg-type]
    records = []
    program = config.loyalty
    for event in in_time_order(history):
        clock["now"] = event.at
        account = account_key(event.order, program) if program is not None else None
        if program is not None and account is not None:
            # the worker's loyalty sweeper, as it would have run by then
            store.loyalty_sweep(
                shop=SHOP,
                account=account,
                program=program,
                now=event.at,
                remind_within=timedelta(0),
            )
        for result in processor.process_order(entry, event.order, event.kind, refund=event.refund):
            if result.created:
                r = result.record
                step = StepRecord(r.order_id, r.event_kind, r.ref, r.decided_at, r.decision)
                records.append(step)
    if program is not None and history:
        end = max(e.at for e in in_time_order(history))
        for account in store.loyalty_accounts(SHOP):
            store.loyalty_sweep(
                shop=SHOP, account=account, program=program, now=end, remind_within=timedelta(0)
            )
    return records, store


def backtest_records(
    config: ShopConfig, history: list[HistoryOrder], **options: Any
) -> tuple[list[StepRecord], Any]:
    records: list[StepRecord] = []
    result = replay(
        config,
        history,
        code_secret=SECRET.encode(),
        redemption_rate=Decimal(1),
        on_step=records.append,
        **options,
    )
    return records, result


@pytest.mark.slow
@PROPERTY
@given(configs(), histories())
def test_the_backtest_decides_every_step_as_the_live_service_does(
    config: ShopConfig, history: list[HistoryOrder]
) -> None:
    # given the same orders, in the same time order
    live, store = live_records(config, history)
    # when the backtest replays them
    replayed, result = backtest_records(config, history)
    # then every step is the same decision (counters, budgets, take-backs as live)
    assert replayed == live
    # and what stays booked live is the backtest's cost after take-backs (redemption rate 1)
    booked: dict[str, Decimal] = {}
    for entry in store.ledger(SHOP):
        booked[entry.campaign_id] = booked.get(entry.campaign_id, Decimal(0)) + entry.cost
    for figures in result.campaigns:
        assert figures.expected_cost == booked.get(figures.campaign_id, Decimal(0))
        if figures.budget:
            assert sum((b.spent for b in figures.budget), Decimal(0)) == figures.expected_cost
    # and the loyalty accounts hold what the live ledger holds
    assert result.loyalty == live_loyalty(store)


def live_loyalty(store: MemoryStore) -> LoyaltyFigures:
    """The loyalty figures as the live store's journal and cards hold them."""
    accounts = store.loyalty_accounts(SHOP)
    if not accounts:
        return LoyaltyFigures()
    earned = reversed_ = standing = rewards = 0
    for account in accounts:
        for row in store.loyalty_journal(SHOP, account):
            if row.movement.kind is MovementKind.EARNED_PENDING:
                earned += row.movement.points
            elif row.movement.kind is MovementKind.REVERSED:
                reversed_ += abs(row.movement.points)
        balance = store.loyalty_balance(SHOP, account)
        assert balance is not None
        standing += balance.pending + balance.available
        view = store.loyalty_account(SHOP, account)
        assert view is not None
        rewards += sum(
            1
            for card in view.cards.values()
            for c in card.completions
            if c.status is not RewardStatus.DEACTIVATED
        )
    return LoyaltyFigures(
        accounts=len(accounts),
        points_earned=earned,
        points_reversed=reversed_,
        stamp_rewards=rewards,
        liability=Decimal(0),  # the program has no redemption option to value points with
    )


def holds(config: ShopConfig, order: Order) -> frozenset[str]:
    """The campaigns whose conditions are not false on the order (what a pre-filter keeps)."""
    return frozenset(
        c.id
        for c in config.campaigns
        if all(cond.evaluate(order).value is not False for cond in c.conditions)
    )


@pytest.mark.slow
@PROPERTY
@given(configs(), histories())
def test_a_prefilter_to_the_campaigns_whose_conditions_hold_changes_no_decision(
    config: ShopConfig, history: list[HistoryOrder]
) -> None:
    # given the full decision of every step
    full, whole = backtest_records(config, history)
    # when only the campaigns whose conditions hold are decided
    asked: list[str] = []

    def candidates(order: Order) -> frozenset[str]:
        asked.append(order.id)
        return holds(config, order)

    filtered, part = backtest_records(config, history, candidates=candidates)
    # then the same campaigns fire with the same actions, step by step
    assert len(filtered) == len(full)
    for a, b in zip(filtered, full, strict=True):
        assert (a.order_id, a.kind, a.ref, a.at) == (b.order_id, b.kind, b.ref, b.at)
        assert a.decision.actions == b.decision.actions
        assert [o for o in a.decision.outcomes if o.fired] == [
            o for o in b.decision.outcomes if o.fired
        ]
        # and the campaigns left out are reported as not holding, never as fired
        for x, y in zip(a.decision.outcomes, b.decision.outcomes, strict=True):
            assert x.campaign_id == y.campaign_id
            if x.reason is not y.reason:
                assert x.reason is Reason.CONDITION_FAILED
                assert y.reason in (Reason.CONDITION_FAILED, Reason.FIELD_UNKNOWN)
    # and the figures are the same but for the reasons the pre-filter does not look into
    assert [replace(c, hits={}) for c in part.campaigns] == [
        replace(c, hits={}) for c in whole.campaigns
    ]
    assert (part.contacts, part.loyalty, part.top_orders) == (
        whole.contacts,
        whole.loyalty,
        whole.top_orders,
    )
    # and it was asked only for steps some enabled campaign runs on
    triggers = {c.trigger for c in config.campaigns if c.enabled}
    assert len(asked) == sum(1 for r in full if r.kind in triggers)


def test_a_budget_that_runs_out_mid_month_and_a_later_refund_freeing_it_decide_as_live() -> None:
    # given 10 EUR a month for 5 EUR coupons that a refund takes back
    config = ShopConfig(
        settings=ShopSettings(
            platform="shopify", domain=SHOP, currency="EUR", timezone="Europe/Berlin"
        ),
        campaigns=(
            Campaign(
                id="danke",
                actions=(ACTIONS[0],),
                budget=Budget(amount=eur(10), period=BudgetPeriod.MONTH),
                on_refund=RefundPolicy.REVOKE,
            ),
        ),
    )
    counts: dict[str, int] = {}

    def placed(n: int, day: int, refunded_on: int | None = None) -> HistoryOrder:
        at = datetime(2026, 3, day, 10, 0, tzinfo=UTC)
        order = Order(
            platform="shopify",
            shop=SHOP,
            id=str(n),
            number=f"#{n}",
            currency="EUR",
            created_at=at,
            financial_status=FinancialStatus.PAID,
            subtotal=eur(30),
            total=eur(30),
            discounts=eur(0),
            shipping=eur(0),
            tax=eur(0),
            paid_at=at,
            customer=Customer(id=f"k{n}", orders_count=counts.setdefault(f"k{n}", 1)),
        )
        if refunded_on is not None:
            refund = Refund(
                id=f"r{n}", amount=eur(5), created_at=at.replace(day=refunded_on), lines=()
            )
            order = replace(
                order, refunds=(refund,), financial_status=FinancialStatus.PARTIALLY_REFUNDED
            )
        return HistoryOrder(order, SourceRef("march", n))

    # two coupons use the budget up on the 3rd; the 10th is refused; a refund on the 12th takes
    # the first coupon back; the 20th gets the freed budget; the 25th is refused again
    history = [placed(1, 2, refunded_on=12), placed(2, 3), placed(3, 10), placed(4, 20)]
    history.append(placed(5, 25))
    # when both decide
    live, store = live_records(config, history)
    replayed, result = backtest_records(config, history)
    # then the decisions are the same, step by step
    assert replayed == live
    assert sum((e.cost for e in store.ledger(SHOP)), Decimal(0)) == Decimal(10)
    paid = {r.order_id: r.decision.fired for r in live if r.kind is EventKind.ORDER_PAID}
    assert paid == {"1": ("danke",), "2": ("danke",), "3": (), "4": ("danke",), "5": ()}
    # and March shows the budget spent (two coupons standing) and two refusals
    (danke,) = result.campaigns
    (march,) = danke.budget
    assert (march.spent, march.refused, danke.taken_back) == (Decimal(10), 2, 1)
