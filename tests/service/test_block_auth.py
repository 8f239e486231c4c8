"""WooCommerce thank-you page tokens: checked before any call to the shop, against the order
key kept from the webhook, or against the key the page names before the webhook arrived."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import httpx
import pytest
from aftersale_kit_woocommerce.tokens import block_token as woocommerce_block_token

from aftersale_kit.storage import JobStatus

from .conftest import write_woocommerce_config
from .harness import running_service, wait_for, woocommerce_delivery

SHOP = "127.0.0.1"


@pytest.mark.slow
def test_woocommerce_page_before_and_after_the_webhook(
    woocommerce_sandbox: Any, tmp_path: Path, db_url: str
) -> None:
    config, env = write_woocommerce_config(tmp_path / "shops", woocommerce_sandbox)
    secret = env["WOO_WEBHOOK_SECRET"]
    # given a paid order whose webhook has not arrived
    order = woocommerce_sandbox.create_order(customer_id=0)
    woocommerce_sandbox.pay(order["id"])
    order = woocommerce_sandbox.order(order["id"])
    key = order["order_key"]
    other_key = "wc_order_" + secrets.token_hex(6)

    def token(order_key: str) -> str:
        return woocommerce_block_token(
            secret=secret, shop=SHOP, order_id=str(order["id"]), order_key=order_key
        )

    with running_service(config=config, db_url=db_url, env=env) as svc:
        path = f"{svc.url}/v1/blocks/woocommerce/{SHOP}/{order['id']}"

        def get(**params: str) -> httpx.Response:
            return httpx.get(path, params=params, timeout=30)

        calls = len(woocommerce_sandbox.requests())
        # when the page asks without naming the key, or with a forged token for the right key,
        # or with a token made for the right key but another key named
        no_key = get(token=token(key))
        forged = get(token=secrets.token_hex(32), key=key)
        swapped = get(token=token(key), key=other_key)
        # then nothing is asked of the shop
        assert no_key.status_code == 202
        assert no_key.headers["retry-after"] == "3"
        assert (forged.status_code, swapped.status_code) == (404, 404)
        assert len(woocommerce_sandbox.requests()) == calls
        # when a token made with the secret names a key the order does not have
        wrong = get(token=token(other_key), key=other_key)
        # then the order is fetched (the request was authenticated) and refused all the same
        assert wrong.status_code == 404
        assert len(woocommerce_sandbox.requests()) > calls
        # when the page names the order's own key
        ready = get(token=token(key), key=key)
        # then the order is decided and its blocks are the answer
        assert ready.status_code == 200, ready.text
        assert [b["block"] for b in ready.json()["blocks"]] == ["coupon"]

        # when the webhook has arrived, the stored key is what counts
        headers, body = woocommerce_delivery(
            body=order, source=woocommerce_sandbox.home_url, secret=secret
        )
        answer = httpx.post(f"{svc.url}/webhooks/woocommerce", headers=headers, content=body)
        assert answer.json() == {"status": "accepted"}
        wait_for(lambda: svc.store.order_key(SHOP, str(order["id"])) == key)

        def idle() -> bool:  # the worker's own calls for the order (its content) are done
            stats = svc.store.queue_stats()
            return stats.get(JobStatus.PENDING, 0) + stats.get(JobStatus.CLAIMED, 0) == 0

        wait_for(idle, timeout=60)
        calls = len(woocommerce_sandbox.requests())
        assert get(token=token(key)).status_code == 200
        assert get(token=token(other_key), key=other_key).status_code == 404
        assert len(woocommerce_sandbox.requests()) == calls
