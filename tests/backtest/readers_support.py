"""Helpers of the reader tests: read a file, collect the bad rows."""

from __future__ import annotations

from pathlib import Path

from aftersale_kit.backtest.history import BadRow, HistoryOrder
from aftersale_kit.backtest.readers import read_orders

DATA = Path(__file__).resolve().parent / "data"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def read(
    *paths: Path | str, fmt: str | None = None, currency: str = "EUR"
) -> tuple[list[HistoryOrder], list[BadRow]]:
    bad: list[BadRow] = []
    orders = list(
        read_orders(
            [str(p) for p in paths],
            shop="shop.example",
            currency=currency,
            on_bad=bad.append,
            fmt=fmt,
        )
    )
    return orders, bad
