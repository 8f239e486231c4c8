"""The figures of a replay (:class:`~.result.BacktestResult`), summed as the replay goes.

Per step the tally counts why campaigns did not fire (their trigger's steps only: a campaign is
not "hit" by events it does not run on) and the budget refusals per period; when an order's
timeline is done it counts what the order got: reach, actions, face value (the planned actions'
cost, fixed bonus points at what a point is worth by the loyalty report's rule),
and the expected cost after take-backs (a coupon at the redemption rate, everything else in
full; nothing for what a refund or cancellation took back). Multiplied points (``award_points``
with a multiplier) are in the loyalty figures, not priced per campaign. Budget use per period is
read from the books at the end: what was booked in the period less what was taken back, as the
live budget counts it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from ..core.campaign import BudgetPeriod, Campaign, FreeGift, IssueCoupon, ShopConfig
from ..core.contact.follow_up import FollowUp
from ..core.decision import Decision, PlannedAction, Reason
from ..core.engine import budget_period_start, customer_key
from ..core.loyalty.actions import AwardPoints
from ..core.loyalty.redeem import point_value
from ..core.model import Order
from .books import ReplayBooks
from .contacts import ContactBook
from .events import HistoryEvent
from .history import BadRow
from .loyalty import LoyaltyBook
from .result import (
    BacktestResult,
    BudgetUse,
    CampaignFigures,
    ContactFigures,
    LoyaltyFigures,
    MonthFigures,
    OrderCost,
)
from .state import OrderState

__all__ = ["Tally"]

_ZERO = Decimal(0)
_IGNORED = frozenset({Reason.FIRED, Reason.DISABLED, Reason.OTHER_TRIGGER})
_TOP = 10
#: A period a step may be up to: day, week, month, quarter, year.
_STEP = {
    BudgetPeriod.DAY: timedelta(days=1),
    BudgetPeriod.WEEK: timedelta(days=7),
    BudgetPeriod.MONTH: timedelta(days=32),
    BudgetPeriod.QUARTER: timedelta(days=93),
    BudgetPeriod.YEAR: timedelta(days=367),
}


@dataclass
class _Month:
    orders: int = 0
    face: Decimal = _ZERO
    expected: Decimal = _ZERO


@dataclass
class _Campaign:
    campaign: Campaign
    orders: int = 0
    customers: set[str] = field(default_factory=set)
    coupons: int = 0
    points: int = 0
    gifts: int = 0
    follow_ups: int = 0
    face: Decimal = _ZERO
    expected: Decimal = _ZERO
    taken_back: int = 0
    hits: Counter[str] = field(default_factory=Counter)
    variants: Counter[str] = field(default_factory=Counter)
    months: dict[str, _Month] = field(default_factory=dict)
    refused: Counter[datetime | None] = field(default_factory=Counter)

    def month(self, key: str) -> _Month:
        found = self.months.get(key)
        if found is None:
            found = self.months[key] = _Month()
        return found


def _point_value(config: ShopConfig) -> Decimal:
    """What a point is worth, by the loyalty report's rule (zero without a program)."""
    found = point_value(config.loyalty) if config.loyalty is not None else None
    return found[0] if found is not None else _ZERO


