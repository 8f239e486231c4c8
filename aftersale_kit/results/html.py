"""The results as one self-contained HTML page (the operator dashboard, ``report --format
html``): inline CSS, charts as inline SVG drawn here on the server, no script and nothing to
build, so the page can be sent with a Content-Security-Policy that forbids every script.

Every text from the shop (campaign names, codes, customers, job errors) reaches the page through
Jinja2's autoescaping; the chart geometry (:mod:`.charts`) is numbers and plain text. German or
English (``lang``: ``de``, ``de_AT``, ``en``...; anything else is English).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from aftersale_kit.content.environment import builtin_templates_dir
from aftersale_kit.content.formatting import Formatter
from aftersale_kit.content.messages import language_of
from aftersale_kit.core.errors import MissingExtraError

from .charts import bar_chart, gauge, interval_chart
from .figures import CampaignResults, CareFigures, Experiment, ShopResults
from .html_texts import TEXTS

try:
    from babel import Locale
    from babel.dates import format_skeleton
    from babel.numbers import format_decimal, format_percent
except ImportError as exc:  # pragma: no cover - babel comes with the server extra
    raise MissingExtraError("The results page (money and dates per locale)", "server") from exc

__all__ = ["TEMPLATE", "language", "render_html"]

TEMPLATE = "report/dashboard.html.j2"
_LOCALES = {"de": "de_DE", "en": "en_US"}
_ERROR_CHARS = 300


#: The page's language of a locale or tag (the content layer's rule).
language = language_of


@lru_cache(maxsize=1)
def _environment() -> Environment:
    # Only the package's own template: the dashboard is the operator's, not a shop's to restyle.
    return Environment(
        loader=FileSystemLoader(str(builtin_templates_dir())),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )


class _Fmt:
    """Money, shares and dates in the page's locale: the content layer's
    :class:`~aftersale_kit.content.formatting.Formatter` (money, numbers, dates, the shop's time
    zone), plus the page's own shares, percentage points and months."""

    def __init__(self, lang: str, currency: str, zone: str = "UTC") -> None:
        self.base = Formatter(
            locale=Locale.parse(_LOCALES[lang]), currency=currency, tz=ZoneInfo(zone)
        )
        self.locale = _LOCALES[lang]

    def money(self, value: Decimal) -> str:
        return self.base.money(value)

    def share(self, value: Decimal | None) -> str:
        if value is None:
            return ""
        return str(format_percent(value, "#,##0.0 %", locale=self.locale))

    def points(self, value: Decimal) -> str:
        """A difference of two shares, in percentage points."""
        unit = " PP" if self.locale.startswith("de") else " pp"
        return str(format_decimal(value * 100, "+#,##0.0;-#,##0.0", locale=self.locale)) + unit

    def number(self, value: int | Decimal) -> str:
        return self.base.number(value)

    def day(self, value: datetime) -> str:
        return self.base.medium_date(value.date())

    def moment(self, value: datetime) -> str:
        """A time of day in the shop's time zone (times are stored in UTC)."""
        local = self.base.local(value) if value.tzinfo is not None else value
        return f"{self.day(local)} {local:%H:%M}"

    def month(self, period: str) -> str:
        try:
            year, month = (int(p) for p in period.split("-", 1))
            return str(format_skeleton("yMMM", date(year, month, 1), locale=self.locale))
        except ValueError:
            return period


def _campaign_row(c: CampaignResults, f: _Fmt) -> dict[str, Any]:
    return {
        "id": c.campaign_id,
        "name": c.name or c.campaign_id,
        "issued": f.number(c.issued),
        "redeemed": f.number(c.redeemed),
        "rate": f.share(c.redemption_rate),
        "discount_cost": f.money(c.discount_cost),
        "revenue_gross": f.money(c.revenue_gross),
        "revenue_net": f.money(c.revenue_net),
        "margin_gross": f.money(c.margin_gross),
        "margin_net": f.money(c.margin_net),
        "margin_negative": c.margin_net < 0,
        "leaks": c.leaks,
    }


def _months(results: ShopResults) -> list[tuple[str, list[Decimal]]]:
    totals: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for campaign in results.campaigns:
        for p in campaign.periods:
            totals[p.period][0] += p.revenue_net
            totals[p.period][1] += p.discount_cost
    return sorted(totals.items())


def _charts(results: ShopResults, f: _Fmt, t: dict[str, str]) -> dict[str, Any]:
    series = (t["revenue_net"], t["discount_cost"])
    per_campaign = [
        (c.name or c.campaign_id, [c.revenue_net, c.discount_cost]) for c in results.campaigns
    ]
    per_month = [(f.month(period), values) for period, values in _months(results)]
    return {
        "campaigns": bar_chart(per_campaign, series=series, fmt=f.money) if per_campaign else None,
        "months": bar_chart(per_month, series=series, fmt=f.money) if per_month else None,
    }


