"""Backtest results built by hand for the report's tests: what a replay would hand over.

``sample_result`` has a campaign whose monthly budget runs out in March and May 2025, one
without a budget, and (``hostile=True``) names and order data that try to be markup.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from aftersale_kit.backtest.history import BadRow
from aftersale_kit.backtest.result import (
    BacktestResult,
    BudgetUse,
    CampaignFigures,
    ContactFigures,
    LoyaltyFigures,
    MonthFigures,
    OrderCost,
)

BERLIN = ZoneInfo("Europe/Berlin")
MONTHS = tuple(f"2025-{m:02d}" for m in range(1, 7))
HOSTILE = '<script>document.title="pwned"</script><img src=x onerror="document.title=1">'


def _month_start(month: str) -> datetime:
    year, number = (int(x) for x in month.split("-"))
    return datetime(year, number, 1, tzinfo=BERLIN)


def _month_end(month: str) -> datetime:
    year, number = (int(x) for x in month.split("-"))
    return datetime(year + number // 12, number % 12 + 1, 1, tzinfo=BERLIN)


def budget_campaign(
    *, name: str = "Dankeschön-Gutschein", budget: Decimal = Decimal(300), ran_out: tuple[str, ...]
) -> CampaignFigures:
    """A 10 € coupon per order with a monthly budget; ``ran_out`` months spend it all."""
    uses, months = [], []
    for i, month in enumerate(MONTHS):
        orders = 30 if month in ran_out else 12 + i
        spent = budget if month in ran_out else Decimal(10 * orders)
        uses.append(
            BudgetUse(
                start=_month_start(month),
                end=_month_end(month),
                budget=budget,
                spent=spent,
                refused=7 if month in ran_out else 0,
            )
        )
        months.append(MonthFigures(month, orders, spent, spent * Decimal("0.25")))
    face = sum((m.face_value for m in months), Decimal(0))
    return CampaignFigures(
        campaign_id="danke-10",
        name=name,
        orders=sum(m.orders for m in months),
        customers=sum(m.orders for m in months) - 20,
        coupons=sum(m.orders for m in months),
        points=0,
        gifts=0,
        follow_ups=0,
        face_value=face,
        expected_cost=face * Decimal("0.25"),
        taken_back=4,
        hits={"budget_exhausted": 7 * len(ran_out), "customer_limit": 21, "condition_failed": 400},
        budget=tuple(uses),
        months=tuple(months),
    )


def free_campaign(name: str = "Treuepunkte") -> CampaignFigures:
    months = tuple(
        MonthFigures(m, 40 + i, Decimal(20 + i), Decimal(20 + i)) for i, m in enumerate(MONTHS)
    )
    return CampaignFigures(
        campaign_id="punkte",
        name=name,
        orders=sum(m.orders for m in months),
        customers=180,
        coupons=0,
        points=2550,
        gifts=0,
        follow_ups=0,
        face_value=sum((m.face_value for m in months), Decimal(0)),
        expected_cost=sum((m.expected_cost for m in months), Decimal(0)),
        taken_back=0,
        months=months,
        variants={"a": 130, "b": 125},
    )


def sample_result(
    *,
    hostile: bool = False,
    ran_out: tuple[str, ...] = ("2025-03", "2025-05"),
    config: str = "shop.yaml",
) -> BacktestResult:
    name = HOSTILE if hostile else "Dankeschön-Gutschein"
    top = tuple(
        OrderCost(
            order_id=str(9000 + i),
            number=HOSTILE if hostile and i == 0 else f"#{1000 + i}",
            customer=None if i == 3 else f"kunde-{i}",
            placed_at=datetime(2025, 3, 1 + i, 10, tzinfo=BERLIN),
            cost=Decimal(30 - i),
            campaigns=("danke-10", "punkte"),
        )
        for i in range(10)
    )
    return BacktestResult(
        shop="kaffee-test.myshopify.com",
        currency="EUR",
        config=config,
        redemption_rate=Decimal("0.25"),
        since=None,
        until=None,
        first_order=datetime(2025, 1, 1, 9, tzinfo=BERLIN),
        last_order=datetime(2025, 6, 30, 20, tzinfo=BERLIN),
        orders=1200,
        customers=700,
        events=1500,
        campaigns=(budget_campaign(name=name, ran_out=ran_out), free_campaign()),
        contacts=ContactFigures(
            per_customer={0: 300, 1: 250, 2: 100, 3: 40, 4: 10},
            cap=3,
            window_days=30,
            sent=620,
            held_back={"marketing_cap": 12},
        ),
        loyalty=LoyaltyFigures(accounts=180, points_earned=2550, liability=Decimal("25.50")),
        top_orders=top,
        bad_rows=(BadRow("orders.csv", 17, "no order id"), BadRow("orders.csv", 94, HOSTILE)),
        bad_count=2,
        months=MONTHS,
    )
