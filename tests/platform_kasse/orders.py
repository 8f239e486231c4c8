"""The kasse order JSON -> the neutral Order (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from aftersale_kit.core.errors import PayloadError
from aftersale_kit.core.model import FinancialStatus, LineItem, Order
from aftersale_kit.core.money import Money

NAME = "kasse"


def normalize_kasse_order(payload: Mapping[str, Any], *, shop: str | None = None) -> Order:
    if not isinstance(payload, Mapping) or "kasse_order" not in payload:
        raise PayloadError("a kasse order is an object with 'kasse_order'")
    o = payload["kasse_order"]
    try:
        currency = str(o["currency"])
        items = tuple(
            LineItem(
                id=str(i),
                title=str(item["title"]),
                quantity=int(item["qty"]),
                unit_price=Money.of(item["price"], currency),
            )
            for i, item in enumerate(o["items"], start=1)
        )
        subtotal = sum((li.total for li in items), Money.zero(currency))
        return Order(
            platform=NAME,
            shop=shop or str(o["shop"]),
            id=str(o["id"]),
            number=f"K-{o['id']}",
            currency=currency,
            created_at=datetime.fromisoformat(str(o["created_at"])),
            financial_status=FinancialStatus(str(o["status"])),
            subtotal=subtotal,
            total=subtotal,
            discounts=Money.zero(currency),
            shipping=Money.zero(currency),
            tax=Money.zero(currency),
            line_items=items,
            email=o.get("email"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PayloadError(f"kasse order: {exc}") from exc
