"""A customer's tier: the highest level their spend or points in the rolling window reach."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from .program import LoyaltyProgram, Tier, TierBasis, add_months

__all__ = ["Activity", "Standing", "standing", "tier_of"]


@dataclass(frozen=True, slots=True)
class Activity:
    """One order in a customer's history: its merchandise value (net of refunds, shop
    currency) and the points it earned (net of reversals)."""

    at: datetime
    spend: Decimal
    points: int


@dataclass(frozen=True, slots=True)
class Standing:
    """Where a customer stands: their ``tier`` (``None``: the base rate), the ``amount`` in
    the window, and the next tier with what is ``missing`` to reach it."""

    tier: Tier | None
    amount: Decimal
    next: Tier | None
    missing: Decimal | None


def standing(history: Iterable[Activity], program: LoyaltyProgram, now: datetime) -> Standing:
    """The customer's standing at ``now``: activity in ``(now - window_months, now]``."""
    rules = program.tiers
    if rules is None:
        return Standing(None, Decimal(0), None, None)
    since = add_months(now, -rules.window_months)
    amount = Decimal(0)
    for activity in history:
        if since < activity.at <= now:
            amount += activity.spend if rules.basis is TierBasis.SPEND else Decimal(activity.points)
    reached = [t for t in rules.levels if t.threshold <= amount]
    ahead = [t for t in rules.levels if t.threshold > amount]
    tier = max(reached, key=lambda t: t.threshold, default=None)
    upcoming = min(ahead, key=lambda t: t.threshold, default=None)
    missing = upcoming.threshold - amount if upcoming is not None else None
    return Standing(tier, amount, upcoming, missing)


def tier_of(history: Iterable[Activity], program: LoyaltyProgram, now: datetime) -> Tier | None:
    """The tier the customer's history earns at ``now`` (``None``: the base rate)."""
    return standing(history, program, now).tier
