"""Coupons through their life, and the clawback when an order is cancelled."""

from __future__ import annotations

from decimal import Decimal

import pytest
from storage_builders import NOW, SHOP, config, coupon_campaign, decider, order

from aftersale_kit.core.campaign import ShopConfig
from aftersale_kit.core.model import EventKind, Order
from aftersale_kit.storage import CouponRecord, CouponStatus, JobKind, JobStatus, Store


def decide(store: Store, shop_config: ShopConfig, the_order: Order) -> bool:
    record, _ = store.decide_once(
        shop=SHOP,
        order_id=the_order.id,
        event_kind=EventKind.ORDER_PAID,
        customer_key=the_order.customer.id if the_order.customer else None,
        decide=decider(shop_config, the_order),
        now=NOW,
    )
    return bool(record.decision.fired)


def only_coupon(store: Store, order_id: str) -> CouponRecord:
    [coupon] = store.coupons_for_order(SHOP, order_id)
    return coupon


def test_an_issued_coupon_of_a_cancelled_order_is_revoked_and_its_cost_released(
    store: Store,
) -> None:
    # given an order whose 5 EUR coupon was issued on the platform
    decide(store, config(coupon_campaign()), order("1", customer_id="c1"))
    planned = only_coupon(store, "1")
    issued = store.mark_issued(
        shop=SHOP, idempotency_key=planned.idempotency_key, platform_id="gid://1"
    )
    assert (issued.status, issued.platform_id) == (CouponStatus.ISSUED, "gid://1")
    # when the order is cancelled
    clawback = store.reverse_order(shop=SHOP, order_id="1", reason="orders/cancelled")
    # then the coupon is revoked and its deactivation queued
    assert clawback.campaigns == ("welcome-back",)
    assert clawback.coupons == (planned.idempotency_key,)
    assert only_coupon(store, "1").status == CouponStatus.REVOKED
    [job] = store.jobs(kind=JobKind.DEACTIVATE_COUPON)
    assert job.payload["platform_id"] == "gid://1"
    assert job.payload["code"] == planned.code
    # and a reversal row releases usage and cost; the booking stays
    booking, reversal = store.ledger(SHOP, order_id="1")
    assert (booking.entry, booking.uses, booking.cost) == ("booking", 1, Decimal(5))
    assert (reversal.entry, reversal.uses, reversal.cost) == ("reversal", -1, Decimal(-5))
    assert reversal.booked_at == booking.booked_at
    assert reversal.reason == "orders/cancelled"
    counters = store.counters()
    assert counters.usage_count(SHOP, "welcome-back") == 0
    assert counters.spent(SHOP, "welcome-back", None) == Decimal(0)
    assert counters.customer_usage(SHOP, "welcome-back", "c1").count == 0
    assert counters.customer_usage(SHOP, "welcome-back", "c1").last_at is None
    # when the deactivation is done
    done = store.mark_deactivated(shop=SHOP, idempotency_key=planned.idempotency_key)
    assert done.status == CouponStatus.DEACTIVATED
    # and a second cancellation webhook takes back nothing more
    again = store.reverse_order(shop=SHOP, order_id="1", reason="redelivered")
    assert (again.campaigns, again.coupons) == ((), ())
    assert len(store.ledger(SHOP)) == 2


def test_a_released_slot_goes_to_the_next_order(store: Store) -> None:
    shop_config = config(coupon_campaign(usage_limit=1))
    assert decide(store, shop_config, order("1", customer_id="a"))
    assert not decide(store, shop_config, order("2", customer_id="b"))
    store.reverse_order(shop=SHOP, order_id="1", reason="cancelled")
    assert decide(store, shop_config, order("3", customer_id="c"))


def test_a_planned_coupon_is_never_created_once_revoked(store: Store) -> None:
    # given a decision whose coupon job has not run yet
    decide(store, config(coupon_campaign()), order("1", customer_id="c1"))
    planned = only_coupon(store, "1")
    # when the order is cancelled
    store.reverse_order(shop=SHOP, order_id="1", reason="cancelled")
    # then the pending create job is finished without running
    [create] = store.jobs(kind=JobKind.CREATE_COUPON)
    assert create.status == JobStatus.DONE
    assert create.last_error == "cancelled: cancelled"
    assert store.jobs(kind=JobKind.DEACTIVATE_COUPON) == []
    assert only_coupon(store, "1").status == CouponStatus.REVOKED
    assert store.coupon(SHOP, planned.idempotency_key) == only_coupon(store, "1")


@pytest.mark.slow
def test_a_coupon_created_after_it_was_revoked_is_switched_off(store: Store) -> None:
    # given a worker creating the coupon on the platform while the order gets cancelled
    decide(store, config(coupon_campaign()), order("1", customer_id="c1"))
    [create] = store.claim(worker_id="w", limit=1, now=NOW)
    key = only_coupon(store, "1").idempotency_key
    store.reverse_order(shop=SHOP, order_id="1", reason="cancelled")
    # when the platform call returns and the worker records it
    record = store.mark_issued(shop=SHOP, idempotency_key=key, platform_id="gid://9")
    # then the coupon stays revoked and its deactivation is queued
    assert (record.status, record.platform_id) == (CouponStatus.REVOKED, "gid://9")
    [job] = store.jobs(kind=JobKind.DEACTIVATE_COUPON)
    assert job.payload["platform_id"] == "gid://9"
    assert store.complete(create, now=NOW)


def test_a_used_coupon_keeps_its_booking(store: Store) -> None:
    # given a coupon issued and then redeemed
    decide(store, config(coupon_campaign()), order("1", customer_id="c1"))
    coupon = only_coupon(store, "1")
    store.mark_issued(shop=SHOP, idempotency_key=coupon.idempotency_key, platform_id="p")
    used = store.mark_used(shop=SHOP, code=coupon.code)
    assert used is not None and used.status == CouponStatus.USED
    # when its order is cancelled afterwards
    clawback = store.reverse_order(shop=SHOP, order_id="1", reason="cancelled")
    # then nothing is taken back: the cost was real
    assert (clawback.campaigns, clawback.coupons) == ((), ())
    assert only_coupon(store, "1").status == CouponStatus.USED
    assert store.counters().spent(SHOP, "welcome-back", None) == Decimal(5)


def test_marking_an_unknown_coupon(store: Store) -> None:
    assert store.mark_used(shop=SHOP, code="NOPE") is None
    with pytest.raises(LookupError, match=r"no coupon 'missing' in shop 'demo\.myshopify\.com'"):
        store.mark_issued(shop=SHOP, idempotency_key="missing", platform_id="p")
