"""The stateful replay: every event of the history in time order, decided as the live service
decides it.

Per event the replay does what the service's ``Processor.step`` does with its store's
``decide_step`` (same core functions, same order): for each timeline step the event stands for
(:func:`~aftersale_kit.core.timeline.steps_of`) it records the refunds the event carries and
the closure its state stands for, decides the step once with
:func:`~aftersale_kit.core.engine.decide` against the shop's counters, books the fired campaigns
(:class:`.books.ReplayBooks`), and settles what the refunds and closure take back
(:func:`~aftersale_kit.core.timeline.take_backs`), which releases their uses and budget as the
live ledger's reversals do. Loyalty points and stamp cards (:mod:`.loyalty`) and follow-up
messages against the contact policy (:mod:`.contacts`) are booked per step as the service does.

A step is decided on the campaigns that can fire on it: enabled and on its trigger.
``candidates(order)`` (the batch pre-filter, asked once per step to decide, with the order as
the step's event carries it, and only on triggers some enabled campaign runs on) narrows them
further to those that may fire; the others are known not to hold. A
campaign that cannot fire wins no exclusive group, spends no budget, uses no limit and makes no
offer, so leaving it out fires the same campaigns with the same actions; the outcomes of those
left out are filled in (disabled, other trigger, outside the window in the engine's words, else
``condition_failed`` "batch pre-filter").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal

from ..core.campaign import Campaign, ShopConfig
from ..core.decision import Decision, Outcome, Reason
from ..core.engine import customer_key, decide
from ..core.model import EventKind, Order, Refund
from ..core.timeline import closed_reason, reversal_of, steps_of, take_backs
from .books import ReplayBooks
from .contacts import ContactBook
from .events import HistoryEvent
from .history import BadRow, HistoryOrder
from .loyalty import LoyaltyBook
from .ordering import DEFAULT_MEMORY_EVENTS, in_time_order
from .result import BacktestResult
from .state import OrderState
from .tally import Tally

__all__ = ["Candidates", "OrderState", "StepRecord", "replay", "replay_events"]

Candidates = Callable[[Order], frozenset[str] | None]


@dataclass(frozen=True, slots=True)
class StepRecord:
    """One decided step: what the live service would have stored as the step's decision."""

    order_id: str
    kind: EventKind
    ref: str
    at: datetime
    decision: Decision


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _skipped(campaign: Campaign, event: EventKind, now: datetime) -> Outcome:
    """The outcome of a campaign left out of the decision: disabled, on another trigger, outside
    its window (each in the engine's words), else ruled out by the pre-filter."""
    if not campaign.enabled:
        return Outcome(campaign.id, False, Reason.DISABLED, "the campaign is disabled")
    if campaign.trigger is not event:
        detail = f"runs on {campaign.trigger.value}, this event is {event.value}"
        return Outcome(campaign.id, False, Reason.OTHER_TRIGGER, detail)
    window = campaign.window
    if window is not None:
        if window.starts_at is not None and now < _aware(window.starts_at):
            detail = f"starts at {_aware(window.starts_at):%Y-%m-%d %H:%M %Z}"
            return Outcome(campaign.id, False, Reason.OUTSIDE_WINDOW, detail)
        if window.ends_at is not None and now >= _aware(window.ends_at):
            detail = f"ended at {_aware(window.ends_at):%Y-%m-%d %H:%M %Z}"
            return Outcome(campaign.id, False, Reason.OUTSIDE_WINDOW, detail)
    detail = "its conditions do not hold on this order (batch pre-filter)"
    return Outcome(campaign.id, False, Reason.CONDITION_FAILED, detail)


