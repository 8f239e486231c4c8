"""The loyalty ledger in storage: accounts, the journal, stamp cards, redemptions, reminders.

Every change of an account runs under the account's lock (PostgreSQL: ``SELECT ... FOR UPDATE``
on the account row; SQLite: the write transaction excludes every other writer) and books its
movements through :func:`~aftersale_kit.core.loyalty.ledger.apply` on the state the journal
replays to, so concurrent redemptions can never spend a point twice and a movement whose key was
booked moves nothing. The account row keeps the running totals and that state
(:mod:`._loyalty_snapshot`, written with every booking, so a booking reads one row instead of
the journal); :func:`check` compares both with the journal.

The logic here is written once against :class:`LoyaltyTx`, the few row operations a backend
offers inside one transaction: the SQL store (:mod:`._loyalty_sql`) and the memory store
(:mod:`._memory_loyalty`) implement it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from ..core.blocks import LOYALTY_BLOCKS
from ..core.campaign import ShowBlock
from ..core.decision import PlannedAction
from ..core.errors import StorageError
from ..core.loyalty.customer import platform_customer_id
from ..core.loyalty.ledger import (
    ApplyResult,
    JournalState,
    Movement,
    MovementKind,
    SourceKind,
    Status,
    apply,
    mark_used,
)
from ..core.loyalty.program import LoyaltyProgram, SpentRefundPolicy
from ..core.loyalty.redeem import check_redemption, redemption_movement
from ..core.loyalty.schedule import due, expiring
from ..core.loyalty.stamps import (
    CardState,
    Completion,
    RewardStatus,
    StampEntry,
    mark_reward_used,
)
from ..core.loyalty.tiers import Activity
from ..core.model import Refund
from ._loyalty_snapshot import LedgerSnapshot, decode, encode
from .records import CouponRecord, DecisionRecord, JobKind

__all__ = [
    "AccountRow",
    "AccountView",
    "Identity",
    "JournalRow",
    "LedgerDriftError",
    "LoyaltyBalance",
    "LoyaltyOutcome",
    "LoyaltyPlan",
    "LoyaltyRedemption",
    "LoyaltyReminder",
    "LoyaltyTx",
    "PlannedReward",
    "RedeemOutcome",
    "StepLoyalty",
    "SweepOutcome",
    "TimelineFacts",
    "card_from_json",
    "card_to_json",
    "customer_job_key",
    "redemption_coupon_key",
    "reward_coupon_keys",
    "shows_loyalty",
]

REMINDER = "expiry_reminder"
ACTIVE = "active"
CANCELLED = "cancelled"


class LedgerDriftError(StorageError):
    """An account's running totals differ from the sums of its journal."""


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the account belongs to (personal data: anonymised on redact)."""

    customer_id: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class AccountRow:
    id: int
    shop: str
    account: str
    pending: int
    available: int
    debt: int
    customer_id: str | None = None
    email: str | None = None
    #: What the journal replays to (:mod:`._loyalty_snapshot`, JSON), ``None`` before the
    #: account's first booking since it was introduced.
    snapshot: str | None = None


@dataclass(frozen=True, slots=True)
class JournalRow:
    """One booked movement as the journal holds it."""

    movement: Movement
    pending_delta: int
    available_delta: int
    spend: Decimal | None = None
    tier: str | None = None
    booked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class LoyaltyRedemption:
    shop: str
    account_id: int
    key: str
    option_id: str
    points: int
    coupon_code: str
    coupon_key: str
    state: str
    created_at: datetime
    customer_id: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class LoyaltyReminder:
    shop: str
    account: str
    kind: str
    key: str
    points: int
    due_at: datetime
    created_at: datetime


@dataclass(frozen=True, slots=True)
class LoyaltyBalance:
    account: str
    pending: int
    available: int
    debt: int


@dataclass(frozen=True, slots=True)
class AccountView:
    """What a plan reads under the account lock: the ledger state, the tier history, the
    stamp cards and, per grant, the tier and spend it was earned with."""

    account: str
    state: JournalState
    history: tuple[Activity, ...]
    cards: Mapping[str, CardState]
    earned: Mapping[str, JournalRow]


@dataclass(frozen=True, slots=True)
class PlannedReward:
    """A stamp card's reward action, carried out by the existing job kinds: ``kind`` (the job),
    ``payload`` (as a decision's effect job carries it), a planned coupon when ``code`` is set."""

    planned: PlannedAction
    kind: str
    order_id: str
    payload: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class LoyaltyPlan:
    """What to book for one account: movements (with the spend and tier of an earning), new
    stamp card states, rewards to plan and coupons (keys) to revoke."""

    movements: tuple[JournalRow, ...] = ()
    cards: Mapping[str, CardState] = field(default_factory=dict)
    rewards: tuple[PlannedReward, ...] = ()
    revoke: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LoyaltyOutcome:
    account: str
    booked: tuple[JournalRow, ...]
    results: tuple[ApplyResult, ...]
    balance: LoyaltyBalance
    #: The stamp cards whose state changed.
    cards: tuple[CardState, ...] = ()

    @property
    def content_version(self) -> str | None:
        """A token naming what changed (the movements booked, the new card states), for the
        rewrite of the order's content; ``None`` when nothing changed."""
        if not self.booked and not self.cards:
            return None
        parts = [r.movement.key for r in self.booked] + [card_to_json(c) for c in self.cards]
        return "p" + hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]


