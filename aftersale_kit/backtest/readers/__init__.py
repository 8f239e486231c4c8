"""Readers of past orders from files: the formats a backtest takes (issue 15, step 1).

=================  ==========================================================================
``shopify-csv``    the orders CSV Shopify's admin exports (one row per line item)
``shopify-bulk``   the JSON Lines result of a Shopify bulk operation over orders
``woo-json``       WooCommerce REST order pages: JSON arrays (or values one after another)
``woo-jsonl``      WooCommerce orders (or pages) as JSON Lines
=================  ==========================================================================

Every file may be gzip-compressed (detected by its magic bytes, whatever its name). Reading is
streamed throughout: CSV and JSON Lines line by line, JSON pages value by value from a sliding
window (:mod:`._jsonstream`; an array is never parsed whole, whatever its size), so memory is
bounded by the largest single order. Rows that cannot be read go to ``on_bad`` with the file and
line; a file that cannot be read at all (missing, unknown format) raises :class:`ReaderError`
with one message.

:func:`common_view` says what the formats have in common: the fields on which the same orders
read from any of them are equal.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Final

from ..history import BadRow, BadRowSink, HistoryOrder, OrderReader, date_problem
from ._io import ReaderError, damage, open_binary, open_text
from .compare import common_view
from .shopify_bulk import ShopifyBulkReader
from .shopify_csv import ShopifyCsvReader
from .woo_pages import WooJsonLinesReader, WooPagesReader

__all__ = [
    "FORMATS",
    "ReaderError",
    "common_view",
    "detect_format",
    "open_text",
    "read_orders",
    "reader_for",
]

FORMATS: Final[dict[str, type[OrderReader]]] = {
    "shopify-csv": ShopifyCsvReader,
    "shopify-bulk": ShopifyBulkReader,
    "woo-json": WooPagesReader,
    "woo-jsonl": WooJsonLinesReader,
}

_PEEK = 1 << 16


def reader_for(fmt: str) -> OrderReader:
    """The reader of a format by name; :class:`ReaderError` naming the known ones otherwise."""
    try:
        return FORMATS[fmt]()
    except KeyError:
        raise ReaderError(f"unknown order format {fmt!r}; known: {', '.join(FORMATS)}") from None


def _peek(path: str) -> str:
    data = b""
    with open_binary(path) as raw:
        while len(data) < _PEEK and (chunk := raw.read(4096)):
            data += chunk
        if not data and damage(raw):
            raise ReaderError(
                f"{path}: the compressed file is damaged or cut off before its first order; "
                "download or compress it again"
            )
    return data.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")


def detect_format(path: str) -> str:
    """The format of ``path`` from its first bytes (after gunzip).

    ``[`` is a JSON page; ``{`` JSON Lines, of a bulk operation when the first object has a
    ``gid://shopify/Order/`` id or a ``__parentId``; a header with ``Lineitem name`` is the
    CSV export."""
    head = _peek(path)
    if head.startswith("["):
        return "woo-json"
    if head.startswith("{"):
        first = head.split("\n", 1)[0]
        if '"__parentId"' in first or '"gid://shopify/Order/' in first:
            return "shopify-bulk"
        if first.rstrip().endswith("}"):
            return "woo-jsonl"
        return "woo-json"
    first_line = head.split("\n", 1)[0]
    if "Lineitem name" in first_line or first_line.startswith(("Name,", '"Name"')):
        return "shopify-csv"
    raise ReaderError(
        f"{path}: cannot tell the format (not a Shopify orders CSV, bulk-operation JSON Lines "
        "or WooCommerce order JSON); name it with --format"
    )


def _files(paths: Iterable[str]) -> Iterator[str]:
    for path in paths:
        if os.path.isdir(path):
            for name in sorted(os.listdir(path)):
                full = os.path.join(path, name)
                if os.path.isfile(full) and not name.startswith("."):
                    yield full
        elif not os.path.exists(path):
            raise ReaderError(f"{path}: no such file")
        else:
            yield path


def read_orders(
    paths: Iterable[str],
    *,
    shop: str,
    currency: str,
    on_bad: BadRowSink,
    fmt: str | None = None,
) -> Iterator[HistoryOrder]:
    """The orders of all ``paths`` in file order (a directory: its files sorted by name).

    ``fmt`` names the format of all files; without it each file's is detected."""
    for path in _files(paths):
        reader = reader_for(fmt or detect_format(path))
        for h in reader.read(path, shop=shop, currency=currency.upper(), on_bad=on_bad):
            problem = date_problem(h)
            if problem is None:
                yield h
            else:
                on_bad(BadRow(h.source.path, h.source.line, problem))
