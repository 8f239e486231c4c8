"""The ``campaigns:`` list: each campaign's id, trigger, conditions, priority and group.

The gates (schedule, per-customer limit, budget, margin guard, split) are read in :mod:`.gates`,
the actions in :mod:`.actions`. Conditions are compiled here, and their fields checked against
the shop's platform, so that a config that loads cannot fail when an order arrives.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import yaml

from .. import registry
from ..campaign import Action, Campaign, RefundPolicy, SourceSpan
from ..conditions import Condition
from ..model import EventKind
from ..schema import ID_PATTERN, object_keys
from .actions import read_actions
from .checker import Entry
from .condition_text import read_conditions
from .context import ID_HELP, SYNONYMS, Context
from .gates import read_budget, read_margin_guard, read_per_customer, read_schedule, read_split

__all__ = ["read_campaigns"]

_TRIGGERS = tuple(k.value for k in EventKind)
_REFUND_POLICIES = tuple(p.value for p in RefundPolicy)

_T = TypeVar("_T")
#: Campaign ids seen so far, with the node that named each first.
_SeenIds = dict[str, yaml.Node]
#: ``(exclusive_group, priority)``: the campaign that holds it, and where.
_Groups = dict[tuple[str, int], tuple[str, yaml.Node]]


def read_campaigns(ctx: Context, node: yaml.Node) -> list[Campaign]:
    items = ctx.c.sequence(node, "campaigns", expected="a list of campaigns (- id: ...)")
    campaigns: list[Campaign] = []
    seen_ids: _SeenIds = {}
    groups: _Groups = {}
    for index, item in enumerate(items):
        campaign = _campaign(ctx, item, f"campaigns[{index}]", seen_ids=seen_ids, groups=groups)
        if campaign is not None:
            campaigns.append(campaign)
    return campaigns


def _optional(
    ctx: Context,
    e: dict[str, Entry],
    key: str,
    path: str,
    reader: Callable[[Context, yaml.Node, str], _T],
) -> _T | None:
    """``reader``'s value for ``key`` (at ``path.key``) if the campaign has it, else ``None``."""
    return reader(ctx, e[key].value, f"{path}.{key}") if key in e else None


def _campaign(
    ctx: Context, node: yaml.Node, path: str, *, seen_ids: _SeenIds, groups: _Groups
) -> Campaign | None:
    start = ctx.c.mark()
    c = ctx.c
    e = c.mapping(
        node,
        path,
        allowed=object_keys("campaign"),
        required=("id", "actions"),
        synonyms=SYNONYMS,
    )
    if e is None:
        return None
    cid = _campaign_id(ctx, e, path, seen_ids)
    ctx.campaign_id = cid
    description = _optional(ctx, e, "description", path, _text) or ""
    enabled = True
    if "enabled" in e:
        enabled = c.boolean(e["enabled"].value, f"{path}.enabled") is not False
    trigger = _trigger(ctx, e, path)
    ctx.trigger = trigger.value
    conditions = _when(ctx, e, path)
    priority = c.optional_integer(e, "priority", path, default=0)
    group = _exclusive_group(ctx, e, path, cid, priority, groups)
    window = _optional(ctx, e, "schedule", path, read_schedule)
    per_customer = _optional(ctx, e, "per_customer", path, read_per_customer)
    usage_limit = c.optional_integer(
        e, "usage_limit", path, default=None, minimum=1, expected="a whole number of at least 1"
    )
    budget = _optional(ctx, e, "budget", path, read_budget)
    guard = _optional(ctx, e, "margin_guard", path, read_margin_guard)
    split = _optional(ctx, e, "split", path, read_split)
    on_refund = _on_refund(ctx, e, path)
    actions: tuple[Action, ...] = ()
    if "actions" in e:
        actions = read_actions(ctx, e["actions"].value, f"{path}.actions", split=split)
    if not c.clean_since(start) or cid is None:
        return None
    mark = node.start_mark
    return Campaign(
        id=cid,
        actions=actions,
        description=description,
        enabled=enabled,
        trigger=trigger,
        conditions=conditions,
        priority=priority,
        exclusive_group=group,
        window=window,
        per_customer=per_customer,
        usage_limit=usage_limit,
        budget=budget,
        margin_guard=guard,
        split=split,
        on_refund=on_refund,
        source=SourceSpan(c.file, mark.line + 1, mark.column + 1),
    )


