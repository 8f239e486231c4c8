"""The ``loyalty:`` section: earn rate, pending days, expiry, tiers, redemption, stamp cards.

Read before the campaigns (whose ``award_points`` and ``stamp`` actions need it); every mistake
is reported with its file:line:column, path and a suggestion, like the rest of the file.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TypeVar

import yaml

from ..loyalty.program import (
    CatalogueReward,
    Earn,
    EarnBasis,
    Expiry,
    GuestPolicy,
    LoyaltyProgram,
    RedemptionOption,
    RedemptionRules,
    Rounding,
    SpentRefundPolicy,
    Tier,
    TierBasis,
    TierRules,
)
from ..schema import ID_PATTERN
from ..schema_loyalty import loyalty_keys
from .checker import Entry, join_path
from .context import ID_HELP, Context, amount
from .stamp_cards import read_stamp_cards

__all__ = ["read_loyalty"]

_T = TypeVar("_T")
_P = "loyalty"


def _read(
    ctx: Context, e: dict[str, Entry], key: str, reader: Callable[[Context, yaml.Node, str], _T]
) -> _T | None:
    return reader(ctx, e[key].value, f"{_P}.{key}") if key in e else None


_WHAT = {"guests": "guest policy", "on_spent_refund": "policy", "basis": "basis"}


def _choice(ctx: Context, e: dict[str, Entry], key: str, path: str, values: list[str]) -> str:
    """The enum value under ``key`` (``values[0]``, the default, when missing or wrong)."""
    if key not in e:
        return values[0]
    what = _WHAT.get(key, key)
    return ctx.c.choice(e[key].value, f"{path}.{key}", values, what=what) or values[0]


def read_loyalty(ctx: Context, node: yaml.Node) -> LoyaltyProgram | None:
    start = ctx.c.mark()
    ctx.loyalty_cards = ()  # the section exists: award_points may be used, stamps need cards
    e = ctx.c.mapping(node, _P, allowed=loyalty_keys(), required=("earn",))
    if e is None:
        return None
    cards = _read(ctx, e, "stamp_cards", read_stamp_cards) or ()
    earn = _read(ctx, e, "earn", _earn)
    pending = ctx.c.optional_integer(
        e,
        "pending_days",
        _P,
        default=14,
        minimum=0,
        maximum=365,
        expected="a whole number of days from 0 to 365",
    )
    expiry = _read(ctx, e, "expiry", _expiry) or Expiry()
    tiers = _read(ctx, e, "tiers", _tiers)
    redemption = _read(ctx, e, "redeem", _redeem) or RedemptionRules()
    guests = _choice(ctx, e, "guests", _P, [GuestPolicy.NONE.value, GuestPolicy.EMAIL.value])
    spent = _choice(ctx, e, "on_spent_refund", _P, [p.value for p in SpentRefundPolicy])
    if not ctx.c.clean_since(start) or earn is None:
        return None
    return LoyaltyProgram(
        currency=ctx.currency or "",
        earn=earn,
        pending_days=pending,
        expiry=expiry,
        tiers=tiers,
        redemption=redemption,
        guests=GuestPolicy(guests),
        on_spent_refund=SpentRefundPolicy(spent),
        stamp_cards=cards,
    )


# -- earn --------------------------------------------------------------------------------------


def _factor(ctx: Context, node: yaml.Node, path: str) -> Decimal | None:
    return ctx.c.bounded(
        node,
        path,
        expected="a factor above 0 (e.g. 2 for double points)",
        low=Decimal(0),
        low_inclusive=False,
    )


def _factors(
    ctx: Context, e: dict[str, Entry], key: str, path: str
) -> tuple[tuple[str, Decimal], ...]:
    if key not in e:
        return ()
    here = f"{path}.{key}"
    items = ctx.c.mapping(e[key].value, here, allowed=None, expected="a mapping of name: factor")
    out = []
    for name, entry in (items or {}).items():
        factor = _factor(ctx, entry.value, join_path(here, name))
        if factor is not None:
            out.append((name, factor))
    return tuple(out)


def _earn(ctx: Context, node: yaml.Node, path: str) -> Earn | None:
    start = ctx.c.mark()
    e = ctx.c.mapping(node, path, allowed=loyalty_keys("earn"), required=("points_per_unit",))
    if e is None:
        return None
    rate = None
    if "points_per_unit" in e:
        rate = ctx.c.bounded(
            e["points_per_unit"].value,
            f"{path}.points_per_unit",
            expected=f"points per unit of {ctx.currency or 'the shop currency'} above 0 (e.g. 1)",
            low=Decimal(0),
            low_inclusive=False,
        )
    basis = _choice(ctx, e, "basis", path, [b.value for b in EarnBasis])
    rounding = _choice(ctx, e, "rounding", path, [r.value for r in Rounding])
    factors: dict[str, tuple[tuple[str, Decimal], ...]] = {}
    if "multipliers" in e:
        here = f"{path}.multipliers"
        m = ctx.c.mapping(e["multipliers"].value, here, allowed=loyalty_keys("earn", "multipliers"))
        for key in ("products", "categories", "product_types"):
            factors[key] = _factors(ctx, m or {}, key, here)
    if not ctx.c.clean_since(start) or rate is None:
        return None
    return Earn(
        rate=rate,
        basis=EarnBasis(basis),
        rounding=Rounding(rounding),
        products=factors.get("products", ()),
        categories=factors.get("categories", ()),
        product_types=factors.get("product_types", ()),
    )


# -- expiry, tiers -----------------------------------------------------------------------------


def _expiry(ctx: Context, node: yaml.Node, path: str) -> Expiry | None:
    e = ctx.c.mapping(node, path, allowed=loyalty_keys("expiry"))
    if e is None:
        return None
    if not e:
        ctx.c.report(node, path, "write lifetime_months: N and/or inactive_months: N")
        return None
    months = "a whole number of months from 1 to 120"
    lifetime = ctx.c.optional_integer(
        e, "lifetime_months", path, default=None, minimum=1, maximum=120, expected=months
    )
    inactive = ctx.c.optional_integer(
        e, "inactive_months", path, default=None, minimum=1, maximum=120, expected=months
    )
    return Expiry(lifetime_months=lifetime, inactive_months=inactive)


def _tiers(ctx: Context, node: yaml.Node, path: str) -> TierRules | None:
    start = ctx.c.mark()
    e = ctx.c.mapping(node, path, allowed=loyalty_keys("tiers"), required=("levels",))
    if e is None:
        return None
    basis = _choice(ctx, e, "basis", path, [b.value for b in TierBasis])
    window = ctx.c.optional_integer(
        e,
        "window_months",
        path,
        default=12,
        minimum=1,
        maximum=120,
        expected="a whole number of months from 1 to 120",
    )
    levels: list[Tier] = []
    if "levels" in e:
        items = ctx.c.sequence(e["levels"].value, f"{path}.levels", expected="a list of tiers")
        for index, item in enumerate(items):
            tier = _tier(ctx, item, f"{path}.levels[{index}]", levels)
            if tier is not None:
                levels.append(tier)
    if not ctx.c.clean_since(start) or not levels:
        return None
    return TierRules(basis=TierBasis(basis), window_months=window, levels=tuple(levels))


def _tier(ctx: Context, node: yaml.Node, path: str, before: list[Tier]) -> Tier | None:
    start = ctx.c.mark()
    e = ctx.c.mapping(
        node, path, allowed=loyalty_keys("tiers", "levels"), required=("name", "from", "multiplier")
    )
    if e is None:
        return None
    name = ctx.c.text(e["name"].value, f"{path}.name") if "name" in e else None
    low = None
    if "from" in e:
        low = amount(ctx, e["from"].value, f"{path}.from", allow_zero=True)
    factor = (
        _factor(ctx, e["multiplier"].value, f"{path}.multiplier") if "multiplier" in e else None
    )
    if name is not None and any(t.name == name for t in before):
        ctx.c.report(e["name"].value, f"{path}.name", f"tier {name!r} is named twice")
    if low is not None and before and low <= before[-1].threshold:
        ctx.c.report(
            e["from"].value,
            f"{path}.from",
            f"list the tiers from the lowest up: {low} is not above the {before[-1].name!r} "
            f"tier's {before[-1].threshold}",
        )
    if not ctx.c.clean_since(start) or name is None or low is None or factor is None:
        return None
    return Tier(name=name, threshold=low, multiplier=factor)


# -- redemption --------------------------------------------------------------------------------


def _redeem(ctx: Context, node: yaml.Node, path: str) -> RedemptionRules | None:
    start = ctx.c.mark()
    e = ctx.c.mapping(node, path, allowed=loyalty_keys("redeem"), required=("options",))
    if e is None:
        return None
    options: list[RedemptionOption] = []
    if "options" in e:
        items = ctx.c.sequence(e["options"].value, f"{path}.options", expected="a list of options")
        for index, item in enumerate(items):
            option = _option(ctx, item, f"{path}.options[{index}]", options)
            if option is not None:
                options.append(option)
    minimum = ctx.c.optional_integer(
        e, "minimum_balance", path, default=0, minimum=0, expected="a whole number of points"
    )
    share = None
    if "max_cart_share" in e:
        share = ctx.c.bounded(
            e["max_cart_share"].value,
            f"{path}.max_cart_share",
            expected="a share above 0 and at most 1 (e.g. 0.5 for half the cart)",
            low=Decimal(0),
            low_inclusive=False,
            high=Decimal(1),
        )
    if not ctx.c.clean_since(start):
        return None
    return RedemptionRules(options=tuple(options), minimum_balance=minimum, max_cart_share=share)


def _option(
    ctx: Context, node: yaml.Node, path: str, before: list[RedemptionOption]
) -> RedemptionOption | None:
    start = ctx.c.mark()
    e = ctx.c.mapping(
        node, path, allowed=loyalty_keys("redeem", "options"), required=("id", "points")
    )
    if e is None:
        return None
    oid = None
    if "id" in e:
        oid = ctx.c.text(e["id"].value, f"{path}.id", pattern=ID_PATTERN, pattern_help=ID_HELP)
        if oid is not None and any(o.id == oid for o in before):
            ctx.c.report(e["id"].value, f"{path}.id", f"option id {oid!r} is used twice")
    points = ctx.c.optional_integer(
        e, "points", path, default=0, minimum=1, expected="a whole number of points of 1 or more"
    )
    value, reward = _option_value(ctx, e, node, path)
    valid = ctx.c.optional_integer(
        e,
        "valid_days",
        path,
        default=90,
        minimum=1,
        maximum=3650,
        expected="a whole number of days from 1 to 3650",
    )
    if not ctx.c.clean_since(start) or oid is None:
        return None
    return RedemptionOption(oid, points, coupon_value=value, reward=reward, valid_days=valid)


def _option_value(
    ctx: Context, e: dict[str, Entry], node: yaml.Node, path: str
) -> tuple[Decimal | None, CatalogueReward | None]:
    """The option's coupon amount or catalogue reward: exactly one of them."""
    if "coupon" in e and "reward" in e:
        ctx.c.report(e["reward"].key, path, "an option is a coupon: or a reward:, not both")
        return None, None
    if "coupon" in e:
        return amount(ctx, e["coupon"].value, f"{path}.coupon"), None
    if "reward" not in e:
        ctx.c.report(
            node, path, "write coupon: 5 (a 5.00 coupon) or reward: {product: ..., title: ...}"
        )
        return None, None
    here = f"{path}.reward"
    r = ctx.c.mapping(
        e["reward"].value,
        here,
        allowed=loyalty_keys("redeem", "options", "reward"),
        required=("product", "title"),
    )
    if r is None or "product" not in r or "title" not in r:
        return None, None
    product = ctx.c.text(r["product"].value, f"{here}.product", expected="a product id")
    title = ctx.c.text(r["title"].value, f"{here}.title")
    cost = amount(ctx, r["cost"].value, f"{here}.cost", allow_zero=True) if "cost" in r else None
    if product is None or title is None:
        return None, None
    return None, CatalogueReward(product, title, cost or Decimal(0))
