"""A coupon call that timed out on our side but was carried out by the platform, then the order
is cancelled while the job waits for its retry: the coupon that exists is switched off."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aftersale_kit_shopify.graphql_client import RetryPolicy

from aftersale_kit.core.model import EventKind
from aftersale_kit.service.effects import Processor
from aftersale_kit.service.shops import default_builder, load_shops
from aftersale_kit.service.worker import Worker
from aftersale_kit.storage import CouponStatus, JobKind, JobStatus, Store

from .conftest import write_shopify_config
from .harness import wait_for
from .test_service_flow import _coupons

pytestmark = pytest.mark.slow  # waits for the retry of a timed-out coupon

#: One attempt per call, and a client that gives up after 0.5 s.
SHORT_TIMEOUT = {"retry": RetryPolicy(max_attempts=1, base_delay=0.01, max_delay=0.05, timeout=0.5)}


def test_cancel_while_a_timed_out_coupon_job_waits_for_its_retry(
    shopify_sandbox: Any, tmp_path: Path, db_url: str
) -> None:
    config, env = write_shopify_config(tmp_path / "shops", shopify_sandbox)
    registry = load_shops(config, env=env, builder=default_builder(SHORT_TIMEOUT))
    (entry,) = registry
    order_id = str(
        shopify_sandbox.create_order(line_items=[{"title": "A", "price": "40.00"}])["id"]
    )
    with Store.open(db_url, migrate=True) as store:
        processor = Processor(registry=registry, store=store)
        # a retry an hour away: only the cancellation can settle this coupon in the test
        worker = Worker(processor, threads=1, retry_base=3600, lease_seconds=30)
        order = processor.order(entry, order_id)  # fetched (and cached) before the slowdown
        processor.decide_order(entry, order, EventKind.ORDER_PAID)
        # given the platform answers the coupon mutation after our client gave up: the coupon
        # is created there, the job fails with a timeout and waits for its retry
        shopify_sandbox.set_faults(latency=1.5)
        (job,) = store.claim(worker_id="w", kinds=[JobKind.CREATE_COUPON.value])
        worker.run_job(job)
        shopify_sandbox.set_faults(latency=0.0)
        waiting = store.job(job.id)
        assert waiting is not None
        assert (waiting.status, waiting.attempts) == (JobStatus.PENDING, 1)
        wait_for(lambda: len(_coupons(shopify_sandbox)) == 1, timeout=10)
        (live,) = _coupons(shopify_sandbox)
        assert live["status"] == "ACTIVE"
        # when the order is cancelled before the retry is due
        back = processor.clawback(entry, order_id, EventKind.ORDER_CANCELLED)
        worker.run_until_idle(timeout=30)
        (coupon,) = store.coupons_for_order(entry.domain, order_id)
        cancelled = store.job(job.id)
        deactivations = store.jobs(kind=JobKind.DEACTIVATE_COUPON.value, limit=10)
    # then the coupon that exists on the platform is expired; the create job never ran again
    assert back.coupons == (coupon.idempotency_key,)
    (discount,) = _coupons(shopify_sandbox)
    assert discount["codes"] == [coupon.code]
    assert discount["status"] == "EXPIRED"
    assert coupon.status == CouponStatus.DEACTIVATED
    assert cancelled is not None
    assert (cancelled.status, cancelled.attempts) == (JobStatus.DONE, 1)
    assert [(j.status, j.attempts) for j in deactivations] == [(JobStatus.DONE, 1)]
