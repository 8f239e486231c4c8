"""``aftersale-kit serve`` as the process an operator starts: health, metrics, SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from aftersale_kit.storage import CouponStatus, JobStatus, Store

from .conftest import write_shopify_config
from .harness import free_port, shopify_delivery, wait_for

pytestmark = pytest.mark.slow  # `serve` as a process, stopped by a signal

ROOT = Path(__file__).resolve().parents[2]


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def test_serve_answers_health_and_metrics_and_stops_cleanly_on_sigterm(
    shopify_sandbox: Any, tmp_path: Path, db_url: str
) -> None:
    # given the serve command on a free port, with its worker
    config, env = write_shopify_config(tmp_path / "shops", shopify_sandbox)
    shop = shopify_sandbox.shop_domain
    order = shopify_sandbox.create_order(line_items=[{"title": "A", "price": "40.00"}])
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "aftersale_kit",
                "serve",
                "--config",
                str(config),
                "--db",
                db_url,
                "--port",
                str(port),
                "--threads",
                "2",
            ],
            env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
            stdout=log,
            stderr=log,
        )
        try:
            wait_for(lambda: proc.poll() is not None or _healthy(url), timeout=30)
            assert proc.poll() is None, log_path.read_text()
            # when a paid order's webhook arrives and the worker issues the coupon
            headers, body = shopify_delivery(
                topic="orders/paid", body=order, shop=shop, secret=shopify_sandbox.secret
            )
            answer = httpx.post(f"{url}/webhooks/shopify", headers=headers, content=body)
            with Store.open(db_url, migrate=False) as store:
                wait_for(
                    lambda: (
                        [c.status for c in store.coupons_for_order(shop, str(order["id"]))]
                        == [CouponStatus.ISSUED]
                    )
                )
                wait_for(lambda: not store.jobs(status=JobStatus.PENDING))
            metrics = httpx.get(f"{url}/metrics")
            # and the process is asked to stop
            proc.send_signal(signal.SIGTERM)
            started = time.monotonic()
            code = proc.wait(20)
            stop_seconds = time.monotonic() - started
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
    output = log_path.read_text()
    # then it was healthy, counted what it did, and exited 0 with its worker stopped
    assert answer.status_code == 200
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    assert 'aftersale_webhooks_total{platform="shopify",reason="",result="accepted"} 1.0' in text
    assert 'aftersale_jobs_total{kind="create_coupon",outcome="processed"} 1.0' in text
    assert 'aftersale_jobs_total{kind="process_event",outcome="processed"} 1.0' in text
    assert "aftersale_effect_seconds_bucket" in text
    assert code == 0, output
    assert stop_seconds < 15
    assert "Traceback" not in output
    with Store.open(db_url, migrate=False) as store:
        assert store.jobs(status=JobStatus.CLAIMED) == []