@dataclass(frozen=True, slots=True)
class RedeemOutcome:
    ok: bool
    reason: str
    balance: LoyaltyBalance | None = None
    code: str | None = None
    points: int = 0
    #: The same request was booked before (a retry): nothing new was spent.
    repeated: bool = False


@dataclass(frozen=True, slots=True)
class SweepOutcome:
    booked: tuple[JournalRow, ...]
    reminders: int


@dataclass(frozen=True, slots=True)
class TimelineFacts:
    """What the step's transaction knows of the order after its step: every decided step, every
    refund, and whether the order is closed (cancelled, refunded in full)."""

    records: tuple[DecisionRecord, ...]
    refunds: tuple[Refund, ...]
    closed: bool


@dataclass(frozen=True, slots=True)
class StepLoyalty:
    """Book the order's loyalty in the step's own transaction (``decide_step(loyalty=...)``):
    ``plan`` (pure, quick, no Store call) says what to book from the facts and the account."""

    account: str
    identity: Identity | None
    policy: SpentRefundPolicy
    plan: Callable[[TimelineFacts, AccountView], LoyaltyPlan]


def book_step(
    tx: LoyaltyTx, hook: StepLoyalty, *, shop: str, facts: TimelineFacts, now: datetime
) -> LoyaltyOutcome:
    """:func:`step` for ``hook`` on the facts of the step's transaction."""
    return step(
        tx,
        shop=shop,
        account=hook.account,
        identity=hook.identity,
        plan=lambda view: hook.plan(facts, view),
        policy=hook.policy,
        now=now,
    )


