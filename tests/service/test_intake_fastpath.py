"""The intake's fast path: ``peek_webhook`` agrees with ``verify_webhook``, and group commit
batches concurrent deliveries while answering each one on its own."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

import pytest
from aftersale_kit_shopify.webhooks import (
    peek_shopify_webhook,
    sign_body,
    verify_shopify_webhook,
)
from aftersale_kit_woocommerce.webhooks import (
    peek_woocommerce_webhook,
    verify_woocommerce_webhook,
)

from aftersale_kit.core.errors import MalformedWebhookError, SignatureError, UnknownTopicError
from aftersale_kit.core.platform import WebhookEnvelope
from aftersale_kit.service.intake import GroupCommit

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SHOP = "bohnenglueck-kaffee.myshopify.com"
SECRET = "peek-secret-0123456789"


def _shopify(body: bytes, *, topic: str = "orders/paid", **extra: str) -> dict[str, str]:
    return {
        "x-shopify-topic": topic,
        "x-shopify-hmac-sha256": sign_body(body, SECRET),
        "x-shopify-shop-domain": SHOP,
        "x-shopify-event-id": "evt-1",
        **extra,
    }


@pytest.mark.parametrize("topic", ["orders/paid", "orders/create", "refunds/create"])
def test_shopify_peek_gives_what_verify_gives(topic: str) -> None:
    # given a signed vendor order (a refund body names its order in order_id)
    order = json.loads(
        (FIXTURES / "shopify" / "shopify_sample_webhook_order_2025.json").read_text()
    )
    payload = {"id": 9, "order_id": order["id"]} if topic == "refunds/create" else order
    body = json.dumps(payload).encode()
    headers = _shopify(body, topic=topic)
    # when
    peeked = peek_shopify_webhook(headers, body, secrets=[SECRET], shop=SHOP)
    verified = verify_shopify_webhook(headers, body, secrets=[SECRET], shop=SHOP)
    # then
    assert peeked == WebhookEnvelope.of(verified)
    assert peeked.order_id == str(order["id"])


def test_shopify_peek_refuses_as_verify_does() -> None:
    body = b'{"id": 1}'
    cases = {
        "forged": (dict(_shopify(body), **{"x-shopify-hmac-sha256": "AAAA"}), body),
        "not json": (_shopify(b"{not json"), b"{not json"),
        "no id": (_shopify(b'{"name": "#1"}'), b'{"name": "#1"}'),
        "topic": (_shopify(body, topic="carts/update"), body),
    }
    expected = {
        "forged": SignatureError,
        "not json": MalformedWebhookError,
        "no id": MalformedWebhookError,
        "topic": UnknownTopicError,
    }
    for name, (headers, raw) in cases.items():
        for check in (peek_shopify_webhook, verify_shopify_webhook):
            with pytest.raises(expected[name]):
                check(headers, raw, secrets=[SECRET], shop=SHOP)


def test_woocommerce_peek_gives_what_verify_gives_and_refuses_the_same() -> None:
    # given the recorded-shape delivery (PHP-encoded body) and a ping
    folder = FIXTURES / "woocommerce"
    body = (folder / "webhook_order_updated_body.raw.json").read_bytes()
    delivery = json.loads((folder / "webhook_order_updated_delivery.json").read_text("utf-8"))
    headers, secret = dict(delivery["headers"]), delivery["secret"]
    # when / then
    peeked = peek_woocommerce_webhook(headers, body, secrets=[secret], shop="example.com")
    verified = verify_woocommerce_webhook(headers, body, secrets=[secret], shop="example.com")
    assert peeked == WebhookEnvelope.of(verified)
    assert "order:727:" in peeked.dedupe_key
    ping = peek_woocommerce_webhook({}, b"webhook_id=3", secrets=[secret], shop="example.com")
    assert ping.topic == "ping"
    with pytest.raises(SignatureError):
        peek_woocommerce_webhook(headers, body + b" ", secrets=[secret], shop="example.com")


def test_group_commit_batches_concurrent_items_and_answers_each() -> None:
    # given a handler that records its batches and fails on one bad item
    batches: list[list[int]] = []
    gate = threading.Event()

    def handle(items: list[int]) -> list[str]:
        gate.wait(5)  # the first batch waits, so that the others queue up meanwhile
        if 13 in items:
            raise ValueError("bad item")
        batches.append(items)
        return [f"ok {i}" for i in items]

    writer: GroupCommit[int, str] = GroupCommit(handle, name="test-writer")

    async def burst(items: range) -> list[str | BaseException]:
        tasks = [asyncio.ensure_future(writer.submit(i)) for i in items]
        await asyncio.sleep(0.05)
        gate.set()
        return await asyncio.gather(*tasks, return_exceptions=True)

    try:
        # when 40 good items arrive at once
        good = asyncio.run(burst(range(20, 60)))
        # then each got its own answer, from at most two batches (one commit for many)
        assert good == [f"ok {i}" for i in range(20, 60)]
        assert [i for b in batches for i in b] == list(range(20, 60))
        assert len(batches) <= 2
        # when a batch holds a bad item, then only that item fails
        mixed = asyncio.run(burst(range(10, 16)))
    finally:
        writer.close()
    assert isinstance(mixed[3], ValueError)
    assert [a for i, a in enumerate(mixed) if i != 3] == [f"ok {i}" for i in (10, 11, 12, 14, 15)]
