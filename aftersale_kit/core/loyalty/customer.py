"""What a platform keeps of a customer's loyalty account, for the shop's theme to show.

:class:`CustomerLoyalty` is the neutral value of
:meth:`~..platform.Platform.write_customer_loyalty`: the spendable balance, the points still
pending, the tier and the way to the next one. An adapter stores
:meth:`CustomerLoyalty.to_json_value` where a theme can read it (an app-owned customer metafield,
a user meta). Standard library only; no I/O.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = ["CustomerLoyalty", "platform_customer_id"]

#: The account key of a guest (``email:<address>``): no platform customer to write to.
_GUEST_PREFIX = "email:"


def platform_customer_id(account: str | None) -> str | None:
    """The platform customer id of a loyalty account, or ``None`` for a guest (no id, an empty
    one, ``0``, or an ``email:`` account key): nothing to write on the platform then."""
    text = (account or "").strip()
    if not text or text == "0" or text.startswith(_GUEST_PREFIX):
        return None
    return text


@dataclass(frozen=True, slots=True)
class CustomerLoyalty:
    """A customer's points and tier as the theme shows them.

    ``balance`` is what can be spent now (below zero when points were reversed after they
    were spent); ``pending`` is earned but not yet released. ``to_next_tier`` is in the shop
    currency when ``tier_basis`` is ``spend``, in points when it is ``points``.
    """

    balance: int
    pending: int = 0
    tier: str | None = None
    next_tier: str | None = None
    to_next_tier: Decimal | None = None
    tier_basis: str | None = None
    currency: str = ""
    version: int = 1

    def to_json_value(self) -> dict[str, Any]:
        """The stored document (JSON-serialisable; amounts as strings)."""
        return {
            "version": self.version,
            "balance": self.balance,
            "pending": self.pending,
            "tier": self.tier,
            "next_tier": self.next_tier,
            "to_next_tier": str(self.to_next_tier) if self.to_next_tier is not None else None,
            "tier_basis": self.tier_basis,
            "currency": self.currency,
        }

    def to_json(self) -> str:
        """:meth:`to_json_value` as compact JSON with sorted keys (equal values, equal text)."""
        return json.dumps(
            self.to_json_value(), ensure_ascii=False, separators=(",", ":"), sort_keys=True
        )