class LoyaltyTx(Protocol):
    """The row operations of one transaction of a backend."""

    def account(
        self, shop: str, account: str, *, identity: Identity | None, now: datetime
    ) -> AccountRow | None:
        """The account, locked until the transaction ends; created when ``identity`` is given."""
        ...

    def account_by_id(self, account_id: int) -> AccountRow | None:
        """The account, locked until the transaction ends."""
        ...

    def journal(self, account_id: int) -> list[JournalRow]: ...

    def insert(self, account: AccountRow, row: JournalRow, *, now: datetime) -> JournalRow:
        """Append ``row``; returns it as the journal holds it (what a replay reads back)."""
        ...

    def set_totals(
        self, account: AccountRow, state: JournalState, *, snapshot: str, now: datetime
    ) -> None:
        """Write the running totals of ``state`` and the account's snapshot (its JSON)."""
        ...

    def cards(self, account_id: int) -> dict[str, CardState]: ...

    def set_card(self, account: AccountRow, state: CardState, *, now: datetime) -> None: ...

    def redemptions(self, account_id: int) -> list[LoyaltyRedemption]: ...

    def redemption(
        self, shop: str, *, key: str | None = None, coupon_key: str | None = None
    ) -> LoyaltyRedemption | None: ...

    def used_coupons(self, shop: str, keys: Sequence[str]) -> set[str]:
        """The keys among ``keys`` whose coupon was used (one look-up for all)."""
        ...

    def add_redemption(self, redemption: LoyaltyRedemption, *, now: datetime) -> None: ...

    def set_redemption_state(self, shop: str, key: str, state: str, *, now: datetime) -> None: ...

    def coupon(self, shop: str, key: str) -> CouponRecord | None: ...

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
    ) -> None: ...

    def revoke_coupon(self, shop: str, key: str, *, reason: str, now: datetime) -> bool:
        """Revoke the coupon if unused; ``True`` when a deactivation job on the platform was
        queued (the caller waits for it), ``False`` when nothing exists there to switch off."""
        ...

    def enqueue(
        self, *, shop: str, kind: str, key: str, payload: Mapping[str, Any], now: datetime
    ) -> None: ...

    def add_event(
        self,
        account: AccountRow,
        *,
        kind: str,
        key: str,
        points: int,
        due_at: datetime,
        now: datetime,
    ) -> bool: ...


# -- card state codec -------------------------------------------------------------------------


def _entry(entry: StampEntry) -> list[str]:
    return [entry.order_id, entry.at.isoformat()]


def card_to_json(state: CardState) -> str:
    return json.dumps(
        {
            "card": state.card,
            "stamps": [_entry(s) for s in state.stamps],
            "completions": [
                {
                    "key": c.key,
                    "number": c.number,
                    "stamps": [_entry(s) for s in c.stamps],
                    "at": c.at.isoformat(),
                    "status": c.status.value,
                }
                for c in state.completions
            ],
            "taken_back": sorted(state.taken_back),
        },
        sort_keys=True,
        separators=(",", ":"),
    )


def _stamps(items: Sequence[Sequence[str]]) -> tuple[StampEntry, ...]:
    return tuple(StampEntry(o, datetime.fromisoformat(a)) for o, a in items)


def card_from_json(text: str) -> CardState:
    data = json.loads(text)
    return CardState(
        card=data["card"],
        stamps=_stamps(data["stamps"]),
        completions=tuple(
            Completion(
                key=c["key"],
                number=int(c["number"]),
                stamps=_stamps(c["stamps"]),
                at=datetime.fromisoformat(c["at"]),
                status=RewardStatus(c["status"]),
            )
            for c in data["completions"]
        ),
        taken_back=frozenset(data["taken_back"]),
    )


# -- reading ----------------------------------------------------------------------------------


def redemption_coupon_key(shop: str, account: str, request: str) -> str:
    return f"{shop}:loyalty:{account}:redeem:{request}"


def reward_coupon_keys(shop: str, account: str, completion: Completion, count: int) -> list[str]:
    """The idempotency keys :func:`~aftersale_kit.core.loyalty.stamps.reward_actions` gives."""
    return [f"{shop}:loyalty:{account}:{completion.key}:{i}" for i in range(count)]


def _replayed(account: AccountRow, rows: Sequence[JournalRow]) -> LedgerSnapshot:
    """The journal ``rows`` replayed (redemptions not marked used)."""
    state = JournalState()
    for row in rows:
        result = apply(state, row.movement)
        if result.status is not Status.APPLIED:
            raise LedgerDriftError(
                f"loyalty account {account.account!r} of {account.shop}: journal row "
                f"{row.movement.key!r} does not replay ({result.reason})"
            )
        state = result.state
    earned = {r.movement.key: r for r in rows if r.movement.kind is MovementKind.EARNED_PENDING}
    return LedgerSnapshot(state, _history(rows), earned, len(rows))


