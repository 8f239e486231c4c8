"""Shop state (installed or not) and the stored confirmation-page content per order."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from ._sql import insert_ignore
from .codec import dumps
from .records import ShopRecord, ShopState
from .tables import blocks, shops

__all__ = ["get_state", "load_blocks", "save_blocks", "set_state"]


def set_state(
    conn: Connection, *, shop: str, platform: str, state: ShopState, now: datetime
) -> ShopRecord:
    conn.execute(
        insert_ignore(conn, shops, "shop"),
        {
            "shop": shop,
            "platform": platform,
            "state": state.value,
            "installed_at": now if state == ShopState.ACTIVE else None,
            "uninstalled_at": now if state == ShopState.UNINSTALLED else None,
            "updated_at": now,
        },
    )
    values: dict[str, Any] = {"platform": platform, "state": state.value, "updated_at": now}
    current = get_state(conn, shop)
    assert current is not None
    if current.state != state:
        if state == ShopState.ACTIVE:
            values.update(installed_at=now, uninstalled_at=None)
        else:
            values.update(uninstalled_at=now)
    conn.execute(update(shops).where(shops.c.shop == shop).values(**values))
    result = get_state(conn, shop)
    assert result is not None
    return result


def get_state(conn: Connection, shop: str) -> ShopRecord | None:
    row = conn.execute(select(shops).where(shops.c.shop == shop)).first()
    if row is None:
        return None
    m = row._mapping
    return ShopRecord(
        shop=m["shop"],
        platform=m["platform"],
        state=ShopState(m["state"]),
        installed_at=m["installed_at"],
        uninstalled_at=m["uninstalled_at"],
        updated_at=m["updated_at"],
    )


def save_blocks(
    conn: Connection, *, shop: str, order_id: str, payload: Mapping[str, Any], now: datetime
) -> None:
    text = dumps(dict(payload))
    inserted = conn.execute(
        insert_ignore(conn, blocks, "shop", "order_id").returning(blocks.c.order_id),
        {"shop": shop, "order_id": order_id, "payload": text, "updated_at": now},
    ).scalar_one_or_none()
    if inserted is None:
        conn.execute(
            update(blocks)
            .where(blocks.c.shop == shop, blocks.c.order_id == order_id)
            .values(payload=text, updated_at=now)
        )


def load_blocks(conn: Connection, *, shop: str, order_id: str) -> dict[str, Any] | None:
    text = conn.execute(
        select(blocks.c.payload).where(blocks.c.shop == shop, blocks.c.order_id == order_id)
    ).scalar_one_or_none()
    if text is None:
        return None
    value = json.loads(text)
    assert isinstance(value, dict)
    return value
