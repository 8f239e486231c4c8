"""P6: loyalty points: earning per order, and the balance read, on SQLite and PostgreSQL.

Earning: ``BENCH_ORDERS`` paid orders (default 2,000; Shopify's 2025 sample order, ids varied,
spread over ``BENCH_CUSTOMERS`` customers, default 500, so journals grow to several movements
as they do) go one after the other through the service's step path, ``Processor.step`` (what a
worker thread runs for a ``process_event`` job once the webhook body is read): the order's
decision by the real engine and its booking, the loyalty plan under the account lock (tier from
the customer's history, an ``award_points`` campaign, a stamp card) and the journal rows, in
one transaction. Orders are read from JSON before the clock starts; one thread. Afterwards the
journal must hold one earning per order and every account's running total must equal it.

Balance read: ``Store.loyalty_balance`` (the read behind ``GET /v1/loyalty/.../balance``,
without HTTP and the request's authentication) in-process, open loop at ``BENCH_READ_RATE``
reads/s (default 500) for ``BENCH_SECONDS`` (default 10) on random accounts of the earning
run; latency from each read's scheduled time, so a stall delays the reads behind it too.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import platform
import random
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ._load import cpu_model

TITLE = "## P6: loyalty points"
ORDERS = int(os.environ.get("BENCH_ORDERS", "2000"))
CUSTOMERS = int(os.environ.get("BENCH_CUSTOMERS", "500"))
READ_RATE = float(os.environ.get("BENCH_READ_RATE", "500"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "shopify"
SHOP = "bench-loyalty.myshopify.com"
ENV = {
    "P6_WEBHOOK_SECRET": "bench-webhook-secret",
    "P6_API_TOKEN": "shpat_bench",
    "P6_CODE_SECRET": "bench-code-secret",
}
CONFIG = f"""\
version: 1
shop:
  platform: shopify
  domain: {SHOP}
  currency: USD
  api_base_url: http://127.0.0.1:9
  api_version: "2026-01"
  secrets:
    webhook_secret: P6_WEBHOOK_SECRET
    api_token: P6_API_TOKEN
    code_secret: P6_CODE_SECRET
loyalty:
  earn:
    points_per_unit: 1
  pending_days: 14
  expiry:
    lifetime_months: 24
  tiers:
    basis: spend
    window_months: 12
    levels:
      - {{name: Silber, from: 800, multiplier: 1.25}}
      - {{name: Gold, from: 1500, multiplier: 1.5}}
  redeem:
    options:
      - {{id: fuenf, points: 500, coupon: 5}}
  stamp_cards:
    - id: karte
      name: Sammelkarte
      stamps: 5
      reward:
        - issue_coupon: {{type: fixed_amount, value: 15, valid_days: 60}}
campaigns:
  - id: doppelt
    when: subtotal >= 100
    actions:
      - award_points: {{multiplier: 2}}
  - id: stempel
    actions:
      - stamp: karte
