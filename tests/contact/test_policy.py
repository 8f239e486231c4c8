"""The contact policy: who gets a message now, later or never, and why, in the shop's clock."""

from __future__ import annotations

import heapq
import itertools
from dataclasses import replace
from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aftersale_kit.core.contact.follow_up import Purpose
from aftersale_kit.core.contact.policy import (
    Consent,
    ContactPolicy,
    Defer,
    HoldBack,
    MarketingCap,
    Message,
    QuietHours,
    Rule,
    Send,
    SentMessage,
    Verdict,
    check,
    quiet_until,
)

from .builders import BERLIN, berlin, utc

MARKETING, SERVICE = Purpose.MARKETING, Purpose.TRANSACTIONAL
YES = Consent(accepts_marketing=True)
NIGHT = QuietHours(time(20, 0), time(8, 0))
POLICY = ContactPolicy(timezone="Europe/Berlin", quiet_hours=NIGHT)
NOW = berlin(2026, 5, 5, 10, 0)


def message(due: datetime, purpose: Purpose = MARKETING, **changes: object) -> Message:
    base = Message(
        customer="c-7",
        email="kim@example.de",
        purpose=purpose,
        due_at=due,
        label="campaign 'wartung' message 1",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


# -- quiet hours and days, across daylight-saving changes -----------------------------------------


def test_a_message_due_in_the_quiet_hours_waits_for_their_end_across_the_spring_change() -> None:
    # Saturday 21:00 CET; the night has 23 hours: 08:00 CEST on Sunday is 06:00 UTC
    due = berlin(2026, 3, 28, 21, 0)
    verdict = check(message(due), [], YES, POLICY, due)
    assert verdict == Defer(
        utc(2026, 3, 29, 6, 0),
        Rule.QUIET_HOURS,
        "campaign 'wartung' message 1 is deferred: 2026-03-28 21:00 CET is in the quiet hours "
        "20:00-08:00 (Europe/Berlin); it goes out when the quiet time ends on 2026-03-29 08:00 "
        "CEST (quiet_hours)",
    )
    # asked again then, it goes out
    assert isinstance(check(message(due), [], YES, POLICY, verdict.until), Send)


def test_a_message_due_in_the_quiet_hours_waits_for_their_end_across_the_autumn_change() -> None:
    # Saturday 21:00 CEST; the night has 25 hours: 08:00 CET on Sunday is 07:00 UTC
    due = berlin(2026, 10, 24, 21, 0)
    verdict = check(message(due), [], YES, POLICY, due)
    assert isinstance(verdict, Defer) and verdict.until == utc(2026, 10, 25, 7, 0)
    # due in the repeated hour itself (02:30 CET, the second one), same end
    second = utc(2026, 10, 25, 1, 30)
    assert quiet_until(POLICY, second) == (utc(2026, 10, 25, 7, 0), Rule.QUIET_HOURS)


def test_in_the_night_of_the_spring_change_the_end_is_08_00_summer_time() -> None:
    # 01:30 CET, half an hour before the clocks jump
    assert quiet_until(POLICY, utc(2026, 3, 29, 0, 30)) == (
        utc(2026, 3, 29, 6, 0),
        Rule.QUIET_HOURS,
    )


def test_quiet_hours_that_end_in_the_skipped_hour_end_an_hour_later_on_the_new_clock() -> None:
    # until 02:30 on the night 02:00 -> 03:00: 02:30 is read as 03:30 CEST (RFC 5545)
    policy = replace(POLICY, quiet_hours=QuietHours(time(22, 0), time(2, 30)))
    until = quiet_until(policy, berlin(2026, 3, 28, 23, 0))
    assert until == (utc(2026, 3, 29, 1, 30), Rule.QUIET_HOURS)
    assert f"{until[0].astimezone(BERLIN):%H:%M %Z}" == "03:30 CEST"


def test_quiet_hours_that_end_in_the_repeated_hour_end_in_the_pass_they_started_in() -> None:
    # until 02:45 on the night 03:00 -> 02:00; due in the second 02:30 (CET): its 02:45
    policy = replace(POLICY, quiet_hours=QuietHours(time(22, 0), time(2, 45)))
    second = utc(2026, 10, 25, 1, 30)
    assert f"{second.astimezone(BERLIN):%H:%M %Z}" == "02:30 CET"
    assert quiet_until(policy, second) == (utc(2026, 10, 25, 1, 45), Rule.QUIET_HOURS)
    # due in the first 02:30 (CEST): the first 02:45
    first = utc(2026, 10, 25, 0, 30)
    assert quiet_until(policy, first) == (utc(2026, 10, 25, 0, 45), Rule.QUIET_HOURS)


def test_quiet_hours_that_do_not_wrap_midnight() -> None:
    lunch = replace(POLICY, quiet_hours=QuietHours(time(12, 0), time(14, 0)))
    assert quiet_until(lunch, berlin(2026, 5, 4, 12, 0)) == (
        berlin(2026, 5, 4, 14, 0),
        Rule.QUIET_HOURS,
    )
    assert quiet_until(lunch, berlin(2026, 5, 4, 14, 0)) is None
    assert quiet_until(lunch, berlin(2026, 5, 4, 11, 59)) is None


def test_quiet_days_and_hours_that_follow_each_other_are_one_period() -> None:
    # Saturday 21:00 with quiet Sundays: not Sunday 08:00 but Monday 08:00
    policy = replace(POLICY, quiet_days=frozenset({6}))
    due = berlin(2026, 5, 2, 21, 0)
    verdict = check(message(due, SERVICE), [], Consent(), policy, due)
    assert isinstance(verdict, Defer)
    assert (verdict.until, verdict.rule) == (berlin(2026, 5, 4, 8, 0), Rule.QUIET_HOURS)
    # due on Sunday at noon: the quiet day is the rule
    sunday = berlin(2026, 5, 3, 12, 0)
    verdict = check(message(sunday, SERVICE), [], Consent(), policy, sunday)
    assert verdict == Defer(
        berlin(2026, 5, 4, 8, 0),
        Rule.QUIET_DAYS,
        "campaign 'wartung' message 1 is deferred: 2026-05-03 12:00 CEST is on a quiet day "
        "(Sunday, Europe/Berlin); it goes out when the quiet time ends on 2026-05-04 08:00 CEST "
        "(quiet_days)",
    )


def test_holidays_are_quiet_only_when_the_policy_says_so() -> None:
    christmas = berlin(2026, 12, 25, 10, 0)
    policy = ContactPolicy(timezone="Europe/Berlin", holidays=(date(2026, 12, 25),))
    assert quiet_until(policy, christmas) is None
    quiet = replace(policy, quiet_on_holidays=True)
    assert quiet_until(quiet, christmas) == (berlin(2026, 12, 26, 0, 0), Rule.QUIET_DAYS)
    verdict = check(message(christmas, SERVICE), [], Consent(), quiet, christmas)
    assert isinstance(verdict, Defer)
    assert "is on a quiet day (a holiday, Europe/Berlin)" in verdict.explanation


def test_a_policy_quiet_on_every_day_is_refused_rather_than_looping() -> None:
    # the loader refuses it (every day is quiet); built by hand it raises
    always = ContactPolicy(timezone="Europe/Berlin", quiet_days=frozenset(range(7)))
    with pytest.raises(ValueError, match="quiet all the time"):
        quiet_until(always, NOW)


def quiet_at(policy: ContactPolicy, moment: datetime) -> bool:
    return quiet_until(policy, moment) is not None


@settings(max_examples=150, deadline=None)
@given(
    moment=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(BERLIN)
    ),
    start=st.integers(min_value=0, max_value=23 * 4),
    length=st.integers(min_value=1, max_value=23 * 4),
    days=st.frozensets(st.integers(min_value=0, max_value=6), max_size=3),
)
def test_a_deferral_lands_exactly_at_the_end_of_the_quiet_period(
    moment: datetime, start: int, length: int, days: frozenset[int]
) -> None:
    # quarter-hour quiet hours that never end in the hour the clock skips (02:00-03:00)
    begin = datetime(2000, 1, 1) + timedelta(minutes=15 * start)
    end = begin + timedelta(minutes=15 * length)
    if end.time() == begin.time() or time(2, 0) <= end.time() < time(3, 0):
        return
    policy = ContactPolicy(
        timezone="Europe/Berlin", quiet_hours=QuietHours(begin.time(), end.time()), quiet_days=days
    )
    result = quiet_until(policy, moment)
    if result is None:
        return
    until, _rule = result
    # not quiet at the end, quiet a second before, and quiet all the way there
    assert until > moment
    assert not quiet_at(policy, until)
    assert quiet_at(policy, until - timedelta(seconds=1))
    probe = moment
    while probe < until:
        assert quiet_at(policy, probe)
        probe += timedelta(minutes=37)


