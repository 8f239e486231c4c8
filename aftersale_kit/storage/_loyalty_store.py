"""The loyalty methods of the SQL :class:`~.store.Store` (:class:`~.ports.LoyaltyStore`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal

from ..core.loyalty.program import LoyaltyProgram, SpentRefundPolicy
from . import loyalty
from ._loyalty_sql import SqlLoyaltyTx, account_keys, reminders
from ._sql import aware
from .db import Database
from .loyalty import (
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
from .records import JobKind

__all__ = ["REMIND_WITHIN", "LoyaltyMethods"]

#: How far ahead the sweep leaves an expiry reminder by default.
REMIND_WITHIN = timedelta(days=30)


class LoyaltyMethods:
    """Mixed into :class:`~.store.Store`: every method one transaction."""

    db: Database

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
        """Book what ``plan`` (pure, quick, no Store call) says on the locked account
        (:func:`.loyalty.step`)."""
        now = aware(now, "now")
        with self.db.write() as conn:
            return loyalty.step(
                SqlLoyaltyTx(conn),
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
        """Check and debit a redemption and queue its customer-bound coupon, atomically under
        the account lock; a repeated ``request`` spends nothing again."""
        now = aware(now, "now")
        with self.db.write() as conn:
            return loyalty.redeem(
                SqlLoyaltyTx(conn),
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
        """After a redemption coupon was deactivated on the platform: its points come back."""
        now = aware(now, "now")
        with self.db.write() as conn:
            return loyalty.coupon_deactivated(
                SqlLoyaltyTx(conn), shop=shop, coupon_key=coupon_key, now=now
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
        with self.db.write() as conn:
            return loyalty.sweep(
                SqlLoyaltyTx(conn),
                shop=shop,
                account=account,
                program=program,
                now=now,
                remind_within=remind_within,
            )

    def loyalty_accounts(self, shop: str) -> list[str]:
        with self.db.read() as conn:
            return account_keys(conn, shop)

    def loyalty_balance(self, shop: str, account: str) -> LoyaltyBalance | None:
        with self.db.read() as conn:
            return SqlLoyaltyTx(conn, lock=False).balance(shop, account)

    def loyalty_account(self, shop: str, account: str) -> AccountView | None:
        with self.db.read() as conn:
            tx = SqlLoyaltyTx(conn, lock=False)
            row = tx.account(shop, account, identity=None, now=_never())
            return None if row is None else loyalty.view(tx, row)

    def loyalty_journal(self, shop: str, account: str) -> list[JournalRow]:
        with self.db.read() as conn:
            tx = SqlLoyaltyTx(conn, lock=False)
            row = tx.account(shop, account, identity=None, now=_never())
            return [] if row is None else tx.journal(row.id)

    def loyalty_redemption(self, shop: str, coupon_key: str) -> LoyaltyRedemption | None:
        """The redemption of a coupon, with its customer (for the coupon's restriction)."""
        with self.db.read() as conn:
            tx = SqlLoyaltyTx(conn, lock=False)
            found = tx.redemption(shop, coupon_key=coupon_key)
            if found is None:
                return None
            owner = tx.account_by_id(found.account_id)
            return loyalty.with_owner(found, owner)

    def loyalty_reminders(self, shop: str, *, account: str | None = None) -> list[LoyaltyReminder]:
        with self.db.read() as conn:
            return reminders(conn, shop, account=account)

    def loyalty_check(self, shop: str, *, account: str | None = None) -> int:
        """Check the running totals of the shop's accounts (or one) against the journal;
        raises :class:`~.loyalty.LedgerDriftError`; returns the number checked."""
        with self.db.read() as conn:
            tx = SqlLoyaltyTx(conn, lock=False)
            keys = [account] if account is not None else account_keys(conn, shop)
            checked = 0
            for key in keys:
                row = tx.account(shop, key, identity=None, now=_never())
                if row is not None:
                    loyalty.check(tx, row)
                    checked += 1
            return checked


def _never() -> datetime:
    from datetime import UTC

    return datetime.min.replace(tzinfo=UTC)
