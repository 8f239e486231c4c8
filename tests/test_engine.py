"""The decision engine: every reason a campaign does or does not fire, costs, limits and keys."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

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
    TagOrder,
    Window,
)
from aftersale_kit.core.codes import coupon_code
from aftersale_kit.core.conditions import compile_condition
from aftersale_kit.core.counters import InMemoryCounters
from aftersale_kit.core.decision import Decision, Reason
from aftersale_kit.core.engine import (
    action_cost,
    assign_variant,
    budget_period_start,
    customer_key,
    decide,
    enrichment_fields,
    order_margin,
    required_fields,
)
from aftersale_kit.core.model import (
    Customer,
    EventKind,
    FinancialStatus,
    LineItem,
    Order,
)
from aftersale_kit.core.money import Money
from aftersale_kit.core.ports import CustomerUsage

SHOP = "kaffee.example"
SECRET = b"engine-test-secret"
NOW = datetime(2024, 11, 29, 12, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


def eur(amount: str | int) -> Money:
    return Money.of(amount, "EUR")


def make_order(
    order_id: str = "1001", *, customer: Customer | None = None, **changes: object
) -> Order:
    base = Order(
        platform="shopify",
        shop=SHOP,
        id=order_id,
        number=f"#{order_id}",
        currency="EUR",
        created_at=NOW - timedelta(minutes=5),
        financial_status=FinancialStatus.PAID,
        subtotal=eur("100.00"),
        total=eur("104.90"),
        discounts=eur("0"),
        shipping=eur("4.90"),
        tax=eur("16.75"),
        line_items=(
            LineItem(id="1", title="Bohnen", quantity=2, unit_price=eur("30.00"), sku="BOHNE"),
            LineItem(id="2", title="Tasse", quantity=1, unit_price=eur("40.00"), sku="TASSE"),
        ),
        customer=customer if customer is not None else Customer(id="c-1", orders_count=1),
        email="anna@example.de",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def settings(**changes: object) -> ShopSettings:
    base = ShopSettings(platform="shopify", domain=SHOP, currency="EUR", timezone="Europe/Berlin")
    return replace(base, **changes)  # type: ignore[arg-type]


COUPON = IssueCoupon(kind=CouponKind.FIXED_AMOUNT, value=Decimal("5"), valid_days=30)
BLOCK = ShowBlock(block="thank_you")


def campaign(
    cid: str, *actions: Action, conditions: tuple[str, ...] = (), **kw: object
) -> Campaign:
    return Campaign(
        id=cid,
        actions=actions or (COUPON,),
        conditions=tuple(compile_condition(c) for c in conditions),
        **kw,  # type: ignore[arg-type]
    )


def config(*campaigns: Campaign, **settings_changes: object) -> ShopConfig:
    return ShopConfig(settings=settings(**settings_changes), campaigns=campaigns)


@dataclass
class PresetCounters:
    """A hand-written fake of the Counters port with fixed values; remembers what it was asked."""

    usage: dict[str, int] = field(default_factory=dict)
    customers: dict[tuple[str, str], CustomerUsage] = field(default_factory=dict)
    spending: dict[str, Decimal] = field(default_factory=dict)
    asked_since: list[datetime | None] = field(default_factory=list)

    def usage_count(self, shop: str, campaign_id: str) -> int:
        return self.usage.get(campaign_id, 0)

    def customer_usage(self, shop: str, campaign_id: str, customer_key: str) -> CustomerUsage:
        return self.customers.get((campaign_id, customer_key), CustomerUsage())

    def spent(self, shop: str, campaign_id: str, since: datetime | None) -> Decimal:
        self.asked_since.append(since)
        return self.spending.get(campaign_id, Decimal(0))


def run(
    cfg: ShopConfig,
    o: Order | None = None,
    *,
    counters: object = None,
    event: EventKind = EventKind.ORDER_PAID,
    now: datetime = NOW,
) -> Decision:
    return decide(
        cfg,
        o or make_order(),
        event=event,
        counters=counters or InMemoryCounters(),  # type: ignore[arg-type]
        now=now,
        code_secret=SECRET,
    )


def outcome(decision: Decision, cid: str) -> tuple[bool, Reason, str]:
    found = decision.outcome(cid)
    assert found is not None
    return found.fired, found.reason, found.detail


# -- the order of checks ------------------------------------------------------------------------


def test_one_outcome_per_campaign_in_file_order() -> None:
    cfg = config(campaign("low", priority=1), campaign("high", priority=9), campaign("mid"))
    d = run(cfg)
    assert [o.campaign_id for o in d.outcomes] == ["low", "high", "mid"]
    assert d.shop == SHOP and d.order_id == "1001" and d.decided_at == NOW
    assert d.event is EventKind.ORDER_PAID


def test_disabled_and_other_trigger() -> None:
    cfg = config(
        campaign("off", enabled=False, conditions=("order.test",)),
        campaign("created", trigger=EventKind.ORDER_CREATED),
    )
    d = run(cfg)
    assert outcome(d, "off") == (False, Reason.DISABLED, "the campaign is disabled")
    assert outcome(d, "created") == (
        False,
        Reason.OTHER_TRIGGER,
        "runs on order_created, this event is order_paid",
    )


def test_window_starts_inclusive_and_ends_exclusive() -> None:
    start = datetime(2024, 11, 29, 0, 0, tzinfo=BERLIN)
    end = datetime(2024, 12, 2, 0, 0, tzinfo=BERLIN)
    cfg = config(campaign("bf", window=Window(starts_at=start, ends_at=end)))
    assert run(cfg, now=start).fired == ("bf",)
    assert run(cfg, now=end - timedelta(microseconds=1)).fired == ("bf",)
    assert outcome(run(cfg, now=end), "bf") == (
        False,
        Reason.OUTSIDE_WINDOW,
        "ended at 2024-12-02 00:00 CET",
    )
    assert outcome(run(cfg, now=start - timedelta(seconds=1)), "bf") == (
        False,
        Reason.OUTSIDE_WINDOW,
        "starts at 2024-11-29 00:00 CET",
    )


def test_conditions_name_the_first_false_one() -> None:
    cfg = config(campaign("c", conditions=("subtotal >= 50", "first_order", "order.test")))
    o = make_order(customer=Customer(id="c-1", orders_count=3))
    assert outcome(run(cfg, o), "c") == (
        False,
        Reason.CONDITION_FAILED,
        "condition 2 `first_order` is false",
    )


def test_an_unknown_field_is_named_with_what_to_do() -> None:
    cfg = config(campaign("c", conditions=("first_order", "subtotal >= 50")))
    o = make_order(customer=Customer(id="c-1", orders_count=None))
    assert outcome(run(cfg, o), "c") == (
        False,
        Reason.FIELD_UNKNOWN,
        "condition 1 `first_order`: unknown field customer.orders_count "
        "(not in the webhook; needs enrichment)",
    )
    cfg = config(campaign("m", conditions=("customer.accepts_marketing",)))
    assert outcome(run(cfg, o), "m")[2] == (
        "condition 1 `customer.accepts_marketing`: unknown field customer.accepts_marketing "
        "(the platform did not send it)"
    )


def test_a_false_condition_beats_an_earlier_unknown_one() -> None:
    cfg = config(campaign("c", conditions=("first_order", "subtotal >= 500")))
    o = make_order(customer=Customer(id="c-1", orders_count=None))
    assert outcome(run(cfg, o), "c")[1:] == (
        Reason.CONDITION_FAILED,
        "condition 2 `subtotal >= 500` is false",
    )


def test_a_guest_is_not_a_first_order_customer_and_the_reason_says_so() -> None:
    cfg = config(campaign("welcome", conditions=("first_order",)))
    guest = replace(make_order(), customer=None)
    assert outcome(run(cfg, guest), "welcome") == (
        False,
        Reason.CONDITION_FAILED,
        "condition 1 `first_order` is false (guest order: no customer account)",
    )


def test_fired_outcome_lists_actions_and_cost() -> None:
    cfg = config(campaign("c", COUPON, BLOCK))
    d = run(cfg)
    fired, reason, detail = outcome(d, "c")
    code = d.actions[0].coupon_code
    assert (fired, reason) == (True, Reason.FIRED)
    assert detail == f"fired: coupon {code} (5.00 EUR off); block 'thank_you'; offer cost 5.00 EUR"


# -- split and holdout --------------------------------------------------------------------------


def _customers(n: int) -> list[Order]:
    return [make_order(f"o{i}", customer=Customer(id=f"c{i}")) for i in range(n)]


@pytest.mark.slow
def test_holdout_share_gets_nothing() -> None:
    cfg = config(campaign("ab", split=Split(holdout=Decimal("0.1"))))
    reasons = Counter(run(cfg, o).outcomes[0].reason for o in _customers(2000))
    assert 150 <= reasons[Reason.HOLDOUT] <= 250
    assert reasons[Reason.FIRED] == 2000 - reasons[Reason.HOLDOUT]
    held = next(o for o in _customers(100) if not run(cfg, o).fired)
    assert outcome(run(cfg, held), "ab") == (False, Reason.HOLDOUT, "holdout group (10%)")


def test_variants_by_weight_only_carry_their_actions() -> None:
    # given two variants weighted 3:1 with one coupon each and a block for everyone
    a = replace(COUPON, variant="A", code_prefix="A")
    b = replace(COUPON, value=Decimal("10"), variant="B", code_prefix="B")
    cfg = config(campaign("ab", a, b, BLOCK, split=Split(variants=(("A", 3), ("B", 1)))))
    variants: Counter[str | None] = Counter()
    for o in _customers(2000):
        d = run(cfg, o)
        variant = d.outcomes[0].variant
        variants[variant] += 1
        # then each customer gets the coupon of their own variant and the shared block
        kept = [p.action for p in d.actions]
        assert kept == [a if variant == "A" else b, BLOCK]
        assert [p.idempotency_key.rsplit(":", 1)[1] for p in d.actions] == (
            ["0", "2"] if variant == "A" else ["1", "2"]
        )
    assert 1400 <= variants["A"] <= 1600 and variants["A"] + variants["B"] == 2000


def test_the_variant_is_stable_per_customer_and_independent_of_the_order() -> None:
    split = Split(variants=(("A", 1), ("B", 1)), holdout=Decimal("0.2"))
    first = assign_variant(split, shop=SHOP, campaign_id="ab", key="c-42")
    again = assign_variant(split, shop=SHOP, campaign_id="ab", key="c-42")
    assert first == again
    cfg = config(campaign("ab", split=split))
    customer = Customer(id="c-42")
    seen = {run(cfg, make_order(str(n), customer=customer)).outcomes[0].variant for n in range(20)}
    assert len(seen) == 1


def test_no_actions_for_the_variant() -> None:
    only_b = replace(COUPON, variant="B")
    cfg = config(campaign("ab", only_b, split=Split(variants=(("A", 1), ("B", 0)))))
    assert outcome(run(cfg), "ab") == (
        False,
        Reason.NO_ACTIONS,
        "the campaign has no actions in variant 'A'",
    )


# -- per-customer limits, cooldown, usage limit --------------------------------------------------


def test_per_customer_limit_counts_booked_decisions() -> None:
    cfg = config(campaign("once", per_customer=PerCustomerLimit(max_uses=1)))
    counters = InMemoryCounters()
    first = make_order("1")
    d1 = run(cfg, first, counters=counters)
    counters.record(d1, first)
    d2 = run(cfg, make_order("2"), counters=counters)
    assert d1.fired == ("once",)
    assert outcome(d2, "once") == (
        False,
        Reason.CUSTOMER_LIMIT,
        "this customer already got this campaign 1 time(s) (limit 1 per customer)",
    )
    other = make_order("3", customer=Customer(id="c-2"))
    assert run(cfg, other, counters=counters).fired == ("once",)


def test_guests_are_recognised_by_lower_case_email() -> None:
    cfg = config(campaign("once", per_customer=PerCustomerLimit(max_uses=1)))
    counters = InMemoryCounters()
    first = replace(make_order("1"), customer=None, email="Anna@Example.DE")
    assert customer_key(first) == "email:anna@example.de"
    counters.record(run(cfg, first, counters=counters), first)
    second = replace(make_order("2"), customer=None, email=" anna@example.de ")
    assert outcome(run(cfg, second, counters=counters), "once")[1] is Reason.CUSTOMER_LIMIT


def test_a_guest_without_email_cannot_be_limited() -> None:
    cfg = config(
        campaign("once", per_customer=PerCustomerLimit(max_uses=1)),
        campaign("free"),
    )
    anonymous = replace(make_order(), customer=None, email=None)
    d = run(cfg, anonymous)
    assert outcome(d, "once") == (
        False,
        Reason.CUSTOMER_LIMIT,
        "the per-customer limit cannot be checked: guest order without e-mail address",
    )
    assert d.fired == ("free",)


def test_cooldown_between_two_offers_to_one_customer() -> None:
    cfg = config(campaign("cool", per_customer=PerCustomerLimit(cooldown_days=30)))
    counters = PresetCounters(
        customers={("cool", "c-1"): CustomerUsage(count=1, last_at=NOW - timedelta(days=10))}
    )
    assert outcome(run(cfg, counters=counters), "cool") == (
        False,
        Reason.COOLDOWN,
        "last offer to this customer on 2024-11-19; the cooldown of 30 days runs until "
        "2024-12-19 12:00 UTC",
    )
    assert run(cfg, counters=counters, now=NOW + timedelta(days=20)).fired == ("cool",)


def test_usage_limit_over_all_customers() -> None:
    cfg = config(campaign("first100", usage_limit=100))
    assert run(cfg, counters=PresetCounters(usage={"first100": 99})).fired == ("first100",)
    assert outcome(run(cfg, counters=PresetCounters(usage={"first100": 100})), "first100") == (
        False,
        Reason.USAGE_LIMIT,
        "usage limit reached: fired 100 of 100 times",
    )


# -- costs, margin guard, budget ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        (COUPON, "5.00"),
        (IssueCoupon(kind=CouponKind.PERCENTAGE, value=Decimal("15"), valid_days=30), "15.00"),
        (IssueCoupon(kind=CouponKind.PERCENTAGE, value=Decimal("3.33"), valid_days=30), "3.33"),
        (IssueCoupon(kind=CouponKind.FREE_SHIPPING, value=Decimal(0), valid_days=30), "4.90"),
        (
            IssueCoupon(
                kind=CouponKind.FREE_SHIPPING,
                value=Decimal(0),
                valid_days=30,
                estimated_value=Decimal("6.50"),
            ),
            "6.50",
        ),
        (FreeGift(note="Probe Espresso", cost=Decimal("2.40")), "2.40"),
        (BLOCK, "0.00"),
        (TagOrder(tag="vip"), "0.00"),
    ],
)
def test_action_costs(action: Action, expected: str) -> None:
    cost = action_cost(action, make_order(), settings())
    assert cost == Money(Decimal(expected), "EUR").rounded()
    assert cost.currency == "EUR"


def test_percentage_cost_is_rounded_half_up_to_cents() -> None:
    coupon = IssueCoupon(kind=CouponKind.PERCENTAGE, value=Decimal("10"), valid_days=30)
    o = replace(make_order(), subtotal=eur("59.95"))
    assert action_cost(coupon, o, settings()).amount == Decimal("6.00")


def test_margin_uses_product_costs_then_the_default_margin() -> None:
    # given the beans cost 12.00 per unit and the cup has no cost on file (30% default margin)
    s = settings(product_costs=(("BOHNE", Decimal("12.00")),))
    # then margin = 2 * (30 - 12) + 1 * 40 * 0.30
    assert order_margin(make_order(), s).amount == Decimal("48.00")


def test_gift_cards_carry_no_margin() -> None:
    card = LineItem(id="g", title="Gutschein", quantity=1, unit_price=eur("50"), gift_card=True)
    o = replace(make_order(), line_items=(card,))
    assert order_margin(o, settings()).amount == 0


def test_margin_guard() -> None:
    # given a margin of 30.00 (default 30% of 100.00) and a guard of 20%: at most 6.00
    guard = MarginGuard(max_share=Decimal("0.2"))
    cheap = campaign("cheap", replace(COUPON, value=Decimal("6")), margin_guard=guard)
    dear = campaign("dear", replace(COUPON, value=Decimal("6.01")), margin_guard=guard)
    d = run(config(cheap, dear))
    assert d.fired == ("cheap",)
    assert outcome(d, "dear") == (
        False,
        Reason.MARGIN_GUARD,
        "the offer costs 6.01 EUR, more than 20% of this order's margin 30.00 EUR "
        "(at most 6.00 EUR)",
    )


def test_budget_exhausted_names_spent_and_cost() -> None:
    budget = Budget(amount=eur("2000"), period=BudgetPeriod.MONTH)
    cfg = config(campaign("b", replace(COUPON, value=Decimal("25")), budget=budget))
    counters = PresetCounters(spending={"b": Decimal("1990")})
    assert outcome(run(cfg, counters=counters), "b") == (
        False,
        Reason.BUDGET_EXHAUSTED,
        "budget 2000.00 EUR per month exhausted: 1990.00 EUR spent, this offer costs 25.00 EUR",
    )
    assert counters.asked_since == [datetime(2024, 11, 1, tzinfo=BERLIN)]
    # exactly reaching the budget is allowed
    assert run(cfg, counters=PresetCounters(spending={"b": Decimal("1975")})).fired == ("b",)


def test_total_budget() -> None:
    budget = Budget(amount=eur("10"), period=BudgetPeriod.TOTAL)
    cfg = config(campaign("b", replace(COUPON, value=Decimal("25")), budget=budget))
    counters = PresetCounters()
    assert outcome(run(cfg, counters=counters), "b")[2] == (
        "budget 10.00 EUR in total exhausted: 0.00 EUR spent, this offer costs 25.00 EUR"
    )
    assert counters.asked_since == [None]


@pytest.mark.parametrize(
    ("period", "now", "start"),
    [
        # 23:30 UTC on 31 March is already 1 April in Berlin (CEST, +02:00)
        (BudgetPeriod.DAY, datetime(2024, 3, 31, 23, 30, tzinfo=UTC), (2024, 4, 1)),
        (BudgetPeriod.WEEK, datetime(2024, 3, 31, 23, 30, tzinfo=UTC), (2024, 4, 1)),
        (BudgetPeriod.MONTH, datetime(2024, 3, 31, 23, 30, tzinfo=UTC), (2024, 4, 1)),
        (BudgetPeriod.QUARTER, datetime(2024, 3, 31, 23, 30, tzinfo=UTC), (2024, 4, 1)),
        (BudgetPeriod.YEAR, datetime(2024, 3, 31, 23, 30, tzinfo=UTC), (2024, 1, 1)),
        (BudgetPeriod.DAY, datetime(2024, 3, 31, 21, 30, tzinfo=UTC), (2024, 3, 31)),
        # ISO weeks start on Monday: Sunday 1 Dec 2024 belongs to the week of 25 Nov
        (BudgetPeriod.WEEK, datetime(2024, 12, 1, 12, tzinfo=UTC), (2024, 11, 25)),
        (BudgetPeriod.QUARTER, datetime(2024, 12, 31, 12, tzinfo=UTC), (2024, 10, 1)),
        (BudgetPeriod.QUARTER, datetime(2024, 2, 29, 12, tzinfo=UTC), (2024, 1, 1)),
        (BudgetPeriod.YEAR, datetime(2024, 12, 31, 23, 30, tzinfo=UTC), (2025, 1, 1)),
    ],
)
def test_budget_periods_are_calendar_periods_in_the_shop_timezone(
    period: BudgetPeriod, now: datetime, start: tuple[int, int, int]
) -> None:
    got = budget_period_start(period, now, "Europe/Berlin")
    assert got == datetime(*start, tzinfo=BERLIN)
    assert got is not None and got <= now


def test_budget_counts_what_this_decision_already_granted() -> None:
    # given the same campaign twice in one file (a loader would refuse it; the engine still holds)
    budget = Budget(amount=eur("8"), period=BudgetPeriod.DAY)
    twin = campaign("b", budget=budget)
    d = run(config(twin, twin))
    assert [o.fired for o in d.outcomes] == [True, False]
    assert d.outcomes[1].reason is Reason.BUDGET_EXHAUSTED
    assert "5.00 EUR spent" in d.outcomes[1].detail


# -- exclusive groups and the contact limit -----------------------------------------------------


def test_exclusive_group_highest_priority_wins() -> None:
    cfg = config(
        campaign("welcome", priority=10, exclusive_group="thank-you"),
        campaign("vip-presale", priority=20, exclusive_group="thank-you"),
        campaign("other-group", priority=5, exclusive_group="other"),
    )
    d = run(cfg)
    assert set(d.fired) == {"vip-presale", "other-group"}
    assert outcome(d, "welcome") == (
        False,
        Reason.LOST_TO_PRIORITY,
        "lost to campaign 'vip-presale' (priority 20) in exclusive group 'thank-you'",
    )


def test_exclusive_group_tie_goes_to_file_order_and_losers_leave_room() -> None:
    # given the file's first campaign of the group cannot fire (condition false)
    cfg = config(
        campaign("a", exclusive_group="g", conditions=("order.test",)),
        campaign("b", exclusive_group="g"),
        campaign("c", exclusive_group="g"),
    )
    d = run(cfg)
    assert d.fired == ("b",)
    assert "lost to campaign 'b' (priority 0)" in outcome(d, "c")[2]


def test_contact_limit_counts_offers_only_by_priority() -> None:
    cfg = config(
        campaign("block", BLOCK, priority=50),
        campaign("small", priority=1),
        campaign("big", priority=30),
        campaign("gift", FreeGift(note="Probe"), priority=2),
        max_offers_per_order=1,
    )
    d = run(cfg)
    assert set(d.fired) == {"block", "big"}
    assert outcome(d, "small") == (
        False,
        Reason.CONTACT_LIMIT,
        "contact limit of 1 offer(s) per order reached (already: 'big')",
    )
    assert outcome(d, "gift")[1] is Reason.CONTACT_LIMIT


# -- planned actions ----------------------------------------------------------------------------


def test_planned_actions_carry_idempotency_keys_costs_and_codes() -> None:
    second = replace(COUPON, value=Decimal("7"), code_prefix="danke")
    cfg = config(campaign("c", BLOCK, COUPON, second, TagOrder(tag="x")))
    d = run(cfg)
    keys = [p.idempotency_key for p in d.actions]
    assert keys == [f"{SHOP}:1001:c:{i}" for i in range(4)]
    assert [p.cost.amount for p in d.actions] == [Decimal(0), Decimal("5.00"), Decimal("7.00"), 0]
    codes = [p.coupon_code for p in d.actions]
    first = coupon_code(secret=SECRET, shop=SHOP, order_id="1001", campaign_id="c")
    assert codes[0] is None and codes[3] is None
    assert codes[1] == first
    assert codes[2] is not None and codes[2].startswith("DANKE-") and codes[2][6:] != first


def test_decisions_are_deterministic() -> None:
    cfg = config(
        campaign("a", split=Split(variants=(("A", 1), ("B", 1)), holdout=Decimal("0.3"))),
        campaign("b", exclusive_group="g", priority=3),
        campaign("c", exclusive_group="g", priority=3),
    )
    assert run(cfg) == run(cfg)


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        run(config(campaign("a")), now=datetime(2024, 1, 1))


# -- fields the campaigns need ------------------------------------------------------------------


def test_required_and_enrichment_fields() -> None:
    campaigns = [
        campaign("a", conditions=("subtotal >= 50", "first_order")),
        campaign("b", conditions=('any line_items.product_type == "Kaffee"',)),
        campaign("c", conditions=('"vip" in customer.tags',), enabled=False),
        campaign("d", conditions=("order.test",), trigger=EventKind.ORDER_CREATED),
    ]
    assert required_fields(campaigns) == {
        "order.subtotal",
        "first_order",
        "customer.orders_count",
        "line_items.product_type",
        "customer.tags",
        "order.test",
    }
    assert enrichment_fields(campaigns, event=EventKind.ORDER_PAID) == {
        "first_order",
        "customer.orders_count",
        "line_items.product_type",
    }
    assert required_fields(campaigns, event=EventKind.ORDER_CREATED) == {"order.test"}


# -- in-memory counters -------------------------------------------------------------------------


def test_counters_book_a_decision_once() -> None:
    counters = InMemoryCounters()
    cfg = config(campaign("a"), campaign("b", BLOCK))
    o = make_order()
    d = run(cfg, o, counters=counters)
    counters.record(d, o)
    counters.record(d, o)  # a redelivered webhook
    assert counters.usage_count(SHOP, "a") == 1
    assert counters.spent(SHOP, "a", None) == Decimal("5.00")
    assert counters.spent(SHOP, "b", None) == Decimal(0)
    assert counters.customer_usage(SHOP, "a", "c-1") == CustomerUsage(count=1, last_at=NOW)
    assert counters.customer_usage(SHOP, "a", "c-2") == CustomerUsage()


def test_counters_spent_since() -> None:
    counters = InMemoryCounters()
    cfg = config(campaign("a"))
    for n, day in enumerate((1, 15, 28)):
        o = make_order(str(n))
        counters.record(run(cfg, o, now=datetime(2024, 11, day, tzinfo=UTC)), o)
    assert counters.spent(SHOP, "a", datetime(2024, 11, 15, tzinfo=UTC)) == Decimal("10.00")
    assert counters.spent(SHOP, "a", None) == Decimal("15.00")
    assert counters.spent(SHOP, "a", datetime(2024, 12, 1, tzinfo=UTC)) == 0
