"""A campaign's ``actions:``: ``issue_coupon``, ``show_block``, ``free_gift`` and ``tag_order``.

Each reader takes the action's node, its path and the split's variant names (an action may be
limited to one variant). Blocks are read in :mod:`.show_block`; once all actions are read, a
block that shows a coupon or gift is checked against the campaign's other actions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from decimal import Decimal

import yaml

from ..campaign import Action, CouponKind, FreeGift, IssueCoupon, ShowBlock, Split, TagOrder
from ..schema import object_keys
from .checker import Entry
from .context import SYNONYMS, Context, amount, read_variant
from .follow_up import read_follow_up
from .loyalty_actions import read_award_points, read_stamp
from .presale import read_vip_presale
from .show_block import block_needs, read_show_block

__all__ = ["read_actions"]

_CODE_PREFIX = re.compile(r"^[A-Za-z0-9_-]{0,20}$")
_COUPON_KINDS = tuple(k.value for k in CouponKind)
_COUPON_TYPE_SYNONYMS = {k: v for k, v in SYNONYMS.items() if v in _COUPON_KINDS}

_Reader = Callable[[Context, yaml.Node, str, Sequence[str]], Action | None]


def read_actions(
    ctx: Context, node: yaml.Node, path: str, *, split: Split | None
) -> tuple[Action, ...]:
    items = ctx.c.sequence(node, path, expected="a list of actions (- issue_coupon: ...)")
    if isinstance(node, yaml.SequenceNode) and not items:
        ctx.c.report(node, path, "a campaign needs at least one action")
    variants = tuple(name for name, _ in split.variants) if split is not None else ()
    actions: list[Action] = []
    block_nodes: list[tuple[ShowBlock, yaml.Node, str]] = []
    for index, item in enumerate(items):
        item_path = f"{path}[{index}]"
        single = _single_action(ctx, item, item_path)
        if single is None:
            continue
        kind, entry = single
        reader = _READERS.get(kind)  # an unknown kind is reported by the mapping check
        if reader is None:
            continue
        kind_path = f"{item_path}.{kind}"
        action = reader(ctx, entry.value, kind_path, variants)
        if isinstance(action, ShowBlock):
            block_nodes.append((action, entry.value, kind_path))
        if action is not None:
            actions.append(action)
    for block, block_node, block_path in block_nodes:
        block_needs(ctx, block, block_node, block_path, actions, variants)
    return tuple(actions)


def _single_action(ctx: Context, item: yaml.Node, path: str) -> tuple[str, Entry] | None:
    """The one ``kind: {...}`` of a list item, or ``None`` (reported)."""
    e = ctx.c.mapping(
        item,
        path,
        allowed=tuple(_READERS),
        synonyms=SYNONYMS,
        expected="an action such as '- issue_coupon: {...}'",
    )
    if not e:
        if e is not None:
            ctx.c.report(item, path, "empty action")
        return None
    if len(e) > 1:
        second = list(e.values())[1].key
        ctx.c.report(
            second,
            path,
            f"one action per list item; start {second.value!r} with '- ' on its own line",
        )
        return None
    return next(iter(e.items()))


# -- issue_coupon ----------------------------------------------------------------------------


def _issue_coupon(
    ctx: Context, node: yaml.Node, path: str, variants: Sequence[str]
) -> IssueCoupon | None:
    start = ctx.c.mark()
    c = ctx.c
    e = c.mapping(node, path, allowed=object_keys("issue_coupon"), required=("type",))
    if e is None:
        return None
    kind = _coupon_kind(ctx, e, path)
    value = _coupon_value(ctx, e, node, path, kind)
    valid_days = c.optional_integer(
        e,
        "valid_days",
        path,
        default=30,
        minimum=1,
        maximum=3650,
        expected="a whole number of days from 1 to 3650",
    )
    minimum = None
    if "minimum_order" in e:
        minimum = amount(ctx, e["minimum_order"].value, f"{path}.minimum_order")
    single_use = _flag(ctx, e, "single_use", path)
    restrict = _flag(ctx, e, "restrict_to_email", path)
    prefix = _code_prefix(ctx, e, path)
    length = c.optional_integer(
        e,
        "code_length",
        path,
        default=8,
        minimum=6,
        maximum=32,
        expected="a whole number from 6 to 32",
    )
    products = _names(ctx, e, "products", path, "a product id")
    collections = _names(ctx, e, "collections", path, "a collection handle")
    estimated = _estimated_value(ctx, e, path, kind)
    variant = read_variant(ctx, e, path, variants)
    if not c.clean_since(start) or kind is None:
        return None
    return IssueCoupon(
        kind=kind,
        value=value,
        valid_days=valid_days,
        minimum_order=minimum,
        single_use=single_use,
        restrict_to_email=restrict,
        code_prefix=prefix,
        code_length=length,
        product_ids=products,
        collections=collections,
        estimated_value=estimated,
        variant=variant,
    )


def _coupon_kind(ctx: Context, e: dict[str, Entry], path: str) -> CouponKind | None:
    if "type" not in e:
        return None
    value = ctx.c.choice(
        e["type"].value,
        f"{path}.type",
        _COUPON_KINDS,
        what="coupon type",
        synonyms=_COUPON_TYPE_SYNONYMS,
    )
    return CouponKind(value) if value is not None else None


def _coupon_value(
    ctx: Context, e: dict[str, Entry], node: yaml.Node, path: str, kind: CouponKind | None
) -> Decimal:
    """Percent or amount off; free shipping has none (0 when missing or wrong: reported)."""
    if kind is CouponKind.FREE_SHIPPING and "value" in e:
        ctx.c.report(
            e["value"].key, f"{path}.value", "free_shipping coupons have no value; remove it"
        )
        return Decimal(0)
    if kind is None or kind is CouponKind.FREE_SHIPPING:
        return Decimal(0)
    if "value" not in e:
        what = "percent off" if kind is CouponKind.PERCENTAGE else "amount off"
        ctx.c.report(node, path, f"missing required key 'value' (the {what})")
        return Decimal(0)
    if kind is CouponKind.PERCENTAGE:
        return ctx.c.bounded(
            e["value"].value,
            f"{path}.value",
            expected="a percentage above 0 and at most 100",
            low=Decimal(0),
            low_inclusive=False,
            high=Decimal(100),
        ) or Decimal(0)
    return amount(ctx, e["value"].value, f"{path}.value") or Decimal(0)


def _flag(ctx: Context, e: dict[str, Entry], key: str, path: str) -> bool:
    """A yes/no setting that is on unless written ``false``."""
    if key not in e:
        return True
    return ctx.c.boolean(e[key].value, f"{path}.{key}") is not False


def _code_prefix(ctx: Context, e: dict[str, Entry], path: str) -> str:
    if "code_prefix" not in e:
        return ""
    prefix = ctx.c.text(
        e["code_prefix"].value,
        f"{path}.code_prefix",
        pattern=_CODE_PREFIX.pattern,
        pattern_help="at most 20 letters, digits, - and _",
    )
    return prefix or ""


def _names(ctx: Context, e: dict[str, Entry], key: str, path: str, what: str) -> tuple[str, ...]:
    """The list under ``key`` (product ids, collection handles), empty when not written."""
    if key not in e:
        return ()
    list_path = f"{path}.{key}"
    names = []
    for index, item in enumerate(ctx.c.sequence(e[key].value, list_path)):
        name = ctx.c.text(item, f"{list_path}[{index}]", expected=what)
        if name is not None:
            names.append(name)
    return tuple(names)


def _estimated_value(
    ctx: Context, e: dict[str, Entry], path: str, kind: CouponKind | None
) -> Decimal | None:
    if "estimated_value" not in e:
        return None
    if kind is not None and kind is not CouponKind.FREE_SHIPPING:
        ctx.c.report(
            e["estimated_value"].key,
            f"{path}.estimated_value",
            "estimated_value is only for free_shipping coupons",
        )
        return None
    return amount(ctx, e["estimated_value"].value, f"{path}.estimated_value")


# -- free_gift, tag_order --------------------------------------------------------------------


def _free_gift(
    ctx: Context, node: yaml.Node, path: str, variants: Sequence[str]
) -> FreeGift | None:
    start = ctx.c.mark()
    e = ctx.c.mapping(node, path, allowed=object_keys("free_gift"), required=("note",))
    if e is None:
        return None
    note = ctx.c.text(e["note"].value, f"{path}.note") if "note" in e else None
    tag = "free-gift"
    if "tag" in e:
        tag = _tag(ctx, e["tag"].value, f"{path}.tag") or tag
    cost = Decimal(0)
    if "cost" in e:
        cost = amount(ctx, e["cost"].value, f"{path}.cost", allow_zero=True) or cost
    variant = read_variant(ctx, e, path, variants)
    if not ctx.c.clean_since(start) or note is None:
        return None
    return FreeGift(note=note, tag=tag, cost=cost, variant=variant)


def _tag(ctx: Context, node: yaml.Node, path: str) -> str | None:
    tag = ctx.c.text(node, path, expected="a tag")
    if tag is not None and "," in tag:
        ctx.c.report(node, path, "a tag cannot contain commas; add one tag_order per tag")
        return None
    return tag.strip() if tag is not None else None


def _tag_order(
    ctx: Context, node: yaml.Node, path: str, variants: Sequence[str]
) -> TagOrder | None:
    if isinstance(node, yaml.ScalarNode):
        tag = _tag(ctx, node, path)
        return TagOrder(tag=tag) if tag is not None else None
    start = ctx.c.mark()
    e = ctx.c.mapping(node, path, allowed=object_keys("tag_order"), required=("tag",))
    if e is None or "tag" not in e:
        return None
    tag = _tag(ctx, e["tag"].value, f"{path}.tag")
    variant = read_variant(ctx, e, path, variants)
    if not ctx.c.clean_since(start) or tag is None:
        return None
    return TagOrder(tag=tag, variant=variant)


#: The action kinds, in the order the schema lists them, and their readers.
_READERS: dict[str, _Reader] = {
    "issue_coupon": _issue_coupon,
    "show_block": read_show_block,
    "free_gift": _free_gift,
    "tag_order": _tag_order,
    "award_points": read_award_points,
    "stamp": read_stamp,
    "follow_up": read_follow_up,
    "vip_presale": read_vip_presale,
}