# -- consent, suppression, unsubscribes ------------------------------------------------------------


def test_marketing_needs_consent_and_absent_consent_is_none() -> None:
    verdict = check(message(NOW), [], Consent(), POLICY, NOW)
    assert verdict == HoldBack(
        Rule.CONSENT,
        "campaign 'wartung' message 1 is held back: a marketing message needs consent; the "
        "customer gave no marketing consent and confirmed no newsletter sign-up (consent)",
    )
    declined = check(message(NOW), [], Consent(accepts_marketing=False), POLICY, NOW)
    assert isinstance(declined, HoldBack) and "customer declined marketing consent" in (
        declined.explanation
    )
    assert isinstance(check(message(NOW), [], YES, POLICY, NOW), Send)
    opted_in = Consent(accepts_marketing=False, opt_in_confirmed_at=utc(2026, 1, 2))
    assert isinstance(check(message(NOW), [], opted_in, POLICY, NOW), Send)
    # a service message needs none
    assert check(message(NOW, SERVICE), [], Consent(), POLICY, NOW) == Send(
        "campaign 'wartung' message 1 goes out now (service message; no rule of the contact "
        "policy holds it)"
    )


@pytest.mark.parametrize("purpose", [MARKETING, SERVICE])
def test_suppressed_and_unsubscribed_addresses_get_nothing_of_any_purpose(
    purpose: Purpose,
) -> None:
    policy = replace(POLICY, suppressed=frozenset({"kim@example.de"}))
    written = message(NOW, purpose, email="  Kim@Example.DE ")
    assert check(written, [], YES, policy, NOW) == HoldBack(
        Rule.SUPPRESSED,
        "campaign 'wartung' message 1 is held back: the address is on the contact policy's "
        "suppression list (suppressed)",
    )
    verdict = check(written, [], YES, POLICY, NOW, unsubscribed={"kim@example.de"})
    assert verdict == HoldBack(
        Rule.UNSUBSCRIBED,
        "campaign 'wartung' message 1 is held back: the customer unsubscribed from the shop's "
        "e-mails (unsubscribed)",
    )
    assert isinstance(check(written, [], YES, POLICY, NOW, unsubscribed={"x@y.de"}), Send)


