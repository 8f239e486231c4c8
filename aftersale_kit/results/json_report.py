"""The results as one JSON document for the dashboard's ``report.json``: the data of
:func:`.export.to_data` (every field of :class:`~.figures.ShopResults` under its own name, money
as decimal strings, times in ISO 8601), indented.

``<``, ``>`` and ``&`` are written as ``\\u003c``, ``\\u003e`` and ``\\u0026`` (the same JSON
value): a shop's hostile campaign name stays inert even where the JSON lands inside HTML.
"""

from __future__ import annotations

import json

from .export import to_data
from .figures import ShopResults

__all__ = ["render_json", "to_data"]

_INERT = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def render_json(results: ShopResults) -> str:
    """The results as one JSON document (UTF-8 text, indented for reading)."""
    text = json.dumps(to_data(results), ensure_ascii=False, indent=2)
    return text.translate(_INERT)
