"""The campaign actions of the loyalty program: ``award_points`` and ``stamp``.

They are planned by the engine like every other action (cost 0: points are a liability booked
by the ledger, not an offer cost) and carried out by whoever books the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

__all__ = ["AwardPoints", "Stamp"]


@dataclass(frozen=True, slots=True)
class AwardPoints:
    """Bonus points for this order: a ``multiplier`` of the points the lines earn (2 = double
    points), or a fixed number of ``points``; exactly one of the two is set.

    ``product_types``, ``categories`` and ``products`` (product ids or SKUs) limit a multiplier
    to the lines they name (empty: every line). Bonus multipliers never stack with each other:
    a line gets the highest bonus multiplier that applies to it (see
    :func:`~.earning.points_for`).
    """

    multiplier: Decimal | None = None
    points: int | None = None
    product_types: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    variant: str | None = None

    def describe(self) -> str:
        if self.points is not None:
            return f"{self.points} bonus points"
        scope = [*self.product_types, *self.categories, *self.products]
        on = f" on {', '.join(scope)}" if scope else ""
        return f"{self.multiplier}x points{on}"


@dataclass(frozen=True, slots=True)
class Stamp:
    """A stamp on the stamp card ``card`` (an id under ``loyalty.stamp_cards``)."""

    card: str
    variant: str | None = None

    def describe(self) -> str:
        return f"stamp on card {self.card!r}"