def _marked(tx: LoyaltyTx, account: AccountRow, state: JournalState) -> JournalState:
    """``state`` with the redemptions whose coupon was used marked so (the coupons table
    says; one look-up, only for an account that redeemed)."""
    if not state.redemptions:
        return state
    redemptions = tx.redemptions(account.id)
    used = tx.used_coupons(account.shop, [r.coupon_key for r in redemptions])
    for redemption in redemptions:
        if redemption.coupon_key in used:
            state = mark_used(state, redemption.key)
    return state


def _stored(account: AccountRow) -> LedgerSnapshot | None:
    """The account's snapshot, when it has one that agrees with its running totals (anything
    else is replayed from the journal)."""
    found = decode(account.snapshot)
    if found is None:
        return None
    s = found.state
    if (s.pending, s.available, s.debt) != (account.pending, account.available, account.debt):
        return None
    return found


def _load(tx: LoyaltyTx, account: AccountRow) -> LedgerSnapshot:
    """The account's ledger under its lock: the snapshot on its row, or the journal replayed
    when it has none; redemptions marked used as the coupons table says."""
    found = _stored(account) or _replayed(account, tx.journal(account.id))
    marked = _marked(tx, account, found.state)
    return found if marked is found.state else replace(found, state=marked)


def _with(found: LedgerSnapshot, row: JournalRow, state: JournalState) -> LedgerSnapshot:
    """``found`` after booking ``row`` (as the journal holds it), which led to ``state``."""
    earned = found.earned
    if row.movement.kind is MovementKind.EARNED_PENDING:
        earned = {**earned, row.movement.key: row}
    return LedgerSnapshot(state, found.history + _history((row,)), earned, found.rows + 1)


def _history(rows: Sequence[JournalRow]) -> tuple[Activity, ...]:
    out = []
    for row in rows:
        m = row.movement
        if m.kind is MovementKind.EARNED_PENDING and m.source is SourceKind.ORDER:
            out.append(Activity(m.at, row.spend or Decimal(0), m.points))
        elif m.kind is MovementKind.REVERSED:
            out.append(Activity(m.at, row.spend or Decimal(0), -m.points))
    return tuple(out)


def _cards(tx: LoyaltyTx, account: AccountRow) -> dict[str, CardState]:
    cards = tx.cards(account.id)
    keys = {  # a reward's coupon keys (up to 8 coupons a reward) by completion
        (card_id, completion.key): [
            f"{account.shop}:loyalty:{account.account}:{completion.key}:{index}"
            for index in range(8)
        ]
        for card_id, state in cards.items()
        for completion in state.completions
        if completion.status is RewardStatus.ACTIVE
    }
    if not keys:
        return cards
    used = tx.used_coupons(account.shop, [k for group in keys.values() for k in group])
    for (card_id, completion_key), group in keys.items():
        if used.intersection(group):
            cards[card_id] = mark_reward_used(cards[card_id], completion_key)
    return cards


def view(tx: LoyaltyTx, account: AccountRow) -> AccountView:
    return _view_of(tx, account, _load(tx, account))


def _view_of(tx: LoyaltyTx, account: AccountRow, found: LedgerSnapshot) -> AccountView:
    return AccountView(
        account.account, found.state, found.history, _cards(tx, account), found.earned
    )


def balance_of(account: AccountRow) -> LoyaltyBalance:
    return LoyaltyBalance(account.account, account.pending, account.available, account.debt)


