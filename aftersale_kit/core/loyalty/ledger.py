"""The points ledger's arithmetic: movements, and :func:`apply`, which books one on a state.

The journal is append-only: one :class:`Movement` per change, each with an idempotency key. The
state is derived from the movements booked so far; :func:`apply` returns the next state and the
:class:`Booking` (the movement with its effect on the pending and available balances) that a
store writes, so that the balances are always the sums of the bookings.

Rules:

* A movement whose key was booked before changes nothing (``DUPLICATE``): a redelivered or
  reordered webhook moves no point twice.
* A movement that cannot be booked yet (a release or reversal of an earning not booked yet, a
  redemption without enough available points) changes nothing and is *not* remembered
  (``REJECTED``), so that it can be delivered again later.
* Points are earned *pending* (``earned_pending``) into a grant; only a ``released`` grant is
  available. Pending points can never be spent. An ``earned_pending`` movement that names a
  ``grant`` tops that grant up (a bonus decided after the order earned) instead of opening one.
* Spending (``redeemed``, a negative ``adjusted``) and expiry take points from grants, the one
  that expires first first. A reversal takes from its grant's pending points, then from its
  grant's available points, then from the other grants; what remains is a debt (a negative
  balance) that later points pay back first. A reversal never takes more than its grant earned,
  less what was reversed or expired of it before.
* Under :attr:`~.program.SpentRefundPolicy.DEACTIVATE_COUPON` a reversal that leaves the balance
  below zero names the unused redemption coupons to deactivate (:class:`DeactivateCoupon`);
  once one is deactivated on the platform, its ``follow_up`` movement returns its points.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum

from .program import SpentRefundPolicy

__all__ = [
    "ApplyResult",
    "Booking",
    "DeactivateCoupon",
    "Grant",
    "JournalState",
    "Movement",
    "MovementKind",
    "RedemptionRecord",
    "SourceKind",
    "Status",
    "apply",
    "mark_used",
]

_FAR = datetime.max.replace(tzinfo=UTC)


class MovementKind(StrEnum):
    EARNED_PENDING = "earned_pending"
    RELEASED = "released"
    REDEEMED = "redeemed"
    EXPIRED = "expired"
    REVERSED = "reversed"
    ADJUSTED = "adjusted"
    IMPORTED = "imported"


class SourceKind(StrEnum):
    """What a movement comes from."""

    ORDER = "order"
    REFUND = "refund"
    CAMPAIGN = "campaign"
    REDEMPTION = "redemption"
    OPERATOR = "operator"
    IMPORT = "import"
    SCHEDULE = "schedule"


@dataclass(frozen=True, slots=True)
class Movement:
    """One change of a customer's points.

    ``points``: for ``earned_pending``, ``redeemed``, ``reversed`` and ``imported`` the amount
    (0 or more); for ``adjusted`` signed; for ``released`` and ``expired`` 0 means "what the
    grant has left" (the usual case). ``grant`` names the grant (the key of the earning or
    import movement) a release, reversal, expiry or top-up (``earned_pending``) concerns. An
    ``adjusted`` movement from
    source ``redemption`` cancels that redemption (``ref``: its key) and returns its points.
    """

    key: str
    kind: MovementKind
    at: datetime
    points: int = 0
    source: SourceKind = SourceKind.ORDER
    ref: str = ""
    reason: str = ""
    grant: str | None = None
    release_at: datetime | None = None
    expires_at: datetime | None = None
    coupon: str | None = None


@dataclass(frozen=True, slots=True)
class Grant:
    """Points earned (or imported, or given) together, and what is left of them."""

    key: str
    at: datetime
    points: int
    pending: int
    remaining: int
    released: bool
    release_at: datetime | None = None
    expires_at: datetime | None = None
    reversed: int = 0
    expired: int = 0
    #: Earned on an order (counts as the customer's last order for inactivity expiry).
    from_order: bool = False


@dataclass(frozen=True, slots=True)
class RedemptionRecord:
    key: str
    points: int
    at: datetime
    coupon: str | None = None
    used: bool = False
    cancelled: bool = False


@dataclass(frozen=True, slots=True)
class JournalState:
    """One account's ledger: the balances, the grants, the redemptions and the keys booked."""

    pending: int = 0
    available: int = 0
    #: Points owed (spent, then reversed); ``available == sum(remaining) - debt``.
    debt: int = 0
    grants: Mapping[str, Grant] = field(default_factory=dict)
    redemptions: Mapping[str, RedemptionRecord] = field(default_factory=dict)
    seen: frozenset[str] = frozenset()
    last_order_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Booking:
    """A booked movement and its effect on the balances (what the journal row holds)."""

    movement: Movement
    pending_delta: int
    available_delta: int


