"""The ``show_block`` action: a block name and its parameters, checked against :mod:`..blocks`.

Block and parameter names are known to the core; the values' shapes are checked by the optional
:data:`~.context.ParamCheck` the content layer passes in. A block that shows the campaign's
coupon or gift needs that action, in the same split variant (:func:`block_needs`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

from ..blocks import BLOCKS, check_block
from ..campaign import Action, FreeGift, IssueCoupon, ShowBlock
from ..schema import object_keys
from .checker import Entry, join_path
from .context import SYNONYMS, Context, read_variant

__all__ = ["block_needs", "read_show_block"]


def read_show_block(
    ctx: Context, node: yaml.Node, path: str, variants: Sequence[str]
) -> ShowBlock | None:
    start = ctx.c.mark()
    if isinstance(node, yaml.ScalarNode):
        name = ctx.c.text(node, path, expected="a block name")
        if name is None:
            return None
        _check_block(
            ctx, name, {}, name_node=node, params_node=node, path=path, entries={}, has_params=False
        )
        return ShowBlock(block=name) if ctx.c.clean_since(start) else None
    e = ctx.c.mapping(
        node, path, allowed=object_keys("show_block"), required=("block",), synonyms=SYNONYMS
    )
    if e is None or "block" not in e:
        return None
    name_node = e["block"].value
    name = ctx.c.text(name_node, f"{path}.block", expected="a block name")
    params: dict[str, Any] = {}
    entries: dict[str, Entry] = {}
    params_node: yaml.Node = node
    if "params" in e:
        params_node = e["params"].value
        entries = ctx.c.mapping(params_node, f"{path}.params", allowed=None) or {}
        params = {key: ctx.c.plain_value(entry.value) for key, entry in entries.items()}
    variant = read_variant(ctx, e, path, variants)
    if name is None:
        return None
    _check_block(
        ctx,
        name,
        params,
        name_node=name_node,
        params_node=params_node,
        path=path,
        entries=entries,
        has_params="params" in e,
    )
    if not ctx.c.clean_since(start):
        return None
    return ShowBlock(block=name, params=tuple(params.items()), variant=variant)


def _check_block(
    ctx: Context,
    name: str,
    params: dict[str, Any],
    *,
    name_node: yaml.Node,
    params_node: yaml.Node,
    path: str,
    entries: dict[str, Entry],
    has_params: bool,
) -> None:
    problems = check_block(name, params)
    params_path = f"{path}.params" if has_params else path
    for param, message in problems:
        if param and param in entries:
            _report_param(ctx, entries[param], param, path, message)
        elif name not in BLOCKS:
            name_path = path if isinstance(params_node, yaml.ScalarNode) else f"{path}.block"
            ctx.c.report(name_node, name_path, message)
        else:
            ctx.c.report(params_node, params_path, message)
    if problems or ctx.param_check is None:
        return
    for param, message in ctx.param_check(tuple(params.items())):
        found_entry = entries.get(param)
        at = found_entry.value if found_entry is not None else params_node
        ctx.c.report(at, join_path(params_path, param), message)


def _report_param(ctx: Context, entry: Entry, param: str, path: str, message: str) -> None:
    """A problem with one named parameter, at its key."""
    if " " in param and isinstance(entry.value, yaml.ScalarNode) and not entry.value.value:
        message += " (inside {...}, put a text that contains a comma in quotes)"
    ctx.c.report(entry.key, join_path(f"{path}.params", param), message)


def block_needs(
    ctx: Context,
    block: ShowBlock,
    node: yaml.Node,
    path: str,
    actions: list[Action],
    variants: Sequence[str],
) -> None:
    """A block that shows the campaign's coupon or gift needs that action in its variant."""
    spec = BLOCKS.get(block.block)
    if spec is None or spec.needs_action is None:
        return
    kind = IssueCoupon if spec.needs_action == "issue_coupon" else FreeGift
    candidates = [a for a in actions if isinstance(a, kind)]
    where = _block_name_node(node)
    if not candidates:
        ctx.c.report(
            where,
            path,
            f"block {block.block!r} shows this campaign's {spec.needs_action}, but the "
            f"campaign has no {spec.needs_action} action; add one",
        )
        return
    have_variants = {a.variant for a in candidates}
    covered = None in have_variants or block.variant in have_variants
    if block.variant is None and variants and have_variants >= set(variants):
        covered = True
    if not covered:
        shown = f"variant {block.variant!r}" if block.variant else "every variant"
        have = ", ".join(sorted(str(v) for v in have_variants))
        ctx.c.report(
            where,
            path,
            f"block {block.block!r} is shown in {shown}, but {spec.needs_action} only in "
            f"variant {have}; give the block the same variant",
        )


def _block_name_node(node: yaml.Node) -> yaml.Node:
    """Where a block's name stands: the ``block:`` value, or the scalar itself."""
    where = node
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node.value == "block":
                where = value_node
    return where
