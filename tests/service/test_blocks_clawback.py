"""Thank-you block endpoint (tokens, isolation, page before webhook) and clawback on refund."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from aftersale_kit.storage import CouponStatus

from .conftest import write_shopify_config
from .harness import running_service, shopify_delivery, wait_for
from .test_service_flow import FAST_RETRY, _coupons

API_KEY = "client-id-123"


def _token(secret: str, shop: str, **over: Any) -> str:
    now = int(time.time())
    claims = {
        "dest": f"https://{shop}",
        "aud": API_KEY,
        "exp": now + 60,
        "nbf": now - 5,
        "iat": now - 5,
        "jti": "abc",
        **over,
    }
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, secret, "HS256")


@pytest.mark.slow
def test_block_endpoint_tokens_isolation_and_page_before_webhook(
    shopify_sandbox: Any, tmp_path: Path, db_url: str
) -> None:
    config, env = write_shopify_config(tmp_path / "shops", shopify_sandbox)
    shop = shopify_sandbox.shop_domain
    secret = shopify_sandbox.secret
    # given two paid orders whose webhooks have not arrived (no subscription yet)
    mine = shopify_sandbox.create_order(line_items=[{"title": "A", "price": "40.00"}])
    other = shopify_sandbox.create_order(line_items=[{"title": "B", "price": "40.00"}])
    with running_service(
        config=config,
        db_url=db_url,
        env=env,
        adapter_options=FAST_RETRY,
        shopify_api_key=API_KEY,
    ) as svc:
        base = f"{svc.url}/v1/blocks/shopify/{shop}"

        def get(order_id: Any, token: str | None) -> httpx.Response:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            return httpx.get(f"{base}/{order_id}", headers=headers, timeout=30)

        # when the page asks with forged, expired, foreign-shop and missing tokens
        forged = get(mine["id"], _token("not-the-secret-but-long-enough-for-hs256-0123", shop))
        expired = get(mine["id"], _token(secret, shop, exp=int(time.time()) - 60))
        foreign = get(mine["id"], _token(secret, "other-shop.myshopify.com"))
        wrong_aud = get(mine["id"], _token(secret, shop, aud="another-app"))
        missing = get(mine["id"], None)
        unknown_shop = httpx.get(
            f"{svc.url}/v1/blocks/shopify/other-shop.myshopify.com/{mine['id']}",
            headers={"Authorization": f"Bearer {_token(secret, shop)}"},
        )
        preflight = httpx.options(
            f"{base}/{mine['id']}",
            headers={
                "Origin": "https://extensions.shopifycdn.com",
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization",
            },
        )
        # and with a valid token, before the webhook, by GID
        ok = get(f"gid://shopify/Order/{mine['id']}", _token(secret, shop))
        # a logged-in customer asking for someone else's order
        stranger = get(other["id"], _token(secret, shop, sub="gid://shopify/Customer/1"))
        # then the webhook arrives late
        headers, body = shopify_delivery(topic="orders/paid", body=mine, shop=shop, secret=secret)
        late = httpx.post(f"{svc.url}/webhooks/shopify", headers=headers, content=body)
        assert late.status_code == 200
        wait_for(
            lambda: (
                [c.status for c in svc.store.coupons_for_order(shop, str(mine["id"]))]
                == [CouponStatus.ISSUED]
            )
        )
        wait_for(lambda: not svc.store.jobs(status=_pending()))
        again = get(mine["id"], _token(secret, shop))
        theirs = get(other["id"], _token(secret, shop))
        code = svc.store.coupons_for_order(shop, str(mine["id"]))[0].code
    assert [r.status_code for r in (forged, expired, foreign, wrong_aud, missing)] == [401] * 5
    assert unknown_shop.status_code == 404
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    assert ok.status_code == 200, ok.text
    assert ok.headers["access-control-allow-origin"] == "*"
    payload = ok.json()
    assert payload["status"] == "ready" and payload["order_id"] == str(mine["id"])
    assert code in ok.text
    assert stranger.status_code == 404
    # one coupon for the order although page and webhook both asked
    assert sum(code in d["codes"] for d in _coupons(shopify_sandbox)) == 1
    assert again.json() == payload
    # the other order's page never shows this order's coupon
    assert theirs.status_code == 200 and code not in theirs.text


@pytest.mark.slow
def test_refund_deactivates_the_unused_coupon(
    shopify_sandbox: Any, tmp_path: Path, db_url: str
) -> None:
    config, env = write_shopify_config(tmp_path / "shops", shopify_sandbox)
    shop = shopify_sandbox.shop_domain
    with running_service(config=config, db_url=db_url, env=env, adapter_options=FAST_RETRY) as svc:
        for topic in ("orders/paid", "refunds/create", "orders/cancelled"):
            shopify_sandbox.subscribe(topic, f"{svc.url}/webhooks/shopify")
        order = shopify_sandbox.create_order(line_items=[{"title": "A", "price": "40.00"}])
        oid = str(order["id"])
        wait_for(
            lambda: (
                [c.status for c in svc.store.coupons_for_order(shop, oid)] == [CouponStatus.ISSUED]
            )
        )
        code = svc.store.coupons_for_order(shop, oid)[0].code
        # when the order is refunded
        shopify_sandbox.refund(oid, amount="40.00")
        wait_for(
            lambda: (
                [c.status for c in svc.store.coupons_for_order(shop, oid)]
                == [CouponStatus.DEACTIVATED]
            )
        )
        # a late, redelivered paid webhook grants nothing again
        headers, body = shopify_delivery(
            topic="orders/paid", body=order, shop=shop, secret=shopify_sandbox.secret
        )
        httpx.post(f"{svc.url}/webhooks/shopify", headers=headers, content=body)
        wait_for(lambda: not svc.store.jobs(status=_pending()))
        ledger = svc.store.ledger(shop, order_id=oid)
    # then the coupon is no longer redeemable on the platform and its booking is reversed
    (discount,) = [d for d in _coupons(shopify_sandbox) if code in d["codes"]]
    assert discount["status"] == "EXPIRED"
    assert sorted(e.uses for e in ledger) == [-1, 1]


def _pending() -> Any:
    from aftersale_kit.storage import JobStatus

    return JobStatus.PENDING
