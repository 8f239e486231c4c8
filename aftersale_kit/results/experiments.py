"""A/B and holdout comparisons with a 95% confidence interval for the difference.

A shop owner keeps a campaign only if it pays; a difference between two groups without saying
how sure it is invites keeping campaigns that did nothing. So every comparison here carries its
interval, and below a minimum sample there is no number at all, only "not enough data yet".

Groups come from the engine's split (:func:`~aftersale_kit.core.engine.assign_variant`): a
customer in the holdout share gets nothing (``None``, the natural control group); the others get
a variant by weight (``""`` when the campaign has no variants). :func:`arms_from` turns those
assignments and each customer's outcome into two :class:`Arm` values; :func:`compare` computes.

Metrics
    ``repeat_rate``: one value per customer, ``1.0`` for a repeat purchase within the window,
    else ``0.0``; the interval for the difference of two proportions is Newcombe's hybrid score
    interval built from the Wilson intervals of each group (``scipy.stats.binomtest``), which
    holds its coverage for small rates where the plain normal approximation does not.
    ``net_revenue_per_customer``: net revenue per customer (``0.0`` without a later order);
    Welch's t-interval (``scipy.stats.ttest_ind(..., equal_var=False)``), which does not assume
    the groups' spreads are equal (a campaign changes the spread, too).

scipy (the ``results`` extra) is imported when a comparison is computed, never at import.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..core.errors import MissingExtraError
from .figures import Experiment, GroupFigures

__all__ = [
    "CONFIDENCE",
    "HOLDOUT",
    "METRICS",
    "NET_REVENUE",
    "REPEAT_RATE",
    "TREATED",
    "Arm",
    "arms_from",
    "compare",
]

REPEAT_RATE = "repeat_rate"
NET_REVENUE = "net_revenue_per_customer"
METRICS = (REPEAT_RATE, NET_REVENUE)
CONFIDENCE = 0.95
#: The name of the control arm made from the holdout group.
HOLDOUT = "holdout"
#: The name of the arm of every customer who got the campaign (any variant).
TREATED = "campaign"
NOT_ENOUGH = "not enough data yet"

_PLACES = {REPEAT_RATE: Decimal("0.0001"), NET_REVENUE: Decimal("0.01")}


@dataclass(frozen=True, slots=True)
class Arm:
    """One group: its name and one value per customer (see the module docstring's metrics)."""

    name: str
    values: Sequence[float]

    @property
    def customers(self) -> int:
        return len(self.values)


def arms_from(
    assignments: Iterable[tuple[str, str | None]],
    outcomes: Mapping[str, float],
    *,
    control: str | None = None,
    treatment: str | None = None,
) -> tuple[Arm, Arm]:
    """The control and treatment arms from ``(customer key, variant)`` assignments.

    ``variant`` is what :func:`~aftersale_kit.core.engine.assign_variant` gave: ``None`` for the
    holdout group, ``""`` without variants, else the variant's name. ``control=None`` takes the
    holdout group as control (named :data:`HOLDOUT`), otherwise the variant so named;
    ``treatment=None`` takes every other customer who got the campaign (named :data:`TREATED`;
    holdout customers never count as treated), otherwise the variant so named. A customer
    without an entry in ``outcomes`` did nothing afterwards: ``0.0``. A customer is counted once,
    in the group of their first assignment (the split is deterministic per customer, so later
    records of the same customer agree).
    """
    control_values: list[float] = []
    treatment_values: list[float] = []
    seen: set[str] = set()
    for customer, variant in assignments:
        if customer in seen:
            continue
        seen.add(customer)
        value = float(outcomes.get(customer, 0.0))
        if variant == control:  # None == None: the holdout group
            control_values.append(value)
        elif variant is not None and (treatment is None or variant == treatment):
            treatment_values.append(value)
    return (
        Arm(HOLDOUT if control is None else control, tuple(control_values)),
        Arm(TREATED if treatment is None else treatment, tuple(treatment_values)),
    )


def compare(
    campaign_id: str,
    metric: str,
    control: Arm,
    treatment: Arm,
    *,
    window_days: int | None,
    min_customers: int = 100,
) -> Experiment:
    """Treatment minus control on ``metric``, with its 95% confidence interval.

    Below ``min_customers`` in either arm, ``difference``, ``low`` and ``high`` are ``None``,
    ``enough_data`` is false and ``note`` says "not enough data yet" with the numbers needed (the
    groups' own values are still given: they are what was observed, not an estimate of the
    effect). ValueError for an unknown metric, a value that is not a finite number, or a repeat
    rate whose values are not 0 and 1.
    """
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; expected one of {', '.join(METRICS)}")
    for arm in (control, treatment):
        if not all(math.isfinite(v) for v in arm.values):
            raise ValueError(f"{arm.name}: every value must be a finite number")
        if metric == REPEAT_RATE and any(v not in (0.0, 1.0) for v in arm.values):
            raise ValueError(f"{arm.name}: a repeat rate takes values 0 and 1 per customer")
    groups = (_group(control, metric), _group(treatment, metric))

    def result(
        difference: float | None, low: float | None, high: float | None, note: str
    ) -> Experiment:
        return Experiment(
            campaign_id=campaign_id,
            metric=metric,
            window_days=window_days,
            control=groups[0],
            treatment=groups[1],
            difference=_decimal(difference, metric),
            low=_decimal(low, metric),
            high=_decimal(high, metric),
            enough_data=difference is not None,
            note=note,
        )

    smaller = min(control.customers, treatment.customers)
    if smaller < max(min_customers, 2):
        return result(
            None,
            None,
            None,
            f"{NOT_ENOUGH}: {control.customers} and {treatment.customers} customers, "
            f"at least {max(min_customers, 2)} per group are needed",
        )
    difference = _mean(treatment.values) - _mean(control.values)
    if metric == REPEAT_RATE:
        low, high = _proportions_interval(control, treatment)
    elif _constant(control.values) and _constant(treatment.values):
        # Every customer alike in both groups: the data hold no spread to measure doubt by.
        return result(difference, None, None, "no spread in either group: no interval")
    else:
        low, high = _welch_interval(control, treatment)
    return result(difference, low, high, "")


def _constant(values: Sequence[float]) -> bool:
    return min(values) == max(values)


def _mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values) if values else 0.0


