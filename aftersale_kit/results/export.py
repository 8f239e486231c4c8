"""A shop's results as plain data: JSON (``report --format json``, the dashboard's
``report.json``), CSV rows (one per campaign and month) and a text table.

Money is written as a string with its exact decimal value (never a float); times as ISO 8601.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from .figures import CampaignResults, ShopResults

__all__ = ["CSV_COLUMNS", "to_csv", "to_data", "to_table"]

CSV_COLUMNS = (
    "campaign_id",
    "name",
    "period",
    "issued",
    "redeemed",
    "redemption_rate",
    "discount_cost",
    "revenue_gross",
    "revenue_net",
    "margin_gross",
    "margin_net",
    "leaks",
)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


#: Control characters and bidirectional overrides: written out as escapes in the terminal
#: table, so a code, an e-mail or a job's error cannot move the cursor, recolour or reorder it.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
#: A CSV cell starting with these is a formula to a spreadsheet (CSV injection).
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _shown(text: str) -> str:
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def _cell(text: str) -> str:
    """Text for a CSV cell that a spreadsheet shows as text, never evaluates."""
    return "'" + text if text.startswith(_FORMULA) else text


def to_data(results: ShopResults) -> dict[str, Any]:
    """The results as JSON-ready data (every field of :class:`ShopResults`, nested)."""
    data: dict[str, Any] = _plain(results)
    return data


def _rows(campaign: CampaignResults) -> Iterable[list[str]]:
    for p in campaign.periods:
        yield [
            campaign.campaign_id,
            _cell(campaign.name),
            p.period,
            str(p.issued),
            str(p.redeemed),
            "",
            str(p.discount_cost),
            str(p.revenue_gross),
            str(p.revenue_net),
            str(p.margin_gross),
            str(p.margin_net),
            "",
        ]
    rate = campaign.redemption_rate
    yield [
        campaign.campaign_id,
        _cell(campaign.name),
        "total",
        str(campaign.issued),
        str(campaign.redeemed),
        "" if rate is None else str(rate),
        str(campaign.discount_cost),
        str(campaign.revenue_gross),
        str(campaign.revenue_net),
        str(campaign.margin_gross),
        str(campaign.margin_net),
        str(campaign.leaks),
    ]


def to_csv(results: ShopResults) -> str:
    """One row per campaign and month, then the campaign's ``total`` row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for campaign in results.campaigns:
        writer.writerows(_rows(campaign))
    return out.getvalue()


def _grid(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return [line.rstrip() for line in lines]


def _money(amount: Decimal) -> str:
    return f"{amount:.2f}"


def _rate(rate: Decimal | None) -> str:
    return "-" if rate is None else f"{rate * 100:.1f}%"


def _budget(c: CampaignResults) -> str:
    b = c.budget
    return _money(b.spent) if b.budget is None else f"{_money(b.spent)}/{_money(b.budget)}"


def to_table(results: ShopResults) -> str:
    """The results as text for a terminal: campaigns, leaks, care, points, failed jobs."""
    r = results
    head = f"{r.shop} ({r.platform}) {r.since:%Y-%m-%d} to {r.until:%Y-%m-%d}, in {r.currency}"
    lines = [head, ""]
    header = ["campaign", "issued", "redeemed", "rate", "discounts", "revenue", "net revenue"]
    header += ["margin", "net margin", "leaks", "budget now"]
    rows = [
        [
            c.campaign_id,
            str(c.issued),
            str(c.redeemed),
            _rate(c.redemption_rate),
            _money(c.discount_cost),
            _money(c.revenue_gross),
            _money(c.revenue_net),
            _money(c.margin_gross),
            _money(c.margin_net),
            str(c.leaks),
            _budget(c),
        ]
        for c in r.campaigns
    ]
    lines += _grid(header, rows) if rows else ["no campaigns"]
    if r.leaks:
        lines += ["", "leaks (codes used by another customer than they were issued to):"]
        open_to_all = sorted(
            {c.campaign_id for c in r.campaigns if c.leaks and not c.codes_restricted}
        )
        if open_to_all:
            lines.append(
                f"  (to bind future codes to the customer, set restrict_to_email: true on the "
                f"issue_coupon of: {', '.join(open_to_all)})"
            )
        for leak in r.leaks:
            lines.append(
                f"  {leak.campaign_id}: {_shown(leak.code)} issued to "
                f"{_shown(leak.issued_to or '?')}, used by {_shown(leak.redeemed_by or '?')} "
                f"on order {_shown(leak.redeeming_order_id)} "
                f"({leak.redeemed_at:%Y-%m-%d})"
            )
    care = r.care
    lines += [
        "",
        f"care: {care.customers} customers, cost {_money(care.cost)} against margin "
        f"{_money(care.margin)}",
    ]
    for c in care.top:
        lines.append(f"  {_shown(c.customer)}: {c.orders} orders, share {_rate(c.share)}")
    lines.append(f"points liability: {r.points_liability} ({_money(r.points_liability_value)})")
    if r.surveys is not None:
        s = r.surveys
        average = "-" if s.average is None else str(s.average)
        lines.append(
            f"surveys: {s.answered} answers to {s.sent} sent, average {average}, "
            f"{s.delivery_problems} delivery and {s.payment_problems} payment problems"
        )
    if r.failed_jobs:
        lines += ["", "failed jobs (newest first):"]
        for j in r.failed_jobs:
            lines.append(
                f"  {j.at:%Y-%m-%d %H:%M} {j.kind} {j.state} after {j.attempts} attempts"
                f"{' order ' + _shown(j.order_id) if j.order_id else ''}: "
                f"{_shown(_first_line(j.error))}"
            )
    return "\n".join(lines) + "\n"


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""
