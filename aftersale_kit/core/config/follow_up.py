"""The campaign action ``follow_up``: kind, template, delay, repeat and purpose.

::

    - follow_up:
        kind: service_reminder
        template: wartung             # default: the kind's built-in template
        after: {months: 3}            # or {days: 14}, {business_days: 3}
        repeat: {every: {months: 3}, times: 2, stop_when: 'any line_items.sku == "WARTUNG"'}
        purpose: marketing            # default: transactional for a survey, else marketing
        link: https://shop.example/service/termin   # the button (https), e.g. the booking page
        link_text: Prüftermin buchen  # the button's text (default: the e-mail language's)

The delay counts from the campaign's trigger, which must be ``order_paid`` or
``order_fulfilled``. A template other than the built-in ones must exist in the shop's
``templates_dir`` (as ``follow_up/<name>.html.j2`` and ``.txt.j2``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import yaml

from ..contact.follow_up import (
    BUILTIN_TEMPLATES,
    DEFAULT_PURPOSE,
    Delay,
    DelayUnit,
    FollowUp,
    FollowUpKind,
    Purpose,
    Repeat,
    template_files,
)
from ..model import EventKind
from ..schema import ID_PATTERN
from ..schema_contact import DELAY_LIMITS, contact_keys, lowest_amount
from ..weblinks import link_problem, link_text_problem
from .checker import Entry, did_you_mean
from .condition_text import read_conditions
from .context import ID_HELP, Context, read_variant

__all__ = ["read_follow_up"]

_KINDS = [k.value for k in FollowUpKind]
_PURPOSES = [p.value for p in Purpose]
_TRIGGERS = (EventKind.ORDER_PAID.value, EventKind.ORDER_FULFILLED.value)
_SYNONYMS = {
    "type": "kind",
    "delay": "after",
    "wait": "after",
    "every": "repeat",
    "marketing": "purpose",
    "transactional": "purpose",
    "until": "stop_when",
    "stop": "stop_when",
    "count": "times",
    "max": "times",
    "url": "link",
    "booking_url": "link",
    "review_url": "link",
    "button": "link_text",
    "button_text": "link_text",
}
#: What a good link looks like, per kind (in the suggestions).
_LINK_EXAMPLES = {
    FollowUpKind.SERVICE_REMINDER: "https://shop.example/service/termin",
    FollowUpKind.REVIEW_REQUEST: "https://shop.example/bewertungen",
}
_UNIT_SYNONYMS = {
    "day": "days",
    "tage": "days",
    "business_day": "business_days",
    "workdays": "business_days",
    "working_days": "business_days",
    "werktage": "business_days",
    "month": "months",
    "monate": "months",
}


def read_follow_up(
    ctx: Context, node: yaml.Node, path: str, variants: Sequence[str]
) -> FollowUp | None:
    start = ctx.c.mark()
    e = ctx.c.mapping(
        node,
        path,
        allowed=contact_keys("follow_up"),
        required=("kind", "after"),
        synonyms=_SYNONYMS,
        expected="a mapping with kind: and after: (e.g. after: {days: 14})",
    )
    if e is None:
        return None
    kind = _kind(ctx, e, path)
    after = None
    if "after" in e:
        after = _delay(ctx, e["after"].value, f"{path}.after", tuple(DelayUnit), repeat=False)
    repeat = _repeat(ctx, e["repeat"].value, f"{path}.repeat") if "repeat" in e else None
    purpose = _purpose(ctx, e, path, kind)
    template = _template(ctx, e, node, path, kind)
    variant = read_variant(ctx, e, path, variants)
    link, link_text = _link(ctx, e, path, kind)
    _trigger(ctx, node, path)
    if not ctx.c.clean_since(start) or kind is None or after is None or template is None:
        return None
    return FollowUp(
        kind=kind, template=template, after=after, purpose=purpose, repeat=repeat,
        variant=variant, link=link, link_text=link_text,
    )  # fmt: skip


def _kind(ctx: Context, e: dict[str, Entry], path: str) -> FollowUpKind | None:
    if "kind" not in e:
        return None
    value = ctx.c.choice(e["kind"].value, f"{path}.kind", _KINDS, what="follow-up kind")
    return FollowUpKind(value) if value is not None else None


def _purpose(ctx: Context, e: dict[str, Entry], path: str, kind: FollowUpKind | None) -> Purpose:
    default = DEFAULT_PURPOSE[kind] if kind is not None else Purpose.MARKETING
    if "purpose" not in e:
        return default
    value = ctx.c.choice(e["purpose"].value, f"{path}.purpose", _PURPOSES, what="purpose")
    return Purpose(value) if value is not None else default


def _link(
    ctx: Context, e: dict[str, Entry], path: str, kind: FollowUpKind | None
) -> tuple[str | None, str | None]:
    """``link:`` (a web page, see :mod:`..weblinks`) and ``link_text:`` (its button's text,
    only with a link). A survey has no link: its links are the five rating links."""
    example = _LINK_EXAMPLES.get(kind or FollowUpKind.CUSTOM, "https://shop.example/seite")
    link = _link_url(ctx, e["link"].value, path, kind, example) if "link" in e else None
    if "link_text" not in e:
        return link, None
    node = e["link_text"].value
    written = ctx.c.text(node, f"{path}.link_text", expected="the button's text")
    if written is None:
        return link, None
    problem = link_text_problem(written)
    if problem is None and "link" not in e:
        problem = f"link_text is the text of the link's button; add link: {example}"
    if problem is not None:
        ctx.c.report(node, f"{path}.link_text", problem)
        return link, None
    return link, written.strip()


def _link_url(
    ctx: Context, node: yaml.Node, path: str, kind: FollowUpKind | None, example: str
) -> str | None:
    written = ctx.c.text(node, f"{path}.link", expected=f"a web address such as {example}")
    if written is None:
        return None
    problem = link_problem(written.strip(), example)
    if kind is FollowUpKind.SURVEY:
        problem = "a survey's links are its five rating links; remove link:"
    if problem is not None:
        ctx.c.report(node, f"{path}.link", problem)
        return None
    return written.strip()


def _trigger(ctx: Context, node: yaml.Node, path: str) -> None:
    if ctx.trigger is None or ctx.trigger in _TRIGGERS:
        return
    ctx.c.report(
        node,
        path,
        "a follow_up counts its delay from the order being paid or fulfilled, but this "
        f"campaign's trigger is {ctx.trigger!r}; use trigger: order_paid or order_fulfilled",
    )


# -- delays ------------------------------------------------------------------------------------


def _delay(
    ctx: Context, node: yaml.Node, path: str, units: tuple[DelayUnit, ...], *, repeat: bool
) -> Delay | None:
    """``{days: 14}``: exactly one unit of ``units`` and a whole number within its limit."""
    names = [u.value for u in units]
    example = "{months: 3}" if repeat else "{days: 14}"
    e = ctx.c.mapping(node, path, allowed=None, expected=f"a delay such as {example}")
    if e is None:
        return None
    if not e:
        ctx.c.report(node, path, f"write one of {', '.join(names)}, e.g. {example}")
        return None
    found: list[Delay] = []
    for name, entry in e.items():
        unit = _unit(ctx, name, entry, path, names)
        if unit is None:
            continue
        limit = DELAY_LIMITS[unit]
        low = lowest_amount(unit, repeat)
        amount = ctx.c.integer(
            entry.value,
            f"{path}.{name}",
            minimum=low,
            maximum=limit,
            expected=f"a whole number of {name.replace('_', ' ')} from {low} to {limit}",
        )
        if amount is not None:
            found.append(Delay(amount, unit))
    if len(e) > 1:
        second = list(e.values())[1].key
        ctx.c.report(second, path, f"write one unit only, e.g. {example}")
        return None
    return found[0] if found else None


def _unit(ctx: Context, name: str, entry: Entry, path: str, names: list[str]) -> DelayUnit | None:
    if name in names:
        return DelayUnit(name)
    if name in ("weeks", "week", "wochen"):
        ctx.c.report(entry.key, path, "write weeks as days, e.g. days: 14 for two weeks")
    elif name == DelayUnit.BUSINESS_DAYS.value:
        ctx.c.report(
            entry.key, path, "repeat counts days or months; business_days are only for after:"
        )
    else:
        hint = did_you_mean(name, names, _UNIT_SYNONYMS)
        ctx.c.report(entry.key, path, f"unknown unit {name!r}{hint}; expected {', '.join(names)}")
    return None


def _repeat(ctx: Context, node: yaml.Node, path: str) -> Repeat | None:
    start = ctx.c.mark()
    e = ctx.c.mapping(
        node,
        path,
        allowed=contact_keys("follow_up", "repeat"),
        required=("every", "times"),
        synonyms=_SYNONYMS,
        expected="a mapping such as {every: {months: 3}, times: 2}",
    )
    if e is None:
        return None
    units = (DelayUnit.DAYS, DelayUnit.MONTHS)
    every = (
        _delay(ctx, e["every"].value, f"{path}.every", units, repeat=True) if "every" in e else None
    )
    times = ctx.c.optional_integer(
        e,
        "times",
        path,
        default=None,
        minimum=1,
        maximum=60,
        expected="a whole number of e-mails after the first, from 1 to 60",
    )
    stop = None
    if "stop_when" in e:
        stop_node = e["stop_when"].value
        if isinstance(stop_node, yaml.SequenceNode):
            ctx.c.report(
                stop_node,
                f"{path}.stop_when",
                "write one condition (join several with and / or), not a list",
            )
        else:
            stop = next(iter(read_conditions(ctx, stop_node, f"{path}.stop_when")), None)
    if not ctx.c.clean_since(start) or every is None or times is None:
        return None
    return Repeat(every=every, times=times, stop_when=stop)


# -- template ----------------------------------------------------------------------------------


def _template(
    ctx: Context, e: dict[str, Entry], node: yaml.Node, path: str, kind: FollowUpKind | None
) -> str | None:
    """The template's name: written, or the kind's built-in one (``custom`` has none)."""
    if "template" not in e:
        if kind is FollowUpKind.CUSTOM:
            ctx.c.report(node, path, "a custom follow_up needs template: <name of your template>")
            return None
        return kind.value if kind is not None else None
    name_node = e["template"].value
    name = ctx.c.text(name_node, f"{path}.template", pattern=ID_PATTERN, pattern_help=ID_HELP)
    if name is None or name in BUILTIN_TEMPLATES:
        return name
    html, text = template_files(name)
    if ctx.templates_dir is None:
        hint = did_you_mean(name, BUILTIN_TEMPLATES)
        ctx.c.report(
            name_node,
            f"{path}.template",
            f"unknown template {name!r}{hint}; built in are {', '.join(BUILTIN_TEMPLATES)}; "
            f"for your own, set shop.templates_dir and put {html} and {text} there",
        )
        return None
    folder = Path(ctx.templates_dir)
    if ctx.base_dir is None or not folder.is_absolute():
        return name  # the folder is not known here; the content layer checks it when it loads
    missing = [f for f in (html, text) if not (folder / f).is_file()]
    if missing:
        ctx.c.report(
            name_node,
            f"{path}.template",
            f"template {name!r} not found: add {' and '.join(missing)} to shop.templates_dir",
        )
        return None
    if not _SETS_SUBJECT.search((folder / text).read_text(encoding="utf-8", errors="replace")):
        ctx.c.report(
            name_node,
            f"{path}.template",
            f'{text} sets no subject: add {{% set subject = "..." %}} at its top',
        )
        return None
    return name


#: A shop's own follow-up names its subject in the plain-text template.
_SETS_SUBJECT = re.compile(r"\{%-?\s*set\s+subject\s*=")
