"""What the report shows, worked out from a :class:`~..result.BacktestResult`: the bars of the
cost charts, the budget periods that ran out with their labels, the rows of a comparison.

Kept apart from the HTML so that the JSON, the CSV, the command's summary and the page say the
same thing (a month that ran out is named the same everywhere).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from ..result import BacktestResult, BudgetUse, CampaignFigures
from .i18n import Texts

__all__ = [
    "Bar",
    "CompareRow",
    "Exhausted",
    "compare_rows",
    "cost_bars",
    "exhausted",
    "period_key",
    "period_label",
    "spans",
]

#: More budget periods than this (a daily budget over a year) are shown summed per month.
MAX_PERIOD_BARS = 36


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar of a cost chart: ``value`` spent against ``limit`` (``None``: no budget)."""

    key: str
    label: str
    value: Decimal
    limit: Decimal | None = None
    exhausted: bool = False


@dataclass(frozen=True, slots=True)
class Exhausted:
    """A campaign whose budget ran out, and the periods in which it did."""

    campaign_id: str
    name: str
    periods: tuple[BudgetUse, ...]
    keys: tuple[str, ...]
    labels: tuple[str, ...]
    #: The periods with consecutive ones joined: "Januar – April 2025", "Juni 2025".
    spans: tuple[str, ...] = ()

    @property
    def refused(self) -> int:
        return sum(p.refused for p in self.periods)


@dataclass(frozen=True, slots=True)
class CompareRow:
    """One campaign (or the total, ``campaign_id`` ``""``) under both configs."""

    campaign_id: str
    name: str
    first: CampaignFigures | None
    second: CampaignFigures | None
    orders: tuple[int, int, int]
    customers: tuple[int, int, int]
    face_value: tuple[Decimal, Decimal, Decimal]
    expected_cost: tuple[Decimal, Decimal, Decimal]
    exhausted: tuple[tuple[str, ...], tuple[str, ...]]


def _local(moment: datetime, tz: ZoneInfo) -> datetime:
    return moment.astimezone(tz) if moment.tzinfo is not None else moment


def _is_month(use: BudgetUse, tz: ZoneInfo) -> bool:
    start, end = _local(use.start, tz), _local(use.end, tz)
    whole = start.day == 1 and (start.hour, start.minute) == (0, 0)
    # the end is the next month's first moment (or its last, depending on the replay)
    nxt = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return whole and (end.date() == nxt.date() or (end + timedelta(seconds=1)).date() == nxt.date())


def period_key(use: BudgetUse, tz: ZoneInfo) -> str:
    """``"2025-03"`` for a calendar month, else the period's first day ``"2025-03-10"``."""
    start = _local(use.start, tz)
    if _is_month(use, tz):
        return f"{start.year:04d}-{start.month:02d}"
    return start.date().isoformat()


def period_label(use: BudgetUse, tz: ZoneInfo, t: Texts, *, long: bool = True) -> str:
    """The period in words: "März 2025" for a month, else "2025-03-10 – 2025-03-16"."""
    key = period_key(use, tz)
    if len(key) == 7:
        return t.month(key, long=long)
    end = _local(use.end, tz)
    last = (
        end - timedelta(microseconds=1) if (end.hour, end.minute, end.second) == (0, 0, 0) else end
    )
    return key if last.date().isoformat() == key else f"{key} – {last.date().isoformat()}"


def exhausted(result: BacktestResult, tz: ZoneInfo, t: Texts) -> list[Exhausted]:
    """Every campaign whose budget ran out, with the periods (in time order)."""
    found = []
    for c in result.campaigns:
        periods = tuple(sorted(c.exhausted_periods, key=lambda b: b.start))
        if periods:
            found.append(
                Exhausted(
                    campaign_id=c.campaign_id,
                    name=c.name,
                    periods=periods,
                    keys=tuple(period_key(p, tz) for p in periods),
                    labels=tuple(period_label(p, tz, t) for p in periods),
                    spans=spans(periods, tz, t),
                )
            )
    return found


def spans(periods: Sequence[BudgetUse], tz: ZoneInfo, t: Texts) -> tuple[str, ...]:
    """Consecutive periods (one ends where the next starts) as one span of text."""
    groups: list[list[BudgetUse]] = []
    for p in sorted(periods, key=lambda b: b.start):
        if groups and groups[-1][-1].end == p.start:
            groups[-1].append(p)
        else:
            groups.append([p])
    return tuple(_span(g[0], g[-1], tz, t) for g in groups)


def _span(first: BudgetUse, last: BudgetUse, tz: ZoneInfo, t: Texts) -> str:
    if first is last:
        return period_label(first, tz, t)
    a, b = period_key(first, tz), period_key(last, tz)
    if len(a) == 7 and len(b) == 7:
        if a[:4] == b[:4]:
            return f"{t.month(a, long=True).rsplit(' ', 1)[0]} – {t.month(b, long=True)}"
        return f"{t.month(a, long=True)} – {t.month(b, long=True)}"
    end = period_label(last, tz, t).split(" – ")[-1]
    return f"{a} – {end}"


