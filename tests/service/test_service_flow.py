"""End to end over real HTTP: sandbox webhooks -> intake -> worker -> coupons in the sandbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from aftersale_kit_shopify.graphql_client import RetryPolicy

from .conftest import write_shopify_config
from .harness import running_service, shopify_delivery, wait_for

FAST_RETRY = {"retry": RetryPolicy(max_attempts=1, base_delay=0.01, max_delay=0.05, timeout=5.0)}


def _paid_order(sandbox: Any, **spec: Any) -> dict[str, Any]:
    spec.setdefault("line_items", [{"title": "Espresso", "price": "40.00", "sku": "ESP"}])
    order: dict[str, Any] = sandbox.create_order(**spec)
    return order


def _coupons(sandbox: Any) -> list[dict[str, Any]]:
    return [d for d in sandbox.discounts() if str(d.get("title", "")).startswith("aftersale-kit")]


@pytest.mark.slow
def test_paid_webhook_issues_one_coupon_and_content(
    shopify_sandbox: Any, tmp_path: Path, db_url: str
) -> None:
    # given a service with its worker, subscribed to the sandbox's orders/paid
    config, env = write_shopify_config(tmp_path / "shops", shopify_sandbox)
    with running_service(config=config, db_url=db_url, env=env, adapter_options=FAST_RETRY) as svc:
        shopify_sandbox.subscribe("orders/paid", f"{svc.url}/webhooks/shopify")
        # when an order is paid (the sandbox signs and sends the webhook)
        order = _paid_order(shopify_sandbox)
        shop = shopify_sandbox.shop_domain
        wait_for(lambda: len(_coupons(shopify_sandbox)) == 1)
        wait_for(lambda: svc.store.load_blocks(shop, str(order["id"])) is not None)
        # and the same delivery arrives again
        headers, body = shopify_delivery(
            topic="orders/paid", body=order, shop=shop, secret=shopify_sandbox.secret
        )
        r = httpx.post(f"{svc.url}/webhooks/shopify", headers=headers, content=body)
        again = httpx.post(f"{svc.url}/webhooks/shopify", headers=headers, content=body)
        assert (r.status_code, again.status_code) == (200, 200)
        assert again.json() == {"status": "duplicate"}
        wait_for(lambda: not svc.store.jobs(status=_pending()))
        records = svc.store.coupons_for_order(shop, str(order["id"]))
    # then exactly one coupon exists on the platform and it is recorded as issued
    coupons = _coupons(shopify_sandbox)
    assert len(coupons) == 1
    assert [r.status.value for r in records] == ["issued"]
    assert coupons[0]["codes"] == [records[0].code]


def _pending() -> Any:
    from aftersale_kit.storage import JobStatus

    return JobStatus.PENDING
