"""What a platform keeps of a loyalty account for the theme, and which accounts have a customer."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from aftersale_kit.core.platform import CustomerLoyalty, platform_customer_id


@pytest.mark.parametrize(
    ("account", "customer"),
    [
        ("7391", "7391"),
        (" 7391 ", "7391"),
        ("gid://shopify/Customer/7391", "gid://shopify/Customer/7391"),
        (None, None),
        ("", None),
        ("0", None),
        ("email:gast@example.org", None),
    ],
)
def test_a_guest_account_has_no_platform_customer(
    account: str | None, customer: str | None
) -> None:
    assert platform_customer_id(account) == customer


def test_the_document_is_stable_json_with_amounts_as_text() -> None:
    value = CustomerLoyalty(
        balance=-20,
        pending=120,
        tier="Gold",
        next_tier=None,
        to_next_tier=None,
        tier_basis="spend",
        currency="EUR",
    )
    assert json.loads(value.to_json()) == {
        "version": 1,
        "balance": -20,
        "pending": 120,
        "tier": "Gold",
        "next_tier": None,
        "to_next_tier": None,
        "tier_basis": "spend",
        "currency": "EUR",
    }
    silver = CustomerLoyalty(balance=5, to_next_tier=Decimal("120.50"), tier_basis="spend")
    assert json.loads(silver.to_json())["to_next_tier"] == "120.50"
    # equal values write equal text (a repeat stores the same bytes)
    again = CustomerLoyalty(balance=5, to_next_tier=Decimal("120.50"), tier_basis="spend")
    assert silver.to_json() == again.to_json()
