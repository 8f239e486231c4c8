"""The movements of platform events, with the keys that make redeliveries book nothing twice.

An order earns once, whichever of its events (paid, completed, a redelivery) brings it:
``earn:<order id>``; each refund reverses once: ``reverse:<order id>:<refund id>`` (``full`` for a
cancellation or a refund in full without a refund id).
"""

from __future__ import annotations

from datetime import datetime

from ..model import Order
from .earning import PointsAward, Reversal
from .ledger import Movement, MovementKind, SourceKind
from .program import LoyaltyProgram, add_months
from .schedule import release_at

__all__ = ["earn_key", "earning", "reversal"]


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


def reversal(order: Order, refund_id: str | None, plan: Reversal, at: datetime) -> Movement:
    """The ``reversed`` movement of one refund (``None``: the order closed without one)."""
    ref = refund_id or "full"
    return Movement(
        key=f"reverse:{order.id}:{ref}",
        kind=MovementKind.REVERSED,
        at=at,
        points=plan.points,
        source=SourceKind.REFUND,
        ref=ref,
        reason=f"order {order.number}, refund {ref}: {plan.explain()}",
        grant=earn_key(order.id),
    )
