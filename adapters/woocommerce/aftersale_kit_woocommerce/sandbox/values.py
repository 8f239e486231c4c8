"""Value conventions shared by the resources: money strings, dates, meta rows, booleans.

* ``wc_format_decimal($value, 2)``: anything numeric-ish to a string with two decimals.
* Dates: ``WC_Data::set_date_prop``: an integer is a UTC timestamp, an ISO string with ``Z`` or
  an offset is that instant, a naive ISO string is site-local time; responses carry the
  site-local value without offset and a ``_gmt`` twin.
* Meta: ``WC_Data::update_meta_data``: by id when one is given and found, else by key (all
  rows of that key collapse into the first), else added; a ``null`` value deletes the row.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .state import Store

__all__ = [
    "DATE_FORMAT",
    "date_pair",
    "format_decimal",
    "parse_wc_date",
    "to_bool",
    "update_meta",
]

DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"
_WITH_OFFSET = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(Z|(?:[-+]\d{2}:\d{2}))$"
)


def format_decimal(value: Any, dp: int = 2) -> str:
    """``wc_format_decimal($value, $dp)``: junk characters dropped, then ``number_format``."""
    text = re.sub(r"[^0-9.\-]", "", str(value if value is not None else ""))
    try:
        number = Decimal(text) if text not in ("", "-", ".", "-.") else Decimal(0)
    except InvalidOperation:
        number = Decimal(0)
    quantum = Decimal(1).scaleb(-dp)
    rounded = number.quantize(quantum, rounding=ROUND_HALF_UP)
    if rounded == 0:
        rounded = abs(rounded)
    return f"{rounded:.{dp}f}"


def to_bool(value: Any) -> bool:
    """``wc_string_to_bool``."""
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("1", "yes", "true", "on")


def parse_wc_date(value: Any, utc_offset: float) -> datetime | None:
    """``set_date_prop`` semantics; returns naive UTC, or ``None`` for empty/unparseable."""
    if value is None or value == "" or value is False:
        return None
    if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
        return datetime.fromtimestamp(int(float(value)), UTC).replace(tzinfo=None)
    text = str(value)
    if _WITH_OFFSET.match(text):
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return parsed.astimezone(UTC).replace(tzinfo=None)
    try:
        local = datetime.fromisoformat(text)
    except ValueError:
        return None
    if local.tzinfo is not None:
        return local.astimezone(UTC).replace(tzinfo=None)
    return local - timedelta(hours=utc_offset)


def date_pair(gmt: datetime | None, utc_offset: float) -> tuple[str | None, str | None]:
    """``(site-local, GMT)`` strings as ``wc_rest_prepare_date_response`` formats them."""
    if gmt is None:
        return None, None
    local = gmt + timedelta(hours=utc_offset)
    return local.strftime(DATE_FORMAT), gmt.strftime(DATE_FORMAT)


def update_meta(
    store: Store, rows: list[dict[str, Any]], key: Any, value: Any, meta_id: Any = None
) -> None:
    """Apply one ``{"key", "value", "id"?}`` write to ``rows`` in place (see module docs)."""
    key = str(key)
    target: dict[str, Any] | None = None
    if meta_id not in (None, "", 0, "0"):
        target = next((row for row in rows if str(row.get("id")) == str(meta_id)), None)
    else:
        matches = [row for row in rows if row.get("key") == key]
        for row in matches:
            row["value"] = None
        target = matches[0] if matches else None
    if target is not None:
        target["key"] = key
        target["value"] = value
    else:
        rows.append({"id": store.new_meta_id(), "key": key, "value": value})
    # save_meta_data(): rows whose value became null are deleted.
    rows[:] = [row for row in rows if row.get("value") is not None]


def apply_meta_writes(store: Store, rows: list[dict[str, Any]], writes: Any) -> None:
    """The REST ``meta_data`` array: each item's key/value/id applied in order."""
    if not isinstance(writes, list):
        return
    for item in writes:
        if isinstance(item, dict) and "key" in item:
            update_meta(store, rows, item["key"], item.get("value"), item.get("id"))
