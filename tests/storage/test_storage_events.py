"""Webhook intake: each (shop, dedupe key) is stored once, with exactly one processing job."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from storage_builders import NOW, SHOP

from aftersale_kit.storage import IncomingEvent, JobKind, JobStatus, Store


def accept(store: Store, key: str, *, shop: str = SHOP, body: bytes = b"{}") -> bool:
    return store.accept_event(
        shop=shop,
        platform="shopify",
        topic="orders/paid",
        dedupe_key=key,
        received_at=NOW,
        body=body,
        headers={"X-Shopify-Event-Id": key},
    )


def test_an_event_is_stored_once_with_its_job(store: Store) -> None:
    # given a webhook body with bytes that are not valid UTF-8
    body = b'{"id": 1}\xff'
    # when it is delivered twice
    first = accept(store, "orders/paid:e1", body=body)
    second = accept(store, "orders/paid:e1", body=b"changed")
    # then the first is new, the second a duplicate that changed nothing
    assert (first, second) == (True, False)
    [job] = store.jobs()
    assert (job.kind, job.status, job.attempts) == (JobKind.PROCESS_EVENT, JobStatus.PENDING, 0)
    assert job.event_id is not None
    event = store.event(job.event_id)
    assert event is not None
    assert event.body == body
    assert event.headers == {"X-Shopify-Event-Id": "orders/paid:e1"}
    assert event.received_at == NOW
    assert job.payload == {"event_id": job.event_id, "topic": "orders/paid"}


def test_the_same_key_in_another_shop_is_another_event(store: Store) -> None:
    assert accept(store, "k", shop="a.myshopify.com")
    assert accept(store, "k", shop="b.myshopify.com")
    assert store.queue_stats()[JobStatus.PENDING] == 2


def test_duplicates_from_concurrent_threads_are_stored_once(store: Store) -> None:
    # given 200 distinct events, each delivered 5 times, by 8 threads at once
    deliveries = [f"evt-{i}" for i in range(200) for _ in range(5)]
    accepted: list[bool] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def deliver(share: list[str]) -> None:
        barrier.wait()
        for key in share:
            result = accept(store, key)
            with lock:
                accepted.append(result)

    threads = [threading.Thread(target=deliver, args=(deliveries[i::8],)) for i in range(8)]
    # when they run
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # then exactly 200 were new and there are exactly 200 events and 200 jobs
    assert accepted.count(True) == 200
    assert len(accepted) == 1000
    stats = store.queue_stats()
    assert stats[JobStatus.PENDING] == 200
    jobs = store.jobs(limit=1000)
    assert len({j.event_id for j in jobs}) == 200
    assert all(store.event(j.event_id) is not None for j in jobs if j.event_id is not None)


def test_link_event_records_order_and_customer(store: Store) -> None:
    accept(store, "k1")
    [job] = store.jobs()
    assert job.event_id is not None
    assert store.link_event(job.event_id, order_id="1001", customer_key="cust-7")
    event = store.event(job.event_id)
    assert event is not None
    assert (event.order_id, event.customer_key) == ("1001", "cust-7")


def test_bad_arguments_name_the_argument(store: Store) -> None:
    with pytest.raises(ValueError, match=r"received_at=.* has no timezone"):
        store.accept_event(
            shop=SHOP,
            platform="shopify",
            topic="orders/paid",
            dedupe_key="k",
            received_at=datetime(2026, 1, 1),
            body=b"{}",
        )
    with pytest.raises(ValueError, match="dedupe_key must be a non-empty string"):
        store.accept_event(
            shop=SHOP, platform="shopify", topic="t", dedupe_key="", received_at=NOW, body=b""
        )
    with pytest.raises(TypeError, match="body must be the raw bytes"):
        store.accept_event(
            shop=SHOP,
            platform="shopify",
            topic="t",
            dedupe_key="k",
            received_at=NOW,
            body="{}",  # type: ignore[arg-type]
        )
    # and nothing was stored
    assert store.jobs() == []


def test_prune_keeps_unprocessed_events_and_forgets_old_finished_ones(store: Store) -> None:
    # given two events, one processed
    accept(store, "old-done", body=b'{"email": "ada@example.com"}')
    accept(store, "old-pending", body=b'{"email": "bob@example.com"}')
    done, _pending = store.claim(worker_id="w", limit=2, now=NOW)
    assert store.complete(done, now=NOW)
    # when pruning bodies and keys before tomorrow
    tomorrow = NOW + timedelta(days=1)
    removed = store.prune(bodies_before=tomorrow, keys_before=tomorrow)
    # then the processed event and its job are gone, the unprocessed one stays whole
    assert removed == {"jobs": 1, "bodies": 1, "events": 1, "quarantine": 0, "auth_requests": 0}
    assert [j.idempotency_key for j in store.jobs()] == [_pending.idempotency_key]
    assert _pending.event_id is not None
    kept = store.event(_pending.event_id)
    assert kept is not None and kept.body == b'{"email": "bob@example.com"}'
    # and the key whose row was deleted is accepted again as new
    assert accept(store, "old-done")


@pytest.mark.slow
def test_a_batch_is_accepted_in_one_transaction_with_duplicates_recognised(store: Store) -> None:
    # given one event already accepted
    accept(store, "a")

    def incoming(key: str) -> IncomingEvent:
        return IncomingEvent(
            shop=SHOP,
            platform="woocommerce",
            topic="order.updated",
            dedupe_key=key,
            received_at=NOW,
            body=key.encode(),
        )

    # when a batch repeats it, and repeats one of its own
    flags = store.accept_events([incoming("a"), incoming("b"), incoming("c"), incoming("b")])
    # then only the two new ones are stored
    assert flags == [False, True, True, False]
    assert store.queue_stats()[JobStatus.PENDING] == 3
    assert store.accept_events([]) == []


def test_a_bad_event_in_a_batch_stores_nothing(store: Store) -> None:
    good = IncomingEvent(
        shop=SHOP, platform="shopify", topic="t", dedupe_key="ok", received_at=NOW, body=b""
    )
    bad = IncomingEvent(
        shop=SHOP, platform="shopify", topic="t", dedupe_key="", received_at=NOW, body=b""
    )
    with pytest.raises(ValueError, match="dedupe_key must be a non-empty string"):
        store.accept_events([good, bad])
    assert store.jobs() == []
