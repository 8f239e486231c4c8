"""ShopResults values for the dashboard's tests, built by hand (the renderer's input contract),
with an optional hostile text in every place a shop or a customer can put text."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

from aftersale_kit.results.figures import (
    BudgetNow,
    CampaignPeriod,
    CampaignResults,
    CareFigures,
    CustomerCare,
    Experiment,
    FailedJob,
    GroupFigures,
    Leak,
    ShopResults,
    SurveyFigures,
)

HOSTILE = '"><img src=x onerror="document.title=\'pwned\'"><script>document.title="pwned"</script>'


def _period(
    period: str, issued: int, redeemed: int, cost: str, gross: str, net: str
) -> CampaignPeriod:
    margin = D("0.4")
    return CampaignPeriod(
        period=period,
        issued=issued,
        redeemed=redeemed,
        discount_cost=D(cost),
        revenue_gross=D(gross),
        revenue_net=D(net),
        margin_gross=(D(gross) * margin - D(cost)).quantize(D("0.01")),
        margin_net=(D(net) * margin - D(cost)).quantize(D("0.01")),
    )


def _campaign(
    campaign_id: str, name: str, periods: list[CampaignPeriod], *, leaks: int, budget: BudgetNow
) -> CampaignResults:
    issued = sum(p.issued for p in periods)
    redeemed = sum(p.redeemed for p in periods)
    return CampaignResults(
        campaign_id=campaign_id,
        name=name,
        issued=issued,
        redeemed=redeemed,
        redemption_rate=(D(redeemed) / D(issued)).quantize(D("0.0001")) if issued else None,
        discount_cost=sum((p.discount_cost for p in periods), D(0)),
        revenue_gross=sum((p.revenue_gross for p in periods), D(0)),
        revenue_net=sum((p.revenue_net for p in periods), D(0)),
        margin_gross=sum((p.margin_gross for p in periods), D(0)),
        margin_net=sum((p.margin_net for p in periods), D(0)),
        leaks=leaks,
        periods=tuple(periods),
        budget=budget,
    )


def sample_results(*, hostile: str | None = None) -> ShopResults:
    """A shop with three campaigns over three months; ``hostile`` goes into every text field."""
    h = hostile or ""
    start = datetime(2026, 12, 1, tzinfo=UTC)
    thanks = _campaign(
        "danke-gutschein",
        "Danke-Gutschein 5 €" + h,
        [
            _period("2026-10", 212, 41, "205.00", "2870.40", "2694.10"),
            _period("2026-11", 238, 52, "260.00", "3511.90", "3340.25"),
            _period("2026-12", 64, 11, "55.00", "712.30", "712.30"),
        ],
        leaks=2,
        budget=BudgetNow(period_start=start, spent=D("55.00"), budget=D("150.00")),
    )
    comeback = _campaign(
        "komm-zurueck",
        "Komm zurück 10 %",
        [
            _period("2026-10", 96, 12, "118.40", "1210.00", "1015.60"),
            _period("2026-11", 104, 19, "201.75", "1904.50", "1790.10"),
        ],
        leaks=0,
        budget=BudgetNow(period_start=start, spent=D("231.90"), budget=D("200.00")),
    )
    service = _campaign(
        "service-check",
        "Service-Check nach 3 Monaten",
        [_period("2026-11", 30, 4, "0.00", "388.00", "388.00")],
        leaks=0,
        budget=BudgetNow(period_start=None, spent=D("0.00"), budget=None),
    )
    return ShopResults(
        shop="velo-kontor.myshopify.com",
        platform="shopify",
        currency="EUR",
        since=datetime(2026, 10, 1, tzinfo=UTC),
        until=datetime(2026, 12, 7, tzinfo=UTC),
        generated_at=datetime(2026, 12, 7, 5, 30, tzinfo=UTC),
        campaigns=(thanks, comeback, service),
        leaks=(
            Leak(
                campaign_id="danke-gutschein",
                code="DANKE-7QX2" + h,
                issued_to="anna@example.com",
                redeemed_by="deals-forum" + h,
                redeeming_order_id="5012" + h,
                redeemed_at=datetime(2026, 11, 14, 9, 12, tzinfo=UTC),
            ),
        ),
        experiments=(
            Experiment(
                campaign_id="danke-gutschein",
                metric="repeat_rate",
                window_days=90,
                control=GroupFigures(name="holdout" + h, customers=5000, value=D("0.1502")),
                treatment=GroupFigures(name="coupon", customers=5000, value=D("0.1994")),
                difference=D("0.0492"),
                low=D("0.0341"),
                high=D("0.0643"),
                enough_data=True,
                note="",
            ),
            Experiment(
                campaign_id="komm-zurueck",
                metric="net_revenue_per_customer",
                window_days=None,
                control=GroupFigures(name="A", customers=15, value=D("41.20")),
                treatment=GroupFigures(name="B", customers=15, value=D("44.80")),
                difference=None,
                low=None,
                high=None,
                enough_data=False,
                note="not enough data yet: 100 customers per group are needed" + h,
            ),
        ),
        care=CareFigures(
            customers=412,
            cost=D("1630.40"),
            margin=D("9921.75"),
            top=(
                CustomerCare("kim@example.com" + h, 2, D("64.00"), D("48.20"), D("1.3278")),
                CustomerCare("jo@example.com", 3, D("35.00"), D("70.10"), D("0.4993")),
                CustomerCare("lea@example.com", 1, D("5.00"), D("0.00"), None, "history too short"),
            ),
        ),
        points_liability=18450,
        points_liability_value=D("184.50"),
        failed_jobs=(
            FailedJob(
                kind="issue_coupon",
                order_id="5077",
                state="dead",
                attempts=8,
                error="platform answered 422: code already exists" + h,
                at=datetime(2026, 12, 6, 22, 4, tzinfo=UTC),
            ),
        ),
        surveys=SurveyFigures(
            sent=180, answered=74, average=D("4.3"), delivery_problems=6, payment_problems=1
        ),
    )
