"""The acceptance walk-through, over plain HTTP (OAuth 1.0a) and over HTTPS (Basic auth)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path

import pytest
import requests
from aftersale_kit_woocommerce.sandbox import running_sandbox
from woocommerce import API

from .conftest import Receiver, fixture_json

ERRORS = fixture_json("wc_v3_errors.json")
SECRET = "receiver-secret"


@pytest.mark.slow
@pytest.mark.parametrize("transport", ["http-oauth1", "https-basic"])
def test_walk_through(transport: str, tmp_path: Path, receiver: Receiver) -> None:
    https = transport.startswith("https")
    options = {"https": True, "cert_dir": tmp_path} if https else {}
    with running_sandbox(**options) as shop:
        api = shop.client()
        expected_auth = "basic" if https else "oauth1"

        # a coupon, then the duplicate error
        assert api.post("coupons", {"code": "BACK-SOON", "amount": "5"}).status_code == 201
        duplicate = api.post("coupons", {"code": "back-soon"})
        assert (duplicate.status_code, duplicate.json()) == (400, ERRORS["coupon_exists_http400"])
        assert shop.requests()[-1]["auth"] == expected_auth

        # webhooks registered over REST at a real receiver (the ping arrives unsigned)
        for topic in ("order.created", "order.updated"):
            made = api.post(
                "webhooks", {"topic": topic, "delivery_url": receiver.url, "secret": SECRET}
            )
            assert made.status_code == 201
        assert [r.body[:11] for r in receiver.requests] == [b"webhook_id="] * 2

        # orders paged with X-WP-Total
        for index in range(3):
            shop.skew_clock(index)
            shop.create_order("wc_v3_order_727", customer_id=5)
        ids: list[int] = []
        page = 1
        while True:
            response = api.get("orders", params={"per_page": 2, "page": page})
            assert response.headers["X-WP-Total"] == "3"
            ids += [o["id"] for o in response.json()]
            if page >= int(response.headers["X-WP-TotalPages"]):
                break
            page += 1
        assert len(set(ids)) == 3

        # the documented limits
        assert (
            api.get("orders", params={"per_page": 101}).json()
            == ERRORS["per_page_over_100_http400"]
        )
        too_big = api.post("coupons/batch", {"create": [{"code": f"b{i}"} for i in range(101)]})
        assert (too_big.status_code, too_big.json()) == (413, ERRORS["batch_too_large_http413"])

        # correctly signed webhooks at the receiver
        assert shop.wait_for_webhooks()
        deliveries = receiver.deliveries()
        assert len(deliveries) == 6  # created + updated for each checkout
        for delivery in deliveries:
            digest = hmac.new(SECRET.encode(), delivery.body, hashlib.sha256).digest()
            assert delivery.headers["X-WC-Webhook-Signature"] == base64.b64encode(digest).decode()
            assert json.loads(delivery.body)["customer_id"] == 5
            assert delivery.headers["X-WC-Webhook-Source"] == shop.home_url + "/"

        # 429 with Retry-After, then recovery by honouring it
        shop.set_faults(rate_429=0.5, retry_after=0.05, seed=3)
        throttled = 0
        for _ in range(20):
            response = api.get("coupons")
            if response.status_code != 429:
                break
            throttled += 1
            assert response.json()["data"]["status"] == 429
            time.sleep(float(response.headers["Retry-After"]))
        assert throttled >= 1 and response.status_code == 200
        shop.set_faults(rate_429=0.0)

        # wrong credentials and replays
        verify = str(shop.ca_file) if https else True
        wrong = API(shop.url, shop.consumer_key, shop.consumer_secret + "x", verify_ssl=verify)
        refused = wrong.get("orders")
        assert refused.status_code == 401
        expected_message = (
            "Consumer secret is invalid."
            if https
            else "Invalid signature - provided signature does not match."
        )
        assert refused.json()["message"] == expected_message
        if not https:
            first = api.get("coupons")
            replay = requests.get(first.request.url, timeout=5)
            assert replay.status_code == 401
            assert replay.json()["message"] == "Invalid nonce - nonce has already been used."
