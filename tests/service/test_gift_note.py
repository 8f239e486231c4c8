"""The free gift reaches the parcel: end to end over real HTTP, the note for whoever packs is on
the sandbox order exactly once (Shopify: appended to the order note; WooCommerce: one private
order note), the customer's own note kept, the order tagged, under redelivered webhooks and a
gift job that runs three times (its first worker died after writing, its second attempt met a
platform outage)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from aftersale_kit_shopify.graphql_client import RetryPolicy

from aftersale_kit.core.platform import note_marker
from aftersale_kit.storage import Job, JobStatus

from .conftest import write_shopify_config, write_woocommerce_config
from .harness import Service, running_service, shopify_delivery, woocommerce_delivery

GIFT = "Probierpäckchen Espresso (50 g) beilegen"
CUSTOMER_NOTE = "Bitte beim Nachbarn (Nr. 12) abgeben"
CAMPAIGNS = f"""\
campaigns:
  - id: probe
    trigger: order_paid
    actions:
      - free_gift: {{note: "{GIFT}", tag: gratis-probe, cost: 1.80}}
"""


def _gift_campaign(config: Path) -> None:
    """The shop file of the service tests with one campaign: a free gift on every paid order."""
    path = config / "shop.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index("campaigns:")] + CAMPAIGNS, encoding="utf-8")


def _run(svc: Service, job: Job) -> None:
    svc.processor.handle(job)
    svc.store.complete(job)


def _process_events(svc: Service) -> None:
    """Decide every delivered event (the gift jobs stay queued)."""
    while jobs := svc.store.claim(worker_id="events", kinds=["process_event"]):
        for job in jobs:
            _run(svc, job)


def _gift_job_dies_then_meets_an_outage_then_succeeds(
    svc: Service, fail_next: Callable[[str, int], Any]
) -> Job:
    from aftersale_kit.service.worker import Worker

    # the first worker writes note and tag, then dies before recording it (its lease runs out)
    (first,) = svc.store.claim(worker_id="doomed", lease_seconds=0.05, kinds=["add_gift_note"])
    svc.processor.handle(first)
    time.sleep(0.1)
    # the second attempt meets a 5xx on its first platform call and is retried
    fail_next("5xx", 1)
    worker = Worker(svc.processor, threads=1, retry_base=0.01, retry_cap=0.05, lease_seconds=5)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        worker.run_once()
        (job,) = [j for j in _all_jobs(svc) if j.kind == "add_gift_note"]
        if job.status == JobStatus.DONE:
            return job
        time.sleep(0.02)
    raise AssertionError("the gift job did not finish")


def _all_jobs(svc: Service) -> list[Job]:
    return [j for status in JobStatus for j in svc.store.jobs(status=status, limit=1000)]


@pytest.mark.slow
def test_shopify_gift_note_is_appended_to_the_order_note_once(
    shopify_sandbox: Any, tmp_path: Path, db_url: str
) -> None:
    sandbox = shopify_sandbox
    config, env = write_shopify_config(tmp_path / "shops", sandbox)
    _gift_campaign(config)
    retry = {"retry": RetryPolicy(max_attempts=1, base_delay=0.01, max_delay=0.05, timeout=5.0)}
    shop = sandbox.shop_domain
    with running_service(
        config=config, db_url=db_url, env=env, adapter_options=retry, worker=False
    ) as svc:
        endpoint = f"{svc.url}/webhooks/shopify"
        sandbox.subscribe("orders/paid", endpoint)
        # given a paid order with the customer's note; the sandbox delivers orders/paid
        order = sandbox.create_order(
            note=CUSTOMER_NOTE, line_items=[{"title": "Espresso", "price": "40.00"}]
        )
        order_id = str(order["id"])
        assert sandbox.wait_for_deliveries(10)
        # and the same event arrives twice more (one event id: the second is a duplicate)
        headers, body = shopify_delivery(
            topic="orders/paid", body=order, shop=shop, secret=sandbox.secret, event_id="again"
        )
        answers = [httpx.post(endpoint, headers=headers, content=body) for _ in range(2)]
        assert [a.status_code for a in answers] == [200, 200]
        assert answers[1].json() == {"status": "duplicate"}
        # when the events are decided and the gift job runs three times
        _process_events(svc)
        job = _gift_job_dies_then_meets_an_outage_then_succeeds(svc, sandbox.faults.fail_next)
        gift_jobs = [j for j in _all_jobs(svc) if j.kind == "add_gift_note"]
    # then the order note is the customer's, then our line, once; and the order is tagged
    marker = note_marker(f"{shop}:{order_id}:probe:0")
    assert sandbox.order(order_id)["note"] == f"{CUSTOMER_NOTE}\n{GIFT} {marker}"
    assert "gratis-probe" in sandbox.tags()[f"gid://shopify/Order/{order_id}"]
    assert len(gift_jobs) == 1 and job.attempts == 3


@pytest.mark.slow
def test_woocommerce_gift_note_is_one_private_note(
    woocommerce_sandbox: Any, tmp_path: Path, db_url: str
) -> None:
    sandbox = woocommerce_sandbox
    config, env = write_woocommerce_config(tmp_path / "shops", sandbox)
    _gift_campaign(config)
    options = {"max_retries": 0, "backoff": 0.01}
    shop = sandbox.home_url.split("://", 1)[1].split(":", 1)[0]
    with running_service(
        config=config, db_url=db_url, env=env, adapter_options=options, worker=False
    ) as svc:
        endpoint = f"{svc.url}/webhooks/woocommerce"
        sandbox.add_webhook("order.updated", endpoint)
        # given an order with the customer's checkout note, paid: the store delivers it
        order = sandbox.create_order(
            "wc_v3_order_727", customer_id=5, email="ada@example.com", customer_note=CUSTOMER_NOTE
        )
        order_id = str(order["id"])
        sandbox.pay(int(order_id))
        assert sandbox.wait_for_webhooks(10)
        # and the paid state arrives three times more (each with a new Delivery-ID)
        paid = json.dumps(sandbox.order(int(order_id))).encode()
        for _ in range(3):
            headers, _ = woocommerce_delivery(
                body=paid, source=sandbox.home_url + "/", secret=env["WOO_WEBHOOK_SECRET"]
            )
            assert httpx.post(endpoint, headers=headers, content=paid).status_code == 200
        # when the events are decided and the gift job runs three times
        _process_events(svc)
        job = _gift_job_dies_then_meets_an_outage_then_succeeds(svc, sandbox.faults.fail_next)
        gift_jobs = [j for j in _all_jobs(svc) if j.kind == "add_gift_note"]
    # then the order has exactly one private note of ours, and the customer's note is as written
    marker = note_marker(f"{shop}:{order_id}:probe:0")
    ours = [n for n in sandbox.notes(int(order_id)) if GIFT in n["note"]]
    assert [(n["note"], n["customer_note"]) for n in ours] == [(f"{GIFT} {marker}", False)]
    assert sandbox.order(int(order_id))["customer_note"] == CUSTOMER_NOTE
    tags = next(
        m["value"] for m in sandbox.order_meta(int(order_id)) if m["key"] == "aftersale_kit_tags"
    )
    assert tags == "gratis-probe"
    assert len(gift_jobs) == 1 and job.attempts == 3
