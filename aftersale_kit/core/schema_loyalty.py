"""The JSON Schema of the ``loyalty:`` section and of the actions ``award_points`` and ``stamp``.

Merged into :mod:`aftersale_kit.core.schema`; the loyalty reader
(:mod:`aftersale_kit.core.config.loyalty`) takes its allowed keys from here (:func:`loyalty_keys`),
so the two cannot drift apart.
"""

from __future__ import annotations

import functools
from typing import Any

from .loyalty.program import EarnBasis, GuestPolicy, Rounding, SpentRefundPolicy, TierBasis

__all__ = ["LOYALTY_ACTION_SCHEMAS", "loyalty_keys", "loyalty_schema"]

_ID = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
_NUMBER_TEXT = r"^[0-9]+(\.[0-9]+)?$"


def _obj(description: str, properties: dict[str, Any], *required: str) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "description": description,
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = list(required)
    return schema


def _number(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "anyOf": [
            {"type": "number", "exclusiveMinimum": 0},
            {"type": "string", "pattern": _NUMBER_TEXT},
        ],
    }


def _int(description: str, minimum: int = 0) -> dict[str, Any]:
    return {"type": "integer", "description": description, "minimum": minimum}


def _enum(description: str, values: list[str]) -> dict[str, Any]:
    return {"type": "string", "description": description, "enum": values}


def _factors(what: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": f"Multiplier per {what}, e.g. 2 for double points.",
        "additionalProperties": _number("The factor."),
    }


def _names(description: str) -> dict[str, Any]:
    return {
        "type": "array",
        "description": description,
        "items": {"type": ["string", "integer"]},
    }


def _earn() -> dict[str, Any]:
    return _obj(
        "How orders earn points.",
        {
            "points_per_unit": _number(
                "Points per unit of the shop currency (e.g. 1 point per euro)."
            ),
            "basis": _enum(
                "merchandise (default): line values after discounts, without shipping; "
                "merchandise_net_of_tax: the same without the order's tax (prices with VAT).",
                [b.value for b in EarnBasis],
            ),
            "rounding": _enum(
                "How an order's points are rounded (default down).", [r.value for r in Rounding]
            ),
            "multipliers": _obj(
                "Lines that earn more (the highest matching factor counts).",
                {
                    "products": _factors("product id or SKU"),
                    "categories": _factors("collection handle or category slug"),
                    "product_types": _factors("product type"),
                },
            ),
        },
        "points_per_unit",
    )


def _tiers() -> dict[str, Any]:
    level = _obj(
        "One tier.",
        {
            "name": {"type": "string", "description": "The tier's name, e.g. Gold."},
            "from": _number("Spend (shop currency) or points in the window that reach it."),
            "multiplier": _number("Earn rate factor; replaces the base rate (1.5: +50 %)."),
        },
        "name",
        "from",
        "multiplier",
    )
    return _obj(
        "Tiers by rolling spend or points; a tier's rate replaces the base rate.",
        {
            "basis": _enum("spend or points.", [b.value for b in TierBasis]),
            "window_months": _int("The rolling window in months (default 12).", 1),
            "levels": {
                "type": "array",
                "description": "The tiers, from the lowest up.",
                "minItems": 1,
                "items": level,
            },
        },
        "levels",
    )


def _redeem() -> dict[str, Any]:
    option = _obj(
        "What the points buy: a coupon of a fixed amount, or a reward from the catalogue.",
        {
            "id": {"type": "string", "pattern": _ID, "description": "The option's name."},
            "points": _int("Points it costs.", 1),
            "coupon": _number("A fixed-amount coupon of this value (shop currency)."),
            "reward": _obj(
                "A product free with the next order (eine Prämie).",
                {
                    "product": {"type": ["string", "integer"], "description": "Product id."},
                    "title": {"type": "string", "description": "What the customer sees."},
                    "cost": _number("What it costs you (for the liability report)."),
                },
                "product",
                "title",
            ),
            "valid_days": _int("Days the coupon stays valid (default 90).", 1),
        },
        "id",
        "points",
    )
    return _obj(
        "Redemption options and limits.",
        {
            "options": {
                "type": "array",
                "description": "What customers can redeem their points for.",
                "minItems": 1,
                "items": option,
            },
            "minimum_balance": _int("Points needed before anything can be redeemed."),
            "max_cart_share": {
                "type": "number",
                "description": "At most this share (0 to 1) of a cart is paid with points.",
                "exclusiveMinimum": 0,
                "maximum": 1,
            },
        },
        "options",
    )


