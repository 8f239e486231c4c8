"""S1: bytes stored per order, on SQLite and PostgreSQL, before and after the body retention.

Setup: ``BENCH_ORDERS`` orders (default 1,000) go into a fresh store as the service stores them:
four webhooks each (``orders/create``, ``orders/paid``, ``orders/updated``,
``orders/fulfilled``) with Shopify's 2025 sample order as the body (13.6 KB, ids varied), their
``process_event`` jobs done, one decision by the real engine (a coupon campaign with its coupon
block), its booking and coupon with the ``create_coupon`` job done, and the thank-you blocks the
real renderer makes for the order. Sizes come from ``Store.table_stats`` (``dbstat`` on SQLite,
``pg_total_relation_size`` on PostgreSQL: tables, indexes and TOAST), minus the empty schema.

"After retention" prunes every body (``Store.prune`` with the horizon after the last order, as
the worker does once 30 days have passed) and then compacts (``VACUUM`` on SQLite, ``VACUUM FULL``
on PostgreSQL): without compaction the files keep their size and the freed pages are reused for
new rows, so the compacted size is what a shop in steady state holds per order.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

TITLE = "## S1: storage per order"
ORDERS = int(os.environ.get("BENCH_ORDERS", "1000"))
FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "shopify"
SHOP = "bench-shop.myshopify.com"
TOPICS = ("orders/create", "orders/paid", "orders/updated", "orders/fulfilled")
CONFIG = """\
version: 1
shop:
  platform: shopify
  domain: bench-shop.myshopify.com
  currency: EUR
  locale: de_DE
campaigns:
  - id: danke
    trigger: order_paid
    actions:
      - issue_coupon: {type: fixed_amount, value: 5, valid_days: 30, code_prefix: DANKE}
      - show_block: {block: coupon, params: {headline: Danke!}}
"""


def _sample() -> dict[str, Any]:
    order: dict[str, Any] = json.loads(
        (FIXTURE / "shopify_sample_webhook_order_2025.json").read_text(encoding="utf-8")
    )
    order.update(financial_status="paid", cancelled_at=None, cancel_reason=None, test=False)
    return order


@contextlib.contextmanager
def _engine(name: str) -> Iterator[str]:
    if name == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/s1.db"
        return
    from aftersale_kit.testing.postgres import require_postgres, temporary_schema

    with temporary_schema(require_postgres(), prefix="bench_s1") as url:
        yield url


def _fill(store: Any, orders: int) -> datetime:
    from aftersale_kit.cli import load_shop_config
    from aftersale_kit.content import ContentRenderer, blocks_payload
    from aftersale_kit.core.engine import decide
    from aftersale_kit.core.model import EventKind
    from aftersale_kit.core.normalize import normalize_order
    from aftersale_kit.storage import customer_key_for

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "shop.yaml"
        path.write_text(CONFIG, encoding="utf-8")
        config = load_shop_config(path)
    renderer = ContentRenderer.for_config(config)
    sample = _sample()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(orders):
        payload = {**sample, "id": 820982911946154508 + i, "name": f"#{9000 + i}"}
        body = json.dumps(payload).encode()
        at = start + timedelta(minutes=i)
        for topic in TOPICS:
            store.accept_event(
                shop=SHOP,
                platform="shopify",
                topic=topic,
                dedupe_key=f"{topic}:{i}",
                received_at=at,
                body=body,
                headers={"X-Shopify-Event-Id": f"evt-{topic}-{i}", "X-Shopify-Topic": topic},
                order_id=str(payload["id"]),
            )
        order = normalize_order(payload, platform="shopify", shop=SHOP)
        record, _ = store.decide_once(
            shop=SHOP,
            order_id=order.id,
            event_kind=EventKind.ORDER_PAID,
            customer_key=customer_key_for(order),
            decide=lambda counters, order=order, at=at: decide(
                config,
                order,
                event=EventKind.ORDER_PAID,
                counters=counters,
                now=at,
                code_secret=b"bench",
            ),
            now=at,
        )
        store.save_blocks(
            SHOP,
            order.id,
            blocks_payload(
                decision=record.decision, order=order, config=config, now=at, renderer=renderer
            ),
            now=at,
        )
        for job in store.claim(worker_id="bench", limit=50, now=at):
            store.complete(job, now=at)
    return start + timedelta(minutes=orders)


def _bytes(store: Any) -> dict[str, tuple[int, int]]:
    return {t.table: (t.rows, t.bytes or 0) for t in store.table_stats()}


def _compact(store: Any) -> None:
    # on the driver's connection: VACUUM cannot run inside the transaction SQLAlchemy opens
    raw = store.db.engine.raw_connection()
    try:
        driver = raw.driver_connection
        if store.dialect == "sqlite":
            driver.isolation_level = None
            driver.execute("VACUUM")
        else:
            driver.autocommit = True
            driver.execute("VACUUM FULL")
    finally:
        raw.close()


def measure(engine: str, orders: int = ORDERS) -> dict[str, Any]:
    from aftersale_kit.storage import Store

    with _engine(engine) as url, Store.open(url, migrate=True) as store:
        empty = _bytes(store)
        started = time.perf_counter()
        end = _fill(store, orders)
        filled = _bytes(store)
        store.prune(bodies_before=end + timedelta(seconds=1))
        _compact(store)
        pruned = _bytes(store)
        seconds = time.perf_counter() - started
    return {"empty": empty, "filled": filled, "pruned": pruned, "seconds": seconds}


def _per_order(sizes: dict[str, tuple[int, int]], empty: dict[str, tuple[int, int]]) -> float:
    return sum(b - empty[t][1] for t, (_, b) in sizes.items()) / ORDERS


def run() -> str:
    results = {engine: measure(engine) for engine in ("sqlite", "postgresql")}
    lines = [
        TITLE,
        "",
        f"{ORDERS:,} orders, 4 webhooks each (13.6 KB body), one decision, booking, coupon and "
        "stored blocks each (`bench/s1_storage.py`). Bytes per order = (size after - empty "
        "schema) / orders, indexes included.",
        "",
        "| engine | per order, bodies kept | per order, after retention (compacted) |",
        "|---|---:|---:|",
    ]
    for engine, r in results.items():
        lines.append(
            f"| {engine} | {_per_order(r['filled'], r['empty']):,.0f} B "
            f"| {_per_order(r['pruned'], r['empty']):,.0f} B |"
        )
    lines += ["", "Per table after retention (bytes per order):", ""]
    tables = list(results["sqlite"]["pruned"])
    lines += ["| table | " + " | ".join(results) + " |", "|---|" + "---:|" * len(results)]
    for table in tables:
        cells = [
            f"{(r['pruned'][table][1] - r['empty'][table][1]) / ORDERS:,.0f}"
            for r in results.values()
        ]
        lines.append(f"| {table} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
