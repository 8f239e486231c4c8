"""P4: a backtest over a large order history, against its floor and the naive loop.

``BENCH_P4_ORDERS`` orders (default 1,000,000) from ``BENCH_P4_CUSTOMERS`` customers (default
200,000), written once by the generator (``python -m bench orders``, format
``BENCH_P4_FORMAT``, default ``shopify-bulk``; into ``BENCH_P4_DATA`` if set and kept there, else
a temporary directory), and the 30 campaigns of ``bench/p4_shop.yaml``. Each phase runs in a
fresh process (so its peak memory is its own, from ``resource.getrusage``), one after the other,
on one core (polars limited to one thread):

- **floor**: read and normalise the orders (the readers, to ``HistoryOrder``), nothing else;
- **backtest**: read, the batch pre-filter (``aftersale_kit.backtest.batch``) and the stateful
  replay with its candidates, to the result figures; the pre-filter's own time is measured
  inside;
- **replay, no pre-filter** (``BENCH_P4_FULL=1``, default on): the same replay deciding every
  campaign per event, to show what the pre-filter saves;
- **naive loop**: read, then ``decide`` per paid order with ``InMemoryCounters`` (one decision
  per order at its payment, booked when it fires), no events, no take-backs.

The replay decides every event (created, paid, fulfilled, each refund, cancelled), the naive
loop one per order: the naive loop does less work and is still the slower one when the
pre-filter does its job. A profile (``cProfile``) of the backtest over the first
``BENCH_P4_PROFILE_ORDERS`` orders (default 100,000) says where its time goes.
"""

from __future__ import annotations

import cProfile
import io
import json
import multiprocessing
import os
import platform
import pstats
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import Any

from ._load import cpu_model

