"""P7: the due-message sweep: many planned follow-up e-mails across many shops to a local SMTP
sink, contact policy included, on SQLite and PostgreSQL.

``BENCH_MESSAGES`` planned messages (default 100,000) over ``BENCH_SHOPS`` shops (default 1,000),
all due, are put on the schedule (``Store.plan_messages``) before the clock starts. Then the
service's sweep (``MessageSender.sweep``, what the worker's mail sweeper runs) claims them in
batches and works each off: the shop's contact policy with the customer's history, consent and
suppression read from the store (a cap, a minimum gap and quiet hours are configured; the clock
is outside them), the e-mail composed from its templates (German, signed links) and handed to
an SMTP server on loopback (aiosmtpd, counting what it accepts), the outcome recorded. Half the
messages are marketing reminders, half surveys; one in twenty marketing messages goes to a
customer without consent and is held back. One thread; the process's RSS before the sweep,
about every tenth of the run and at the end; its CPU time (the sink runs in a process of its
own, so a loaded machine shows in the wall time and less in the CPU time).
"""

from __future__ import annotations

import contextlib
import os
import platform
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ._load import cpu_model

TITLE = "## P7: follow-up e-mail sweep"
MESSAGES = int(os.environ.get("BENCH_MESSAGES", "100000"))
SHOPS = int(os.environ.get("BENCH_SHOPS", "1000"))
ENGINES = os.environ.get("BENCH_ENGINES", "sqlite,postgresql").split(",")
TARGET = 500.0
BATCH = int(os.environ.get("BENCH_BATCH", "200"))
NOW = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Berlin
ENV = {"P7_WEBHOOK_SECRET": "bench-webhook-secret", "P7_CODE_SECRET": "bench-code-secret-p7"}


def _shop_file(n: int, port: int) -> str:
    return f"""version: 1
shop:
  platform: shopify
  domain: bench-{n:04d}.myshopify.com
  currency: EUR
  locale: de_DE
  timezone: Europe/Berlin
  secrets: {{webhook_secret: P7_WEBHOOK_SECRET, code_secret: P7_CODE_SECRET}}
mail:
  sender: "Shop {n} <service@shop{n}.example>"
  smtp: {{host: 127.0.0.1, port: {port}, security: none, timeout_seconds: 10}}
  rate_per_minute: 100000
contact_policy:
  marketing_cap: {{max: 2, days: 30}}
  min_gap_hours: 24
  quiet_hours: {{from: "20:00", until: "08:00"}}
  quiet_days: [sunday]
campaigns:
  - id: wartung
    trigger: order_paid
    actions:
      - follow_up: {{kind: service_reminder, after: {{months: 3}}}}
  - id: umfrage
    trigger: order_fulfilled
    actions:
      - follow_up: {{kind: survey, after: {{days: 7}}}}
"""


class _Counter:
    """The SMTP sink's handler: counts accepted messages in a counter shared with the benchmark
    process, keeps no bodies (memory stays flat)."""

    def __init__(self, accepted: Any) -> None:
        self.accepted = accepted

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.accepted.get_lock():
            self.accepted.value += 1
        return "250 OK"


