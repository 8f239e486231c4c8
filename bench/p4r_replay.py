"""P4r: the backtest's per-order replay (``aftersale_kit.backtest.replay.replay``), without a
pre-filter: every event of a generated history decided by the live engine with the live
semantics (limits, budgets, groups, splits, take-backs, loyalty, follow-ups against the contact
policy), on each example shop's config.

``BENCH_ORDERS`` orders (default 20,000) over a year, a third as many customers with a skewed
repeat distribution, 15 % guests, 10 % refunded (some in full), 3 % cancelled, 3 % unpaid
(:mod:`bench._history`); generated before the clock starts. One process, one thread. The time
is the replay's (time ordering, deciding, booking, summing up); the floor for the batch path
(reading and normalising the orders) is measured by the batch benchmark.
"""

from __future__ import annotations

import os
import time
from decimal import Decimal
from pathlib import Path

from ._history import history
from ._load import cpu_model

TITLE = "## P4r: backtest replay, per-order path"
ORDERS = int(os.environ.get("BENCH_ORDERS", "20000"))
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run() -> str:
    from aftersale_kit.backtest.replay import replay
    from aftersale_kit.core.config.loader import load_config

    rows = []
    for path in sorted(EXAMPLES.glob("*/shop.yaml")):
        config = load_config(path)
        settings = config.settings
        orders = history(
            ORDERS, shop=settings.domain, platform=settings.platform, currency=settings.currency
        )
        started = time.perf_counter()
        result = replay(config, orders, code_secret=b"bench", redemption_rate=Decimal("0.3"))
        seconds = time.perf_counter() - started
        fired = sum(c.orders for c in result.campaigns)
        rows.append(
            f"| {path.parent.name} | {len(config.campaigns)} | {result.orders:,} | "
            f"{result.events:,} | {fired:,} | {seconds:.1f} | {result.orders / seconds:,.0f} |"
        )
    load = os.getloadavg()
    return "\n".join(
        [
            TITLE,
            "",
            f"Machine: {cpu_model()}, {os.cpu_count()} cores; load average "
            f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at the end (shared machine).",
            "",
            "| config | campaigns | orders | events | campaign firings | seconds | orders/s |",
            "|---|---|---|---|---|---|---|",
            *rows,
            "",
        ]
    )
