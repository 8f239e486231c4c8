"""A worker that dies between the platform call and the store's record: the next run finishes
the work without doing anything twice, also when the order was taken back in between."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from aftersale_kit.core.model import EventKind
from aftersale_kit.core.platform import coupon_spec
from aftersale_kit.service.effects import Processor
from aftersale_kit.service.shops import default_builder, load_shops
from aftersale_kit.service.worker import Worker
from aftersale_kit.storage import CouponStatus, JobStatus, Store

from .conftest import write_shopify_config
from .test_service_flow import FAST_RETRY, _coupons


def _die_after_platform_call(processor: Processor, job: Any) -> None:
    """What ``create_coupon`` does up to and including the platform call, and no further."""
    entry = processor.entry(job.shop)
    record = processor.store.decision(
        shop=job.shop,
        order_id=str(job.payload["order_id"]),
        event_kind=EventKind(job.payload["event_kind"]),
    )
    assert record is not None
    order = processor.order(entry, record.order_id)
    spec = coupon_spec(job.planned_action(), order, entry.config.settings, record.decided_at)
    entry.adapter.create_coupon(spec)


def test_coupon_created_by_a_dead_run_of_a_cancelled_order_is_switched_off(
    shopify_sandbox: Any, tmp_path: Path, any_store: Store
) -> None:
    config, env = write_shopify_config(tmp_path / "shops", shopify_sandbox)
    registry = load_shops(config, env=env, builder=default_builder(FAST_RETRY))
    (entry,) = registry
    order_id = str(
        shopify_sandbox.create_order(line_items=[{"title": "A", "price": "40.00"}])["id"]
    )
    with any_store as store:
        processor = Processor(registry=registry, store=store)
        # given a decided order whose coupon job died right after creating the coupon
        order = processor.order(entry, order_id)
        processor.decide_order(entry, order, EventKind.ORDER_PAID)
        (job,) = store.claim(worker_id="doomed", lease_seconds=0.05, kinds=["create_coupon"])
        _die_after_platform_call(processor, job)
        # when the order is cancelled before the job comes back
        processor.clawback(entry, order_id, EventKind.ORDER_CANCELLED)
        time.sleep(0.1)
        Worker(processor, threads=1, lease_seconds=5).run_until_idle(timeout=30)
        jobs = store.jobs(status=JobStatus.DONE, limit=100)
        (coupon,) = store.coupons_for_order(entry.domain, order_id)
    # then the coupon that exists on the platform is expired, and nothing was created twice
    (discount,) = _coupons(shopify_sandbox)
    assert discount["codes"] == [coupon.code]
    assert discount["status"] == "EXPIRED"
    assert coupon.status == CouponStatus.REVOKED
    assert [j.attempts for j in jobs if j.kind == "create_coupon"] == [2]