@dataclass(frozen=True, slots=True)
class DeactivateCoupon:
    """Deactivate the unused coupon of ``redemption`` on the platform, then book
    ``follow_up`` (which returns its ``points``)."""

    redemption: str
    coupon: str | None
    points: int
    follow_up: Movement


class Status(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class ApplyResult:
    state: JournalState
    status: Status
    booking: Booking | None = None
    reason: str = ""
    instructions: tuple[DeactivateCoupon, ...] = ()


class _Refused(Exception):
    """The movement cannot be booked (yet)."""


def _spend_order(grant: Grant) -> tuple[datetime, datetime, str]:
    return (grant.expires_at or _FAR, grant.at, grant.key)


def _debit(
    grants: dict[str, Grant], debt: int, amount: int, first: str | None = None
) -> tuple[int, int]:
    """Take ``amount`` available points from the grants (``first`` first, then by expiry);
    returns ``(taken from grants, new debt)``. Mutates ``grants`` (a private copy)."""
    order = sorted((g for g in grants.values() if g.remaining > 0), key=_spend_order)
    if first is not None and first in grants:
        order = [grants[first]] + [g for g in order if g.key != first]
    left = amount
    for grant in order:
        if left <= 0:
            break
        take = min(grant.remaining, left)
        grants[grant.key] = replace(grant, remaining=grant.remaining - take)
        left -= take
    return amount - left, debt + left


def _credit(grant: Grant, debt: int, points: int) -> tuple[Grant, int]:
    """Points becoming available in ``grant``: the debt is paid first."""
    pay = min(debt, points)
    return replace(grant, remaining=grant.remaining + points - pay), debt - pay


@dataclass
class _Work:
    """The state being changed by one movement (private copies)."""

    state: JournalState
    grants: dict[str, Grant]
    redemptions: dict[str, RedemptionRecord]
    debt: int
    pending: int = 0
    available: int = 0
    last_order_at: datetime | None = None

    def grant(self, movement: Movement) -> Grant:
        grant = self.grants.get(movement.grant or "")
        if grant is None:
            raise _Refused(f"grant {movement.grant!r} is not booked yet")
        return grant

    def new_grant(self, movement: Movement, *, released: bool, points: int) -> None:
        grant = Grant(
            key=movement.key,
            at=movement.at,
            points=points,
            pending=0 if released else points,
            remaining=0,
            released=released,
            release_at=movement.release_at,
            expires_at=movement.expires_at,
            from_order=movement.source is SourceKind.ORDER and not released,
        )
        if released:
            grant, self.debt = _credit(grant, self.debt, points)
            self.available += points
        else:
            self.pending += points
        self.grants[grant.key] = grant


def _positive(movement: Movement) -> int:
    if movement.points < 0:
        raise _Refused(f"{movement.kind.value} needs points of 0 or more")
    return movement.points


def _top_up(w: _Work, m: Movement) -> None:
    """More points into an order's grant (a bonus decided after it earned): pending with it,
    or available at once when it is released already (its pending days, counted from the same
    payment, are over); into an expired grant they expire with it."""
    grant = w.grant(m)
    points = _positive(m)
    grant = replace(grant, points=grant.points + points)
    if not grant.released:
        grant = replace(grant, pending=grant.pending + points)
        w.pending += points
    elif grant.expired:
        grant = replace(grant, expired=grant.expired + points)
    else:
        grant, w.debt = _credit(grant, w.debt, points)
        w.available += points
    w.grants[grant.key] = grant


def _earned(w: _Work, m: Movement) -> None:
    if m.grant is not None:
        _top_up(w, m)
        return
    w.new_grant(m, released=False, points=_positive(m))
    if m.source is SourceKind.ORDER:
        last = w.state.last_order_at
        w.last_order_at = m.at if last is None or m.at > last else last


def _released(w: _Work, m: Movement) -> None:
    grant = w.grant(m)
    if grant.released:
        raise _Refused(f"grant {grant.key!r} is released already")
    moved = grant.pending
    grant, w.debt = _credit(replace(grant, pending=0, released=True), w.debt, moved)
    w.grants[grant.key] = grant
    w.pending -= moved
    w.available += moved


def _redeemed(w: _Work, m: Movement) -> None:
    points = _positive(m)
    if points > w.state.available:
        raise _Refused(
            f"{points} points asked, {max(w.state.available, 0)} available "
            f"({w.state.pending} pending points cannot be spent yet)"
        )
    _, w.debt = _debit(w.grants, w.debt, points)
    w.available -= points
    w.redemptions[m.key] = RedemptionRecord(m.key, points, m.at, coupon=m.coupon)


def _expired(w: _Work, m: Movement) -> None:
    grant = w.grant(m)
    if not grant.released:
        raise _Refused(f"grant {grant.key!r} is still pending; release it first")
    amount = grant.remaining if m.points <= 0 else min(m.points, grant.remaining)
    w.grants[grant.key] = replace(
        grant, remaining=grant.remaining - amount, expired=grant.expired + amount
    )
    w.available -= amount


def _reversed(w: _Work, m: Movement) -> None:
    grant = w.grant(m)
    # points of the grant that expired are gone already: they are not taken twice
    amount = min(_positive(m), grant.points - grant.reversed - grant.expired)
    from_pending = min(amount, grant.pending)
    w.grants[grant.key] = replace(
        grant, pending=grant.pending - from_pending, reversed=grant.reversed + amount
    )
    w.pending -= from_pending
    rest = amount - from_pending
    _, w.debt = _debit(w.grants, w.debt, rest, first=grant.key)
    w.available -= rest


def _adjusted(w: _Work, m: Movement) -> None:
    if m.source is SourceKind.REDEMPTION:
        record = w.redemptions.get(m.ref)
        if record is None or record.used or record.cancelled:
            why = "unknown" if record is None else "used" if record.used else "cancelled"
            raise _Refused(f"redemption {m.ref!r} cannot be returned: {why}")
        w.redemptions[m.ref] = replace(record, cancelled=True)
        w.new_grant(m, released=True, points=record.points)
    elif m.points >= 0:
        w.new_grant(m, released=True, points=m.points)
    else:
        _, w.debt = _debit(w.grants, w.debt, -m.points)
        w.available += m.points


def _imported(w: _Work, m: Movement) -> None:
    w.new_grant(m, released=True, points=_positive(m))


_BOOK = {
    MovementKind.EARNED_PENDING: _earned,
    MovementKind.RELEASED: _released,
    MovementKind.REDEEMED: _redeemed,
    MovementKind.EXPIRED: _expired,
    MovementKind.REVERSED: _reversed,
    MovementKind.ADJUSTED: _adjusted,
    MovementKind.IMPORTED: _imported,
}


def _deactivations(state: JournalState) -> tuple[DeactivateCoupon, ...]:
    """The unused redemptions (newest first) whose points cover the negative balance."""
    short = -state.available
    out: list[DeactivateCoupon] = []
    for record in sorted(state.redemptions.values(), key=lambda r: r.at, reverse=True):
        if short <= 0:
            break
        if record.used or record.cancelled:
            continue
        follow_up = Movement(
            key=f"cancel:{record.key}",
            kind=MovementKind.ADJUSTED,
            at=record.at,
            points=record.points,
            source=SourceKind.REDEMPTION,
            ref=record.key,
            reason="redemption coupon deactivated: the points it was bought with came back "
            "for a refund",
        )
        out.append(DeactivateCoupon(record.key, record.coupon, record.points, follow_up))
        short -= record.points
    return tuple(out)


def apply(
    state: JournalState,
    movement: Movement,
    *,
    policy: SpentRefundPolicy = SpentRefundPolicy.NEGATIVE_BALANCE,
) -> ApplyResult:
    """Book ``movement`` on ``state`` (see the module docstring); never raises for a movement
    that cannot be booked: the result says ``REJECTED`` and why."""
    if movement.key in state.seen:
        return ApplyResult(state, Status.DUPLICATE, reason="booked before")
    work = _Work(state, dict(state.grants), dict(state.redemptions), state.debt)
    try:
        _BOOK[movement.kind](work, movement)
    except _Refused as exc:
        return ApplyResult(state, Status.REJECTED, reason=str(exc))
    booking = Booking(movement, work.pending, work.available)
    new = JournalState(
        pending=state.pending + work.pending,
        available=state.available + work.available,
        debt=work.debt,
        grants=work.grants,
        redemptions=work.redemptions,
        seen=state.seen | {movement.key},
        last_order_at=work.last_order_at or state.last_order_at,
    )
    instructions: tuple[DeactivateCoupon, ...] = ()
    if (
        movement.kind is MovementKind.REVERSED
        and new.available < 0
        and policy is SpentRefundPolicy.DEACTIVATE_COUPON
    ):
        instructions = _deactivations(new)
    return ApplyResult(new, Status.APPLIED, booking, instructions=instructions)


def mark_used(state: JournalState, redemption: str) -> JournalState:
    """The redemption's coupon was used on an order (it can no longer be deactivated)."""
    record = state.redemptions.get(redemption)
    if record is None or record.used:
        return state
    redemptions = dict(state.redemptions)
    redemptions[redemption] = replace(record, used=True)
    return replace(state, redemptions=redemptions)
