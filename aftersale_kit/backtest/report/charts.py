"""The report's charts as inline SVG, drawn here: no script, no network, no chart library.

Every text that comes from the data (campaign names, month labels) goes through
:func:`markupsafe.escape`; numbers are formatted by :class:`~.i18n.Texts`. Each chart has a
``<title>`` and an ``aria-label`` so that a screen reader (and a test) can name it. Colours: blue
for what was spent, red for a budget that ran out, a dark dashed line for the budget or the cap.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from markupsafe import Markup, escape

from .i18n import Texts
from .view import Bar

__all__ = ["contacts_histogram", "cost_chart", "reach_chart"]

BLUE = "#2f6690"
LIGHT = "#9ac1e0"
RED = "#c0392b"
INK = "#222"
GRID = "#ddd"

_W = 720
_H = 270
_LEFT = 84
_RIGHT = 16
_TOP = 28
_BOTTOM = 64


def _svg(label: str, width: int, height: int, body: list[str]) -> Markup:
    name = escape(label)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'aria-label="{name}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><title>{name}</title>'
    )
    return Markup(head + "".join(body) + "</svg>")  # every part escaped above


def _text(x: float, y: float, text: str, **attrs: str) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{escape(v)}"' for k, v in attrs.items())
    return f'<text x="{x:.1f}" y="{y:.1f}"{extra}>{escape(text)}</text>'


def _scale(top: Decimal) -> Decimal:
    """A round axis maximum a little above ``top`` (1, 2, 2.5, 5 times a power of ten)."""
    if top <= 0:
        return Decimal(1)
    raw = top * Decimal("1.1")
    power = Decimal(10) ** (len(str(int(raw))) - 1)
    for step in (1, 2, Decimal("2.5"), 5, 10):
        if raw <= power * step:
            return power * Decimal(step)
    return power * 10  # pragma: no cover - the loop ends at 10


def cost_chart(bars: Sequence[Bar], *, title: str, currency: str, t: Texts) -> Markup:
    """Bars per month (or budget period) with the budget as a dashed line over each bar; a bar
    whose budget ran out is red and says so above it."""
    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM
    values = [b.value for b in bars] + [b.limit or Decimal(0) for b in bars]
    top = _scale(max(values, default=Decimal(0)))
    n = max(len(bars), 1)
    slot = plot_w / n
    body = [_axes(top, currency, t, plot_w, plot_h)]
    every = max(1, -(-n // 14))  # at most ~14 labels on the axis
    for i, bar in enumerate(bars):
        x = _LEFT + i * slot
        h = float(bar.value / top) * plot_h
        colour = RED if bar.exhausted else BLUE
        tip = f"{bar.label}: {t.money(bar.value, currency)}"
        if bar.limit is not None:
            tip += f" / {t('budget')} {t.money(bar.limit, currency)}"
        body.append(
            f'<rect class="bar{" exhausted" if bar.exhausted else ""}" x="{x + slot * 0.15:.1f}" '
            f'y="{_TOP + plot_h - h:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" '
            f'fill="{colour}"><title>{escape(tip)}</title></rect>'
        )
        if bar.limit is not None:
            y = _TOP + plot_h - float(bar.limit / top) * plot_h
            body.append(
                f'<line class="budget" x1="{x:.1f}" x2="{x + slot:.1f}" y1="{y:.1f}" '
                f'y2="{y:.1f}" stroke="{INK}" stroke-width="2" stroke-dasharray="5 3"/>'
            )
        if bar.exhausted:
            body.append(
                _text(x + slot / 2, _TOP + plot_h - h - 6, "!", text_anchor="middle", fill=RED,
                      font_weight="bold")
            )  # fmt: skip
        if i % every == 0 or bar.exhausted:
            body.append(_axis_label(bar, bars[i - 1] if i else None, x + slot / 2))
    body.append(_legend(t, with_budget=any(b.limit is not None for b in bars)))
    return _svg(title, _W, _H, body)


def _axis_label(bar: Bar, before: Bar | None, x: float) -> str:
    """A month as "Mär" with the year below it under the first bar and each January; any other
    period as its label."""
    weight, fill = ("bold", RED) if bar.exhausted else ("normal", INK)
    y = _H - _BOTTOM + 16
    month, _, year = bar.label.partition(" ")
    if len(bar.key) != 7 or not year:
        return _text(x, y, bar.label, text_anchor="middle", font_size="11", font_weight=weight,
                     fill=fill)  # fmt: skip
    parts = [_text(x, y, month, text_anchor="middle", font_size="11", font_weight=weight,
                   fill=fill)]  # fmt: skip
    if before is None or before.key[:4] != bar.key[:4]:
        parts.append(_text(x, y + 13, year, text_anchor="middle", font_size="11", fill=INK))
    return "".join(parts)


def _axes(top: Decimal, currency: str, t: Texts, plot_w: float, plot_h: float) -> str:
    parts = []
    for share in (0, Decimal("0.5"), 1):
        y = _TOP + plot_h - float(share) * plot_h
        parts.append(
            f'<line x1="{_LEFT}" x2="{_LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
        )
        parts.append(
            _text(_LEFT - 6, y + 4, t.money(top * share, currency), text_anchor="end",
                  font_size="11", fill=INK)
        )  # fmt: skip
    return "".join(parts)


def _legend(t: Texts, *, with_budget: bool) -> str:
    y = _H - 14
    parts = [
        f'<rect x="{_LEFT}" y="{y - 9}" width="12" height="10" fill="{BLUE}"/>',
        _text(_LEFT + 16, y, t("spent"), font_size="11", fill=INK),
    ]
    if with_budget:
        parts += [
            f'<line x1="{_LEFT + 110}" x2="{_LEFT + 134}" y1="{y - 4}" y2="{y - 4}" '
            f'stroke="{INK}" stroke-width="2" stroke-dasharray="5 3"/>',
            _text(_LEFT + 140, y, t("budget"), font_size="11", fill=INK),
            f'<rect x="{_LEFT + 220}" y="{y - 9}" width="12" height="10" fill="{RED}"/>',
            _text(_LEFT + 236, y, t("budget_alert"), font_size="11", fill=INK),
        ]
    return "".join(parts)


def reach_chart(
    rows: Sequence[tuple[str, int, int]], *, title: str, t: Texts, label_width: int = 220
) -> Markup:
    """Horizontal bars per campaign: orders reached (dark) and customers reached (light)."""
    row_h = 34
    height = _TOP + row_h * max(len(rows), 1) + 36
    plot_w = _W - label_width - 70
    top = _scale(Decimal(max([r[1] for r in rows] + [r[2] for r in rows], default=0)))
    body = []
    for i, (name, orders, customers) in enumerate(rows):
        y = _TOP + i * row_h
        shown = name if len(name) <= 30 else name[:29] + "…"
        body.append(_text(label_width - 8, y + 16, shown, text_anchor="end", font_size="12",
                          fill=INK))  # fmt: skip
        for j, (value, colour) in enumerate(((orders, BLUE), (customers, LIGHT))):
            w = float(Decimal(value) / top) * plot_w
            body.append(
                f'<rect class="bar" x="{label_width}" y="{y + 3 + j * 13}" width="{w:.1f}" '
                f'height="12" fill="{colour}"/>'
            )
            body.append(_text(label_width + w + 4, y + 13 + j * 13, t.number(value),
                              font_size="11", fill=INK))  # fmt: skip
    y = height - 14
    body += [
        f'<rect x="{label_width}" y="{y - 9}" width="12" height="10" fill="{BLUE}"/>',
        _text(label_width + 16, y, t("reach_orders"), font_size="11", fill=INK),
        f'<rect x="{label_width + 180}" y="{y - 9}" width="12" height="10" fill="{LIGHT}"/>',
        _text(label_width + 196, y, t("reach_customers"), font_size="11", fill=INK),
    ]
    return _svg(title, _W, height, body)


def contacts_histogram(
    per_customer: Mapping[int, int], *, cap: int | None, title: str, t: Texts
) -> Markup:
    """Customers per number of contacts (0, 1, 2, ...); the cap as a dashed vertical line, the
    bars above it red."""
    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM
    last = max([*per_customer, cap or 0, 1])
    counts = [per_customer.get(k, 0) for k in range(last + 1)]
    top = _scale(Decimal(max(counts, default=0)))
    slot = plot_w / len(counts)
    body = [_count_axes(top, t, plot_w, plot_h)]
    for k, count in enumerate(counts):
        x = _LEFT + k * slot
        h = float(Decimal(count) / top) * plot_h
        over = cap is not None and k > cap
        body.append(
            f'<rect class="bar{" over" if over else ""}" x="{x + slot * 0.1:.1f}" '
            f'y="{_TOP + plot_h - h:.1f}" width="{slot * 0.8:.1f}" height="{h:.1f}" '
            f'fill="{RED if over else BLUE}"><title>{k}: {count}</title></rect>'
        )
        body.append(_text(x + slot / 2, _H - _BOTTOM + 16, str(k), text_anchor="middle",
                          font_size="11", fill=INK))  # fmt: skip
    if cap is not None:
        x = _LEFT + (cap + 1) * slot
        body.append(
            f'<line class="cap" x1="{x:.1f}" x2="{x:.1f}" y1="{_TOP - 10}" '
            f'y2="{_TOP + plot_h}" stroke="{INK}" stroke-width="2" stroke-dasharray="5 3"/>'
        )
        body.append(_text(x - 4, _TOP - 14, f"{t('contacts_cap')} {cap}", text_anchor="end",
                          font_size="11", fill=INK))  # fmt: skip
    body.append(_text(_LEFT + plot_w / 2, _H - 14, t("contacts_n"), text_anchor="middle",
                      font_size="11", fill=INK))  # fmt: skip
    return _svg(title, _W, _H, body)


def _count_axes(top: Decimal, t: Texts, plot_w: float, plot_h: float) -> str:
    parts = []
    for share in (0, Decimal("0.5"), 1):
        y = _TOP + plot_h - float(share) * plot_h
        parts.append(
            f'<line x1="{_LEFT}" x2="{_LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
        )
        parts.append(_text(_LEFT - 6, y + 4, t.number(top * share), text_anchor="end",
                           font_size="11", fill=INK))  # fmt: skip
    return "".join(parts)
