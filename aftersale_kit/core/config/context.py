"""What every reader of the config shares: the error collector, and what the shop section said.

The readers (:mod:`.shop`, :mod:`.campaigns`, :mod:`.gates`, :mod:`.actions`, :mod:`.show_block`)
are functions of a :class:`Context`: the :class:`~.checker.Checker` that collects problems, the
folder of the file, the optional block-parameter check, and the platform, currency and time zone
once the shop section has named them (later sections are checked against them).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from ..schema import ID_PATTERN
from .checker import Checker, Entry, did_you_mean, found

__all__ = [
    "ID_HELP",
    "SYNONYMS",
    "Context",
    "ParamCheck",
    "amount",
    "currency_code",
    "read_variant",
]

#: Checks the *values* of one ``show_block``'s parameters: ``(param, message)`` per problem. The
#: core knows block and parameter names (:mod:`..blocks`); the shapes of values (URLs, day ranges,
#: links) belong to the content layer, which passes its checker in (e.g.
#: ``aftersale_kit.content.params.param_problems``) so that those problems get a position too.
ParamCheck = Callable[[Sequence[tuple[str, Any]]], Sequence[tuple[str, str]]]

ID_HELP = "a name of letters, digits, - and _ (at most 64 characters)"

# Words shop owners write for a key; named in the "did you mean" of an unknown key.
SYNONYMS = {
    "condition": "when",
    "if": "when",
    "rules": "when",
    "event": "trigger",
    "on": "trigger",
    "name": "id",
    "active": "enabled",
    "start": "from",
    "starts": "from",
    "begin": "from",
    "end": "until",
    "ends": "until",
    "to": "until",
    "max_uses": "max",
    "cooldown": "cooldown_days",
    "coupon": "issue_coupon",
    "block": "show_block",
    "gift": "free_gift",
    "tag": "tag_order",
    "percent": "percentage",
    "fixed": "fixed_amount",
    "amount": "fixed_amount",
    "shipping": "free_shipping",
}


@dataclass
class Context:
    """The state of one load: the collector, and what the shop section established."""

    c: Checker
    base_dir: Path | None = None
    param_check: ParamCheck | None = None
    platform: str | None = None
    currency: str | None = None
    tz: tzinfo = field(default_factory=lambda: ZoneInfo("UTC"))
    #: The stamp card ids of the ``loyalty:`` section (``None``: the file has no such section).
    loyalty_cards: tuple[str, ...] | None = None
    #: The shop's ``templates_dir`` (resolved when the file's folder is known).
    templates_dir: str | None = None
    #: The trigger of the campaign being read (a ``follow_up`` counts its delay from it).
    trigger: str | None = None
    #: The id of the campaign being read (a ``vip_presale``'s default tag names it).
    campaign_id: str | None = None


def amount(ctx: Context, node: yaml.Node, path: str, *, allow_zero: bool = False) -> Decimal | None:
    """A positive amount (or 0 or more with ``allow_zero``), e.g. ``4.20``."""
    expected = "an amount of 0 or more" if allow_zero else "a positive amount"
    return ctx.c.bounded(
        node,
        path,
        expected=f"{expected} (e.g. 4.20)",
        low=Decimal(0),
        low_inclusive=allow_zero,
    )


def currency_code(ctx: Context, node: yaml.Node, path: str) -> str | None:
    """A three-letter currency code, upper-cased."""
    value = ctx.c.text(node, path, expected="a currency code such as EUR")
    if value is None:
        return None
    if not re.fullmatch(r"[A-Za-z]{3}", value):
        ctx.c.report(node, path, f"expected a currency code such as EUR, got {found(node)}")
        return None
    return value.upper()


def read_variant(
    ctx: Context, e: dict[str, Entry], path: str, variants: Sequence[str]
) -> str | None:
    """The action's ``variant:``, which must be one of the campaign split's variants."""
    if "variant" not in e:
        return None
    node = e["variant"].value
    name = ctx.c.text(node, f"{path}.variant", pattern=ID_PATTERN, pattern_help=ID_HELP)
    if name is None:
        return None
    if not variants:
        ctx.c.report(
            node,
            f"{path}.variant",
            f"variant {name!r} needs a split with variants in this campaign",
        )
        return None
    if name not in variants:
        hint = did_you_mean(name, variants)
        ctx.c.report(
            node,
            f"{path}.variant",
            f"unknown variant {name!r}{hint}; the split has {', '.join(variants)}",
        )
        return None
    return name
