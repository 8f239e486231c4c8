"""The few lines ``aftersale-kit backtest`` (and the demo) print for the shop owner: what was
read, the rows that were not, each campaign's orders and expected cost and the months its
budget ran out, and where the report is. The same words and period names as the page.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from ..result import BacktestResult
from .i18n import Texts
from .view import compare_rows, exhausted

__all__ = ["summary_lines"]

#: Bad rows named one by one before the count says the rest.
SHOWN_BAD_ROWS = 5


def _period(result: BacktestResult, tz: ZoneInfo) -> str:
    if result.first_order is None or result.last_order is None:
        return ""
    first = result.first_order.astimezone(tz).date().isoformat()
    last = result.last_order.astimezone(tz).date().isoformat()
    return f"{first} – {last}"


def _campaign_lines(result: BacktestResult, tz: ZoneInfo, t: Texts) -> list[str]:
    """One line per campaign (by its id, as the config names it): the orders it fired on (a
    campaign without costs, a message or a block, shows it reached orders), expected cost and,
    when its budget ran out, when."""
    ran_out = {e.campaign_id: e.spans for e in exhausted(result, tz, t)}
    width = max([len(c.campaign_id) for c in result.campaigns] + [len(t("total"))])
    counts = {c.campaign_id: t.number(c.orders) for c in result.campaigns}
    reach = max([len(n) for n in counts.values()] + [1])
    lines = []
    for c in result.campaigns:
        cost = t.money(c.expected_cost, result.currency)
        orders = f"{counts[c.campaign_id]:>{reach}} {t('sum_orders')}"
        line = f"  {c.campaign_id:<{width}}  {orders}  {t('sum_cost')} {cost:>12}"
        if c.campaign_id in ran_out:
            line += f"  {t('budget_alert').upper()}: {', '.join(ran_out[c.campaign_id])}"
        lines.append(line)
    total = t.money(sum((c.expected_cost for c in result.campaigns), Decimal(0)), result.currency)
    blank = " " * (reach + 1 + len(t("sum_orders")))
    lines.append(f"  {t('total'):<{width}}  {blank}  {t('sum_cost')} {total:>12}")
    return lines


def summary_lines(
    results: Sequence[BacktestResult],
    *,
    t: Texts,
    tz: ZoneInfo,
    report: Path | None,
    labels: Sequence[str] = (),
) -> list[str]:
    """The summary of one run, or of two (``--compare``) with the differences per campaign."""
    first = results[0]
    head = t("sum_head").format(
        shop=first.shop,
        orders=t.number(first.orders),
        customers=t.number(first.customers),
        period=_period(first, tz),
    )
    lines = [head.rstrip(", ")]  # no period without orders: no dangling comma
    if not first.orders:
        lines.append(t("sum_no_orders"))
    if first.bad_count:
        bad = "sum_bad_one" if first.bad_count == 1 else "sum_bad"
        lines.append(t(bad).format(count=t.number(first.bad_count)))
        lines += [f"  {bad}" for bad in first.bad_rows[:SHOWN_BAD_ROWS]]
        rest = first.bad_count - min(len(first.bad_rows), SHOWN_BAD_ROWS)
        if rest > 0:
            lines.append(f"  … {t.number(rest)} {t('bad_rows_more')}")
    lines += _campaign_lines(first, tz, t)
    if len(results) == 2:
        other = labels[1] if len(labels) > 1 else results[1].config
        lines.append(t("sum_compare").format(other=other))
        lines += _campaign_lines(results[1], tz, t)
        for row in compare_rows(first, results[1], tz, t):
            diff = t.signed_money(row.expected_cost[2], first.currency)
            name = row.campaign_id or t("total")
            lines.append(f"  {t('difference')} {name}: {diff}")
    if report is not None:
        lines.append(t("sum_report").format(path=report))
    return lines
