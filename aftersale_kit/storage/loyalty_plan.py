"""What an order's timeline books on its customer's loyalty account (pure; run under the lock).

Pure, and kept below the service so that the backtest books points and stamp cards with the
very same plan as the live step.

Every step of an order plans the whole of what the order stands for now, and the ledger's keys
make it book only what is new:

* a paid order earns once (``earn:<order>``): the base rate, or the tier's rate for a tier
  customer (the tier the customer's history reaches when the order was paid), with the bonus of
  the ``award_points`` actions of the order's steps so far; paid, completed and redelivered
  webhooks in any order earn once;
* a bonus decided at a later step (an order created paid earns at its created step; the
  ``order_paid`` or ``order_fulfilled`` campaign's bonus comes after) tops the grant up once to
  what the order earns with all its bonuses so far (``earn:<order>:+<total>``), priced with the
  tier it earned with and pending from its payment like the grant, so the order earns the same
  whatever the order of its steps; a closed order is not topped up;
* its refunds take back what the order net of all its refunds no longer earns
  (:func:`~aftersale_kit.core.loyalty.earning.reversal_for`), keyed by the set of refunds
  known (``reverse:<order>:<r1>+<r2>``), a cancellation or full refund all (``...:full``);
  reordered refunds reverse each share once, because each plan takes what is left;
* each ``stamp`` action stamps its card once; the completing order plans the reward once
  (:func:`~aftersale_kit.core.loyalty.stamps.reward_actions`), carried out by the existing
  coupon and gift job kinds; a refunded or cancelled order takes its stamp back, and a
  reward not used yet is revoked when its card falls below complete.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from ..core.campaign import IssueCoupon, ShopConfig
from ..core.loyalty.actions import AwardPoints, Stamp
from ..core.loyalty.earning import line_values, points_for, reversal_for
from ..core.loyalty.ledger import JournalState, Status, apply
from ..core.loyalty.movements import earn_key, earning, reversal, top_up
from ..core.loyalty.program import LoyaltyProgram, StampCard, Tier
from ..core.loyalty.stamps import (
    CardState,
    StampResult,
    add_stamp,
    keeps_stamp,
    remove_stamp,
    reward_actions,
)
from ..core.loyalty.tiers import tier_of
from ..core.model import EventKind, FinancialStatus, Order, Refund
from ..core.money import CurrencyMismatchError
from ..core.timeline import reversal_of
from .codec import planned_action_to_dict
from .decisions import effect_kind
from .loyalty import (
    AccountView,
    JournalRow,
    LoyaltyPlan,
    PlannedReward,
    reward_coupon_keys,
)
from .records import DecisionRecord

__all__ = ["OrderFacts", "order_plan"]

_PAID = (FinancialStatus.PAID, FinancialStatus.PARTIALLY_REFUNDED, FinancialStatus.REFUNDED)


@dataclass(frozen=True, slots=True)
class OrderFacts:
    """What the store knows of the order after its step: its decided steps, its refunds, and
    whether it is closed (cancelled, refunded in full)."""

    order: Order
    records: tuple[DecisionRecord, ...]
    refunds: tuple[Refund, ...]
    closed: bool
    now: datetime


def _was_paid(order: Order) -> bool:
    return order.paid_at is not None or order.financial_status in _PAID


def _bonuses(records: Sequence[DecisionRecord]) -> tuple[AwardPoints, ...]:
    return tuple(
        p.action
        for r in records
        if r.event_kind is not EventKind.REFUND_CREATED
        for p in r.decision.actions
        if isinstance(p.action, AwardPoints)
    )


def _stamps(records: Sequence[DecisionRecord]) -> list[tuple[str, DecisionRecord]]:
    seen: dict[str, DecisionRecord] = {}
    for r in records:
        if r.event_kind is EventKind.REFUND_CREATED:
            continue
        for p in r.decision.actions:
            if isinstance(p.action, Stamp):
                seen.setdefault(p.action.card, r)
    return list(seen.items())


def _tier(program: LoyaltyProgram, name: str | None) -> Tier | None:
    if name is None or program.tiers is None:
        return None
    return next((t for t in program.tiers.levels if t.name == name), None)


def _earn(
    facts: OrderFacts, program: LoyaltyProgram, view: AccountView, bonuses: Sequence[AwardPoints]
) -> JournalRow | None:
    order = facts.order
    key = earn_key(order.id)
    if key in view.state.seen:
        return view.earned.get(key)
    if not _was_paid(order):
        return None
    at = order.paid_at or order.created_at
    tier = tier_of(view.history, program, at)
    try:
        award = points_for(order, program, tier, bonuses)
    except CurrencyMismatchError:
        return None  # an order in another currency earns nothing until priced
    spend = sum((v for _, v in line_values(order, program)), Decimal(0))
    movement = earning(order, award, program, at)
    return JournalRow(movement, 0, 0, spend=spend, tier=tier.name if tier else None)


def _top_up(
    facts: OrderFacts,
    program: LoyaltyProgram,
    state: JournalState,
    earned: JournalRow,
    bonuses: Sequence[AwardPoints],
) -> JournalRow | None:
    """The points the order's bonuses so far add to what its grant holds, if any."""
    order = facts.order
    grant = state.grants.get(earned.movement.key)
    if grant is None or not bonuses or facts.closed or reversal_of(order) is not None:
        return None
    try:
        award = points_for(order, program, _tier(program, earned.tier), bonuses)
    except CurrencyMismatchError:
        return None
    if award.points <= grant.points:
        return None
    return JournalRow(top_up(order, award, earned.movement, grant.points), 0, 0, tier=earned.tier)