def _stamp_card() -> dict[str, Any]:
    return _obj(
        "A collection: after N qualifying orders the customer gets a reward once.",
        {
            "id": {"type": "string", "pattern": _ID, "description": "The card's name."},
            "name": {"type": "string", "description": "What customers see, e.g. Sammelkarte."},
            "when": {
                "description": "Conditions an order must meet to earn a stamp.",
                "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
            },
            "stamps": _int("Stamps needed.", 2),
            "window_days": _int("Days in which the stamps must be collected.", 1),
            "reward": {
                "type": "array",
                "description": "issue_coupon or free_gift actions, as in a campaign.",
                "minItems": 1,
                "items": {"$ref": "#/$defs/action"},
            },
        },
        "id",
        "stamps",
        "reward",
    )


@functools.cache
def loyalty_schema() -> dict[str, Any]:
    return _obj(
        "The bonus program: points, tiers, redemption and stamp cards.",
        {
            "guests": _enum(
                "email: guest orders earn on their e-mail address; none (default): only "
                "customer accounts earn.",
                [g.value for g in GuestPolicy],
            ),
            "earn": _earn(),
            "pending_days": _int(
                "Days points stay pending (the return window) before they can be spent "
                "(default 14).",
            ),
            "expiry": _obj(
                "When points expire (default never).",
                {
                    "lifetime_months": _int("Months after they were earned.", 1),
                    "inactive_months": _int("Months after the customer's last order.", 1),
                },
            ),
            "tiers": _tiers(),
            "redeem": _redeem(),
            "on_spent_refund": _enum(
                "A refund of points already spent: negative_balance (default) or "
                "deactivate_coupon (unused redemption coupons first).",
                [p.value for p in SpentRefundPolicy],
            ),
            "stamp_cards": {
                "type": "array",
                "description": "Stamp cards (collections) that campaigns stamp.",
                "items": _stamp_card(),
            },
        },
        "earn",
    )


def _award_points() -> dict[str, Any]:
    return _obj(
        "Bonus points for this order: a multiplier (2 = double points) or fixed points.",
        {
            "multiplier": _number("Factor on the points the lines earn."),
            "points": _int("Fixed bonus points.", 1),
            "product_types": _names("Only lines of these product types."),
            "categories": _names("Only lines in these collections or categories."),
            "products": _names("Only these product ids or SKUs."),
            "variant": {"type": "string", "pattern": _ID, "description": "Only in this variant."},
        },
    )


def _stamp() -> dict[str, Any]:
    long_form = _obj(
        "A stamp on a stamp card of loyalty.stamp_cards.",
        {
            "card": {"type": "string", "pattern": _ID, "description": "The card's id."},
            "variant": {"type": "string", "pattern": _ID, "description": "Only in this variant."},
        },
        "card",
    )
    return {
        "description": long_form["description"],
        "anyOf": [{"type": "string", "description": "The card's id."}, long_form],
    }


LOYALTY_ACTION_SCHEMAS = {"award_points": _award_points, "stamp": _stamp}


def loyalty_keys(*path: str) -> tuple[str, ...]:
    """The keys allowed at ``path`` below ``loyalty`` (list items are entered by their name):
    ``loyalty_keys("tiers", "levels")``; the actions by their kind: ``loyalty_keys("stamp")``."""
    node: dict[str, Any]
    if path and path[0] in LOYALTY_ACTION_SCHEMAS:
        node = LOYALTY_ACTION_SCHEMAS[path[0]]()
        path = path[1:]
    else:
        node = loyalty_schema()
    for name in path:
        node = node["properties"][name]
        node = node.get("items", node)
    if "properties" not in node:
        node = next(o for o in node.get("anyOf", ()) if "properties" in o)
    return tuple(node["properties"])
