"""Refunds reverse exactly the refunded share; tiers by rolling spend or points."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from aftersale_kit.core.loyalty.actions import AwardPoints
from aftersale_kit.core.loyalty.earning import points_for, reversal_for
from aftersale_kit.core.loyalty.program import Earn, TierBasis, TierRules
from aftersale_kit.core.loyalty.tiers import Activity, standing, tier_of
from aftersale_kit.core.model import FinancialStatus, Refund, RefundLine

from .builders import GOLD, NOW, SILVER, eur, line, order, program


def test_a_partial_refund_of_one_line_reverses_that_line_only() -> None:
    bought = order()  # espresso 2 x 15.00, filter 20.00: 50 points
    earned = points_for(bought, program()).points
    refund = Refund(id="r1", amount=eur("15.00"), lines=(RefundLine("l1", 1),))
    reversal = reversal_for(bought, [refund], program(), earned=earned)
    assert (reversal.points, reversal.kept) == (15, 35)
    assert "earns 35 of 50 points" in reversal.explain()


def test_a_refund_without_lines_reverses_its_goods_value_by_share() -> None:
    bought = order()
    money_only = Refund(id="r1", amount=eur("14.90"), shipping=eur("4.90"), lines=None)
    reversal = reversal_for(bought, [money_only], program(), earned=50)
    assert reversal.points == 10  # 10.00 of 50.00 goods


def test_successive_refunds_never_reverse_more_than_was_earned() -> None:
    bought = order("1005", *(line(f"l{i}", "3.33") for i in range(3)))
    earned = points_for(bought, program()).points  # 9.99 -> 9
    refunds: list[Refund] = []
    taken = 0
    for i in range(3):
        refunds.append(Refund(id=f"r{i}", amount=eur("3.33"), lines=(RefundLine(f"l{i}", 1),)))
        step = reversal_for(bought, refunds, program(), earned=earned, already=taken)
        taken += step.points
        assert taken <= earned
    assert taken == earned


def test_a_cancelled_order_keeps_nothing_including_fixed_bonus() -> None:
    bonus = [AwardPoints(points=100)]
    bought = order()
    earned = points_for(bought, program(), bonuses=bonus).points
    assert earned == 150
    partial = Refund(id="r1", amount=eur("20.00"), lines=(RefundLine("l2", 1),))
    kept_bonus = reversal_for(bought, [partial], program(), earned=earned, bonuses=bonus)
    assert kept_bonus.points == 20  # the fixed bonus stays while goods remain
    closed = reversal_for(bought, [], program(), earned=earned, closed=True)
    assert closed.points == 150
    voided = order(financial_status=FinancialStatus.VOIDED)
    assert reversal_for(voided, [], program(), earned=earned).points == 150


def test_the_reversal_uses_the_tier_the_order_earned_with() -> None:
    bought = order()
    earned = points_for(bought, program(), tier=GOLD).points  # 75
    refund = Refund(id="r1", amount=eur("20.00"), lines=(RefundLine("l2", 1),))
    assert reversal_for(bought, [refund], program(), earned=earned, tier=GOLD).points == 30


def _history() -> list[Activity]:
    return [
        Activity(at=NOW - timedelta(days=400), spend=Decimal(1000), points=1000),  # too old
        Activity(at=NOW - timedelta(days=200), spend=Decimal(150), points=150),
        Activity(at=NOW - timedelta(days=20), spend=Decimal(100), points=300),
    ]


def test_the_tier_comes_from_spend_in_the_rolling_window() -> None:
    assert tier_of(_history(), program(), NOW) == SILVER  # 250 in 12 months
    where = standing(_history(), program(), NOW)
    assert (where.amount, where.next, where.missing) == (Decimal(250), GOLD, Decimal(250))
    # 300 days earlier the large order was inside the window: the tier was Gold then
    assert tier_of(_history(), program(), NOW - timedelta(days=300)) == GOLD


def test_the_tier_can_come_from_points_and_none_means_the_base_rate() -> None:
    by_points = program(
        tiers=TierRules(basis=TierBasis.POINTS, window_months=12, levels=(SILVER, GOLD))
    )
    assert tier_of(_history(), by_points, NOW) == SILVER  # 450 points
    assert tier_of([], program(), NOW) is None
    assert tier_of(_history(), program(tiers=None), NOW) is None
    assert standing([], program(tiers=None), NOW).next is None


def test_a_future_activity_does_not_count_yet() -> None:
    later = [Activity(at=NOW + timedelta(days=1), spend=Decimal(900), points=900)]
    assert tier_of(later, program(earn=Earn(rate=Decimal(1))), NOW) is None
