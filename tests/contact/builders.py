"""Orders, configs and moments for the follow-up and contact-policy tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aftersale_kit.core.model import Customer, FinancialStatus, LineItem, Order
from aftersale_kit.core.money import Money

BERLIN = ZoneInfo("Europe/Berlin")
SHOP = "elektro.example.de"
SHOPIFY = (
    "shop:\n  platform: shopify\n  domain: test.myshopify.com\n  currency: EUR\n"
    "  timezone: Europe/Berlin\n"
)


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A moment given in Berlin wall time (``fold=0``: the first of a repeated hour)."""
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def eur(amount: str) -> Money:
    return Money.of(amount, "EUR")


def order(order_id: str = "1001", *, sku: str = "TV-55", **changes: Any) -> Order:
    item = LineItem(id="l1", title="Fernseher", quantity=1, unit_price=eur("499.00"), sku=sku)
    base = Order(
        platform="shopify",
        shop=SHOP,
        id=order_id,
        number=f"#{order_id}",
        currency="EUR",
        created_at=utc(2026, 1, 31, 9, 0),
        financial_status=FinancialStatus.PAID,
        subtotal=eur("499.00"),
        total=eur("499.00"),
        discounts=eur("0"),
        shipping=eur("0"),
        tax=eur("0"),
        line_items=(item,),
        customer=Customer(id="c-7", email="kim@example.de"),
        email="kim@example.de",
    )
    return replace(base, **changes)


def follow_up_campaign(action: str, *, trigger: str = "order_fulfilled", head: str = "") -> str:
    """A config with one campaign whose only action is the ``follow_up`` written in ``action``
    (the lines below ``- follow_up:``, indented by 10)."""
    body = "\n".join(f"          {line}" for line in action.strip("\n").splitlines())
    return (
        SHOPIFY
        + head
        + f"campaigns:\n  - id: nachfrage\n    trigger: {trigger}\n    actions:\n"
        + f"      - follow_up:\n{body}\n"
    )