class Tally:
    """Sums up one run (see the module docstring)."""

    def __init__(
        self,
        config: ShopConfig,
        *,
        redemption_rate: Decimal,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> None:
        self.config = config
        self.rate = redemption_rate
        self.since, self.until = since, until
        self.tz = ZoneInfo(config.settings.timezone)
        self.campaigns = {c.id: _Campaign(c) for c in config.campaigns}
        self.orders = 0
        self.customers: set[str] = set()
        self.events = 0
        self.first_order: datetime | None = None
        self.last_order: datetime | None = None
        self.first_event: datetime | None = None
        self.last_event: datetime | None = None
        self.top: list[OrderCost] = []
        #: What a point is worth (the loyalty report's rule; 0 without a program).
        self.point_value = _point_value(config)
        self._closed: BacktestResult | None = None

    # -- during the run --------------------------------------------------------------------------

    def event(self, event: HistoryEvent) -> None:
        self.events += 1
        if self.first_event is None:
            self.first_event = event.at
        self.last_event = event.at

    def order(self, order: Order) -> None:
        self.orders += 1
        key = customer_key(order)
        if key is not None:
            self.customers.add(key)
        placed = order.created_at
        if self.first_order is None or placed < self.first_order:
            self.first_order = placed
        if self.last_order is None or placed > self.last_order:
            self.last_order = placed

    def step(self, order: Order, decision: Decision) -> None:
        """Why each campaign on the step's trigger did not fire; budget refusals by period."""
        for outcome in decision.outcomes:
            if outcome.reason in _IGNORED:
                continue
            figures = self.campaigns.get(outcome.campaign_id)
            if figures is None:
                continue
            figures.hits[outcome.reason.value] += 1
            budget = figures.campaign.budget
            if outcome.reason is Reason.BUDGET_EXHAUSTED and budget is not None:
                start = budget_period_start(
                    budget.period, decision.decided_at, self.config.settings.timezone
                )
                figures.refused[start] += 1

    def settle(self, state: OrderState) -> None:
        """Count an order whose timeline is done."""
        order = state.first
        key = customer_key(order) or f"order:{order.id}"
        cost = _ZERO
        fired: dict[str, None] = {}
        for (_, ref), decision in state.steps.items():
            month = self.month_of(decision.decided_at)
            self._reach(decision, month, key, fired)
            for planned in decision.actions:
                booking = state.bookings.get((planned.campaign_id, ref))
                kept = booking is None or not booking.reversed
                cost += self._action(planned, month, kept=kept)
        for booking in state.bookings.values():
            if booking.reversed:
                self.campaigns[booking.campaign_id].taken_back += 1
        if cost > 0:
            self._top(OrderCost(order.id, order.number, key, order.created_at, cost, tuple(fired)))

    def _reach(self, decision: Decision, month: str, key: str, fired: dict[str, None]) -> None:
        for cid in decision.fired:
            figures = self.campaigns[cid]
            if cid not in fired:
                fired[cid] = None
                figures.orders += 1
                figures.customers.add(key)
            figures.month(month).orders += 1
            outcome = decision.outcome(cid)
            if outcome is not None and outcome.variant:
                figures.variants[outcome.variant] += 1

    def _action(self, planned: PlannedAction, month: str, *, kept: bool) -> Decimal:
        """Count one planned action; its expected cost (zero when taken back)."""
        figures = self.campaigns[planned.campaign_id]
        action = planned.action
        amount = planned.cost.amount
        if isinstance(action, AwardPoints) and action.points:
            amount += Decimal(action.points) * self.point_value
        figures.face += amount
        figures.month(month).face += amount
        if isinstance(action, IssueCoupon):
            figures.coupons += 1
            amount = amount * self.rate
        elif isinstance(action, FreeGift):
            figures.gifts += 1
        elif isinstance(action, FollowUp):
            figures.follow_ups += 1
        elif isinstance(action, AwardPoints):
            figures.points += action.points or 0
        if not kept:
            return _ZERO
        figures.expected += amount
        figures.month(month).expected += amount
        return amount

    def _top(self, item: OrderCost) -> None:
        self.top.append(item)
        if len(self.top) > 10 * _TOP:
            self._trim()

    def _trim(self) -> None:
        self.top.sort(key=lambda o: (-o.cost, o.placed_at, o.order_id))
        del self.top[_TOP:]

    def month_of(self, moment: datetime) -> str:
        return moment.astimezone(self.tz).strftime("%Y-%m")

    # -- the end ---------------------------------------------------------------------------------

    def close(
        self, *, books: ReplayBooks, loyalty: LoyaltyBook | None, contacts: ContactBook
    ) -> None:
        """Sum up after the last event (the books and the schedules as they end)."""
        self._trim()
        campaigns = tuple(self._campaign(f, books) for f in self.campaigns.values())
        policy = self.config.policy
        cap = policy.marketing_cap
        contact = ContactFigures(
            per_customer=contacts.customers_by_count(),
            cap=cap.max if cap is not None else None,
            window_days=cap.days if cap is not None else None,
            sent=sum(contacts.sent.values()),
            held_back=dict(sorted(contacts.held_back.items())),
        )
        self._closed = BacktestResult(
            shop=self.config.settings.domain,
            currency=self.config.settings.currency,
            config=self.config.source,
            redemption_rate=self.rate,
            since=self.since,
            until=self.until,
            first_order=self.first_order,
            last_order=self.last_order,
            orders=self.orders,
            customers=len(self.customers),
            events=self.events,
            campaigns=campaigns,
            contacts=contact,
            loyalty=loyalty.figures() if loyalty is not None else LoyaltyFigures(),
            top_orders=tuple(self.top),
            months=self._months(),
        )

    def result(self, *, bad_rows: tuple[BadRow, ...] = (), bad_count: int = 0) -> BacktestResult:
        if self._closed is None:
            raise RuntimeError("the replay has not ended: call close() first")
        return replace(self._closed, bad_rows=bad_rows, bad_count=bad_count)

    def _months(self) -> tuple[str, ...]:
        if self.first_event is None or self.last_event is None:
            return ()
        first = self.first_event.astimezone(self.tz)
        last = self.last_event.astimezone(self.tz)
        months = []
        year, month = first.year, first.month
        while (year, month) <= (last.year, last.month):
            months.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return tuple(months)

    def _campaign(self, f: _Campaign, books: ReplayBooks) -> CampaignFigures:
        c = f.campaign
        return CampaignFigures(
            campaign_id=c.id,
            name=c.description or c.id,
            orders=f.orders,
            customers=len(f.customers),
            coupons=f.coupons,
            points=f.points,
            gifts=f.gifts,
            follow_ups=f.follow_ups,
            face_value=f.face,
            expected_cost=f.expected,
            taken_back=f.taken_back,
            hits=dict(f.hits.most_common()),
            budget=self._budget(f, books),
            months=tuple(
                MonthFigures(m, f.months[m].orders, f.months[m].face, f.months[m].expected)
                for m in sorted(f.months)
            ),
            variants=dict(sorted(f.variants.items())),
        )

    def _budget(self, f: _Campaign, books: ReplayBooks) -> tuple[BudgetUse, ...]:
        budget = f.campaign.budget
        if budget is None or self.first_event is None or self.last_event is None:
            return ()
        amount = budget.amount.amount
        cid = f.campaign.id
        if budget.period is BudgetPeriod.TOTAL:
            spent = books.net_spent(cid, None, None)
            return (BudgetUse(self.first_event, self.last_event, amount, spent, f.refused[None]),)
        tz = self.config.settings.timezone
        start = budget_period_start(budget.period, self.first_event, tz)
        out: list[BudgetUse] = []
        while start is not None and start <= self.last_event:
            end = budget_period_start(budget.period, start + _STEP[budget.period], tz)
            assert end is not None
            spent = books.net_spent(cid, start, end)
            out.append(BudgetUse(start, end, amount, spent, f.refused[start]))
            start = end
        return tuple(out)
