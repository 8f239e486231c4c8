"""The shop's contact policy: one set of rules over every message of every campaign.

:func:`check` decides one due message: :class:`Send`, :class:`Defer` (not now; ask again at
``until``) or :class:`HoldBack` (never, for this message). Its explanation names the rule, in the
words of campaign decisions, so that an operator sees why a customer got nothing.

The rules, in the order they are checked:

1. ``not_due``: the message is not due yet (deferred to its due time).
2. ``suppressed``: the address is on the policy's suppression list (e.g. hard bounces).
3. ``unsubscribed``: the address unsubscribed from the shop's after-sales e-mails.
4. ``consent``: a marketing message needs the customer's marketing consent or a confirmed
   newsletter double opt-in; absent consent is no consent.
5. ``min_gap`` (deferred): at least this long after the last message of any kind.
6. ``quiet_hours`` / ``quiet_days`` (deferred): not in the quiet hours or on a quiet day in the
   shop's time zone; deferred to the moment the quiet period ends, never dropped.
7. ``marketing_cap``: at most ``max`` marketing messages per customer in any rolling window of
   ``days``.

Transactional (service) messages skip 4 and 7 but keep the others: every message aftersale-kit
sends is optional after-sales contact (the platform sends receipts and shipping notices), so an
address that bounced, was suppressed by the shop or unsubscribed gets none of them; and a survey
at 3 in the morning annoys as much as an offer does. The hold-backs (2-4) come first because time
does not change them; the deferrals come before the cap because the cap's window moves: the cap
is decided at the moment the message can really go out.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from .calendar import local_wall, to_utc, zone
from .follow_up import Purpose

__all__ = [
    "WEEKDAYS",
    "Consent",
    "ContactPolicy",
    "Defer",
    "HoldBack",
    "MarketingCap",
    "Message",
    "QuietHours",
    "Rule",
    "Send",
    "SentMessage",
    "Verdict",
    "check",
    "normalise_email",
    "quiet_until",
]

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class Rule(StrEnum):
    """The rule behind a :class:`Defer` or :class:`HoldBack` (the ``contact_policy`` key)."""

    NOT_DUE = "not_due"
    SUPPRESSED = "suppressed"
    UNSUBSCRIBED = "unsubscribed"
    CONSENT = "consent"
    MIN_GAP = "min_gap"
    QUIET_HOURS = "quiet_hours"
    QUIET_DAYS = "quiet_days"
    MARKETING_CAP = "marketing_cap"


def normalise_email(email: str) -> str:
    """An address as the suppression list compares it: trimmed and lower-cased."""
    return email.strip().lower()


@dataclass(frozen=True, slots=True)
class MarketingCap:
    """At most ``max`` marketing messages per customer in any ``days`` (rolling window)."""

    max: int
    days: int


@dataclass(frozen=True, slots=True)
class QuietHours:
    """Local wall-clock hours without messages, from ``start`` (inclusive) to ``end``
    (exclusive); ``start`` after ``end`` wraps midnight (20:00-08:00)."""

    start: time
    end: time

    def holds(self, at: time) -> bool:
        if self.start < self.end:
            return self.start <= at < self.end
        return at >= self.start or at < self.end

    def end_after(self, wall: datetime) -> datetime:
        """The wall time the quiet hours that hold at ``wall`` end."""
        end = datetime.combine(wall.date(), self.end)
        return end if end > wall else end + timedelta(days=1)

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True, slots=True)
class ContactPolicy:
    """One shop's rules (``contact_policy:``). Without the section a shop still has consent,
    suppression and unsubscribes; the cap, gap and quiet times are off until configured."""

    #: The shop's time zone (IANA name): quiet hours, quiet days and holidays are local.
    timezone: str = "UTC"
    marketing_cap: MarketingCap | None = None
    min_gap: timedelta | None = None
    quiet_hours: QuietHours | None = None
    #: Quiet weekdays, 0 = Monday .. 6 = Sunday.
    quiet_days: frozenset[int] = frozenset()
    #: The holidays are quiet days too (``quiet_days: [..., holidays]``).
    quiet_on_holidays: bool = False
    #: Days that are not business days (for ``business_days`` delays).
    holidays: tuple[date, ...] = ()
    #: Normalised addresses (:func:`normalise_email`) that get no message at all.
    suppressed: frozenset[str] = frozenset()

    def is_quiet_day(self, day: date) -> bool:
        return day.weekday() in self.quiet_days or (self.quiet_on_holidays and day in self.holidays)


@dataclass(frozen=True, slots=True)
class Message:
    """One message that is due, to one customer."""

    #: The customer key (customer id, or ``email:<address>`` for a guest).
    customer: str
    email: str
    purpose: Purpose
    due_at: datetime
    #: How explanations name the message, e.g. ``campaign 'wartung' message 2``.
    label: str = "the message"


@dataclass(frozen=True, slots=True)
class SentMessage:
    """A message the customer already got (history: this customer's sent messages)."""

    sent_at: datetime
    purpose: Purpose


@dataclass(frozen=True, slots=True)
class Consent:
    """What the customer agreed to. ``accepts_marketing`` is the platform's consent field
    (as the platform records e-mail marketing consent): ``None`` when absent, which
    counts as no. ``opt_in_confirmed_at``: when the newsletter double opt-in was confirmed."""

    accepts_marketing: bool | None = None
    opt_in_confirmed_at: datetime | None = None

    @property
    def allows_marketing(self) -> bool:
        return self.accepts_marketing is True or self.opt_in_confirmed_at is not None


@dataclass(frozen=True, slots=True)
class Send:
    explanation: str


@dataclass(frozen=True, slots=True)
class Defer:
    """Not now: ask again at ``until`` (UTC)."""

    until: datetime
    rule: Rule
    explanation: str


@dataclass(frozen=True, slots=True)
class HoldBack:
    """Not this message, ever; ``explanation`` names the rule."""

    rule: Rule
    explanation: str


Verdict = Send | Defer | HoldBack


def _when(moment: datetime, tz: str) -> str:
    """A moment in the shop's clock, as explanations show it: ``2026-03-29 08:00 CEST``."""
    return f"{moment.astimezone(zone(tz)):%Y-%m-%d %H:%M %Z}"


def _quiet_step(policy: ContactPolicy, wall: datetime) -> tuple[datetime, Rule] | None:
    """Where the quiet period that holds at ``wall`` ends (or its next part begins)."""
    if policy.is_quiet_day(wall.date()):
        return datetime.combine(wall.date() + timedelta(days=1), time(0)), Rule.QUIET_DAYS
    hours = policy.quiet_hours
    if hours is not None and hours.holds(wall.time()):
        return hours.end_after(wall), Rule.QUIET_HOURS
    return None


def quiet_until(policy: ContactPolicy, moment: datetime) -> tuple[datetime, Rule] | None:
    """The end (UTC) of the quiet period ``moment`` falls in, and the rule that made it quiet
    first; ``None`` when ``moment`` is not quiet. Quiet days and hours that follow each other
    are one period (Saturday 21:00 with quiet Sundays and 20:00-08:00 ends Monday 08:00)."""
    wall = local_wall(moment, policy.timezone)
    first: Rule | None = None
    # a quiet period is at most a run of quiet days (never all seven) and holidays, plus hours
    for _ in range(len(policy.holidays) + 16):
        step = _quiet_step(policy, wall)
        if step is None:
            break
        wall, rule = step
        first = first or rule
    else:
        raise ValueError("the contact policy is quiet all the time")
    if first is None:
        return None
    end = to_utc(wall, policy.timezone)
    if end <= moment:
        # the end is a wall time the clock shows twice and ``moment`` is in the second pass:
        # the end is the second one too
        end = wall.replace(tzinfo=zone(policy.timezone), fold=1).astimezone(UTC)
    return end, first


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _duration(gap: timedelta) -> str:
    minutes = int(gap.total_seconds() // 60)
    if minutes % (24 * 60) == 0:
        return _plural(minutes // (24 * 60), "day")
    if minutes % 60 == 0:
        return _plural(minutes // 60, "hour")
    return _plural(minutes, "minute")


def _refused(
    message: Message, consent: Consent, policy: ContactPolicy, unsubscribed: Collection[str]
) -> HoldBack | None:
    """The rules time does not change: suppression, unsubscribe, consent."""
    address = normalise_email(message.email)
    if address in policy.suppressed:
        return HoldBack(
            Rule.SUPPRESSED,
            f"{message.label} is held back: the address is on the contact policy's "
            "suppression list (suppressed)",
        )
    if address in unsubscribed:
        return HoldBack(
            Rule.UNSUBSCRIBED,
            f"{message.label} is held back: the customer unsubscribed from the shop's e-mails "
            "(unsubscribed)",
        )
    if message.purpose is Purpose.MARKETING and not consent.allows_marketing:
        said = "declined" if consent.accepts_marketing is False else "gave no"
        return HoldBack(
            Rule.CONSENT,
            f"{message.label} is held back: a marketing message needs consent; the customer "
            f"{said} marketing consent and confirmed no newsletter sign-up (consent)",
        )
    return None


def _gap_until(
    history: Sequence[SentMessage], policy: ContactPolicy, now: datetime
) -> tuple[datetime, datetime] | None:
    """``(last message, end of the minimum gap)`` while the gap runs, else ``None``."""
    if policy.min_gap is None or not history:
        return None
    last = max(sent.sent_at for sent in history)
    until = last + policy.min_gap
    return (last, until) if now < until else None


def _deferred(
    message: Message, history: Sequence[SentMessage], policy: ContactPolicy, now: datetime
) -> Defer | None:
    """The minimum gap and the quiet times: when the message may go out, if not now."""
    tz = policy.timezone
    gap = _gap_until(history, policy, now)
    start = gap[1] if gap is not None else now
    quiet = quiet_until(policy, start)
    if gap is not None:
        assert policy.min_gap is not None
        last, until = gap
        text = (
            f"{message.label} is deferred: the last message to this customer went out on "
            f"{_when(last, tz)}; the minimum gap of {_duration(policy.min_gap)} runs until "
            f"{_when(until, tz)} (min_gap)"
        )
        if quiet is not None:
            until = quiet[0]
            text += f", then {quiet[1].value} until {_when(until, tz)}"
        return Defer(until, Rule.MIN_GAP, text)
    if quiet is None:
        return None
    until, rule = quiet
    if rule is Rule.QUIET_HOURS:
        why = f"in the quiet hours {policy.quiet_hours} ({tz})"
    else:
        weekday = local_wall(now, tz).weekday()
        day = WEEKDAYS[weekday].capitalize() if weekday in policy.quiet_days else "a holiday"
        why = f"on a quiet day ({day}, {tz})"
    return Defer(
        until,
        rule,
        f"{message.label} is deferred: {_when(now, tz)} is {why}; it goes out when the quiet "
        f"time ends on {_when(until, tz)} ({rule.value})",
    )


def _capped(
    message: Message, history: Sequence[SentMessage], policy: ContactPolicy, now: datetime
) -> HoldBack | None:
    cap = policy.marketing_cap
    if cap is None or message.purpose is not Purpose.MARKETING:
        return None
    since = now - timedelta(days=cap.days)
    recent = sorted(
        s.sent_at for s in history if s.purpose is Purpose.MARKETING and since < s.sent_at <= now
    )
    if len(recent) < cap.max:
        return None
    days = ", ".join(_when(s, policy.timezone)[:10] for s in recent)
    return HoldBack(
        Rule.MARKETING_CAP,
        f"{message.label} is held back: this customer already got "
        f"{_plural(len(recent), 'marketing message')} in the last {cap.days} days ({days}); "
        f"the marketing cap is {cap.max} per {cap.days} days (marketing_cap)",
    )


def check(
    message: Message,
    history: Sequence[SentMessage],
    consent: Consent,
    policy: ContactPolicy,
    now: datetime,
    *,
    unsubscribed: Collection[str] = (),
) -> Verdict:
    """Whether ``message`` goes out at ``now`` (aware), given the customer's ``history`` (the
    messages this customer already got, of every campaign), their ``consent``, the shop's
    ``policy`` and the ``unsubscribed`` addresses (normalised, see :func:`normalise_email`).

    A :class:`Defer` is asked again at its ``until``: the rules are checked afresh then (the
    marketing cap may hold the message back at that moment). Pure: the caller records a
    :class:`Send` in the history once the message went out.
    """
    if now < message.due_at:
        return Defer(
            message.due_at,
            Rule.NOT_DUE,
            f"{message.label} is not due before {_when(message.due_at, policy.timezone)} (not_due)",
        )
    verdict: Verdict | None = (
        _refused(message, consent, policy, unsubscribed)
        or _deferred(message, history, policy, now)
        or _capped(message, history, policy, now)
    )
    if verdict is not None:
        return verdict
    what = "marketing message" if message.purpose is Purpose.MARKETING else "service message"
    return Send(f"{message.label} goes out now ({what}; no rule of the contact policy holds it)")
