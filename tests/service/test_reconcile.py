"""``aftersale-kit reconcile --since``: orders whose webhooks never arrived, on both platforms.

The sweep runs as the command a cron job would start (a subprocess over real sockets to the
sandbox); the orders that did reach the service come in through its webhook endpoint first.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from aftersale_kit.service.effects import Processor
from aftersale_kit.service.reconcile import reconcile
from aftersale_kit.service.shops import load_shops
from aftersale_kit.storage import CouponStatus, JobStatus, Store

from .conftest import write_shopify_config, write_woocommerce_config
from .harness import running_service, wait_for
from .test_service_flow import FAST_RETRY, _coupons

pytestmark = pytest.mark.slow  # missed webhooks made good, through the command line

ROOT = Path(__file__).resolve().parents[2]
_SUMMARY = re.compile(
    r"seen (\d+) orders: (\d+) decided now, (\d+) already decided, (\d+) clawed back, (\d+) errors"
)


def _reconcile_cli(config: Path, db_url: str, env: dict[str, str]) -> tuple[int, ...]:
    """``aftersale-kit reconcile --since 1h``; returns (seen, decided, already, clawed back)."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "aftersale_kit",
            "reconcile",
            "--config",
            str(config),
            "--db",
            db_url,
            "--since",
            "1h",
            "--log-level",
            "warning",
        ],
        env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    found = _SUMMARY.search(done.stdout)
    assert found is not None, done.stdout
    assert found.group(5) == "0"
    return tuple(int(g) for g in found.groups()[:4])


def _statuses(store: Store, shop: str, order_id: Any) -> list[CouponStatus]:
    return [c.status for c in store.coupons_for_order(shop, str(order_id))]


def _idle(store: Store) -> bool:
    return not store.jobs(status=JobStatus.PENDING) and not store.jobs(status=JobStatus.CLAIMED)


def test_shopify_missed_webhooks_are_made_good_once(
    shopify_sandbox: Any, tmp_path: Path, db_url: str
) -> None:
    sandbox = shopify_sandbox
    shop = sandbox.shop_domain
    config, env = write_shopify_config(tmp_path / "shops", sandbox)
    # given two paid orders whose webhooks never arrived (nobody subscribed yet)
    missed = [
        sandbox.create_order(line_items=[{"title": f"Missed {i}", "price": "40.00"}])
        for i in range(2)
    ]
    with running_service(config=config, db_url=db_url, env=env, adapter_options=FAST_RETRY) as svc:
        sandbox.subscribe("orders/paid", f"{svc.url}/webhooks/shopify")
        # and two that the service processed from their webhooks
        seen = [
            sandbox.create_order(line_items=[{"title": f"Seen {i}", "price": "40.00"}])
            for i in range(2)
        ]
        for order in seen:
            wait_for(lambda o=order: _statuses(svc.store, shop, o["id"]) == [CouponStatus.ISSUED])
        wait_for(lambda: _idle(svc.store))
        # of which one is refunded while the refund webhook is lost (no subscription)
        sandbox.refund(seen[1]["id"], amount="40.00")
        # and an order that was never paid
        sandbox.create_order(
            line_items=[{"title": "Unpaid", "price": "40.00"}], financial_status="pending"
        )
    assert len(_coupons(sandbox)) == 2
    # when the sweep runs, and runs again
    first = _reconcile_cli(config, db_url, env)
    second = _reconcile_cli(config, db_url, env)
    # then each missed order got its coupon, the refunded one lost its own, nothing is doubled
    assert first == (5, 2, 1, 1)
    assert second == (5, 0, 3, 0)
    with Store.open(db_url, migrate=False) as store:
        for order in (*missed, seen[0]):
            assert _statuses(store, shop, order["id"]) == [CouponStatus.ISSUED]
        assert _statuses(store, shop, seen[1]["id"]) == [CouponStatus.DEACTIVATED]
        assert store.jobs(status=JobStatus.DEAD) == []
        issued = sorted(
            c.code for o in (*missed, *seen) for c in store.coupons_for_order(shop, str(o["id"]))
        )
        (refunded_code,) = [c.code for c in store.coupons_for_order(shop, str(seen[1]["id"]))]
    coupons = _coupons(sandbox)
    assert sorted(code for d in coupons for code in d["codes"]) == issued
    assert len(coupons) == 4
    assert [d["status"] for d in coupons if refunded_code in d["codes"]] == ["EXPIRED"]
    assert {d["status"] for d in coupons if refunded_code not in d["codes"]} == {"ACTIVE"}