"""


@dataclass(frozen=True)
class Earned:
    engine: str
    orders: int
    seconds: float
    latencies_ms: tuple[float, ...]
    movements: int
    accounts: int

    @property
    def rate(self) -> float:
        return self.orders / self.seconds


@dataclass(frozen=True)
class Reads:
    engine: str
    planned: int
    seconds: float
    latencies_ms: tuple[float, ...]


def _pct(values: tuple[float, ...], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


@contextlib.contextmanager
def _engine(name: str) -> Iterator[str]:
    if name == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/p6.db"
        return
    from aftersale_kit.testing.postgres import require_postgres, temporary_schema

    with temporary_schema(require_postgres(), prefix="bench_p6") as url:
        yield url


def _orders() -> list[Any]:
    from aftersale_kit.core.normalize import normalize_order

    sample = json.loads(
        (FIXTURE / "shopify_sample_webhook_order_2025.json").read_text(encoding="utf-8")
    )
    sample.update(financial_status="paid", cancelled_at=None, cancel_reason=None, test=False)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    out = []
    for i in range(ORDERS):
        at = (start + timedelta(minutes=10 * i)).isoformat()
        customer = {**sample["customer"], "id": 7_000_000 + i % CUSTOMERS}
        payload = {
            **sample,
            "id": 820982911946154508 + i,
            "name": f"#{9000 + i}",
            "customer": customer,
            "created_at": at,
            "processed_at": at,
        }
        out.append(normalize_order(payload, platform="shopify", shop=SHOP))
    return out


def _earn(engine: str, url: str, folder: Path) -> tuple[Earned, Any]:
    from aftersale_kit.core.loyalty.ledger import MovementKind
    from aftersale_kit.core.model import EventKind
    from aftersale_kit.service.effects import Processor
    from aftersale_kit.service.shops import load_shops
    from aftersale_kit.storage import Store

    (folder / "shop.yaml").write_text(CONFIG, encoding="utf-8")
    registry = load_shops(folder, env=ENV)
    entry = registry.by_domain(SHOP)
    assert entry is not None
    orders = _orders()
    store = Store.open(url, migrate=True)
    processor = Processor(registry=registry, store=store)
    latencies = []
    began = time.perf_counter()
    for order in orders:
        t0 = time.perf_counter()
        processor.step(entry, order, EventKind.ORDER_PAID, now=order.created_at)
        latencies.append((time.perf_counter() - t0) * 1000)
    seconds = time.perf_counter() - began
    accounts = store.loyalty_accounts(SHOP)
    earned = sum(
        1
        for a in accounts
        for r in store.loyalty_journal(SHOP, a)
        if r.movement.kind is MovementKind.EARNED_PENDING
    )
    if earned != ORDERS or store.loyalty_check(SHOP) != len(accounts):
        raise RuntimeError(f"{engine}: {earned} earnings for {ORDERS} orders")
    return Earned(engine, ORDERS, seconds, tuple(latencies), earned, len(accounts)), store


def _ledger_only(engine: str, url: str, folder: Path) -> Earned:
    """The loyalty part alone: the plan and the journal write (``Store.loyalty_step``, what
    ``decide_step(loyalty=...)`` runs inside the step's transaction), without the decision."""
    from aftersale_kit.service.loyalty import step_loyalty
    from aftersale_kit.service.shops import load_shops
    from aftersale_kit.storage import Store
    from aftersale_kit.storage.loyalty import TimelineFacts

    (folder / "shop.yaml").write_text(CONFIG, encoding="utf-8")
    entry = load_shops(folder, env=ENV).by_domain(SHOP)
    assert entry is not None
    orders = _orders()
    facts = TimelineFacts(records=(), refunds=(), closed=False)
    latencies = []
    with Store.open(url, migrate=True) as store:
        began = time.perf_counter()
        for order in orders:
            t0 = time.perf_counter()
            hook = step_loyalty(entry, order, now=order.created_at)
            assert hook is not None
            store.loyalty_step(
                shop=SHOP,
                account=hook.account,
                identity=hook.identity,
                plan=functools.partial(hook.plan, facts),
                policy=hook.policy,
                now=order.created_at,
            )
            latencies.append((time.perf_counter() - t0) * 1000)
        seconds = time.perf_counter() - began
        accounts = store.loyalty_accounts(SHOP)
        if store.loyalty_check(SHOP) != len(accounts):
            raise RuntimeError(f"{engine}: ledger check failed")
    return Earned(
        engine + ", ledger only", len(orders), seconds, tuple(latencies), len(orders), len(accounts)
    )


def _read(engine: str, store: Any) -> Reads:
    accounts = store.loyalty_accounts(SHOP)
    pick = random.Random(6)
    planned = int(READ_RATE * SECONDS)
    interval = 1.0 / READ_RATE
    latencies = []
    start = time.perf_counter() + 0.05
    for i in range(planned):
        due = start + i * interval
        wait = due - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        if store.loyalty_balance(SHOP, pick.choice(accounts)) is None:
            raise RuntimeError(f"{engine}: an account without a balance")
        latencies.append((time.perf_counter() - due) * 1000)
    return Reads(engine, planned, time.perf_counter() - start, tuple(latencies))


def measure() -> tuple[list[Earned], list[Reads], list[str]]:
    earned, reads, skipped = [], [], []
    for engine in ("sqlite", "postgresql"):
        try:
            context = _engine(engine)
            url = context.__enter__()
        except Exception as exc:  # PostgreSQL unreachable: skipped, said so
            skipped.append(f"{engine}: {type(exc).__name__}: {exc}")
            continue
        try:
            with tempfile.TemporaryDirectory(prefix="bench-p6-") as folder:
                result, store = _earn(engine, url, Path(folder))
                try:
                    earned.append(result)
                    reads.append(_read(engine, store))
                finally:
                    store.close()
            with _engine(engine) as fresh, tempfile.TemporaryDirectory() as folder:
                earned.append(_ledger_only(engine, fresh, Path(folder)))
        finally:
            context.__exit__(None, None, None)
    return earned, reads, skipped


def render(earned: list[Earned], reads: list[Reads], skipped: list[str], load: str) -> str:
    lines = [
        TITLE,
        "",
        f"Machine: {os.cpu_count()} cores ({cpu_model()}), Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}; load average {load} when the run started (other "
        "processes share the cores).",
        "",
        f"Earning: {ORDERS:,} paid orders (Shopify's 2025 sample, 5 lines, ids varied) over "
        f"{CUSTOMERS:,} customers, one after the other through `Processor.step` (decision by "
        "the engine, loyalty plan under the account lock with tiers, an `award_points` "
        "campaign and a stamp card, the journal rows; one transaction per order), one thread.",
        "",
        'The rows "ledger only" run the loyalty part alone on a fresh database: '
        "`Store.loyalty_step` with the plan the step would book (no decision stored, so no "
        "`award_points` bonus), to show how the time divides.",
        "",
        "| engine | orders | orders/s | mean ms | p50 ms | p99 ms | earnings booked | accounts |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for e in earned:
        mean = sum(e.latencies_ms) / len(e.latencies_ms)
        lines.append(
            f"| {e.engine} | {e.orders:,} | {e.rate:,.0f} | {mean:.2f} "
            f"| {_pct(e.latencies_ms, 50):.2f} | {_pct(e.latencies_ms, 99):.2f} "
            f"| {e.movements:,} | {e.accounts:,} |"
        )
    lines += [
        "",
        f"Balance read: `Store.loyalty_balance` in-process (no HTTP), open loop at "
        f"{READ_RATE:,.0f} reads/s for {SECONDS:g} s on random accounts; latency from each "
        "read's scheduled time.",
        "",
        "| engine | reads | achieved reads/s | p50 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in reads:
        lines.append(
            f"| {r.engine} | {r.planned:,} | {r.planned / r.seconds:,.0f} "
            f"| {_pct(r.latencies_ms, 50):.3f} | {_pct(r.latencies_ms, 99):.3f} "
            f"| {max(r.latencies_ms):.2f} |"
        )
    lines.append("")
    for e in earned:
        if e.engine.startswith("sqlite"):
            met = "met" if e.rate >= 2000 else "missed"
            lines.append(
                f"- Target at least 2,000 orders/s earned on SQLite ({e.engine}): **{met}** "
                f"({e.rate:,.0f})."
            )
    for r in reads:
        p99 = _pct(r.latencies_ms, 99)
        met = "met" if p99 < 5 else "missed"
        lines.append(
            f"- Target balance p99 < 5 ms at {READ_RATE:,.0f} reads/s ({r.engine}): **{met}** "
            f"({p99:.2f} ms)."
        )
    lines += [f"- Skipped: {s}" for s in skipped]
    lines.append("")
    return "\n".join(lines)


def run() -> str:
    load = f"{os.getloadavg()[0]:.1f}"
    return render(*measure(), load)
