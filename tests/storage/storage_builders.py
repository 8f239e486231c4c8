"""Orders, campaigns and deciders for the storage tests (also used by the child processes)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from aftersale_kit.core.campaign import (
    Budget,
    BudgetPeriod,
    Campaign,
    CouponKind,
    IssueCoupon,
    PerCustomerLimit,
    ShopConfig,
    ShopSettings,
    ShowBlock,
)
from aftersale_kit.core.decision import Decision
from aftersale_kit.core.engine import decide
from aftersale_kit.core.model import Customer, EventKind, FinancialStatus, Order
from aftersale_kit.core.money import Money
from aftersale_kit.core.ports import Counters

SHOP = "demo.myshopify.com"
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
SECRET = b"storage-test-secret"


def order(
    order_id: str,
    *,
    customer_id: str | None = None,
    email: str | None = None,
    subtotal: str = "100.00",
) -> Order:
    amount = Money.of(subtotal, "EUR")
    zero = Money.zero("EUR")
    return Order(
        platform="shopify",
        shop=SHOP,
        id=order_id,
        number=f"#{order_id}",
        currency="EUR",
        created_at=NOW,
        financial_status=FinancialStatus.PAID,
        subtotal=amount,
        total=amount,
        discounts=zero,
        shipping=zero,
        tax=zero,
        customer=Customer(id=customer_id, email=email) if customer_id else None,
        email=email,
    )


def coupon_campaign(
    campaign_id: str = "welcome-back",
    *,
    value: str = "5.00",
    usage_limit: int | None = None,
    budget: str | None = None,
    max_uses_per_customer: int | None = None,
    with_block: bool = False,
) -> Campaign:
    actions: tuple[IssueCoupon | ShowBlock, ...] = (
        IssueCoupon(kind=CouponKind.FIXED_AMOUNT, value=Decimal(value), valid_days=30),
    )
    if with_block:
        actions += (ShowBlock(block="thank_you", params=(("headline", "Danke!"),)),)
    return Campaign(
        id=campaign_id,
        actions=actions,
        trigger=EventKind.ORDER_PAID,
        usage_limit=usage_limit,
        budget=None
        if budget is None
        else Budget(amount=Money.of(budget, "EUR"), period=BudgetPeriod.TOTAL),
        per_customer=None
        if max_uses_per_customer is None
        else PerCustomerLimit(max_uses=max_uses_per_customer),
    )


def config(*campaigns: Campaign) -> ShopConfig:
    settings = ShopSettings(platform="shopify", domain=SHOP, currency="EUR")
    return ShopConfig(settings=settings, campaigns=campaigns)


def decider(
    shop_config: ShopConfig, the_order: Order, *, now: datetime = NOW
) -> Callable[[Counters], Decision]:
    """The real engine, as the service calls it inside ``Store.decide_once``."""

    def _decide(counters: Counters) -> Decision:
        return decide(
            shop_config,
            the_order,
            event=EventKind.ORDER_PAID,
            counters=counters,
            now=now,
            code_secret=SECRET,
        )

    return _decide