def _serve(port: int, accepted: Any, ready: Any, stop: Any) -> None:
    """The sink process: aiosmtpd on ``port`` until ``stop`` is set."""
    from aiosmtpd.controller import Controller

    controller = Controller(_Counter(accepted), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


class _Sink:
    """The SMTP sink in its own process (not the product: it stands for the shops' mail
    servers, and in its own process it does not share the sweep's interpreter lock)."""

    def __init__(self, accepted: Any) -> None:
        self._accepted = accepted

    @property
    def accepted(self) -> int:
        return int(self._accepted.value)


@contextlib.contextmanager
def _sink() -> Iterator[tuple[int, _Sink]]:
    import multiprocessing
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ctx = multiprocessing.get_context("spawn")
    accepted, ready, stop = ctx.Value("q", 0), ctx.Event(), ctx.Event()
    process = ctx.Process(target=_serve, args=(port, accepted, ready, stop), daemon=True)
    process.start()
    try:
        if not ready.wait(60):
            raise RuntimeError("the SMTP sink did not start")
        yield port, _Sink(accepted)
    finally:
        stop.set()
        process.join(30)


@contextlib.contextmanager
def _engine(name: str) -> Iterator[str]:
    if name == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/p7.db"
        return
    from aftersale_kit.testing.postgres import require_postgres, temporary_schema

    with temporary_schema(require_postgres(), prefix="bench_p7") as url:
        yield url


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _messages(shops: list[str]) -> Iterator[Any]:
    from aftersale_kit.storage.message_records import NewMessage

    per_shop = max(1, MESSAGES // len(shops))
    for shop in shops:
        for i in range(per_shop):
            marketing = i % 2 == 0
            consent = not (marketing and i % 40 == 0)  # one in twenty marketing: no consent
            yield NewMessage(
                shop=shop, key=f"{shop}:{i}:{'wartung' if marketing else 'umfrage'}:0:1",
                order_id=str(100000 + i), customer_key=f"c{i}", email=f"kunde{i}@example.com",
                campaign_id="wartung" if marketing else "umfrage", occurrence=1,
                kind="service_reminder" if marketing else "survey",
                template="service_reminder" if marketing else "survey",
                purpose="marketing" if marketing else "transactional",
                due_at=NOW - timedelta(minutes=i % 600),
                data={"order_number": f"#{i}", "products": ["Kaffeevollautomat"], "months": 3,
                      "to_name": "Kim Weber", "accepts_marketing": consent},
            )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Run:
    engine: str
    planned: int
    seconds: float
    counts: dict[str, int]
    accepted: int
    rss_start: float
    rss_end: float
    #: ``(messages worked off, RSS MiB)`` about every tenth of the run.
    rss_samples: tuple[tuple[int, float], ...] = ()
    #: CPU seconds of the sweep's process (the sink's are its own).
    cpu: float = 0.0

    @property
    def rate(self) -> float:
        done = sum(self.counts.values())
        return done / self.seconds if self.seconds else 0.0


def _run(engine: str, url: str, folder: Path, port: int, sink: _Sink) -> Run:
    from aftersale_kit.service.effects import Processor
    from aftersale_kit.service.mail_sweep import MessageSender
    from aftersale_kit.service.shops import load_shops
    from aftersale_kit.storage import Store

    registry = load_shops(folder, env=ENV)
    shops = sorted(e.domain for e in registry)
    store = Store.open(url, migrate=True)
    try:
        batch: list[Any] = []
        for message in _messages(shops):
            batch.append(message)
            if len(batch) == 2000:
                store.plan_messages(batch, now=NOW - timedelta(days=90))
                batch.clear()
        store.plan_messages(batch, now=NOW - timedelta(days=90))
        planned = sum(store.message_counts().values())
        processor = Processor(registry=registry, store=store, clock=lambda: NOW)
        sender = MessageSender(processor, public_url="https://after.bench.example", environ={})
        before, accepted = _rss_mib(), sink.accepted
        counts: dict[str, int] = {}
        samples: list[tuple[int, float]] = []
        every, worked = max(1, planned // 10), 0
        started, cpu = time.perf_counter(), time.process_time()
        while True:
            done = sender.sweep(limit=BATCH, lease_seconds=600)
            if not done.claimed:
                break
            for name, n in done.counts.items():
                counts[name] = counts.get(name, 0) + n
            if (worked + done.claimed) // every > worked // every:
                samples.append((worked + done.claimed, _rss_mib()))
            worked += done.claimed
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        sender.close()
        return Run(
            engine, planned, seconds, counts, sink.accepted - accepted, before, _rss_mib(),
            tuple(samples), cpu,
        )  # fmt: skip
    finally:
        store.close()


def run() -> str:
    load_start = os.getloadavg()[0]
    runs: list[Run] = []
    with tempfile.TemporaryDirectory() as tmp, _sink() as (port, sink):
        folder = Path(tmp) / "shops"
        folder.mkdir()
        for n in range(SHOPS):
            (folder / f"shop-{n:04d}.yaml").write_text(_shop_file(n, port), encoding="utf-8")
        for engine in ENGINES:
            with _engine(engine) as url:
                runs.append(_run(engine, url, folder, port, sink))
    return _report(runs, load_start, os.getloadavg()[0])


def _report(runs: list[Run], load_start: float, load_end: float) -> str:
    lines = [
        TITLE,
        "",
        f"Machine: {os.cpu_count()} cores ({cpu_model()}), Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}; load average {load_start:.1f} when the run started, "
        f"{load_end:.1f} at the end (other processes share the cores).",
        "",
        f"{MESSAGES:,} planned messages over {SHOPS:,} shops, all due, worked off by "
        f"`MessageSender.sweep` (batches of {BATCH}, one thread) to an SMTP server on loopback "
        "(aiosmtpd in a process of its own: the sink stands for the shops' mail servers and is "
        "not part of the product), the contact policy checked for each (cap 2 per 30 days, "
        "24 h gap, quiet hours; customer history, consent and suppression read from the store).",
        "",
        "| engine | planned | seconds | messages/s | CPU s | messages per CPU s | sent | held "
        "back | other | accepted by the SMTP server | RSS start MiB | RSS end MiB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        sent, held = r.counts.get("sent", 0), r.counts.get("held_back", 0)
        other = sum(r.counts.values()) - sent - held
        per_cpu = sum(r.counts.values()) / r.cpu if r.cpu else 0.0
        lines.append(
            f"| {r.engine} | {r.planned:,} | {r.seconds:.1f} | {r.rate:,.0f} | {r.cpu:.1f} | "
            f"{per_cpu:,.0f} | {sent:,} | {held:,} | {other:,} | {r.accepted:,} | "
            f"{r.rss_start:.0f} | {r.rss_end:.0f} |"
        )
    lines.append("")
    for r in runs:
        series = ", ".join(f"{n:,}: {mib:.0f}" for n, mib in r.rss_samples)
        lines.append(f"- RSS MiB by messages worked off ({r.engine}): {series or '-'}.")
    for r in runs:
        verdict = "met" if r.rate >= TARGET else "missed"
        lines.append(
            f"- Target at least {TARGET:,.0f} messages/s ({r.engine}): **{verdict}** "
            f"({r.rate:,.0f})."
        )
    return "\n".join(lines) + "\n"
