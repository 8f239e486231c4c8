"""Webhook deliveries: golden bytes, signatures on raw bytes, ping, no retries, disabling."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from urllib.parse import parse_qs

import pytest
from aftersale_kit_woocommerce.sandbox import WooCommerceSandbox, running_sandbox

from .conftest import FIXTURES, Receiver, fixture_json

SECRET = "demo-secret-do-not-use"


def _valid(body: bytes, header: str, secret: str = SECRET) -> bool:
    """What a receiver must do: HMAC over the raw bytes, compared in constant time."""
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
    return hmac.compare_digest(expected, header.encode())


def test_order_updated_delivery_reproduces_the_golden_bytes_and_signature(
    receiver: Receiver,
) -> None:
    # given the docs' order 727 on a site at https://example.com and webhook 3 with the demo secret
    golden = fixture_json("webhook_order_updated_delivery.json")
    raw = (FIXTURES / golden["body_file"]).read_bytes()
    with running_sandbox(home_url="https://example.com") as shop:
        shop.load_order("wc_v3_order_727")
        shop.add_webhook("order.updated", receiver.url, secret=golden["secret"], webhook_id=3)
        # when the order.updated hook runs for the order
        shop.fire("order.updated", 727)
        (received,) = receiver.wait_for(1)
    # then the body is byte for byte the fixture, and every header matches
    assert received.body == raw
    for name, value in golden["headers"].items():
        if name == "X-WC-Webhook-Delivery-ID":
            assert re.fullmatch(r"[0-9a-f]{32}", received.headers[name])
        else:
            assert received.headers[name] == value, name
    assert (
        received.headers["X-WC-Webhook-Signature"] == "oHA1gaUpkSZJ5svCcnj9Ozgc/jYWRVnOJyinrjLpT4U="
    )


def test_a_receiver_verifying_raw_bytes_accepts_every_delivery_and_a_reencoded_body_fails(
    shop: WooCommerceSandbox, receiver: Receiver
) -> None:
    # given webhooks for new and updated orders, and an order with non-ASCII text and URLs
    for topic in ("order.created", "order.updated"):
        shop.add_webhook(topic, receiver.url, secret=SECRET)
    order = shop.create_order("wc96_recorded_order_77", customer_id=23)
    # when it is paid and completed
    shop.pay(order["id"])
    shop.complete(order["id"])
    assert shop.wait_for_webhooks()
    deliveries = receiver.deliveries()
    # then every delivery verifies on its raw bytes
    assert len(deliveries) == 4  # created + updated (checkout), paid, completed
    assert all(_valid(d.body, d.headers["X-WC-Webhook-Signature"]) for d in deliveries)
    # and re-serialising the parsed JSON (as a careless receiver would) breaks the HMAC
    for delivery in deliveries:
        reencoded = json.dumps(json.loads(delivery.body)).encode()
        assert reencoded != delivery.body
        assert not _valid(reencoded, delivery.headers["X-WC-Webhook-Signature"])
    assert b"\\/" in deliveries[0].body and b"\\u1eef" in deliveries[0].body  # "\/" and "ữ"


def test_payload_is_built_at_delivery_time(shop: WooCommerceSandbox, receiver: Receiver) -> None:
    # given deliveries that wait a moment in the queue (Action Scheduler lag)
    shop.set_webhook_options(delay=0.3)
    shop.add_webhook("order.updated", receiver.url, secret=SECRET)
    order = shop.create_order("wc_v3_order_727")
    # when the order is paid and then completed before the queued delivery runs
    shop.pay(order["id"])
    shop.complete(order["id"])
    assert shop.wait_for_webhooks()
    # then the bursts coalesced into one delivery carrying the latest state
    (delivery,) = receiver.deliveries()
    assert json.loads(delivery.body)["status"] == "completed"


def test_creation_sends_the_unsigned_form_ping(
    shop: WooCommerceSandbox, receiver: Receiver
) -> None:
    # when a webhook is created over REST
    response = shop.client().post(
        "webhooks",
        {
            "name": "after-sales",
            "topic": "order.updated",
            "delivery_url": receiver.url,
            "secret": SECRET,
        },
    )
    # then it exists (secret never echoed) and the ping was webhook_id=<id>, form-encoded, unsigned
    assert response.status_code == 201
    created = response.json()
    assert "secret" not in created
    assert created["hooks"] == [
        "woocommerce_update_order",
        "woocommerce_order_refunded",
        "woocommerce_delete_order_refund",
    ]
    (ping,) = receiver.requests
    assert ping.body == f"webhook_id={created['id']}".encode()
    assert parse_qs(ping.body.decode()) == {"webhook_id": [str(created["id"])]}
    assert ping.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert not any(name.lower().startswith("x-wc-") for name in ping.headers)
    assert re.fullmatch(r"WooCommerce/\S+ Hookshot \(WordPress/\S+\)", ping.headers["User-Agent"])


def test_status_transitions_fire_updates_with_the_new_state(
    shop: WooCommerceSandbox, receiver: Receiver
) -> None:
    shop.add_webhook("order.updated", receiver.url, secret=SECRET)
    shop.set_webhook_options(created_also_updated=False)
    order = shop.create_order("wc_v3_order_727", email="ada@example.com")
    assert order["status"] == "pending" and order["date_paid"] is None
    shop.pay(order["id"], transaction_id="txn-1")
    shop.wait_for_webhooks()
    shop.complete(order["id"])
    shop.wait_for_webhooks()
    shop.refund(order["id"], "5.00", reason="scratch")
    shop.wait_for_webhooks()
    shop.refund(order["id"])
    assert shop.wait_for_webhooks()
    bodies = [json.loads(d.body) for d in receiver.deliveries()]
    assert [b["status"] for b in bodies] == ["processing", "completed", "completed", "refunded"]
    paid = bodies[0]
    assert paid["date_paid"] and paid["date_paid_gmt"] and paid["transaction_id"] == "txn-1"
    assert bodies[1]["date_completed"] is not None
    assert [r["total"] for r in bodies[3]["refunds"]] == ["-24.35", "-5.00"]
    modified = [b["date_modified_gmt"] for b in bodies]
    assert modified == sorted(modified)
    notes = [n["note"] for n in shop.notes(order["id"])]
    assert "Order status changed from Pending payment to Processing." in notes


def test_checkout_fires_created_and_updated_and_optional_repeats(
    shop: WooCommerceSandbox, receiver: Receiver
) -> None:
    for topic in ("order.created", "order.updated"):
        shop.add_webhook(topic, receiver.url, secret=SECRET)
    shop.set_webhook_options(updated_repeats=(3, 3))
    order = shop.create_order("wc_v3_order_727")
    assert shop.wait_for_webhooks()
    topics = sorted(d.headers["X-WC-Webhook-Topic"] for d in receiver.deliveries())
    assert topics == ["order.created"] + ["order.updated"] * 3
    assert {json.loads(d.body)["id"] for d in receiver.deliveries()} == {order["id"]}


def test_failures_are_not_retried_and_the_seventh_in_a_row_disables(
    shop: WooCommerceSandbox, receiver: Receiver
) -> None:
    # given a receiver that fails
    receiver.status = 500
    hook = shop.add_webhook("order.updated", receiver.url, secret=SECRET)
    shop.load_order("wc_v3_order_727")
    # when the order changes eight times
    for _ in range(8):
        shop.fire("order.updated", 727)
        assert shop.wait_for_webhooks()
    # then each failure was tried once, and the 7th disabled the webhook
    assert len(receiver.deliveries()) == 7
    state = shop.webhook_state(hook["id"])
    assert state["status"] == "disabled" and state["failure_count"] == 6
    assert all(len(d["attempts"]) == 1 for d in shop.deliveries())
    # and re-activation over REST keeps the count, so the next failure disables again
    api = shop.client()
    assert api.put(f"webhooks/{hook['id']}", {"status": "active"}).json()["status"] == "active"
    shop.fire("order.updated", 727)
    assert shop.wait_for_webhooks()
    assert shop.webhook_state(hook["id"])["status"] == "disabled"


@pytest.mark.parametrize(("status", "counted_as_success"), [(200, True), (302, True), (303, False)])
def test_success_is_200_to_302(
    shop: WooCommerceSandbox, receiver: Receiver, status: int, counted_as_success: bool
) -> None:
    receiver.status = status
    hook = shop.add_webhook("order.updated", receiver.url, secret=SECRET)
    shop.load_order("wc_v3_order_727")
    shop.fire("order.updated", 727)
    assert shop.wait_for_webhooks()
    assert shop.webhook_state(hook["id"])["failure_count"] == (0 if counted_as_success else 1)


def test_trash_sends_the_id_only_and_drafts_send_nothing(
    shop: WooCommerceSandbox, receiver: Receiver
) -> None:
    shop.add_webhook("order.deleted", receiver.url, secret=SECRET)
    shop.add_webhook("order.created", receiver.url, secret=SECRET)
    shop.create_order("wc_v3_order_727", status="checkout-draft")
    shop.load_order("wc_v3_order_727")
    assert shop.client().delete("orders/727").status_code == 200
    assert shop.wait_for_webhooks()
    (delivery,) = receiver.deliveries()
    assert delivery.body == b'{"id":727}'
    assert delivery.headers["X-WC-Webhook-Event"] == "deleted"


def test_deliveries_of_one_webhook_in_one_second_share_their_delivery_id(
    receiver: Receiver,
) -> None:
    frozen = time.time()
    with running_sandbox(clock=lambda: frozen) as shop:
        shop.add_webhook("order.updated", receiver.url, secret=SECRET)
        shop.load_order("wc_v3_order_727")
        shop.fire("order.updated", 727)
        shop.wait_for_webhooks()
        shop.fire("order.updated", 727)
        shop.wait_for_webhooks()
    ids = {d.headers["X-WC-Webhook-Delivery-ID"] for d in receiver.deliveries()}
    assert len(receiver.deliveries()) == 2 and len(ids) == 1


@pytest.mark.parametrize(("set_paid", "paid"), [(True, True), ("True", True), ("0", False)])
def test_rest_checkout_reads_set_paid_once_for_status_and_webhooks(
    shop: WooCommerceSandbox, receiver: Receiver, set_paid: object, paid: bool
) -> None:
    # given webhooks for both order topics
    for topic in ("order.created", "order.updated"):
        shop.add_webhook(topic, receiver.url, secret=SECRET)
    # when an order is created over REST with set_paid spelt in one of WordPress's ways
    response = shop.client().post(
        "orders", {"line_items": [{"product_id": 93, "quantity": 1}], "set_paid": set_paid}
    )
    assert response.status_code == 201
    assert shop.wait_for_webhooks()
    # then the status and the webhooks agree: a paid order also sends order.updated
    topics = sorted(d.headers["X-WC-Webhook-Topic"] for d in receiver.deliveries())
    assert response.json()["status"] == ("processing" if paid else "pending")
    assert topics == (["order.created", "order.updated"] if paid else ["order.created"])
