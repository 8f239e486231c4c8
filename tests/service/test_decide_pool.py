"""Many deciders of one shop on a small connection pool: the decider that holds the shop lock
never needs a second connection, so the others queueing for the lock cannot starve it."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aftersale_kit.core.model import Customer, EventKind, FinancialStatus, Order
from aftersale_kit.core.money import Money
from aftersale_kit.service.effects import Processor
from aftersale_kit.service.shops import ShopRegistry, load_shops
from aftersale_kit.storage import CouponStatus, DecisionRecord, JobKind, JobStatus, Store

from .harness import shop_yaml

DOMAIN = "pool-shop.myshopify.com"
ENV = {"POOL_WEBHOOK_SECRET": "whsec-pool", "POOL_CODE_SECRET": "code-pool"}
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _registry(tmp_path: Path, *, usage_limit: int) -> ShopRegistry:
    path = tmp_path / "shop.yaml"
    path.write_text(
        shop_yaml(
            platform="shopify",
            domain=DOMAIN,
            base_url="http://127.0.0.1:9",  # never called: these campaigns need no enrichment
            secrets={"webhook_secret": "POOL_WEBHOOK_SECRET", "code_secret": "POOL_CODE_SECRET"},
            usage_limit=usage_limit,
        ),
        encoding="utf-8",
    )
    return load_shops(path, env=ENV)


def _order(order_id: str) -> Order:
    amount = Money.of("40.00", "USD")
    zero = Money.zero("USD")
    return Order(
        platform="shopify",
        shop=DOMAIN,
        id=order_id,
        number=f"#{order_id}",
        currency="USD",
        created_at=NOW,
        financial_status=FinancialStatus.PAID,
        subtotal=amount,
        total=amount,
        discounts=zero,
        shipping=zero,
        tax=zero,
        customer=Customer(id=f"c-{order_id}", email=None),
    )


@pytest.mark.slow
def test_thirty_concurrent_deciders_of_one_shop_on_a_pool_of_four(
    tmp_path: Path, db_url: str
) -> None:
    # given a pool of 2 + 2 connections, a campaign limited to 10 uses, and 30 new orders of
    # one shop, 3 of which were cancelled before their paid webhook is processed (so what their
    # late "paid" decides is taken back at once, and releases its use of the limit)
    registry = _registry(tmp_path, usage_limit=10)
    (entry,) = registry
    with Store.open(db_url, migrate=True, pool_size=2) as store:
        processor = Processor(registry=registry, store=store, clock=lambda: NOW)
        orders = [_order(f"50{i:02d}") for i in range(30)]
        for cancelled in orders[:3]:
            processor.clawback(entry, cancelled.id, EventKind.ORDER_CANCELLED)
        results: list[tuple[DecisionRecord, bool]] = []
        errors: list[BaseException] = []
        lock = threading.Lock()
        barrier = threading.Barrier(len(orders))

        def run(order: Order) -> None:
            barrier.wait()
            try:
                outcome = processor.decide_order(entry, order, EventKind.ORDER_PAID, now=NOW)
            except BaseException as exc:
                errors.append(exc)
                return
            with lock:
                results.append(outcome)

        # when all of them decide at the same moment
        started = time.monotonic()
        threads = [threading.Thread(target=run, args=(o,)) for o in orders]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        elapsed = time.monotonic() - started
        usage = store.counters().usage_count(DOMAIN, "danke")
        coupon_jobs = store.jobs(kind=JobKind.CREATE_COUPON, status=JobStatus.PENDING, limit=100)
        coupons = {o.id: store.coupons_for_order(DOMAIN, o.id) for o in orders}

    # then every decider finished well inside the pool timeout (30 s), and the books are right
    assert errors == []
    assert elapsed < 15, f"30 deciders took {elapsed:.1f} s"
    assert len(results) == 30
    assert all(created for _record, created in results)
    assert usage == 10
    live = [c for cs in coupons.values() for c in cs if c.status == CouponStatus.PLANNED]
    assert len(live) == 10
    assert len(coupon_jobs) == 10
    # what the cancelled orders' late "paid" gave was taken back in the same transaction: no
    # coupon of theirs will ever be created
    for cancelled in orders[:3]:
        assert all(c.status == CouponStatus.REVOKED for c in coupons[cancelled.id])
