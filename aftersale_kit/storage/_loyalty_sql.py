"""The loyalty row operations on SQLite and PostgreSQL (:class:`~.loyalty.LoyaltyTx`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, select, update

from ..core.loyalty.ledger import JournalState, Movement, MovementKind, SourceKind
from ..core.loyalty.stamps import CardState
from . import coupons, outbox
from ._sql import from_micros, insert_ignore, statement, to_micros
from .loyalty import (
    AccountRow,
    Identity,
    JournalRow,
    LoyaltyBalance,
    LoyaltyRedemption,
    LoyaltyReminder,
    card_from_json,
    card_to_json,
)
from .records import CouponRecord, CouponStatus
from .tables import coupons as coupons_table
from .tables import (
    loyalty_accounts,
    loyalty_cards,
    loyalty_events,
    loyalty_movements,
    loyalty_redemptions,
)

__all__ = ["SqlLoyaltyTx", "account_keys", "movement_values", "reminders"]


def _account(row: Row[Any]) -> AccountRow:
    m = row._mapping
    return AccountRow(
        id=int(m["id"]),
        shop=m["shop"],
        account=m["account"],
        pending=int(m["pending"]),
        available=int(m["available"]),
        debt=int(m["debt"]),
        customer_id=m["customer_id"],
        email=m["email"],
        snapshot=m["state"],
    )


def _journal_row(row: Row[Any]) -> JournalRow:
    m = row._mapping
    movement = Movement(
        key=m["key"],
        kind=MovementKind(m["kind"]),
        at=m["at"],
        points=int(m["points"]),
        source=SourceKind(m["source"]),
        ref=m["ref"],
        reason=m["reason"],
        grant=m["grant_key"],
        release_at=m["release_at"],
        expires_at=m["expires_at"],
        coupon=m["coupon"],
    )
    spend = m["spend_micros"]
    return JournalRow(
        movement,
        int(m["pending_delta"]),
        int(m["available_delta"]),
        from_micros(spend) if spend is not None else None,
        m["tier"],
        m["booked_at"],
    )


def _redemption(row: Row[Any]) -> LoyaltyRedemption:
    m = row._mapping
    return LoyaltyRedemption(
        shop=m["shop"],
        account_id=int(m["account_id"]),
        key=m["key"],
        option_id=m["option_id"],
        points=int(m["points"]),
        coupon_code=m["coupon_code"],
        coupon_key=m["coupon_key"],
        state=m["state"],
        created_at=m["created_at"],
    )


class SqlLoyaltyTx:
    """The operations on one write (or read) transaction's connection."""

    def __init__(self, conn: Connection, *, lock: bool = True) -> None:
        self.conn = conn
        self.lock = lock

    def _locked(self, by: str, params: Mapping[str, Any]) -> AccountRow | None:
        lock = self.lock and self.conn.dialect.name == "postgresql"
        stmt = statement(("loyalty.account", by, lock), lambda: _account_stmt(by, lock=lock))
        row = self.conn.execute(stmt, params).first()
        return None if row is None else _account(row)

    def account(
        self, shop: str, account: str, *, identity: Identity | None, now: datetime
    ) -> AccountRow | None:
        found = self._locked("key", {"shop": shop, "account": account})
        if found is not None or identity is None:
            return found
        self.conn.execute(
            insert_ignore(self.conn, loyalty_accounts, "shop", "account"),
            {
                "shop": shop,
                "account": account,
                "customer_id": identity.customer_id,
                "email": identity.email,
                "pending": 0,
                "available": 0,
                "debt": 0,
                "created_at": now,
                "updated_at": now,
            },
        )
        return self._locked("key", {"shop": shop, "account": account})

    def balance(self, shop: str, account: str) -> LoyaltyBalance | None:
        """The running totals alone (the balance read does not fetch the account's snapshot)."""
        a = loyalty_accounts.c
        stmt = statement(
            "loyalty.balance",
            lambda: select(a.pending, a.available, a.debt).where(
                a.shop == bindparam("shop"), a.account == bindparam("account")
            ),
        )
        row = self.conn.execute(stmt, {"shop": shop, "account": account}).first()
        if row is None:
            return None
        return LoyaltyBalance(account, int(row[0]), int(row[1]), int(row[2]))

    def account_by_id(self, account_id: int) -> AccountRow | None:
        return self._locked("id", {"id": account_id})

    def journal(self, account_id: int) -> list[JournalRow]:
        stmt = statement(
            "loyalty.journal",
            lambda: (
                select(loyalty_movements)
                .where(loyalty_movements.c.account_id == bindparam("account_id"))
                .order_by(loyalty_movements.c.id)
            ),
        )
        return [_journal_row(r) for r in self.conn.execute(stmt, {"account_id": account_id})]

    def insert(self, account: AccountRow, row: JournalRow, *, now: datetime) -> JournalRow:
        stmt = statement("loyalty.insert_movement", loyalty_movements.insert)
        self.conn.execute(stmt, movement_values(account, row, now=now))
        m = row.movement
        spend = None if row.spend is None else from_micros(to_micros(row.spend))
        return replace(row, movement=replace(m, ref=m.ref[:512]), spend=spend, booked_at=now)

    def set_totals(
        self, account: AccountRow, state: JournalState, *, snapshot: str, now: datetime
    ) -> None:
        stmt = statement(
            "loyalty.set_totals",
            lambda: update(loyalty_accounts).where(loyalty_accounts.c.id == bindparam("_id")),
        )
        values = {"pending": state.pending, "available": state.available, "debt": state.debt}
        params = {"_id": account.id, **values, "state": snapshot, "updated_at": now}
        self.conn.execute(stmt, params)

    def cards(self, account_id: int) -> dict[str, CardState]:
        stmt = statement(
            "loyalty.cards",
            lambda: select(loyalty_cards.c.card, loyalty_cards.c.state).where(
                loyalty_cards.c.account_id == bindparam("account_id")
            ),
        )
        rows = self.conn.execute(stmt, {"account_id": account_id})
        return {r.card: card_from_json(r.state) for r in rows}

    def set_card(self, account: AccountRow, state: CardState, *, now: datetime) -> None:
        text = card_to_json(state)
        stmt = statement(
            "loyalty.set_card",
            lambda: update(loyalty_cards).where(
                loyalty_cards.c.account_id == bindparam("_account_id"),
                loyalty_cards.c.card == bindparam("_card"),
            ),
        )
        params = {"_account_id": account.id, "_card": state.card, "state": text, "updated_at": now}
        done = self.conn.execute(stmt, params).rowcount
        if not done:
            self.conn.execute(
                statement("loyalty.insert_card", loyalty_cards.insert),
                {
                    "account_id": account.id,
                    "card": state.card,
                    "shop": account.shop,
                    "state": text,
                    "updated_at": now,
                },
            )

    def redemptions(self, account_id: int) -> list[LoyaltyRedemption]:
        stmt = statement(
            "loyalty.redemptions",
            lambda: (
                select(loyalty_redemptions)
                .where(loyalty_redemptions.c.account_id == bindparam("account_id"))
                .order_by(loyalty_redemptions.c.id)
            ),
        )
        return [_redemption(r) for r in self.conn.execute(stmt, {"account_id": account_id})]

    def redemption(
        self, shop: str, *, key: str | None = None, coupon_key: str | None = None
    ) -> LoyaltyRedemption | None:
        stmt = select(loyalty_redemptions).where(loyalty_redemptions.c.shop == shop)
        if key is not None:
            stmt = stmt.where(loyalty_redemptions.c.key == key)
        if coupon_key is not None:
            stmt = stmt.where(loyalty_redemptions.c.coupon_key == coupon_key)
        row = self.conn.execute(stmt).first()
        return None if row is None else _redemption(row)

    def add_redemption(self, redemption: LoyaltyRedemption, *, now: datetime) -> None:
        self.conn.execute(
            loyalty_redemptions.insert(),
            {
                "shop": redemption.shop,
                "account_id": redemption.account_id,
                "key": redemption.key,
                "option_id": redemption.option_id,
                "points": redemption.points,
                "coupon_code": redemption.coupon_code,
                "coupon_key": redemption.coupon_key,
                "state": redemption.state,
                "created_at": now,
                "updated_at": now,
            },
        )

    def set_redemption_state(self, shop: str, key: str, state: str, *, now: datetime) -> None:
        self.conn.execute(
            update(loyalty_redemptions)
            .where(loyalty_redemptions.c.shop == shop, loyalty_redemptions.c.key == key)
            .values(state=state, updated_at=now)
        )

    def coupon(self, shop: str, key: str) -> CouponRecord | None:
        return coupons.get(self.conn, shop=shop, idempotency_key=key)

    def used_coupons(self, shop: str, keys: Sequence[str]) -> set[str]:
        if not keys:
            return set()
        stmt = statement(
            "loyalty.used_coupons",
            lambda: select(coupons_table.c.idempotency_key).where(
                coupons_table.c.shop == bindparam("shop"),
                coupons_table.c.idempotency_key.in_(bindparam("keys", expanding=True)),
                coupons_table.c.status == CouponStatus.USED.value,
            ),
        )
        rows = self.conn.execute(stmt, {"shop": shop, "keys": list(keys)})
        return {r.idempotency_key for r in rows}

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
        coupons.plan_one(
            self.conn,
            shop=shop,
            order_id=order_id,
            campaign_id=campaign_id,
            idempotency_key=key,
            code=code,
            customer_key=customer_key,
            now=now,
        )

    def revoke_coupon(self, shop: str, key: str, *, reason: str, now: datetime) -> bool:
        current = coupons.get(self.conn, shop=shop, idempotency_key=key)
        if current is None:
            return False
        coupons.revoke_records(self.conn, [current], reason=reason, now=now)
        job = outbox.by_key(self.conn, shop=shop, idempotency_key=coupons.deactivate_key(key))
        return job is not None

    def enqueue(
        self, *, shop: str, kind: str, key: str, payload: Mapping[str, Any], now: datetime
    ) -> None:
        outbox.enqueue(
            self.conn,
            shop=shop,
            kind=kind,
            idempotency_key=key,
            payload=dict(payload),
            run_at=now,
            now=now,
            max_attempts=outbox.DEFAULT_MAX_ATTEMPTS,
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
        done = self.conn.execute(
            insert_ignore(self.conn, loyalty_events, "shop", "key"),
            {
                "shop": account.shop,
                "account_id": account.id,
                "kind": kind,
                "key": key,
                "points": points,
                "due_at": due_at,
                "created_at": now,
            },
        ).rowcount
        return bool(done)


def _account_stmt(by: str, *, lock: bool) -> Any:
    if by == "id":
        stmt = select(loyalty_accounts).where(loyalty_accounts.c.id == bindparam("id"))
    else:
        stmt = select(loyalty_accounts).where(
            loyalty_accounts.c.shop == bindparam("shop"),
            loyalty_accounts.c.account == bindparam("account"),
        )
    return stmt.with_for_update() if lock else stmt


def movement_values(account: AccountRow, row: JournalRow, *, now: datetime) -> dict[str, Any]:
    """The journal row's column values."""
    m = row.movement
    return {
        "shop": account.shop,
        "account_id": account.id,
        "key": m.key,
        "kind": m.kind.value,
        "points": m.points,
        "pending_delta": row.pending_delta,
        "available_delta": row.available_delta,
        "source": m.source.value,
        "ref": m.ref[:512],
        "reason": m.reason,
        "grant_key": m.grant,
        "release_at": m.release_at,
        "expires_at": m.expires_at,
        "coupon": m.coupon,
        "spend_micros": to_micros(row.spend) if row.spend is not None else None,
        "tier": row.tier,
        "at": m.at,
        "booked_at": now,
    }


def account_keys(conn: Connection, shop: str) -> list[str]:
    rows = conn.execute(
        select(loyalty_accounts.c.account)
        .where(loyalty_accounts.c.shop == shop)
        .order_by(loyalty_accounts.c.id)
    )
    return [r.account for r in rows]


def reminders(conn: Connection, shop: str, *, account: str | None = None) -> list[LoyaltyReminder]:
    stmt = (
        select(loyalty_events, loyalty_accounts.c.account)
        .join(loyalty_accounts, loyalty_accounts.c.id == loyalty_events.c.account_id)
        .where(loyalty_events.c.shop == shop)
        .order_by(loyalty_events.c.id)
    )
    if account is not None:
        stmt = stmt.where(loyalty_accounts.c.account == account)
    return [
        LoyaltyReminder(
            shop=r.shop,
            account=r.account,
            kind=r.kind,
            key=r.key,
            points=int(r.points),
            due_at=r.due_at,
            created_at=r.created_at,
        )
        for r in conn.execute(stmt)
    ]