def check(tx: LoyaltyTx, account: AccountRow) -> JournalState:
    """Raise :class:`LedgerDriftError` when the account's running totals differ from the sums
    of its journal (or from the state the journal replays to), or its snapshot from the
    journal replayed."""
    rows = tx.journal(account.id)
    replayed = _replayed(account, rows)
    stored = decode(account.snapshot)
    if stored is not None and stored != replayed:
        raise LedgerDriftError(
            f"loyalty account {account.account!r} of {account.shop}: its snapshot "
            f"({stored.rows} movements) differs from its journal replayed ({len(rows)} "
            "movements)"
        )
    state = _marked(tx, account, replayed.state)
    pending = sum(r.pending_delta for r in rows)
    available = sum(r.available_delta for r in rows)
    found = (account.pending, account.available, account.debt)
    if found != (pending, available, state.debt) or (pending, available) != (
        state.pending,
        state.available,
    ):
        raise LedgerDriftError(
            f"loyalty account {account.account!r} of {account.shop}: running totals "
            f"pending={found[0]} available={found[1]} debt={found[2]}, journal sums "
            f"pending={pending} available={available} debt={state.debt}"
        )
    return state


# -- booking ----------------------------------------------------------------------------------


def _book_one(
    tx: LoyaltyTx,
    account: AccountRow,
    book: LedgerSnapshot,
    row: JournalRow,
    *,
    policy: SpentRefundPolicy,
    now: datetime,
) -> tuple[LedgerSnapshot, ApplyResult]:
    """Book ``row`` on the account's ledger ``book``: the journal row, and ``book`` after it."""
    result = apply(book.state, row.movement, policy=policy)
    if result.status is not Status.APPLIED or result.booking is None:
        return book, result
    booking = result.booking
    stored = tx.insert(
        account,
        replace(
            row,
            pending_delta=booking.pending_delta,
            available_delta=booking.available_delta,
            booked_at=now,
        ),
        now=now,
    )
    _queue_customer_write(tx, account, row.movement.key, now=now)
    book = _with(book, stored, result.state)
    for instruction in result.instructions:
        redemption = tx.redemption(account.shop, key=instruction.redemption)
        if redemption is None or redemption.state != ACTIVE:
            continue
        queued = tx.revoke_coupon(
            account.shop, redemption.coupon_key, reason="points reversed by a refund", now=now
        )
        if not queued:  # never created on the platform: its points come back right away
            book = _return_points(tx, account, book, redemption, now=now)
    return book, result


def shows_loyalty(records: Sequence[DecisionRecord]) -> bool:
    """Whether any step of an order shows a loyalty block (its content follows the ledger)."""
    return any(
        isinstance(p.action, ShowBlock) and p.action.block in LOYALTY_BLOCKS
        for r in records
        for p in r.decision.actions
    )


def customer_job_key(shop: str, account: str, movement: str) -> str:
    return f"{shop}:loyalty:{account}:customer:{movement}"


def _queue_customer_write(
    tx: LoyaltyTx, account: AccountRow, movement: str, *, now: datetime
) -> None:
    """Queue the write of the customer's balance and tier to the platform after a movement (a
    guest's account has no customer there: nothing). The job writes what the account holds
    when it runs, and only while ``movement`` is the account's latest: a burst of movements
    ends in one write."""
    if platform_customer_id(account.account) is None:
        return
    tx.enqueue(
        shop=account.shop,
        kind=JobKind.WRITE_CUSTOMER_LOYALTY.value,
        key=customer_job_key(account.shop, account.account, movement),
        payload={"account": account.account, "movement": movement},
        # due at once, also when the booking time was injected ahead (a sweep run for later)
        now=min(now, datetime.now(UTC)),
    )


