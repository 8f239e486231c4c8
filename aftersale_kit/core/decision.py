"""The engine's output: what fires, what it costs, and why every campaign did or did not fire."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from .campaign import Action
from .model import EventKind
from .money import Money

__all__ = ["Decision", "Outcome", "PlannedAction", "Reason"]


class Reason(StrEnum):
    FIRED = "fired"
    DISABLED = "disabled"
    OTHER_TRIGGER = "other_trigger"
    OUTSIDE_WINDOW = "outside_window"
    CONDITION_FAILED = "condition_failed"
    FIELD_UNKNOWN = "field_unknown"
    CUSTOMER_LIMIT = "customer_limit"
    COOLDOWN = "cooldown"
    USAGE_LIMIT = "usage_limit"
    BUDGET_EXHAUSTED = "budget_exhausted"
    MARGIN_GUARD = "margin_guard"
    LOST_TO_PRIORITY = "lost_to_priority"
    CONTACT_LIMIT = "contact_limit"
    HOLDOUT = "holdout"
    NO_ACTIONS = "no_actions"


@dataclass(frozen=True, slots=True)
class Outcome:
    """Why one campaign did or did not fire, in words a shop owner reads."""

    campaign_id: str
    fired: bool
    reason: Reason
    detail: str
    variant: str | None = None


@dataclass(frozen=True, slots=True)
class PlannedAction:
    """An action to carry out, with the key that makes carrying it out idempotent."""

    campaign_id: str
    action: Action
    #: ``shop:order:campaign:index``: unique per (shop, order, campaign, action).
    idempotency_key: str
    cost: Money
    coupon_code: str | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    shop: str
    order_id: str
    event: EventKind
    decided_at: datetime
    outcomes: tuple[Outcome, ...]
    actions: tuple[PlannedAction, ...]

    @property
    def fired(self) -> tuple[str, ...]:
        return tuple(o.campaign_id for o in self.outcomes if o.fired)

    def outcome(self, campaign_id: str) -> Outcome | None:
        for o in self.outcomes:
            if o.campaign_id == campaign_id:
                return o
        return None
