"""The batch pre-filter, step 1: a chunk of orders as columns (one row per order, one per item).

Every value is read with the field's own getter from :mod:`aftersale_kit.core.fields`, on the
order as the engine prices it (:func:`~aftersale_kit.core.currency.price_order`), so a column
holds exactly what a condition would see. A field's column holds its value, or null where the
value is unknown or absent; ``<path>#unknown`` and ``<path>#absent`` say which.

Numbers and money are held exactly, as integers in units of 1/10,000: a value with more decimal
places (an amount converted at an exchange rate) or too large for 64 bits is marked inexact
(``<path>#inexact``) and the tests on it decide nothing. Floats are never used, so a comparison
at the boundary (``subtotal >= 50`` on 50.00) is decided as the core decides it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from ..core.currency import price_order
from ..core.fields import ABSENT, FIELDS, FieldSpec, FieldType
from ..core.model import Order

if TYPE_CHECKING:
    import polars as pl

    from ..core.campaign import ShopSettings

#: Numbers and money are held as integers in units of 1/SCALE.
SCALE_DIGITS: Final = 4
_INT64_MAX: Final = 2**63 - 1
#: The row of an item's order in the order table.
ROW: Final = "#row"
#: The order's amounts are unknown in the shop currency (no exchange rate).
UNPRICED: Final = "#unpriced"

UNKNOWN_SUFFIX: Final = "#unknown"
ABSENT_SUFFIX: Final = "#absent"
INEXACT_SUFFIX: Final = "#inexact"


def scaled(value: Decimal | int) -> int | None:
    """``value`` in units of 1/10,000 as an int, or None if that is not exact or too large."""
    if isinstance(value, int):
        q = value * 10**SCALE_DIGITS
    else:
        if not value.is_finite():
            return None
        d = value.scaleb(SCALE_DIGITS)
        if d != d.to_integral_value():
            return None
        q = int(d)
    return q if -_INT64_MAX <= q <= _INT64_MAX else None


def _utc(value: datetime) -> datetime | None:
    """An aware time in UTC; None for a naive one (the core cannot compare those either)."""
    if value.tzinfo is None:
        return None
    return value.astimezone(UTC)


def _encode(value: object, kind: FieldType) -> tuple[object, bool]:
    """A known value as its column holds it, and whether it is exact."""
    if kind in (FieldType.MONEY, FieldType.NUMBER):
        if isinstance(value, bool) or not isinstance(value, Decimal | int):
            return None, False
        q = scaled(value)
        return q, q is not None
    if kind is FieldType.DATETIME:
        if not isinstance(value, datetime):
            return None, False
        t = _utc(value)
        return t, t is not None
    if kind is FieldType.TEXT_LIST:
        if not isinstance(value, tuple | list) or not all(isinstance(x, str) for x in value):
            return None, False
        return [str(x) for x in value], True
    if kind is FieldType.TEXT:
        return (str(value), True) if isinstance(value, str) else (None, False)
    # a yes/no field
    return (value, True) if isinstance(value, bool) else (None, False)


def _dtype(kind: FieldType) -> Any:
    import polars as pl

    if kind in (FieldType.MONEY, FieldType.NUMBER):
        return pl.Int64
    if kind is FieldType.DATETIME:
        return pl.Datetime("us", "UTC")
    if kind is FieldType.TEXT_LIST:
        return pl.List(pl.String)
    if kind is FieldType.BOOL:
        return pl.Boolean
    return pl.String


def field_columns(spec: FieldSpec, raw: Sequence[object]) -> dict[str, pl.Series]:
    """The columns of one field from its getter's values (None: unknown, ABSENT: absent)."""
    import polars as pl

    values: list[object] = []
    unknown: list[bool] = []
    absent: list[bool] = []
    inexact: list[bool] = []
    kind = spec.type
    for v in raw:
        if v is None:
            values.append(None)
            unknown.append(True)
            absent.append(False)
            inexact.append(False)
        elif v is ABSENT:
            values.append(None)
            unknown.append(False)
            absent.append(True)
            inexact.append(False)
        else:
            encoded, exact = _encode(v, kind)
            values.append(encoded)
            unknown.append(False)
            absent.append(False)
            inexact.append(not exact)
    path = spec.path
    columns = {path: pl.Series(path, values, dtype=_dtype(kind), strict=False)}
    for suffix, flags in (
        (UNKNOWN_SUFFIX, unknown),
        (ABSENT_SUFFIX, absent),
        (INEXACT_SUFFIX, inexact),
    ):
        columns[path + suffix] = pl.Series(path + suffix, flags, dtype=pl.Boolean)
    return columns


def order_frame(
    orders: Sequence[Order], settings: ShopSettings, order_fields: Sequence[str]
) -> tuple[pl.DataFrame, list[Order]]:
    """The order table (one row per order) and the orders as the engine prices them."""
    import polars as pl

    priced: list[Order] = []
    unpriced: list[bool] = []
    shop = settings.currency.upper()
    for order in orders:
        if order.currency.upper() == shop:
            priced.append(order)
            unpriced.append(False)
            continue
        pricing = price_order(order, settings)
        priced.append(pricing.order)
        unpriced.append(pricing.unknown is not None)
    columns: dict[str, pl.Series] = {
        ROW: pl.Series(ROW, range(len(priced)), dtype=pl.Int64),
        UNPRICED: pl.Series(UNPRICED, unpriced, dtype=pl.Boolean),
    }
    for path in order_fields:
        spec = FIELDS[path]
        get = spec.getter
        columns.update(field_columns(spec, [get(o) for o in priced]))
    return pl.DataFrame(columns), priced


def item_frame(priced: Sequence[Order], item_fields: Sequence[str]) -> pl.DataFrame:
    """The item table (one row per line item, ``#row`` naming its order's row)."""
    import polars as pl

    rows: list[int] = []
    items: list[Any] = []
    for i, order in enumerate(priced):
        for item in order.line_items:
            rows.append(i)
            items.append(item)
    columns: dict[str, pl.Series] = {ROW: pl.Series(ROW, rows, dtype=pl.Int64)}
    for path in item_fields:
        spec = FIELDS[path]
        get = spec.getter
        columns.update(field_columns(spec, [get(it) for it in items]))
    return pl.DataFrame(columns)
