"""Pending connection requests: the single-use nonce of an install or approval.

Shopify's install link carries it as ``state`` (returned on the callback), WooCommerce's approval
URL as ``user_id`` (posted back with the keys). :func:`consume` marks a request used in the same
statement that checks it, so a nonce works once even when two callbacks race.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update

from .db import Database
from .tables import auth_requests

__all__ = ["MAX_AGE", "consume", "consume_for", "create"]

#: How long a request may wait for its callback.
MAX_AGE = timedelta(minutes=15)


def create(db: Database, *, platform: str, shop: str, now: datetime) -> str:
    """A new nonce for ``shop`` on ``platform`` (32 hex characters)."""
    nonce = secrets.token_hex(16)
    with db.write() as conn:
        conn.execute(
            insert(auth_requests).values(
                nonce=nonce, platform=platform, shop=shop, created_at=now, used_at=None
            )
        )
    return nonce


def consume(db: Database, *, nonce: str, platform: str, shop: str, now: datetime) -> bool:
    """Whether ``nonce`` was a pending request of ``shop`` on ``platform``, younger than
    :data:`MAX_AGE`; it is used up either way it matched."""
    if not nonce or len(nonce) > 64:
        return False
    with db.write() as conn:
        result = conn.execute(
            update(auth_requests)
            .where(
                auth_requests.c.nonce == nonce,
                auth_requests.c.platform == platform,
                auth_requests.c.shop == shop,
                auth_requests.c.used_at.is_(None),
                auth_requests.c.created_at > now - MAX_AGE,
            )
            .values(used_at=now)
        )
        return bool(result.rowcount == 1)


def consume_for(db: Database, *, nonce: str, platform: str, now: datetime) -> str | None:
    """The shop of a pending request ``nonce`` on ``platform`` (used up now), or ``None`` when
    it is unknown, used, expired or of another platform (WooCommerce's callback names no shop:
    the request it answers does)."""
    if not nonce or len(nonce) > 64:
        return None
    with db.write() as conn:
        row = conn.execute(
            select(auth_requests.c.shop).where(
                auth_requests.c.nonce == nonce,
                auth_requests.c.platform == platform,
                auth_requests.c.used_at.is_(None),
                auth_requests.c.created_at > now - MAX_AGE,
            )
        ).first()
        if row is None:
            return None
        done = conn.execute(
            update(auth_requests)
            .where(auth_requests.c.nonce == nonce, auth_requests.c.used_at.is_(None))
            .values(used_at=now)
        )
        return str(row.shop) if done.rowcount == 1 else None
