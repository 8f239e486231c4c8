"""A shop's results from the store's records: :func:`shop_results`, what ``aftersale-kit
report``, the operator dashboard and the metrics show.

Reads through :class:`~aftersale_kit.storage.ports.ResultsReader` only; the computations are
in :mod:`.attribution` (redemptions, leaks, periods), :mod:`.care_inputs` (care cost per
customer) and :mod:`.experiment_inputs` (holdout and A/B groups). The time range is
``[since, until)``; the budgets are those of the period running at ``now``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from ..core.campaign import BudgetBasis, Campaign, IssueCoupon, ShopConfig
from ..core.engine import budget_period_start
from ..core.loyalty.program import LoyaltyProgram
from ..core.loyalty.redeem import point_value as core_point_value
from ..core.order_facts import OrderFacts
from ..storage.ports import ResultsReader
from ..storage.records import CouponRecord, JobStatus
from .attribution import Attributed, attribute, cents, issued_coupons, leak_of, periods
from .care_inputs import care_figures
from .experiment_inputs import shop_experiments
from .figures import (
    BudgetNow,
    CampaignResults,
    Experiment,
    FailedJob,
    ShopResults,
    SurveyFigures,
)

__all__ = ["CampaignGauge", "campaign_gauges", "point_value", "shop_results"]

_ZERO = Decimal(0)
#: How many failed or dead jobs the results list (the newest).
FAILED_JOBS = 20


def shop_results(
    store: ResultsReader,
    config: ShopConfig,
    *,
    since: datetime,
    until: datetime,
    now: datetime,
) -> ShopResults:
    """Everything the report and the dashboard show for the shop of ``config`` over
    ``[since, until)`` (see the module docstring and :mod:`.figures`)."""
    settings = config.settings
    shop = settings.domain
    zone = ZoneInfo(settings.timezone)
    facts = {f.order_id: f for f in store.order_facts(shop)}
    recorded = store.redemptions(shop)
    every = attribute(recorded, facts, zone=zone)
    items = [a for a in every if since <= a.redemption.redeemed_at < until]
    coupons = issued_coupons(store.shop_coupons(shop))
    issued = [c for c in coupons if since <= c.created_at < until]
    redeemed_keys = {a.redemption.coupon_key for a in every if a.redemption.redeemed_at < until}
    campaigns = tuple(
        _campaign(store, config, cid, items, issued, redeemed_keys, zone=zone, now=now)
        for cid in _campaign_ids(config, items, issued)
    )
    liability, value = _liability(store, shop, config.loyalty)
    return ShopResults(
        shop=shop,
        platform=settings.platform,
        currency=settings.currency,
        since=since,
        until=until,
        generated_at=now,
        timezone=settings.timezone,
        campaigns=campaigns,
        leaks=tuple(leak_of(a) for a in items if a.leak),
        experiments=_experiments(store, config, list(facts.values()), since=since, until=until),
        care=care_figures(
            store,
            config,
            facts=list(facts.values()),
            redemptions=recorded,
            since=since,
            until=until,
        ),
        points_liability=liability,
        points_liability_value=value,
        failed_jobs=_failed_jobs(store, shop),
        surveys=_surveys(store, shop, since=since, until=until),
    )


def _experiments(
    store: ResultsReader,
    config: ShopConfig,
    facts: list[OrderFacts],
    *,
    since: datetime,
    until: datetime,
) -> tuple[Experiment, ...]:
    """The campaigns' experiments (:mod:`.experiment_inputs`); no read without a split."""
    if not any(c.split is not None for c in config.campaigns):
        return ()
    records = store.shop_decisions(config.settings.domain, since=since, until=until)
    return shop_experiments(config, records, facts, until=until)


def _campaign_ids(
    config: ShopConfig, items: Sequence[Attributed], issued: Sequence[CouponRecord]
) -> list[str]:
    """The configured campaigns in file order, then campaigns known only from records."""
    ids = [c.id for c in config.campaigns]
    seen = set(ids)
    for cid in [a.redemption.campaign_id for a in items] + [c.campaign_id for c in issued]:
        if cid not in seen:
            seen.add(cid)
            ids.append(cid)
    return ids


def _campaign(
    store: ResultsReader,
    config: ShopConfig,
    campaign_id: str,
    items: Sequence[Attributed],
    issued: Sequence[CouponRecord],
    redeemed_keys: set[str],
    *,
    zone: ZoneInfo,
    now: datetime,
) -> CampaignResults:
    mine = [a for a in items if a.redemption.campaign_id == campaign_id]
    codes = [c for c in issued if c.campaign_id == campaign_id]
    used = sum(1 for c in codes if c.idempotency_key in redeemed_keys)
    rate = None
    if codes:
        rate = (Decimal(used) / Decimal(len(codes))).quantize(Decimal("0.0001"), ROUND_HALF_UP)
    campaign = next((c for c in config.campaigns if c.id == campaign_id), None)
    return CampaignResults(
        campaign_id=campaign_id,
        name=(campaign.description if campaign is not None else "") or campaign_id,
        issued=len(codes),
        redeemed=len(mine),
        redemption_rate=rate,
        discount_cost=cents(sum((a.discount_cost for a in mine), _ZERO)),
        revenue_gross=cents(sum((a.revenue_gross for a in mine), _ZERO)),
        revenue_net=cents(sum((a.revenue_net for a in mine), _ZERO)),
        margin_gross=cents(sum((a.margin_gross for a in mine), _ZERO)),
        margin_net=cents(sum((a.margin_net for a in mine), _ZERO)),
        leaks=sum(1 for a in mine if a.leak),
        periods=periods(mine, codes, zone=zone),
        budget=_budget(store, config, campaign, campaign_id, now=now),
        codes_restricted=_restricted(campaign),
    )


