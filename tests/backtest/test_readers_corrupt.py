"""Five corrupt rows among 100,000 orders: exactly those five lines are reported, the rest read
(issue 15's acceptance, the readers' half)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from aftersale_kit.backtest._generate_write import CSV_COLUMNS
from bench.orders import generate, write

from .readers_support import read


def _set(line: bytes, column: str, value: str) -> bytes:
    row = next(csv.reader([line.decode("utf-8")]))
    row[CSV_COLUMNS.index(column)] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(row)
    return out.getvalue().encode("utf-8")


def _corrupt(lines: list[bytes]) -> list[int]:
    """Corrupt five rows of five different orders in five ways; their 1-based line numbers."""
    firsts = [i for i in range(1, len(lines)) if b" +0100," in lines[i]]
    continuations = [i for i in range(1, len(lines)) if b" +0100," not in lines[i]]
    picks = [
        firsts[1_000],
        firsts[20_000],
        firsts[40_000],
        continuations[300],
        continuations[9_000],
    ]
    lines[picks[0]] = _set(lines[picks[0]], "Total", "zwölf")
    lines[picks[1]] = _set(lines[picks[1]], "Created at", "gestern")
    lines[picks[2]] = lines[picks[2]].replace(b",web,", b",web,,", 1)  # a stray comma
    lines[picks[3]] = lines[picks[3]].replace(b"e", "\u00e9".encode("latin-1"), 1)
    lines[picks[4]] = _set(lines[picks[4]], "Lineitem quantity", "2x")
    return sorted(i + 1 for i in picks)


@pytest.mark.slow
def test_five_corrupt_rows_among_100000_orders(tmp_path: Path) -> None:
    write(generate(count=100_000, customers=20_000, seed=11), ("shopify-csv",), tmp_path)
    path = tmp_path / "orders_export.csv"
    lines = path.read_bytes().splitlines(keepends=True)
    corrupt = _corrupt(lines)
    path.write_bytes(b"".join(lines))
    orders, bad = read(path)
    assert [b.line for b in bad] == corrupt
    assert all(b.path == str(path) and "skipped" in b.reason for b in bad)
    assert len(orders) == 100_000 - 5
    assert len({h.order.id for h in orders}) == 100_000 - 5
