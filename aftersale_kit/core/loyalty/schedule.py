"""What is due at ``now``: releases of pending points and expiries, as movements to book.

The worker calls :func:`due` with the account's state and the current time and books what it
returns, in order; the movements' keys (``release:<grant>``, ``expire:<grant>``) make running
it twice, or from two workers, book nothing twice. :func:`expiring` lists what will expire
soon, for the reminder event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .ledger import Grant, JournalState, Movement, MovementKind, SourceKind
from .program import LoyaltyProgram, add_months

__all__ = ["Expiring", "due", "expires_at", "expiring", "release_at"]


def release_at(earned_at: datetime, program: LoyaltyProgram) -> datetime:
    """When points earned at ``earned_at`` become available (after ``pending_days``)."""
    return earned_at + timedelta(days=program.pending_days)


def expires_at(grant: Grant, state: JournalState, program: LoyaltyProgram) -> datetime | None:
    """When what is left of ``grant`` expires: its fixed lifetime, or ``inactive_months``
    after the customer's last order, whichever comes first (``None``: never)."""
    moments = []
    if grant.expires_at is not None:
        moments.append(grant.expires_at)
    elif program.expiry.lifetime_months is not None:
        moments.append(add_months(grant.at, program.expiry.lifetime_months))
    inactive = program.expiry.inactive_months
    if inactive is not None:
        last = state.last_order_at or grant.at
        moments.append(add_months(max(last, grant.at), inactive))
    return min(moments, default=None)


def due(state: JournalState, program: LoyaltyProgram, now: datetime) -> tuple[Movement, ...]:
    """The releases (``release_at <= now``) and then the expiries (expiry ``<= now``) to book.

    A grant without ``release_at`` is released ``pending_days`` after it was earned.
    """
    out: list[Movement] = []
    releasing: set[str] = set()
    for grant in state.grants.values():
        if grant.released:
            continue
        moment = grant.release_at or release_at(grant.at, program)
        if moment <= now:
            releasing.add(grant.key)
            out.append(
                Movement(
                    key=f"release:{grant.key}",
                    kind=MovementKind.RELEASED,
                    at=moment,
                    source=SourceKind.SCHEDULE,
                    ref=grant.key,
                    reason=f"the approval period of {program.pending_days} days ended",
                    grant=grant.key,
                )
            )
    for grant in state.grants.values():
        expiry = expires_at(grant, state, program)
        if expiry is None or expiry > now:
            continue
        if grant.key in releasing:
            left = grant.pending
        elif grant.released:
            left = grant.remaining
        else:
            continue
        if left > 0:
            out.append(
                Movement(
                    key=f"expire:{grant.key}",
                    kind=MovementKind.EXPIRED,
                    at=expiry,
                    source=SourceKind.SCHEDULE,
                    ref=grant.key,
                    reason=f"points earned on {grant.at:%Y-%m-%d} expired on {expiry:%Y-%m-%d}",
                    grant=grant.key,
                )
            )
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Expiring:
    grant: str
    points: int
    at: datetime


def expiring(
    state: JournalState, program: LoyaltyProgram, now: datetime, until: datetime
) -> tuple[Expiring, ...]:
    """Available points that expire after ``now`` and by ``until`` (for the reminder)."""
    out = []
    for grant in state.grants.values():
        moment = expires_at(grant, state, program)
        if moment is not None and now < moment <= until and grant.remaining > 0:
            out.append(Expiring(grant.key, grant.remaining, moment))
    return tuple(sorted(out, key=lambda e: e.at))
