"""Shapes of a bulk operation's GraphQL objects, shared by the two ways an order is built."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ._values import parse_time

__all__ = [
    "OpenOrder",
    "amount",
    "as_list",
    "has_lines",
    "kind",
    "number",
    "paid_at",
    "refunds",
    "text",
]


@dataclass(slots=True)
class OpenOrder:
    """An order's line and the child lines read for it so far."""

    node: dict[str, Any]
    line: int
    items: list[dict[str, Any]] = field(default_factory=list)
    refunds: list[dict[str, Any]] = field(default_factory=list)


def kind(gid: object) -> str:
    """``"Order"`` for ``gid://shopify/Order/1``; ``""`` for anything else."""
    if not isinstance(gid, str) or not gid.startswith("gid://"):
        return ""
    parts = gid.split("/")
    return parts[3] if len(parts) > 4 else ""


def number(gid: object) -> str | None:
    if not isinstance(gid, str) or not gid:
        return None
    return gid.rsplit("/", 1)[-1].split("?", 1)[0]


def as_list(value: object) -> list[dict[str, Any]]:
    """A list field, or a connection's ``edges``/``nodes``, as a list of objects."""
    if isinstance(value, dict):
        if isinstance(value.get("edges"), list):
            value = [e.get("node") for e in value["edges"] if isinstance(e, dict)]
        else:
            value = value.get("nodes")
    if not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, dict)]


def text(o: Mapping[str, Any], key: str) -> str | None:
    value = o.get(key)
    return value if isinstance(value, str) else None


def paid_at(node: Mapping[str, Any]) -> datetime | None:
    times = [
        t
        for tx in as_list(node.get("transactions"))
        if str(tx.get("kind", "")).upper() in {"SALE", "CAPTURE"}
        and str(tx.get("status", "SUCCESS")).upper() == "SUCCESS"
        and (t := parse_time(text(tx, "processedAt"), what="a transaction's processedAt"))
    ]
    return min(times) if times else None


def refunds(open_order: OpenOrder) -> list[dict[str, Any]]:
    """The order's refunds: those in its line, then those on lines of their own."""
    return as_list(open_order.node.get("refunds")) + open_order.refunds


def has_lines(refund: Mapping[str, Any]) -> bool:
    return refund.get("refundLineItems") is not None


def amount(value: object) -> Any:
    """``shopMoney.amount`` of a ``MoneyBag``."""
    if not isinstance(value, dict):
        return None
    shop_money = value.get("shopMoney")
    return shop_money.get("amount") if isinstance(shop_money, dict) else None
