"""The points accounting of a period, and what the program is worth to a customer.

:func:`accounting` turns the journal's sums (:class:`~aftersale_kit.storage.loyalty_admin.
LedgerTotals`) into the lines of the report: the opening balance, every kind of movement, the
closing balance, each as pending and available points. The opening balance plus the movements
must equal the closing balance (and, for a period up to now, the accounts' running totals):
otherwise :class:`ReportMismatchError`.

:func:`point_value` is the redemption rate: the most a point buys among the program's coupon
options (for a catalogue-only program, its rewards at their cost to the shop); the liability is
the closing balance at that rate. :func:`reward_rates` says what a customer gets back per 100 of
spend, by tier: as configured (base rate x tier multiplier x point value), and as earned in the
period (points of the orders over their merchandise value: product multipliers and campaign
bonuses included, before refunds), with the spend a first reward needs.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from ..core.errors import AftersaleKitError
from ..core.loyalty.ledger import MovementKind, SourceKind
from ..core.loyalty.program import LoyaltyProgram
from ..core.loyalty.redeem import point_value
from ..storage.loyalty_admin import LedgerTotals

__all__ = [
    "Line",
    "Rate",
    "ReportMismatchError",
    "accounting",
    "format_csv",
    "format_table",
    "point_value",
    "reward_rates",
]

_KINDS = (
    (MovementKind.EARNED_PENDING, "earned (pending)"),
    (MovementKind.RELEASED, "released"),
    (MovementKind.REDEEMED, "redeemed"),
    (MovementKind.EXPIRED, "expired"),
    (MovementKind.REVERSED, "reversed"),
    (MovementKind.ADJUSTED, "adjusted"),
    (MovementKind.IMPORTED, "imported"),
)
_CENT = Decimal("0.01")


class ReportMismatchError(AftersaleKitError):
    """The journal's sums do not add up (a ledger defect: report it)."""


@dataclass(frozen=True, slots=True)
class Line:
    label: str
    count: int | None
    pending: int
    available: int

    @property
    def total(self) -> int:
        return self.pending + self.available


@dataclass(frozen=True, slots=True)
class Rate:
    """What a customer of ``tier`` gets back per 100 of spend."""

    tier: str
    points_per_unit: Decimal
    #: Value per 100 of spend as configured (``None``: the program has no value per point).
    configured: Decimal | None
    #: Value per 100 as earned on the period's orders (``None``: no spend in the period).
    observed: Decimal | None
    #: The spend that earns the cheapest reward (``None``: nothing to redeem).
    first_reward_spend: Decimal | None


def accounting(totals: LedgerTotals, *, now: datetime) -> list[Line]:
    """The report's lines, checked: opening + movements == closing (== running totals for a
    period that reaches ``now``)."""
    opening = Line("opening balance", None, totals.opening_pending, totals.opening_available)
    moves = []
    for kind, label in _KINDS:
        count, _, pending, available = totals.kind(kind)
        moves.append(Line(label, count, pending, available))
    closing = Line("closing balance", None, totals.closing_pending, totals.closing_available)
    summed = (
        opening.pending + sum(m.pending for m in moves),
        opening.available + sum(m.available for m in moves),
    )
    if summed != (closing.pending, closing.available):
        raise ReportMismatchError(
            f"the journal does not add up: opening + movements = pending {summed[0]}, "
            f"available {summed[1]}; closing = pending {closing.pending}, available "
            f"{closing.available}"
        )
    running = (totals.running_pending, totals.running_available)
    if totals.until > now and running != (closing.pending, closing.available):
        raise ReportMismatchError(
            f"the journal's closing balance (pending {closing.pending}, available "
            f"{closing.available}) differs from the accounts' running totals (pending "
            f"{running[0]}, available {running[1]})"
        )
    return [opening, *moves, closing]


def _first_reward(program: LoyaltyProgram, per_unit: Decimal) -> Decimal | None:
    options = program.redemption.options
    if not options or per_unit <= 0:
        return None
    needed = max(program.redemption.minimum_balance, min(o.points for o in options))
    return (Decimal(needed) / per_unit).quantize(_CENT, ROUND_HALF_UP)


