"""Synthetic order histories for the backtest replay's tests and its speed measurement (P4r):
repeat customers (a few buy often, most once), guests, refunds weeks later, cancellations,
unpaid orders, fulfilment."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from aftersale_kit.backtest.history import HistoryOrder, SourceRef
from aftersale_kit.core.model import Customer, FinancialStatus, LineItem, Order, Refund
from aftersale_kit.core.money import Money

START = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)
PRODUCTS = (
    ("KAF-ESP-500", "Espresso Crema", "Kaffee", Decimal("14.90")),
    ("KAF-FIL-250", "Filterkaffee", "Kaffee", Decimal("8.50")),
    ("KAF-ETH-250", "Äthiopien", "Kaffee", Decimal("9.90")),
    ("ZUB-HANDMUEHLE", "Handmühle", "Zubehör", Decimal("49.00")),
    ("TEE-GRUEN", "Grüner Tee", "Tee", Decimal("6.50")),
)


def history(
    count: int,
    *,
    seed: int = 7,
    shop: str = "shop.example",
    platform: str = "shopify",
    currency: str = "EUR",
    days: int = 365,
    customers: int | None = None,
) -> list[HistoryOrder]:
    """``count`` orders over ``days`` days, in placement order."""
    rnd = random.Random(seed)
    pool = customers or max(1, count // 3)
    seen: dict[str, int] = {}
    spent: dict[str, Decimal] = {}
    times = sorted(START + timedelta(seconds=rnd.uniform(0, days * 86_400)) for _ in range(count))
    out = []
    for n, created in enumerate(times):
        order, fulfilled = _order(rnd, n, created, pool, seen, spent, shop, platform, currency)
        out.append(HistoryOrder(order, SourceRef("synthetic", n + 1), fulfilled_at=fulfilled))
    return out


def _order(
    rnd: random.Random,
    n: int,
    created: datetime,
    pool: int,
    seen: dict[str, int],
    spent: dict[str, Decimal],
    shop: str,
    platform: str,
    currency: str,
) -> tuple[Order, datetime | None]:
    def money(amount: Decimal) -> Money:
        return Money(amount, currency)

    lines = []
    for i in range(rnd.choice((1, 1, 2, 3))):
        sku, title, ptype, price = rnd.choice(PRODUCTS)
        lines.append(
            LineItem(
                id=f"{n}-{i}",
                title=title,
                quantity=rnd.choice((1, 1, 2)),
                unit_price=money(price),
                sku=sku,
                product_type=ptype,
                tags=(),
                categories=(),
            )
        )
    subtotal = sum((li.total.amount for li in lines), Decimal(0))
    shipping = Decimal("4.90") if subtotal < 40 else Decimal(0)
    customer = None
    email = None
    if rnd.random() < 0.85:
        # a few customers buy often: index drawn with a skew towards the small numbers
        cid = f"c{int(pool * rnd.random() ** 2.5)}"
        seen[cid] = seen.get(cid, 0) + 1
        spent[cid] = spent.get(cid, Decimal(0)) + subtotal
        customer = Customer(
            id=cid,
            email=f"{cid}@example.org",
            orders_count=seen[cid],
            total_spent=money(spent[cid]),
            tags=("vip",) if seen[cid] > 5 else (),
            accepts_marketing=rnd.random() < 0.6,
        )
        email = customer.email
    elif rnd.random() < 0.8:
        email = f"guest{rnd.randrange(pool)}@example.org"
    paid = created + timedelta(minutes=rnd.choice((0, 0, 1, 30)))
    order = Order(
        platform=platform,
        shop=shop,
        id=str(100_000 + n),
        number=f"#{1000 + n}",
        currency=currency,
        created_at=created,
        financial_status=FinancialStatus.PAID,
        subtotal=money(subtotal),
        total=money(subtotal + shipping),
        discounts=money(Decimal(0)),
        shipping=money(shipping),
        tax=money(Decimal(0)),
        line_items=tuple(lines),
        customer=customer,
        email=email,
        paid_at=paid,
    )
    roll = rnd.random()
    if roll < 0.03:  # never paid
        return replace(order, paid_at=None, financial_status=FinancialStatus.PENDING), None
    fulfilled = paid + timedelta(days=rnd.choice((1, 2, 3))) if rnd.random() < 0.9 else None
    if roll < 0.06:  # cancelled before shipping
        at = paid + timedelta(hours=rnd.choice((2, 20)))
        return replace(order, cancelled_at=at, financial_status=FinancialStatus.VOIDED), None
    if roll < 0.16:  # a partial refund weeks later, sometimes the rest too
        first = Refund(
            id=f"r{n}a",
            amount=money((subtotal / 2).quantize(Decimal("0.01"))),
            created_at=paid + timedelta(days=rnd.choice((5, 20, 40))),
            lines=(),
        )
        refunds = [first]
        status = FinancialStatus.PARTIALLY_REFUNDED
        if rnd.random() < 0.4:
            rest = order.total.amount - first.amount.amount
            refunds.append(
                Refund(
                    id=f"r{n}b",
                    amount=money(rest),
                    created_at=first.created_at + timedelta(days=3),  # type: ignore[operator]
                    lines=(),
                )
            )
            status = FinancialStatus.REFUNDED
        return replace(order, refunds=tuple(refunds), financial_status=status), fulfilled
    return order, fulfilled
