"""Earning: the net merchandise value, multipliers, tiers replacing the base rate, bonuses."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from aftersale_kit.core.campaign import Campaign, ShopConfig, ShopSettings, Window
from aftersale_kit.core.conditions import compile_condition
from aftersale_kit.core.counters import InMemoryCounters
from aftersale_kit.core.engine import decide
from aftersale_kit.core.loyalty.actions import AwardPoints
from aftersale_kit.core.loyalty.earning import points_for
from aftersale_kit.core.loyalty.program import (
    Earn,
    EarnBasis,
    GuestPolicy,
    Rounding,
    account_key,
)
from aftersale_kit.core.model import EventKind
from aftersale_kit.core.money import CurrencyMismatchError

from .builders import GOLD, SHOP, eur, line, order, program


def test_the_base_rate_earns_on_merchandise_without_shipping() -> None:
    # 2 x 15.00 + 20.00 = 50.00 of goods, 4.90 shipping
    award = points_for(order(), program())
    assert award.points == 50
    assert award.base == 50 and award.bonus == 0


def test_discounts_are_taken_off_and_gift_cards_earn_nothing() -> None:
    spread = order(discounts=eur("10.00"))  # no per-line allocation: spread by value
    assert points_for(spread, program()).points == 40
    allocated = order(
        "1002",
        line("l1", "30.00", discount=eur("5.00")),
        line("gc", "25.00", gift_card=True),
    )
    assert points_for(allocated, program()).points == 25


def test_net_of_tax_basis_takes_the_tax_off() -> None:
    taxed = order(tax=eur("7.98"))  # 50.00 gross goods with 19 % VAT inside
    net = program(earn=Earn(rate=Decimal(1), basis=EarnBasis.MERCHANDISE_NET_OF_TAX))
    assert points_for(taxed, net).points == 42  # 42.02 rounded down
    assert points_for(taxed, program()).points == 50


@pytest.mark.parametrize(
    ("rounding", "expected"), [(Rounding.DOWN, 12), (Rounding.HALF_UP, 13), (Rounding.UP, 13)]
)
def test_rounding_happens_once_per_order(rounding: Rounding, expected: int) -> None:
    # three lines of 4.17: per line 4 points each (12) if rounded per line; 12.51 once
    lines = [line(f"l{i}", "4.17") for i in range(3)]
    rules = program(earn=Earn(rate=Decimal(1), rounding=rounding))
    assert points_for(order("1003", *lines), rules).points == expected


def test_the_highest_line_multiplier_counts_never_their_product() -> None:
    rules = program(
        earn=Earn(
            rate=Decimal(1),
            product_types=(("Kaffee", Decimal(2)),),
            products=(("ESP-1", Decimal(3)),),
        )
    )
    award = points_for(order(), rules)
    # espresso line: 30.00 x 3 (not x 6); filter line: 20.00 x 1
    assert award.points == 110
    assert [li.multiplier for li in award.lines] == [Decimal(3), Decimal(1)]


def test_a_tier_customer_earns_the_tier_rate_not_base_plus_tier() -> None:
    award = points_for(order(), program(), tier=GOLD)
    assert award.points == 75  # 50 x 1.5, not 50 + 75
    assert award.tier == "Gold"
    assert "tier 'Gold' rate" in award.explain()


def test_two_double_points_campaigns_double_once_and_only_their_lines() -> None:
    december = AwardPoints(multiplier=Decimal(2), product_types=("Kaffee",))
    also = AwardPoints(multiplier=Decimal(2))
    award = points_for(order(), program(), bonuses=[december, also])
    assert award.points == 100  # every line doubled once: 50 x 2
    only_coffee = points_for(order(), program(), bonuses=[december])
    assert only_coffee.points == 80  # 30 x 2 + 20
    assert only_coffee.bonus == 30
    assert "x 2 (campaign bonus)" in only_coffee.explain()


def test_the_tier_rate_and_a_bonus_multiply_once() -> None:
    award = points_for(order(), program(), tier=GOLD, bonuses=[AwardPoints(multiplier=Decimal(2))])
    assert award.points == 150
    assert award.base == 75 and award.bonus == 75


def test_fixed_bonus_points_are_added_to_orders_with_goods() -> None:
    bonus = AwardPoints(points=100)
    assert points_for(order(), program(), bonuses=[bonus]).points == 150
    empty = order("1004", line("gc", "50.00", gift_card=True))
    assert points_for(empty, program(), bonuses=[bonus]).points == 0


def test_an_order_in_another_currency_must_be_priced_first() -> None:
    usd = replace(order(), currency="USD")
    with pytest.raises(CurrencyMismatchError, match="price the order"):
        points_for(usd, program())


def test_accounts_are_customers_or_normalised_guest_emails_when_allowed() -> None:
    guest = order(customer=None, email="  Anna@Example.DE ")
    assert account_key(order(), program()) == "c-42"
    assert account_key(guest, program()) is None
    assert account_key(guest, program(guests=GuestPolicy.EMAIL)) == "email:anna@example.de"
    no_mail = order(customer=None, email=None)
    assert account_key(no_mail, program(guests=GuestPolicy.EMAIL)) is None


def test_the_engine_plans_a_december_double_points_campaign_once() -> None:
    settings = ShopSettings(platform="shopify", domain=SHOP, currency="EUR")
    campaign = Campaign(
        id="dezember-doppelt",
        actions=(AwardPoints(multiplier=Decimal(2), product_types=("Kaffee",)),),
        conditions=(compile_condition('any line_items.product_type == "Kaffee"'),),
        window=Window(
            starts_at=datetime(2026, 12, 1, tzinfo=UTC), ends_at=datetime(2027, 1, 1, tzinfo=UTC)
        ),
    )
    config = ShopConfig(settings=settings, campaigns=(campaign,))

    def bonuses(now: datetime) -> list[AwardPoints]:
        decision = decide(
            config,
            order(),
            event=EventKind.ORDER_PAID,
            counters=InMemoryCounters(),
            now=now,
            code_secret=b"k",
        )
        return [p.action for p in decision.actions if isinstance(p.action, AwardPoints)]

    in_december = bonuses(datetime(2026, 12, 7, tzinfo=UTC))
    assert len(in_december) == 1
    assert points_for(order(), program(), bonuses=in_december).points == 80
    assert bonuses(datetime(2027, 1, 2, tzinfo=UTC)) == []
