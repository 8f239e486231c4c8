"""Stamp cards: which orders earn a stamp, progression, completion exactly once, take-back.

One :class:`CardState` per (account, card). A stamp is keyed by its order id, so a redelivered
order stamps once. Stamps count toward the card within ``window_days`` before the newest one
(older ones drop off); the stamp that makes the card complete creates one :class:`Completion`
(keyed ``<card>:<n>``), whose reward is planned once (:func:`reward_actions`). A new card starts
with the next stamp.

A refunded or cancelled order (:func:`keeps_stamp`) takes its stamp back
(:func:`remove_stamp`): from the open card; or, when its card was completed and the reward is
not used yet, the oldest stamp of the open card takes its place (the card stays complete, the
reward stands); without one, the completion is deactivated (the result says so, the caller
deactivates the coupon or gift), and its other stamps go back on the open card, which is now
below complete. A used reward stays used. An order whose stamp was taken back never stamps
again, whatever order the events arrive in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from ..campaign import IssueCoupon, ShopSettings
from ..codes import coupon_code
from ..decision import PlannedAction
from ..engine import action_cost
from ..model import Order, Refund
from ..timeline import net_of_refunds, reversal_of
from .program import StampCard

__all__ = [
    "CardState",
    "Completion",
    "RewardStatus",
    "StampEntry",
    "StampResult",
    "add_stamp",
    "earns_stamp",
    "keeps_stamp",
    "mark_reward_used",
    "remove_stamp",
    "reward_actions",
]


class RewardStatus(StrEnum):
    ACTIVE = "active"
    USED = "used"
    DEACTIVATED = "deactivated"


@dataclass(frozen=True, slots=True)
class StampEntry:
    order_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Completion:
    """A completed card: the ``number``-th of this account, its stamps and its reward's state."""

    key: str
    number: int
    stamps: tuple[StampEntry, ...]
    at: datetime
    status: RewardStatus = RewardStatus.ACTIVE


@dataclass(frozen=True, slots=True)
class CardState:
    card: str
    #: The stamps on the open (not yet complete) card, oldest first.
    stamps: tuple[StampEntry, ...] = ()
    completions: tuple[Completion, ...] = ()
    #: Orders whose stamp was taken back (they never stamp again).
    taken_back: frozenset[str] = frozenset()

    def has(self, order_id: str) -> bool:
        """The order's stamp is on the open card or on a completion that stands."""
        if any(s.order_id == order_id for s in self.stamps):
            return True
        return any(
            s.order_id == order_id
            for c in self.completions
            if c.status is not RewardStatus.DEACTIVATED
            for s in c.stamps
        )


@dataclass(frozen=True, slots=True)
class StampResult:
    state: CardState
    changed: bool
    reason: str
    #: Set when this stamp completed the card: plan its reward.
    completed: Completion | None = None
    #: Set when taking a stamp back deactivated a completion: deactivate its reward.
    deactivated: Completion | None = None


def earns_stamp(card: StampCard, order: Order) -> bool | None:
    """All the card's conditions hold on ``order`` (``None``: one is unknown, none false)."""
    unknown = False
    for condition in card.conditions:
        verdict = condition.evaluate(order).value
        if verdict is False:
            return False
        unknown = unknown or verdict is None
    return None if unknown else True


def keeps_stamp(card: StampCard, order: Order, refunds: Sequence[Refund]) -> bool:
    """Whether the order still earns its stamp after ``refunds``: not when it is cancelled or
    refunded in full, nor when a condition is now false on the order net of the refunds (an
    unknown condition keeps it: nothing is taken back on a guess)."""
    if reversal_of(order) is not None:
        return False
    net = net_of_refunds(order, refunds)
    if not net.line_items and order.line_items:
        return False
    return earns_stamp(card, net) is not False


def add_stamp(state: CardState, card: StampCard, order_id: str, at: datetime) -> StampResult:
    """Stamp ``order_id`` at ``at``; completes the card when it reaches ``card.stamps``."""
    if order_id in state.taken_back:
        return StampResult(state, False, f"order {order_id} was refunded or cancelled")
    if state.has(order_id):
        return StampResult(state, False, f"order {order_id} has its stamp already")
    stamps = sorted([*state.stamps, StampEntry(order_id, at)], key=lambda s: s.at)
    if card.window_days is not None:
        newest = stamps[-1].at
        stamps = [s for s in stamps if newest - s.at < timedelta(days=card.window_days)]
    if len(stamps) < card.stamps:
        new = replace(state, stamps=tuple(stamps))
        return StampResult(new, True, f"stamp {len(stamps)} of {card.stamps}")
    number = len(state.completions) + 1
    completion = Completion(f"{card.id}:{number}", number, tuple(stamps), at)
    new = replace(state, stamps=(), completions=(*state.completions, completion))
    return StampResult(new, True, f"card complete ({card.stamps} stamps)", completed=completion)


