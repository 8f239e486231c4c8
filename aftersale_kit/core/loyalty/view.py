"""The figures the loyalty content shows, as one pure value: :class:`LoyaltyView`.

:func:`loyalty_view` builds it from the program and what the caller knows of the customer: the
journal state (balances), the order's :class:`~.earning.PointsAward`, the tier
:class:`~.tiers.Standing` and the stamp cards' :class:`~.stamps.CardState`. Everything missing
counts as nothing yet (balance 0, no stamps), so a preview can build a view from the program and
an order alone. The content layer renders the blocks from it; :meth:`LoyaltyView.customer` is
what a platform keeps for the theme.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from .customer import CustomerLoyalty
from .earning import PointsAward
from .ledger import JournalState
from .program import LoyaltyProgram, RedemptionOption
from .stamps import CardState, RewardStatus
from .tiers import Standing

__all__ = ["CardView", "LoyaltyView", "OptionView", "TierView", "loyalty_view"]


@dataclass(frozen=True, slots=True)
class OptionView:
    """One redemption option and whether the balance reaches it (``missing``: 0 when it does)."""

    id: str
    points: int
    #: What it is worth to the customer, in the shop currency.
    value: Decimal
    #: ``coupon`` (a fixed-amount coupon of ``value``) or ``reward`` (``title``, free).
    kind: str
    title: str | None
    missing: int

    @property
    def reached(self) -> bool:
        return self.missing == 0


@dataclass(frozen=True, slots=True)
class TierView:
    """The customer's tier (``None``: the base rate) and the next one with what is missing:
    money in the shop currency for ``basis`` ``spend``, points for ``points``."""

    current: str | None
    basis: str
    next: str | None = None
    missing: Decimal | None = None
    multiplier: Decimal | None = None


@dataclass(frozen=True, slots=True)
class CardView:
    """One stamp card: the stamps on the open card of ``needed``, and completed cards whose
    reward stands."""

    id: str
    name: str
    stamps: int
    needed: int
    completed: int = 0

    @property
    def missing(self) -> int:
        return max(self.needed - self.stamps, 0)


@dataclass(frozen=True, slots=True)
class LoyaltyView:
    """Everything the loyalty blocks show for one customer and order."""

    currency: str
    #: Points this order earns (``None``: not known, e.g. a guest without an account).
    earned: int | None = None
    #: Of ``earned``, the campaigns' bonus.
    bonus: int = 0
    pending_days: int = 0
    available: int = 0
    pending: int = 0
    minimum_balance: int = 0
    #: All redemption options, cheapest first.
    options: tuple[OptionView, ...] = ()
    tier: TierView | None = None
    cards: tuple[CardView, ...] = ()

    @property
    def reached(self) -> tuple[OptionView, ...]:
        """The options the balance buys now."""
        return tuple(o for o in self.options if o.reached)

    @property
    def next_option(self) -> OptionView | None:
        """The cheapest option the balance does not reach yet."""
        return next((o for o in self.options if not o.reached), None)

    def card(self, card_id: str) -> CardView | None:
        return next((c for c in self.cards if c.id == card_id), None)

    def customer(self) -> CustomerLoyalty:
        """What the platform keeps for the theme (balance, pending points, tier)."""
        tier = self.tier
        return CustomerLoyalty(
            balance=self.available,
            pending=self.pending,
            tier=tier.current if tier else None,
            next_tier=tier.next if tier else None,
            to_next_tier=tier.missing if tier else None,
            tier_basis=tier.basis if tier else None,
            currency=self.currency,
        )


def _option(option: RedemptionOption, available: int, minimum: int) -> OptionView:
    needed = max(option.points, minimum)
    reward = option.reward
    return OptionView(
        id=option.id,
        points=option.points,
        value=option.value,
        kind="coupon" if option.coupon_value is not None else "reward",
        title=reward.title if reward is not None and option.coupon_value is None else None,
        missing=max(needed - available, 0),
    )


def _tier(program: LoyaltyProgram, standing: Standing | None) -> TierView | None:
    rules = program.tiers
    if rules is None:
        return None
    if standing is None:
        first = rules.levels[0] if rules.levels else None
        return TierView(
            current=None,
            basis=rules.basis.value,
            next=first.name if first else None,
            missing=first.threshold if first else None,
        )
    current = standing.tier
    return TierView(
        current=current.name if current else None,
        basis=rules.basis.value,
        next=standing.next.name if standing.next else None,
        missing=standing.missing,
        multiplier=current.multiplier if current else None,
    )


def _card_view(card_id: str, name: str, needed: int, state: CardState | None) -> CardView:
    if state is None:
        return CardView(card_id, name, 0, needed)
    done = sum(1 for c in state.completions if c.status is not RewardStatus.DEACTIVATED)
    return CardView(card_id, name, min(len(state.stamps), needed), needed, done)


def loyalty_view(
    program: LoyaltyProgram,
    *,
    state: JournalState | None = None,
    award: PointsAward | None = None,
    standing: Standing | None = None,
    cards: Sequence[CardState] = (),
) -> LoyaltyView:
    """The view of one customer's account after an order.

    ``state``: the account's journal (``None``: no points yet); ``award``: what the order earns
    (:func:`~.earning.points_for`; ``None``: not known); ``standing``: the tier standing
    (:func:`~.tiers.standing`; ``None``: no history, below the first tier); ``cards``: the
    account's stamp cards (missing ones are empty).
    """
    journal = state if state is not None else JournalState()
    rules = program.redemption
    available = journal.available
    options = sorted(rules.options, key=lambda o: (o.points, o.id))
    by_card = {c.card: c for c in cards}
    return LoyaltyView(
        currency=program.currency,
        earned=award.points if award is not None else None,
        bonus=award.bonus if award is not None else 0,
        pending_days=program.pending_days,
        available=available,
        pending=journal.pending,
        minimum_balance=rules.minimum_balance,
        options=tuple(_option(o, available, rules.minimum_balance) for o in options),
        tier=_tier(program, standing),
        cards=tuple(
            _card_view(c.id, c.name, c.stamps, by_card.get(c.id)) for c in program.stamp_cards
        ),
    )
