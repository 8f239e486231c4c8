"""How many points an order earns, why, and how many a refund takes back.

Points are computed per line on the line's net merchandise value (after its discounts, without
shipping; see :class:`~.program.EarnBasis`), in the program currency::

    line points = value x rate x line multiplier x bonus multiplier

* ``rate`` is the base earn rate, or for a tier customer the base rate times the tier's
  multiplier: the tier *replaces* the base rate, it is never added to it;
* the line multiplier is the highest of the program's product, category and product-type
  multipliers that match the line (1 when none does);
* the bonus multiplier is the highest of the ``award_points`` multipliers of the campaigns that
  fired and match the line (1 when none does): two double-points campaigns double once.

The sum is rounded once per order (:class:`~.program.Rounding`); fixed ``award_points`` points
are added to orders with merchandise. Gift cards earn nothing (they are money, not goods).

A refund takes back what the order net of all its refunds no longer earns
(:func:`reversal_for`), so a partial refund reverses the points of the refunded share only, and
rounding never lets the sum of reversals exceed what was earned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from ..model import LineItem, Order, Refund
from ..money import CurrencyMismatchError
from ..timeline import net_of_refunds, reversal_of
from .actions import AwardPoints
from .program import EarnBasis, LoyaltyProgram, Rounding, Tier

__all__ = ["LinePoints", "PointsAward", "Reversal", "line_values", "points_for", "reversal_for"]

_ONE = Decimal(1)
_ZERO = Decimal(0)
_ROUNDING = {
    Rounding.DOWN: ROUND_FLOOR,
    Rounding.HALF_UP: ROUND_HALF_UP,
    Rounding.UP: ROUND_CEILING,
}


@dataclass(frozen=True, slots=True)
class LinePoints:
    """One line's share of the points, before the order's rounding."""

    line_id: str
    title: str
    value: Decimal
    rate: Decimal
    multiplier: Decimal
    bonus: Decimal
    points: Decimal


@dataclass(frozen=True, slots=True)
class PointsAward:
    """The points of one order: ``points`` in all, of which ``bonus`` from campaigns."""

    points: int
    #: What the order earns without the campaigns' bonus (same rate, rounding and tier).
    base: int
    lines: tuple[LinePoints, ...]
    fixed_bonus: int
    tier: str | None
    currency: str

    @property
    def bonus(self) -> int:
        return self.points - self.base

    def explain(self) -> str:
        """The computation in a shop owner's words, one line per order line."""
        rows = []
        for li in self.lines:
            parts = [f"{li.value:.2f} {self.currency} x {_num(li.rate)} points"]
            if li.multiplier != _ONE:
                parts.append(f"x {_num(li.multiplier)} (product multiplier)")
            if li.bonus != _ONE:
                parts.append(f"x {_num(li.bonus)} (campaign bonus)")
            rows.append(f"{li.title}: {' '.join(parts)} = {_num(li.points)}")
        rate = f"tier {self.tier!r} rate" if self.tier else "base rate"
        head = f"{self.points} points ({rate}"
        if self.fixed_bonus:
            head += f", {self.fixed_bonus} fixed bonus points"
        return "\n".join([head + ")", *rows])