def cost_bars(
    campaign: CampaignFigures, months: Sequence[str], tz: ZoneInfo, t: Texts
) -> list[Bar]:
    """The bars of a campaign's cost chart.

    With a monthly budget: every month of the history, spent against the budget. With other
    budget periods: one bar per period (summed per month beyond :data:`MAX_PERIOD_BARS`).
    Without a budget: the expected cost per month, no line.
    """
    if not campaign.budget:
        by_month = {m.month: m.expected_cost for m in campaign.months}
        return [
            Bar(key=m, label=t.month(m), value=by_month.get(m, Decimal(0)))
            for m in months or sorted(by_month)
        ]
    uses = sorted(campaign.budget, key=lambda b: b.start)
    if all(_is_month(u, tz) for u in uses):
        return _monthly(uses, months, tz, t)
    if len(uses) <= MAX_PERIOD_BARS:
        return [
            Bar(
                key=period_key(u, tz),
                label=period_label(u, tz, t, long=False),
                value=u.spent,
                limit=u.budget,
                exhausted=u.exhausted,
            )
            for u in uses
        ]
    return _summed_per_month(uses, tz, t)


def _monthly(uses: Sequence[BudgetUse], months: Sequence[str], tz: ZoneInfo, t: Texts) -> list[Bar]:
    by_key = {period_key(u, tz): u for u in uses}
    budget = uses[-1].budget
    keys = sorted(set(months) | set(by_key))
    bars = []
    for key in keys:
        use = by_key.get(key)
        bars.append(
            Bar(
                key=key,
                label=t.month(key),
                value=use.spent if use else Decimal(0),
                limit=use.budget if use else budget,
                exhausted=use.exhausted if use else False,
            )
        )
    return bars


def _summed_per_month(uses: Sequence[BudgetUse], tz: ZoneInfo, t: Texts) -> list[Bar]:
    sums: dict[str, list[Decimal]] = {}
    ran_out: set[str] = set()
    for u in uses:
        start = _local(u.start, tz)
        key = f"{start.year:04d}-{start.month:02d}"
        spent, budget = sums.setdefault(key, [Decimal(0), Decimal(0)])
        sums[key] = [spent + u.spent, budget + u.budget]
        if u.exhausted:
            ran_out.add(key)
    return [
        Bar(key=k, label=t.month(k), value=v[0], limit=v[1], exhausted=k in ran_out)
        for k, v in sorted(sums.items())
    ]


def _triple(a: int, b: int) -> tuple[int, int, int]:
    return a, b, b - a


def _money_triple(a: Decimal, b: Decimal) -> tuple[Decimal, Decimal, Decimal]:
    return a, b, b - a


def compare_rows(
    first: BacktestResult, second: BacktestResult, tz: ZoneInfo, t: Texts
) -> list[CompareRow]:
    """One row per campaign of either config (the first's order, then the second's new ones),
    then the total (``campaign_id`` ``""``)."""
    a = {c.campaign_id: c for c in first.campaigns}
    b = {c.campaign_id: c for c in second.campaigns}
    ids = [*a, *(k for k in b if k not in a)]
    ran_a = {e.campaign_id: e.spans for e in exhausted(first, tz, t)}
    ran_b = {e.campaign_id: e.spans for e in exhausted(second, tz, t)}
    rows = []
    for cid in ids:
        x, y = a.get(cid), b.get(cid)
        either = x or y
        rows.append(
            CompareRow(
                campaign_id=cid,
                name=either.name if either is not None else cid,
                first=x,
                second=y,
                orders=_triple(x.orders if x else 0, y.orders if y else 0),
                customers=_triple(x.customers if x else 0, y.customers if y else 0),
                face_value=_money_triple(
                    x.face_value if x else Decimal(0), y.face_value if y else Decimal(0)
                ),
                expected_cost=_money_triple(
                    x.expected_cost if x else Decimal(0), y.expected_cost if y else Decimal(0)
                ),
                exhausted=(ran_a.get(cid, ()), ran_b.get(cid, ())),
            )
        )
    rows.append(_total_row(rows, t))
    return rows


def _total_row(rows: Sequence[CompareRow], t: Texts) -> CompareRow:
    def total(pick: int, field: str) -> Decimal:
        return sum((getattr(r, field)[pick] for r in rows), Decimal(0))

    return CompareRow(
        campaign_id="",
        name=t("total"),
        first=None,
        second=None,
        orders=_triple(*(int(total(i, "orders")) for i in (0, 1))),
        customers=(0, 0, 0),
        face_value=_money_triple(total(0, "face_value"), total(1, "face_value")),
        expected_cost=_money_triple(total(0, "expected_cost"), total(1, "expected_cost")),
        exhausted=(
            tuple(x for r in rows for x in r.exhausted[0]),
            tuple(x for r in rows for x in r.exhausted[1]),
        ),
    )
