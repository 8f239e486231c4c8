"""Property: stamps, refunds and used rewards in any order, with duplicates, keep cards exact."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from aftersale_kit.core.campaign import CouponKind, IssueCoupon
from aftersale_kit.core.loyalty.program import StampCard
from aftersale_kit.core.loyalty.stamps import (
    CardState,
    RewardStatus,
    add_stamp,
    mark_reward_used,
    remove_stamp,
)

from .builders import NOW

CARD = StampCard(
    id="karte",
    name="Karte",
    stamps=3,
    reward=(IssueCoupon(kind=CouponKind.FIXED_AMOUNT, value=Decimal(5), valid_days=30),),
)

Event = tuple[str, int]
EVENTS = st.lists(
    st.tuples(st.sampled_from(["stamp", "stamp", "stamp", "refund", "use"]), st.integers(0, 9)),
    max_size=40,
)


def check(state: CardState, rewarded: list[str], deactivated: list[str]) -> None:
    open_ids = [s.order_id for s in state.stamps]
    active = [c for c in state.completions if c.status is RewardStatus.ACTIVE]
    standing = [c for c in state.completions if c.status is not RewardStatus.DEACTIVATED]
    on_cards = open_ids + [s.order_id for c in standing for s in c.stamps]
    assert len(on_cards) == len(set(on_cards))  # an order stamps once
    assert len(open_ids) < CARD.stamps
    assert all(len(c.stamps) == CARD.stamps for c in state.completions)
    refunded_on_card = set(open_ids) | {s.order_id for c in active for s in c.stamps}
    assert not refunded_on_card & state.taken_back  # a taken-back stamp counts nowhere unused
    keys = [c.key for c in state.completions]
    assert keys == rewarded  # every completion rewarded exactly once, in order
    assert [c.number for c in state.completions] == list(range(1, len(keys) + 1))
    assert sorted(deactivated) == sorted(
        c.key for c in state.completions if c.status is RewardStatus.DEACTIVATED
    )


@settings(max_examples=100, deadline=None)
@given(EVENTS)
def test_stamp_cards_stay_exact_in_any_order(events: list[Event]) -> None:
    state = CardState(card=CARD.id)
    rewarded: list[str] = []
    deactivated: list[str] = []
    for kind, n in events:
        if kind == "stamp":
            result = add_stamp(state, CARD, f"o{n}", NOW + timedelta(days=n))
            again = add_stamp(result.state, CARD, f"o{n}", NOW + timedelta(days=n))
            assert not again.changed and again.completed is None  # redelivered
        elif kind == "refund":
            result = remove_stamp(state, CARD, f"o{n}")
        else:
            if n < len(state.completions):
                state = mark_reward_used(state, state.completions[n].key)
            check(state, rewarded, deactivated)
            continue
        if result.completed is not None:
            rewarded.append(result.completed.key)
        if result.deactivated is not None:
            deactivated.append(result.deactivated.key)
        state = result.state
        check(state, rewarded, deactivated)
