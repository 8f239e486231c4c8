"""Typed, path-aware reads from a decoded JSON object, for the normalizers.

Every failure is a :class:`~aftersale_kit.core.errors.PayloadError` whose message names the payload,
the field path (``line_items[2].price``), what was expected and what was found, and whose ``field``
attribute holds that path. Absent keys and JSON ``null`` are the same thing: *not given*.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ..errors import PayloadError
from ..model import Address
from ..money import to_decimal

__all__ = ["Obj", "address", "describe", "split_tags", "unwrap"]


def describe(value: object) -> str:
    """A short "what was found" for messages: the JSON type name and a clipped repr."""
    names = {
        dict: "an object",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
    }
    kind = next((name for t, name in names.items() if type(value) is t), type(value).__name__)
    text = repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{kind} {text}"


def split_tags(text: str) -> tuple[str, ...]:
    """A comma-separated tag string (``"vip, wholesale"``) as a tuple; ``""`` gives ``()``."""
    return tuple(tag for tag in (part.strip() for part in text.split(",")) if tag)


#: The order times a payload may carry (:meth:`Obj.opt_datetime`).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)


class Obj:
    """One JSON object inside a payload, with its path for error messages."""

    __slots__ = ("data", "label", "path")

    def __init__(self, data: object, *, label: str, path: str = "") -> None:
        if not isinstance(data, Mapping):
            what = f"{label} field {path!r}" if path else label
            raise PayloadError(
                f"{what} must be a JSON object, got {describe(data)}", field=path or None
            )
        self.data: Mapping[str, Any] = data
        self.label = label
        self.path = path

    # -- plumbing ---------------------------------------------------------------------------

    def where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def missing(self, key: str, expected: str) -> PayloadError:
        where = self.where(key)
        return PayloadError(f"{self.label} has no {where!r} ({expected} expected)", field=where)

    def wrong(self, key: str, expected: str, value: object) -> PayloadError:
        where = self.where(key)
        return PayloadError(
            f"{self.label} field {where!r} must be {expected}, got {describe(value)}", field=where
        )

    def raw(self, key: str) -> Any:
        return self.data.get(key)

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    # -- nested structures ------------------------------------------------------------------

    def child(self, key: str) -> Obj | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise self.wrong(key, "an object", value)
        return Obj(value, label=self.label, path=self.where(key))

    def objects(self, key: str, *, required: bool = False) -> list[Obj]:
        """A list of objects; absent gives ``[]`` unless ``required``."""
        value = self.data.get(key)
        if value is None:
            if required:
                raise self.missing(key, "list")
            return []
        if not isinstance(value, list):
            raise self.wrong(key, "a list", value)
        return [
            Obj(item, label=self.label, path=f"{self.where(key)}[{i}]")
            for i, item in enumerate(value)
        ]

    def strings(self, key: str) -> list[str]:
        """A list of strings (``null`` entries skipped); absent gives ``[]``."""
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(v is None or isinstance(v, str) for v in value):
            raise self.wrong(key, "a list of strings", value)
        return [v for v in value if v]

    # -- scalars ----------------------------------------------------------------------------

    def opt_id(self, key: str, *, zero_is_none: bool = False) -> str | None:
        """An id as a string; JSON integers are kept exact (platform ids may exceed 2**53)."""
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return None if zero_is_none and value == 0 else str(value)
        if isinstance(value, str):
            text = value.strip()
            if text == "" or (zero_is_none and text == "0"):
                return None
            return text
        raise self.wrong(key, "an id (integer or string)", value)

    def req_id(self, key: str) -> str:
        found = self.opt_id(key)
        if found is None:
            raise self.missing(key, "an id")
        return found

    def opt_str(self, key: str) -> str | None:
        """A text; ``""`` and whitespace-only count as not given. Numbers are turned into text."""
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            return value.strip() or None
        if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
            return str(value)
        raise self.wrong(key, "a string", value)

    def req_str(self, key: str) -> str:
        found = self.opt_str(key)
        if found is None:
            raise self.missing(key, "a non-empty string")
        return found

    def opt_money(self, key: str) -> Decimal | None:
        value = self.data.get(key)
        if value is None:
            return None
        try:
            return to_decimal(value)
        except ValueError:
            raise self.wrong(key, "a money amount", value) from None

    def req_money(self, key: str) -> Decimal:
        found = self.opt_money(key)
        if found is None:
            raise self.missing(key, "a money amount")
        return found

    def opt_int(self, key: str) -> int | None:
        """An integer; accepts ``"3"`` and ``3.0`` (some payloads send counts as text)."""
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool):
            raise self.wrong(key, "an integer", value)
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        raise self.wrong(key, "an integer", value)

    def req_int(self, key: str) -> int:
        found = self.opt_int(key)
        if found is None:
            raise self.missing(key, "an integer")
        return found

    def opt_bool(self, key: str) -> bool | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool):
            return value
        raise self.wrong(key, "true or false", value)

    def opt_datetime(self, key: str, *, naive_is_utc: bool) -> datetime | None:
        """An ISO 8601 date-time, always returned timezone-aware.

        With ``naive_is_utc`` a value without offset is taken as UTC; otherwise it is refused.
        """
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.wrong(key, "an ISO 8601 date-time string", value)
        text = value.strip()
        if text == "":
            return None
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise self.wrong(key, "an ISO 8601 date-time", value) from None
        if parsed.tzinfo is None:
            if not naive_is_utc:
                raise self.wrong(key, "an ISO 8601 date-time with a UTC offset", value)
            parsed = parsed.replace(tzinfo=UTC)
        if not EARLIEST <= parsed < LATEST:
            # no shop takes orders then, and the calendar arithmetic of budgets, delays and
            # repeats (a year ahead at most) stays inside what datetime can hold
            raise self.wrong(key, "a date-time between the years 1970 and 2999", value)
        return parsed


def unwrap(payload: object, *, label: str) -> Obj:
    """The order object of a payload: the bare order, or the REST wrapper ``{"order": {...}}``."""
    if (
        isinstance(payload, Mapping)
        and "id" not in payload
        and isinstance(payload.get("order"), Mapping)
    ):
        return Obj(payload["order"], label=label, path="order")
    return Obj(payload, label=label)


def address(a: Obj | None, *, country: str, province: str, zip_code: str) -> Address | None:
    """The address in ``a``, read under the platform's keys; ``None`` when it holds none of them.

    Country and province codes are upper-cased (``de`` and ``DE`` are the same country)."""
    if a is None:
        return None
    country_code = a.opt_str(country)
    province_code = a.opt_str(province)
    found = Address(
        country_code=country_code.upper() if country_code else None,
        province_code=province_code.upper() if province_code else None,
        city=a.opt_str("city"),
        zip=a.opt_str(zip_code),
    )
    return None if found == Address() else found
