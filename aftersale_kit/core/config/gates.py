"""A campaign's gates: ``schedule``, ``per_customer``, ``budget``, ``margin_guard``, ``split``."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import yaml

from ..campaign import (
    Budget,
    BudgetBasis,
    BudgetPeriod,
    MarginGuard,
    PerCustomerLimit,
    Split,
    Window,
)
from ..money import Money
from ..schema import ID_PATTERN, object_keys
from .checker import Entry, found, join_path
from .context import ID_HELP, SYNONYMS, Context, amount, currency_code

__all__ = [
    "read_budget",
    "read_margin_guard",
    "read_moment",
    "read_per_customer",
    "read_schedule",
    "read_split",
]

_PERIODS = tuple(p.value for p in BudgetPeriod)
_BASES = tuple(b.value for b in BudgetBasis)
_MOMENT_HELP = "a date such as 2026-11-01 or a moment such as 2026-11-01T08:00"


def read_schedule(ctx: Context, node: yaml.Node, path: str) -> Window | None:
    e = ctx.c.mapping(node, path, allowed=object_keys("campaign", "schedule"), synonyms=SYNONYMS)
    if e is None:
        return None
    if not e:
        ctx.c.report(node, path, "write from: and/or until:")
        return None
    starts = read_moment(ctx, e["from"].value, f"{path}.from", end=False) if "from" in e else None
    ends = read_moment(ctx, e["until"].value, f"{path}.until", end=True) if "until" in e else None
    if starts is not None and ends is not None and ends <= starts:
        ctx.c.report(e["until"].value, f"{path}.until", "until is before from")
        return None
    return Window(starts_at=starts, ends_at=ends)


def read_moment(ctx: Context, node: yaml.Node, path: str, *, end: bool) -> datetime | None:
    """A date or moment in the shop's time zone (an end date means the end of that day)."""
    if not isinstance(node, yaml.ScalarNode) or node.value == "":
        ctx.c.report(node, path, f"expected {_MOMENT_HELP}, got {found(node)}")
        return None
    value = _date_or_moment(ctx, node)
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=ctx.tz)
    if isinstance(value, date):
        day = value + timedelta(days=1) if end else value
        return datetime.combine(day, time(0), tzinfo=ctx.tz)
    ctx.c.report(node, path, f"expected {_MOMENT_HELP}, got {found(node)}")
    return None


def _date_or_moment(ctx: Context, node: yaml.ScalarNode) -> Any:
    """The date or datetime a scalar spells (YAML timestamp or ISO text), else ``None``."""
    if node.tag.endswith(":timestamp"):
        return ctx.c.timestamp(node)
    raw = str(node.value).strip()
    try:
        return date.fromisoformat(raw) if len(raw) == 10 else datetime.fromisoformat(raw)
    except ValueError:
        return None


def read_per_customer(ctx: Context, node: yaml.Node, path: str) -> PerCustomerLimit | None:
    e = ctx.c.mapping(
        node, path, allowed=object_keys("campaign", "per_customer"), synonyms=SYNONYMS
    )
    if e is None:
        return None
    if not e:
        ctx.c.report(node, path, "write once: true, max: N and/or cooldown_days: N")
        return None
    max_uses = _max_uses(ctx, e, path)
    cooldown = ctx.c.optional_integer(
        e,
        "cooldown_days",
        path,
        default=None,
        minimum=1,
        expected="a whole number of days, at least 1",
    )
    return PerCustomerLimit(max_uses=max_uses, cooldown_days=cooldown)


def _max_uses(ctx: Context, e: dict[str, Entry], path: str) -> int | None:
    """``once: true`` (1) or ``max: N``; both at once is reported."""
    max_uses = None
    if "once" in e:
        once = ctx.c.boolean(e["once"].value, f"{path}.once")
        max_uses = 1 if once else None
    if "max" in e:
        if "once" in e:
            ctx.c.report(e["max"].key, path, "write either once: true or max: N, not both")
        else:
            max_uses = ctx.c.integer(
                e["max"].value,
                f"{path}.max",
                minimum=1,
                expected="a whole number of at least 1",
            )
    return max_uses


def read_budget(ctx: Context, node: yaml.Node, path: str) -> Budget | None:
    e = ctx.c.mapping(
        node, path, allowed=object_keys("campaign", "budget"), required=("amount", "period")
    )
    if e is None:
        return None
    value = amount(ctx, e["amount"].value, f"{path}.amount") if "amount" in e else None
    period = None
    if "period" in e:
        period = ctx.c.choice(e["period"].value, f"{path}.period", _PERIODS, what="period")
    if "currency" in e:
        _budget_currency(ctx, e["currency"].value, f"{path}.currency")
    basis: str | None = BudgetBasis.RESERVED.value
    if "basis" in e:
        basis = ctx.c.choice(e["basis"].value, f"{path}.basis", _BASES, what="budget basis")
    if value is None or period is None or basis is None:
        return None
    return Budget(
        amount=Money(value, ctx.currency or ""),
        period=BudgetPeriod(period),
        basis=BudgetBasis(basis),
    )


def _budget_currency(ctx: Context, node: yaml.Node, path: str) -> None:
    """A budget's ``currency:`` may only repeat the shop currency."""
    currency = currency_code(ctx, node, path)
    if currency is not None and ctx.currency is not None and currency != ctx.currency:
        ctx.c.report(node, path, f"budgets are in the shop currency {ctx.currency}, got {currency}")


def read_margin_guard(ctx: Context, node: yaml.Node, path: str) -> MarginGuard | None:
    e = ctx.c.mapping(
        node, path, allowed=object_keys("campaign", "margin_guard"), required=("max_share",)
    )
    if e is None or "max_share" not in e:
        return None
    share = ctx.c.bounded(
        e["max_share"].value,
        f"{path}.max_share",
        expected="a share above 0 and at most 1 (e.g. 0.3 for 30 %)",
        low=Decimal(0),
        low_inclusive=False,
        high=Decimal(1),
    )
    return MarginGuard(max_share=share) if share is not None else None


def read_split(ctx: Context, node: yaml.Node, path: str) -> Split | None:
    e = ctx.c.mapping(node, path, allowed=object_keys("campaign", "split"))
    if e is None:
        return None
    if not e:
        ctx.c.report(node, path, "write holdout: and/or variants:")
        return None
    holdout = Decimal(0)
    if "holdout" in e:
        value = ctx.c.bounded(
            e["holdout"].value,
            f"{path}.holdout",
            expected="a share of at least 0 and below 1 (e.g. 0.1 for 10 %)",
            low=Decimal(0),
            high=Decimal(1),
            high_inclusive=False,
        )
        holdout = value if value is not None else holdout
    variants = _variants(ctx, e["variants"].value, f"{path}.variants") if "variants" in e else ()
    return Split(variants=variants, holdout=holdout)


def _variants(ctx: Context, node: yaml.Node, path: str) -> tuple[tuple[str, int], ...]:
    items = ctx.c.mapping(node, path, allowed=None, expected="a mapping of variant: weight")
    variants: list[tuple[str, int]] = []
    for name, entry in (items or {}).items():
        if not re.fullmatch(ID_PATTERN, name):
            ctx.c.report(entry.key, path, f"expected {ID_HELP} as a variant name")
            continue
        weight = ctx.c.integer(
            entry.value,
            join_path(path, name),
            minimum=1,
            expected="a positive whole-number weight",
        )
        # A bad weight is reported; the name still counts for the actions' variant check.
        variants.append((name, weight or 0))
    if items is not None and not items:
        ctx.c.report(node, path, "name at least one variant, e.g. A: 50")
    return tuple(variants)
