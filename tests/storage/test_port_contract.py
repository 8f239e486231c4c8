"""The storage ports' contract: the same behaviour on the in-memory store, SQLite and PostgreSQL.

Every test takes ``port_store`` (memory, SQLite, PostgreSQL) and uses only what the service
relies on (the methods of :mod:`aftersale_kit.storage.ports`, plus the read-outs that both
stores have for tests: jobs, coupons, ledger, counters), so a fast service test on the memory
store stands for what the service does on a database.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from storage_builders import NOW, SECRET, SHOP, config, coupon_campaign, order

from aftersale_kit.core.campaign import ShopConfig
from aftersale_kit.core.engine import decide
from aftersale_kit.core.model import EventKind, Order
from aftersale_kit.core.money import Money
from aftersale_kit.core.ports import CustomerUsage
from aftersale_kit.core.timeline import take_backs
from aftersale_kit.storage import (
    CouponStatus,
    IncomingEvent,
    JobKind,
    JobStatus,
    ShopState,
    StepResult,
    Store,
)
from aftersale_kit.storage.memory import MemoryStore
from aftersale_kit.storage.ports import (
    BlockReader,
    CustomerData,
    EventIntake,
    JobQueue,
    ProcessorStore,
    Prunable,
)

# Both implementations of the ports, as one type for the tests.
AnyStore = Any


def delivery(key: str, *, shop: str = SHOP, body: bytes = b'{"id": 1}') -> IncomingEvent:
    return IncomingEvent(
        shop=shop,
        platform="shopify",
        topic="orders/paid",
        dedupe_key=key,
        received_at=NOW,
        body=body,
        headers={"X-Shopify-Event-Id": key},
        order_id="1",
    )


def step(
    store: AnyStore,
    shop: ShopConfig,
    the_order: Order,
    kind: EventKind = EventKind.ORDER_PAID,
    *,
    closing: str | None = None,
) -> StepResult:
    result: StepResult = store.decide_step(
        shop=SHOP,
        order=the_order,
        event_kind=kind,
        customer_key=the_order.customer.id if the_order.customer else None,
        decide=lambda counters: decide(
            shop, the_order, event=kind, counters=counters, now=NOW, code_secret=SECRET
        ),
        settle=lambda facts: take_backs(
            config=shop,
            order=the_order,
            refunds=facts.refunds,
            open_campaigns=facts.open_campaigns,
            closed=facts.closed,
        ),
        closing=closing,
        now=NOW,
    )
    return result


def fill(store: AnyStore, count: int, **options: Any) -> None:
    for i in range(count):
        assert store.enqueue(
            shop=SHOP, kind="tag_order", idempotency_key=f"job-{i}", payload={"n": i}, **options
        )


# -- the ports --------------------------------------------------------------------------------


@pytest.mark.parametrize("port", [EventIntake, BlockReader, JobQueue, ProcessorStore])
def test_both_stores_have_every_method_of_every_port(port: type) -> None:
    wanted = {n for n in vars(port) if not n.startswith("_")}
    for parent in port.__mro__[1:]:
        wanted |= {n for n in vars(parent) if not n.startswith("_") and callable(vars(parent)[n])}
    wanted -= {"register", "mro"}
    missing = {
        cls.__name__: sorted(n for n in wanted if not hasattr(cls, n))
        for cls in (Store, MemoryStore)
    }
    assert missing == {"Store": [], "MemoryStore": []}


def test_only_the_sql_store_exports_erases_and_prunes(tmp_path: Any) -> None:
    memory = MemoryStore()
    assert not isinstance(memory, CustomerData) and not isinstance(memory, Prunable)
    with Store.open(f"sqlite:///{tmp_path / 's.db'}") as sql:
        assert isinstance(sql, CustomerData) and isinstance(sql, Prunable)


# -- intake -----------------------------------------------------------------------------------


def test_a_delivery_is_accepted_once_with_its_process_job(port_store: AnyStore) -> None:
    # when the same delivery comes twice in one batch, then once more, and another shop's
    flags = port_store.accept_events([delivery("e1"), delivery("e1", body=b"changed")])
    again = port_store.accept_events([delivery("e1"), delivery("e1", shop="b.myshopify.com")])
    # then it is stored once per shop, with its process job, as received
    assert (flags, again) == ([True, False], [False, True])
    jobs = port_store.jobs(shop=SHOP)
    assert [(j.kind, j.status, j.attempts) for j in jobs] == [
        (JobKind.PROCESS_EVENT, JobStatus.PENDING, 0)
    ]
    event = port_store.event(jobs[0].event_id)
    assert (event.body, event.headers, event.received_at) == (
        b'{"id": 1}',
        {"X-Shopify-Event-Id": "e1"},
        NOW,
    )
    assert jobs[0].payload == {"event_id": event.id, "topic": "orders/paid"}
    assert port_store.event(10_000) is None


def test_a_delivery_with_a_naive_time_or_no_key_is_refused(port_store: AnyStore) -> None:
    with pytest.raises(ValueError, match="received_at"):
        port_store.accept_events([replace(delivery("x"), received_at=NOW.replace(tzinfo=None))])
    with pytest.raises(ValueError, match="dedupe_key"):
        port_store.accept_events([delivery("")])


def test_link_event_notes_order_and_customer(port_store: AnyStore) -> None:
    port_store.accept_events([delivery("e1")])
    [job] = port_store.jobs()
    assert port_store.link_event(job.event_id, order_id="7", customer_key="c1")
    event = port_store.event(job.event_id)
    assert (event.order_id, event.customer_key) == ("7", "c1")
    assert not port_store.link_event(10_000, order_id="7", customer_key=None)


def test_quarantine_keeps_one_delivery_per_key_outside_the_queue(port_store: AnyStore) -> None:
    assert port_store.quarantine(delivery("q1"), reason="not an order")
    assert not port_store.quarantine(delivery("q1"), reason="again")
    [kept] = port_store.quarantined(SHOP)
    assert (kept.reason, kept.body, kept.headers) == (
        "not an order",
        b'{"id": 1}',
        {"X-Shopify-Event-Id": "q1"},
    )
    assert port_store.jobs() == []


def test_an_order_keeps_the_first_key_it_was_seen_with(port_store: AnyStore) -> None:
    port_store.save_order_keys([(SHOP, "1", "wc_order_a"), (SHOP, "1", "wc_order_b")], now=NOW)
    port_store.save_order_keys([(SHOP, "1", "wc_order_c")], now=NOW)
    assert port_store.order_key(SHOP, "1") == "wc_order_a"
    assert port_store.order_key(SHOP, "2") is None


# -- job queue --------------------------------------------------------------------------------


def test_claims_lease_due_jobs_oldest_first_and_never_twice(port_store: AnyStore) -> None:
    fill(port_store, 3, now=NOW)
    assert not port_store.enqueue(
        shop=SHOP, kind="tag_order", idempotency_key="job-0", payload={}, now=NOW
    )
    port_store.enqueue(
        shop=SHOP, kind="tag_order", idempotency_key="later", payload={}, run_at=NOW + timedelta(1)
    )
    first = port_store.claim(worker_id="a", limit=2, now=NOW)
    second = port_store.claim(worker_id="b", limit=5, now=NOW)
    assert [j.payload["n"] for j in first] == [0, 1]
    assert [j.payload["n"] for j in second] == [2]
    assert [(j.status, j.attempts, j.locked_by) for j in second] == [(JobStatus.CLAIMED, 1, "b")]
    assert port_store.claim(worker_id="c", now=NOW, kinds=["create_coupon"]) == []
    assert port_store.claim(worker_id="c", now=NOW) == []


def test_an_expired_lease_goes_to_the_next_worker_and_fences_the_old_one(
    port_store: AnyStore,
) -> None:
    fill(port_store, 1, now=NOW)
    [old] = port_store.claim(worker_id="slow", limit=1, lease_seconds=10, now=NOW)
    [new] = port_store.claim(worker_id="fast", lease_seconds=10, now=NOW + timedelta(seconds=11))
    assert (new.id, new.attempts, new.locked_by) == (old.id, 2, "fast")
    assert not port_store.complete(old, now=NOW)
    assert port_store.retry(old, error="late", at=NOW) is None
    assert not port_store.dead(old, error="late")
    assert not port_store.release(old)
    assert port_store.complete(new, now=NOW)
    assert port_store.job(new.id).status == JobStatus.DONE


def test_a_retry_waits_and_the_last_attempt_goes_dead(port_store: AnyStore) -> None:
    port_store.enqueue(
        shop=SHOP, kind="k", idempotency_key="x", payload={}, max_attempts=2, now=NOW
    )
    [job] = port_store.claim(worker_id="w", now=NOW)
    later = NOW + timedelta(seconds=30)
    assert port_store.retry(job, error="boom 1", at=later, now=NOW) == JobStatus.PENDING
    assert port_store.claim(worker_id="w", now=later - timedelta(seconds=1)) == []
    [job] = port_store.claim(worker_id="w", now=later)
    assert (job.attempts, job.last_error) == (2, "boom 1")
    assert port_store.retry(job, error="boom 2", at=later, now=later) == JobStatus.DEAD
    dead = port_store.job(job.id)
    assert (dead.status, dead.last_error) == (JobStatus.DEAD, "boom 2")
    assert port_store.claim(worker_id="w", now=later + timedelta(days=1)) == []


def test_a_lease_lost_on_the_last_attempt_makes_the_job_dead(port_store: AnyStore) -> None:
    port_store.enqueue(
        shop=SHOP, kind="k", idempotency_key="x", payload={}, max_attempts=1, now=NOW
    )
    [job] = port_store.claim(worker_id="w", lease_seconds=5, now=NOW)
    assert port_store.claim(worker_id="w2", now=NOW + timedelta(seconds=6)) == []
    dead = port_store.job(job.id)
    assert dead.status == JobStatus.DEAD and "lease expired" in (dead.last_error or "")


def test_release_and_dead(port_store: AnyStore) -> None:
    fill(port_store, 2, now=NOW)
    first, second = port_store.claim(worker_id="w", now=NOW)
    assert port_store.release(first, at=NOW + timedelta(seconds=5))
    assert port_store.dead(second, error="x" * 5000, now=NOW)
    assert port_store.claim(worker_id="w", now=NOW) == []
    [again] = port_store.claim(worker_id="w", now=NOW + timedelta(seconds=5))
    assert (again.id, again.attempts) == (first.id, 1)
    assert len(port_store.job(second.id).last_error) == 4000


def test_threads_never_share_a_job(port_store: AnyStore) -> None:
    fill(port_store, 60, now=NOW)
    taken: list[int] = []
    lock = threading.Lock()

    def work() -> None:
        while jobs := port_store.claim(worker_id=threading.current_thread().name, limit=3):
            for job in jobs:
                assert port_store.complete(job)
            with lock:
                taken.extend(j.id for j in jobs)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(taken) == sorted(set(taken)) and len(taken) == 60


# -- deciding, taking back, coupons -----------------------------------------------------------


def test_a_step_is_decided_once_with_its_bookings_coupon_and_jobs(port_store: AnyStore) -> None:
    shop = config(coupon_campaign("danke", with_block=True))
    the_order = order("1", customer_id="c1")
    first = step(port_store, shop, the_order)
    again = step(port_store, shop, the_order)
    assert (first.created, again.created) == (True, False)
    assert again.record == first.record
    assert first.record.decision.fired == ("danke",)
    stored = port_store.decision(shop=SHOP, order_id="1", event_kind=EventKind.ORDER_PAID)
    assert stored == first.record
    [coupon] = port_store.coupons_for_order(SHOP, "1")
    assert coupon.status == CouponStatus.PLANNED and coupon.customer_key == "c1"
    assert port_store.coupon(SHOP, coupon.idempotency_key) == coupon
    kinds = sorted(j.kind for j in port_store.jobs())
    assert kinds == [JobKind.CREATE_COUPON, JobKind.WRITE_CONTENT]
    [booking] = port_store.ledger(SHOP, order_id="1")
    assert (booking.entry, booking.uses, booking.cost) == ("booking", 1, Decimal("5.00"))
    counters = port_store.counters()
    assert counters.usage_count(SHOP, "danke") == 1
    assert counters.customer_usage(SHOP, "danke", "c1").last_at == NOW
    [job] = port_store.claim(worker_id="w", kinds=[JobKind.CREATE_COUPON])
    assert job.planned_action().idempotency_key == coupon.idempotency_key


def test_a_usage_limit_holds_over_orders(port_store: AnyStore) -> None:
    shop = config(coupon_campaign("danke", usage_limit=2))
    fired = [step(port_store, shop, order(str(i))).record.decision.fired for i in range(4)]
    assert fired == [("danke",), ("danke",), (), ()]


def test_a_clawback_revokes_reverses_and_repeats_nothing(port_store: AnyStore) -> None:
    shop = config(coupon_campaign("danke"))
    step(port_store, shop, order("1", customer_id="c1"))
    [planned] = port_store.coupons_for_order(SHOP, "1")
    issued = port_store.mark_issued(
        shop=SHOP, idempotency_key=planned.idempotency_key, platform_id="gid://1"
    )
    assert (issued.status, issued.platform_id) == (CouponStatus.ISSUED, "gid://1")
    back = port_store.reverse_order(shop=SHOP, order_id="1", reason="order_cancelled")
    port_store.close_order(shop=SHOP, order_id="1", reason="order_cancelled")
    assert (back.campaigns, back.coupons) == (("danke",), (planned.idempotency_key,))
    [deactivation] = port_store.jobs(kind=JobKind.DEACTIVATE_COUPON)
    assert deactivation.payload["platform_id"] == "gid://1"
    counters = port_store.counters()
    assert counters.spent(SHOP, "danke", None) == Decimal(0)
    assert counters.customer_usage(SHOP, "danke", "c1") == CustomerUsage(count=0, last_at=None)
    done = port_store.mark_deactivated(shop=SHOP, idempotency_key=planned.idempotency_key)
    assert done.status == CouponStatus.DEACTIVATED
    again = port_store.reverse_order(shop=SHOP, order_id="1", reason="redelivered")
    assert (again.campaigns, again.coupons) == ((), ())
    steps, taken = port_store.order_steps(SHOP, "1")
    assert [s.decision.event for s in steps] == [EventKind.ORDER_PAID]
    assert taken == {planned.idempotency_key: True}


def test_a_fully_redeemed_booking_stays_when_its_order_is_cancelled(
    port_store: AnyStore,
) -> None:
    # given an issued 5.00 coupon that a later order redeemed in full
    shop = config(coupon_campaign("danke"))
    step(port_store, shop, order("1", customer_id="c1"))
    [coupon] = port_store.coupons_for_order(SHOP, "1")
    port_store.mark_issued(shop=SHOP, idempotency_key=coupon.idempotency_key, platform_id="p1")
    redeeming = replace(order("2"), code_discounts=((coupon.code, Money.of("5.00", "EUR")),))
    [used] = step(port_store, config(), redeeming).redemptions
    # when the issuing order is cancelled
    back = port_store.reverse_order(shop=SHOP, order_id="1", reason="order_cancelled")
    # then nothing is given back: the whole cost was spent, the booking and its use stay
    assert (used.coupon_key, used.amount.amount) == (coupon.idempotency_key, Decimal("5.00"))
    assert (back.campaigns, back.coupons) == ((), ())
    assert [e.entry for e in port_store.ledger(SHOP, order_id="1")] == ["booking"]
    assert port_store.counters().customer_usage(SHOP, "danke", "c1").count == 1
    assert port_store.counters().redeemed(SHOP, "danke", None) == Decimal("5.00")


def test_a_coupon_created_after_its_revocation_is_switched_off(port_store: AnyStore) -> None:
    step(port_store, config(coupon_campaign("danke")), order("1"))
    [planned] = port_store.coupons_for_order(SHOP, "1")
    port_store.reverse_order(shop=SHOP, order_id="1", reason="order_cancelled")
    assert port_store.jobs(kind=JobKind.DEACTIVATE_COUPON) == []  # never tried: none needed
    late = port_store.mark_issued(
        shop=SHOP, idempotency_key=planned.idempotency_key, platform_id="gid://9"
    )
    assert (late.status, late.platform_id) == (CouponStatus.REVOKED, "gid://9")
    [job] = port_store.jobs(kind=JobKind.DEACTIVATE_COUPON)
    assert job.payload["coupon_key"] == planned.idempotency_key
    with pytest.raises(LookupError):
        port_store.mark_issued(shop=SHOP, idempotency_key="nope", platform_id="p")


def test_a_cancellation_step_takes_back_and_queues_the_content(port_store: AnyStore) -> None:
    shop = config(coupon_campaign("danke", with_block=True))
    the_order = order("1", customer_id="c1")
    step(port_store, shop, the_order)
    [content] = port_store.jobs(kind=JobKind.WRITE_CONTENT)
    cancelled = step(
        port_store, shop, the_order, EventKind.ORDER_CANCELLED, closing="order_cancelled"
    )
    assert dict(cancelled.taken_back) == {"danke": "order_cancelled"}
    assert port_store.closure(SHOP, "1") == "order_cancelled"
    assert len(port_store.jobs(kind=JobKind.WRITE_CONTENT)) == 2
    assert content in port_store.jobs(kind=JobKind.WRITE_CONTENT)
    assert port_store.refunds(SHOP, "1") == []


# -- shop state and content -------------------------------------------------------------------


def test_shop_state_remembers_when_it_was_installed_and_uninstalled(port_store: AnyStore) -> None:
    assert port_store.shop_state(SHOP) is None
    later = NOW + timedelta(hours=1)
    first = port_store.set_shop_state(
        shop=SHOP, platform="shopify", state=ShopState.ACTIVE, now=NOW
    )
    gone = port_store.set_shop_state(
        shop=SHOP, platform="shopify", state=ShopState.UNINSTALLED, now=later
    )
    back = port_store.set_shop_state(
        shop=SHOP, platform="shopify", state=ShopState.ACTIVE, now=later + timedelta(hours=1)
    )
    assert (first.installed_at, first.uninstalled_at) == (NOW, None)
    assert (gone.state, gone.installed_at, gone.uninstalled_at) == (
        ShopState.UNINSTALLED,
        NOW,
        later,
    )
    assert (back.installed_at, back.uninstalled_at) == (later + timedelta(hours=1), None)
    assert port_store.shop_state(SHOP) == back


def test_blocks_are_replaced_and_read_as_stored_json(port_store: AnyStore) -> None:
    assert port_store.blocks_json(SHOP, "1") is None
    port_store.save_blocks(SHOP, "1", {"b": [1], "a": "ü"}, now=NOW)
    port_store.save_blocks(SHOP, "1", {"blocks": [], "a": "ü"}, now=NOW)
    assert port_store.blocks_json(SHOP, "1") == '{"a":"ü","blocks":[]}'.encode()
    assert port_store.load_blocks(SHOP, "1") == {"blocks": [], "a": "ü"}