def test_a_message_is_not_sent_before_it_is_due() -> None:
    due = berlin(2026, 5, 6, 10, 0)
    assert check(message(due), [], Consent(), POLICY, NOW) == Defer(
        due,
        Rule.NOT_DUE,
        "campaign 'wartung' message 1 is not due before 2026-05-06 10:00 CEST (not_due)",
    )


# -- minimum gap and marketing cap ---------------------------------------------------------------


def test_the_minimum_gap_counts_every_message_and_ends_outside_the_quiet_hours() -> None:
    policy = replace(POLICY, min_gap=timedelta(hours=2))
    last = SentMessage(berlin(2026, 5, 5, 9, 0), SERVICE)
    verdict = check(message(NOW), [last], YES, policy, NOW)
    assert verdict == Defer(
        berlin(2026, 5, 5, 11, 0),
        Rule.MIN_GAP,
        "campaign 'wartung' message 1 is deferred: the last message to this customer went out "
        "on 2026-05-05 09:00 CEST; the minimum gap of 2 hours runs until 2026-05-05 11:00 CEST "
        "(min_gap)",
    )
    # a gap that runs into the evening waits for the morning
    evening = berlin(2026, 5, 5, 19, 0)
    late = SentMessage(berlin(2026, 5, 5, 18, 30), MARKETING)
    verdict = check(message(evening), [late], YES, policy, evening)
    assert isinstance(verdict, Defer) and verdict.rule is Rule.MIN_GAP
    assert verdict.until == berlin(2026, 5, 6, 8, 0)
    assert verdict.explanation.endswith(
        "runs until 2026-05-05 20:30 CEST (min_gap), then quiet_hours until 2026-05-06 08:00 CEST"
    )
    assert isinstance(check(message(evening), [late], YES, policy, verdict.until), Send)


def test_the_marketing_cap_counts_marketing_only_in_a_rolling_window() -> None:
    policy = replace(POLICY, marketing_cap=MarketingCap(max=2, days=30))
    history = [
        SentMessage(berlin(2026, 4, 6, 10, 0), MARKETING),  # 29 days before NOW
        SentMessage(berlin(2026, 4, 20, 10, 0), MARKETING),
        SentMessage(berlin(2026, 5, 1, 10, 0), SERVICE),
    ]
    assert check(message(NOW), history, YES, policy, NOW) == HoldBack(
        Rule.MARKETING_CAP,
        "campaign 'wartung' message 1 is held back: this customer already got 2 marketing "
        "messages in the last 30 days (2026-04-06, 2026-04-20); the marketing cap is 2 per 30 "
        "days (marketing_cap)",
    )
    assert isinstance(check(message(NOW, SERVICE), history, YES, policy, NOW), Send)
    # a day later the April 6 message has left the window
    tomorrow = NOW + timedelta(days=1)
    assert isinstance(check(message(NOW), history, YES, policy, tomorrow), Send)


