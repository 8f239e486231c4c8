"""The arms of a campaign's experiment from the store's records, compared by :mod:`.experiments`.

Who is in an experiment: every customer whose order reached the campaign's split (a decision's
outcome for the campaign with a variant, or held out), in the group of their first such
decision; guests count by their e-mail key as the split does. What is measured, from the
customer's next orders (:mod:`aftersale_kit.core.order_facts`) placed after the exposing order
and within ``window_days`` of it: ``repeat_rate`` (1 with such an order that was not cancelled
or refunded in full, else 0) and ``net_revenue_per_customer`` (their goods net of refunds).

Only customers whose window has ended by the report's end count: a customer exposed yesterday
has not had the chance to come back, and counting them as "no repeat" would bias both groups
towards zero by how recent they are.

The comparison: the holdout group against everyone who got the campaign when the split holds
customers out; else the first two variants in the file's order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from ..core.campaign import Campaign, ShopConfig
from ..core.decision import Reason
from ..core.order_facts import OrderFacts
from ..storage.records import DecisionRecord
from .experiments import NET_REVENUE, REPEAT_RATE, arms_from, compare
from .figures import Experiment

__all__ = ["WINDOW_DAYS", "exposures", "shop_experiments"]

#: How long after the exposing order a next order counts.
WINDOW_DAYS = 90


def exposures(
    campaign_id: str, records: Iterable[DecisionRecord]
) -> list[tuple[str, str | None, str, datetime]]:
    """``(customer key, variant, order id, decided at)`` of each decision that put a customer in
    the campaign's split (``variant`` ``None``: held out), oldest first."""
    out: list[tuple[str, str | None, str, datetime]] = []
    for r in sorted(records, key=lambda r: (r.decided_at, r.id)):
        if r.customer_key is None:
            continue
        for o in r.decision.outcomes:
            if o.campaign_id != campaign_id:
                continue
            if o.reason is Reason.HOLDOUT:
                out.append((r.customer_key, None, r.order_id, r.decided_at))
            elif o.variant is not None:
                out.append((r.customer_key, o.variant, r.order_id, r.decided_at))
    return out


def _outcomes(
    firsts: dict[str, tuple[str, datetime]],
    facts: Sequence[OrderFacts],
    *,
    window: timedelta,
) -> tuple[dict[str, float], dict[str, float]]:
    """Per customer: 1.0 for a repeat purchase in the window, and the net revenue of it."""
    placed = {f.order_id: f.placed_at for f in facts}
    repeat: dict[str, float] = {}
    revenue: dict[str, float] = {}
    for f in facts:
        first = firsts.get(f.customer_key or "")
        if first is None or f.order_id == first[0]:
            continue
        start = placed.get(first[0], first[1])
        if not start < f.placed_at <= start + window:
            continue
        key = f.customer_key or ""
        if f.closed is None:
            repeat[key] = 1.0
        revenue[key] = revenue.get(key, 0.0) + float(f.net_after_refunds)
    return repeat, revenue


def _groups(campaign: Campaign) -> tuple[str | None, str | None] | None:
    """``(control, treatment)`` for :func:`.experiments.arms_from`; ``None``: nothing to compare."""
    split = campaign.split
    if split is None:
        return None
    if split.holdout > 0:
        return None, None
    if len(split.variants) >= 2:
        return split.variants[0][0], split.variants[1][0]
    return None


def shop_experiments(
    config: ShopConfig,
    records: Sequence[DecisionRecord],
    facts: Sequence[OrderFacts],
    *,
    until: datetime,
    window_days: int = WINDOW_DAYS,
    min_customers: int = 100,
) -> tuple[Experiment, ...]:
    """Both metrics for every campaign with a holdout or two variants (see the docstring)."""
    window = timedelta(days=window_days)
    out: list[Experiment] = []
    for campaign in config.campaigns:
        groups = _groups(campaign)
        if groups is None:
            continue
        firsts: dict[str, tuple[str, datetime]] = {}
        assigned: list[tuple[str, str | None]] = []
        for key, variant, order_id, at in exposures(campaign.id, records):
            if key in firsts or at + window > until:
                continue
            firsts[key] = (order_id, at)
            assigned.append((key, variant))
        repeat, revenue = _outcomes(firsts, facts, window=window)
        for metric, values in ((REPEAT_RATE, repeat), (NET_REVENUE, revenue)):
            control, treatment = arms_from(assigned, values, control=groups[0], treatment=groups[1])
            out.append(
                compare(
                    campaign.id,
                    metric,
                    control,
                    treatment,
                    window_days=window_days,
                    min_customers=min_customers,
                )
            )
    return tuple(out)
