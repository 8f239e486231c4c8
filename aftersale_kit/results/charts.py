"""The geometry of the dashboard's charts, computed here so the template only draws rectangles
and lines: no script in the page, nothing to build, and every label reaches the page through the
template's autoescaping (the geometry holds numbers and plain text, never markup).

Coordinates are SVG user units with y growing downwards; amounts are scaled against "nice"
axis steps (1, 2 or 5 times a power of ten) so the ticks read as round numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

__all__ = [
    "Bar",
    "BarChart",
    "GaugeBar",
    "IntervalChart",
    "Tick",
    "bar_chart",
    "gauge",
    "interval_chart",
]

Format = Callable[[Decimal], str]


@dataclass(frozen=True, slots=True)
class Tick:
    """An axis line at ``pos`` (y for a bar chart, x for an interval) with its label."""

    pos: float
    label: str


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: int
    #: The tooltip (an SVG ``<title>``): the group, the series and the formatted value.
    title: str


@dataclass(frozen=True, slots=True)
class GroupLabel:
    x: float
    label: str
    title: str


@dataclass(frozen=True, slots=True)
class BarChart:
    """Grouped vertical bars: one group per campaign or month, one bar per series."""

    width: float
    height: float
    left: float
    right: float
    top: float
    baseline: float
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    groups: tuple[GroupLabel, ...]
    series: tuple[str, ...]
    label_y: float


_W = 680.0
_H = 260.0
_LEFT = 84.0
_RIGHT = 12.0
_TOP = 14.0
_BOTTOM = 44.0
_LABEL_CHARS = 16


def nice_step(span: Decimal, *, ticks: int = 4) -> Decimal:
    """The smallest step of 1, 2 or 5 times a power of ten that covers ``span`` in ``ticks``."""
    if span <= 0:
        return Decimal(1)
    raw = span / ticks
    exponent = raw.adjusted()
    base = Decimal(1).scaleb(exponent)
    for factor in (1, 2, 5, 10):
        step = base * factor
        if step >= raw:
            return step
    return base * 10  # pragma: no cover - the loop always returns at factor 10


def _short(label: str) -> str:
    return label if len(label) <= _LABEL_CHARS else label[: _LABEL_CHARS - 1] + "…"


def bar_chart(
    groups: Sequence[tuple[str, Sequence[Decimal]]],
    *,
    series: Sequence[str],
    fmt: Format,
) -> BarChart:
    """Bars for ``groups`` (label, one value per series); negative values draw as nothing (the
    table next to the chart gives the number), the axis starts at zero."""
    top_value = max((v for _, values in groups for v in values), default=Decimal(0))
    step = nice_step(max(top_value, Decimal(0)))
    axis_max = step * 4
    plot_h = _H - _TOP - _BOTTOM
    plot_w = _W - _LEFT - _RIGHT
    baseline = _H - _BOTTOM
    ticks = tuple(
        Tick(pos=round(baseline - plot_h * i / 4, 1), label=fmt(step * i)) for i in range(5)
    )
    slot = plot_w / max(len(groups), 1)
    bar_w = min(slot * 0.8 / max(len(series), 1), 48.0)
    bars: list[Bar] = []
    labels: list[GroupLabel] = []
    for index, (label, values) in enumerate(groups):
        centre = _LEFT + slot * (index + 0.5)
        start = centre - bar_w * len(series) / 2
        for s, value in enumerate(values):
            height = float(max(value, Decimal(0)) / axis_max) * plot_h
            bars.append(
                Bar(
                    x=round(start + s * bar_w, 1),
                    y=round(baseline - height, 1),
                    width=round(bar_w - 2, 1),
                    height=round(height, 1),
                    series=s,
                    title=f"{label} · {series[s]}: {fmt(value)}",
                )
            )
        labels.append(GroupLabel(x=round(centre, 1), label=_short(label), title=label))
    return BarChart(
        width=_W,
        height=_H,
        left=_LEFT,
        right=_W - _RIGHT,
        top=_TOP,
        baseline=baseline,
        bars=tuple(bars),
        ticks=ticks,
        groups=tuple(labels),
        series=tuple(series),
        label_y=baseline + 18,
    )


@dataclass(frozen=True, slots=True)
class IntervalChart:
    """One difference with its 95% interval on a horizontal axis that always shows zero."""

    width: float
    height: float
    low: float
    high: float
    point: float
    zero: float
    axis_y: float
    ticks: tuple[Tick, ...]
    #: "above", "below" or "spans" zero: the colour of the interval.
    verdict: str
    title: str


_IW = 520.0
_IH = 64.0
_IPAD = 24.0


def interval_chart(
    difference: Decimal, low: Decimal, high: Decimal, *, fmt: Format, title: str
) -> IntervalChart:
    lo = min(low, Decimal(0))
    hi = max(high, Decimal(0))
    span = hi - lo or Decimal(1)
    lo -= span / 10
    hi += span / 10
    span = hi - lo

    def x(value: Decimal) -> float:
        return round(_IPAD + float((value - lo) / span) * (_IW - 2 * _IPAD), 1)

    verdict = "above" if low > 0 else "below" if high < 0 else "spans"
    ticks = tuple(Tick(pos=x(v), label=fmt(v)) for v in (low, Decimal(0), high))
    return IntervalChart(
        width=_IW,
        height=_IH,
        low=x(low),
        high=x(high),
        point=x(difference),
        zero=x(Decimal(0)),
        axis_y=26.0,
        ticks=ticks,
        verdict=verdict,
        title=title,
    )


@dataclass(frozen=True, slots=True)
class GaugeBar:
    """A horizontal bar of ``used`` against a limit (a budget, or a customer's margin)."""

    width: float
    height: float
    fill: float
    #: x of the limit (the budget, or 100% of the margin).
    limit: float
    over: bool
    title: str


_GW = 240.0
_GH = 16.0


def gauge(used: Decimal, limit: Decimal, *, title: str, headroom: Decimal = Decimal(1)) -> GaugeBar:
    """``used`` against ``limit``; the bar's full width is ``headroom`` times the limit (1.5
    leaves room to show how far past the limit it went), a fill past it is cut at the edge."""
    full = limit * headroom
    share = Decimal(1) if full <= 0 else min(max(used, Decimal(0)) / full, Decimal(1))
    if full <= 0 and used <= 0:
        share = Decimal(0)
    limit_x = _GW if full <= 0 else _GW * float(limit / full)
    return GaugeBar(
        width=_GW,
        height=_GH,
        fill=round(_GW * float(share), 1),
        limit=round(limit_x, 1),
        over=used > limit,
        title=title,
    )
