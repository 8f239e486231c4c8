"""Small SQL helpers shared by the storage modules."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite

__all__ = ["aware", "from_micros", "insert_ignore", "statement", "to_micros", "utcnow"]

_T = TypeVar("_T")
_STATEMENTS: dict[Hashable, Any] = {}

_MICRO = Decimal("0.000001")
_MILLION = Decimal(1_000_000)


def statement(key: Hashable, build: Callable[[], _T]) -> _T:
    """The statement ``build`` makes, built once per ``key`` and reused (statements are
    immutable; a reused one skips its construction and the computation of its cache key on
    every execution, most of the cost of a small query). Values go in as bound parameters."""
    found = _STATEMENTS.get(key)
    if found is None:
        found = _STATEMENTS[key] = build()
    return found


def insert_ignore(conn: Connection, table: Table, *conflict: str) -> Any:
    """``INSERT ... ON CONFLICT (conflict) DO NOTHING`` for the connection's dialect."""
    name = conn.dialect.name
    module: Any = postgresql if name == "postgresql" else sqlite
    return statement(
        ("insert_ignore", name, table, conflict),
        lambda: module.insert(table).on_conflict_do_nothing(index_elements=list(conflict)),
    )


def to_micros(amount: Decimal) -> int:
    """A money amount as an integer of millionths (exact sums in SQL on both engines)."""
    return int(amount.quantize(_MICRO, rounding=ROUND_HALF_UP) * _MILLION)


def from_micros(micros: int | None) -> Decimal:
    return Decimal(int(micros or 0)) / _MILLION


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(value: datetime | None, name: str) -> datetime:
    """``value`` (or now when ``None``); a naive datetime is refused naming the argument."""
    if value is None:
        return utcnow()
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"{name}={value.isoformat()} has no timezone; pass an aware datetime, "
            "e.g. datetime.now(UTC)"
        )
    return value