class _Decider:
    """``decide`` over the campaigns that can fire on the step: enabled, on the step's trigger
    and, with a pre-filter, among its candidates (the configs cached per trigger and candidate
    set). The others cannot fire, win no group, spend and use nothing: leaving them out changes
    no decision, and their outcomes are filled in as the engine words them."""

    def __init__(self, config: ShopConfig, secret: bytes, candidates: Candidates | None) -> None:
        self.config = config
        self.secret = secret
        self.candidates = candidates
        self._subsets: dict[tuple[EventKind, frozenset[str] | None], ShopConfig] = {}
        #: The triggers some enabled campaign runs on (other steps need no pre-filter).
        self._triggers = frozenset(c.trigger for c in config.campaigns if c.enabled)
        #: Outcomes that do not depend on the time or the order (disabled, other trigger).
        self._outcomes: dict[tuple[str, EventKind], Outcome] = {}
        #: All outcomes of a step where no campaign can fire (campaigns without windows only).
        self._nothing: dict[tuple[EventKind, frozenset[str] | None], tuple[Outcome, ...]] = {}

    def __call__(
        self, order: Order, kind: EventKind, ref: str, now: datetime, books: ReplayBooks
    ) -> Decision:
        ids = None
        if self.candidates is not None and kind in self._triggers:
            ids = self.candidates(order)
        config = self._subset(kind, ids)
        if config.campaigns:
            decision = decide(
                config,
                order,
                event=kind,
                counters=books,
                now=now,
                code_secret=self.secret,
                occurrence=ref,
            )
        else:
            shop = self.config.settings.domain
            outcomes = self._nothing.get((kind, ids))
            if outcomes is None:
                outcomes = tuple(self._skipped(c, kind, now) for c in self.config.campaigns)
                if not any(c.window is not None for c in self.config.campaigns):
                    if len(self._nothing) > 4096:
                        self._nothing.clear()
                    self._nothing[(kind, ids)] = outcomes  # the same at any time
            return Decision(shop, order.id, kind, now, outcomes, ())
        if len(config.campaigns) == len(self.config.campaigns):
            return decision
        made = {o.campaign_id: o for o in decision.outcomes}
        outcomes = tuple(
            made.get(c.id) or self._skipped(c, kind, now) for c in self.config.campaigns
        )
        return replace(decision, outcomes=outcomes)

    def _skipped(self, campaign: Campaign, kind: EventKind, now: datetime) -> Outcome:
        if campaign.window is not None and campaign.enabled and campaign.trigger is kind:
            return _skipped(campaign, kind, now)
        key = (campaign.id, kind)
        found = self._outcomes.get(key)
        if found is None:
            found = self._outcomes[key] = _skipped(campaign, kind, now)
        return found

    def _subset(self, kind: EventKind, ids: frozenset[str] | None) -> ShopConfig:
        found = self._subsets.get((kind, ids))
        if found is None:
            if len(self._subsets) > 4096:
                self._subsets.clear()
            campaigns = tuple(
                c
                for c in self.config.campaigns
                if c.enabled and c.trigger is kind and (ids is None or c.id in ids)
            )
            found = replace(self.config, campaigns=campaigns)
            if len(campaigns) == len(self.config.campaigns):
                found = self.config
            self._subsets[(kind, ids)] = found
        return found