def _text(ctx: Context, node: yaml.Node, path: str) -> str | None:
    return ctx.c.text(node, path)


def _campaign_id(ctx: Context, e: dict[str, Entry], path: str, seen_ids: _SeenIds) -> str | None:
    """The campaign's id, unique in the file (a second use names the line of the first)."""
    if "id" not in e:
        return None
    id_node = e["id"].value
    cid = ctx.c.text(id_node, f"{path}.id", pattern=ID_PATTERN, pattern_help=ID_HELP)
    if cid is not None and cid in seen_ids:
        first = seen_ids[cid].start_mark.line + 1
        ctx.c.report(
            id_node,
            f"{path}.id",
            f"campaign id {cid!r} is used twice (first at line {first})",
        )
    elif cid is not None:
        seen_ids[cid] = id_node
    return cid


def _trigger(ctx: Context, e: dict[str, Entry], path: str) -> EventKind:
    if "trigger" not in e:
        return EventKind.ORDER_PAID
    node = e["trigger"].value
    value = ctx.c.choice(node, f"{path}.trigger", _TRIGGERS, what="trigger", synonyms=SYNONYMS)
    if value is not None and _delivered(ctx, node, f"{path}.trigger", value):
        return EventKind(value)
    return EventKind.ORDER_PAID


def _delivered(ctx: Context, node: yaml.Node, path: str, trigger: str) -> bool:
    """Whether the shop's platform delivers ``trigger`` at all (reported when not)."""
    spec = registry.find(ctx.platform or "")
    if spec is None or EventKind(trigger) in spec.triggers:
        return True
    known = [kind.value for kind in EventKind if kind in spec.triggers]
    note = spec.trigger_notes.get(EventKind(trigger))
    instead, why = (note[0].value, note[1]) if note is not None else (known[0], "")
    ctx.c.report(
        node,
        path,
        f"trigger {trigger!r} is never delivered on {ctx.platform} "
        f"({why + '; ' if why else ''}did you mean {instead!r}?); "
        f"expected one of {', '.join(known)}",
    )
    return False


def _on_refund(ctx: Context, e: dict[str, Entry], path: str) -> RefundPolicy:
    if "on_refund" not in e:
        return RefundPolicy.REEVALUATE
    value = ctx.c.choice(
        e["on_refund"].value, f"{path}.on_refund", _REFUND_POLICIES, what="refund policy"
    )
    return RefundPolicy(value) if value is not None else RefundPolicy.REEVALUATE


def _exclusive_group(
    ctx: Context,
    e: dict[str, Entry],
    path: str,
    cid: str | None,
    priority: int,
    groups: _Groups,
) -> str | None:
    """The campaign's exclusive group; two campaigns of a group need different priorities."""
    if "exclusive_group" not in e:
        return None
    group_node = e["exclusive_group"].value
    group = ctx.c.text(
        group_node, f"{path}.exclusive_group", pattern=ID_PATTERN, pattern_help=ID_HELP
    )
    if group is None or cid is None:
        return group
    where = e["priority"].value if "priority" in e else group_node
    other = groups.get((group, priority))
    if other is not None:
        ctx.c.report(
            where,
            f"{path}.priority",
            f"campaigns {other[0]!r} and {cid!r} are both in exclusive group "
            f"{group!r} with priority {priority}; give them different priorities so "
            "that it is clear which one wins",
        )
    else:
        groups[(group, priority)] = (cid, where)
    return group


# -- conditions ------------------------------------------------------------------------------


def _when(ctx: Context, e: dict[str, Entry], path: str) -> tuple[Condition, ...]:
    """``when:`` (or its older name ``conditions:``), never both."""
    if "when" in e and "conditions" in e:
        ctx.c.report(e["conditions"].key, path, "write the conditions under when: only, not twice")
        return ()
    if "when" in e or "conditions" in e:
        key = "when" if "when" in e else "conditions"
        return read_conditions(ctx, e[key].value, f"{path}.{key}")
    return ()
