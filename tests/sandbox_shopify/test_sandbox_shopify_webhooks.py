"""Webhooks from the sandbox to a real receiver: headers, HMAC over raw bytes, retries,
subscription deletion, duplicates, reordering, drops, timeouts."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
from aftersale_kit_shopify.sandbox import RETRY_SCHEDULE, ShopifySandbox, sign
from shopify_receiver import Receiver

GQL = Callable[..., dict[str, Any]]

SUBSCRIBE = """mutation($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) {
    webhookSubscription { id } userErrors { message } } }"""

ORDER_TOPICS = (
    "ORDERS_CREATE",
    "ORDERS_PAID",
    "ORDERS_FULFILLED",
    "ORDERS_CANCELLED",
    "REFUNDS_CREATE",
    "ORDERS_UPDATED",
)


def subscribe_all(gql: GQL, url: str, topics: tuple[str, ...] = ORDER_TOPICS) -> None:
    for topic in topics:
        result = gql(SUBSCRIBE, topic=topic, sub={"callbackUrl": url, "format": "JSON"})
        assert result["data"]["webhookSubscriptionCreate"]["userErrors"] == []


def test_order_lifecycle_delivers_signed_webhooks(
    sandbox: ShopifySandbox, receiver: Receiver, gql: GQL
) -> None:
    # given a receiver subscribed to every order topic through the API
    subscribe_all(gql, receiver.url)
    # when an order is created unpaid, then paid, fulfilled, partly refunded and cancelled
    order = sandbox.create_order(financial_status="pending", line_items=[{"price": "80.00"}])
    sandbox.pay(order["id"])
    sandbox.fulfill(order["id"], tracking_number="TRACK-1")
    sandbox.refund(order["id"], amount="30.00", note="damaged")
    sandbox.cancel(order["id"], reason="customer")
    received = receiver.wait_for(9)
    assert sandbox.wait_for_deliveries(5)
    # then every topic arrived once, each verifiably signed
    assert sorted(receiver.topics()) == sorted(
        [
            "orders/create",
            "orders/paid",
            "orders/updated",
            "orders/fulfilled",
            "orders/updated",
            "refunds/create",
            "orders/updated",
            "orders/cancelled",
            "orders/updated",
        ]
    )
    assert all(r.verified for r in received)
    by_topic = {r.topic: r for r in received}
    paid = by_topic["orders/paid"]
    headers = {k.lower(): v for k, v in paid.headers.items()}
    assert headers["x-shopify-shop-domain"] == "sandbox-shop.myshopify.com"
    assert headers["x-shopify-api-version"] == "2025-10"
    assert headers["content-type"] == "application/json"
    assert headers["x-shopify-triggered-at"].endswith("Z")
    # and the webhook ids are unique, the event id shared by the deliveries of one action
    webhook_ids = [r.headers["X-Shopify-Webhook-Id"] for r in received]
    assert len(set(webhook_ids)) == 9
    events: dict[str, set[str]] = {}
    for r in received:
        events.setdefault(r.headers["X-Shopify-Event-Id"], set()).add(r.topic)
    assert {"orders/paid", "orders/updated"} in events.values()
    assert {"refunds/create", "orders/updated"} in events.values()
    # and bodies are the REST shapes, ids as JSON numbers
    body = paid.json()
    assert body["id"] == order["id"] > 2**53
    assert str(order["id"]).encode() in paid.body
    assert body["financial_status"] == "paid"
    assert by_topic["orders/fulfilled"].json()["fulfillments"][0]["tracking_number"] == "TRACK-1"
    refund = by_topic["refunds/create"].json()
    assert refund["order_id"] == order["id"]
    assert refund["transactions"][0]["amount"] == "30.00"
    assert refund["note"] == "damaged"
    cancelled = by_topic["orders/cancelled"].json()
    assert cancelled["cancel_reason"] == "customer"
    assert cancelled["financial_status"] == "partially_refunded"


def test_a_re_encoded_body_fails_verification(
    sandbox: ShopifySandbox, receiver: Receiver, gql: GQL
) -> None:
    # given a delivery of the 2025 sample order (non-ASCII free, big ids)
    subscribe_all(gql, receiver.url, ("ORDERS_CREATE",))
    sandbox.create_order(fixture="shopify_sample_webhook_order_2025")
    (delivery,) = receiver.wait_for(1)
    header = delivery.headers["X-Shopify-Hmac-Sha256"]
    secret = sandbox.secret.encode()

    def b64(data: bytes) -> str:
        return base64.b64encode(hmac.new(secret, data, hashlib.sha256).digest()).decode()

    # then the HMAC of the raw bytes matches, in base64
    assert delivery.verified
    assert b64(delivery.body) == header == sign(delivery.body, sandbox.secret)
    # and the HMAC of the parsed and re-serialised body does not
    reencoded = json.dumps(json.loads(delivery.body)).encode()
    assert reencoded != delivery.body
    assert b64(reencoded) != header
    # and neither does a hex digest
    assert hmac.new(secret, delivery.body, hashlib.sha256).hexdigest() != header
    # and the ids kept every digit
    assert b'"id":820982911946154508' in delivery.body


@pytest.mark.slow
def test_retries_resend_the_same_bytes_with_back_off(
    sandbox: ShopifySandbox, receiver: Receiver, gql: GQL
) -> None:
    # given a receiver that answers 500, then a redirect, then 503, then 200
    answers = [500, 302, 503, 200]
    receiver.answer = lambda index, request: answers[min(index, 3)]
    sandbox.configure_webhooks(time_scale=1e-3)  # first retry after 0.11 s, then doubling
    subscribe_all(gql, receiver.url, ("ORDERS_PAID",))
    # when a paid order is created
    sandbox.create_order()
    received = receiver.wait_for(4)
    assert sandbox.wait_for_deliveries(5)
    # then it took four tries (a 3xx is a failure), each with the same bytes and headers
    assert len({r.body for r in received}) == 1
    for name in ("X-Shopify-Event-Id", "X-Shopify-Triggered-At", "X-Shopify-Webhook-Id"):
        assert len({r.headers[name] for r in received}) == 1
    (delivery,) = sandbox.deliveries()
    assert [a["status"] for a in delivery["attempts"]] == [500, 302, 503, 200]
    assert delivery["state"] == "delivered"
    # and the gaps follow the schedule: at least the scheduled delay, each one longer
    gaps = [b.at - a.at for a, b in itertools.pairwise(received)]
    scheduled = [d * 1e-3 for d in RETRY_SCHEDULE[:3]]
    assert all(gap >= want * 0.95 for gap, want in zip(gaps, scheduled, strict=True))
    assert gaps[0] < gaps[1] < gaps[2]


def test_the_schedule_is_eight_tries_over_four_hours() -> None:
    assert len(RETRY_SCHEDULE) == 7
    assert sum(RETRY_SCHEDULE) == pytest.approx(4 * 3600)
    assert all(b == pytest.approx(2 * a) for a, b in itertools.pairwise(RETRY_SCHEDULE))


@pytest.mark.slow
def test_subscription_is_deleted_after_eight_consecutive_failures(
    sandbox: ShopifySandbox, receiver: Receiver, gql: GQL
) -> None:
    # given an API subscription and an app (TOML) subscription on a receiver that always fails
    receiver.answer = lambda index, request: 500
    sandbox.configure_webhooks(time_scale=3e-5)  # 4 hours in 0.4 s
    subscribe_all(gql, receiver.url, ("ORDERS_CREATE",))
    sandbox.subscribe("orders/create", receiver.url + "?toml=1", source="app")
    # when an order is created and every retry fails
    sandbox.create_order()
    receiver.wait_for(16)
    assert sandbox.wait_for_deliveries(10)
    # then each delivery was tried 8 times and failed
    deliveries = sandbox.deliveries()
    assert sorted(len(d["attempts"]) for d in deliveries) == [8, 8]
    assert {d["state"] for d in deliveries} == {"failed"}
    # and the API subscription is gone, as Shopify removes it; the app one stays
    listed = gql("{ webhookSubscriptions(first: 10) { nodes { id } } }")
    assert listed["data"]["webhookSubscriptions"]["nodes"] == []
    assert [s["source"] for s in sandbox.subscriptions()] == ["app"]
    (deleted,) = sandbox.webhooks.deleted_subscriptions
    assert deleted["reason"] == "8 consecutive failures"
    # and later orders reach only the app subscription
    before = len(receiver.received)
    receiver.answer = lambda index, request: 200
    sandbox.create_order()
    receiver.wait_for(before + 1)
    assert sandbox.wait_for_deliveries(5)
    assert len(receiver.received) == before + 1
    assert sandbox.deliveries()[-1]["url"].endswith("?toml=1")


@pytest.mark.slow
def test_a_success_resets_the_failure_count(
    sandbox: ShopifySandbox, receiver: Receiver, gql: GQL
) -> None:
    # given at most 6 tries per delivery, and a receiver that fails 5 times, succeeds once,
    # then fails for good
    receiver.answer = lambda index, request: 200 if index == 5 else 500
    sandbox.configure_webhooks(max_attempts=6)
    subscribe_all(gql, receiver.url, ("ORDERS_CREATE",))
    # when two orders go out one after the other
    sandbox.create_order()
    receiver.wait_for(6)
    assert sandbox.wait_for_deliveries(5)
    sandbox.create_order()
    receiver.wait_for(12)
    assert sandbox.wait_for_deliveries(5)
    # then 11 tries failed in all, but never 8 in a row: the subscription stays
    attempts = [a["status"] for d in sandbox.deliveries() for a in d["attempts"]]
    assert attempts.count(500) == 11
    assert len(sandbox.subscriptions()) == 1


def test_a_slow_receiver_times_out_and_is_retried(
    sandbox: ShopifySandbox, receiver: Receiver, gql: GQL
) -> None:
    # given deliveries time out after 0.3 s and the receiver is slow the first time only
    sandbox.configure_webhooks(timeout=0.3)
    receiver.hold = lambda index: 0.6 if index == 0 else 0.0
    subscribe_all(gql, receiver.url, ("ORDERS_CREATE",))
    # when an order is created
    sandbox.create_order()
    receiver.wait_for(2)
    assert sandbox.wait_for_deliveries(5)
    # then the first try failed with a timeout and the retry succeeded
    (delivery,) = sandbox.deliveries()
    first, second = delivery["attempts"]
    assert first["status"] is None and "timeout" in first["error"].lower()
    assert second["status"] == 200
    assert delivery["state"] == "delivered"


def test_duplicates_carry_the_same_event_id(
    sandbox: ShopifySandbox, receiver: Receiver, gql: GQL
) -> None:
    # given every delivery is sent twice
    sandbox.configure_webhooks(duplicate=1.0)
    subscribe_all(gql, receiver.url, ("ORDERS_PAID",))
    # when one order is paid
    sandbox.create_order()
    first, second = receiver.wait_for(2)
    assert sandbox.wait_for_deliveries(5)
    # then the receiver sees the same webhook twice, same bytes, same ids
    assert first.body == second.body
    assert first.headers["X-Shopify-Event-Id"] == second.headers["X-Shopify-Event-Id"]
    assert first.headers["X-Shopify-Webhook-Id"] == second.headers["X-Shopify-Webhook-Id"]
    assert first.verified and second.verified


def test_reordering_lets_later_events_overtake(
    sandbox: ShopifySandbox, receiver: Receiver, gql: GQL
) -> None:
    # given deliveries are delayed by a random 0..0.3 s each
    sandbox.configure_webhooks(reorder_window=0.3)
    subscribe_all(gql, receiver.url, ("ORDERS_CREATE",))
    # when eight orders are created in a row
    created = [sandbox.create_order()["id"] for _ in range(8)]
    received = receiver.wait_for(8)
    assert sandbox.wait_for_deliveries(5)
    # then all arrive, but not in creation order
    arrived = [r.json()["id"] for r in received]
    assert sorted(arrived) == sorted(created)
    assert arrived != created


@pytest.mark.slow
def test_drop_and_delay(sandbox: ShopifySandbox, receiver: Receiver, gql: GQL) -> None:
    subscribe_all(gql, receiver.url, ("ORDERS_CREATE",))
    # given every delivery is lost
    sandbox.configure_webhooks(drop=1.0)
    sandbox.create_order()
    assert sandbox.wait_for_deliveries(5)
    time.sleep(0.1)
    # then nothing arrives and the sandbox says why
    assert receiver.received == []
    assert [d["state"] for d in sandbox.deliveries()] == ["dropped"]
    # given deliveries are late by 0.3 s
    sandbox.configure_webhooks(drop=0.0, delay=0.3)
    started = time.monotonic()
    sandbox.create_order()
    (late,) = receiver.wait_for(1)
    # then it arrives after the delay
    assert late.at - started >= 0.3


def test_include_fields_trims_the_body(
    sandbox: ShopifySandbox, receiver: Receiver, gql: GQL
) -> None:
    result = gql(
        SUBSCRIBE,
        topic="ORDERS_CREATE",
        sub={"callbackUrl": receiver.url, "includeFields": ["id", "updated_at"]},
    )
    assert result["data"]["webhookSubscriptionCreate"]["userErrors"] == []
    order = sandbox.create_order()
    (delivery,) = receiver.wait_for(1)
    assert delivery.json() == {"id": order["id"], "updated_at": order["updated_at"]}
    assert delivery.verified


def test_compliance_topics_and_uninstall(
    sandbox: ShopifySandbox, receiver: Receiver, gql: GQL
) -> None:
    # given the app's configuration subscribes the compliance topics
    for topic in ("customers/data_request", "customers/redact", "shop/redact", "app/uninstalled"):
        sandbox.subscribe(topic, receiver.url)
    subscribe_all(gql, receiver.url, ("ORDERS_PAID",))
    order = sandbox.create_order(customer={"email": "gone@example.com"})
    receiver.wait_for(1)
    customer_id = order["customer"]["id"]
    # when the merchant's customer asks for their data and to be forgotten
    assert sandbox.trigger("customers/data_request", customer_id=customer_id) == 1
    assert sandbox.trigger("customers/redact", customer_id=customer_id) == 1
    assert sandbox.trigger("shop/redact") == 1
    received = receiver.wait_for(4)
    # then the payloads carry shop, customer and orders
    bodies = {r.topic: r.json() for r in received}
    assert bodies["customers/redact"]["customer"] == {
        "id": customer_id,
        "email": "gone@example.com",
        "phone": None,
    }
    assert bodies["customers/redact"]["orders_to_redact"] == [order["id"]]
    assert bodies["customers/data_request"]["orders_requested"] == [order["id"]]
    assert bodies["shop/redact"] == {
        "shop_id": sandbox.state.shop_id,
        "shop_domain": "sandbox-shop.myshopify.com",
    }
    # when the app is uninstalled
    sandbox.uninstall()
    (uninstalled,) = [r for r in receiver.wait_for(5) if r.topic == "app/uninstalled"]
    # then the token is revoked and the API subscriptions are gone
    assert uninstalled.json()["myshopify_domain"] == "sandbox-shop.myshopify.com"
    assert uninstalled.verified
    response = requests.post(
        sandbox.graphql_url(),
        json={"query": "{ shop { name } }"},
        headers={"X-Shopify-Access-Token": sandbox.token},
        timeout=5,
    )
    assert response.status_code == 401
    assert {s["source"] for s in sandbox.subscriptions()} == {"app"}


def test_webhook_body_drops_customer_history_since_2022_07(
    sandbox: ShopifySandbox, receiver: Receiver
) -> None:
    # given the 2019 sample, whose nested customer still has orders_count and total_spent
    sandbox.subscribe("orders/create", receiver.url, api_version="2025-10")
    sandbox.subscribe("orders/create", receiver.url + "?old", api_version="2022-04")
    sandbox.create_order(fixture="shopify_sample_webhook_order_2019")
    received = receiver.wait_for(2)
    by_version = {r.headers["X-Shopify-API-Version"]: r.json() for r in received}
    # then a current version has no history fields on the customer; an old one still does
    assert "orders_count" not in by_version["2025-10"]["customer"]
    assert "total_spent" not in by_version["2025-10"]["customer"]
    assert by_version["2022-04"]["customer"]["orders_count"] == 0
