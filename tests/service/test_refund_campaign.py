"""A campaign on ``refund_created`` (an apology coupon) fires once per refund, through the
worker, with its own code for each refund."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import httpx
import pytest

from aftersale_kit.storage import CouponStatus, JobStatus

from .harness import running_service, shopify_delivery, wait_for

CONFIG = """\
version: 1
shop:
  platform: shopify
  domain: {domain}
  currency: USD
  api_base_url: {url}
  api_version: "2026-01"
  secrets:
    webhook_secret: SHOP_WEBHOOK_SECRET
    api_token: SHOP_API_TOKEN
    code_secret: SHOP_CODE_SECRET
campaigns:
  - id: entschuldigung
    trigger: refund_created
    actions:
      - issue_coupon: {{type: fixed_amount, value: 4, valid_days: 30, code_prefix: SORRY}}
"""


@pytest.mark.slow
def test_each_refund_gets_its_own_apology_coupon_once(
    shopify_sandbox: Any, tmp_path: Path, db_url: str
) -> None:
    sandbox = shopify_sandbox
    folder = tmp_path / "shops"
    folder.mkdir()
    (folder / "shop.yaml").write_text(
        CONFIG.format(domain=sandbox.shop_domain, url=sandbox.url), encoding="utf-8"
    )
    env = {
        "SHOP_WEBHOOK_SECRET": sandbox.secret,
        "SHOP_API_TOKEN": sandbox.token,
        "SHOP_CODE_SECRET": "code-" + secrets.token_hex(8),
    }
    order = sandbox.create_order(line_items=[{"title": "Mühle", "price": "90.00"}])
    first = sandbox.refund(order["id"], amount="10.00")
    second = sandbox.refund(order["id"], amount="15.00")
    with running_service(config=folder, db_url=db_url, env=env) as svc:
        # when each refunds/create webhook arrives twice
        for n, body in enumerate((first, second, first, second)):
            headers, raw = shopify_delivery(
                topic="refunds/create",
                body=body,
                shop=sandbox.shop_domain,
                secret=sandbox.secret,
                event_id=f"evt-refund-{n % 2}",
            )
            assert httpx.post(
                f"{svc.url}/webhooks/shopify", headers=headers, content=raw
            ).is_success
        oid = str(order["id"])
        wait_for(
            lambda: (
                [c.status for c in svc.store.coupons_for_order(sandbox.shop_domain, oid)]
                == [CouponStatus.ISSUED, CouponStatus.ISSUED]
            )
        )
        coupons = svc.store.coupons_for_order(sandbox.shop_domain, oid)
        dead = svc.store.jobs(status=JobStatus.DEAD)
        steps = sorted(r.ref for r in svc.store.decisions_for_order(sandbox.shop_domain, oid))
    # then one coupon per refund, each with its own code, both created on the platform
    assert steps == sorted([str(first["id"]), str(second["id"])])
    assert len({c.code for c in coupons}) == 2
    assert all(c.code.startswith("SORRY-") for c in coupons)
    created = sorted(
        code
        for d in sandbox.discounts()
        if str(d.get("title", "")).startswith("aftersale-kit")
        for code in d["codes"]
    )
    assert created == sorted(c.code for c in coupons)
    assert dead == []
