"""The ``contact_policy:`` section: one set of contact rules over every campaign of the shop.

::

    contact_policy:
      marketing_cap: {max: 2, days: 30}
      min_gap_hours: 24
      quiet_hours: {from: "20:00", until: "08:00"}
      quiet_days: [sunday, holidays]
      holidays: [2026-12-24, 2026-12-25, 2026-12-26]
      suppress: [bounced@example.com]

Times and days are in the shop's time zone (``shop.timezone``, read before this section).
"""

from __future__ import annotations

import re
from datetime import date, time, timedelta

import yaml

from ..contact.policy import WEEKDAYS, ContactPolicy, MarketingCap, QuietHours, normalise_email
from ..schema_contact import contact_keys
from .checker import found
from .context import Context

__all__ = ["read_contact_policy"]

_P = "contact_policy"
_CLOCK = re.compile(r"^([01]?[0-9]|2[0-3]):([0-5][0-9])$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DAY_SYNONYMS = {
    "montag": "monday",
    "dienstag": "tuesday",
    "mittwoch": "wednesday",
    "donnerstag": "thursday",
    "freitag": "friday",
    "samstag": "saturday",
    "sonnabend": "saturday",
    "sonntag": "sunday",
    "feiertage": "holidays",
    **{d[:3]: d for d in WEEKDAYS},
}
_MAX_LIST = 1000


def read_contact_policy(ctx: Context, node: yaml.Node) -> ContactPolicy | None:
    start = ctx.c.mark()
    e = ctx.c.mapping(node, _P, allowed=contact_keys())
    if e is None:
        return None
    cap = _cap(ctx, e["marketing_cap"].value) if "marketing_cap" in e else None
    gap = ctx.c.optional_integer(
        e,
        "min_gap_hours",
        _P,
        default=None,
        minimum=1,
        maximum=8760,
        expected="a whole number of hours from 1 to 8760",
    )
    hours = _quiet_hours(ctx, e["quiet_hours"].value) if "quiet_hours" in e else None
    days, on_holidays = (
        _quiet_days(ctx, e["quiet_days"].value) if "quiet_days" in e else ((), False)
    )
    holidays = _holidays(ctx, e["holidays"].value) if "holidays" in e else ()
    suppressed = _suppress(ctx, e["suppress"].value) if "suppress" in e else ()
    if not ctx.c.clean_since(start):
        return None
    return ContactPolicy(
        timezone=getattr(ctx.tz, "key", "UTC"),
        marketing_cap=cap,
        min_gap=timedelta(hours=gap) if gap is not None else None,
        quiet_hours=hours,
        quiet_days=frozenset(days),
        quiet_on_holidays=on_holidays,
        holidays=tuple(sorted(set(holidays))),
        suppressed=frozenset(suppressed),
    )


def _cap(ctx: Context, node: yaml.Node) -> MarketingCap | None:
    path = f"{_P}.marketing_cap"
    e = ctx.c.mapping(
        node,
        path,
        allowed=contact_keys("marketing_cap"),
        required=("max", "days"),
        expected="a mapping such as {max: 2, days: 30}",
    )
    if e is None or "max" not in e or "days" not in e:
        return None
    most = ctx.c.integer(
        e["max"].value,
        f"{path}.max",
        minimum=1,
        maximum=100,
        expected="a whole number from 1 to 100",
    )
    days = ctx.c.integer(
        e["days"].value,
        f"{path}.days",
        minimum=1,
        maximum=3650,
        expected="a whole number of days from 1 to 3650",
    )
    if most is None or days is None:
        return None
    return MarketingCap(max=most, days=days)


def _clock(ctx: Context, node: yaml.Node, path: str) -> time | None:
    value = ctx.c.text(node, path, expected='a time of day such as "20:00"')
    if value is None:
        return None
    match = _CLOCK.match(value.strip())
    if match is None:
        ctx.c.report(node, path, f'expected a time of day such as "20:00", got {found(node)}')
        return None
    return time(int(match.group(1)), int(match.group(2)))


def _quiet_hours(ctx: Context, node: yaml.Node) -> QuietHours | None:
    path = f"{_P}.quiet_hours"
    e = ctx.c.mapping(
        node,
        path,
        allowed=contact_keys("quiet_hours"),
        required=("from", "until"),
        expected='a mapping such as {from: "20:00", until: "08:00"}',
    )
    if e is None or "from" not in e or "until" not in e:
        return None
    begin = _clock(ctx, e["from"].value, f"{path}.from")
    end = _clock(ctx, e["until"].value, f"{path}.until")
    if begin is None or end is None:
        return None
    if begin == end:
        ctx.c.report(
            e["until"].value,
            f"{path}.until",
            "from and until are the same time; quiet hours need an end (e.g. 20:00 to 08:00)",
        )
        return None
    return QuietHours(begin, end)


def _quiet_days(ctx: Context, node: yaml.Node) -> tuple[tuple[int, ...], bool]:
    path = f"{_P}.quiet_days"
    choices = [*WEEKDAYS, "holidays"]
    days: list[int] = []
    on_holidays = False
    items = ctx.c.sequence(node, path, expected="a list of weekdays such as [sunday]")
    for index, item in enumerate(items):
        value = ctx.c.choice(
            item, f"{path}[{index}]", choices, what="weekday", synonyms=_DAY_SYNONYMS
        )
        if value == "holidays":
            on_holidays = True
        elif value is not None:
            days.append(WEEKDAYS.index(value))
    if len(set(days)) == len(WEEKDAYS):
        ctx.c.report(
            node, path, "every day is quiet, so no e-mail could ever go out; remove some days"
        )
    return tuple(days), on_holidays


def _holidays(ctx: Context, node: yaml.Node) -> tuple[date, ...]:
    path = f"{_P}.holidays"
    days: list[date] = []
    items = ctx.c.sequence(node, path, expected="a list of dates such as [2026-12-25]")
    if len(items) > _MAX_LIST:
        ctx.c.report(node, path, f"at most {_MAX_LIST} holidays")
        return ()
    for index, item in enumerate(items):
        day = _date(ctx, item, f"{path}[{index}]")
        if day is not None:
            days.append(day)
    return tuple(days)


def _date(ctx: Context, node: yaml.Node, path: str) -> date | None:
    value = ctx.c.text(node, path, expected="a date such as 2026-12-25")
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        ctx.c.report(node, path, f"expected a date such as 2026-12-25, got {found(node)}")
        return None


def _suppress(ctx: Context, node: yaml.Node) -> tuple[str, ...]:
    path = f"{_P}.suppress"
    out: list[str] = []
    for index, item in enumerate(ctx.c.sequence(node, path, expected="a list of e-mail addresses")):
        item_path = f"{path}[{index}]"
        value = ctx.c.text(item, item_path, expected="an e-mail address")
        if value is None:
            continue
        address = normalise_email(value)
        if not _EMAIL.match(address):
            ctx.c.report(item, item_path, f"expected an e-mail address, got {found(item)}")
            continue
        out.append(address)
    return tuple(out)
