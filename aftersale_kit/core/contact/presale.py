"""The campaign action ``vip_presale``: invite a segment of customers to a pre-sale.

The campaign's ``when:`` is the segment (conditions over the customer, e.g.
``customer.orders_count >= 3``), evaluated when an order of the customer is decided, like
every campaign. A customer whose order fires the campaign is tagged on the platform (so the
shop can gate its pre-sale page by the tag) and gets one announcement e-mail, due when the
pre-sale starts (at once when it has started and not ended). Both happen once per customer and
pre-sale, however many of their orders fire the campaign.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .follow_up import Purpose

__all__ = ["VIP_TEMPLATE", "VipPresale", "announcement_due", "presale_key"]

#: The built-in announcement template.
VIP_TEMPLATE = "vip_presale"


@dataclass(frozen=True, slots=True)
class VipPresale:
    """A pre-sale from ``starts_at`` until ``ends_at`` (both aware), tagging with ``tag``."""

    name: str
    starts_at: datetime
    ends_at: datetime
    tag: str
    template: str = VIP_TEMPLATE
    purpose: Purpose = Purpose.MARKETING
    #: The pre-sale page (https), a button in the e-mail; ``None``: the e-mail has none.
    url: str | None = None
    #: Always ``None`` (the config has no ``variant:`` for it); every action has the field.
    variant: str | None = None

    def describe(self) -> str:
        return (
            f"VIP pre-sale {self.name!r} from {self.starts_at:%Y-%m-%d %H:%M %Z}: tag "
            f"{self.tag!r}, announcement {self.template!r} ({self.purpose.value})"
        )

    def summary(self) -> dict[str, Any]:
        """The action in JSON-ready values, named as in the config file."""
        return {
            "name": self.name,
            "starts": self.starts_at.isoformat(),
            "ends": self.ends_at.isoformat(),
            "tag": self.tag,
            "template": self.template,
            "purpose": self.purpose.value,
            "url": self.url,
            "variant": self.variant,
        }


def announcement_due(action: VipPresale, now: datetime) -> datetime | None:
    """When the announcement is due: the start, or ``now`` when the pre-sale is running;
    ``None`` once it has ended (an invitation to a past sale would only annoy)."""
    if now >= action.ends_at:
        return None
    return max(action.starts_at, now)


def presale_key(shop: str, campaign_id: str, customer: str) -> str:
    """The key of a customer's invitation (tag job and announcement): one per customer and
    pre-sale, not per order. ``customer`` is the engine's customer key (the platform id, or
    ``email:<address>`` for a guest)."""
    return f"{shop}:vip:{campaign_id}:{customer}"
