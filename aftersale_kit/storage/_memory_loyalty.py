"""The loyalty ledger of :class:`~aftersale_kit.storage.memory.MemoryStore`: the row operations
of :class:`~.loyalty.LoyaltyTx` in lists, and the :class:`~.ports.LoyaltyStore` methods.

The logic is :mod:`.loyalty`'s, shared with the SQL store; the memory store's lock stands for
the account lock and the transaction (nothing is rolled back: an exception leaves what was done).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from ..core.loyalty.ledger import JournalState
from ..core.loyalty.program import LoyaltyProgram, SpentRefundPolicy
from ..core.loyalty.stamps import CardState
from . import loyalty
from ._loyalty_store import REMIND_WITHIN
from ._memory_coupons import CouponRows
from ._sql import aware
from .coupons import deactivate_key
from .loyalty import (
    AccountRow,
    AccountView,
    Identity,
    JournalRow,
    LoyaltyBalance,
    LoyaltyOutcome,
    LoyaltyPlan,
    LoyaltyRedemption,
    LoyaltyReminder,
    RedeemOutcome,
    SweepOutcome,
)
from .records import CouponRecord, CouponStatus, JobKind

__all__ = ["MemoryLoyalty"]


class _Rows:
    def __init__(self) -> None:
        self.accounts: dict[int, AccountRow] = {}
        self.journal: dict[int, list[JournalRow]] = {}
        self.cards: dict[tuple[int, str], CardState] = {}
        self.redemptions: list[LoyaltyRedemption] = []
        self.events: list[LoyaltyReminder] = []
        self.event_keys: set[tuple[str, str]] = set()


class _MemoryTx:
    def __init__(self, rows: _Rows, coupons: CouponRows) -> None:
        self.rows = rows
        self.books = coupons

    def account(
        self, shop: str, account: str, *, identity: Identity | None, now: datetime
    ) -> AccountRow | None:
        for row in self.rows.accounts.values():
            if (row.shop, row.account) == (shop, account):
                return row
        if identity is None:
            return None
        new = AccountRow(
            id=len(self.rows.accounts) + 1,
            shop=shop,
            account=account,
            pending=0,
            available=0,
            debt=0,
            customer_id=identity.customer_id,
            email=identity.email,
        )
        self.rows.accounts[new.id] = new
        self.rows.journal[new.id] = []
        return new

    def account_by_id(self, account_id: int) -> AccountRow | None:
        return self.rows.accounts.get(account_id)

    def journal(self, account_id: int) -> list[JournalRow]:
        return list(self.rows.journal.get(account_id, []))

    def insert(self, account: AccountRow, row: JournalRow, *, now: datetime) -> JournalRow:
        rows = self.rows.journal.setdefault(account.id, [])
        if any(r.movement.key == row.movement.key for r in rows):
            raise ValueError(f"movement {row.movement.key!r} is booked already")
        stored = replace(row, booked_at=now)
        rows.append(stored)
        return stored

    def set_totals(
        self, account: AccountRow, state: JournalState, *, snapshot: str, now: datetime
    ) -> None:
        self.rows.accounts[account.id] = replace(
            self.rows.accounts[account.id],
            pending=state.pending,
            available=state.available,
            debt=state.debt,
            snapshot=snapshot,
        )

    def cards(self, account_id: int) -> dict[str, CardState]:
        return {card: s for (aid, card), s in self.rows.cards.items() if aid == account_id}

    def set_card(self, account: AccountRow, state: CardState, *, now: datetime) -> None:
        self.rows.cards[(account.id, state.card)] = state

    def redemptions(self, account_id: int) -> list[LoyaltyRedemption]:
        return [r for r in self.rows.redemptions if r.account_id == account_id]

    def redemption(
        self, shop: str, *, key: str | None = None, coupon_key: str | None = None
    ) -> LoyaltyRedemption | None:
        for r in self.rows.redemptions:
            if r.shop != shop or (key is not None and r.key != key):
                continue
            if coupon_key is None or r.coupon_key == coupon_key:
                return r
        return None

    def add_redemption(self, redemption: LoyaltyRedemption, *, now: datetime) -> None:
        self.rows.redemptions.append(redemption)

    def set_redemption_state(self, shop: str, key: str, state: str, *, now: datetime) -> None:
        self.rows.redemptions = [
            replace(r, state=state) if (r.shop, r.key) == (shop, key) else r
            for r in self.rows.redemptions
        ]

    def coupon(self, shop: str, key: str) -> CouponRecord | None:
        return self.books.coupon(shop, key)

    def used_coupons(self, shop: str, keys: Sequence[str]) -> set[str]:
        found = (self.books.coupon(shop, key) for key in keys)
        return {c.idempotency_key for c in found if c is not None and c.status is CouponStatus.USED}

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
        if self.books.coupon(shop, key) is not None:
            return
        self.books.coupons.append(
            CouponRecord(
                id=self.books._id("coupon"),
                shop=shop,
                order_id=order_id,
                campaign_id=campaign_id,
                idempotency_key=key,
                code=code,
                platform_id=None,
                status=CouponStatus.PLANNED,
                customer_key=customer_key,
                created_at=now,
                updated_at=now,
            )
        )

    def revoke_coupon(self, shop: str, key: str, *, reason: str, now: datetime) -> bool:
        current = self.books.coupon(shop, key)
        if current is None:
            return False
        self.books.revoke([current], reason=reason, now=now)
        return self.books.queue.by_key(shop=shop, idempotency_key=deactivate_key(key)) is not None

    def enqueue(
        self, *, shop: str, kind: str, key: str, payload: Mapping[str, Any], now: datetime
    ) -> None:
        self.books.queue.enqueue(
            shop=shop, kind=kind, idempotency_key=key, payload=payload, run_at=now
        )

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
        if (account.shop, key) in self.rows.event_keys:
            return False
        self.rows.event_keys.add((account.shop, key))
        self.rows.events.append(
            LoyaltyReminder(account.shop, account.account, kind, key, points, due_at, now)
        )
        return True


_NEVER = datetime.min.replace(tzinfo=UTC)


class MemoryLoyalty:
    """Mixed into the memory store: the :class:`~.ports.LoyaltyStore` methods."""

    _lock: threading.RLock

    def _loyalty_tx(self) -> _MemoryTx:
        rows = self.__dict__.setdefault("_loyalty_rows", _Rows())
        return _MemoryTx(rows, self._loyalty_coupons())

    def _loyalty_coupons(self) -> CouponRows:
        raise NotImplementedError

    def loyalty_step(
        self,
        *,
        shop: str,
        account: str,
        identity: Identity | None,
        plan: Callable[[AccountView], LoyaltyPlan],
        policy: SpentRefundPolicy = SpentRefundPolicy.NEGATIVE_BALANCE,
        now: datetime | None = None,
    ) -> LoyaltyOutcome:
        now = aware(now, "now")
        with self._lock:
            return loyalty.step(
                self._loyalty_tx(),
                shop=shop,
                account=account,
                identity=identity,
                plan=plan,
                policy=policy,
                now=now,
            )

    def loyalty_redeem(
        self,
        *,
        shop: str,
        account: str,
        identity: Identity | None,
        program: LoyaltyProgram,
        option_id: str,
        request: str,
        code: str,
        cart_value: Decimal | None = None,
        now: datetime | None = None,
    ) -> RedeemOutcome:
        now = aware(now, "now")
        with self._lock:
            return loyalty.redeem(
                self._loyalty_tx(),
                shop=shop,
                account=account,
                identity=identity,
                program=program,
                option_id=option_id,
                request=request,
                code=code,
                job_kind=JobKind.CREATE_LOYALTY_COUPON.value,
                cart_value=cart_value,
                now=now,
            )

    def loyalty_coupon_deactivated(
        self, *, shop: str, coupon_key: str, now: datetime | None = None
    ) -> bool:
        now = aware(now, "now")
        with self._lock:
            return loyalty.coupon_deactivated(
                self._loyalty_tx(), shop=shop, coupon_key=coupon_key, now=now
            )

    def loyalty_sweep(
        self,
        *,
        shop: str,
        account: str,
        program: LoyaltyProgram,
        now: datetime | None = None,
        remind_within: timedelta = REMIND_WITHIN,
    ) -> SweepOutcome:
        now = aware(now, "now")
        with self._lock:
            return loyalty.sweep(
                self._loyalty_tx(),
                shop=shop,
                account=account,
                program=program,
                now=now,
                remind_within=remind_within,
            )

    def loyalty_accounts(self, shop: str) -> list[str]:
        with self._lock:
            rows = self._loyalty_tx().rows
            return [a.account for a in rows.accounts.values() if a.shop == shop]

    def loyalty_balance(self, shop: str, account: str) -> LoyaltyBalance | None:
        with self._lock:
            row = self._loyalty_tx().account(shop, account, identity=None, now=_NEVER)
            return None if row is None else loyalty.balance_of(row)

    def loyalty_account(self, shop: str, account: str) -> AccountView | None:
        with self._lock:
            tx = self._loyalty_tx()
            row = tx.account(shop, account, identity=None, now=_NEVER)
            return None if row is None else loyalty.view(tx, row)

    def loyalty_journal(self, shop: str, account: str) -> list[JournalRow]:
        with self._lock:
            tx = self._loyalty_tx()
            row = tx.account(shop, account, identity=None, now=_NEVER)
            return [] if row is None else tx.journal(row.id)

    def loyalty_redemption(self, shop: str, coupon_key: str) -> LoyaltyRedemption | None:
        with self._lock:
            tx = self._loyalty_tx()
            found = tx.redemption(shop, coupon_key=coupon_key)
            if found is None:
                return None
            return loyalty.with_owner(found, tx.account_by_id(found.account_id))

    def loyalty_reminders(self, shop: str, *, account: str | None = None) -> list[LoyaltyReminder]:
        with self._lock:
            events = self._loyalty_tx().rows.events
            return [e for e in events if e.shop == shop and account in (None, e.account)]

    def loyalty_check(self, shop: str, *, account: str | None = None) -> int:
        with self._lock:
            tx = self._loyalty_tx()
            checked = 0
            for row in list(tx.rows.accounts.values()):
                if row.shop == shop and account in (None, row.account):
                    loyalty.check(tx, row)
                    checked += 1
            return checked