def _return_points(
    tx: LoyaltyTx,
    account: AccountRow,
    book: LedgerSnapshot,
    redemption: LoyaltyRedemption,
    *,
    now: datetime,
) -> LedgerSnapshot:
    follow_up = Movement(
        key=f"cancel:{redemption.key}",
        kind=MovementKind.ADJUSTED,
        at=now,
        points=redemption.points,
        source=SourceKind.REDEMPTION,
        ref=redemption.key,
        reason="redemption coupon deactivated: the points it was bought with came back for a "
        "refund",
    )
    book, result = _book_one(
        tx,
        account,
        book,
        JournalRow(follow_up, 0, 0),
        policy=SpentRefundPolicy.NEGATIVE_BALANCE,
        now=now,
    )
    if result.status is Status.APPLIED:
        tx.set_redemption_state(account.shop, redemption.key, CANCELLED, now=now)
    return book


def _finish(tx: LoyaltyTx, account: AccountRow, book: LedgerSnapshot, now: datetime) -> AccountRow:
    """Write the running totals and the snapshot (in the transaction of the bookings)."""
    state = book.state
    text = encode(book)
    tx.set_totals(account, state, snapshot=text, now=now)
    return replace(
        account, pending=state.pending, available=state.available, debt=state.debt, snapshot=text
    )


def _require(
    tx: LoyaltyTx, shop: str, account: str, identity: Identity | None, now: datetime
) -> AccountRow:
    row = tx.account(shop, account, identity=identity or Identity(), now=now)
    if row is None:  # pragma: no cover - created above
        raise StorageError(f"loyalty account {account!r} of {shop} could not be created")
    return row


def step(
    tx: LoyaltyTx,
    *,
    shop: str,
    account: str,
    identity: Identity | None,
    plan: Callable[[AccountView], LoyaltyPlan],
    policy: SpentRefundPolicy,
    now: datetime,
) -> LoyaltyOutcome:
    """Lock the account, let ``plan`` (pure, quick) say what to book on what it reads, book it.

    Movements go through ``apply`` in order (a duplicate or a rejected one books nothing);
    card states replace the stored ones; rewards are planned once (coupon row and job, by the
    planned action's key); revoked coupons get their deactivation job."""
    row = _require(tx, shop, account, identity, now)
    book = _load(tx, row)
    todo = plan(_view_of(tx, row, book))
    booked: list[JournalRow] = []
    results: list[ApplyResult] = []
    for item in todo.movements:
        book, result = _book_one(tx, row, book, item, policy=policy, now=now)
        results.append(result)
        if result.status is Status.APPLIED:
            booked.append(item)
    for card in todo.cards.values():
        tx.set_card(row, card, now=now)
    for reward in todo.rewards:
        _plan_reward(tx, shop=shop, account=account, reward=reward, now=now)
    for key in todo.revoke:
        tx.revoke_coupon(shop, key, reason="stamp card below complete", now=now)
    row = _finish(tx, row, book, now)
    return LoyaltyOutcome(
        account, tuple(booked), tuple(results), balance_of(row), tuple(todo.cards.values())
    )


def _plan_reward(
    tx: LoyaltyTx, *, shop: str, account: str, reward: PlannedReward, now: datetime
) -> None:
    planned = reward.planned
    if planned.coupon_code:
        tx.plan_coupon(
            shop=shop,
            order_id=reward.order_id,
            campaign_id=planned.campaign_id,
            key=planned.idempotency_key,
            code=planned.coupon_code,
            customer_key=account,
            now=now,
        )
    tx.enqueue(
        shop=shop, kind=reward.kind, key=planned.idempotency_key, payload=reward.payload, now=now
    )


