"""The figures of one backtest run: the contract between the replay and the report.

Money is :class:`~decimal.Decimal` in the shop's currency; months are ``"YYYY-MM"`` in the shop's
time zone; every mapping is ordered as it should be shown. The replay fills these in; the report
(HTML, JSON, CSV) only renders them, and ``--compare`` renders two of them side by side.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from .history import BadRow

__all__ = [
    "BacktestResult",
    "BudgetUse",
    "CampaignFigures",
    "ContactFigures",
    "LoyaltyFigures",
    "MonthFigures",
    "OrderCost",
]


@dataclass(frozen=True, slots=True)
class BudgetUse:
    """One budget period of a campaign with a budget: what it would have spent of what it had.

    ``exhausted``: at least one decision in the period was refused for the budget
    (``refused`` of them), i.e. the budget ran out in this period.
    """

    start: datetime
    end: datetime
    budget: Decimal
    spent: Decimal
    refused: int = 0

    @property
    def exhausted(self) -> bool:
        return self.refused > 0


@dataclass(frozen=True, slots=True)
class MonthFigures:
    """A campaign's month: orders it fired on, the face value issued and the expected cost."""

    month: str
    orders: int
    face_value: Decimal
    expected_cost: Decimal


@dataclass(frozen=True, slots=True)
class CampaignFigures:
    """What one campaign would have done over the history.

    ``face_value``: the planned actions' cost as the engine prices them (coupon amounts, gifts at
    cost, points at their money value), before take-backs. ``expected_cost``: coupons at the
    assumed redemption rate plus gifts and points in full, after take-backs (a coupon taken back
    by a refund or cancellation costs nothing). ``hits``: why it did not fire, as
    :class:`~aftersale_kit.core.decision.Reason` values (``"budget_exhausted"``,
    ``"margin_guard"``, ``"customer_limit"``, ``"usage_limit"``, ``"cooldown"``,
    ``"lost_to_priority"``, ``"contact_limit"``, ``"holdout"``, ...) with their counts; conditions
    that did not hold are counted as ``"condition_failed"``.
    """

    campaign_id: str
    name: str
    orders: int
    customers: int
    coupons: int
    points: int
    gifts: int
    follow_ups: int
    face_value: Decimal
    expected_cost: Decimal
    taken_back: int
    hits: Mapping[str, int] = field(default_factory=dict)
    budget: tuple[BudgetUse, ...] = ()
    months: tuple[MonthFigures, ...] = ()
    #: The A/B variants and how many orders each got (empty without a split).
    variants: Mapping[str, int] = field(default_factory=dict)

    @property
    def exhausted_periods(self) -> tuple[BudgetUse, ...]:
        return tuple(b for b in self.budget if b.exhausted)


@dataclass(frozen=True, slots=True)
class ContactFigures:
    """Contacts (follow-up messages) per customer against the shop's contact policy.

    ``per_customer`` maps a number of contacts to how many customers got that many (a
    histogram). ``cap`` and ``window_days``: the policy's marketing cap (``None``: no cap).
    ``held_back`` counts messages the policy held back, by its rule's name.
    """

    per_customer: Mapping[int, int]
    cap: int | None = None
    window_days: int | None = None
    sent: int = 0
    held_back: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LoyaltyFigures:
    """The bonus program over the history (all zero without a ``loyalty:`` section)."""

    accounts: int = 0
    points_earned: int = 0
    points_reversed: int = 0
    stamp_rewards: int = 0
    #: Points still standing at the end, valued at the program's redemption rate.
    liability: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class OrderCost:
    """One order and what the campaigns would have given on it (expected cost)."""

    order_id: str
    number: str
    customer: str | None
    placed_at: datetime
    cost: Decimal
    campaigns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BacktestResult:
    """One run over one config and one order history."""

    shop: str
    currency: str
    config: str
    redemption_rate: Decimal
    since: datetime | None
    until: datetime | None
    #: The first and last order replayed (``None`` when none was).
    first_order: datetime | None
    last_order: datetime | None
    orders: int
    customers: int
    events: int
    campaigns: tuple[CampaignFigures, ...]
    contacts: ContactFigures
    loyalty: LoyaltyFigures
    #: The ten orders that would have cost the most, most expensive first.
    top_orders: tuple[OrderCost, ...]
    #: The first bad rows (at most 100) and how many there were in all.
    bad_rows: tuple[BadRow, ...] = ()
    bad_count: int = 0
    #: The orders read in all, also those outside ``--since``/``--until`` (``None``: not
    #: counted, as when a result is made without reading files).
    read: int | None = None
    #: Every month of the history, in order (the charts' x axis).
    months: tuple[str, ...] = ()