TITLE = "## P4: backtest"
ORDERS = int(os.environ.get("BENCH_P4_ORDERS", "1000000"))
CUSTOMERS = int(os.environ.get("BENCH_P4_CUSTOMERS", str(max(1, ORDERS // 5))))
FORMAT = os.environ.get("BENCH_P4_FORMAT", "shopify-bulk")
DATA = os.environ.get("BENCH_P4_DATA")
FULL = os.environ.get("BENCH_P4_FULL", "1") == "1"
PROFILE_ORDERS = int(os.environ.get("BENCH_P4_PROFILE_ORDERS", "100000"))
#: Orders per chunk of the pre-filter (default: the package's).
CHUNK = int(os.environ.get("BENCH_P4_CHUNK", "0"))
CONFIG = Path(__file__).resolve().parent / "p4_shop.yaml"
SECRET = b"p4-bench-code-secret"
FILES = {
    "shopify-csv": "orders_export.csv",
    "shopify-bulk": "bulk-orders.jsonl",
    "woo-json": "woo-pages",
    "woo-jsonl": "woo-orders.jsonl",
}


def _generate(folder: Path) -> Path:
    """The generated history (written unless the folder already holds it for this size)."""
    target = folder / FILES[FORMAT]
    stamp = folder / f"p4-{FORMAT}-{ORDERS}-{CUSTOMERS}.done"
    if target.exists() and stamp.exists():
        return target
    from bench.orders import main as generate

    args = ["--count", str(ORDERS), "--customers", str(CUSTOMERS), "--format", FORMAT]
    generate([*args, "--out", str(folder), "--seed", "4"])
    stamp.write_text("ok\n", encoding="utf-8")
    return target


def _config() -> Any:
    from aftersale_kit.core.config import load_config

    return load_config(str(CONFIG))


def _read(path: Path, config: Any, bad: list[Any]) -> Iterator[Any]:
    from aftersale_kit.backtest.readers import read_orders

    settings = config.settings
    return read_orders(
        [str(path)], shop=settings.domain, currency=settings.currency, on_bad=bad.append
    )


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- the phases (each in its own process) ---------------------------------------------------


def _floor(path: Path) -> dict[str, Any]:
    config = _config()
    bad: list[Any] = []
    start = time.perf_counter()
    n = sum(1 for _ in _read(path, config, bad))
    return {"seconds": time.perf_counter() - start, "orders": n, "bad": len(bad)}


def _replay(path: Path, *, batch: bool, limit: int | None = None) -> dict[str, Any]:
    from aftersale_kit.backtest import batch as batch_module
    from aftersale_kit.backtest.replay import replay

    config = _config()
    bad: list[Any] = []
    spent = {"prefilter": 0.0}
    evaluate = batch_module.BatchFilter.evaluate

    def timed(self: Any, orders: Any) -> Any:
        t = time.perf_counter()
        try:
            return evaluate(self, orders)
        finally:
            spent["prefilter"] += time.perf_counter() - t

    batch_module.BatchFilter.evaluate = timed  # type: ignore[method-assign]
    start = time.perf_counter()
    orders: Any = _read(path, config, bad)
    if limit is not None:
        orders = islice(orders, limit)
    options: dict[str, Any] = {}
    if batch:
        chunk = CHUNK or batch_module.DEFAULT_CHUNK
        orders, options["candidates"] = batch_module.prefilter(config, orders, chunk_size=chunk)
    result = replay(config, orders, code_secret=SECRET, redemption_rate=Decimal("0.5"), **options)
    seconds = time.perf_counter() - start
    fired = sum(c.orders for c in result.campaigns)
    return {
        "seconds": seconds,
        "prefilter": spent["prefilter"],
        "orders": result.orders,
        "events": result.events,
        "fired": fired,
        "cost": str(sum((c.expected_cost for c in result.campaigns), Decimal(0))),
    }


def _naive(path: Path) -> dict[str, Any]:
    from aftersale_kit.core.counters import InMemoryCounters
    from aftersale_kit.core.engine import decide
    from aftersale_kit.core.model import EventKind

    config = _config()
    counters = InMemoryCounters()
    bad: list[Any] = []
    decided = fired = 0
    deciding = 0.0
    start = time.perf_counter()
    for history in _read(path, config, bad):
        order = history.order
        if order.paid_at is None:
            continue
        t = time.perf_counter()
        now = order.paid_at if order.paid_at.tzinfo else order.paid_at.replace(tzinfo=UTC)
        decision = decide(
            config,
            order,
            event=EventKind.ORDER_PAID,
            counters=counters,
            now=now,
            code_secret=SECRET,
        )
        if decision.fired:
            counters.record(decision, order)
            fired += len(decision.fired)
        decided += 1
        deciding += time.perf_counter() - t
    return {
        "seconds": time.perf_counter() - start,
        "deciding": deciding,
        "decided": decided,
        "fired": fired,
    }


def _profile(path: Path) -> dict[str, Any]:
    from aftersale_kit.backtest.replay import replay  # noqa: F401  (imported before profiling)

    profiler = cProfile.Profile()
    profiler.enable()
    _replay(path, batch=True, limit=PROFILE_ORDERS)
    profiler.disable()
    stats = pstats.Stats(profiler, stream=io.StringIO())
    total = stats.total_tt  # type: ignore[attr-defined]
    rows: list[tuple[float, float, str]] = []
    for (file, _line, name), (_cc, _nc, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if "aftersale_kit" not in file or name.startswith("<"):
            continue
        where = file.split("aftersale_kit/")[-1].split("aftersale_kit_shopify/")[-1]
        rows.append((ct, tt, f"{where}:{name}"))
    rows.sort(reverse=True)
    return {"total": total, "top": [(round(ct, 2), round(tt, 2), n) for ct, tt, n in rows[:24]]}


def _child(phase: str, path: str, queue: Any) -> None:
    os.environ["POLARS_MAX_THREADS"] = "1"
    runs: dict[str, Callable[[Path], dict[str, Any]]] = {
        "floor": _floor,
        "backtest": lambda p: _replay(p, batch=True),
        "full": lambda p: _replay(p, batch=False),
        "naive": _naive,
        "profile": _profile,
    }
    cpu = time.process_time()
    figures = runs[phase](Path(path))
    figures["cpu"] = time.process_time() - cpu
    figures["peak_mb"] = _peak_mb()
    queue.put(json.dumps(figures))


def _phase(phase: str, path: Path) -> dict[str, Any]:
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    process = context.Process(target=_child, args=(phase, str(path), queue))
    process.start()
    figures: dict[str, Any] = json.loads(queue.get())
    process.join()
    print(f"  {phase}: {figures}", file=sys.stderr, flush=True)
    return figures


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return bool(a["cost"] == b["cost"] and a["fired"] == b["fired"] and a["events"] == b["events"])


def _rate(n: int, seconds: float) -> str:
    return f"{n / seconds:,.0f}/s" if seconds > 0 else "-"


def run() -> str:
    load_before = os.getloadavg()
    wall = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="p4-") as tmp:
        folder = Path(DATA) if DATA else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        t = time.perf_counter()
        path = _generate(folder)
        generated = time.perf_counter() - t
        floor = _phase("floor", path)
        backtest = _phase("backtest", path)
        full = _phase("full", path) if FULL else None
        naive = _phase("naive", path)
        profile = _phase("profile", path) if PROFILE_ORDERS > 0 else None
    load_after = os.getloadavg()
    return _section(
        floor, backtest, full, naive, profile,
        generated=generated, wall=time.perf_counter() - wall, load=(load_before, load_after),
    )  # fmt: skip


def _section(
    floor: dict[str, Any],
    backtest: dict[str, Any],
    full: dict[str, Any] | None,
    naive: dict[str, Any],
    profile: dict[str, Any] | None,
    *,
    generated: float,
    wall: float,
    load: tuple[tuple[float, float, float], tuple[float, float, float]],
) -> str:
    n = floor["orders"]
    fs, bs, ns = floor["seconds"], backtest["seconds"], naive["seconds"]
    # the ratios on CPU time: the machine is shared, wall time depends on the others' load
    ratio_floor = backtest["cpu"] / floor["cpu"]
    speedup = naive["cpu"] / backtest["cpu"]
    peak = max(floor["peak_mb"], backtest["peak_mb"])
    lines = [
        TITLE,
        "",
        f"{ORDERS:,} orders ({FORMAT}, {n:,} read, {floor['bad']} bad) from {CUSTOMERS:,} "
        f"customers, the 30 campaigns of `bench/p4_shop.yaml`; one process per phase, one core "
        f"(`POLARS_MAX_THREADS=1`). {platform.python_implementation()} "
        f"{platform.python_version()}, {cpu_model()}, {os.cpu_count()} cores; load average "
        f"{load[0][0]:.2f} before, {load[1][0]:.2f} after. Generating the file took "
        f"{generated:.0f} s (not counted); the whole run {wall / 60:.1f} min.",
        "",
        "| phase | wall | CPU | orders/s (CPU) | peak memory | |",
        "|---|---:|---:|---:|---:|---|",
        f"| floor: read and normalise | {fs:.1f} s | {floor['cpu']:.1f} s | "
        f"{_rate(n, floor['cpu'])} | {floor['peak_mb']:,.0f} MB | |",
        f"| backtest: read, pre-filter, replay | {bs:.1f} s | {backtest['cpu']:.1f} s | "
        f"{_rate(n, backtest['cpu'])} | "
        f"{backtest['peak_mb']:,.0f} MB | pre-filter {backtest['prefilter']:.1f} s (chunks of "
        f"{CHUNK or 5000:,}); "
        f"{backtest['events']:,} events, {backtest['fired']:,} firings |",
    ]
    if full is not None:
        lines.append(
            f"| replay without pre-filter | {full['seconds']:.1f} s | {full['cpu']:.1f} s | "
            f"{_rate(n, full['cpu'])} | {full['peak_mb']:,.0f} MB | same figures: "
            f"{'yes' if _same(full, backtest) else 'NO'} |"
        )
    lines += [
        f"| naive loop: read, `decide` per order | {ns:.1f} s | {naive['cpu']:.1f} s | "
        f"{_rate(n, naive['cpu'])} | "
        f"{naive['peak_mb']:,.0f} MB | deciding {naive['deciding']:.1f} s for "
        f"{naive['decided']:,} paid orders |",
        "",
        f"Targets (CPU time): backtest at most 3x the floor: **{ratio_floor:.2f}x** "
        f"({'met' if ratio_floor <= 3 else 'missed'}); at least 10x faster than the naive loop: "
        f"**{speedup:.2f}x** ({'met' if speedup >= 10 else 'missed'}); peak memory at most "
        f"2 GB: **{peak:,.0f} MB** ({'met' if peak <= 2048 else 'missed'}).",
    ]
    if profile is not None:
        lines += [
            "",
            f"Profile of the backtest over the first {PROFILE_ORDERS:,} orders (cProfile, "
            f"{profile['total']:.1f} s in all with its overhead), the package's functions by "
            f"cumulative time:",
            "",
            "| cumulative | own | function |",
            "|---:|---:|---|",
        ]
        lines += [f"| {ct:.2f} s | {tt:.2f} s | `{name}` |" for ct, tt, name in profile["top"]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run())