def redeem(
    tx: LoyaltyTx,
    *,
    shop: str,
    account: str,
    identity: Identity | None,
    program: LoyaltyProgram,
    option_id: str,
    request: str,
    code: str,
    job_kind: str,
    cart_value: Decimal | None,
    now: datetime,
) -> RedeemOutcome:
    """Check, debit and queue the coupon in one transaction under the account lock."""
    existing = tx.redemption(shop, key=f"redeem:{request}")
    if existing is not None:
        row = _require(tx, shop, account, identity, now)
        if existing.account_id != row.id:
            return RedeemOutcome(False, f"request {request!r} was used by another account")
        return RedeemOutcome(
            True, "redeemed before", balance_of(row), existing.coupon_code, existing.points, True
        )
    row = _require(tx, shop, account, identity, now)
    book = _load(tx, row)
    verdict = check_redemption(book.state, program, option_id, cart_value=cart_value)
    if not verdict.allowed or verdict.option is None:
        return RedeemOutcome(False, verdict.reason, balance_of(row))
    movement = redemption_movement(verdict.option, request=request, at=now, coupon=code)
    book, result = _book_one(
        tx, row, book, JournalRow(movement, 0, 0), policy=program.on_spent_refund, now=now
    )
    if result.status is not Status.APPLIED:
        return RedeemOutcome(False, result.reason, balance_of(row))
    coupon_key = redemption_coupon_key(shop, account, request)
    tx.add_redemption(
        LoyaltyRedemption(
            shop=shop,
            account_id=row.id,
            key=movement.key,
            option_id=verdict.option.id,
            points=verdict.option.points,
            coupon_code=code,
            coupon_key=coupon_key,
            state=ACTIVE,
            created_at=now,
        ),
        now=now,
    )
    tx.plan_coupon(
        shop=shop,
        order_id="",
        campaign_id=f"loyalty:{verdict.option.id}",
        key=coupon_key,
        code=code,
        customer_key=account,
        now=now,
    )
    payload = {"coupon_key": coupon_key}
    tx.enqueue(shop=shop, kind=job_kind, key=coupon_key, payload=payload, now=now)
    row = _finish(tx, row, book, now)
    return RedeemOutcome(True, verdict.reason, balance_of(row), code, verdict.option.points)


def coupon_deactivated(tx: LoyaltyTx, *, shop: str, coupon_key: str, now: datetime) -> bool:
    """A redemption's coupon was switched off on the platform: return its points (once)."""
    redemption = tx.redemption(shop, coupon_key=coupon_key)
    if redemption is None or redemption.state != ACTIVE:
        return False
    account = _account_by_id(tx, shop, redemption)
    if account is None:
        return False
    book = _return_points(tx, account, _load(tx, account), redemption, now=now)
    _finish(tx, account, book, now)
    return True


def _account_by_id(tx: LoyaltyTx, shop: str, redemption: LoyaltyRedemption) -> AccountRow | None:
    account = tx.account_by_id(redemption.account_id)
    return account if account is not None and account.shop == shop else None


def sweep(
    tx: LoyaltyTx,
    *,
    shop: str,
    account: str,
    program: LoyaltyProgram,
    now: datetime,
    remind_within: timedelta,
) -> SweepOutcome:
    """Book the releases and expiries due at ``now`` (each once, by key) and leave one expiry
    reminder event per grant and expiry date for points expiring within ``remind_within``."""
    row = tx.account(shop, account, identity=None, now=now)
    if row is None:
        return SweepOutcome((), 0)
    book = _load(tx, row)
    booked = []
    for movement in due(book.state, program, now):
        book, result = _book_one(
            tx, row, book, JournalRow(movement, 0, 0), policy=program.on_spent_refund, now=now
        )
        if result.status is Status.APPLIED:
            booked.append(JournalRow(movement, 0, 0))
    reminders = 0
    for soon in expiring(book.state, program, now, now + remind_within):
        key = f"remind:{_short(row.account)}:{soon.grant}:{soon.at.date().isoformat()}"
        if tx.add_event(row, kind=REMINDER, key=key, points=soon.points, due_at=soon.at, now=now):
            reminders += 1
    _finish(tx, row, book, now)
    return SweepOutcome(tuple(booked), reminders)


def _short(text: str) -> str:
    """A stable short form of an account key for event keys (no personal data in keys)."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def with_owner(redemption: LoyaltyRedemption, owner: AccountRow | None) -> LoyaltyRedemption:
    if owner is None:
        return redemption
    return replace(redemption, customer_id=owner.customer_id, email=owner.email)
