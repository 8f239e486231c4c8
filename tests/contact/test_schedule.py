"""When the messages of a follow-up are due: days, business days and months in the shop's wall
time, across daylight-saving changes, and what a later order stops."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftersale_kit.core.conditions import compile_condition
from aftersale_kit.core.contact.calendar import (
    add_business_days,
    add_months,
    local_wall,
    to_utc,
)
from aftersale_kit.core.contact.follow_up import (
    Delay,
    DelayUnit,
    FollowUp,
    FollowUpKind,
    Purpose,
    Repeat,
)
from aftersale_kit.core.contact.schedule import (
    PlannedMessage,
    due_times,
    planned_messages,
    stop_moment,
)
from aftersale_kit.core.decision import PlannedAction
from aftersale_kit.core.money import Money

from .builders import BERLIN, berlin, order, utc

DAYS, BUSINESS, MONTHS = DelayUnit.DAYS, DelayUnit.BUSINESS_DAYS, DelayUnit.MONTHS


def action(after: Delay, repeat: Repeat | None = None) -> FollowUp:
    return FollowUp(
        kind=FollowUpKind.SERVICE_REMINDER,
        template="service_reminder",
        after=after,
        purpose=Purpose.MARKETING,
        repeat=repeat,
    )


def due(after: Delay, trigger: datetime, repeat: Repeat | None = None, **kw: object) -> list[str]:
    """The due times in Berlin wall time, as text."""
    times = due_times(action(after, repeat), trigger_at=trigger, tz="Europe/Berlin", **kw)  # type: ignore[arg-type]
    assert all(t.tzinfo is UTC for t in times)
    return [f"{t.astimezone(BERLIN):%a %Y-%m-%d %H:%M %Z}" for t in times]


# -- calendar days and business days -------------------------------------------------------------


def test_days_keep_the_wall_time_across_the_spring_change() -> None:
    # Saturday 10:00 CET + 1 day is Sunday 10:00 CEST: 23 hours later
    trigger = berlin(2026, 3, 28, 10, 0)
    assert due(Delay(1, DAYS), trigger) == ["Sun 2026-03-29 10:00 CEST"]
    [first] = due_times(action(Delay(1, DAYS)), trigger_at=trigger, tz="Europe/Berlin")
    assert first - trigger == timedelta(hours=23)
    assert first == utc(2026, 3, 29, 8, 0)


def test_days_keep_the_wall_time_across_the_autumn_change() -> None:
    # Saturday 10:00 CEST + 1 day is Sunday 10:00 CET: 25 hours later
    trigger = berlin(2026, 10, 24, 10, 0)
    [first] = due_times(action(Delay(1, DAYS)), trigger_at=trigger, tz="Europe/Berlin")
    assert first == utc(2026, 10, 25, 9, 0)
    assert first - trigger == timedelta(hours=25)


def test_the_trigger_is_read_in_the_shop_zone_whatever_zone_it_came_in() -> None:
    # 23:30 UTC on Friday is already Saturday 00:30 in Berlin: + 1 business day is Monday
    trigger = utc(2026, 3, 6, 23, 30)
    assert due(Delay(1, BUSINESS), trigger) == ["Mon 2026-03-09 00:30 CET"]


@pytest.mark.parametrize(
    ("start", "count", "expected"),
    [
        (date(2026, 3, 2), 3, date(2026, 3, 5)),  # Monday + 3 = Thursday
        (date(2026, 3, 6), 1, date(2026, 3, 9)),  # Friday + 1 = Monday
        (date(2026, 3, 7), 1, date(2026, 3, 9)),  # Saturday + 1 = Monday
        (date(2026, 3, 8), 5, date(2026, 3, 13)),  # Sunday + 5 = Friday
        (date(2026, 3, 5), 0, date(2026, 3, 5)),  # 0: the day itself
    ],
)
def test_business_days_skip_weekends(start: date, count: int, expected: date) -> None:
    assert add_business_days(start, count) == expected


def test_business_days_skip_holidays() -> None:
    # Wednesday 2026-12-23 + 3 business days, with the 24th to 26th off: Mon 28, Tue 29, Wed 30
    holidays = {date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 26)}
    assert add_business_days(date(2026, 12, 23), 3, holidays) == date(2026, 12, 30)
    trigger = berlin(2026, 12, 23, 16, 45)
    assert due(Delay(3, BUSINESS), trigger, holidays=holidays) == ["Wed 2026-12-30 16:45 CET"]


def test_business_days_across_the_spring_change_keep_the_wall_time() -> None:
    # Friday 2026-03-27 09:00 CET + 1 business day = Monday 09:00 CEST (07:00 UTC)
    [first] = due_times(
        action(Delay(1, BUSINESS)), trigger_at=berlin(2026, 3, 27, 9, 0), tz="Europe/Berlin"
    )
    assert first == utc(2026, 3, 30, 7, 0)


@given(
    st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
    st.integers(min_value=0, max_value=60),
    st.sets(st.dates(min_value=date(2020, 1, 1), max_value=date(2036, 12, 31)), max_size=20),
)
def test_business_days_count_exactly_the_working_days_between(
    start: date, count: int, holidays: set[date]
) -> None:
    end = add_business_days(start, count, holidays)
    between = [start + timedelta(days=i) for i in range(1, (end - start).days + 1)]
    working = [d for d in between if d.weekday() < 5 and d not in holidays]
    assert len(working) == count
    assert count == 0 or end in working


# -- months and repeats --------------------------------------------------------------------------


def test_month_repeats_are_counted_from_the_first_message_and_keep_the_31st() -> None:
    # first after 0 days on Jan 31, then every month: Feb 28, Mar 31, Apr 30 - never drifting
    trigger = berlin(2026, 1, 31, 11, 0)
    assert due(Delay(0, DAYS), trigger, Repeat(Delay(1, MONTHS), times=3)) == [
        "Sat 2026-01-31 11:00 CET",
        "Sat 2026-02-28 11:00 CET",
        "Tue 2026-03-31 11:00 CEST",
        "Thu 2026-04-30 11:00 CEST",
    ]


def test_jan_31_plus_one_month_is_feb_29_in_a_leap_year() -> None:
    assert add_months(datetime(2028, 1, 31, 8, 0), 1) == datetime(2028, 2, 29, 8, 0)
    assert add_months(datetime(2026, 11, 30, 8, 0), 3) == datetime(2027, 2, 28, 8, 0)
    assert add_months(datetime(2026, 3, 15), -3) == datetime(2025, 12, 15)


def test_a_quarterly_service_reminder_is_due_at_3_6_and_9_months() -> None:
    trigger = berlin(2026, 1, 15, 14, 30)
    assert due(Delay(3, MONTHS), trigger, Repeat(Delay(3, MONTHS), times=2)) == [
        "Wed 2026-04-15 14:30 CEST",
        "Wed 2026-07-15 14:30 CEST",
        "Thu 2026-10-15 14:30 CEST",
    ]


def test_day_repeats_follow_the_first_message() -> None:
    trigger = berlin(2026, 3, 23, 9, 0)
    assert due(Delay(2, BUSINESS), trigger, Repeat(Delay(7, DAYS), times=2)) == [
        "Wed 2026-03-25 09:00 CET",
        "Wed 2026-04-01 09:00 CEST",
        "Wed 2026-04-08 09:00 CEST",
    ]


# -- wall times the clock skips or repeats (RFC 5545) ---------------------------------------------


def test_a_skipped_wall_time_is_read_with_the_offset_before_the_change() -> None:
    # 02:30 does not exist on 2026-03-29 in Berlin: it is 01:30 UTC, i.e. 03:30 CEST
    assert to_utc(datetime(2026, 3, 29, 2, 30), "Europe/Berlin") == utc(2026, 3, 29, 1, 30)
    trigger = berlin(2026, 3, 28, 2, 30)
    assert due(Delay(1, DAYS), trigger) == ["Sun 2026-03-29 03:30 CEST"]


def test_a_repeated_wall_time_is_its_first_occurrence() -> None:
    # 02:30 happens twice on 2026-10-25 in Berlin: first at 00:30 UTC (CEST)
    assert to_utc(datetime(2026, 10, 25, 2, 30), "Europe/Berlin") == utc(2026, 10, 25, 0, 30)
    assert local_wall(utc(2026, 10, 25, 1, 30), "Europe/Berlin") == datetime(2026, 10, 25, 2, 30)


def test_naive_and_aware_times_are_refused_where_they_do_not_belong() -> None:
    with pytest.raises(ValueError, match="aware"):
        local_wall(datetime(2026, 1, 1), "Europe/Berlin")
    with pytest.raises(ValueError, match="naive"):
        to_utc(utc(2026, 1, 1), "Europe/Berlin")
    with pytest.raises(ValueError, match="0 or more"):
        add_business_days(date(2026, 1, 1), -1)


# -- the planned messages ------------------------------------------------------------------------


def planned(repeat: Repeat | None) -> PlannedAction:
    return PlannedAction(
        campaign_id="wartung",
        action=action(Delay(3, MONTHS), repeat),
        idempotency_key="elektro.example.de:1001:wartung:0",
        cost=Money.zero("EUR"),
    )


def test_each_message_has_its_occurrence_and_a_key_of_its_own() -> None:
    messages = planned_messages(
        planned(Repeat(Delay(3, MONTHS), times=1)),
        trigger_at=berlin(2026, 1, 15, 10, 0),
        tz=BERLIN,
    )
    assert messages == (
        PlannedMessage(
            key="elektro.example.de:1001:wartung:0:1",
            campaign_id="wartung",
            occurrence=1,
            due_at=utc(2026, 4, 15, 8, 0),
            kind=FollowUpKind.SERVICE_REMINDER,
            template="service_reminder",
            purpose=Purpose.MARKETING,
        ),
        PlannedMessage(
            key="elektro.example.de:1001:wartung:0:2",
            campaign_id="wartung",
            occurrence=2,
            due_at=utc(2026, 7, 15, 8, 0),
            kind=FollowUpKind.SERVICE_REMINDER,
            template="service_reminder",
            purpose=Purpose.MARKETING,
        ),
    )


def test_a_later_order_that_meets_stop_when_drops_what_is_due_after_it() -> None:
    stop = compile_condition('any line_items.sku == "WARTUNG"')
    plan = planned(Repeat(Delay(3, MONTHS), times=3, stop_when=stop))
    trigger = berlin(2026, 1, 15, 10, 0)
    booked = order("1002", sku="WARTUNG", created_at=utc(2026, 5, 2, 12, 0))
    other = order("1003", created_at=utc(2026, 4, 20, 12, 0))
    messages = planned_messages(plan, trigger_at=trigger, tz=BERLIN, later_orders=[other, booked])
    # due Apr 15 (sent before the booking), then Jul, Oct, Jan: stopped from July on
    assert [m.occurrence for m in messages] == [1]
    assert stop_moment(plan.action, [other, booked]) == booked.created_at  # type: ignore[arg-type]
    # an order that does not meet it stops nothing; no stop_when stops nothing either
    assert len(planned_messages(plan, trigger_at=trigger, tz=BERLIN, later_orders=[other])) == 4
    no_stop = planned(Repeat(Delay(3, MONTHS), times=3))
    assert stop_moment(no_stop.action, [booked]) is None  # type: ignore[arg-type]


def test_an_unknown_stop_verdict_does_not_stop() -> None:
    stop = compile_condition("customer.orders_count >= 2")
    plan = planned(Repeat(Delay(3, MONTHS), times=1, stop_when=stop))
    guest = replace(order("1002", created_at=utc(2026, 2, 1)), customer=None)
    assert stop.evaluate(guest).value is not True
    messages = planned_messages(
        plan, trigger_at=berlin(2026, 1, 15, 10, 0), tz=BERLIN, later_orders=[guest]
    )
    assert len(messages) == 2


def test_only_a_follow_up_has_messages() -> None:
    from aftersale_kit.core.campaign import TagOrder

    other = replace(planned(None), action=TagOrder("x"))
    with pytest.raises(TypeError, match="not a follow_up: TagOrder"):
        planned_messages(other, trigger_at=berlin(2026, 1, 1), tz=BERLIN)
