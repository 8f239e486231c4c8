"""Points and stamp cards over the history, booked as the live step books them.

Each step of an order runs the service's plan (:func:`~aftersale_kit.storage.loyalty_plan.
order_plan`: earn once when paid, take back what refunds and closure no longer earn, stamp and
unstamp cards, plan stamp-card rewards) through the storage's booking
(:func:`~aftersale_kit.storage.loyalty.step`, which applies each movement with the pure
:func:`~aftersale_kit.core.loyalty.ledger.apply`), on accounts kept in dictionaries
(:class:`_Rows`: one look-up per account instead of the memory store's scans). Before a step,
the account's releases and expiries due by then are booked
(:func:`~aftersale_kit.storage.loyalty.sweep`), as the live sweeper would have by that time.
Customers redeem no points in a backtest (no storefront): the liability at the end is every
point still pending or available, valued at the program's first redemption option.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from ..core.campaign import ShopConfig
from ..core.loyalty.ledger import JournalState, MovementKind
from ..core.loyalty.program import account_key
from ..core.loyalty.stamps import CardState, RewardStatus
from ..core.model import Order
from ..storage import loyalty as books
from ..storage.loyalty import (
    AccountRow,
    Identity,
    JournalRow,
    LoyaltyRedemption,
    TimelineFacts,
)
from ..storage.loyalty_plan import OrderFacts, order_plan
from ..storage.records import CouponRecord, DecisionRecord
from .result import LoyaltyFigures
from .state import OrderState

__all__ = ["LoyaltyBook"]


class _Rows:
    """A :class:`~aftersale_kit.storage.loyalty.LoyaltyTx` in dictionaries, for one shop."""

    def __init__(self) -> None:
        self.by_key: dict[str, AccountRow] = {}
        self.by_id: dict[int, AccountRow] = {}
        self.journals: dict[int, list[JournalRow]] = {}
        self.card_states: dict[int, dict[str, CardState]] = {}
        self.revoked = 0

    def account(
        self, shop: str, account: str, *, identity: Identity | None, now: datetime
    ) -> AccountRow | None:
        found = self.by_key.get(account)
        if found is not None or identity is None:
            return found
        row = AccountRow(len(self.by_id) + 1, shop, account, 0, 0, 0)
        self.by_key[account] = self.by_id[row.id] = row
        self.journals[row.id] = []
        return row

    def account_by_id(self, account_id: int) -> AccountRow | None:
        return self.by_id.get(account_id)

    def journal(self, account_id: int) -> list[JournalRow]:
        return self.journals.get(account_id, [])

    def insert(self, account: AccountRow, row: JournalRow, *, now: datetime) -> None:
        self.journals[account.id].append(replace(row, booked_at=now))

    def set_totals(self, account: AccountRow, state: JournalState, *, now: datetime) -> None:
        row = replace(
            self.by_id[account.id],
            pending=state.pending,
            available=state.available,
            debt=state.debt,
        )
        self.by_id[row.id] = self.by_key[row.account] = row

    def cards(self, account_id: int) -> dict[str, CardState]:
        return dict(self.card_states.get(account_id, {}))

    def set_card(self, account: AccountRow, state: CardState, *, now: datetime) -> None:
        self.card_states.setdefault(account.id, {})[state.card] = state

    def redemptions(self, account_id: int) -> list[LoyaltyRedemption]:
        return []

    def redemption(
        self, shop: str, *, key: str | None = None, coupon_key: str | None = None
    ) -> LoyaltyRedemption | None:
        return None

    def used_coupons(self, shop: str, keys: Sequence[str]) -> set[str]:
        return set()

    def add_redemption(self, redemption: LoyaltyRedemption, *, now: datetime) -> None:
        raise NotImplementedError("no redemptions in a backtest")

    def set_redemption_state(self, shop: str, key: str, state: str, *, now: datetime) -> None:
        return None

    def coupon(self, shop: str, key: str) -> CouponRecord | None:
        return None

    def plan_coupon(
        self,
        *,
        shop: str,
        order_id: str,
        campaign_id: str,
        key: str,
        code: str,
        customer_key: str | None,
        now: datetime,
    ) -> None:
        return None

    def revoke_coupon(self, shop: str, key: str, *, reason: str, now: datetime) -> bool:
        self.revoked += 1
        return False

    def enqueue(
        self, *, shop: str, kind: str, key: str, payload: Mapping[str, Any], now: datetime
    ) -> None:
        return None

    def add_event(
        self,
        account: AccountRow,
        *,
        kind: str,
        key: str,
        points: int,
        due_at: datetime,
        now: datetime,
    ) -> bool:
        return False


class LoyaltyBook:
    """The loyalty accounts of one run (see the module docstring)."""

    def __init__(self, config: ShopConfig, code_secret: bytes) -> None:
        if config.loyalty is None:
            raise ValueError("the config has no loyalty program")
        self.config = config
        self.program = config.loyalty
        self.secret = code_secret
        self.shop = config.settings.domain
        self.rows = _Rows()
        self._ids = 0

    def step(self, order: Order, state: OrderState, *, now: datetime) -> None:
        """Book what the order stands for after its step (``Processor.step``'s loyalty)."""
        account = account_key(order, self.program)
        if account is None:
            return
        books.sweep(
            self.rows,
            shop=self.shop,
            account=account,
            program=self.program,
            now=now,
            remind_within=timedelta(0),
        )
        customer = order.customer
        identity = Identity(
            customer_id=customer.id if customer is not None else None,
            email=order.email or (customer.email if customer is not None else None),
        )
        facts = TimelineFacts(
            records=self._records(order, state),
            refunds=tuple(state.refunds.values()),
            closed=state.closed is not None,
        )
        config, secret = self.config, self.secret

        def plan(view: books.AccountView) -> books.LoyaltyPlan:
            known = OrderFacts(
                order=order,
                records=facts.records,
                refunds=facts.refunds,
                closed=facts.closed,
                now=now,
            )
            return order_plan(config, known, view, code_secret=secret)

        books.step(
            self.rows,
            shop=self.shop,
            account=account,
            identity=identity,
            plan=plan,
            policy=self.program.on_spent_refund,
            now=now,
        )

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
        earned = reversed_ = 0
        for journal in self.rows.journals.values():
            for row in journal:
                kind = row.movement.kind
                if kind is MovementKind.EARNED_PENDING:
                    earned += row.movement.points
                elif kind is MovementKind.REVERSED:
                    reversed_ += abs(row.movement.points)
        standing = sum(r.pending + r.available for r in self.rows.by_id.values())
        rewards = sum(
            1
            for cards in self.rows.card_states.values()
            for state in cards.values()
            for completion in state.completions
            if completion.status is not RewardStatus.DEACTIVATED
        )
        return LoyaltyFigures(
            accounts=len(self.rows.by_id),
            points_earned=earned,
            points_reversed=reversed_,
            stamp_rewards=rewards,
            liability=self._value(standing),
        )

    def _value(self, points: int) -> Decimal:
        options = self.program.redemption.options
        if not options or points <= 0:
            return Decimal(0)
        option = options[0]
        return (Decimal(points) * option.value / Decimal(option.points)).quantize(Decimal("0.01"))
