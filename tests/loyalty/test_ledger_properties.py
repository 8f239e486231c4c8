"""Property: random event sequences with duplicates, reorders and refunds keep the ledger exact.

Orders earn, later bonuses top their earnings up, refunds reverse, customers redeem,
operators adjust, the worker releases and expires; every event may be delivered several
times and in any order, and what the ledger cannot book yet is delivered again later (as
webhooks are retried). After every delivery the balances equal the sums of the booked
movements, no key is booked twice, pending points were never spent, and in the end every
earning (and top-up) is booked exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aftersale_kit.core.loyalty.ledger import (
    Booking,
    JournalState,
    Movement,
    MovementKind,
    SourceKind,
    Status,
    apply,
    mark_used,
)
from aftersale_kit.core.loyalty.program import Expiry, LoyaltyProgram, SpentRefundPolicy
from aftersale_kit.core.loyalty.schedule import due

from .builders import NOW, program


@st.composite
def events(draw: st.DrawFn) -> list[Movement | int]:
    """Movements to deliver, and ``int`` ticks (days after NOW) at which the worker runs."""
    out: list[Movement | int] = []
    for n in range(draw(st.integers(1, 6))):
        key = f"earn:{n}"
        day = draw(st.integers(0, 60))
        points = draw(st.integers(0, 500))
        out.append(
            Movement(key, MovementKind.EARNED_PENDING, NOW + timedelta(days=day), points, ref=key)
        )
        for t in range(draw(st.integers(0, 2))):  # a bonus decided at a later step tops it up
            out.append(
                Movement(
                    f"{key}:+{t}",
                    MovementKind.EARNED_PENDING,
                    NOW + timedelta(days=day),
                    draw(st.integers(0, 300)),
                    ref=key,
                    grant=key,
                )
            )
        for r in range(draw(st.integers(0, 2))):  # partial refunds, maybe more than earned
            out.append(
                Movement(
                    f"reverse:{n}:{r}",
                    MovementKind.REVERSED,
                    NOW + timedelta(days=day + r),
                    draw(st.integers(0, 300)),
                    SourceKind.REFUND,
                    grant=key,
                )
            )
    for q in range(draw(st.integers(0, 4))):
        out.append(
            Movement(
                f"redeem:{q}",
                MovementKind.REDEEMED,
                NOW + timedelta(days=q),
                draw(st.integers(1, 400)),
                SourceKind.REDEMPTION,
                coupon=f"C{q}",
            )
        )
    for a in range(draw(st.integers(0, 2))):
        out.append(
            Movement(
                f"adjust:{a}",
                MovementKind.ADJUSTED,
                NOW,
                draw(st.integers(-200, 200)),
                SourceKind.OPERATOR,
            )
        )
    out += draw(st.lists(st.integers(0, 120), max_size=4))
    duplicated = out + draw(st.lists(st.sampled_from(out), max_size=8))
    return draw(st.permutations(duplicated))


@dataclass
class Journal:
    program: LoyaltyProgram
    policy: SpentRefundPolicy
    state: JournalState = field(default_factory=JournalState)
    booked: list[Booking] = field(default_factory=list)

    def deliver(self, movement: Movement) -> Status:
        before = self.state
        result = apply(before, movement, policy=self.policy)
        if result.status is not Status.APPLIED:
            assert result.state is before and result.booking is None
            return result.status
        assert result.booking is not None
        self.booked.append(result.booking)
        if movement.kind is MovementKind.REDEEMED:
            assert before.available >= movement.points  # pending is never spent
            assert result.state.available >= 0
        self.state = result.state
        self.check()
        for instruction in result.instructions:  # the coupon is deactivated, then booked
            assert not self.state.redemptions[instruction.redemption].used
            assert self.deliver(instruction.follow_up) is Status.APPLIED
            assert apply(self.state, instruction.follow_up).status is Status.DUPLICATE
        return result.status

    def tick(self, day: int) -> None:
        for movement in due(self.state, self.program, NOW + timedelta(days=day)):
            self.deliver(movement)
            self.deliver(movement)  # a second worker: nothing moves twice

    def check(self) -> None:
        s = self.state
        assert s.pending == sum(b.pending_delta for b in self.booked)
        assert s.available == sum(b.available_delta for b in self.booked)
        keys = [b.movement.key for b in self.booked]
        assert len(keys) == len(set(keys)) and set(keys) == s.seen
        assert s.pending == sum(g.pending for g in s.grants.values()) >= 0
        assert s.debt >= 0
        assert s.available == sum(g.remaining for g in s.grants.values()) - s.debt
        for g in s.grants.values():
            assert g.pending >= 0 and g.remaining >= 0 and g.reversed + g.expired <= g.points
            assert not (g.released and g.pending)


def deliver_all(
    deliveries: list[Movement | int],
    policy: SpentRefundPolicy,
    expiry: Expiry,
    data: st.DataObject,
) -> None:
    journal = Journal(program(expiry=expiry), policy)
    retry: list[Movement] = []
    for item in deliveries:
        if isinstance(item, int):
            journal.tick(item)
        elif journal.deliver(item) is Status.REJECTED:
            retry.append(item)
        if data.draw(st.booleans(), label="a coupon is used"):
            unused = [r for r in journal.state.redemptions.values() if not r.used]
            if unused:
                journal.state = mark_used(journal.state, unused[0].key)
    for _ in range(3):  # the platforms retry what was refused
        retry = [m for m in retry if journal.deliver(m) is Status.REJECTED]
    journal.tick(400)
    earned = {
        m.key
        for m in deliveries
        if isinstance(m, Movement) and m.kind is MovementKind.EARNED_PENDING
    }
    booked = [
        b.movement.key for b in journal.booked if b.movement.kind is MovementKind.EARNED_PENDING
    ]
    assert sorted(booked) == sorted(earned)  # every earning exactly once
    assert journal.state.pending == 0  # all released by day 400
    # only redemptions without enough available points stay refused
    assert all(m.kind is MovementKind.REDEEMED for m in retry)


_CASES = (
    events(),
    st.sampled_from(list(SpentRefundPolicy)),
    st.sampled_from([Expiry(), Expiry(lifetime_months=1), Expiry(inactive_months=2)]),
    st.data(),
)


@settings(max_examples=40, deadline=None)
@given(*_CASES)
def test_random_deliveries_keep_the_ledger_exact(
    deliveries: list[Movement | int],
    policy: SpentRefundPolicy,
    expiry: Expiry,
    data: st.DataObject,
) -> None:
    deliver_all(deliveries, policy, expiry, data)


@pytest.mark.slow
@settings(max_examples=600, deadline=None)
@given(*_CASES)
def test_many_random_deliveries_keep_the_ledger_exact(
    deliveries: list[Movement | int],
    policy: SpentRefundPolicy,
    expiry: Expiry,
    data: st.DataObject,
) -> None:
    deliver_all(deliveries, policy, expiry, data)