def _restricted(campaign: Campaign | None) -> bool:
    """Every code the campaign issues is bound to the customer's e-mail."""
    coupons = [a for a in campaign.actions if isinstance(a, IssueCoupon)] if campaign else []
    return bool(coupons) and all(a.restrict_to_email for a in coupons)


def _budget(
    store: ResultsReader,
    config: ShopConfig,
    campaign: Campaign | None,
    campaign_id: str,
    *,
    now: datetime,
) -> BudgetNow:
    """What the campaign's budget period running now has used, as the engine counts it."""
    counters = store.counters()
    shop = config.settings.domain
    budget = campaign.budget if campaign is not None else None
    if budget is None:
        return BudgetNow(
            period_start=None, spent=counters.spent(shop, campaign_id, None), budget=None
        )
    start = budget_period_start(budget.period, now, config.settings.timezone)
    if budget.basis is BudgetBasis.REDEEMED:
        spent = counters.redeemed(shop, campaign_id, start)
    else:
        spent = counters.spent(shop, campaign_id, start)
    return BudgetNow(period_start=start, spent=spent, budget=budget.amount.amount)


@dataclass(frozen=True, slots=True)
class CampaignGauge:
    """What the metrics show of one campaign: its redemptions and attributed revenue over all
    time, and its budget in the period running now."""

    campaign_id: str
    redeemed: int
    revenue_gross: Decimal
    revenue_net: Decimal
    budget: BudgetNow


def campaign_gauges(
    store: ResultsReader, config: ShopConfig, *, now: datetime
) -> list[CampaignGauge]:
    """One aggregate read and the budgets' counters: cheap enough for every scrape."""
    totals = {t.campaign_id: t for t in store.campaign_totals(config.settings.domain)}
    ids = [c.id for c in config.campaigns] + sorted(set(totals) - {c.id for c in config.campaigns})
    by_id = {c.id: c for c in config.campaigns}
    out = []
    for cid in ids:
        t = totals.get(cid)
        out.append(
            CampaignGauge(
                campaign_id=cid,
                redeemed=t.redeemed if t is not None else 0,
                revenue_gross=cents(t.revenue_gross) if t is not None else _ZERO,
                revenue_net=cents(t.revenue_net) if t is not None else _ZERO,
                budget=_budget(store, config, by_id.get(cid), cid, now=now),
            )
        )
    return out


def point_value(program: LoyaltyProgram) -> Decimal | None:
    """What one point is worth (:func:`aftersale_kit.core.loyalty.redeem.point_value`, the
    rule of ``aftersale-kit loyalty report``'s liability)."""
    found = core_point_value(program)
    return found[0] if found is not None else None


def _liability(
    store: ResultsReader, shop: str, program: LoyaltyProgram | None
) -> tuple[int, Decimal]:
    if program is None:
        return 0, _ZERO
    points = sum(b.pending + b.available for b in store.loyalty_balances(shop))
    value = point_value(program)
    worth = _ZERO if value is None else (value * points).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return points, worth


def _failed_jobs(store: ResultsReader, shop: str) -> tuple[FailedJob, ...]:
    """The dead jobs and those waiting for a retry after an error, newest first."""
    dead = store.jobs(shop=shop, status=JobStatus.DEAD, limit=1000)
    retrying = [
        j for j in store.jobs(shop=shop, status=JobStatus.PENDING, limit=1000) if j.last_error
    ]
    found = sorted(dead + retrying, key=lambda j: (j.run_at, j.id), reverse=True)
    return tuple(
        FailedJob(
            kind=j.kind,
            order_id=_text(j.payload.get("order_id")),
            state=j.status.value,
            attempts=j.attempts,
            error=j.last_error or "",
            at=j.run_at,
        )
        for j in found[:FAILED_JOBS]
    )


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _surveys(
    store: ResultsReader, shop: str, *, since: datetime, until: datetime
) -> SurveyFigures | None:
    """The survey answers rated in the range against the survey e-mails sent in it (``None``
    when neither happened); the same counting as ``aftersale-kit surveys report``."""
    answers = [a for a in store.survey_answers(shop, since=since) if a.rated_at < until]
    sent = [
        m
        for m in store.sent_messages(shop, kind="survey", since=since)
        if m.sent_at is not None and m.sent_at < until
    ]
    if not answers and not sent:
        return None
    average = None
    if answers:
        mean = Decimal(sum(a.rating for a in answers)) / Decimal(len(answers))
        average = mean.quantize(Decimal("0.01"), ROUND_HALF_UP)
    return SurveyFigures(
        sent=len(sent),
        answered=len(answers),
        average=average,
        delivery_problems=sum(1 for a in answers if a.form.delivery_ok is False),
        payment_problems=sum(1 for a in answers if a.form.payment_ok is False),
    )
