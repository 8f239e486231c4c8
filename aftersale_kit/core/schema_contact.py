"""The JSON Schema of the action ``follow_up`` and of the ``contact_policy:`` section.

Merged into :mod:`aftersale_kit.core.schema`; the readers (:mod:`.config.follow_up`,
:mod:`.config.contact_policy`) take their allowed keys from here (:func:`contact_keys`), so the
two cannot drift apart.
"""

from __future__ import annotations

import functools
from typing import Any

from .contact.follow_up import DelayUnit, FollowUpKind, Purpose
from .contact.policy import WEEKDAYS
from .weblinks import LINK_MAX, LINK_TEXT_MAX

__all__ = [
    "CONTACT_ACTION_SCHEMAS",
    "DELAY_LIMITS",
    "LINK_PATTERN",
    "contact_keys",
    "contact_policy_schema",
    "link_schema",
    "lowest_amount",
]

_ID = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
_CLOCK = r"^([01]?[0-9]|2[0-3]):[0-5][0-9]$"
_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"

#: A web page: https://, or plain http:// to this machine only (the loader says more).
LINK_PATTERN = r"^(https://[^/?#\s]|http://(localhost|127\.0\.0\.1|\[::1\])([:/?#]|$))"


def link_schema(description: str) -> dict[str, Any]:
    """A link in an e-mail's button (:mod:`.weblinks`)."""
    return {
        "type": "string",
        "description": description + " https:// (plain http:// only for localhost); "
        "javascript:, data: and other schemes are refused.",
        "pattern": LINK_PATTERN,
        "maxLength": LINK_MAX,
    }


#: The largest amount of each unit, in a delay and in a repeat.
DELAY_LIMITS = {DelayUnit.DAYS: 3650, DelayUnit.BUSINESS_DAYS: 520, DelayUnit.MONTHS: 120}


def _obj(description: str, properties: dict[str, Any], *required: str) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "description": description,
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = list(required)
    return schema


