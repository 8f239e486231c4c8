"""Backtest readers' throughput: ``python -m bench readers`` (``BENCH_READERS_COUNT``, default
200,000 orders).

Writes one synthetic history (:mod:`bench.orders`) in every format, then reads each file in a
fresh process (one core) through :func:`aftersale_kit.backtest.readers.read_orders`, counting
the orders: wall and CPU seconds, orders per second of CPU (the figure that does not depend on
what else runs on the machine), and the reader's peak RSS (streamed reading: it should not grow
with the file).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench._load import ROOT, cpu_model
from bench.orders import FORMATS, OUTPUTS, generate, write

TITLE = "## Backtest readers (issue 15): orders read and normalised per second"

_CHILD = """
import json, resource, sys, time
from aftersale_kit.backtest.readers import read_orders
bad = []
wall, cpu = time.perf_counter(), time.process_time()
n = sum(1 for _ in read_orders([sys.argv[1]], shop="bench", currency="EUR", on_bad=bad.append,
                                fmt=sys.argv[2]))
print(json.dumps({"orders": n, "bad": len(bad), "wall": time.perf_counter() - wall,
                  "cpu": time.process_time() - cpu,
                  "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


@dataclass(frozen=True)
class Read:
    fmt: str
    orders: int
    bad: int
    wall: float
    cpu: float
    rss_mib: float
    size_mib: float


def _size(path: Path) -> float:
    files = path.iterdir() if path.is_dir() else [path]
    return sum(f.stat().st_size for f in files) / (1 << 20)


def _read(fmt: str, path: Path) -> Read:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), fmt],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout
    r = json.loads(out)
    return Read(fmt, r["orders"], r["bad"], r["wall"], r["cpu"], r["rss"], _size(path))


def run() -> str:
    count = int(os.environ.get("BENCH_READERS_COUNT", "200000"))
    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        started = time.perf_counter()
        write(generate(count=count, customers=max(count // 5, 1), seed=1), FORMATS, out)
        generated = time.perf_counter() - started
        reads = [_read(fmt, out / OUTPUTS[fmt]) for fmt in FORMATS]
    return _report(count, generated, reads, load_start, os.getloadavg()[0])


def _report(
    count: int, generated: float, reads: list[Read], load_start: float, load_end: float
) -> str:
    lines = [
        TITLE,
        "",
        f"Machine: {os.cpu_count()} cores ({cpu_model()}), Python {platform.python_version()}; "
        f"load average {load_start:.1f} when the run started, {load_end:.1f} at the end (other "
        "processes share the cores: wall time suffers, CPU time much less).",
        "",
        f"{count:,} synthetic orders (`python -m bench orders`, {count // 5:,} customers plus "
        f"guests), written in all four formats in {generated:.0f} s, then each file read in a "
        "fresh process.",
        "",
        "| format | file MiB | orders | bad rows | wall s | CPU s | orders/s (CPU) | "
        "peak RSS MiB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in reads:
        lines.append(
            f"| {r.fmt} | {r.size_mib:.0f} | {r.orders:,} | {r.bad} | {r.wall:.1f} | "
            f"{r.cpu:.1f} | {r.orders / r.cpu:,.0f} | {r.rss_mib:.0f} |"
        )
    return "\n".join(lines) + "\n"
