"""The figures of a shop's results report: the contract between the computations
(``attribution``, ``experiments``, ``care``) and every output (``aftersale-kit report`` as
table, JSON, CSV and HTML; the dashboard at ``/admin/...``; ``report.json``; the metrics).

Money is :class:`~decimal.Decimal` in the shop's currency; periods are months ``"YYYY-MM"`` in
the shop's time zone. "Gross" is as redeemed; "net" takes the redeeming orders' refunds back out
(a full refund or a cancellation removes the order's revenue, a partial refund its share).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

__all__ = [
    "BudgetNow",
    "CampaignPeriod",
    "CampaignResults",
    "CareFigures",
    "CustomerCare",
    "Experiment",
    "FailedJob",
    "GroupFigures",
    "Leak",
    "ShopResults",
    "SurveyFigures",
]


@dataclass(frozen=True, slots=True)
class CampaignPeriod:
    """A campaign's figures in one period (a month)."""

    period: str
    issued: int
    redeemed: int
    discount_cost: Decimal
    revenue_gross: Decimal
    revenue_net: Decimal
    margin_gross: Decimal
    margin_net: Decimal


@dataclass(frozen=True, slots=True)
class BudgetNow:
    """A campaign's budget in the period running now (``budget`` ``None``: no budget)."""

    period_start: datetime | None
    spent: Decimal
    budget: Decimal | None


@dataclass(frozen=True, slots=True)
class CampaignResults:
    """One campaign over the report's time range, with its periods.

    ``redemption_rate`` is ``None`` when no code was issued. ``leaks``: codes redeemed by another
    customer than the one they were issued for.
    """

    campaign_id: str
    name: str
    issued: int
    redeemed: int
    redemption_rate: Decimal | None
    discount_cost: Decimal
    revenue_gross: Decimal
    revenue_net: Decimal
    margin_gross: Decimal
    margin_net: Decimal
    leaks: int
    periods: tuple[CampaignPeriod, ...]
    budget: BudgetNow
    #: Its codes are issued bound to the customer (``issue_coupon: {restrict_to_email: true}``):
    #: the setting that stops leaks of future codes.
    codes_restricted: bool = False


@dataclass(frozen=True, slots=True)
class Leak:
    """A code used by a different customer (id or normalised e-mail) than it was issued to."""

    campaign_id: str
    code: str
    issued_to: str | None
    redeemed_by: str | None
    redeeming_order_id: str
    redeemed_at: datetime


@dataclass(frozen=True, slots=True)
class GroupFigures:
    """One arm of an experiment (a variant, or the holdout)."""

    name: str
    customers: int
    #: The metric's value in this group (a share for a rate, money per customer for revenue).
    value: Decimal


@dataclass(frozen=True, slots=True)
class Experiment:
    """Two arms of a campaign compared on one metric (``repeat_rate`` within ``window_days``, or
    ``net_revenue_per_customer``).

    ``difference`` is treatment minus control, with a 95% confidence interval
    (``low``, ``high``). Below the minimum sample every number is ``None`` and ``note`` says
    "not enough data yet" (with how many customers are needed).
    """

    campaign_id: str
    metric: str
    window_days: int | None
    control: GroupFigures
    treatment: GroupFigures
    difference: Decimal | None
    low: Decimal | None
    high: Decimal | None
    enough_data: bool
    note: str


@dataclass(frozen=True, slots=True)
class CustomerCare:
    """One customer's after-sales cost against the margin earned on their orders.

    ``share`` is ``cost / margin``; ``None`` while the history is too short to say (``note``
    says why).
    """

    customer: str
    orders: int
    cost: Decimal
    margin: Decimal
    share: Decimal | None
    note: str = ""


@dataclass(frozen=True, slots=True)
class CareFigures:
    """Care cost over all customers, and the customers whose care costs the largest share."""

    customers: int
    cost: Decimal
    margin: Decimal
    top: tuple[CustomerCare, ...]


@dataclass(frozen=True, slots=True)
class FailedJob:
    """A job that failed or went dead, with its last error."""

    kind: str
    order_id: str | None
    state: str
    attempts: int
    error: str
    at: datetime


@dataclass(frozen=True, slots=True)
class SurveyFigures:
    """The survey answers of the time range (``average`` ``None`` without a rating)."""

    sent: int
    answered: int
    average: Decimal | None
    delivery_problems: int
    payment_problems: int


@dataclass(frozen=True, slots=True)
class ShopResults:
    """Everything the report and the dashboard show for one shop."""

    shop: str
    platform: str
    currency: str
    since: datetime
    until: datetime
    generated_at: datetime
    campaigns: tuple[CampaignResults, ...]
    leaks: tuple[Leak, ...]
    experiments: tuple[Experiment, ...]
    care: CareFigures
    #: Points standing (available and pending) and their value at the redemption rate.
    points_liability: int
    points_liability_value: Decimal
    failed_jobs: tuple[FailedJob, ...]
    surveys: SurveyFigures | None
    #: The shop's time zone (IANA name): the pages show the times of day in it.
    timezone: str = "UTC"
