"""Quarantine by the worker (a body the intake's quick check let through but that is not an
order) and ``shops replay`` of a delivery whose event is stored already, on both engines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from aftersale_kit.service.shops_cli import shops_main
from aftersale_kit.storage import CouponStatus, IncomingEvent, JobKind, JobStatus

from .conftest import write_shopify_config
from .harness import drain, running_service, shopify_delivery, wait_for
from .test_service_flow import FAST_RETRY


@pytest.mark.slow
def test_the_worker_quarantines_a_body_that_is_no_order_and_replay_keeps_it(
    shopify_sandbox: Any,
    tmp_path: Path,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config, env = write_shopify_config(tmp_path / "shops", shopify_sandbox)
    shop = shopify_sandbox.shop_domain
    # given a signed paid order whose line item's price is not an amount
    order = shopify_sandbox.create_order(line_items=[{"title": "A", "price": "40.00"}])
    order["line_items"][0]["price"] = "vierzig"
    with running_service(config=config, db_url=db_url, env=env, adapter_options=FAST_RETRY) as svc:
        headers, body = shopify_delivery(
            topic="orders/paid", body=order, shop=shop, secret=shopify_sandbox.secret
        )
        # when it is delivered
        answer = httpx.post(f"{svc.url}/webhooks/shopify", headers=headers, content=body)
        # then the intake accepts it and the worker puts it in quarantine, not in the dead jobs
        assert answer.json() == {"status": "accepted"}
        wait_for(lambda: len(svc.store.quarantined(shop)) == 1)
        [held] = svc.store.quarantined(shop)
        assert held.topic == "orders/paid"
        assert "line_items[0]" in held.reason and "vierzig" in held.reason
        assert held.body == body
        wait_for(lambda: not svc.store.jobs(status=JobStatus.PENDING))
        assert svc.store.jobs(status=JobStatus.DEAD) == []
        metrics = httpx.get(f"{svc.url}/metrics").text
        assert 'aftersale_quarantined_deliveries{platform="shopify"} 1.0' in metrics
        # and a replay with this version leaves it where it is, saying why
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        code = shops_main(["replay", shop, "--config", str(config), "--db", db_url])
        out = capsys.readouterr().out
        assert code == 0
        assert f"#{held.id} orders/paid: still in quarantine: " in out
        assert f"{shop}: 0 replayed, 1 still in quarantine" in out
        assert len(svc.store.quarantined(shop)) == 1


@pytest.mark.slow
def test_replay_processes_a_stored_event_again_once(
    shopify_sandbox: Any,
    tmp_path: Path,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config, env = write_shopify_config(tmp_path / "shops", shopify_sandbox)
    shop = shopify_sandbox.shop_domain
    order = shopify_sandbox.create_order(line_items=[{"title": "A", "price": "40.00"}])
    with running_service(
        config=config, db_url=db_url, env=env, adapter_options=FAST_RETRY, worker=False
    ) as svc:
        # given a paid order's delivery, stored, that an older worker had quarantined
        headers, body = shopify_delivery(
            topic="orders/paid", body=order, shop=shop, secret=shopify_sandbox.secret
        )
        assert httpx.post(f"{svc.url}/webhooks/shopify", headers=headers, content=body).json() == {
            "status": "accepted"
        }
        [event_job] = svc.store.jobs(status=JobStatus.PENDING)
        event = svc.store.event(int(event_job.payload["event_id"]))
        assert event is not None
        svc.store.quarantine(
            IncomingEvent(
                shop=shop,
                platform="shopify",
                topic=event.topic,
                dedupe_key=event.dedupe_key,
                received_at=event.received_at,
                body=event.body,
                headers=event.headers,
            ),
            reason="an older version could not read it",
        )
        # when it is replayed, twice
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        argv = ["replay", shop, "--config", str(config), "--db", db_url]
        assert shops_main(argv) == 0
        assert shops_main(argv) == 0
        out = capsys.readouterr().out
        drain(svc)
        # then the event is processed again once, and the order gets one coupon
        assert "orders/paid: its stored event is queued again" in out
        assert f"{shop}: 1 replayed, 0 still in quarantine" in out
        assert f"{shop}: 0 replayed, 0 still in quarantine" in out
        process_jobs = [
            j for j in svc.store.jobs(status=JobStatus.DONE) if j.kind == JobKind.PROCESS_EVENT
        ]
        assert len(process_jobs) == 2
        coupons = svc.store.coupons_for_order(shop, str(order["id"]))
        assert [c.status for c in coupons] == [CouponStatus.ISSUED]