def _int(description: str, minimum: int, maximum: int | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer", "description": description, "minimum": minimum}
    if maximum is not None:
        schema["maximum"] = maximum
    return schema


def _enum(description: str, values: list[str]) -> dict[str, Any]:
    return {"type": "string", "description": description, "enum": values}


def _delay(description: str, units: tuple[DelayUnit, ...], *, repeat: bool) -> dict[str, Any]:
    words = {
        DelayUnit.DAYS: "Calendar days (the same time of day in the shop's time zone).",
        DelayUnit.BUSINESS_DAYS: "Monday to Friday, without contact_policy.holidays.",
        DelayUnit.MONTHS: "Calendar months (Jan 31 + 1 month is the last day of February).",
    }
    schema = _obj(
        description + " One unit, e.g. {days: 14}.",
        {u.value: _int(words[u], lowest_amount(u, repeat), DELAY_LIMITS[u]) for u in units},
    )
    schema["minProperties"] = 1
    schema["maxProperties"] = 1
    return schema


def lowest_amount(unit: DelayUnit, repeat: bool) -> int:
    """The smallest amount: a repeat or a month is at least 1; a first e-mail may be due at
    once (0 days)."""
    return 1 if repeat or unit is DelayUnit.MONTHS else 0


def _follow_up() -> dict[str, Any]:
    return _obj(
        "An e-mail some time after the order was paid or fulfilled (the campaign's trigger), "
        "optionally repeated; every message passes the shop's contact_policy.",
        {
            "kind": _enum("What the e-mail is.", [k.value for k in FollowUpKind]),
            "template": {
                "type": "string",
                "pattern": _ID,
                "description": "The e-mail template (default: the kind's built-in one; custom "
                "needs one). Built in: service_reminder, survey, review_request, "
                "points_reminder; any other name needs follow_up/<name>.html.j2 and "
                ".txt.j2 in shop.templates_dir.",
            },
            "after": _delay(
                "How long after the trigger the first e-mail is due.",
                tuple(DelayUnit),
                repeat=False,
            ),
            "repeat": _obj(
                "More e-mails after the first one.",
                {
                    "every": _delay(
                        "The interval, counted from the first e-mail.",
                        (DelayUnit.DAYS, DelayUnit.MONTHS),
                        repeat=True,
                    ),
                    "times": _int("How many more e-mails after the first, at most.", 1, 60),
                    "stop_when": {
                        "type": "string",
                        "description": "A condition on the customer's later orders; once one "
                        "makes it true, nothing due after that order is sent, e.g. "
                        "'any line_items.product_type == \"Wartung\"'.",
                    },
                },
                "every",
                "times",
            ),
            "purpose": _enum(
                "marketing (needs consent, counts against contact_policy.marketing_cap) or "
                "transactional (service about this order). Default: transactional for a "
                "survey, marketing for every other kind.",
                [p.value for p in Purpose],
            ),
            "variant": {"type": "string", "pattern": _ID, "description": "Only in this variant."},
            "link": link_schema(
                "The page the e-mail's button opens: a service reminder's booking page, a "
                "review request's review page, a points reminder's shop (not for a survey). "
                "Default: shop.booking_url or shop.review_url, else the e-mail's contact line."
            ),
            "link_text": {
                "type": "string",
                "description": "The button's text (only with link:; default: the e-mail "
                "language's, e.g. Termin vereinbaren / Book an appointment).",
                "minLength": 1,
                "maxLength": LINK_TEXT_MAX,
            },
        },
        "kind",
        "after",
    )


def _vip_presale() -> dict[str, Any]:
    moment = "a date such as 2027-03-01 or a moment such as 2027-03-01T09:00 (shop time zone)"
    return _obj(
        "A VIP pre-sale for the customers the campaign's when: selects: they are tagged on the "
        "platform (gate the pre-sale page by the tag) and get one announcement e-mail when it "
        "starts (marketing: consent and contact_policy apply).",
        {
            "name": {"type": "string", "description": "The pre-sale's name, shown in the e-mail."},
            "starts": {"type": "string", "description": f"When it starts: {moment}."},
            "ends": {"type": "string", "description": f"When it ends: {moment}; a date: its end."},
            "tag": {
                "type": "string",
                "description": "The customer tag (default vip-presale-<campaign id>).",
            },
            "template": {
                "type": "string",
                "pattern": _ID,
                "description": "The announcement (default: the built-in vip_presale; another "
                "name needs follow_up/<name>.html.j2 and .txt.j2 in shop.templates_dir).",
            },
            "url": {
                "type": "string",
                "description": "The pre-sale page (https), a button in the e-mail.",
            },
            "purpose": _enum("Always marketing: an invitation is advertising.", ["marketing"]),
        },
        "name",
        "starts",
        "ends",
    )


CONTACT_ACTION_SCHEMAS = {"follow_up": _follow_up, "vip_presale": _vip_presale}


@functools.cache
def contact_policy_schema() -> dict[str, Any]:
    return _obj(
        "The shop's rules for every follow-up e-mail of every campaign. Consent and "
        "unsubscribes always apply; the rest only when written.",
        {
            "marketing_cap": _obj(
                "At most max marketing e-mails per customer in any rolling window of days.",
                {
                    "max": _int("The number of e-mails.", 1, 100),
                    "days": _int("The window in days.", 1, 3650),
                },
                "max",
                "days",
            ),
            "min_gap_hours": _int(
                "At least this many hours between any two e-mails to the same customer.", 1, 8760
            ),
            "quiet_hours": _obj(
                "No e-mails in these hours (shop time zone); one due then waits until they end.",
                {
                    "from": {"type": "string", "pattern": _CLOCK, "description": "e.g. 20:00"},
                    "until": {"type": "string", "pattern": _CLOCK, "description": "e.g. 08:00"},
                },
                "from",
                "until",
            ),
            "quiet_days": {
                "type": "array",
                "description": "Weekdays without e-mails (and holidays for the dates under "
                "holidays); one due then waits for the next day that is not quiet.",
                "items": _enum("A weekday, or holidays.", [*WEEKDAYS, "holidays"]),
            },
            "holidays": {
                "type": "array",
                "description": "Dates that are not business days, e.g. 2026-12-25.",
                "items": {"type": "string", "pattern": _DATE, "description": "A date."},
            },
            "suppress": {
                "type": "array",
                "description": "E-mail addresses that get no follow-up at all (e.g. hard "
                "bounces); compared in lower case.",
                "items": {"type": "string", "description": "An e-mail address."},
            },
        },
    )


def contact_keys(*path: str) -> tuple[str, ...]:
    """The keys allowed at ``path``: ``contact_keys("follow_up", "repeat")`` for the action, or
    ``contact_keys("quiet_hours")`` below ``contact_policy``."""
    node: dict[str, Any]
    if path and path[0] in CONTACT_ACTION_SCHEMAS:
        node = CONTACT_ACTION_SCHEMAS[path[0]]()
        path = path[1:]
    else:
        node = contact_policy_schema()
    for name in path:
        node = node["properties"][name]
    return tuple(node["properties"])
