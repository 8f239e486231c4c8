"""The loyalty figures of the demo: per order what it earned, the customer's balance and tier,
the stamp cards and their rewards; offline from the pure core, live from the service's ledger.

Offline, :class:`OfflineLedger` books each order as the service does: the same plan
(:func:`~aftersale_kit.storage.loyalty_plan.order_plan`) on an account kept in memory, through
the ledger's :func:`~aftersale_kit.core.loyalty.ledger.apply`. Live, :func:`live_facts` reads
what the service booked (``Store.loyalty_account``). Both give :class:`LoyaltyFacts`, built by
the same view the thank-you blocks show (:mod:`aftersale_kit.service.loyalty_content`), so the
demo can compare them order by order. It needs the server extra (the plan and the account
live in the service and storage layers): :func:`offline_ledger` is ``None`` without it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from .core.campaign import ShopConfig
from .core.decision import Decision
from .core.loyalty.actions import AwardPoints
from .core.loyalty.ledger import JournalState, MovementKind, SourceKind, Status, apply
from .core.loyalty.program import LoyaltyProgram, account_key
from .core.loyalty.schedule import due
from .core.loyalty.stamps import CardState
from .core.loyalty.tiers import Activity
from .core.loyalty.view import LoyaltyView
from .core.model import EventKind, Order
from .demo_loyalty_facts import AccountFacts, CardFacts, LoyaltyFacts
from .service.loyalty_content import account_view, bonuses_of, with_order
from .storage.loyalty import AccountView, JournalRow, reward_coupon_keys
from .storage.loyalty_plan import OrderFacts, order_plan
from .storage.records import DecisionRecord

__all__ = ["OfflineLedger", "live_accounts", "live_facts", "offline_ledger"]


def _account_facts(account: str, view: LoyaltyView) -> AccountFacts:
    tier = view.tier
    following = view.next_option
    return AccountFacts(
        account=account,
        pending=view.pending,
        available=view.available,
        tier=tier.current if tier else None,
        next_tier=tier.next if tier else None,
        missing=tier.missing if tier else None,
        reaches=tuple(o.id for o in view.reached),
        next_option=following.id if following is not None else None,
        option_missing=following.missing if following is not None else 0,
    )


def _facts(
    program: LoyaltyProgram,
    order: Order,
    bonuses: Sequence[AwardPoints],
    found: AccountView | None,
    *,
    account: str,
    now: datetime,
    rewards: Iterable[str],
) -> LoyaltyFacts:
    view = account_view(program, found, now=now)
    if found is not None:
        view = with_order(view, program, order, bonuses, found)
    return LoyaltyFacts(
        account=_account_facts(account, view),
        earned=view.earned,
        bonus=view.bonus,
        pending_days=view.pending_days,
        cards=tuple(CardFacts(c.name, c.stamps, c.needed, c.completed) for c in view.cards),
        rewards=tuple(sorted(rewards)),
    )


def _history(rows: Sequence[JournalRow]) -> tuple[Activity, ...]:
    out = []
    for row in rows:
        m = row.movement
        if m.kind is MovementKind.EARNED_PENDING and m.source is SourceKind.ORDER:
            out.append(Activity(m.at, row.spend or Decimal(0), m.points))
        elif m.kind is MovementKind.REVERSED:
            out.append(Activity(m.at, row.spend or Decimal(0), -m.points))
    return tuple(out)


@dataclass
class _Book:
    account: str
    state: JournalState = field(default_factory=JournalState)
    rows: list[JournalRow] = field(default_factory=list)
    cards: dict[str, CardState] = field(default_factory=dict)

    def view(self) -> AccountView:
        earned = {
            r.movement.key: r for r in self.rows if r.movement.kind is MovementKind.EARNED_PENDING
        }
        return AccountView(self.account, self.state, _history(self.rows), self.cards, earned)

    def book(self, row: JournalRow, program: LoyaltyProgram) -> None:
        result = apply(self.state, row.movement, policy=program.on_spent_refund)
        if result.status is Status.APPLIED:
            self.state = result.state
            self.rows.append(row)


class OfflineLedger:
    """The ledger of one example shop in memory, booked order by order as the service does."""

    def __init__(self, config: ShopConfig, *, code_secret: bytes) -> None:
        self.config = config
        self.code_secret = code_secret
        self.books: dict[str, _Book] = {}
        self._records: dict[str, list[DecisionRecord]] = {}
        self._codes: dict[str, str] = {}

    def step(self, order: Order, decision: Decision) -> LoyaltyFacts | None:
        """Book what ``order`` stands for after ``decision`` (one step of its timeline)."""
        program = self.config.loyalty
        if program is None:
            return None
        account = account_key(order, program)
        if account is None:
            return LoyaltyFacts(account=None)
        records = self._records.setdefault(order.id, [])
        records.append(_record(self.config, order, decision, len(records) + 1))
        book = self.books.setdefault(account, _Book(account))
        now = decision.decided_at
        closed = decision.event is EventKind.ORDER_CANCELLED or order.cancelled_at is not None
        facts = OrderFacts(order, tuple(records), tuple(order.refunds), closed, now)
        plan = order_plan(self.config, facts, book.view(), code_secret=self.code_secret)
        for row in plan.movements:
            book.book(replace(row, booked_at=now), program)
        book.cards.update(plan.cards)
        for reward in plan.rewards:
            if reward.planned.coupon_code:
                self._codes[reward.planned.idempotency_key] = reward.planned.coupon_code
        bonuses = [a for r in records for a in bonuses_of(r.decision)]
        found = book.view()
        rewards = _rewards(self.config, found, order, self._codes.get)
        return _facts(program, order, bonuses, found, account=account, now=now, rewards=rewards)

    def release(self, now: datetime) -> list[AccountFacts]:
        """Book the releases and expiries due at ``now`` on every account (the worker's sweep)."""
        program = self.config.loyalty
        if program is None:
            return []
        out = []
        for account, book in sorted(self.books.items()):
            for movement in due(book.state, program, now):
                book.book(JournalRow(movement, 0, 0, booked_at=now), program)
            out.append(_account_facts(account, account_view(program, book.view(), now=now)))
        return out


def _record(config: ShopConfig, order: Order, decision: Decision, n: int) -> DecisionRecord:
    return DecisionRecord(
        id=n,
        shop=config.settings.domain,
        order_id=order.id,
        event_kind=decision.event,
        customer_key=None,
        decided_at=decision.decided_at,
        decision=decision,
    )


def _rewards(
    config: ShopConfig,
    found: AccountView,
    order: Order,
    code: Callable[[str], str | None],
) -> list[str]:
    """The coupon codes of the stamp card rewards ``order`` completed (its stamp completed
    the card); ``code``: a reward coupon's code by its key."""
    program = config.loyalty
    out: list[str] = []
    for card in found.cards.values():
        definition = program.card(card.card) if program is not None else None
        if definition is None:
            continue
        for completion in card.completions:
            if completion.stamps and completion.stamps[-1].order_id == order.id:
                keys = reward_coupon_keys(
                    config.settings.domain, found.account, completion, len(definition.reward)
                )
                out += [c for c in map(code, keys) if c is not None]
    return out


def live_facts(
    store: Any, config: ShopConfig, order: Order, timeline: Decision, *, now: datetime
) -> LoyaltyFacts | None:
    """What the service booked for ``order`` (``timeline``: its steps as one decision)."""
    program = config.loyalty
    if program is None:
        return None
    account = account_key(order, program)
    if account is None:
        return LoyaltyFacts(account=None)
    shop = config.settings.domain
    found = store.loyalty_account(shop, account)

    def code(key: str) -> str | None:
        coupon = store.coupon(shop, key)
        return None if coupon is None else str(coupon.code)

    rewards = _rewards(config, found, order, code) if found is not None else []
    return _facts(
        program,
        order,
        bonuses_of(timeline),
        found,
        account=account,
        now=now,
        rewards=rewards,
    )


def live_accounts(store: Any, config: ShopConfig, *, now: datetime) -> list[AccountFacts]:
    """Every account of the shop as the service holds it at ``now``."""
    program = config.loyalty
    if program is None:
        return []
    shop = config.settings.domain
    out = []
    for account in sorted(store.loyalty_accounts(shop)):
        view = account_view(program, store.loyalty_account(shop, account), now=now)
        out.append(_account_facts(account, view))
    return out


def offline_ledger(config: ShopConfig, *, code_secret: bytes) -> OfflineLedger | None:
    """The shop's :class:`OfflineLedger`, or ``None`` without a loyalty program."""
    return OfflineLedger(config, code_secret=code_secret) if config.loyalty is not None else None
