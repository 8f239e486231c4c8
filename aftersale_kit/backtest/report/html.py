"""The report as one self-contained HTML page: inline CSS, charts as inline SVG, no script and
nothing loaded from the network, so it can be mailed or opened offline.

Rendered by Jinja2 with autoescaping on: campaign names, order numbers and customer ids come from
the shop owner's files and the shop's exports and are data, never markup. The charts are built
by :mod:`.charts`, which escapes every text it draws, and passed in as :class:`~markupsafe.Markup`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from ..result import BacktestResult, BudgetUse, CampaignFigures
from .charts import contacts_histogram, cost_chart, reach_chart
from .i18n import Texts
from .view import (
    CompareRow,
    Exhausted,
    compare_rows,
    cost_bars,
    exhausted,
    period_key,
    period_label,
    spans,
)

__all__ = ["HTML_FILE", "render_html"]

HTML_FILE = "backtest.html"
_TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True, slots=True)
class CampaignView:
    figures: CampaignFigures
    chart: Markup
    #: (label, key, budget use) per budget period, in time order.
    periods: tuple[tuple[str, str, BudgetUse], ...]
    ran_out: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RunView:
    number: int
    label: str
    result: BacktestResult
    exhausted: tuple[Exhausted, ...]
    campaigns: tuple[CampaignView, ...]
    reach: Markup
    contacts: Markup
    bad_more: int


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(_TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def _campaign_view(
    c: CampaignFigures, result: BacktestResult, tz: ZoneInfo, t: Texts
) -> CampaignView:
    bars = cost_bars(c, result.months, tz, t)
    title = f"{t('cost_chart')}: {c.name}"
    periods = tuple(
        (period_label(b, tz, t), period_key(b, tz), b)
        for b in sorted(c.budget, key=lambda b: b.start)
    )
    return CampaignView(
        figures=c,
        chart=cost_chart(bars, title=title, currency=result.currency, t=t),
        periods=periods,
        ran_out=spans(c.exhausted_periods, tz, t),
    )


def _run_view(number: int, label: str, result: BacktestResult, tz: ZoneInfo, t: Texts) -> RunView:
    reach = reach_chart(
        [(c.name, c.orders, c.customers) for c in result.campaigns],
        title=t("reach_chart"),
        t=t,
    )
    contacts = contacts_histogram(
        result.contacts.per_customer, cap=result.contacts.cap, title=t("contacts"), t=t
    )
    return RunView(
        number=number,
        label=label,
        result=result,
        exhausted=tuple(exhausted(result, tz, t)),
        campaigns=tuple(_campaign_view(c, result, tz, t) for c in result.campaigns),
        reach=reach,
        contacts=contacts,
        bad_more=max(result.bad_count - len(result.bad_rows[:10]), 0),
    )


def render_html(
    results: Sequence[BacktestResult],
    *,
    t: Texts,
    tz: ZoneInfo,
    labels: Sequence[str] | None = None,
    generated: datetime | None = None,
) -> str:
    """The page for one run, or for two (``--compare``) with their difference first."""
    names = list(labels or [r.config for r in results])
    runs = [_run_view(i, names[i - 1], r, tz, t) for i, r in enumerate(results, start=1)]
    rows: list[CompareRow] = (
        compare_rows(results[0], results[1], tz, t) if len(results) == 2 else []
    )
    template = _environment().get_template("report.html.j2")
    return template.render(
        t=t,
        lang=t.lang,
        runs=runs,
        compare=rows,
        currency=results[0].currency,
        shop=results[0].shop,
        generated=generated,
        date=lambda d: d.astimezone(tz).date().isoformat() if d is not None else t("none"),
    )