def test_five_campaigns_on_one_day_give_exactly_two_marketing_messages() -> None:
    policy = replace(POLICY, marketing_cap=MarketingCap(max=2, days=30))
    decisions = run(policy, [(NOW + timedelta(minutes=i), MARKETING) for i in range(5)])
    sent = [m for m, v in decisions if isinstance(v, Send)]
    held = [v for _, v in decisions if isinstance(v, HoldBack)]
    assert len(sent) == 2 and len(held) == 3
    assert {v.rule for v in held} == {Rule.MARKETING_CAP}


# -- the property: many campaigns, one customer ------------------------------------------------


def run(
    policy: ContactPolicy, wanted: list[tuple[datetime, Purpose]]
) -> list[tuple[Message, Verdict]]:
    """Every message asked at its due time, deferred ones again at their ``until``; sends are
    fed back into the history. Returns each message's final verdict, in the order decided."""
    queue = [
        (due, n, message(due, purpose, label=f"message {n}"))
        for n, (due, purpose) in enumerate(wanted)
    ]
    heapq.heapify(queue)
    history: list[SentMessage] = []
    final: list[tuple[Message, Verdict]] = []
    steps = 0
    while queue:
        now, n, msg = heapq.heappop(queue)
        steps += 1
        assert steps < 50 * len(wanted), "the deferrals never end"
        verdict = check(msg, history, YES, policy, now)
        if isinstance(verdict, Defer):
            assert verdict.until > now
            heapq.heappush(queue, (verdict.until, n, msg))
            continue
        if isinstance(verdict, Send):
            history.append(SentMessage(now, msg.purpose))
        final.append((replace(msg, due_at=now), verdict))
    return final


@settings(max_examples=100, deadline=None)
@given(
    campaigns=st.lists(
        st.tuples(
            st.sampled_from([MARKETING, SERVICE]),
            st.lists(st.integers(min_value=0, max_value=120 * 24 * 60), min_size=1, max_size=4),
        ),
        min_size=5,
        max_size=5,
    ),
    gap_hours=st.sampled_from([None, 1, 24]),
    quiet=st.booleans(),
)
def test_no_window_of_30_days_ever_holds_more_than_two_marketing_messages(
    campaigns: list[tuple[Purpose, list[int]]], gap_hours: int | None, quiet: bool
) -> None:
    policy = ContactPolicy(
        timezone="Europe/Berlin",
        marketing_cap=MarketingCap(max=2, days=30),
        min_gap=timedelta(hours=gap_hours) if gap_hours else None,
        quiet_hours=NIGHT if quiet else None,
    )
    start = berlin(2026, 1, 1, 0, 0)
    wanted = [
        (start + timedelta(minutes=m), purpose) for purpose, minutes in campaigns for m in minutes
    ]
    decisions = run(policy, wanted)
    # every message got a final answer: sent or held back, never lost
    assert len(decisions) == len(wanted)
    sent = [(m.due_at, m.purpose) for m, v in decisions if isinstance(v, Send)]
    marketing = sorted(t for t, p in sent if p is MARKETING)
    for first in marketing:
        assert sum(1 for t in marketing if first <= t < first + timedelta(days=30)) <= 2
    for m, v in decisions:
        if isinstance(v, HoldBack):
            # only marketing is held back here, by the cap, and the explanation says so
            assert m.purpose is MARKETING
            assert v.rule is Rule.MARKETING_CAP
            assert "(marketing_cap)" in v.explanation and "marketing cap is 2 per 30" in (
                v.explanation
            )
    # every service message went out: they do not count against the cap
    assert sum(1 for _, p in sent if p is SERVICE) == sum(1 for _, p in wanted if p is SERVICE)
    # and what went out kept the gap and the quiet hours
    times = sorted(t for t, _ in sent)
    for earlier, later in itertools.pairwise(times):
        assert later - earlier >= (policy.min_gap or timedelta(0))
    if quiet:
        assert all(not quiet_at(policy, t) for t in times)
