"""The promises under load: at-least-once, unordered, failing platforms, killed workers, races.

Run times are kept to seconds by scaling retry waits (worker back-off 50 ms, Retry-After 50 ms).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from aftersale_kit.storage import CouponStatus, JobKind, JobStatus

from .conftest import write_shopify_config
from .harness import running_service, shopify_delivery, wait_for
from .test_service_flow import FAST_RETRY, _coupons

pytestmark = pytest.mark.slow  # hundreds of orders through the service, a killed worker

ROOT = Path(__file__).resolve().parents[2]


def _send_all(url: str, deliveries: list[tuple[dict[str, str], bytes]], senders: int) -> list[int]:
    """POST every delivery, shared out over ``senders`` threads; returns the status codes."""
    statuses: list[int] = []
    lock = threading.Lock()
    queue = list(deliveries)

    def run() -> None:
        with httpx.Client(timeout=30) as client:
            while True:
                with lock:
                    if not queue:
                        return
                    headers, body = queue.pop()
                code = client.post(url, headers=headers, content=body).status_code
                with lock:
                    statuses.append(code)

    threads = [threading.Thread(target=run) for _ in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


def _orders(sandbox: Any, n: int) -> list[dict[str, Any]]:
    return [
        sandbox.create_order(line_items=[{"title": f"Item {i}", "price": "40.00"}])
        for i in range(n)
    ]


def _redeliveries(sandbox: Any, orders: list[dict[str, Any]], copies: int) -> list[Any]:
    out = []
    for order in orders:
        event = f"evt-{order['id']}"
        for _ in range(copies):
            out.append(
                shopify_delivery(
                    topic="orders/paid",
                    body=order,
                    shop=sandbox.shop_domain,
                    secret=sandbox.secret,
                    event_id=event,
                )
            )
    random.Random(5).shuffle(out)
    return out


def _issued(svc: Any, shop: str, orders: list[dict[str, Any]]) -> int:
    return sum(
        1
        for o in orders
        for c in svc.store.coupons_for_order(shop, str(o["id"]))
        if c.status == CouponStatus.ISSUED
    )


def _all_issued(svc: Any, shop: str, orders: list[dict[str, Any]]) -> bool:
    return all(
        [c.status for c in svc.store.coupons_for_order(shop, str(o["id"]))] == [CouponStatus.ISSUED]
        for o in orders
    )


def test_200_orders_5_times_8_senders_with_failing_platform_give_200_coupons(
    shopify_sandbox: Any, tmp_path: Path, db_url: str
) -> None:
    # given 200 paid orders, and a platform failing 20 % of calls with 5xx and 10 % with 429
    config, env = write_shopify_config(tmp_path / "shops", shopify_sandbox)
    shop = shopify_sandbox.shop_domain
    orders = _orders(shopify_sandbox, 200)
    shopify_sandbox.set_bucket(maximum_available=20000, restore_rate=1000)  # a Plus shop
    shopify_sandbox.set_faults(error_5xx=0.2, rate_429=0.1, retry_after=0.05)
    with running_service(
        config=config, db_url=db_url, env=env, adapter_options=FAST_RETRY, threads=4
    ) as svc:
        # when each order's webhook arrives 5 times from 8 concurrent senders
        started = time.monotonic()
        statuses = _send_all(
            f"{svc.url}/webhooks/shopify", _redeliveries(shopify_sandbox, orders, 5), 8
        )
        intake_seconds = time.monotonic() - started
        wait_for(lambda: _all_issued(svc, shop, orders), timeout=90, interval=0.2)
        wait_for(lambda: not svc.store.jobs(status=JobStatus.PENDING), timeout=60)
        dead = svc.store.jobs(status=JobStatus.DEAD)
        faults = shopify_sandbox.faults.as_dict()["counts"]
    # then every delivery was answered 200, and exactly 200 coupons exist, one per order
    assert Counter(statuses) == Counter({200: 1000})
    assert dead == []
    codes = [code for d in _coupons(shopify_sandbox) for code in d["codes"]]
    assert len(codes) == 200 == len(set(codes))
    assert faults["5xx"] > 0 and faults["429"] > 0
    print(f"\nintake of 1000 deliveries: {intake_seconds:.2f} s; faults injected: {faults}")


def test_budget_of_10_coupons_with_50_concurrent_orders_gives_exactly_10(
    shopify_sandbox: Any, tmp_path: Path, db_url: str
) -> None:
    # given a campaign with a total budget of 50 (ten coupons of 5)
    config, env = write_shopify_config(tmp_path / "shops", shopify_sandbox, budget="50")
    orders = _orders(shopify_sandbox, 50)
    shopify_sandbox.set_bucket(maximum_available=20000, restore_rate=1000)
    with running_service(
        config=config, db_url=db_url, env=env, adapter_options=FAST_RETRY, threads=6
    ) as svc:
        # when the 50 webhooks arrive at once, each twice
        statuses = _send_all(
            f"{svc.url}/webhooks/shopify", _redeliveries(shopify_sandbox, orders, 2), 8
        )
        # and the queue has settled: every order's event decided, nothing pending or claimed
        wait_for(lambda: _settled(svc, decided=50), timeout=60)
        decided = svc.store.jobs(kind=JobKind.PROCESS_EVENT, limit=1000)
        coupon_jobs = svc.store.jobs(kind=JobKind.CREATE_COUPON, limit=1000)
        planned = svc.store.counters().usage_count(shopify_sandbox.shop_domain, "danke")
    # then each of the 50 orders was decided once, and only ten coupons were ever planned (a
    # coupon is planned only while an order is decided, and no decision is left to run)
    assert [job.status for job in decided] == [JobStatus.DONE] * 50
    assert [job.status for job in coupon_jobs] == [JobStatus.DONE] * 10
    assert planned == 10
    assert set(statuses) == {200}
    assert len(_coupons(shopify_sandbox)) == 10


def _settled(svc: Any, *, decided: int) -> bool:
    """No job pending or claimed, and ``decided`` orders' events done."""
    stats = svc.store.queue_stats()
    done = svc.store.jobs(status=JobStatus.DONE, kind=JobKind.PROCESS_EVENT, limit=1000)
    busy = stats.get(JobStatus.PENDING, 0) + stats.get(JobStatus.CLAIMED, 0)
    return busy == 0 and len(done) >= decided