def _group(arm: Arm, metric: str) -> GroupFigures:
    value = _decimal(_mean(arm.values), metric)
    return GroupFigures(arm.name, arm.customers, value if value is not None else Decimal(0))


def _decimal(value: float | None, metric: str) -> Decimal | None:
    if value is None:
        return None
    return Decimal(repr(value)).quantize(_PLACES[metric])


def _stats() -> Any:
    try:
        from scipy import stats
    except ImportError:
        # MissingExtraError: `aftersale-kit report` says what to install (a bare ImportError
        # would be an "internal error" there); the dashboard answers 503 with the same text.
        raise MissingExtraError("experiment figures (scipy)", "results") from None
    return stats


def _wilson(stats: Any, arm: Arm) -> tuple[float, float, float]:
    """The arm's rate and its Wilson score interval."""
    successes = round(math.fsum(arm.values))
    ci = stats.binomtest(successes, arm.customers).proportion_ci(
        confidence_level=CONFIDENCE, method="wilson"
    )
    return successes / arm.customers, float(ci.low), float(ci.high)


def _proportions_interval(control: Arm, treatment: Arm) -> tuple[float, float]:
    """Newcombe's hybrid score interval (his method 10) for ``p_treatment - p_control``."""
    stats = _stats()
    p1, l1, u1 = _wilson(stats, treatment)
    p0, l0, u0 = _wilson(stats, control)
    d = p1 - p0
    return d - math.hypot(p1 - l1, u0 - p0), d + math.hypot(u1 - p1, p0 - l0)


def _welch_interval(control: Arm, treatment: Arm) -> tuple[float, float]:
    """Welch's t-interval for ``mean_treatment - mean_control``."""
    stats = _stats()
    test = stats.ttest_ind(list(treatment.values), list(control.values), equal_var=False)
    ci = test.confidence_interval(confidence_level=CONFIDENCE)
    return float(ci.low), float(ci.high)
