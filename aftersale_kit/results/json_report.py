"""The results as JSON (``report.json``, ``report --format json``): the fields of
:class:`~.figures.ShopResults` under their own names, money and shares as decimal strings (no
float ever rounds a cent), times in ISO 8601, tuples as lists.

``<``, ``>`` and ``&`` are written as ``\\u003c``, ``\\u003e`` and ``\\u0026`` (the same JSON
value): a shop's hostile campaign name stays inert even where the JSON lands inside HTML.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from .figures import ShopResults

__all__ = ["render_json", "to_data"]

_INERT = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def to_data(results: ShopResults) -> dict[str, Any]:
    """The results as JSON-ready dicts, lists, strings, numbers and ``None``."""
    data: dict[str, Any] = _plain(results)
    return data


def render_json(results: ShopResults) -> str:
    """The results as one JSON document (UTF-8 text, indented for reading)."""
    text = json.dumps(to_data(results), ensure_ascii=False, indent=2)
    return text.translate(_INERT)