def test_woocommerce_missed_webhooks_are_made_good_once(
    woocommerce_sandbox: Any, tmp_path: Path, db_url: str
) -> None:
    sandbox = woocommerce_sandbox
    config, env = write_woocommerce_config(tmp_path / "shops", sandbox)
    shop = sandbox.home_url.split("://", 1)[1].split(":", 1)[0]
    # given a paid order whose webhook never arrived (no webhook configured yet)
    missed = sandbox.create_order("wc_v3_order_727", customer_id=5, status="processing")
    with running_service(config=config, db_url=db_url, env=env) as svc:
        sandbox.add_webhook("order.updated", f"{svc.url}/webhooks/woocommerce")
        # and one the service processed from its webhook
        seen = sandbox.create_order("wc_v3_order_727", customer_id=6)
        sandbox.pay(seen["id"])
        wait_for(lambda: _statuses(svc.store, shop, seen["id"]) == [CouponStatus.ISSUED])
        wait_for(lambda: _idle(svc.store))
    # and an unpaid order
    sandbox.create_order("wc_v3_order_727", customer_id=7)
    # when the sweep runs twice
    first = _reconcile_cli(config, db_url, env)
    second = _reconcile_cli(config, db_url, env)
    # then
    assert first == (3, 1, 1, 0)
    assert second == (3, 0, 2, 0)
    with Store.open(db_url, migrate=False) as store:
        codes = [
            c.code
            for o in (missed, seen)
            for c in store.coupons_for_order(shop, str(o["id"]))
            if c.status == CouponStatus.ISSUED
        ]
    assert len(codes) == 2
    on_store = [c["code"] for c in sandbox.coupons() if str(c["code"]).upper().startswith("DANKE")]
    assert sorted(c.lower() for c in on_store) == sorted(c.lower() for c in codes)


@pytest.mark.parametrize("platform", ["shopify", "woocommerce"])
def test_reconcile_function_reports_and_leaves_effects_to_the_worker(
    platform: str, request: pytest.FixtureRequest, tmp_path: Path, any_store: Store
) -> None:
    # given a paid order the service never heard of
    sandbox: Any = request.getfixturevalue(f"{platform}_sandbox")
    if platform == "shopify":
        config, env = write_shopify_config(tmp_path / "shops", sandbox)
        sandbox.create_order(line_items=[{"title": "Missed", "price": "40.00"}])
    else:
        config, env = write_woocommerce_config(tmp_path / "shops", sandbox)
        sandbox.create_order("wc_v3_order_727", customer_id=5, status="processing")
    registry = load_shops(config, env=env)
    with any_store as store:
        processor = Processor(registry=registry, store=store)
        # when reconcile() runs twice, once from a time after every order
        report = reconcile(processor, since=datetime.now(UTC) - timedelta(hours=1))
        again = reconcile(processor, since=datetime.now(UTC) - timedelta(hours=1))
        later = reconcile(processor, since=datetime.now(UTC) + timedelta(minutes=5))
        jobs = store.jobs(status=JobStatus.PENDING)
    # then one decision, its effect jobs queued (no platform call yet), nothing twice
    assert (report.seen, report.decided, report.already, report.errors) == (1, 1, 0, [])
    assert (again.seen, again.decided, again.already) == (1, 0, 1)
    assert later.seen == 0
    assert sorted(j.kind for j in jobs) == ["create_coupon", "write_content"]