@dataclass
class _Run:
    config: ShopConfig
    decider: _Decider
    books: ReplayBooks
    tally: Tally
    loyalty: LoyaltyBook | None
    contacts: ContactBook
    on_step: Callable[[StepRecord], None] | None
    orders: dict[str, OrderState] = field(default_factory=dict)

    def event(self, event: HistoryEvent) -> None:
        self.contacts.advance(event.at)
        order = event.order
        state = self.orders.get(order.id)
        if state is None:
            state = self.orders[order.id] = OrderState(first=order)
        for kind, ref in steps_of(order, event.kind, refund=event.refund):
            extra = [event.refund] if event.refund is not None else []
            self.step(state, order, kind, ref, extra or list(order.refunds), event.at)
        if event.last:
            self.finish(state)
            del self.orders[order.id]

    def step(
        self,
        state: OrderState,
        order: Order,
        kind: EventKind,
        ref: str,
        known: list[Refund],
        now: datetime,
    ) -> None:
        """``Processor.step`` and ``decide_step``, on the replay's books."""
        for refund in known:
            state.refunds.setdefault(refund.id, refund)
        closing = reversal_of(order)
        if closing is not None and state.closed is None:
            state.closed = closing.value
        created = (kind, ref) not in state.steps
        if created:
            decision = self.decider(order, kind, ref, now, self.books)
            state.steps[(kind, ref)] = decision
            self.books.book(
                decision, ref=ref, customer_key=customer_key(order), existing=state.bookings
            )
            self.tally.step(order, decision)
            self.contacts.plan(self.config, order, decision, now=now)
            if self.on_step is not None:
                self.on_step(StepRecord(order.id, kind, ref, now, decision))
        if state.closed is not None:
            self.contacts.cancel(order.id, now=now)
        plan = take_backs(
            config=self.config,
            order=order,
            refunds=list(state.refunds.values()),
            open_campaigns=state.open_campaigns(),
            closed=closed_reason(state.closed),
        )
        for campaign_id, reason in plan.items():
            for booking in state.bookings.values():
                if booking.campaign_id == campaign_id and not booking.reversed:
                    self.books.reverse(booking)
            state.taken_back.setdefault(campaign_id, reason)
        if self.loyalty is not None:
            self.loyalty.step(order, state, now=now)

    def finish(self, state: OrderState) -> None:
        self.tally.settle(state)


def replay_events(
    config: ShopConfig,
    events: Iterable[HistoryEvent],
    *,
    code_secret: bytes,
    candidates: Candidates | None = None,
    on_step: Callable[[StepRecord], None] | None = None,
    tally: Tally,
) -> None:
    """Replay events already in time order into ``tally`` (see :func:`replay`); the caller
    counts the orders (``tally.order``) as it reads them."""
    run = _Run(
        config=config,
        decider=_Decider(config, code_secret, candidates),
        books=ReplayBooks(config.settings.timezone),
        tally=tally,
        loyalty=LoyaltyBook(config, code_secret) if config.loyalty is not None else None,
        contacts=ContactBook(config),
        on_step=on_step,
    )
    for event in events:
        tally.event(event)
        run.event(event)
    for state in list(run.orders.values()):
        run.finish(state)
    run.contacts.flush()
    if run.loyalty is not None and tally.last_event is not None:
        run.loyalty.close(tally.last_event)
    tally.close(books=run.books, loyalty=run.loyalty, contacts=run.contacts)


def replay(
    config: ShopConfig,
    orders: Iterable[HistoryOrder],
    *,
    code_secret: bytes,
    redemption_rate: Decimal,
    since: datetime | None = None,
    until: datetime | None = None,
    candidates: Candidates | None = None,
    on_step: Callable[[StepRecord], None] | None = None,
    bad_rows: Iterable[BadRow] = (),
    bad_count: int | None = None,
    memory_events: int = DEFAULT_MEMORY_EVENTS,
    warm_up: datetime | None = None,
) -> BacktestResult:
    """Replay ``orders`` (a stream; read once) under ``config`` and sum up what the campaigns
    would have done (see the module docstring).

    ``since``/``until`` select the orders placed in ``[since, until)``; every event of a selected
    order counts, however late (a refund after ``until`` still takes back). ``redemption_rate``:
    the share of coupons assumed redeemed, for the expected cost. ``bad_rows``/``bad_count``: the
    readers' unreadable rows, passed through to the result (the first 100 kept).
    ``memory_events``: events sorted in memory before the sort spills to a temporary file.
    ``warm_up``: the orders placed from then until ``since`` count towards their customers' order
    counts and spend only (:mod:`.customers`), so the first months do not undercount them.
    """
    tally = Tally(config, redemption_rate=redemption_rate, since=since, until=until)
    events = in_time_order(
        orders,
        since=since,
        until=until,
        memory_events=memory_events,
        on_order=lambda h: tally.order(h.order),
        warm_up=warm_up,
    )
    replay_events(
        config, events, code_secret=code_secret, candidates=candidates, on_step=on_step, tally=tally
    )
    bad = tuple(bad_rows)
    return tally.result(bad_rows=bad[:100], bad_count=len(bad) if bad_count is None else bad_count)
