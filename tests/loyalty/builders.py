"""Orders and programs for the loyalty tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aftersale_kit.core.loyalty.program import Earn, LoyaltyProgram, Tier, TierBasis, TierRules
from aftersale_kit.core.model import Customer, FinancialStatus, LineItem, Order
from aftersale_kit.core.money import Money

SHOP = "bohne.myshopify.com"
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def eur(amount: str) -> Money:
    return Money.of(amount, "EUR")


def line(line_id: str, price: str, quantity: int = 1, **changes: Any) -> LineItem:
    return LineItem(
        id=line_id,
        title=changes.pop("title", f"Artikel {line_id}"),
        quantity=quantity,
        unit_price=eur(price),
        **changes,
    )


def order(order_id: str = "1001", *lines: LineItem, **changes: Any) -> Order:
    items = lines or (
        line("l1", "15.00", 2, product_type="Kaffee", sku="ESP-1"),
        line("l2", "20.00", 1, product_type="Zubehör", sku="FIL-1"),
    )
    subtotal = sum((li.total.amount for li in items), Decimal(0))
    base = Order(
        platform="shopify",
        shop=SHOP,
        id=order_id,
        number=f"#{order_id}",
        currency="EUR",
        created_at=NOW,
        financial_status=FinancialStatus.PAID,
        subtotal=eur(str(subtotal)),
        total=eur(str(subtotal + Decimal("4.90"))),
        discounts=eur("0"),
        shipping=eur("4.90"),
        tax=eur("0"),
        line_items=tuple(items),
        customer=Customer(id="c-42", email="anna@example.de"),
        email="anna@example.de",
    )
    return replace(base, **changes)


GOLD = Tier(name="Gold", threshold=Decimal(500), multiplier=Decimal("1.5"))
SILVER = Tier(name="Silber", threshold=Decimal(200), multiplier=Decimal("1.2"))


def program(**changes: Any) -> LoyaltyProgram:
    base = LoyaltyProgram(
        currency="EUR",
        earn=Earn(rate=Decimal(1)),
        pending_days=14,
        tiers=TierRules(basis=TierBasis.SPEND, window_months=12, levels=(SILVER, GOLD)),
    )
    return replace(base, **changes)
