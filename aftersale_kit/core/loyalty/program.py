"""The loyalty program as the ``loyalty:`` section of a shop file describes it (validated).

Points are whole numbers; money is :class:`~decimal.Decimal` in the shop currency. A customer has
one account per shop (:func:`account_key`): the platform customer id, or for a guest order the
normalised e-mail address when the program allows guests (``guests: email``).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..campaign import FreeGift, IssueCoupon
    from ..conditions import Condition
    from ..model import Order

__all__ = [
    "CatalogueReward",
    "Earn",
    "EarnBasis",
    "Expiry",
    "GuestPolicy",
    "LoyaltyProgram",
    "RedemptionOption",
    "RedemptionRules",
    "Rounding",
    "SpentRefundPolicy",
    "StampCard",
    "Tier",
    "TierBasis",
    "TierRules",
    "account_key",
    "add_months",
    "normalise_email",
]


class EarnBasis(StrEnum):
    """What the earn rate is applied to.

    ``merchandise``: each line's price times quantity less its discount (gift cards excluded,
    shipping never included), as the prices are shown; ``merchandise_net_of_tax``: the same less
    the order's tax, spread over the lines by value (for shops whose prices include VAT).
    """

    MERCHANDISE = "merchandise"
    MERCHANDISE_NET_OF_TAX = "merchandise_net_of_tax"


class Rounding(StrEnum):
    """How an order's points are rounded to a whole number (once per order, never per line)."""

    DOWN = "down"
    HALF_UP = "half_up"
    UP = "up"


class TierBasis(StrEnum):
    SPEND = "spend"
    POINTS = "points"


class GuestPolicy(StrEnum):
    """``email``: guest orders earn on an account of their normalised e-mail; ``none``: they
    earn nothing."""

    EMAIL = "email"
    NONE = "none"


class SpentRefundPolicy(StrEnum):
    """What a reversal does when the points were spent already.

    ``negative_balance``: the balance goes below zero (future points pay it back);
    ``deactivate_coupon``: unused redemption coupons are deactivated first (an instruction in
    the ledger's result), their points returned, then the balance goes below zero only if they
    do not cover it.
    """

    NEGATIVE_BALANCE = "negative_balance"
    DEACTIVATE_COUPON = "deactivate_coupon"


@dataclass(frozen=True, slots=True)
class Earn:
    """``rate`` points per unit of the shop currency on ``basis``; multipliers by line.

    A line matched by several multipliers gets the highest (they never multiply each other).
    """

    rate: Decimal
    basis: EarnBasis = EarnBasis.MERCHANDISE
    rounding: Rounding = Rounding.DOWN
    #: ``(product id or SKU, factor)``.
    products: tuple[tuple[str, Decimal], ...] = ()
    #: ``(collection handle or category slug, factor)``.
    categories: tuple[tuple[str, Decimal], ...] = ()
    #: ``(product type, factor)``.
    product_types: tuple[tuple[str, Decimal], ...] = ()


@dataclass(frozen=True, slots=True)
class Expiry:
    """Points expire ``lifetime_months`` after they were earned, and/or all of them
    ``inactive_months`` after the customer's last order; ``None``: never."""

    lifetime_months: int | None = None
    inactive_months: int | None = None


@dataclass(frozen=True, slots=True)
class Tier:
    """From ``threshold`` (spend in the shop currency, or points) in the window on, the
    customer earns ``multiplier`` times the base rate *instead of* the base rate."""

    name: str
    threshold: Decimal
    multiplier: Decimal


@dataclass(frozen=True, slots=True)
class TierRules:
    basis: TierBasis
    window_months: int
    #: Ascending by threshold.
    levels: tuple[Tier, ...]


@dataclass(frozen=True, slots=True)
class CatalogueReward:
    """A product free with the next order ("eine Prämie aussuchen")."""

    product_id: str
    title: str
    #: What the reward costs the shop (for the liability report).
    cost: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class RedemptionOption:
    """``points`` for a fixed-amount coupon of ``coupon_value``, or for ``reward``."""

    id: str
    points: int
    coupon_value: Decimal | None = None
    reward: CatalogueReward | None = None
    valid_days: int = 90

    @property
    def value(self) -> Decimal:
        """What the option is worth to the customer, in the shop currency."""
        if self.coupon_value is not None:
            return self.coupon_value
        return self.reward.cost if self.reward is not None else Decimal(0)


@dataclass(frozen=True, slots=True)
class RedemptionRules:
    options: tuple[RedemptionOption, ...] = ()
    #: The balance needed before anything can be redeemed.
    minimum_balance: int = 0
    #: At most this share (0..1) of a cart may be paid with points; ``None``: no limit.
    max_cart_share: Decimal | None = None

    def option(self, option_id: str) -> RedemptionOption | None:
        return next((o for o in self.options if o.id == option_id), None)


@dataclass(frozen=True, slots=True)
class StampCard:
    """A collection: ``stamps`` qualifying orders (all ``conditions`` true) within
    ``window_days`` of the card's first stamp earn ``reward`` once."""

    id: str
    name: str
    stamps: int
    reward: tuple[IssueCoupon | FreeGift, ...]
    conditions: tuple[Condition, ...] = ()
    window_days: int | None = None


@dataclass(frozen=True, slots=True)
class LoyaltyProgram:
    currency: str
    earn: Earn
    pending_days: int = 14
    expiry: Expiry = Expiry()
    tiers: TierRules | None = None
    redemption: RedemptionRules = RedemptionRules()
    guests: GuestPolicy = GuestPolicy.NONE
    on_spent_refund: SpentRefundPolicy = SpentRefundPolicy.NEGATIVE_BALANCE
    stamp_cards: tuple[StampCard, ...] = ()

    def card(self, card_id: str) -> StampCard | None:
        return next((c for c in self.stamp_cards if c.id == card_id), None)


def normalise_email(email: str | None) -> str | None:
    """The address trimmed and lower-cased, or ``None`` for nothing or no ``@``."""
    text = (email or "").strip().lower()
    return text if "@" in text else None


def account_key(order: Order, program: LoyaltyProgram) -> str | None:
    """The order's loyalty account within its shop: the customer id; for a guest
    ``email:<normalised e-mail>`` when the program allows guests; else ``None`` (no points).

    The same convention as the engine's customer key, so per-customer limits and accounts agree.
    """
    if order.customer is not None:
        return order.customer.id
    if program.guests is GuestPolicy.NONE:
        return None
    email = normalise_email(order.email)
    return f"email:{email}" if email is not None else None


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` plus whole calendar months; the day is kept, or the month's last day."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)
