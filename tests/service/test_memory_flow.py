"""The service's logic without a database: intake, worker and job handlers on the in-memory
store, against the Shopify sandbox (real HTTP to the platform, no HTTP server of ours).

The same flow over HTTP and a database is ``test_service_flow``; this one shows that the intake,
the processor and the worker need nothing from storage but the ports.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aftersale_kit.service.effects import Processor
from aftersale_kit.service.intake import Intake
from aftersale_kit.service.metrics import Metrics
from aftersale_kit.service.shops import default_builder, load_shops
from aftersale_kit.service.worker import Worker
from aftersale_kit.storage import CouponStatus, JobKind, JobStatus
from aftersale_kit.storage.memory import MemoryStore

from .conftest import write_shopify_config
from .harness import shopify_delivery
from .test_service_flow import FAST_RETRY, _coupons


def test_a_paid_then_cancelled_order_on_the_memory_store(
    shopify_sandbox: Any, tmp_path: Path
) -> None:
    config, env = write_shopify_config(tmp_path / "shops", shopify_sandbox)
    registry = load_shops(config, env=env, builder=default_builder(FAST_RETRY))
    store = MemoryStore()
    processor = Processor(registry=registry, store=store)
    intake = Intake(registry=registry, store=store, processor=processor, metrics=Metrics())
    worker = Worker(processor, threads=1, retry_base=0.01)
    shop = shopify_sandbox.shop_domain
    order = shopify_sandbox.create_order(line_items=[{"title": "A", "price": "40.00"}])
    order_id = str(order["id"])
    headers, body = shopify_delivery(
        topic="orders/paid", body=order, shop=shop, secret=shopify_sandbox.secret
    )
    lower = {k.lower(): v for k, v in headers.items()}
    # when the paid webhook arrives twice and the worker runs
    first, again = (intake.receive("shopify", lower, body) for _ in range(2))
    worker.run_until_idle(timeout=30)
    # then one event was stored, one step decided, the coupon created once and content stored
    assert (first.status, again.status) == (200, 200)
    assert (first.result, again.result) == ("accepted", "duplicate")
    assert worker.pruner is None  # nothing to prune in memory
    [decided] = store.decisions_for_order(shop, order_id)
    assert decided.decision.fired == ("danke",)
    [coupon] = store.coupons_for_order(shop, order_id)
    assert coupon.status == CouponStatus.ISSUED
    assert [c["codes"] for c in _coupons(shopify_sandbox)] == [[coupon.code]]
    blocks = store.load_blocks(shop, order_id)
    assert blocks is not None and [b["block"] for b in blocks["blocks"]] == ["coupon"]
    assert store.jobs(status=JobStatus.PENDING) == []
    # when the order is cancelled on the platform and its webhook arrives
    cancelled = shopify_sandbox.cancel(order_id)
    headers, body = shopify_delivery(
        topic="orders/cancelled", body=cancelled, shop=shop, secret=shopify_sandbox.secret
    )
    assert intake.receive("shopify", {k.lower(): v for k, v in headers.items()}, body).status == 200
    worker.run_until_idle(timeout=30)
    # then the coupon is switched off on the platform and the order's content has no coupon
    [coupon] = store.coupons_for_order(shop, order_id)
    assert coupon.status == CouponStatus.DEACTIVATED
    assert [d["status"] for d in _coupons(shopify_sandbox)] == ["EXPIRED"]
    [deactivation] = store.jobs(kind=JobKind.DEACTIVATE_COUPON)
    assert deactivation.status == JobStatus.DONE
    blocks = store.load_blocks(shop, order_id)
    assert blocks is not None and blocks["blocks"] == []
