"""Expected delivery dates in business days (Monday to Friday, minus optional holidays).

Pure date arithmetic, no time zones and no I/O: the caller passes the local date the order was
placed (or shipped) on.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from datetime import date, timedelta

__all__ = [
    "DayRange",
    "add_business_days",
    "delivery_window",
    "is_business_day",
    "parse_day_range",
]

#: ``(fewest, most)`` business days.
DayRange = tuple[int, int]

_RANGE = re.compile(r"^\s*(\d{1,3})\s*(?:[-–]\s*(\d{1,3})\s*)?$")
_NO_HOLIDAYS: frozenset[date] = frozenset()


def parse_day_range(value: object, *, name: str) -> DayRange:
    """``2`` -> ``(2, 2)``; ``"1-3"`` or ``[1, 3]`` -> ``(1, 3)``.

    Raises ValueError naming ``name`` and the shape expected.
    """
    low: object
    high: object
    if isinstance(value, str):
        match = _RANGE.match(value)
        if match is None:
            raise ValueError(
                f"{name} must be a number of days like 2 or a range like '1-3', got {value!r}"
            )
        low = int(match.group(1))
        high = int(match.group(2)) if match.group(2) is not None else low
    elif isinstance(value, Sequence) and len(value) == 2:
        low, high = value[0], value[1]
    else:
        low = high = value
    if not (_is_days(low) and _is_days(high)):
        raise ValueError(
            f"{name} must be a whole number of days (0 or more) or a range like '1-3', "
            f"got {value!r}"
        )
    assert isinstance(low, int) and isinstance(high, int)
    if low > high:
        raise ValueError(f"{name}: the range {value!r} runs backwards; write '{high}-{low}'")
    return (low, high)


def _is_days(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 365


def is_business_day(day: date, holidays: Collection[date] = _NO_HOLIDAYS) -> bool:
    return day.weekday() < 5 and day not in holidays


def add_business_days(start: date, days: int, *, holidays: Collection[date] = _NO_HOLIDAYS) -> date:
    """The date ``days`` business days after ``start``.

    Saturdays, Sundays and ``holidays`` are skipped. ``days == 0`` gives ``start`` itself when it
    is a business day, else the next business day (an order placed on Saturday is handled on
    Monday).
    """
    if days < 0:
        raise ValueError(f"days must not be negative, got {days}")
    current = start
    if days == 0:
        while not is_business_day(current, holidays):
            current += timedelta(days=1)
        return current
    counted = 0
    while counted < days:
        current += timedelta(days=1)
        if is_business_day(current, holidays):
            counted += 1
    return current


def delivery_window(
    ordered_on: date,
    *,
    handling_days: DayRange,
    transit_days: DayRange,
    holidays: Collection[date] = _NO_HOLIDAYS,
) -> tuple[date, date]:
    """Earliest and latest expected delivery date: handling, then transit, in business days."""
    fewest = handling_days[0] + transit_days[0]
    most = handling_days[1] + transit_days[1]
    return (
        add_business_days(ordered_on, fewest, holidays=holidays),
        add_business_days(ordered_on, most, holidays=holidays),
    )
