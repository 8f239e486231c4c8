"""An order's past events, rebuilt from its last known state as the live service would have
received them.

A :class:`~.history.HistoryOrder` is the order as exported *at the end*: all its refunds, its
cancellation, its paid and fulfilled times. The live service saw it in steps, each webhook
carrying the order as it stood then. :func:`events_of` rebuilds those steps:

* ``order_created`` at ``created_at``, for platforms whose webhooks report a new order (one that
  never reports it, e.g. where an unpaid order is no trigger, gets none): the order unpaid (no
  ``paid_at``) unless it was paid at the same moment, no refunds, not cancelled;
* ``order_paid`` at ``paid_at``: paid, no refunds, not cancelled;
* ``order_fulfilled`` at ``fulfilled_at``: with the refunds made up to then;
* ``refund_created`` per refund at its ``created_at`` (carrying that refund, as a refund
  webhook does): the order with the refunds up to then, refunded in full at the last refund
  when it ends refunded in full;
* an order refunded in full by its status alone (the export lists no refund) gets one
  ``refund_created`` without a refund at its last known time (the live "full" step);
* ``order_cancelled`` at ``cancelled_at`` (or with the order's last event when its status says
  voided or cancelled without a time).

An unpaid order gets only its ``order_created`` and, if it was cancelled, ``order_cancelled``:
what the live service would have decided for it. A time before the order was paid (a refund
exported with an earlier time) is moved up to the paid time: the platform cannot refund what
was not paid.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from ..core.model import EventKind, FinancialStatus, Order, Refund
from ..core.registry import find
from .history import HistoryOrder

__all__ = ["LIFE_RANK", "HistoryEvent", "events_of", "reports_created"]

#: The place of each kind in an order's life: ties in time go in this order.
LIFE_RANK = {
    EventKind.ORDER_CREATED: 0,
    EventKind.ORDER_PAID: 1,
    EventKind.ORDER_FULFILLED: 2,
    EventKind.REFUND_CREATED: 3,
    EventKind.ORDER_CANCELLED: 4,
}
_CLOSED = (FinancialStatus.VOIDED, FinancialStatus.CANCELLED)


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    """One event of one past order: the order as that event's webhook would have carried it.

    ``last`` marks the order's last event (the replay forgets the order after it: memory stays
    bounded by the orders in flight, not by the history). ``warm_up``: the order was placed in
    the warm-up before the replayed period; it only counts towards its customer's order count
    and spend (:mod:`.customers`) and is not decided.
    """

    at: datetime
    kind: EventKind
    order: Order
    refund: Refund | None = None
    last: bool = False
    warm_up: bool = False

    @property
    def rank(self) -> int:
        return LIFE_RANK[self.kind]


def reports_created(platform: str) -> bool:
    """Whether the platform's webhooks report a new (unpaid) order; an unknown platform is
    taken to (it costs a decision that no campaign on ``order_created`` fires in)."""
    spec = find(platform)
    return spec is None or EventKind.ORDER_CREATED in spec.triggers


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _status_at(order: Order, refunds: tuple[Refund, ...], cancelled: bool) -> FinancialStatus:
    final = order.financial_status
    if cancelled:
        return final
    if refunds:
        whole = len(refunds) == len(order.refunds) and final is FinancialStatus.REFUNDED
        return FinancialStatus.REFUNDED if whole else FinancialStatus.PARTIALLY_REFUNDED
    if final is FinancialStatus.PARTIALLY_PAID:
        return final
    return FinancialStatus.PAID


def _refund_times(order: Order, paid: datetime, end: datetime) -> list[tuple[datetime, Refund]]:
    """Each refund with its time (never before the payment; without a time: the order's end)."""
    timed = [(max(_utc(r.created_at), paid) if r.created_at else end, r) for r in order.refunds]
    return sorted(timed, key=lambda pair: pair[0])


def _unpaid(h: HistoryOrder, created: datetime) -> list[HistoryEvent]:
    order = h.order
    closed = order.cancelled_at is not None or order.financial_status in _CLOSED
    status = FinancialStatus.PENDING if closed else order.financial_status
    events: list[HistoryEvent] = []
    if reports_created(order.platform):
        state = replace(order, refunds=(), cancelled_at=None, financial_status=status)
        events.append(HistoryEvent(created, EventKind.ORDER_CREATED, state))
    if closed:
        at = _utc(order.cancelled_at) if order.cancelled_at is not None else created
        events.append(HistoryEvent(max(at, created), EventKind.ORDER_CANCELLED, order))
    return _mark_last(events)


def _mark_last(events: list[HistoryEvent]) -> list[HistoryEvent]:
    if events:
        events[-1] = replace(events[-1], last=True)
    return events


def events_of(h: HistoryOrder) -> list[HistoryEvent]:
    """The order's events in its own time order (see the module docstring)."""
    order = h.order
    created = _utc(order.created_at)
    if order.paid_at is None:
        return _unpaid(h, created)
    paid = max(_utc(order.paid_at), created)
    cancelled = _utc(order.cancelled_at) if order.cancelled_at is not None else None
    closed = cancelled is not None or order.financial_status in _CLOSED
    candidates = [paid, cancelled or paid]
    if h.fulfilled_at is not None:
        candidates.append(_utc(h.fulfilled_at))
    candidates += [_utc(r.created_at) for r in order.refunds if r.created_at is not None]
    end = max(candidates)
    refunds = _refund_times(order, paid, end)

    def state(at: datetime, *, closing: bool = False) -> Order:
        upto = tuple(r for t, r in refunds if t <= at)
        shut = closing or (cancelled is not None and cancelled <= at)
        return replace(
            order,
            refunds=upto,
            cancelled_at=order.cancelled_at if shut else None,
            financial_status=_status_at(order, upto, shut),
        )

    events: list[HistoryEvent] = []
    if reports_created(order.platform):
        at_once = paid <= created
        before = replace(
            order,
            refunds=(),
            cancelled_at=None,
            paid_at=order.paid_at if at_once else None,
            financial_status=FinancialStatus.PAID if at_once else FinancialStatus.PENDING,
        )
        events.append(HistoryEvent(created, EventKind.ORDER_CREATED, before))
    paid_state = replace(
        order, refunds=(), cancelled_at=None, financial_status=_status_at(order, (), False)
    )
    events.append(HistoryEvent(paid, EventKind.ORDER_PAID, paid_state))
    if h.fulfilled_at is not None:
        at = max(_utc(h.fulfilled_at), paid)
        events.append(HistoryEvent(at, EventKind.ORDER_FULFILLED, state(at)))
    for at, refund in refunds:
        events.append(HistoryEvent(at, EventKind.REFUND_CREATED, state(at), refund=refund))
    if not refunds and order.financial_status is FinancialStatus.REFUNDED and not closed:
        # refunded in full by its status alone (no refund listed): the live "full" step
        events.append(HistoryEvent(end, EventKind.REFUND_CREATED, order))
    if closed:
        at = max(cancelled or end, paid)
        events.append(HistoryEvent(at, EventKind.ORDER_CANCELLED, state(at, closing=True)))
    events.sort(key=lambda e: (e.at, e.rank))
    return _mark_last(events)
