"""The campaign action ``follow_up``: an e-mail some time after the order was paid or fulfilled.

A follow-up is planned by the engine like every other action (cost 0); what it becomes over
time (the due time of each message) is computed by :mod:`.schedule`, and whether each message
may go out is decided by the shop's contact policy (:mod:`.policy`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..conditions import Condition

__all__ = [
    "BUILTIN_TEMPLATES",
    "DEFAULT_PURPOSE",
    "LINK_DATA_KEYS",
    "Delay",
    "DelayUnit",
    "FollowUp",
    "FollowUpKind",
    "Purpose",
    "Repeat",
    "template_files",
]


class FollowUpKind(StrEnum):
    SERVICE_REMINDER = "service_reminder"
    SURVEY = "survey"
    REVIEW_REQUEST = "review_request"
    POINTS_REMINDER = "points_reminder"
    CUSTOM = "custom"


class Purpose(StrEnum):
    """What a message is for, which decides the rules it passes (:mod:`.policy`).

    ``marketing`` messages need the customer's consent and count against the marketing cap;
    ``transactional`` (service) messages about the order need neither.
    """

    MARKETING = "marketing"
    TRANSACTIONAL = "transactional"


#: The purpose of each kind when the config does not say. Only a survey about this order is
#: service; everything else is marketing, which is the safe side: calling a message
#: transactional lets it pass without consent, so that must be written out.
DEFAULT_PURPOSE: dict[FollowUpKind, Purpose] = {
    FollowUpKind.SERVICE_REMINDER: Purpose.MARKETING,
    FollowUpKind.SURVEY: Purpose.TRANSACTIONAL,
    FollowUpKind.REVIEW_REQUEST: Purpose.MARKETING,
    FollowUpKind.POINTS_REMINDER: Purpose.MARKETING,
    FollowUpKind.CUSTOM: Purpose.MARKETING,
}

#: The key of the template data that carries a follow-up's ``link:``, per kind: the booking
#: page of a service reminder, the review page of a review request, the shop of a points
#: reminder, ``link`` for a custom template. A survey's links are its five rating links.
LINK_DATA_KEYS: dict[FollowUpKind, str] = {
    FollowUpKind.SERVICE_REMINDER: "booking_url",
    FollowUpKind.REVIEW_REQUEST: "review_url",
    FollowUpKind.POINTS_REMINDER: "shop_url",
    FollowUpKind.CUSTOM: "link",
}

#: Template names shipped with the package: one per kind except ``custom``. Any other name
#: must exist as a pair of files in the shop's ``templates_dir`` (see :func:`template_files`).
BUILTIN_TEMPLATES: tuple[str, ...] = tuple(k.value for k in FollowUpKind if k.value != "custom")


def template_files(name: str) -> tuple[str, str]:
    """The HTML and plain-text template files of a follow-up template, relative to a
    templates folder: ``follow_up/<name>.html.j2`` and ``follow_up/<name>.txt.j2``."""
    return f"follow_up/{name}.html.j2", f"follow_up/{name}.txt.j2"


class DelayUnit(StrEnum):
    DAYS = "days"
    #: Monday to Friday in the shop's time zone, without the configured holidays.
    BUSINESS_DAYS = "business_days"
    #: Calendar months; the day is kept, or the last day of a shorter month (Jan 31 -> Feb 28).
    MONTHS = "months"


@dataclass(frozen=True, slots=True)
class Delay:
    """``amount`` units of time, counted in the shop's local wall time (a day is a calendar
    day, 23 or 25 hours long on a daylight-saving change)."""

    amount: int
    unit: DelayUnit

    def describe(self) -> str:
        unit = self.unit.value.replace("_", " ")
        return f"{self.amount} {unit[:-1] if self.amount == 1 else unit}"


@dataclass(frozen=True, slots=True)
class Repeat:
    """After the first message, ``times`` more, each ``every`` after the first one's due time
    (months are counted from the first message, so Jan 31 repeats on Feb 28 and Mar 31).

    ``stop_when``: a condition on the customer's later orders; once a later order makes it true,
    nothing due after that order is sent (an unknown result does not stop).
    """

    every: Delay
    times: int
    stop_when: Condition | None = None


@dataclass(frozen=True, slots=True)
class FollowUp:
    """An e-mail ``after`` the campaign's trigger (order paid or fulfilled), optionally repeated."""

    kind: FollowUpKind
    template: str
    after: Delay
    purpose: Purpose
    repeat: Repeat | None = None
    variant: str | None = None
    #: The page the e-mail's button opens (https; checked when the config loads), e.g. the
    #: booking page of a service reminder; ``None``: the shop's (``shop.booking_url``,
    #: ``shop.review_url``), else the e-mail's contact line.
    link: str | None = None
    #: The button's text; ``None``: the e-mail language's ("Termin vereinbaren").
    link_text: str | None = None

    @property
    def messages(self) -> int:
        """How many messages the action plans at most (the first and its repeats)."""
        return 1 + (self.repeat.times if self.repeat is not None else 0)

    def describe(self) -> str:
        text = f"{self.kind.value} e-mail {self.template!r} after {self.after.describe()}"
        if self.repeat is not None:
            text += f", then {self.repeat.times} more every {self.repeat.every.describe()}"
            if self.repeat.stop_when is not None:
                text += f" until `{self.repeat.stop_when.source}`"
        return f"{text} ({self.purpose.value})"

    def summary(self) -> dict[str, Any]:
        """The action in JSON-ready values, named as in the config file."""
        repeat = None
        if self.repeat is not None:
            stop = self.repeat.stop_when
            repeat = {
                "every": {self.repeat.every.unit.value: self.repeat.every.amount},
                "times": self.repeat.times,
                "stop_when": stop.source if stop is not None else None,
            }
        return {
            "kind": self.kind.value,
            "template": self.template,
            "after": {self.after.unit.value: self.after.amount},
            "repeat": repeat,
            "purpose": self.purpose.value,
            "variant": self.variant,
            "link": self.link,
            "link_text": self.link_text,
        }
