"""Bounded storage: raw bodies are emptied after their retention, dedupe keys outlive them, and
decisions, bookings and coupons are never pruned (both engines)."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from storage_builders import NOW, SHOP, config, coupon_campaign, decider, order

from aftersale_kit.core.model import EventKind
from aftersale_kit.storage import Store

BODY = json.dumps({"id": 1, "email": "anna@example.org", "billing": {"city": "Köln"}}).encode()


def accept(store: Store, key: str, *, days_ago: int, body: bytes = BODY) -> int:
    assert store.accept_event(
        shop=SHOP,
        platform="shopify",
        topic="orders/paid",
        dedupe_key=key,
        received_at=NOW - timedelta(days=days_ago),
        body=body,
        headers={"X-Shopify-Event-Id": key},
    )
    [event_id] = [
        j.event_id
        for j in store.jobs(limit=1000)
        if j.event_id is not None and store.event(j.event_id).dedupe_key == key  # type: ignore[union-attr]
    ]
    return event_id


def finish_all(store: Store) -> None:
    for job in store.claim(worker_id="w", limit=100, now=NOW):
        assert store.complete(job, now=NOW - timedelta(days=35))


def test_old_bodies_are_emptied_keys_stay_and_the_books_are_unchanged(store: Store) -> None:
    # given an order paid 40 days ago: its event processed, decided, booked, couponed
    old = accept(store, "orders/paid:old", days_ago=40)
    finish_all(store)
    campaign = coupon_campaign(budget="100.00")
    record, created = store.decide_once(
        shop=SHOP,
        order_id="1",
        event_kind=EventKind.ORDER_PAID,
        customer_key="c1",
        decide=decider(config(campaign), order("1", customer_id="c1"), now=NOW),
        now=NOW - timedelta(days=40),
    )
    assert created and record.decision.fired == ("welcome-back",)
    # and an event of 2 days ago, and one of 40 days ago still waiting to be processed
    recent = accept(store, "orders/paid:recent", days_ago=2)
    waiting = accept(store, "orders/paid:waiting", days_ago=40)
    ledger_before = store.ledger(SHOP)
    coupons_before = store.coupons_for_order(SHOP, "1")
    # when bodies older than 30 days are pruned (dedupe keys after 365)
    counts = store.prune(
        bodies_before=NOW - timedelta(days=30), keys_before=NOW - timedelta(days=365)
    )
    # then only the old processed body is gone; its row and key remain
    assert counts["bodies"] == 1 and counts["events"] == 0
    pruned = store.event(old)
    assert pruned is not None and (pruned.body, pruned.headers) == (b"", {})
    assert pruned.dedupe_key == "orders/paid:old" and pruned.order_id is None
    assert store.event(recent).body == BODY  # type: ignore[union-attr]
    assert store.event(waiting).body == BODY  # type: ignore[union-attr]
    # and a late redelivery of the old event is still a duplicate
    assert not store.accept_event(
        shop=SHOP,
        platform="shopify",
        topic="orders/paid",
        dedupe_key="orders/paid:old",
        received_at=NOW,
        body=BODY,
    )
    # and decisions, bookings, budget spent and coupons are exactly as before
    assert store.ledger(SHOP) == ledger_before
    assert store.coupons_for_order(SHOP, "1") == coupons_before
    assert store.decision(shop=SHOP, order_id="1", event_kind=EventKind.ORDER_PAID) == record
    assert store.counters().spent(SHOP, "welcome-back", None) == Decimal("5.00")
    # and a second run finds nothing more to do
    assert store.prune(bodies_before=NOW - timedelta(days=30)) == {
        "bodies": 0,
        "jobs": 0,
        "events": 0,
        "quarantine": 0,
        "auth_requests": 0,
    }


def test_pruning_runs_in_batches_until_done(store: Store) -> None:
    # given 7 old processed events
    ids = [accept(store, f"k{i}", days_ago=50) for i in range(7)]
    finish_all(store)
    # when pruned 3 rows per transaction
    counts = store.prune(bodies_before=NOW - timedelta(days=30), batch=3)
    # then all 7 bodies are empty and their 7 finished jobs deleted
    assert counts == {"bodies": 7, "jobs": 7, "events": 0, "quarantine": 0, "auth_requests": 0}
    assert all(store.event(i).body == b"" for i in ids)  # type: ignore[union-attr]


def test_keys_may_not_be_dropped_before_bodies(store: Store) -> None:
    with pytest.raises(ValueError, match="keys_before must not be later than bodies_before"):
        store.prune(bodies_before=NOW, keys_before=NOW + timedelta(seconds=1))


def test_table_stats_count_rows_and_measure_bytes(store: Store) -> None:
    # given three events (13 KB bodies) and one decision with its booking and coupon
    for i in range(3):
        accept(store, f"k{i}", days_ago=1, body=b"x" * 13_000)
    store.decide_once(
        shop=SHOP,
        order_id="1",
        event_kind=EventKind.ORDER_PAID,
        customer_key="c1",
        decide=decider(config(coupon_campaign()), order("1", customer_id="c1")),
        now=NOW,
    )
    # when
    stats = {s.table: s for s in store.table_stats()}
    # then every table of the schema is listed with its rows
    assert {"events", "jobs", "decisions", "ledger", "coupons", "blocks", "shops"} <= set(stats)
    assert stats["events"].rows == 3
    assert stats["decisions"].rows == 1
    assert stats["ledger"].rows == 1
    assert stats["coupons"].rows == 1
    assert stats["blocks"].rows == 0
    # 3 process_event jobs and the coupon's create_coupon job
    assert stats["jobs"].rows == 4
    # and the events table holds at least its three bodies
    events_bytes = stats["events"].bytes
    assert events_bytes is not None and events_bytes >= 3 * 13_000


def _quarantine(store: Store, key: str, *, days_ago: int, email: str) -> int:
    from aftersale_kit.storage import IncomingEvent

    item = IncomingEvent(
        shop=SHOP,
        platform="shopify",
        topic="orders/paid",
        dedupe_key=key,
        received_at=NOW - timedelta(days=days_ago),
        body=json.dumps({"id": 5, "email": email, "name": "not an order"}).encode(),
        headers={"x-shopify-topic": "orders/paid"},
    )
    assert store.quarantine(item, reason="not an order")
    [kept] = [q for q in store.quarantined(SHOP, include_replayed=True) if q.dedupe_key == key]
    return kept.id


def test_quarantined_bodies_are_personal_data_with_a_horizon_too(store: Store) -> None:
    # given three old quarantined deliveries: one replayed, one still waiting, one very old
    replayed = _quarantine(store, "q-replayed", days_ago=40, email="ada@example.com")
    _waiting = _quarantine(store, "q-waiting", days_ago=40, email="bob@example.com")
    _ancient = _quarantine(store, "q-ancient", days_ago=400, email="cy@example.com")
    assert store.mark_replayed(replayed, now=NOW)
    # when pruned at 30 days for bodies and 365 for keys
    counts = store.prune(
        bodies_before=NOW - timedelta(days=30), keys_before=NOW - timedelta(days=365)
    )
    # then the replayed one and the one past the key horizon are gone; the waiting one stays
    left = [q.dedupe_key for q in store.quarantined(SHOP, include_replayed=True)]
    assert left == ["q-waiting"]
    assert counts["quarantine"] == 2


def test_a_customers_quarantined_delivery_is_exported_and_erased(store: Store) -> None:
    _quarantine(store, "q-ada", days_ago=1, email="Ada@Example.com")
    _quarantine(store, "q-bob", days_ago=1, email="bob@example.com")
    exported = store.export_customer(SHOP, email="ada@example.com")
    assert [json.loads(q["body"])["email"] for q in exported["quarantined"]] == ["Ada@Example.com"]
    erased = store.redact_customer(SHOP, email="ada@example.com", now=NOW)
    assert erased["quarantine"] == 1
    left = [q.dedupe_key for q in store.quarantined(SHOP, include_replayed=True)]
    assert left == ["q-bob"]


def test_old_connection_requests_are_pruned(store: Store) -> None:
    from aftersale_kit.storage import auth_requests

    old = auth_requests.create(store.db, platform="shopify", shop=SHOP, now=NOW - timedelta(days=2))
    fresh = auth_requests.create(store.db, platform="shopify", shop=SHOP, now=NOW)
    counts = store.prune(bodies_before=NOW - timedelta(days=1))
    assert counts["auth_requests"] == 1
    # the fresh one still works once, the old one is gone
    assert auth_requests.consume(store.db, nonce=fresh, platform="shopify", shop=SHOP, now=NOW)
    assert not auth_requests.consume(store.db, nonce=old, platform="shopify", shop=SHOP, now=NOW)
