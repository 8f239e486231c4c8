"""The stamp cards of the ``loyalty:`` section: ``loyalty.stamp_cards``.

Each card's ``when`` is compiled with the campaigns' condition compiler (and its fields checked
against the shop's platform); its ``reward`` is read as a campaign's actions, limited to
``issue_coupon`` and ``free_gift``. The card ids are known to the campaigns' ``stamp`` actions.
"""

from __future__ import annotations

import yaml

from ..campaign import FreeGift, IssueCoupon
from ..loyalty.program import StampCard
from ..schema import ID_PATTERN
from ..schema_loyalty import loyalty_keys
from .actions import read_actions
from .condition_text import read_conditions
from .context import ID_HELP, Context

__all__ = ["read_stamp_cards"]

_REWARD_KINDS = ("issue_coupon", "free_gift")


def read_stamp_cards(ctx: Context, node: yaml.Node, path: str) -> tuple[StampCard, ...]:
    items = ctx.c.sequence(node, path, expected="a list of stamp cards (- id: ...)")
    ids: list[str] = []
    for item in items:  # the ids first: the campaigns' stamp actions are checked against them
        if isinstance(item, yaml.MappingNode):
            ids += [
                str(v.value)
                for k, v in item.value
                if isinstance(k, yaml.ScalarNode)
                and k.value == "id"
                and isinstance(v, yaml.ScalarNode)
            ]
    ctx.loyalty_cards = tuple(ids)
    cards: list[StampCard] = []
    for index, item in enumerate(items):
        card = _stamp_card(ctx, item, f"{path}[{index}]", cards)
        if card is not None:
            cards.append(card)
    return tuple(cards)


def _stamp_card(
    ctx: Context, node: yaml.Node, path: str, before: list[StampCard]
) -> StampCard | None:
    start = ctx.c.mark()
    e = ctx.c.mapping(
        node, path, allowed=loyalty_keys("stamp_cards"), required=("id", "stamps", "reward")
    )
    if e is None:
        return None
    cid = None
    if "id" in e:
        cid = ctx.c.text(e["id"].value, f"{path}.id", pattern=ID_PATTERN, pattern_help=ID_HELP)
        if cid is not None and any(c.id == cid for c in before):
            ctx.c.report(e["id"].value, f"{path}.id", f"stamp card id {cid!r} is used twice")
    name = (ctx.c.text(e["name"].value, f"{path}.name") if "name" in e else None) or cid or ""
    conditions = read_conditions(ctx, e["when"].value, f"{path}.when") if "when" in e else ()
    stamps = ctx.c.optional_integer(
        e,
        "stamps",
        path,
        default=0,
        minimum=2,
        maximum=100,
        expected="a whole number of stamps from 2 to 100",
    )
    window = ctx.c.optional_integer(
        e,
        "window_days",
        path,
        default=None,
        minimum=1,
        maximum=3650,
        expected="a whole number of days from 1 to 3650",
    )
    reward = _reward(ctx, e["reward"].value, f"{path}.reward") if "reward" in e else ()
    if not ctx.c.clean_since(start) or cid is None or not reward:
        return None
    return StampCard(cid, name, stamps, reward, conditions=conditions, window_days=window)


def _reward(ctx: Context, node: yaml.Node, path: str) -> tuple[IssueCoupon | FreeGift, ...]:
    """The card's reward: ``issue_coupon`` and ``free_gift`` actions, as in a campaign."""
    if not isinstance(node, yaml.SequenceNode):
        ctx.c.sequence(node, path, expected="a list of actions (- issue_coupon: ...)")
        return ()
    kept = []
    for index, item in enumerate(node.value):
        kinds = item.value if isinstance(item, yaml.MappingNode) else []
        wrong = [
            k for k, _ in kinds if isinstance(k, yaml.ScalarNode) and k.value not in _REWARD_KINDS
        ]
        if wrong:
            ctx.c.report(
                wrong[0],
                f"{path}[{index}]",
                f"a stamp card's reward is issue_coupon or free_gift, not {wrong[0].value!r}",
            )
            continue
        kept.append(item)
    if len(kept) < len(node.value):
        return ()
    actions = read_actions(ctx, node, path, split=None)
    return tuple(a for a in actions if isinstance(a, IssueCoupon | FreeGift))
