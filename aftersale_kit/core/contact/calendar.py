"""Local wall time in the shop's time zone: business days, months, and the way back to UTC.

Delays and quiet hours are meant in the shop's clock: "in 3 days at the same time", "not before
08:00". They are computed on naive local datetimes ("wall time") and converted to UTC at the end,
so that a day stays a calendar day across a daylight-saving change (23 or 25 hours long).

A wall time the clock skips (Europe/Berlin, last Sunday of March, 02:00-03:00) is read with the
offset before the change, as RFC 5545 does for calendar events: 02:30 becomes 03:30 summer time.
A wall time the clock shows twice (last Sunday of October, 02:00-03:00) is its first occurrence.
"""

from __future__ import annotations

import calendar
from collections.abc import Collection
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

__all__ = [
    "add_business_days",
    "add_months",
    "is_business_day",
    "local_wall",
    "to_utc",
    "zone",
]


def zone(tz: tzinfo | str) -> tzinfo:
    """A time zone from its IANA name (``Europe/Berlin``), or the zone itself."""
    return ZoneInfo(tz) if isinstance(tz, str) else tz


def local_wall(moment: datetime, tz: tzinfo | str) -> datetime:
    """The shop's wall-clock time of an aware ``moment``, as a naive datetime."""
    if moment.tzinfo is None:
        raise ValueError("expected an aware datetime (with a time zone)")
    return moment.astimezone(zone(tz)).replace(tzinfo=None)


def to_utc(wall: datetime, tz: tzinfo | str) -> datetime:
    """The UTC instant of a naive wall time in ``tz`` (skipped times: the offset before the
    change; repeated times: the first occurrence)."""
    if wall.tzinfo is not None:
        raise ValueError("expected a naive wall time")
    return wall.replace(tzinfo=zone(tz), fold=0).astimezone(UTC)


def is_business_day(day: date, holidays: Collection[date] = ()) -> bool:
    """Monday to Friday and not one of ``holidays``."""
    return day.weekday() < 5 and day not in holidays


def add_business_days(day: date, count: int, holidays: Collection[date] = ()) -> date:
    """The ``count``-th business day after ``day`` (``day`` itself never counts: Friday + 1 is
    Monday, Saturday + 1 is Monday too)."""
    if count < 0:
        raise ValueError("count must be 0 or more")
    current = day
    left = count
    while left:
        current += timedelta(days=1)
        if is_business_day(current, holidays):
            left -= 1
    return current


def add_months(wall: datetime, months: int) -> datetime:
    """``wall`` moved by whole calendar months, keeping the day and time; a day the target month
    lacks becomes its last day (Jan 31 + 1 month is Feb 28, or 29 in a leap year)."""
    index = wall.year * 12 + (wall.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return wall.replace(year=year, month=month + 1, day=min(wall.day, last))
