"""Deciding once per order and event, with limits and budgets that hold under concurrency."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from storage_builders import NOW, SHOP, config, coupon_campaign, decider, order

from aftersale_kit.core.campaign import ShopConfig
from aftersale_kit.core.decision import Decision
from aftersale_kit.core.model import EventKind, Order
from aftersale_kit.core.ports import Counters
from aftersale_kit.storage import (
    CouponStatus,
    DecisionRecord,
    JobKind,
    JobStatus,
    Store,
    customer_key_for,
)

CHILD = Path(__file__).with_name("storage_child.py")


def decide_once(
    store: Store, shop_config: ShopConfig, the_order: Order
) -> tuple[DecisionRecord, bool]:
    return store.decide_once(
        shop=SHOP,
        order_id=the_order.id,
        event_kind=EventKind.ORDER_PAID,
        customer_key=customer_key_for(the_order),
        decide=decider(shop_config, the_order),
        now=NOW,
    )


def run_concurrently(store: Store, shop_config: ShopConfig, orders: list[Order]) -> list[bool]:
    """Decide every order in its own thread, all released at once; the 'fired' flags."""
    fired: list[bool] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(orders))

    def run(the_order: Order) -> None:
        barrier.wait()
        try:
            record, created = decide_once(store, shop_config, the_order)
        except BaseException as exc:
            errors.append(exc)
            return
        with lock:
            fired.append(created and bool(record.decision.fired))

    threads = [threading.Thread(target=run, args=(o,)) for o in orders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    return fired


def test_fifty_concurrent_orders_against_a_usage_limit_of_ten(store: Store) -> None:
    # given a campaign that may fire 10 times, and 50 orders decided at the same moment
    shop_config = config(coupon_campaign(usage_limit=10))
    orders = [order(f"o{i}", customer_id=f"c{i}") for i in range(50)]
    # when
    fired = run_concurrently(store, shop_config, orders)
    # then exactly 10 fired, 10 are booked and 10 coupon jobs are queued
    assert fired.count(True) == 10
    assert store.counters().usage_count(SHOP, "welcome-back") == 10
    assert len(store.jobs(kind=JobKind.CREATE_COUPON, limit=100)) == 10
    refused = [
        r.decision.outcome("welcome-back")
        for o in orders
        if (r := store.decision(shop=SHOP, order_id=o.id, event_kind=EventKind.ORDER_PAID))
        and not r.decision.fired
    ]
    assert len(refused) == 40
    assert {o.reason.value for o in refused if o} == {"usage_limit"}


def test_fifty_concurrent_orders_against_a_budget_of_ten_coupons(store: Store) -> None:
    # given a 50 EUR budget and 5 EUR coupons
    shop_config = config(coupon_campaign(value="5.00", budget="50.00"))
    orders = [order(f"o{i}", customer_id=f"c{i}") for i in range(50)]
    # when
    fired = run_concurrently(store, shop_config, orders)
    # then exactly 50 EUR are booked
    assert fired.count(True) == 10
    assert store.counters().spent(SHOP, "welcome-back", None) == Decimal("50")


def test_concurrent_orders_of_one_customer_respect_the_per_customer_limit(store: Store) -> None:
    shop_config = config(coupon_campaign(max_uses_per_customer=1))
    orders = [order(f"o{i}", email="Anna@Example.org") for i in range(12)]
    fired = run_concurrently(store, shop_config, orders)
    details = [
        (r.customer_key, [(x.reason.value, x.detail) for x in r.decision.outcomes])
        for o in orders
        for r in store.decisions_for_order(SHOP, o.id)
    ]
    assert fired.count(True) == 1, details
    usage = store.counters().customer_usage(SHOP, "welcome-back", "email:anna@example.org")
    assert usage.count == 1
    assert usage.last_at == NOW


def test_a_decision_is_made_once_and_returned_afterwards(store: Store) -> None:
    # given a decider that counts its calls
    shop_config = config(coupon_campaign(with_block=True))
    the_order = order("1001", customer_id="c1")
    calls = []

    def counting(counters: Counters) -> Decision:
        calls.append(1)
        return decider(shop_config, the_order)(counters)

    def once() -> tuple[DecisionRecord, bool]:
        return store.decide_once(
            shop=SHOP,
            order_id="1001",
            event_kind=EventKind.ORDER_PAID,
            customer_key="c1",
            decide=counting,
            now=NOW,
        )

    # when the webhook and a redelivery (or the thank-you page) both ask
    first, created_first = once()
    second, created_second = once()
    # then one decision was made and stored, and the second call returns it
    assert (created_first, created_second) == (True, False)
    assert len(calls) == 1
    assert second == first
    assert second.decision == decider(shop_config, the_order)(store.counters())
    # one booking, one planned coupon, one job for the coupon and one for the order's content
    [booking] = store.ledger(SHOP)
    assert (booking.campaign_id, booking.uses, booking.cost) == ("welcome-back", 1, Decimal(5))
    [coupon] = store.coupons_for_order(SHOP, "1001")
    assert coupon.status == CouponStatus.PLANNED
    assert coupon.code == first.decision.actions[0].coupon_code
    jobs = {j.kind: j for j in store.jobs()}
    assert sorted(jobs) == [JobKind.CREATE_COUPON, JobKind.WRITE_CONTENT]
    planned = jobs[JobKind.CREATE_COUPON].planned_action()
    assert planned == first.decision.actions[0]
    assert jobs[JobKind.CREATE_COUPON].idempotency_key == planned.idempotency_key
    assert jobs[JobKind.CREATE_COUPON].payload["decision_id"] == first.id
    # the content job rewrites the whole order (all its steps), named after this decision
    content = jobs[JobKind.WRITE_CONTENT]
    assert content.payload == {"order_id": "1001"}
    assert content.idempotency_key == f"{SHOP}:1001:content:d{first.id}"


def test_a_failing_decider_leaves_nothing_behind(store: Store) -> None:
    def broken(_counters: Counters) -> Decision:
        raise RuntimeError("engine bug")

    with pytest.raises(RuntimeError, match="engine bug"):
        store.decide_once(
            shop=SHOP,
            order_id="1",
            event_kind=EventKind.ORDER_PAID,
            customer_key=None,
            decide=broken,
        )
    assert store.decisions_for_order(SHOP, "1") == []
    assert store.jobs() == []


def test_a_decision_for_another_order_is_refused(store: Store) -> None:
    shop_config = config(coupon_campaign())
    with pytest.raises(ValueError, match=r"order='other'.*expected shop='demo\.myshopify\.com'"):
        store.decide_once(
            shop=SHOP,
            order_id="1",
            event_kind=EventKind.ORDER_PAID,
            customer_key=None,
            decide=decider(shop_config, order("other")),
        )
    assert store.ledger(SHOP) == []
    assert store.jobs() == []


@pytest.mark.slow
def test_a_decider_killed_mid_transaction_books_nothing(store: Store, store_url: str) -> None:
    # given a process killed (SIGKILL) while inside decide_once for order 7
    child = subprocess.Popen(
        [sys.executable, str(CHILD), "decide-hang", store_url, "7"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=CHILD.parent,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "inside"
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    child.stdout.close()
    # then nothing of it was stored, and the shop is not locked: the order is decided normally
    assert store.decisions_for_order(SHOP, "7") == []
    record, created = decide_once(store, config(coupon_campaign()), order("7", customer_id="c"))
    assert created and record.decision.fired == ("welcome-back",)
    assert len(store.ledger(SHOP)) == 1
    assert store.queue_stats()[JobStatus.PENDING] == 1


def test_read_counters_match_the_ledger(store: Store) -> None:
    shop_config = config(coupon_campaign(value="7.50"))
    for i in range(3):
        decide_once(store, shop_config, order(str(i), customer_id="same"))
    counters: Callable[[], Counters] = store.counters
    assert counters().usage_count(SHOP, "welcome-back") == 3
    assert counters().spent(SHOP, "welcome-back", NOW) == Decimal("22.5")
    assert counters().customer_usage(SHOP, "welcome-back", "same").count == 3
    assert counters().usage_count(SHOP, "other") == 0
