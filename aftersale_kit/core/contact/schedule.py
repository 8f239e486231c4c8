"""The messages a planned ``follow_up`` becomes: one per occurrence, each with its due time.

The first message is due ``after`` the trigger (the moment the order was paid or fulfilled),
the repeats ``every`` interval after the first one; all counted in the shop's local wall time
(:mod:`.calendar`) and returned in UTC. A repeat's ``stop_when`` drops every message due after a
later order of the customer that makes the condition true.

The scheduler stores what :func:`planned_messages` returns (one row per message, keyed by
:attr:`PlannedMessage.key`) and asks the contact policy (:mod:`.policy`) about each message
when it is due.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from ..decision import PlannedAction
from ..model import Order
from .calendar import add_business_days, add_months, local_wall, to_utc
from .follow_up import Delay, DelayUnit, FollowUp, FollowUpKind, Purpose

__all__ = ["PlannedMessage", "due_times", "planned_messages", "stop_moment"]


@dataclass(frozen=True, slots=True)
class PlannedMessage:
    """One e-mail of a follow-up: occurrence 1 is the first, 2.. the repeats."""

    #: ``<the action's idempotency key>:<occurrence>``: unique per (shop, order, campaign,
    #: action, occurrence), so a message is sent at most once however often it is planned.
    key: str
    campaign_id: str
    occurrence: int
    #: When the message is due, in UTC.
    due_at: datetime
    kind: FollowUpKind
    template: str
    purpose: Purpose


def _shift(wall: datetime, delay: Delay, holidays: Collection[date]) -> datetime:
    if delay.unit is DelayUnit.DAYS:
        return wall + timedelta(days=delay.amount)
    if delay.unit is DelayUnit.MONTHS:
        return add_months(wall, delay.amount)
    day = add_business_days(wall.date(), delay.amount, holidays)
    return datetime.combine(day, wall.time())


def due_times(
    action: FollowUp,
    *,
    trigger_at: datetime,
    tz: tzinfo | str,
    holidays: Collection[date] = (),
) -> tuple[datetime, ...]:
    """The due time (UTC) of each message of ``action``, first to last.

    ``trigger_at`` (aware) is when the order was paid or fulfilled; ``tz`` is the shop's time
    zone; ``holidays`` are not business days.
    """
    first = _shift(local_wall(trigger_at, tz), action.after, holidays)
    walls = [first]
    repeat = action.repeat
    if repeat is not None:
        for n in range(1, repeat.times + 1):
            step = Delay(repeat.every.amount * n, repeat.every.unit)
            walls.append(_shift(first, step, holidays))
    return tuple(to_utc(wall, tz) for wall in walls)


def stop_moment(action: FollowUp, later_orders: Iterable[Order]) -> datetime | None:
    """When the earliest of ``later_orders`` that makes the repeat's ``stop_when`` true was
    placed, or ``None`` (no such order, or no ``stop_when``)."""
    stop = action.repeat.stop_when if action.repeat is not None else None
    if stop is None:
        return None
    moments = [o.created_at for o in later_orders if stop.evaluate(o).is_true]
    return min(moments, default=None)


def planned_messages(
    planned: PlannedAction,
    *,
    trigger_at: datetime,
    tz: tzinfo | str,
    holidays: Collection[date] = (),
    later_orders: Iterable[Order] = (),
) -> tuple[PlannedMessage, ...]:
    """The messages of one planned ``follow_up``, without those a later order stopped.

    Raises :class:`TypeError` when ``planned`` is not a ``follow_up``.
    """
    action = planned.action
    if not isinstance(action, FollowUp):
        raise TypeError(f"not a follow_up: {type(action).__name__}")
    stopped = stop_moment(action, later_orders)
    messages = []
    for occurrence, due in enumerate(
        due_times(action, trigger_at=trigger_at, tz=tz, holidays=holidays), start=1
    ):
        if stopped is not None and due > stopped:
            break
        messages.append(
            PlannedMessage(
                key=f"{planned.idempotency_key}:{occurrence}",
                campaign_id=planned.campaign_id,
                occurrence=occurrence,
                due_at=due,
                kind=action.kind,
                template=action.template,
                purpose=action.purpose,
            )
        )
    return tuple(messages)
