"""Whether a customer may redeem an option now: the checks before a ``redeemed`` movement.

The ledger itself only guarantees that no more than the available points are spent; the
program's rules (minimum balance, the largest share of a cart points may pay) are checked here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from ..money import Money
from .ledger import JournalState, Movement, MovementKind, SourceKind
from .program import LoyaltyProgram, RedemptionOption

__all__ = ["RedemptionCheck", "check_redemption", "point_value", "redemption_movement"]


@dataclass(frozen=True, slots=True)
class RedemptionCheck:
    allowed: bool
    reason: str
    option: RedemptionOption | None = None


def check_redemption(
    state: JournalState,
    program: LoyaltyProgram,
    option_id: str,
    *,
    cart_value: Decimal | None = None,
) -> RedemptionCheck:
    """May the account redeem ``option_id``? ``cart_value`` (the cart the coupon is meant
    for, in the shop currency) is checked against ``max_cart_share`` when both are known."""
    rules = program.redemption
    option = rules.option(option_id)
    if option is None:
        known = ", ".join(o.id for o in rules.options) or "none"
        return RedemptionCheck(False, f"unknown option {option_id!r} (options: {known})")
    if state.available < rules.minimum_balance:
        return RedemptionCheck(
            False,
            f"a balance of {rules.minimum_balance} points is needed first "
            f"({state.available} available)",
            option,
        )
    if state.available < option.points:
        pending = f", {state.pending} still pending" if state.pending else ""
        return RedemptionCheck(
            False,
            f"{option.points} points needed, {max(state.available, 0)} available{pending}",
            option,
        )
    share = rules.max_cart_share
    if share is not None and cart_value is not None and option.value > cart_value * share:
        worth, cart = Money(option.value, program.currency), Money(cart_value, program.currency)
        percent = format((share * 100).normalize(), "f")
        return RedemptionCheck(
            False,
            f"the option is worth {worth}, more than {percent} % of the cart ({cart})",
            option,
        )
    return RedemptionCheck(True, f"{option.points} points for {option.id!r}", option)


def redemption_movement(
    option: RedemptionOption, *, request: str, at: datetime, coupon: str | None
) -> Movement:
    """The ``redeemed`` movement for ``option``; ``request`` (the storefront's request id)
    makes a retried request book nothing twice."""
    return Movement(
        key=f"redeem:{request}",
        kind=MovementKind.REDEEMED,
        at=at,
        points=option.points,
        source=SourceKind.REDEMPTION,
        ref=option.id,
        reason=f"redeemed for {option.id!r}",
        coupon=coupon,
    )


def point_value(program: LoyaltyProgram) -> tuple[Decimal, RedemptionOption] | None:
    """What one point is worth, and the option that says so: the most one point buys among the
    coupon options (else among the rewards, at their cost); ``None`` when nothing is worth
    anything. The liability of the loyalty report, the results and the backtest's price of
    bonus points all use this one rule."""
    coupons = [o for o in program.redemption.options if o.coupon_value is not None]
    pool = coupons or [o for o in program.redemption.options if o.value > 0]
    if not pool:
        return None
    best = max(pool, key=lambda o: o.value / o.points)
    return best.value / best.points, best
