"""``customer.care_cost_share`` in a campaign: a customer whose care costs too large a share of
their margin gets no more offers; a new customer does. Offline engine, an in-memory sequence of
orders; the share is computed from that sequence the way the results layer computes it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from aftersale_kit.core.campaign import ShopConfig
from aftersale_kit.core.config import load_config_text
from aftersale_kit.core.counters import InMemoryCounters
from aftersale_kit.core.decision import Outcome, Reason
from aftersale_kit.core.engine import (
    decide,
    enrichment_fields,
    fields_from_records,
    order_margin,
    required_fields,
)
from aftersale_kit.core.errors import ConfigError
from aftersale_kit.core.model import Customer, EventKind, FinancialStatus, LineItem, Order
from aftersale_kit.core.money import Money
from aftersale_kit.core.platform import unknown_fields
from aftersale_kit.results.care import customer_care

SHOP = "shop:\n  platform: {platform}\n  domain: {domain}\n  currency: EUR\n"
DOMAINS = {"woocommerce": "shop.example.de", "shopify": "test.myshopify.com"}
CAMPAIGN = (
    "campaigns:\n"
    "  - id: stammkunde\n"
    '    when: ["customer.care_cost_share < 0.3"]\n'
    "    actions:\n"
    "      - issue_coupon: {type: fixed_amount, value: 5, valid_days: 30}\n"
)
T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)
SECRET = b"care-cost-test-secret"


def config(platform: str = "woocommerce", campaign: str = CAMPAIGN) -> ShopConfig:
    text = SHOP.format(platform=platform, domain=DOMAINS[platform]) + campaign
    return load_config_text(text, filename="shop.yaml")


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def paid_order(number: int, customer: Customer | None, *, code: str | None = None) -> Order:
    """A 40.00 EUR order; with ``code``, a 5.00 EUR coupon redeemed on it."""
    discount = eur("5.00") if code else eur("0")
    return Order(
        platform="woocommerce",
        shop="shop.example.de",
        id=str(1000 + number),
        number=str(1000 + number),
        currency="EUR",
        created_at=T0 + timedelta(days=number),
        paid_at=T0 + timedelta(days=number),
        financial_status=FinancialStatus.PAID,
        subtotal=eur("40.00") - discount,
        total=eur("40.00") - discount,
        discounts=discount,
        shipping=eur("0"),
        tax=eur("0"),
        line_items=(LineItem(id="l1", title="Kaffee", quantity=1, unit_price=eur("40.00")),),
        customer=customer,
        email=customer.email if customer else "gast@example.de",
        discount_codes=(code,) if code else (),
    )


@dataclass
class Shop:
    """The service in miniature: it records what each customer's care cost and the margin
    earned on them, fills in ``customer.care_cost_share`` before deciding, and books what fired."""

    config: ShopConfig
    min_orders: int = 1
    counters: InMemoryCounters = field(default_factory=InMemoryCounters)
    orders: dict[str, int] = field(default_factory=dict)
    cost: dict[str, Decimal] = field(default_factory=dict)
    margin: dict[str, Decimal] = field(default_factory=dict)
    open_codes: dict[str, str] = field(default_factory=dict)
    placed: int = 0

    def buy(self, customer_id: str) -> Outcome:
        self.placed += 1
        code = self.open_codes.pop(customer_id, None)
        customer = Customer(id=customer_id, email=f"{customer_id}@example.de")
        order = paid_order(self.placed, customer, code=code)
        # the records: this order, its margin, and the coupon redeemed on it
        self.orders[customer_id] = self.orders.get(customer_id, 0) + 1
        self.margin[customer_id] = (
            self.margin.get(customer_id, Decimal(0))
            + order_margin(order, self.config.settings).amount
        )
        self.cost[customer_id] = self.cost.get(customer_id, Decimal(0)) + order.discounts.amount
        care = customer_care(
            customer_id,
            self.orders[customer_id],
            self.cost[customer_id],
            self.margin[customer_id],
            min_orders=self.min_orders,
        )
        enriched = replace(
            customer,
            orders_count=self.orders[customer_id],
            care_cost=eur(str(care.cost)),
            care_cost_share=care.share,
            care_cost_note=care.note or None,
        )
        order = replace(order, customer=enriched)
        decision = decide(
            self.config,
            order,
            event=EventKind.ORDER_PAID,
            counters=self.counters,
            now=order.created_at,
            code_secret=SECRET,
        )
        self.counters.record(decision, order)
        for action in decision.actions:
            if action.coupon_code:
                self.open_codes[customer_id] = action.coupon_code
        [outcome] = decision.outcomes
        return outcome


def test_stops_firing_once_the_care_cost_passes_the_share_and_fires_for_a_new_customer() -> None:
    # given a campaign for customers whose care costs less than 30% of their margin
    shop = Shop(config())
    # when one customer keeps buying and redeeming the 5.00 coupon each time
    anna = [shop.buy("anna") for _ in range(3)]
    # then it fires while the share is below 0.3 and stops once it passes (12.00 margin an
    # order at the default 30%, 7.00 with the coupon: 0, 5/19, 10/26)
    assert [o.fired for o in anna] == [True, True, False]
    assert anna[0].detail.endswith("; customer.care_cost_share is 0.0000")
    assert anna[1].detail.endswith("; customer.care_cost_share is 0.2632")
    assert anna[2].reason is Reason.CONDITION_FAILED
    assert anna[2].detail == (
        "condition 1 `customer.care_cost_share < 0.3` is false (customer.care_cost_share is 0.3846)"
    )
    # and a new customer gets the offer
    bert = shop.buy("bert")
    assert bert.fired and bert.detail.endswith("; customer.care_cost_share is 0.0000")
    # and anna, buying on without a coupon, earns her way back below the share (10/38)
    again = shop.buy("anna")
    assert again.fired and again.detail.endswith("; customer.care_cost_share is 0.2632")
    assert (shop.cost["anna"], shop.margin["anna"]) == (Decimal("10.00"), Decimal("38.00"))


def test_unknown_while_the_history_is_too_short_and_the_explanation_says_why() -> None:
    shop = Shop(config(), min_orders=3)
    first = shop.buy("carla")
    assert not first.fired and first.reason is Reason.FIELD_UNKNOWN
    assert first.detail == (
        "condition 1 `customer.care_cost_share < 0.3`: customer.care_cost_share unknown: "
        "the customer has 1 order, at least 3 are needed"
    )


def test_not_filled_in_is_unknown_naming_the_records() -> None:
    # given an order whose customer the service did not look up
    order = paid_order(1, Customer(id="dora", orders_count=4))
    decision = decide(
        config(), order, event=EventKind.ORDER_PAID, counters=InMemoryCounters(),
        now=order.created_at, code_secret=SECRET,
    )  # fmt: skip
    [outcome] = decision.outcomes
    assert outcome.reason is Reason.FIELD_UNKNOWN
    assert outcome.detail == (
        "condition 1 `customer.care_cost_share < 0.3`: unknown field customer.care_cost_share "
        "(not filled in from the service's records)"
    )


def test_a_guest_has_no_care_record() -> None:
    order = paid_order(1, None)
    decision = decide(
        config(), order, event=EventKind.ORDER_PAID, counters=InMemoryCounters(),
        now=order.created_at, code_secret=SECRET,
    )  # fmt: skip
    [outcome] = decision.outcomes
    assert outcome.reason is Reason.CONDITION_FAILED
    assert outcome.detail.endswith("(guest order: no customer account)")


def test_care_cost_in_money_names_its_amount() -> None:
    campaign = CAMPAIGN.replace("customer.care_cost_share < 0.3", "customer.care_cost <= 10")
    order = paid_order(
        1, Customer(id="emil", orders_count=2, care_cost=eur("12.50"), care_cost_share=None)
    )
    decision = decide(
        config("shopify", campaign), order, event=EventKind.ORDER_PAID,
        counters=InMemoryCounters(), now=order.created_at, code_secret=SECRET,
    )  # fmt: skip
    assert decision.outcomes[0].detail == (
        "condition 1 `customer.care_cost <= 10` is false (customer.care_cost is 12.50 EUR)"
    )


@pytest.mark.parametrize("platform", sorted(DOMAINS))
def test_the_service_is_told_to_fill_it_in_and_adapters_are_not_asked(platform: str) -> None:
    campaigns = config(platform).campaigns
    assert "customer.care_cost_share" in required_fields(campaigns)
    assert "customer.care_cost_share" in enrichment_fields(campaigns, event=EventKind.ORDER_PAID)
    assert fields_from_records(campaigns) == {"customer.care_cost_share"}
    assert fields_from_records(campaigns, event=EventKind.ORDER_CREATED) == frozenset()
    # the platform adapters find nothing of theirs to fetch
    order = paid_order(1, Customer(id="fritz"))
    assert unknown_fields(order, enrichment_fields(campaigns)) == frozenset()


def test_a_misspelt_care_field_gets_a_suggestion() -> None:
    campaign = CAMPAIGN.replace("care_cost_share <", "care_cost_shar <")
    with pytest.raises(ConfigError) as info:
        config(campaign=campaign)
    assert [str(p) for p in info.value.problems] == [
        "shop.yaml:7:13: campaigns[0].when[0]: unknown field 'customer.care_cost_shar' "
        "(did you mean 'customer.care_cost_share'?)"
    ]


def test_a_share_compared_with_a_text_is_refused_at_load() -> None:
    campaign = CAMPAIGN.replace("< 0.3", '== \\"low\\"')
    with pytest.raises(ConfigError) as info:
        config(campaign=campaign)
    [problem] = info.value.problems
    assert "campaigns[0].when[0]" in str(problem)
