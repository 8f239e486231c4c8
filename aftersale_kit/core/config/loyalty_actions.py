"""The campaign actions of the loyalty program: ``award_points`` and ``stamp``.

Both need the file's ``loyalty:`` section (read before the campaigns); ``stamp`` names one of
its stamp cards.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import yaml

from ..loyalty.actions import AwardPoints, Stamp
from ..schema import ID_PATTERN
from ..schema_loyalty import loyalty_keys
from .checker import Entry, did_you_mean
from .context import ID_HELP, Context, read_variant

__all__ = ["read_award_points", "read_stamp"]

_SCOPES = ("product_types", "categories", "products")


_NEEDS = {
    "award_points": "(at least loyalty: earn: points_per_unit: 1)",
    "stamp": "with the card under stamp_cards:",
}


def _needs_program(ctx: Context, node: yaml.Node, path: str, kind: str) -> bool:
    if ctx.loyalty_cards is not None:
        return True
    ctx.c.report(node, path, f"{kind} needs a loyalty: section in this file {_NEEDS[kind]}")
    return False


def _names(ctx: Context, e: dict[str, Entry], key: str, path: str) -> tuple[str, ...]:
    if key not in e:
        return ()
    list_path = f"{path}.{key}"
    names = []
    for index, item in enumerate(ctx.c.sequence(e[key].value, list_path)):
        name = ctx.c.text(item, f"{list_path}[{index}]", expected="a name")
        if name is not None:
            names.append(name)
    return tuple(names)


def read_award_points(
    ctx: Context, node: yaml.Node, path: str, variants: Sequence[str]
) -> AwardPoints | None:
    """``award_points: {multiplier: 2}`` or ``{points: 100}``, optionally for some lines."""
    start = ctx.c.mark()
    e = ctx.c.mapping(node, path, allowed=loyalty_keys("award_points"))
    if e is None or not _needs_program(ctx, node, path, "award_points"):
        return None
    multiplier: Decimal | None = None
    points: int | None = None
    if "multiplier" in e and "points" in e:
        ctx.c.report(
            e["points"].key, path, "write multiplier: or points:, not both (two actions for both)"
        )
    elif "multiplier" in e:
        multiplier = ctx.c.bounded(
            e["multiplier"].value,
            f"{path}.multiplier",
            expected="a factor above 0 (e.g. 2 for double points)",
            low=Decimal(0),
            low_inclusive=False,
        )
    elif "points" in e:
        points = ctx.c.integer(
            e["points"].value, f"{path}.points", minimum=1, expected="a whole number of points"
        )
    else:
        ctx.c.report(node, path, "write multiplier: 2 (double points) or points: 100")
    scopes = {key: _names(ctx, e, key, path) for key in _SCOPES}
    if points is not None and any(scopes.values()):
        key = next(k for k in _SCOPES if scopes[k])
        ctx.c.report(
            e[key].key,
            f"{path}.{key}",
            f"fixed points are for the whole order; {key} only limits a multiplier",
        )
    variant = read_variant(ctx, e, path, variants)
    if not ctx.c.clean_since(start):
        return None
    return AwardPoints(
        multiplier=multiplier,
        points=points,
        product_types=scopes["product_types"],
        categories=scopes["categories"],
        products=scopes["products"],
        variant=variant,
    )


def read_stamp(ctx: Context, node: yaml.Node, path: str, variants: Sequence[str]) -> Stamp | None:
    """``stamp: kabel-karte`` or ``stamp: {card: kabel-karte, variant: A}``."""
    start = ctx.c.mark()
    variant = None
    card_node = node
    card_path = path
    if not isinstance(node, yaml.ScalarNode):
        e = ctx.c.mapping(node, path, allowed=loyalty_keys("stamp"), required=("card",))
        if e is None or "card" not in e:
            return None
        card_node, card_path = e["card"].value, f"{path}.card"
        variant = read_variant(ctx, e, path, variants)
    card = ctx.c.text(card_node, card_path, pattern=ID_PATTERN, pattern_help=ID_HELP)
    if card is None or not _needs_program(ctx, node, path, "stamp"):
        return None
    cards = ctx.loyalty_cards or ()
    if card not in cards:
        known = ", ".join(cards) or "none"
        hint = did_you_mean(card, cards)
        ctx.c.report(
            card_node,
            card_path,
            f"unknown stamp card {card!r}{hint}; loyalty.stamp_cards has {known}",
        )
    if not ctx.c.clean_since(start):
        return None
    return Stamp(card=card, variant=variant)
