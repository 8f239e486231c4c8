"""Loyalty accounts in the privacy export and their anonymisation on redact.

An account's personal data is its key (a customer id, or ``email:<address>`` for a guest), its
``customer_id`` and its ``email``; redaction replaces the key by a pseudonym and clears the other
two. The journal, the cards, the redemptions and the amounts stay: they are the shop's
liability and hold no personal data (the journal names orders by id and number only).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, or_, select, update

from .tables import loyalty_accounts, loyalty_movements, loyalty_redemptions

__all__ = ["anonymise_shop", "export_accounts", "redact_accounts"]


def _mine(shop: str, keys: Sequence[str], emails: Sequence[str]) -> Any:
    a = loyalty_accounts.c
    return (a.shop == shop) & or_(
        a.account.in_(list(keys)),
        a.customer_id.in_(list(keys)),
        a.email.in_(list(emails)),
    )


def _emails(keys: Sequence[str]) -> list[str]:
    return [k.removeprefix("email:") for k in keys if k.startswith("email:")]


def export_accounts(conn: Connection, *, shop: str, keys: Sequence[str]) -> list[dict[str, Any]]:
    """The customer's loyalty accounts with their balances, journals and redemptions."""
    rows = conn.execute(
        select(loyalty_accounts)
        .where(_mine(shop, keys, _emails(keys)), loyalty_accounts.c.redacted_at.is_(None))
        .order_by(loyalty_accounts.c.id)
    ).all()
    out = []
    for row in rows:
        movements = conn.execute(
            select(loyalty_movements)
            .where(loyalty_movements.c.account_id == row.id)
            .order_by(loyalty_movements.c.id)
        )
        redeemed = conn.execute(
            select(loyalty_redemptions)
            .where(loyalty_redemptions.c.account_id == row.id)
            .order_by(loyalty_redemptions.c.id)
        )
        out.append(
            {
                "account": row.account,
                "customer_id": row.customer_id,
                "email": row.email,
                "pending": int(row.pending),
                "available": int(row.available),
                "movements": [
                    {
                        "kind": m.kind,
                        "points": int(m.points),
                        "source": m.source,
                        "ref": m.ref,
                        "reason": m.reason,
                        "at": m.at.isoformat(),
                    }
                    for m in movements
                ],
                "redemptions": [
                    {
                        "option": r.option_id,
                        "points": int(r.points),
                        "coupon_code": r.coupon_code,
                        "state": r.state,
                        "at": r.created_at.isoformat(),
                    }
                    for r in redeemed
                ],
            }
        )
    return out


def _anonymise(conn: Connection, ids: Sequence[int], *, pseudonym: str, now: datetime) -> int:
    for account_id in ids:
        conn.execute(
            update(loyalty_accounts)
            .where(loyalty_accounts.c.id == account_id)
            .values(
                account=f"{pseudonym}:{account_id}",
                customer_id=None,
                email=None,
                redacted_at=now,
                updated_at=now,
            )
        )
    return len(ids)


def redact_accounts(
    conn: Connection, *, shop: str, keys: Sequence[str], pseudonym: str, now: datetime
) -> int:
    """Anonymise the customer's accounts (amounts kept); the number of accounts."""
    ids = conn.execute(
        select(loyalty_accounts.c.id).where(
            _mine(shop, keys, _emails(keys)), loyalty_accounts.c.redacted_at.is_(None)
        )
    ).scalars()
    return _anonymise(conn, list(ids), pseudonym=pseudonym, now=now)


def anonymise_shop(conn: Connection, *, shop: str, pseudonym: str, now: datetime) -> int:
    """Anonymise every account of the shop (``shop/redact``); the amounts stay."""
    ids = conn.execute(
        select(loyalty_accounts.c.id).where(
            loyalty_accounts.c.shop == shop, loyalty_accounts.c.redacted_at.is_(None)
        )
    ).scalars()
    return _anonymise(conn, list(ids), pseudonym=pseudonym, now=now)
