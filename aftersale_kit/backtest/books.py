"""The replay's books: bookings and their take-backs, and the counters the engine reads from them.

The live store keeps a ledger: a booking per (order, campaign, step reference) when a step's
decision fires a campaign (one use, the campaign's planned cost, at the decision's time), and a
reversal when a refund or closure takes the campaign back (minus the use, minus the cost, *at
the booking's time*). The engine's counters are sums over that ledger
(``storage.ledger.LedgerCounters``): a take-back gives the use back to the usage limit and the
customer's limit, and its cost back to the budget of the period the booking fell in; the
customer's cooldown runs from the last booking not reversed.

:class:`ReplayBooks` keeps the same facts, indexed for a run over millions of orders: running
totals instead of sums over rows. Redemptions of issued codes by later orders are not known to
a backtest (the codes it plans were never given to anyone), so ``redeemed`` is always zero.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from ..core.decision import Decision
from ..core.ports import CustomerUsage

__all__ = ["Booking", "ReplayBooks"]

_ZERO = Decimal(0)


@dataclass(slots=True)
class Booking:
    """One booking of one campaign on one order's step (``ref``: the step's reference)."""

    campaign_id: str
    ref: str
    customer_key: str | None
    booked_at: datetime
    cost: Decimal
    reversed: bool = False


@dataclass(slots=True)
class _Spending:
    """A campaign's costs per day of booking (local midnight in the shop's time zone), with
    running totals per ``since`` asked for.

    Budget periods start at local midnight (:func:`~aftersale_kit.core.engine.
    budget_period_start`), so a day's bookings are all in a period or all out of it: the sums
    are exact, and memory grows with the days of the history, not with its bookings.
    """

    days: dict[datetime, Decimal] = field(default_factory=dict)
    order: list[datetime] = field(default_factory=list)
    totals: dict[datetime | None, Decimal] = field(default_factory=dict)

    def add(self, day: datetime, amount: Decimal) -> None:
        if day in self.days:
            self.days[day] += amount
        else:
            self.days[day] = amount
            insort(self.order, day)
        for since in self.totals:
            if since is None or day >= since:
                self.totals[since] += amount

    def between(self, start: datetime | None, end: datetime | None) -> Decimal:
        first = 0 if start is None else bisect_left(self.order, start)
        last = len(self.order) if end is None else bisect_left(self.order, end)
        return sum((self.days[d] for d in self.order[first:last]), _ZERO)

    def since(self, since: datetime | None) -> Decimal:
        total = self.totals.get(since)
        if total is None:
            total = self.between(since, None)
            if len(self.totals) > 64:  # periods long past are not asked again
                self.totals.clear()
            self.totals[since] = total
        return total


class ReplayBooks:
    """The :class:`~aftersale_kit.core.ports.Counters` of one shop, booked as the live store
    books (see the module docstring); ``shop`` is ignored (one shop per run)."""

    def __init__(self, timezone: str = "UTC") -> None:
        self._tz = ZoneInfo(timezone)
        self._day: tuple[date, datetime] | None = None
        self._usage: dict[str, int] = {}
        self._customers: dict[tuple[str, str], tuple[int, list[datetime]]] = {}
        self._spending: dict[str, _Spending] = {}

    # -- the port --------------------------------------------------------------------------------

    def usage_count(self, shop: str, campaign_id: str) -> int:
        return self._usage.get(campaign_id, 0)

    def customer_usage(self, shop: str, campaign_id: str, customer_key: str) -> CustomerUsage:
        found = self._customers.get((campaign_id, customer_key))
        if found is None:
            return CustomerUsage()
        count, open_ = found
        return CustomerUsage(count=count, last_at=max(open_) if open_ else None)

    def spent(self, shop: str, campaign_id: str, since: datetime | None) -> Decimal:
        spending = self._spending.get(campaign_id)
        return _ZERO if spending is None else spending.since(since)

    def redeemed(self, shop: str, campaign_id: str, since: datetime | None) -> Decimal:
        return _ZERO

    # -- booking ---------------------------------------------------------------------------------

    def book(
        self,
        decision: Decision,
        *,
        ref: str,
        customer_key: str | None,
        existing: dict[tuple[str, str], Booking],
    ) -> list[Booking]:
        """Book the decision's fired campaigns (and any campaign with a planned cost) once per
        (campaign, ref) into ``existing`` (the order's bookings); the new bookings."""
        costs: dict[str, Decimal] = {}
        for planned in decision.actions:
            costs[planned.campaign_id] = costs.get(planned.campaign_id, _ZERO) + planned.cost.amount
        made = []
        for campaign_id in dict.fromkeys([*decision.fired, *costs]):
            if (campaign_id, ref) in existing:
                continue
            booking = Booking(
                campaign_id=campaign_id,
                ref=ref,
                customer_key=customer_key,
                booked_at=decision.decided_at,
                cost=costs.get(campaign_id, _ZERO),
            )
            existing[(campaign_id, ref)] = booking
            self._move(booking, 1)
            made.append(booking)
        return made

    def reverse(self, booking: Booking) -> None:
        """Take a booking back: its use and its cost (in its own period) are released."""
        if booking.reversed:
            return
        booking.reversed = True
        self._move(booking, -1)

    def _move(self, booking: Booking, sign: int) -> None:
        cid = booking.campaign_id
        self._usage[cid] = self._usage.get(cid, 0) + sign
        if booking.customer_key is not None:
            key = (cid, booking.customer_key)
            count, open_ = self._customers.get(key, (0, []))
            if sign > 0:
                open_.append(booking.booked_at)
            else:
                open_.remove(booking.booked_at)
            self._customers[key] = (count + sign, open_)
        spending = self._spending.get(cid)
        if spending is None:
            spending = self._spending[cid] = _Spending()
        spending.add(self._midnight(booking.booked_at), booking.cost * sign)

    def _midnight(self, moment: datetime) -> datetime:
        """The local midnight that starts ``moment``'s day (the last one asked is kept)."""
        day = moment.astimezone(self._tz).date()
        if self._day is None or self._day[0] != day:
            self._day = (day, datetime(day.year, day.month, day.day, tzinfo=self._tz))
        return self._day[1]

    def net_spent(self, campaign_id: str, start: datetime | None, end: datetime | None) -> Decimal:
        """What the campaign's bookings in ``[start, end)`` (local midnights, or ``None``: open)
        cost, less their take-backs."""
        spending = self._spending.get(campaign_id)
        return _ZERO if spending is None else spending.between(start, end)