def _num(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _matches(names: Sequence[str], candidates: Sequence[str | None]) -> bool:
    return any(c is not None and c in names for c in candidates)


def _line_multiplier(item: LineItem, program: LoyaltyProgram) -> Decimal:
    earn = program.earn
    keys = (item.product_id, item.sku)
    factors = [f for name, f in earn.products if name in keys]
    factors += [f for name, f in earn.categories if name in (item.categories or ())]
    factors += [f for name, f in earn.product_types if name == item.product_type]
    return max(factors, default=_ONE)


def _bonus_multiplier(item: LineItem, bonuses: Sequence[AwardPoints]) -> Decimal:
    factors = []
    for bonus in bonuses:
        if bonus.multiplier is None:
            continue
        scoped = bonus.product_types or bonus.categories or bonus.products
        if scoped and not (
            item.product_type in bonus.product_types
            or _matches(bonus.categories, item.categories or ())
            or _matches(bonus.products, (item.product_id, item.sku))
        ):
            continue
        factors.append(bonus.multiplier)
    return max(factors, default=_ONE)


def line_values(order: Order, program: LoyaltyProgram) -> list[tuple[LineItem, Decimal]]:
    """Each merchandise line and the value the rate applies to (never below zero).

    Discounts are the platform's per-line allocation; without any, the order's discounts are
    spread over the lines by value. With ``merchandise_net_of_tax`` the order's tax is spread
    the same way and taken off.
    """
    lines = [li for li in order.line_items if not li.gift_card]
    gross = [li.unit_price.amount * li.quantity for li in lines]
    whole = sum(gross, _ZERO)
    if any(li.discount is not None for li in order.line_items):
        discounts = [li.discount.amount if li.discount is not None else _ZERO for li in lines]
    elif whole > 0:
        discounts = [order.discounts.amount * g / whole for g in gross]
    else:
        discounts = [_ZERO] * len(lines)
    values = [max(g - d, _ZERO) for g, d in zip(gross, discounts, strict=True)]
    if program.earn.basis is EarnBasis.MERCHANDISE_NET_OF_TAX and order.tax.amount > 0:
        net = sum(values, _ZERO)
        if net > 0:
            values = [max(v - order.tax.amount * v / net, _ZERO) for v in values]
    return list(zip(lines, values, strict=True))


def _award(
    order: Order,
    program: LoyaltyProgram,
    tier: Tier | None,
    bonuses: Sequence[AwardPoints],
    scale: Decimal = _ONE,
) -> PointsAward:
    if order.currency.upper() != program.currency.upper():
        raise CurrencyMismatchError(
            f"the order is in {order.currency}, the program in {program.currency}: price the "
            "order in the shop currency first (core.currency.price_order)"
        )
    rate = program.earn.rate * (tier.multiplier if tier is not None else _ONE)
    lines: list[LinePoints] = []
    for item, value in line_values(order, program):
        multiplier = _line_multiplier(item, program)
        bonus = _bonus_multiplier(item, bonuses)
        points = value * scale * rate * multiplier * bonus
        lines.append(
            LinePoints(item.id, item.title, value * scale, rate, multiplier, bonus, points)
        )
    mode = _ROUNDING[program.earn.rounding]
    total = sum((li.points for li in lines), _ZERO).to_integral_value(rounding=mode)
    base = sum((li.points / li.bonus for li in lines), _ZERO).to_integral_value(rounding=mode)
    has_goods = any(li.value > 0 for li in lines)
    fixed = sum(b.points for b in bonuses if b.points is not None) if has_goods else 0
    return PointsAward(
        points=int(total) + fixed,
        base=int(base),
        lines=tuple(lines),
        fixed_bonus=fixed,
        tier=tier.name if tier is not None else None,
        currency=program.currency,
    )


def points_for(
    order: Order,
    program: LoyaltyProgram,
    tier: Tier | None = None,
    bonuses: Sequence[AwardPoints] = (),
) -> PointsAward:
    """The points ``order`` earns under ``program`` for a customer in ``tier`` (``None``: the
    base rate), with the ``award_points`` actions of the campaigns that fired on it.

    The order must be in the program currency (a foreign-currency order is priced first with
    :func:`~aftersale_kit.core.currency.price_order`); anything else raises
    :class:`~aftersale_kit.core.money.CurrencyMismatchError`.
    """
    return _award(order, program, tier, bonuses)


@dataclass(frozen=True, slots=True)
class Reversal:
    """What the refunds so far take back: ``points`` now (on top of ``already``), leaving
    ``kept`` of the ``earned`` points."""

    points: int
    kept: int
    earned: int
    already: int

    def explain(self) -> str:
        return (
            f"the order net of its refunds earns {self.kept} of {self.earned} points; "
            f"{self.already} already taken back, {self.points} more now"
        )


def _money_only(refunds: Sequence[Refund]) -> Decimal:
    """The goods value of refunds that name no lines: their money less refunded shipping."""
    total = _ZERO
    for refund in refunds:
        if refund.lines:
            continue
        shipping = refund.shipping.amount if refund.shipping is not None else _ZERO
        total += max(refund.amount.amount - shipping, _ZERO)
    return total


def reversal_for(
    order: Order,
    refunds: Sequence[Refund],
    program: LoyaltyProgram,
    *,
    earned: int,
    already: int = 0,
    tier: Tier | None = None,
    bonuses: Sequence[AwardPoints] = (),
    closed: bool = False,
) -> Reversal:
    """The points to take back after ``refunds`` (all of the order's refunds so far).

    ``order`` is the order as it earned ``earned`` points (with the same ``tier`` and
    ``bonuses``); ``already`` is what earlier reversals took back. Refunded lines leave the
    order; a refund that names no lines takes its goods value off the remaining lines by
    share; a cancelled or fully refunded order (``closed``, or ``order`` says so) keeps
    nothing.
    """
    if closed or reversal_of(order) is not None:
        kept = 0
    else:
        net = net_of_refunds(order, refunds)
        values = sum((v for _, v in line_values(net, program)), _ZERO)
        money_only = _money_only(refunds)
        scale = _ONE if values <= 0 else max(_ONE - money_only / values, _ZERO)
        kept = _award(net, program, tier, bonuses, scale).points if scale > 0 else 0
    kept = max(0, min(kept, earned))
    points = max(earned - kept - already, 0)
    return Reversal(points=points, kept=kept, earned=earned, already=already)