def _observed(totals: LedgerTotals, tier: str | None, value: Decimal | None) -> Decimal | None:
    points = 0
    spend = Decimal(0)
    for g in totals.groups:
        if (
            g.kind is MovementKind.EARNED_PENDING
            and g.source is SourceKind.ORDER
            and g.tier == tier
        ):
            points += g.points
            spend += g.spend
    if value is None or spend <= 0:
        return None
    return (Decimal(points) * value * 100 / spend).quantize(_CENT, ROUND_HALF_UP)


def reward_rates(program: LoyaltyProgram, totals: LedgerTotals) -> list[Rate]:
    """Base and each tier: configured and observed value per 100 of spend."""
    found = point_value(program)
    value = found[0] if found is not None else None
    levels: list[tuple[str, str | None, Decimal]] = [("base", None, Decimal(1))]
    if program.tiers is not None:
        levels += [(t.name, t.name, t.multiplier) for t in program.tiers.levels]
    rates = []
    for label, tier, multiplier in levels:
        per_unit = program.earn.rate * multiplier
        configured = (per_unit * value * 100).quantize(_CENT, ROUND_HALF_UP) if value else None
        rates.append(
            Rate(
                label,
                per_unit,
                configured,
                _observed(totals, tier, value),
                _first_reward(program, per_unit),
            )
        )
    return rates


def _money(value: Decimal | None, currency: str) -> str:
    return "-" if value is None else f"{value.quantize(_CENT, ROUND_HALF_UP):,} {currency}"


def _liability(lines: list[Line], program: LoyaltyProgram) -> list[tuple[str, int, Decimal | None]]:
    closing = lines[-1]
    found = point_value(program)
    value = found[0] if found is not None else None
    items = [
        ("available", closing.available),
        ("pending", closing.pending),
        ("total", closing.total),
    ]
    return [(name, points, None if value is None else points * value) for name, points in items]


def format_table(
    lines: list[Line], rates: list[Rate], program: LoyaltyProgram, *, title: str
) -> str:
    currency = program.currency
    out = [title, "", f"{'':<18} {'movements':>10} {'pending':>12} {'available':>12} {'total':>12}"]
    for line in lines:
        count = "" if line.count is None else f"{line.count:,}"
        out.append(
            f"{line.label:<18} {count:>10} {line.pending:>12,} {line.available:>12,} "
            f"{line.total:>12,}"
        )
    found = point_value(program)
    out.append("")
    if found is None:
        out.append("liability: the program has no redemption option with a value")
    else:
        value, option = found
        out.append(
            f"liability at {value.normalize():f} {currency} per point "
            f"(option {option.id}: {option.points:,} points = {_money(option.value, currency)}):"
        )
        for name, points, money in _liability(lines, program):
            out.append(f"  {name:<10} {points:>12,} points  {_money(money, currency):>16}")
    out += ["", f"reward per 100 {currency} of spend (as configured / as earned in the period):"]
    for r in rates:
        first = _money(r.first_reward_spend, currency)
        out.append(
            f"  {r.tier:<12} {r.points_per_unit.normalize():f} points per {currency}: "
            f"{_money(r.configured, currency)} / {_money(r.observed, currency)}; "
            f"first reward after {first} of spend"
        )
    return "\n".join(out)


def format_csv(lines: list[Line], rates: list[Rate], program: LoyaltyProgram) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["section", "item", "count", "pending", "available", "total", "amount"])
    for line in lines:
        count = "" if line.count is None else line.count
        writer.writerow(["points", line.label, count, line.pending, line.available, line.total, ""])
    for name, points, money in _liability(lines, program):
        cash = "" if money is None else money.quantize(_CENT, ROUND_HALF_UP)
        writer.writerow(["liability", name, "", "", "", points, cash])
    for r in rates:
        for section, amount in (
            ("reward_per_100_configured", r.configured),
            ("reward_per_100_earned", r.observed),
            ("first_reward_spend", r.first_reward_spend),
        ):
            writer.writerow([section, r.tier, "", "", "", "", "" if amount is None else amount])
    return buffer.getvalue()