def _experiment(e: Experiment, f: _Fmt, t: dict[str, str]) -> dict[str, Any]:
    rate = e.metric == "repeat_rate"
    if rate:
        metric = (
            t["metric_repeat_rate"].format(days=e.window_days)
            if e.window_days
            else t["metric_repeat_rate_nodays"]
        )
    else:
        metric = t.get(f"metric_{e.metric}", e.metric)
    value: Callable[[Decimal], str] = f.share if rate else f.money
    diff: Callable[[Decimal], str] = f.points if rate else f.money
    row: dict[str, Any] = {
        "campaign": e.campaign_id,
        "metric": metric,
        "groups": [
            {
                # the holdout and "everyone who got it" in the page's words; variants by name
                "name": t.get(f"arm_{g.name}", g.name),
                "customers": f.number(g.customers),
                "value": value(g.value),
            }
            for g in (e.control, e.treatment)
        ],
        "enough": False,
        "note": e.note,
    }
    if e.enough_data and None not in (e.difference, e.low, e.high):
        assert e.difference is not None and e.low is not None and e.high is not None
        chart = interval_chart(
            e.difference, e.low, e.high, fmt=diff, title=f"{e.campaign_id}: {metric}"
        )
        row.update(
            enough=True,
            difference=diff(e.difference),
            interval=f"{diff(e.low)} … {diff(e.high)}",
            chart=chart,
            verdict=t[f"verdict_{chart.verdict}"],
        )
    return row


def _care(care: CareFigures, f: _Fmt, t: dict[str, str]) -> dict[str, Any]:
    rows = []
    for c in care.top:
        share = None
        if c.share is not None:
            share = gauge(
                c.cost,
                c.margin,
                title=f"{c.customer}: {f.money(c.cost)} / {f.money(c.margin)}",
                headroom=Decimal("1.5"),
            )
        rows.append(
            {
                "customer": c.customer,
                "orders": f.number(c.orders),
                "cost": f.money(c.cost),
                "margin": f.money(c.margin),
                "share": f.share(c.share) if c.share is not None else t["unknown"],
                "gauge": share,
                "note": c.note,
            }
        )
    total = t["care_total"].format(
        customers=f.number(care.customers), cost=f.money(care.cost), margin=f.money(care.margin)
    )
    return {"total": total, "rows": rows}


def _budgets(results: ShopResults, f: _Fmt, t: dict[str, str]) -> list[dict[str, Any]]:
    rows = []
    for c in results.campaigns:
        b = c.budget
        name = c.name or c.campaign_id
        bar = None
        if b.budget is not None:
            bar = gauge(
                b.spent, b.budget, title=f"{name}: {f.money(b.spent)} / {f.money(b.budget)}"
            )
        rows.append(
            {
                "name": name,
                "spent": f.money(b.spent),
                "budget": f.money(b.budget) if b.budget is not None else t["no_budget"],
                "since": t["since"].format(start=f.day(b.period_start)) if b.period_start else "",
                "gauge": bar,
            }
        )
    return rows


def _context(results: ShopResults, lang: str) -> dict[str, Any]:
    t = TEXTS[lang]
    f = _Fmt(lang, results.currency, results.timezone)
    surveys = results.surveys
    return {
        "lang": lang,
        "t": t,
        "shop": results.shop,
        "platform": results.platform,
        # ``until`` is exclusive (midnight after the last day, or now): the page names the last
        # day the figures include, as the dashboard's ``?until=`` is asked.
        "period": t["period"].format(
            since=f.day(results.since), until=f.day(results.until - timedelta(microseconds=1))
        ),
        "generated": t["generated"].format(at=f.moment(results.generated_at)),
        "campaigns": [_campaign_row(c, f) for c in results.campaigns],
        "charts": _charts(results, f, t),
        "leaks": [
            {
                "campaign": leak.campaign_id,
                "code": leak.code,
                "issued_to": leak.issued_to or t["none"],
                "redeemed_by": leak.redeemed_by or t["none"],
                "order": leak.redeeming_order_id,
                "when": f.moment(leak.redeemed_at),
            }
            for leak in results.leaks
        ],
        "experiments": [_experiment(e, f, t) for e in results.experiments],
        "care": _care(results.care, f, t),
        "points": t["points_liability"].format(
            points=f.number(results.points_liability),
            value=f.money(results.points_liability_value),
        ),
        "budgets": _budgets(results, f, t),
        "jobs": [
            {
                "kind": j.kind,
                "order": j.order_id or t["none"],
                "state": j.state,
                "attempts": j.attempts,
                "error": j.error[:_ERROR_CHARS],
                "when": f.moment(j.at),
            }
            for j in results.failed_jobs
        ],
        "surveys": None
        if surveys is None
        else {
            "sent": f.number(surveys.sent),
            "answered": f.number(surveys.answered),
            "average": f.number(surveys.average) if surveys.average is not None else t["none"],
            "delivery_problems": f.number(surveys.delivery_problems),
            "payment_problems": f.number(surveys.payment_problems),
        },
    }


def render_html(results: ShopResults, *, lang: str) -> str:
    """The whole page for ``results`` in German or English."""
    return _environment().get_template(TEMPLATE).render(_context(results, language(lang)))
