"""Business-day arithmetic for the expected delivery window."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftersale_kit.content.delivery import (
    add_business_days,
    delivery_window,
    is_business_day,
    parse_day_range,
)

MON, TUE, WED, THU, FRI, SAT, SUN = (date(2025, 11, 17) + timedelta(days=i) for i in range(7))


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (WED, 1, THU),
        (WED, 2, FRI),
        (WED, 3, date(2025, 11, 24)),  # over the weekend to Monday
        (FRI, 1, date(2025, 11, 24)),
        (SAT, 1, date(2025, 11, 24)),  # ordered on Saturday: Monday is the first business day
        (SUN, 1, date(2025, 11, 24)),
        (SAT, 0, date(2025, 11, 24)),
        (WED, 0, WED),
        (FRI, 5, date(2025, 11, 28)),  # a whole week later
        (FRI, 10, date(2025, 12, 5)),
    ],
)
def test_add_business_days_skips_saturdays_and_sundays(
    start: date, days: int, expected: date
) -> None:
    assert add_business_days(start, days) == expected


def test_holidays_are_skipped_too() -> None:
    # given Thursday is a holiday
    # when two business days are added to Wednesday
    result = add_business_days(WED, 2, holidays={THU})
    # then Thursday does not count
    assert result == date(2025, 11, 24)


def test_negative_days_are_refused() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        add_business_days(WED, -1)


def test_delivery_window_adds_handling_then_transit() -> None:
    # given an order on Friday 21.11., handled in 1 day, 2 to 4 days in transit
    window = delivery_window(FRI, handling_days=(1, 1), transit_days=(2, 4))
    # then it arrives between Wednesday 26.11. and Friday 28.11.
    assert window == (date(2025, 11, 26), date(2025, 11, 28))


def test_delivery_window_of_exact_days_is_one_day() -> None:
    assert delivery_window(MON, handling_days=(1, 1), transit_days=(1, 1)) == (WED, WED)


@given(
    start=st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
    days=st.integers(min_value=1, max_value=60),
)
def test_result_is_a_business_day_with_exactly_that_many_business_days_between(
    start: date, days: int
) -> None:
    result = add_business_days(start, days)
    assert is_business_day(result)
    between = [start + timedelta(days=i) for i in range(1, (result - start).days + 1)]
    assert sum(is_business_day(d) for d in between) == days


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (2, (2, 2)),
        (0, (0, 0)),
        ("1-3", (1, 3)),
        (" 2 – 4 ", (2, 4)),
        ("5", (5, 5)),
        ([1, 2], (1, 2)),
    ],
)
def test_parse_day_range(value: object, expected: tuple[int, int]) -> None:
    assert parse_day_range(value, name="transit_days") == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("zwei", "transit_days must be a number of days like 2 or a range like '1-3'"),
        (-1, "transit_days must be a whole number of days"),
        (True, "transit_days must be a whole number of days"),
        (2.5, "transit_days must be a whole number of days"),
        ("4-2", "transit_days: the range '4-2' runs backwards; write '2-4'"),
    ],
)
def test_parse_day_range_names_the_parameter_and_the_fix(value: object, message: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        parse_day_range(value, name="transit_days")
    assert str(excinfo.value).startswith(message)