def _refund_ref(refunds: Sequence[Refund], closed: bool) -> str:
    if closed or not refunds:
        return "full"
    ref = "+".join(sorted({r.id for r in refunds}))
    if len(ref) > 200:
        ref = "set-" + hashlib.sha256(ref.encode()).hexdigest()[:32]
    return ref


def _reverse(
    facts: OrderFacts,
    program: LoyaltyProgram,
    state: JournalState,
    earned: JournalRow,
    bonuses: Sequence[AwardPoints],
) -> JournalRow | None:
    order = facts.order
    grant = state.grants.get(earned.movement.key)
    closed = facts.closed or reversal_of(order) is not None
    if grant is None or not (facts.refunds or closed):
        return None
    plan = reversal_for(
        order,
        facts.refunds,
        program,
        earned=grant.points,
        already=grant.reversed,
        tier=_tier(program, earned.tier),
        bonuses=bonuses,
        closed=closed,
    )
    if plan.points <= 0:
        return None
    topped = grant.points if grant.points != earned.movement.points else None
    movement = reversal(order, _refund_ref(facts.refunds, closed), plan, facts.now, topped)
    spend = None
    if earned.spend is not None and grant.points > 0:
        spend = -(earned.spend * plan.points / grant.points)
    return JournalRow(movement, 0, 0, spend=spend)


def _card_step(facts: OrderFacts, card: StampCard, state: CardState) -> StampResult:
    order = facts.order
    if not facts.closed and keeps_stamp(card, order, facts.refunds):
        return add_stamp(state, card, order.id, order.created_at)
    return remove_stamp(state, card, order.id)


def _rewards(
    config: ShopConfig,
    card: StampCard,
    result: StampResult,
    *,
    facts: OrderFacts,
    record: DecisionRecord,
    account: str,
    code_secret: bytes,
) -> list[PlannedReward]:
    if result.completed is None:
        return []
    planned = reward_actions(
        card,
        result.completed,
        order=facts.order,
        account=account,
        settings=config.settings,
        code_secret=code_secret,
    )
    base = {
        "decision_id": record.id,
        "order_id": record.order_id,
        "event_kind": record.event_kind.value,
        "ref": record.ref,
    }
    return [
        PlannedReward(
            planned=p,
            kind=effect_kind(p),
            order_id=facts.order.id,
            payload={**base, "action": planned_action_to_dict(p)},
        )
        for p in planned
    ]


def _revoked(config: ShopConfig, card: StampCard, result: StampResult, account: str) -> list[str]:
    if result.deactivated is None:
        return []
    keys = reward_coupon_keys(config.settings.domain, account, result.deactivated, len(card.reward))
    return [
        k for k, action in zip(keys, card.reward, strict=True) if isinstance(action, IssueCoupon)
    ]


def _cards(
    config: ShopConfig,
    program: LoyaltyProgram,
    facts: OrderFacts,
    view: AccountView,
    code_secret: bytes,
) -> tuple[dict[str, CardState], list[PlannedReward], list[str]]:
    cards: dict[str, CardState] = {}
    rewards: list[PlannedReward] = []
    revoke: list[str] = []
    for card_id, record in _stamps(facts.records):
        card = program.card(card_id)
        if card is None:
            continue
        result = _card_step(facts, card, view.cards.get(card_id) or CardState(card_id))
        if not result.changed:
            continue
        cards[card_id] = result.state
        rewards += _rewards(
            config,
            card,
            result,
            facts=facts,
            record=record,
            account=view.account,
            code_secret=code_secret,
        )
        revoke += _revoked(config, card, result, view.account)
    return cards, rewards, revoke


def order_plan(
    config: ShopConfig, facts: OrderFacts, view: AccountView, *, code_secret: bytes
) -> LoyaltyPlan:
    """Everything the order stands for on the account now (see the module docstring)."""
    program = config.loyalty
    if program is None:
        return LoyaltyPlan()
    bonuses = _bonuses(facts.records)
    movements: list[JournalRow] = []
    state = view.state
    earned = _earn(facts, program, view, bonuses)
    if earned is not None and earned.movement.key not in state.seen:
        result = apply(state, earned.movement)
        if result.status is Status.APPLIED:
            state = result.state
            movements.append(earned)
    if earned is not None:
        more = _top_up(facts, program, state, earned, bonuses)
        if more is not None:
            result = apply(state, more.movement)
            if result.status is Status.APPLIED:
                state = result.state
                movements.append(more)
        back = _reverse(facts, program, state, earned, bonuses)
        if back is not None:
            movements.append(back)
    cards, rewards, revoke = _cards(config, program, facts, view, code_secret)
    return LoyaltyPlan(
        movements=tuple(movements), cards=cards, rewards=tuple(rewards), revoke=tuple(revoke)
    )
