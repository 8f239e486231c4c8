"""The ledger arithmetic: pending, release, duplicates, reversals of spent points, expiry."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from aftersale_kit.core.loyalty import movements
from aftersale_kit.core.loyalty.earning import points_for, reversal_for
from aftersale_kit.core.loyalty.ledger import (
    ApplyResult,
    JournalState,
    Movement,
    MovementKind,
    SourceKind,
    Status,
    apply,
    mark_used,
)
from aftersale_kit.core.loyalty.program import (
    Expiry,
    RedemptionOption,
    RedemptionRules,
    SpentRefundPolicy,
)
from aftersale_kit.core.loyalty.redeem import check_redemption, redemption_movement
from aftersale_kit.core.loyalty.schedule import due, expiring, release_at
from aftersale_kit.core.model import Refund, RefundLine

from .builders import NOW, eur, order, program

FIVE_EURO = RedemptionOption(id="fuenf-euro", points=500, coupon_value=Decimal(5))


def earn(key: str, points: int, at: datetime = NOW) -> Movement:
    return Movement(
        key=key,
        kind=MovementKind.EARNED_PENDING,
        at=at,
        points=points,
        ref=key,
        release_at=release_at(at, program()),
    )


def run(state: JournalState, *movements: Movement, **kw: object) -> JournalState:
    for movement in movements:
        result = apply(state, movement, **kw)  # type: ignore[arg-type]
        assert result.status is Status.APPLIED, result.reason
        state = result.state
    return state


def book_due(state: JournalState, now: datetime, **changes: object) -> JournalState:
    return run(state, *due(state, program(**changes), now))


def test_earned_points_are_pending_and_cannot_be_spent() -> None:
    state = run(JournalState(), earn("earn:1001", 600))
    assert (state.pending, state.available) == (600, 0)
    result = apply(state, redemption_movement(FIVE_EURO, request="q1", at=NOW, coupon="C1"))
    assert result.status is Status.REJECTED
    assert "600 pending points cannot be spent yet" in result.reason
    assert "redeem:q1" not in result.state.seen  # not remembered: it may come again
    check = check_redemption(state, program(redemption=RedemptionRules((FIVE_EURO,))), "fuenf-euro")
    assert not check.allowed and "600 still pending" in check.reason


def test_the_release_job_makes_them_available_after_pending_days() -> None:
    state = run(JournalState(), earn("earn:1001", 600))
    assert due(state, program(), NOW + timedelta(days=13)) == ()
    state = book_due(state, NOW + timedelta(days=14))
    assert (state.pending, state.available) == (0, 600)
    assert due(state, program(), NOW + timedelta(days=30)) == ()  # released once


def test_a_movement_booked_twice_moves_nothing_the_second_time() -> None:
    state = run(JournalState(), earn("earn:1001", 600))
    again = apply(state, earn("earn:1001", 600))
    assert again.status is Status.DUPLICATE and again.state is state
    assert again.booking is None


def test_a_release_before_its_earning_is_rejected_and_can_come_again() -> None:
    release = Movement(
        key="release:earn:1001", kind=MovementKind.RELEASED, at=NOW, grant="earn:1001"
    )
    early = apply(JournalState(), release)
    assert early.status is Status.REJECTED and "not booked yet" in early.reason
    state = run(JournalState(), earn("earn:1001", 600), release)
    assert state.available == 600


def test_a_reversal_of_pending_points_takes_them_from_pending() -> None:
    state = run(JournalState(), earn("earn:1001", 600))
    reverse = Movement(
        key="reverse:1001:r1",
        kind=MovementKind.REVERSED,
        at=NOW,
        points=200,
        source=SourceKind.REFUND,
        grant="earn:1001",
    )
    result = apply(state, reverse)
    assert result.booking is not None
    assert (result.booking.pending_delta, result.booking.available_delta) == (-200, 0)
    state = book_due(result.state, NOW + timedelta(days=14))
    assert (state.pending, state.available) == (0, 400)


def _spent_then_refunded(policy: SpentRefundPolicy) -> ApplyResult:
    state = run(JournalState(), earn("earn:1001", 600))
    state = book_due(state, NOW + timedelta(days=14))
    state = run(state, redemption_movement(FIVE_EURO, request="q1", at=NOW, coupon="PUNKTE-1"))
    reverse = Movement(
        key="reverse:1001:full",
        kind=MovementKind.REVERSED,
        at=NOW + timedelta(days=20),
        points=600,
        source=SourceKind.REFUND,
        grant="earn:1001",
    )
    return apply(state, reverse, policy=policy)


def test_spent_points_refunded_make_the_balance_negative_by_default() -> None:
    result = _spent_then_refunded(SpentRefundPolicy.NEGATIVE_BALANCE)
    assert result.state.available == -500
    assert result.instructions == ()
    # later points pay the debt first
    state = run(result.state, earn("earn:1002", 700, NOW + timedelta(days=21)))
    state = book_due(state, NOW + timedelta(days=40))
    assert state.available == 200
    assert sum(g.remaining for g in state.grants.values()) - state.debt == 200


def test_or_the_unused_redemption_coupon_is_deactivated_first() -> None:
    result = _spent_then_refunded(SpentRefundPolicy.DEACTIVATE_COUPON)
    (instruction,) = result.instructions
    assert (instruction.coupon, instruction.points) == ("PUNKTE-1", 500)
    state = run(result.state, instruction.follow_up)
    assert state.available == 0
    assert state.redemptions["redeem:q1"].cancelled
    # a used coupon cannot be deactivated any more: the balance stays negative
    used = mark_used(_spent_then_refunded(SpentRefundPolicy.NEGATIVE_BALANCE).state, "redeem:q1")
    assert apply(used, instruction.follow_up).status is Status.REJECTED


def test_a_used_coupon_is_not_named_for_deactivation() -> None:
    state = run(JournalState(), earn("earn:1001", 600))
    state = book_due(state, NOW + timedelta(days=14))
    state = run(state, redemption_movement(FIVE_EURO, request="q1", at=NOW, coupon="C1"))
    state = mark_used(state, "redeem:q1")
    reverse = Movement(
        key="reverse:1001:full",
        kind=MovementKind.REVERSED,
        at=NOW,
        points=600,
        grant="earn:1001",
    )
    result = apply(state, reverse, policy=SpentRefundPolicy.DEACTIVATE_COUPON)
    assert result.instructions == () and result.state.available == -500


def test_points_expire_after_their_lifetime_oldest_spent_first() -> None:
    rules = {"expiry": Expiry(lifetime_months=12)}
    state = run(
        JournalState(),
        earn("earn:1", 300, NOW),
        earn("earn:2", 300, NOW + timedelta(days=100)),
    )
    state = book_due(state, NOW + timedelta(days=120), **rules)
    state = run(state, redemption_movement(
        RedemptionOption("p", 200, coupon_value=Decimal(2)), request="q", at=NOW, coupon=None
    ))  # fmt: skip
    soon = expiring(state, program(**rules), NOW + timedelta(days=300), NOW + timedelta(days=400))
    assert [(e.grant, e.points) for e in soon] == [("earn:1", 100)]
    state = book_due(state, NOW + timedelta(days=366), **rules)
    assert state.available == 300  # earn:1's remaining 100 expired, earn:2 untouched
    assert state.grants["earn:1"].expired == 100


def test_all_points_expire_after_months_without_an_order() -> None:
    rules = {"expiry": Expiry(inactive_months=6)}
    state = run(JournalState(), earn("earn:1", 300, NOW))
    state = book_due(state, NOW + timedelta(days=100), **rules)
    assert due(state, program(**rules), NOW + timedelta(days=150)) == ()
    # an order in between moves the deadline
    state = run(state, earn("earn:2", 50, NOW + timedelta(days=150)))
    assert [m.kind for m in due(state, program(**rules), NOW + timedelta(days=190))] == [
        MovementKind.RELEASED
    ]
    state = book_due(state, NOW + timedelta(days=340), **rules)
    assert state.available == 0 and state.pending == 0


def test_redemption_rules_minimum_balance_and_cart_share() -> None:
    rules = program(
        redemption=RedemptionRules(
            (FIVE_EURO,), minimum_balance=1000, max_cart_share=Decimal("0.5")
        )
    )
    state = book_due(run(JournalState(), earn("earn:1", 800)), NOW + timedelta(days=14))
    assert "balance of 1000 points is needed" in check_redemption(state, rules, "fuenf-euro").reason
    assert "unknown option 'zehn'" in check_redemption(state, rules, "zehn").reason
    state = book_due(run(state, earn("earn:2", 800)), NOW + timedelta(days=30))
    small_cart = check_redemption(state, rules, "fuenf-euro", cart_value=Decimal(8))
    assert not small_cart.allowed and "more than 50 % of the cart" in small_cart.reason
    assert check_redemption(state, rules, "fuenf-euro", cart_value=Decimal(10)).allowed


def test_operator_adjustments_and_imports() -> None:
    state = run(
        JournalState(),
        Movement("import:anna", MovementKind.IMPORTED, NOW, 250, SourceKind.IMPORT),
        Movement(
            "adjust:1", MovementKind.ADJUSTED, NOW, -300, SourceKind.OPERATOR, reason="Fehler"
        ),
    )
    assert state.available == -50 and state.debt == 50
    bad = Movement("import:x", MovementKind.IMPORTED, NOW, -5, SourceKind.IMPORT)
    assert apply(state, bad).status is Status.REJECTED


def test_an_order_delivered_paid_completed_and_five_times_again_earns_once() -> None:
    bought = order()
    award = points_for(bought, program())
    state = JournalState()
    statuses = []
    for day in range(7):  # paid, completed, and the same webhook again and again
        movement = movements.earning(bought, award, program(), NOW + timedelta(days=day))
        result = apply(state, movement)
        statuses.append(result.status)
        state = result.state
    assert statuses == [Status.APPLIED] + [Status.DUPLICATE] * 6
    assert (state.pending, state.available) == (50, 0)
    assert state.grants["earn:1001"].release_at == NOW + timedelta(days=14)


def test_a_partial_refund_reverses_exactly_its_share_in_the_ledger() -> None:
    bought = order()
    award = points_for(bought, program())
    state = run(JournalState(), movements.earning(bought, award, program(), NOW))
    refund = Refund("r1", eur("15.00"), lines=(RefundLine("l1", 1),))
    plan = reversal_for(bought, [refund], program(), earned=award.points)
    reverse = movements.reversal(bought, "r1", plan, NOW)
    state = run(state, reverse)
    assert apply(state, reverse).status is Status.DUPLICATE
    state = book_due(state, NOW + timedelta(days=14))
    assert state.available == 35


def test_expired_points_are_not_taken_again_by_a_late_refund() -> None:
    rules = {"expiry": Expiry(lifetime_months=1)}
    state = run(JournalState(), earn("earn:1", 100), earn("earn:2", 80, NOW + timedelta(days=40)))
    state = book_due(state, NOW + timedelta(days=60), **rules)
    assert (state.available, state.grants["earn:1"].expired) == (80, 100)
    late = Movement("reverse:1:r1", MovementKind.REVERSED, NOW, 100, grant="earn:1")
    result = apply(state, late)
    assert result.booking is not None and result.booking.available_delta == 0
    assert result.state.available == 80
