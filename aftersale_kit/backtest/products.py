"""``--products FILE``: product facts an order line does not carry, from a file.

WooCommerce order lines carry no categories or tags (the live adapter fetches them per product),
and Shopify's CSV export no product type: a campaign on ``line_items.categories`` would see them
unknown and never fire. The file is the ``products`` part of ``evaluate --enrich``'s format::

    {"products": {"SP-A55-128": {"categories": ["smartphones"], "tags": ["5g"]},
                  "1234": {"product_type": "Kaffee"}}}

keyed by SKU or product id. A line gets the facts of its SKU, else of its product id, where the
order itself lacks them (values the export carries are kept). They are added as the orders are
read, before the pre-filter and the replay, so both see the same lines.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from typing import Any

from ..core.model import LineItem
from ..evaluation import EvaluationError, read_json_file
from .history import HistoryOrder

__all__ = ["ProductFacts", "load_products", "with_products"]

#: Per SKU or product id: the line item fields to fill in.
ProductFacts = Mapping[str, Mapping[str, Any]]
_FACTS = ("product_type", "tags", "categories")


def _texts(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise EvaluationError(f"{where}: expected a list of texts, got {value!r}")
    return tuple(value)


def _facts(ref: str, facts: Any, source: str) -> dict[str, Any]:
    where = f"{source}: products.{ref}"
    if not isinstance(facts, dict):
        raise EvaluationError(f'{where}: expected an object such as {{"categories": [...]}}')
    found: dict[str, Any] = {}
    for key, value in facts.items():
        if key not in _FACTS:
            raise EvaluationError(f"{where}.{key}: unknown; expected one of {', '.join(_FACTS)}")
        if key == "product_type":
            if value is not None and not isinstance(value, str):
                raise EvaluationError(f"{where}.{key}: expected a text, got {value!r}")
            found[key] = value
        else:
            found[key] = _texts(value, f"{where}.{key}")
    return found


def load_products(path: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """The product facts of ``path``; :class:`EvaluationError` names the file and the product."""
    source = os.fspath(path)
    data = read_json_file(path)
    if not isinstance(data, dict) or not isinstance(data.get("products"), dict):
        raise EvaluationError(
            f'{source}: expected a JSON object with "products": {{"SKU": {{"categories": [...]}}}}'
        )
    return {str(ref): _facts(str(ref), facts, source) for ref, facts in data["products"].items()}


def _line(item: LineItem, products: ProductFacts) -> LineItem:
    facts = products.get(item.sku or "") or products.get(item.product_id or "")
    if not facts:
        return item
    changes = {k: v for k, v in facts.items() if getattr(item, k) is None}
    return replace(item, **changes) if changes else item


def with_products(orders: Iterable[HistoryOrder], products: ProductFacts) -> Iterator[HistoryOrder]:
    """``orders`` with their lines' missing product facts filled in from ``products``."""
    for h in orders:
        lines = tuple(_line(item, products) for item in h.order.line_items)
        if any(a is not b for a, b in zip(lines, h.order.line_items, strict=True)):
            h = replace(h, order=replace(h.order, line_items=lines))
        yield h
