"""What the demo reports of a shop's loyalty program, as plain values (no storage, no service:
the offline demo of a core install imports them): per order :class:`LoyaltyFacts`, per
customer :class:`AccountFacts`."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

__all__ = ["AccountFacts", "CardFacts", "LoyaltyFacts"]


@dataclass(frozen=True, slots=True)
class CardFacts:
    name: str
    stamps: int
    needed: int
    completed: int


@dataclass(frozen=True, slots=True)
class AccountFacts:
    """One customer's account: balances and tier (``missing``: to the next tier)."""

    account: str
    pending: int
    available: int
    tier: str | None
    next_tier: str | None
    missing: Decimal | None
    #: The redemption options the available points buy (their ids).
    reaches: tuple[str, ...] = ()
    #: The cheapest option not reached yet, and the points still missing for it.
    next_option: str | None = None
    option_missing: int = 0


@dataclass(frozen=True, slots=True)
class LoyaltyFacts:
    """The loyalty figures after one order (``account`` ``None``: a guest without an account)."""

    account: AccountFacts | None
    #: Points this order earned (net of refunds; ``None``: not earned, e.g. not paid).
    earned: int | None = None
    bonus: int = 0
    pending_days: int = 0
    cards: tuple[CardFacts, ...] = ()
    #: The codes of the stamp card rewards this order completed.
    rewards: tuple[str, ...] = field(default_factory=tuple)
