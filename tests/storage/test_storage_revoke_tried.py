"""Revoking a coupon whose create job already reached the platform once: the coupon may exist
there, so cancelling the job is not enough; a deactivation is queued (a no-op on the platform
when the coupon was never created)."""

from __future__ import annotations

from datetime import timedelta

from storage_builders import NOW, SHOP, config, coupon_campaign, decider, order

from aftersale_kit.core.model import EventKind
from aftersale_kit.storage import CouponStatus, Job, JobKind, JobStatus, Store

LATER = NOW + timedelta(minutes=10)


def _decided(store: Store, order_id: str) -> Job:
    """A paid order with one planned coupon; its create_coupon job."""
    the_order = order(order_id, customer_id=f"c-{order_id}")
    store.decide_once(
        shop=SHOP,
        order_id=order_id,
        event_kind=EventKind.ORDER_PAID,
        customer_key=f"c-{order_id}",
        decide=decider(config(coupon_campaign()), the_order),
        now=NOW,
    )
    [job] = [
        j
        for j in store.jobs(shop=SHOP, kind=JobKind.CREATE_COUPON, limit=100)
        if j.payload["order_id"] == order_id
    ]
    return job


def _claim(store: Store, job: Job) -> Job:
    [claimed] = [
        j
        for j in store.claim(worker_id="w1", limit=100, now=NOW, kinds=["create_coupon"])
        if j.id == job.id
    ]
    return claimed


def _deactivations(store: Store) -> list[Job]:
    return store.jobs(shop=SHOP, kind=JobKind.DEACTIVATE_COUPON, limit=100)


def test_a_create_job_waiting_for_its_retry_is_cancelled_and_a_deactivation_queued(
    store: Store,
) -> None:
    # given a create_coupon attempt that timed out and waits for its retry
    job = _decided(store, "7001")
    claimed = _claim(store, job)
    status = store.retry(claimed, error="PlatformUnavailableError: timed out", at=LATER, now=NOW)
    assert status == JobStatus.PENDING
    [coupon] = store.coupons_for_order(SHOP, "7001")
    # when the order is cancelled before the retry
    back = store.reverse_order(shop=SHOP, order_id="7001", reason="orders/cancelled", now=NOW)
    # then the retry never runs, and the coupon an attempt may have created is switched off
    assert back.coupons == (coupon.idempotency_key,)
    cancelled = store.job(job.id)
    assert cancelled is not None
    assert (cancelled.status, cancelled.attempts) == (JobStatus.DONE, 1)
    assert cancelled.last_error == "cancelled: orders/cancelled"
    [deactivate] = _deactivations(store)
    assert deactivate.status == JobStatus.PENDING
    assert deactivate.payload["code"] == coupon.code
    assert deactivate.payload["coupon_key"] == coupon.idempotency_key
    assert deactivate.payload["platform_id"] is None
    revoked = store.coupon(SHOP, coupon.idempotency_key)
    assert revoked is not None and revoked.status == CouponStatus.REVOKED
    # and once the platform call is done the coupon is recorded as deactivated
    done = store.mark_deactivated(shop=SHOP, idempotency_key=coupon.idempotency_key, now=NOW)
    assert done.status == CouponStatus.DEACTIVATED
    # and a redelivered cancellation queues nothing more
    again = store.reverse_order(shop=SHOP, order_id="7001", reason="redelivered", now=NOW)
    assert again.coupons == ()
    assert len(_deactivations(store)) == 1


def test_a_create_job_never_tried_is_only_cancelled(store: Store) -> None:
    # given a coupon whose create job has not run yet
    job = _decided(store, "7002")
    # when the order is cancelled
    store.reverse_order(shop=SHOP, order_id="7002", reason="orders/cancelled", now=NOW)
    # then the job is cancelled and nothing needs switching off
    cancelled = store.job(job.id)
    assert cancelled is not None
    assert (cancelled.status, cancelled.attempts) == (JobStatus.DONE, 0)
    assert _deactivations(store) == []


def test_a_dead_create_job_that_was_tried_gets_a_deactivation(store: Store) -> None:
    # given a create job that failed on its attempts and went to the dead letters
    job = _decided(store, "7003")
    claimed = _claim(store, job)
    assert store.dead(claimed, error="PlatformUnavailableError: 502 after sending", now=NOW)
    # when the order is refunded
    store.reverse_order(shop=SHOP, order_id="7003", reason="refunds/create", now=NOW)
    # then the coupon it may have created is switched off; the dead job stays for inspection
    [deactivate] = _deactivations(store)
    assert deactivate.payload["order_id"] == "7003"
    still = store.job(job.id)
    assert still is not None
    assert still.status == JobStatus.DEAD


def test_a_create_job_claimed_at_that_moment_is_left_to_its_worker(store: Store) -> None:
    # given a create job that a worker holds right now
    job = _decided(store, "7004")
    claimed = _claim(store, job)
    # when the order is cancelled meanwhile
    store.reverse_order(shop=SHOP, order_id="7004", reason="orders/cancelled", now=NOW)
    # then the job is untouched: its worker finds the coupon revoked (mark_issued queues the
    # deactivation itself if the coupon was created)
    assert _deactivations(store) == []
    [coupon] = store.coupons_for_order(SHOP, "7004")
    issued = store.mark_issued(
        shop=SHOP, idempotency_key=coupon.idempotency_key, platform_id="gid://7004", now=NOW
    )
    assert issued.status == CouponStatus.REVOKED
    [deactivate] = _deactivations(store)
    assert deactivate.payload["platform_id"] == "gid://7004"
    assert store.complete(claimed, now=NOW)