def test_worker_killed_mid_run_loses_and_doubles_nothing(
    shopify_sandbox: Any, tmp_path: Path, db_url: str
) -> None:
    # given an intake-only service and a separate worker process
    config, env = write_shopify_config(tmp_path / "shops", shopify_sandbox)
    shop = shopify_sandbox.shop_domain
    orders = _orders(shopify_sandbox, 60)
    shopify_sandbox.set_bucket(maximum_available=20000, restore_rate=1000)
    shopify_sandbox.set_faults(latency=0.02)
    child_env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    log_path = tmp_path / "worker.log"
    log = log_path.open("ab")

    def start_worker() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "aftersale_kit",
                "worker",
                "--config",
                str(config),
                "--db",
                db_url,
                "--lease-seconds",
                "2",
                "--threads",
                "3",
                "--log-level",
                "warning",
            ],
            env=child_env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )

    with running_service(config=config, db_url=db_url, env=env, worker=False) as svc:
        statuses = _send_all(
            f"{svc.url}/webhooks/shopify", _redeliveries(shopify_sandbox, orders, 2), 8
        )
        worker = start_worker()
        try:
            # when the worker is killed with SIGKILL after some coupons were issued
            wait_for(lambda: _issued(svc, shop, orders) >= 10, timeout=60, interval=0.02)
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)
            issued_at_kill = _issued(svc, shop, orders)
            # and a new worker is started
            worker = start_worker()
            wait_for(lambda: _all_issued(svc, shop, orders), timeout=90, interval=0.2)
            wait_for(lambda: not svc.store.jobs(status=JobStatus.PENDING), timeout=30)
            wait_for(lambda: not svc.store.jobs(status=JobStatus.CLAIMED), timeout=30)
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(20)
            log.close()
    err = log_path.read_bytes()
    # then every order has exactly one coupon on the platform
    assert set(statuses) == {200}
    assert 0 < issued_at_kill < 60, err.decode()[-2000:]
    codes = [code for d in _coupons(shopify_sandbox) for code in d["codes"]]
    assert len(codes) == 60 == len(set(codes))
