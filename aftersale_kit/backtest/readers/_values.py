"""Small parsers shared by the readers; each raises :class:`RowError` in a shop owner's words."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

__all__ = ["RowError", "parse_decimal", "parse_int", "parse_time"]


class RowError(ValueError):
    """One row (or order object) cannot be read; the message says what and where to fix it."""


def parse_time(text: str | None, *, what: str) -> datetime | None:
    """An ISO 8601 date-time or the export's ``2025-01-15 10:23:45 +0100``; empty is ``None``.

    Without an offset the time is taken as UTC (exports in this form always carry one)."""
    if text is None:
        return None
    value = text.strip()
    if not value:
        return None
    if len(value) > 6 and value[-6] == " " and value[-5] in "+-":
        value = value[:-6] + value[-5:]
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise RowError(
            f"{what} {text!r} is not a date and time like 2025-01-15 10:23:45 +0100"
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def parse_decimal(text: str | None, *, what: str) -> Decimal:
    """A money amount (``"19.99"``); empty is zero."""
    if text is None:
        return Decimal(0)
    value = text.strip()
    if not value:
        return Decimal(0)
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise RowError(f"{what} {text!r} is not an amount like 19.99") from None
    if not amount.is_finite():
        raise RowError(f"{what} {text!r} is not an amount like 19.99")
    return amount


def parse_int(text: str | None, *, what: str) -> int:
    """A whole number (a quantity)."""
    value = (text or "").strip()
    try:
        return int(value)
    except ValueError:
        raise RowError(f"{what} {text!r} is not a whole number") from None
