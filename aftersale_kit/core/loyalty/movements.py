"""The movements of platform events, with the keys that make redeliveries book nothing twice.

An order earns once, whichever of its events (paid, completed, a redelivery) brings it:
``earn:<order id>``; a bonus decided at a later step tops that grant up once to the order's new
total ``T``: ``earn:<order id>:+<T>``; each refund reverses once:
``reverse:<order id>:<refund id>`` (``full`` for a cancellation or a refund in full without a
refund id), with ``@<T>`` once the grant was topped up to ``T`` (what a refund takes back
grows with the bonus).
"""

from __future__ import annotations

from datetime import datetime

from ..model import Order
from .earning import PointsAward, Reversal
from .ledger import Movement, MovementKind, SourceKind
from .program import LoyaltyProgram, add_months
from .schedule import release_at

__all__ = ["earn_key", "earning", "reversal", "top_up"]


def earn_key(order_id: str) -> str:
    return f"earn:{order_id}"


def earning(order: Order, award: PointsAward, program: LoyaltyProgram, at: datetime) -> Movement:
    """The ``earned_pending`` movement of ``order`` (earned at ``at``, e.g. when it was paid)."""
    lifetime = program.expiry.lifetime_months
    reason = award.explain().splitlines()[0]
    return Movement(
        key=earn_key(order.id),
        kind=MovementKind.EARNED_PENDING,
        at=at,
        points=award.points,
        source=SourceKind.ORDER,
        ref=order.id,
        reason=f"order {order.number}: {reason}",
        release_at=release_at(at, program),
        expires_at=add_months(at, lifetime) if lifetime is not None else None,
    )


def top_up(order: Order, award: PointsAward, earned: Movement, booked: int) -> Movement:
    """The ``earned_pending`` movement that brings ``order``'s grant (``earned``, its earning,
    ``booked`` points in all so far) up to ``award``: pending from the same payment."""
    return Movement(
        key=f"{earn_key(order.id)}:+{award.points}",
        kind=MovementKind.EARNED_PENDING,
        at=earned.at,
        points=award.points - booked,
        source=SourceKind.ORDER,
        ref=order.id,
        reason=f"order {order.number}: bonus decided later, now {award.points} points in all",
        grant=earned.key,
        release_at=earned.release_at,
        expires_at=earned.expires_at,
    )


def reversal(
    order: Order, refund_id: str | None, plan: Reversal, at: datetime, topped: int | None = None
) -> Movement:
    """The ``reversed`` movement of one refund (``None``: the order closed without one);
    ``topped``: the grant's points when a top-up changed them (a new reversal key)."""
    ref = refund_id or "full"
    suffix = f"@{topped}" if topped is not None else ""
    return Movement(
        key=f"reverse:{order.id}:{ref}{suffix}",
        kind=MovementKind.REVERSED,
        at=at,
        points=plan.points,
        source=SourceKind.REFUND,
        ref=ref,
        reason=f"order {order.number}, refund {ref}: {plan.explain()}",
        grant=earn_key(order.id),
    )
