"""WooCommerce end to end over real HTTP: the sandbox's own signed deliveries -> intake ->
worker -> coupon and order meta in the sandbox; refund and cancel take the coupon back."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from aftersale_kit_woocommerce.adapter import HTML_META_KEY
from aftersale_kit_woocommerce.coupons import DEACTIVATED_META

from aftersale_kit.storage import CouponStatus, JobStatus

from .conftest import write_woocommerce_config
from .harness import running_service, wait_for, woocommerce_delivery


def _statuses(svc: Any, shop: str, order_id: str) -> list[CouponStatus]:
    return [c.status for c in svc.store.coupons_for_order(shop, order_id)]


def _our_coupons(sandbox: Any) -> list[dict[str, Any]]:
    return [c for c in sandbox.coupons() if str(c["code"]).upper().startswith("DANKE")]


def _meta(sandbox: Any, order_id: str, key: str) -> Any:
    return next((m["value"] for m in sandbox.order_meta(int(order_id)) if m["key"] == key), None)


def _idle(svc: Any) -> bool:
    return not svc.store.jobs(status=JobStatus.PENDING) and not svc.store.jobs(
        status=JobStatus.CLAIMED
    )


@pytest.mark.slow
def test_paid_order_gets_one_coupon_and_meta_refund_and_cancel_take_it_back(
    woocommerce_sandbox: Any, tmp_path: Path, db_url: str
) -> None:
    sandbox = woocommerce_sandbox
    config, env = write_woocommerce_config(tmp_path / "shops", sandbox)
    shop = sandbox.home_url.split("://", 1)[1].split(":", 1)[0]
    with running_service(config=config, db_url=db_url, env=env) as svc:
        endpoint = f"{svc.url}/webhooks/woocommerce"
        # given the store's webhook for order.updated, pinged when it is saved (as the admin does)
        hook = sandbox.add_webhook("order.updated", endpoint, ping=True)
        # when two orders are placed (pending: nothing to do) and paid
        first = sandbox.create_order("wc_v3_order_727", customer_id=5, email="ada@example.com")
        second = sandbox.create_order("wc_v3_order_727", customer_id=6, email="bob@example.com")
        one, two = str(first["id"]), str(second["id"])
        sandbox.pay(int(one))
        sandbox.pay(int(two))
        wait_for(lambda: _statuses(svc, shop, one) == [CouponStatus.ISSUED])
        wait_for(lambda: _statuses(svc, shop, two) == [CouponStatus.ISSUED])
        wait_for(lambda: _meta(sandbox, one, HTML_META_KEY) is not None)
        wait_for(lambda: _idle(svc))
        code = svc.store.coupons_for_order(shop, one)[0].code
        content_before_reversal = _meta(sandbox, one, HTML_META_KEY)
        # and the paid state arrives again: the store resends it (new Delivery-ID), and a copy
        paid_body = json.dumps(sandbox.order(int(one))).encode()
        sandbox.trigger_webhook(hook["id"], int(one))
        assert sandbox.wait_for_webhooks(10)
        copies = [
            httpx.post(
                endpoint,
                headers=woocommerce_delivery(
                    body=paid_body, source=sandbox.home_url + "/", secret=env["WOO_WEBHOOK_SECRET"]
                )[0],
                content=paid_body,
            ).json()
            for _ in range(3)
        ]
        wait_for(lambda: _idle(svc))
        coupons_before_reversal = _our_coupons(sandbox)
        # when the first order is refunded in full and the second cancelled
        sandbox.refund(int(one))
        sandbox.cancel(int(two))
        wait_for(lambda: _statuses(svc, shop, one) == [CouponStatus.DEACTIVATED])
        wait_for(lambda: _statuses(svc, shop, two) == [CouponStatus.DEACTIVATED])
        wait_for(lambda: _idle(svc))
        metrics = httpx.get(f"{svc.url}/metrics").text
        content_after_reversal = _meta(sandbox, one, HTML_META_KEY)
        issued = sorted(
            c.code.upper() for oid in (one, two) for c in svc.store.coupons_for_order(shop, oid)
        )
        dead = svc.store.jobs(status=JobStatus.DEAD)
    deliveries = sandbox.deliveries()
    # then the ping was answered 200 and every delivery was taken
    pings = [d for d in deliveries if d["kind"] == "ping"]
    assert [p["status"] for p in pings] == [200]
    assert {d["status"] for d in deliveries} == {200}
    assert 'result="ping"' in metrics
    # one coupon per order, although the paid state came four to five times
    assert copies == [{"status": "duplicate"}] * 3
    assert len(coupons_before_reversal) == 2
    assert sorted(c["code"].upper() for c in coupons_before_reversal) == issued
    # the confirmation content is in the order meta, with the order's own code, until the
    # refund takes the coupon back: then its block disappears from the order
    assert code in content_before_reversal
    assert content_after_reversal is not None and code not in content_after_reversal
    # refund and cancel expired the coupons on the store
    now = datetime.now(UTC)
    for coupon in _our_coupons(sandbox):
        assert datetime.fromisoformat(coupon["date_expires_gmt"]).replace(tzinfo=UTC) < now
        assert any(m["key"] == DEACTIVATED_META for m in coupon["meta_data"])
    assert dead == []
