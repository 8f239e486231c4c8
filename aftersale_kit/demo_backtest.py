"""The demo's last step: each example shop backtested over a generated year of orders.

A year of synthetic orders (repeat customers, guests, refunds, from a catalogue fitting the
shop: :mod:`aftersale_kit.backtest.generate`) is written in the shop platform's export format, read
back by the readers ``aftersale-kit backtest`` uses and replayed under the shop's config; the
product file with the catalogue's categories is handed in as ``--products`` would; the
report goes to ``<out>/backtest/<shop>/backtest.html`` and the shop owner's summary is printed.
A few thousand orders, so that the demo stays quick.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from .backtest.command import DEFAULT_REDEMPTION_RATE, run_backtest
from .backtest.products import load_products
from .backtest.report import Texts, language_of, write_report
from .backtest.report.summary import summary_lines
from .core.campaign import ShopConfig
from .core.errors import MissingExtraError

__all__ = ["DEMO_HISTORY", "DemoHistory", "backtest_examples"]

#: The synthetic order histories (``generate`` the orders, ``write`` them in the formats).
GENERATOR = "aftersale_kit.backtest.generate"
#: The export format a shop of each platform would hand in.
EXPORT_FORMAT = {"shopify": "shopify-csv", "woocommerce": "woo-json"}
#: The products each example shop sells (its folder's name; others get the coffee catalogue).
CATALOGUE_OF = {"kaffeeroesterei-shopify": "coffee", "elektronik-woocommerce": "electronics"}


@dataclass(frozen=True, slots=True)
class DemoHistory:
    """The generated year: how many orders from how many customers, from when."""

    count: int = 2200
    customers: int = 600
    seed: int = 1
    start: date = date(2025, 1, 1)
    months: int = 12


DEMO_HISTORY = DemoHistory()


def _history(
    folder: Path, config: ShopConfig, history: DemoHistory, catalogue: str
) -> tuple[Path, Path]:
    """Write the year in the platform's export format and the catalogue's product file (the
    categories and product types order lines do not carry); the orders file (or folder of
    pages) and the product file."""
    generator = importlib.import_module(GENERATOR)
    fmt = EXPORT_FORMAT.get(config.settings.platform, "woo-jsonl")
    orders = generator.generate(
        count=history.count,
        customers=history.customers,
        seed=history.seed,
        start=history.start,
        months=history.months,
        currency=config.settings.currency,
        catalogue=catalogue,
    )
    generator.write(orders, (fmt,), folder)
    products: Path = generator.write_products(catalogue, folder.parent / "products.json")
    return folder / str(generator.OUTPUTS[fmt]), products


def backtest_examples(
    shops: Sequence[tuple[Path, ShopConfig]],
    *,
    out: TextIO,
    out_dir: Path,
    history: DemoHistory = DEMO_HISTORY,
) -> list[Path]:
    """Backtest every shop over its generated year; print each summary and report path."""
    try:
        importlib.import_module(GENERATOR)
        # the replay books points with the storage's loyalty plan (the `backtest` extra)
        importlib.import_module("aftersale_kit.backtest.replay")
    except MissingExtraError:
        print("\nbacktest left out: pip install 'aftersale-kit[backtest]' to run it", file=out)
        return []
    except ImportError as exc:  # the generator ships with the package; say so if it does not
        print(f"\nbacktest left out: the order generator is missing ({exc})", file=out)
        return []
    print(
        f"\nTestlauf / backtest: {history.count:,} generated orders from "
        f"{history.customers:,} customers, {history.start.isoformat()} + {history.months} months",
        file=out,
    )
    pages = []
    for config_path, config in shops:
        folder = out_dir / "backtest" / config_path.parent.name
        catalogue = CATALOGUE_OF.get(config_path.parent.name, "coffee")
        orders, products = _history(folder / "orders", config, history, catalogue)
        configured = config.settings.backtest_redemption_rate
        rate = DEFAULT_REDEMPTION_RATE if configured is None else configured
        result = run_backtest(
            config,
            [str(orders)],
            redemption_rate=rate,
            batch=None,
            label=str(config_path),
            products=load_products(products),
        )
        lang = language_of(config.settings.locale)
        tz = config.settings.timezone
        page = write_report(folder, [result], lang=lang, timezone=tz, labels=[str(config_path)])
        print(f"\n== {config_path.parent.name}", file=out)
        for line in summary_lines([result], t=Texts(lang), tz=ZoneInfo(tz), report=page):
            print(line, file=out)
        pages.append(page)
    return pages
