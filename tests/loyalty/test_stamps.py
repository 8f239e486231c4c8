"""Stamp cards: the 5th order rewards once; a refund before the reward is used deactivates it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from aftersale_kit.core.campaign import CouponKind, FreeGift, IssueCoupon, ShopSettings
from aftersale_kit.core.conditions import compile_condition
from aftersale_kit.core.loyalty.program import StampCard
from aftersale_kit.core.loyalty.stamps import (
    CardState,
    RewardStatus,
    add_stamp,
    earns_stamp,
    keeps_stamp,
    mark_reward_used,
    remove_stamp,
    reward_actions,
)
from aftersale_kit.core.model import FinancialStatus, Refund, RefundLine

from .builders import NOW, SHOP, eur, line, order

CARD = StampCard(
    id="kabel-karte",
    name="Sammelkarte",
    stamps=5,
    reward=(IssueCoupon(kind=CouponKind.FIXED_AMOUNT, value=Decimal(15), valid_days=60),),
    conditions=(compile_condition("subtotal >= 20"),),
    window_days=365,
)


def stamped(*order_ids: str, state: CardState | None = None) -> CardState:
    state = state or CardState(card=CARD.id)
    for n, oid in enumerate(order_ids):
        state = add_stamp(state, CARD, oid, NOW + timedelta(days=n)).state
    return state


def test_five_orders_reward_on_the_fifth_never_twice() -> None:
    state = stamped("1", "2", "3", "4")
    assert (len(state.stamps), state.completions) == (4, ())
    fifth = add_stamp(state, CARD, "5", NOW + timedelta(days=5))
    assert fifth.completed is not None and fifth.completed.key == "kabel-karte:1"
    assert [s.order_id for s in fifth.completed.stamps] == ["1", "2", "3", "4", "5"]
    again = add_stamp(fifth.state, CARD, "5", NOW + timedelta(days=6))  # redelivered
    assert again.completed is None and not again.changed
    assert "has its stamp already" in again.reason
    sixth = add_stamp(fifth.state, CARD, "6", NOW + timedelta(days=7))
    assert sixth.completed is None and len(sixth.state.stamps) == 1  # a new card


def test_a_refund_before_the_reward_is_used_deactivates_it() -> None:
    state = stamped("1", "2", "3", "4", "5")
    taken = remove_stamp(state, CARD, "3")
    assert taken.deactivated is not None and taken.deactivated.key == "kabel-karte:1"
    assert taken.state.completions[0].status is RewardStatus.DEACTIVATED
    assert [s.order_id for s in taken.state.stamps] == ["1", "2", "4", "5"]  # below complete
    # the refunded order never stamps again; a new order completes a new card
    assert not add_stamp(taken.state, CARD, "3", NOW).changed
    refilled = add_stamp(taken.state, CARD, "7", NOW + timedelta(days=9))
    assert refilled.completed is not None and refilled.completed.key == "kabel-karte:2"


def test_a_used_reward_stays_when_an_order_is_refunded_later() -> None:
    state = mark_reward_used(stamped("1", "2", "3", "4", "5"), "kabel-karte:1")
    taken = remove_stamp(state, CARD, "2")
    assert taken.deactivated is None
    assert taken.state.completions[0].status is RewardStatus.USED
    assert "was used; kept" in taken.reason


def test_a_refund_that_arrives_before_the_stamp_wins() -> None:
    state = remove_stamp(CardState(card=CARD.id), CARD, "9").state
    assert not add_stamp(state, CARD, "9", NOW).changed


def test_stamps_older_than_the_window_drop_off() -> None:
    state = CardState(card=CARD.id)
    state = add_stamp(state, CARD, "old", NOW - timedelta(days=400)).state
    for n in range(4):
        state = add_stamp(state, CARD, str(n), NOW + timedelta(days=n)).state
    assert [s.order_id for s in state.stamps] == ["0", "1", "2", "3"]


def test_which_orders_earn_and_keep_a_stamp() -> None:
    assert earns_stamp(CARD, order()) is True
    small = order("2001", line("l1", "9.99"))
    assert earns_stamp(CARD, small) is False
    unknown = StampCard(
        "k", "k", 2, CARD.reward, conditions=(compile_condition("customer.orders_count > 1"),)
    )
    assert earns_stamp(unknown, order()) is None
    # 50.00 of goods; refunding the 20.00 filter leaves 30.00: still >= 20
    bought = order()
    filter_back = Refund("r1", eur("20.00"), lines=(RefundLine("l2", 1),))
    assert keeps_stamp(CARD, bought, [filter_back])
    everything = Refund("r2", eur("30.00"), lines=(RefundLine("l1", 2),))
    assert not keeps_stamp(CARD, bought, [filter_back, everything])
    assert not keeps_stamp(CARD, order(financial_status=FinancialStatus.REFUNDED), [])


def test_the_reward_is_planned_with_stable_keys_and_codes() -> None:
    settings = ShopSettings(platform="woocommerce", domain=SHOP, currency="EUR")
    completion = add_stamp(stamped("1", "2", "3", "4"), CARD, "5", NOW).completed
    assert completion is not None
    card = StampCard(CARD.id, CARD.name, 5, (*CARD.reward, FreeGift(note="Kabelbinder")))
    kw = {"order": order("5"), "account": "c-42", "settings": settings, "code_secret": b"k"}
    first = reward_actions(card, completion, **kw)  # type: ignore[arg-type]
    assert first == reward_actions(card, completion, **kw)  # type: ignore[arg-type]
    assert [p.idempotency_key for p in first] == [
        f"{SHOP}:loyalty:c-42:kabel-karte:1:0",
        f"{SHOP}:loyalty:c-42:kabel-karte:1:1",
    ]
    assert first[0].coupon_code and first[1].coupon_code is None
    assert first[0].cost == eur("15.00")


def test_an_open_stamp_fills_the_gap_so_the_reward_stands() -> None:
    state = stamped("1", "2", "3", "4", "5", "6")  # card 1 complete, "6" on the next card
    taken = remove_stamp(state, CARD, "2")
    assert taken.deactivated is None
    (completion,) = taken.state.completions
    assert completion.status is RewardStatus.ACTIVE
    assert [s.order_id for s in completion.stamps] == ["1", "3", "4", "5", "6"]
    assert taken.state.stamps == ()
    assert "order 6's stamp takes the place of order 2's" in taken.reason
