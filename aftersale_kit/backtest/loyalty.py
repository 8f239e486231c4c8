"""Points and stamp cards over the history, booked as the live step books them.

Each step of an order runs the service's plan (:func:`~aftersale_kit.storage.loyalty_plan.
order_plan`: earn once when paid, take back what refunds and closure no longer earn, stamp and
unstamp cards, plan stamp-card rewards) on the customer's account and books its movements with
the pure :func:`~aftersale_kit.core.loyalty.ledger.apply`, as the storage's
``loyalty.step`` does; before a step, the releases and expiries due by then are booked as the
storage's ``loyalty.sweep`` (the live worker's sweeper) would have by that time. The storage
rebuilds an account's view from its journal on every step; here each account keeps its view
up to date instead (state, tier history, earnings, cards), which gives the same view in constant
time per step. The property test against the live store holds the two to the same books.

Customers redeem no points in a backtest (there is no storefront): the liability at the end is
every point still pending or available, valued at what a point is worth (the loyalty report's
rule, :func:`~aftersale_kit.core.loyalty.redeem.point_value`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from ..core.campaign import ShopConfig
from ..core.loyalty.ledger import JournalState, Movement, MovementKind, SourceKind, Status, apply
from ..core.loyalty.program import LoyaltyProgram, SpentRefundPolicy, account_key
from ..core.loyalty.redeem import point_value
from ..core.loyalty.schedule import due, expires_at, release_at
from ..core.loyalty.stamps import CardState, RewardStatus
from ..core.loyalty.tiers import Activity
from ..core.model import Order
from ..storage.loyalty import AccountView, JournalRow
from ..storage.loyalty_plan import OrderFacts, order_plan
from ..storage.records import DecisionRecord
from .result import LoyaltyFigures
from .state import OrderState

__all__ = ["LoyaltyBook"]


@dataclass(slots=True)
class _Account:
    """One account as the storage's view of it reads (kept up to date per movement)."""

    key: str
    state: JournalState = field(default_factory=JournalState)
    history: list[Activity] = field(default_factory=list)
    earned: dict[str, JournalRow] = field(default_factory=dict)
    cards: dict[str, CardState] = field(default_factory=dict)
    points_earned: int = 0
    points_reversed: int = 0
    #: Nothing is due before this (``None``: nothing at all); recomputed when the state moves.
    quiet_until: datetime | None = None
    moved: bool = True

    def due(self, program: LoyaltyProgram, now: datetime) -> tuple[Movement, ...]:
        """:func:`~aftersale_kit.core.loyalty.schedule.due`, asked only once something can be
        due: a release or an expiry of points still standing is not before ``quiet_until``."""
        if self.moved:
            self.quiet_until = _next_due(self.state, program)
            self.moved = False
        if self.quiet_until is None or now < self.quiet_until:
            return ()
        return due(self.state, program, now)

    def view(self) -> AccountView:
        return AccountView(self.key, self.state, tuple(self.history), dict(self.cards), self.earned)

    def book(self, row: JournalRow, *, policy: SpentRefundPolicy) -> bool:
        """``_book_one``: apply the movement; record it when applied."""
        result = apply(self.state, row.movement, policy=policy)
        if result.status is not Status.APPLIED or result.booking is None:
            return False
        self.state = result.state
        self.moved = True
        m = row.movement
        if m.kind is MovementKind.EARNED_PENDING:
            self.earned[m.key] = row
            self.points_earned += m.points
            if m.source is SourceKind.ORDER:
                self.history.append(Activity(m.at, row.spend or Decimal(0), m.points))
        elif m.kind is MovementKind.REVERSED:
            self.points_reversed += abs(m.points)
            self.history.append(Activity(m.at, row.spend or Decimal(0), -m.points))
        return True


def _next_due(state: JournalState, program: LoyaltyProgram) -> datetime | None:
    """The earliest moment ``due`` can return anything: a grant's release, or the expiry of a
    grant with points left (pending or remaining)."""
    moments: list[datetime] = []
    for grant in state.grants.values():
        if not grant.released:
            moments.append(grant.release_at or release_at(grant.at, program))
        left = grant.remaining if grant.released else grant.pending
        if left > 0:
            expiry = expires_at(grant, state, program)
            if expiry is not None:
                moments.append(expiry)
    return min(moments, default=None)


class LoyaltyBook:
    """The loyalty accounts of one run (see the module docstring)."""

    def __init__(self, config: ShopConfig, code_secret: bytes) -> None:
        if config.loyalty is None:
            raise ValueError("the config has no loyalty program")
        self.config = config
        self.program = config.loyalty
        self.secret = code_secret
        self.shop = config.settings.domain
        self.accounts: dict[str, _Account] = {}
        self.revoked = 0

    def step(self, order: Order, state: OrderState, *, now: datetime) -> None:
        """Book what the order stands for after its step (``Processor.step``'s loyalty)."""
        key = account_key(order, self.program)
        if key is None:
            return
        account = self.accounts.get(key)
        if account is None:
            account = self.accounts[key] = _Account(key)
        policy = self.program.on_spent_refund
        for movement in account.due(self.program, now):
            account.book(JournalRow(movement, 0, 0), policy=policy)
        facts = OrderFacts(
            order=order,
            records=self._records(order, state),
            refunds=tuple(state.refunds.values()),
            closed=state.closed is not None,
            now=now,
        )
        plan = order_plan(self.config, facts, account.view(), code_secret=self.secret)
        for row in plan.movements:
            account.book(row, policy=policy)
        account.cards.update(plan.cards)
        self.revoked += len(plan.revoke)

    def close(self, at: datetime) -> None:
        """The history's end: book the releases and expiries due by then on every account
        (the live sweeper would have), so the liability counts only points that stand."""
        policy = self.program.on_spent_refund
        for account in self.accounts.values():
            for movement in account.due(self.program, at):
                account.book(JournalRow(movement, 0, 0), policy=policy)

    def _records(self, order: Order, state: OrderState) -> tuple[DecisionRecord, ...]:
        return tuple(
            DecisionRecord(
                id=index,
                shop=self.shop,
                order_id=order.id,
                event_kind=kind,
                customer_key=None,
                decided_at=decision.decided_at,
                decision=decision,
                ref=ref,
            )
            for index, ((kind, ref), decision) in enumerate(state.steps.items(), start=1)
        )

    def figures(self) -> LoyaltyFigures:
        accounts = self.accounts.values()
        rewards = sum(
            1
            for a in accounts
            for card in a.cards.values()
            for completion in card.completions
            if completion.status is not RewardStatus.DEACTIVATED
        )
        return LoyaltyFigures(
            accounts=len(self.accounts),
            points_earned=sum(a.points_earned for a in accounts),
            points_reversed=sum(a.points_reversed for a in accounts),
            stamp_rewards=rewards,
            liability=self._value(sum(a.state.pending + a.state.available for a in accounts)),
        )

    def _value(self, points: int) -> Decimal:
        found = point_value(self.program)
        if found is None or points <= 0:
            return Decimal(0)
        return (Decimal(points) * found[0]).quantize(Decimal("0.01"))
