"""Conditions written in a config file: compiled, and their fields checked against the platform.

Used for a campaign's ``when:`` and a ``follow_up``'s ``repeat.stop_when``, so that a config
that loads cannot fail when an order arrives.
"""

from __future__ import annotations

import re

import yaml

from .. import registry
from ..conditions import Condition, compile_condition
from ..errors import ConditionError
from ..fields import FIELDS, canonical_name
from .context import Context

__all__ = ["read_conditions"]


def read_conditions(ctx: Context, node: yaml.Node, path: str) -> tuple[Condition, ...]:
    """One condition, or a list of them, compiled; each mistake reported at its token."""
    if isinstance(node, yaml.SequenceNode):
        items = [(f"{path}[{i}]", item) for i, item in enumerate(node.value)]
    else:
        items = [(path, node)]
    compiled = []
    for item_path, item in items:
        text = ctx.c.text(item, item_path, expected="a condition such as 'subtotal >= 30'")
        if text is None or not isinstance(item, yaml.ScalarNode):
            continue
        condition = _compile(ctx, text, item, item_path)
        if condition is not None and _fields_available(ctx, condition, text, item, item_path):
            compiled.append(condition)
    return tuple(compiled)


def _compile(ctx: Context, text: str, node: yaml.ScalarNode, path: str) -> Condition | None:
    """The compiled condition, or ``None`` (reported at the offending token)."""
    try:
        return compile_condition(text)
    except ConditionError as exc:
        message = exc.message
        if exc.suggestion is not None:
            message += f" (did you mean {exc.suggestion!r}?)"
        ctx.c.report_in_text(node, exc.column, path, message)
        return None


def _fields_available(
    ctx: Context, condition: Condition, text: str, node: yaml.ScalarNode, path: str
) -> bool:
    platform = registry.find(ctx.platform or "")
    if platform is None:
        return True
    ok = True
    for name in sorted(condition.fields):
        if name not in FIELDS or name in platform.fields or FIELDS[name].from_records:
            continue
        offset, written = _find_field(text, name)
        where = (
            ", ".join(n for n, other in registry.specs().items() if name in other.fields)
            or "no platform"
        )
        ctx.c.report_in_text(
            node,
            offset,
            path,
            f"field {written!r} is not available on {ctx.platform} (only on {where})",
        )
        ok = False
    return ok


def _find_field(text: str, path: str) -> tuple[int, str]:
    """Where a condition names a field (or a field derived from it), and how it is written."""
    fallback: tuple[int, str] | None = None
    for match in re.finditer(r"[A-Za-z_][A-Za-z0-9_.]*", text):
        canonical = canonical_name(match.group())
        if canonical == path:
            return match.start(), match.group()
        spec = FIELDS.get(canonical) if canonical is not None else None
        if fallback is None and spec is not None and path in spec.source_fields:
            fallback = (match.start(), match.group())
    return fallback or (0, path)