def _within(card: StampCard, stamps: Sequence[StampEntry]) -> bool:
    if card.window_days is None or not stamps:
        return True
    times = [s.at for s in stamps]
    return max(times) - min(times) < timedelta(days=card.window_days)


def _refill(
    state: CardState, card: StampCard, index: int, order_id: str, taken: frozenset[str]
) -> StampResult | None:
    """The completion at ``index`` lost ``order_id``'s stamp: the oldest open stamp takes its
    place (the card stays complete, its reward stands), or ``None`` when none fits."""
    completion = state.completions[index]
    kept = [s for s in completion.stamps if s.order_id != order_id]
    for candidate in state.stamps:
        stamps = sorted([*kept, candidate], key=lambda s: s.at)
        if _within(card, stamps):
            filled = replace(completion, stamps=tuple(stamps))
            completions = (*state.completions[:index], filled, *state.completions[index + 1 :])
            rest = tuple(s for s in state.stamps if s is not candidate)
            new = replace(state, stamps=rest, completions=completions, taken_back=taken)
            return StampResult(
                new,
                True,
                f"card {completion.key} stays complete: order {candidate.order_id}'s stamp "
                f"takes the place of order {order_id}'s",
            )
    return None


def remove_stamp(state: CardState, card: StampCard, order_id: str) -> StampResult:
    """Take back the stamp of a refunded or cancelled order (see the module docstring)."""
    taken = state.taken_back | {order_id}
    if any(s.order_id == order_id for s in state.stamps):
        stamps = tuple(s for s in state.stamps if s.order_id != order_id)
        new = replace(state, stamps=stamps, taken_back=taken)
        return StampResult(new, True, f"stamp of order {order_id} taken back")
    for index, completion in enumerate(state.completions):
        if completion.status is RewardStatus.DEACTIVATED:
            continue
        if not any(s.order_id == order_id for s in completion.stamps):
            continue
        if completion.status is RewardStatus.USED:
            new = replace(state, taken_back=taken)
            return StampResult(new, True, f"the reward of card {completion.key} was used; kept")
        refilled = _refill(state, card, index, order_id, taken)
        if refilled is not None:
            return refilled
        off = replace(completion, status=RewardStatus.DEACTIVATED)
        back = [s for s in completion.stamps if s.order_id != order_id]
        stamps = tuple(sorted([*state.stamps, *back], key=lambda s: s.at))
        completions = (*state.completions[:index], off, *state.completions[index + 1 :])
        new = replace(state, stamps=stamps, completions=completions, taken_back=taken)
        return StampResult(
            new,
            True,
            f"card {completion.key} is below complete again; its unused reward is deactivated",
            deactivated=off,
        )
    return StampResult(replace(state, taken_back=taken), order_id not in state.taken_back, "")


def mark_reward_used(state: CardState, completion_key: str) -> CardState:
    """The completion's reward was used (a refund can no longer deactivate it)."""
    completions = tuple(
        replace(c, status=RewardStatus.USED)
        if c.key == completion_key and c.status is RewardStatus.ACTIVE
        else c
        for c in state.completions
    )
    return replace(state, completions=completions)


def reward_actions(
    card: StampCard,
    completion: Completion,
    *,
    order: Order,
    account: str,
    settings: ShopSettings,
    code_secret: bytes,
) -> tuple[PlannedAction, ...]:
    """The completion's reward as planned actions, like a campaign's: idempotency keys
    ``<shop>:loyalty:<account>:<card>:<n>:<index>`` and coupon codes derived from them, so
    the reward is carried out once however often it is planned."""
    shop = settings.domain
    owner = f"loyalty:{account}:{completion.key}"
    planned = []
    coupons = 0
    for index, action in enumerate(card.reward):
        code = None
        if isinstance(action, IssueCoupon):
            code = coupon_code(
                secret=code_secret,
                shop=shop,
                order_id=order.id,
                campaign_id=owner,
                prefix=action.code_prefix,
                length=action.code_length,
                sequence=coupons,
            )
            coupons += 1
        planned.append(
            PlannedAction(
                campaign_id=f"stamp-card:{card.id}",
                action=action,
                idempotency_key=f"{shop}:{owner}:{index}",
                cost=action_cost(action, order, settings),
                coupon_code=code,
            )
        )
    return tuple(planned)
