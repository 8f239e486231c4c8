"""The report's figures as JSON (one file) and CSV (one file per table), for spreadsheets and
scripts.

Money is written as decimal strings (never floats), times in ISO 8601. With ``--compare`` every
CSV row carries the config it belongs to (``run`` ``1`` or ``2``) and the JSON holds both runs.
Text cells that a spreadsheet would take for a formula (a campaign named ``=HYPERLINK(...)``)
are written with a leading apostrophe, so that opening the CSV runs nothing.
"""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ..result import BacktestResult
from .i18n import Texts
from .view import compare_rows, period_key

__all__ = ["CSV_FILES", "JSON_FILE", "result_json", "write_csv", "write_json"]

JSON_FILE = "backtest.json"
CSV_FILES = (
    "campaigns.csv",
    "budget.csv",
    "months.csv",
    "hits.csv",
    "contacts.csv",
    "top_orders.csv",
)
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _plain(value: Any, tz: ZoneInfo) -> Any:
    """JSON-ready data; times in the shop's time zone (whatever offset the input carried)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(tz).isoformat() if value.tzinfo else value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name), tz) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v, tz) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v, tz) for v in value]
    return value


def _local(moment: datetime, tz: ZoneInfo) -> datetime:
    return moment.astimezone(tz) if moment.tzinfo else moment


def result_json(result: BacktestResult, tz: ZoneInfo) -> dict[str, Any]:
    """The result as JSON-ready data, each campaign with the keys of the periods that ran out."""
    data: dict[str, Any] = _plain(result, tz)
    for figures, campaign in zip(data["campaigns"], result.campaigns, strict=True):
        figures["budget_ran_out"] = [period_key(b, tz) for b in campaign.exhausted_periods]
    return data


def write_json(folder: Path, results: Sequence[BacktestResult], tz: ZoneInfo, t: Texts) -> Path:
    """``backtest.json``: ``runs`` (one, or two with ``--compare``) and ``difference`` (per
    campaign and in total, second minus first; ``null`` without a comparison)."""
    difference = None
    if len(results) == 2:
        difference = [
            {
                "campaign_id": r.campaign_id or None,
                "orders": list(r.orders),
                "face_value": [str(v) for v in r.face_value],
                "expected_cost": [str(v) for v in r.expected_cost],
                "budget_ran_out": [list(r.exhausted[0]), list(r.exhausted[1])],
            }
            for r in compare_rows(results[0], results[1], tz, t)
        ]
    data = {
        "format": "aftersale-kit backtest 1",
        "runs": [result_json(r, tz) for r in results],
        "difference": difference,
    }
    path = folder / JSON_FILE
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _write(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow([_cell(v) for v in row])


def write_csv(folder: Path, results: Sequence[BacktestResult], tz: ZoneInfo) -> list[Path]:
    """The tables of :data:`CSV_FILES` (in that order)."""
    runs = list(enumerate(results, start=1))
    tables: list[tuple[Sequence[str], Iterable[Sequence[Any]]]] = [
        (
            ("run", "campaign_id", "name", "orders", "customers", "coupons", "points", "gifts",
             "follow_ups", "face_value", "expected_cost", "taken_back", "budget_ran_out"),
            [
                (n, c.campaign_id, c.name, c.orders, c.customers, c.coupons, c.points, c.gifts,
                 c.follow_ups, c.face_value, c.expected_cost, c.taken_back,
                 " ".join(period_key(b, tz) for b in c.exhausted_periods))
                for n, r in runs for c in r.campaigns
            ],
        ),
        (
            ("run", "campaign_id", "period", "start", "end", "budget", "spent", "refused",
             "ran_out"),
            [
                (n, c.campaign_id, period_key(b, tz), _local(b.start, tz), _local(b.end, tz),
                 b.budget, b.spent, b.refused, "yes" if b.exhausted else "no")
                for n, r in runs for c in r.campaigns for b in c.budget
            ],
        ),
        (
            ("run", "campaign_id", "month", "orders", "face_value", "expected_cost"),
            [
                (n, c.campaign_id, m.month, m.orders, m.face_value, m.expected_cost)
                for n, r in runs for c in r.campaigns for m in c.months
            ],
        ),
        (
            ("run", "campaign_id", "reason", "count"),
            [
                (n, c.campaign_id, reason, count)
                for n, r in runs for c in r.campaigns for reason, count in c.hits.items()
            ],
        ),
        (
            ("run", "contacts", "customers", "cap"),
            [
                (n, k, v, "" if r.contacts.cap is None else r.contacts.cap)
                for n, r in runs for k, v in sorted(r.contacts.per_customer.items())
            ],
        ),
        (
            ("run", "rank", "order_id", "number", "customer", "placed_at", "cost", "campaigns"),
            [
                (n, i, o.order_id, o.number, o.customer or "", _local(o.placed_at, tz), o.cost,
                 " ".join(o.campaigns))
                for n, r in runs for i, o in enumerate(r.top_orders, start=1)
            ],
        ),
    ]  # fmt: skip
    paths = []
    for name, (header, rows) in zip(CSV_FILES, tables, strict=True):
        path = folder / name
        _write(path, header, rows)
        paths.append(path)
    return paths
