"""Bounded storage end to end: the worker prunes on its own schedule once the retention has
passed (the clock is injected), and what budgets and dedupe need survives (both engines)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from aftersale_kit.core.model import EventKind
from aftersale_kit.service.retention import Retention
from aftersale_kit.service.shops import ServiceConfigError, load_shops
from aftersale_kit.service.worker import Worker

from .conftest import write_shopify_config
from .harness import drain, running_service, shopify_delivery, wait_for
from .test_service_flow import FAST_RETRY


def _bodies(svc: Any, shop: str) -> list[bytes]:
    from sqlalchemy import text

    with svc.store.db.read() as conn:
        rows = conn.execute(text("SELECT body FROM events WHERE shop = :s"), {"s": shop})
        return [bytes(r[0]) for r in rows]


@pytest.mark.slow
def test_after_the_retention_bodies_are_gone_and_books_unchanged(
    shopify_sandbox: Any, tmp_path: Path, db_url: str
) -> None:
    sandbox = shopify_sandbox
    shop = sandbox.shop_domain
    config, env = write_shopify_config(tmp_path / "shops", sandbox, budget="100.00")
    with running_service(
        config=config, db_url=db_url, env=env, worker=False, adapter_options=FAST_RETRY
    ) as svc:
        sandbox.subscribe("orders/paid", f"{svc.url}/webhooks/shopify")
        # given two paid orders, decided, booked and couponed
        paid = [
            sandbox.create_order(
                line_items=[{"title": "Bohnen", "price": "40.00"}],
                customer={"first_name": "Jane", "email": f"jane{i}@example.com"},
            )
            for i in range(2)
        ]
        assert sandbox.wait_for_deliveries(10)
        drain(svc)
        order_ids = [str(o["id"]) for o in paid]
        books = {o: svc.store.ledger(shop, order_id=o) for o in order_ids}
        decisions = {o: svc.store.decisions_for_order(shop, o) for o in order_ids}
        spent = svc.store.counters().spent(shop, "danke", None)
        bodies = _bodies(svc, shop)
        assert len(bodies) == 2 and all(b"jane" in b for b in bodies)
        # when 31 days pass and a worker runs (its pruner starts right away, then hourly)
        later = svc.processor.clock() + timedelta(days=31)
        svc.processor.clock = lambda: later
        worker = Worker(svc.processor, threads=1, retention=Retention()).start()
        try:
            wait_for(lambda: _bodies(svc, shop) == [b"", b""], timeout=20)
        finally:
            worker.stop()
        # then a redelivery of the first order's webhook is still a duplicate
        (sent,) = [
            d for d in sandbox.deliveries() if str(json.loads(d["body"])["id"]) == order_ids[0]
        ]
        headers, body = shopify_delivery(
            topic="orders/paid",
            body=paid[0],
            shop=shop,
            secret=sandbox.secret,
            event_id=sent["headers"]["X-Shopify-Event-Id"],
        )
        again = httpx.post(f"{svc.url}/webhooks/shopify", headers=headers, content=body)
        # and bookings, decisions and the budget spent are exactly as before
        assert {o: svc.store.ledger(shop, order_id=o) for o in order_ids} == books
        assert {o: svc.store.decisions_for_order(shop, o) for o in order_ids} == decisions
        assert svc.store.counters().spent(shop, "danke", None) == spent
        paid_decision = svc.store.decision(
            shop=shop, order_id=order_ids[0], event_kind=EventKind.ORDER_PAID
        )
    assert again.json() == {"status": "duplicate"}
    assert spent > 0 and paid_decision is not None and paid_decision.decision.fired == ("danke",)


def test_retention_settings_are_read_and_checked(tmp_path: Path, shopify_sandbox: Any) -> None:
    config, env = write_shopify_config(tmp_path / "shops", shopify_sandbox)
    # given defaults: 30 days of bodies, a year of keys
    assert load_shops(config, env=env).settings.retention == Retention(30, 365, 60)
    (config / "service.yaml").write_text(
        "raw_body_retention_days: 7\ndedupe_key_retention_days: 90\n", encoding="utf-8"
    )
    assert load_shops(config, env=env).settings.retention == Retention(7, 90, 60)
    # a body retention inside the redelivery window is refused, with the place to fix
    (config / "service.yaml").write_text(
        "max_body_bytes: 2048\nraw_body_retention_days: 0.1\n", encoding="utf-8"
    )
    with pytest.raises(ServiceConfigError) as caught:
        load_shops(config, env=env)
    assert str(caught.value) == (
        f"{config / 'service.yaml'}:2:26: raw_body_retention_days: expected a number >= 1, "
        "got 0.1; write e.g. raw_body_retention_days: 30"
    )
    # and keys may not be dropped before the bodies
    (config / "service.yaml").write_text(
        "raw_body_retention_days: 60\ndedupe_key_retention_days: 30\n", encoding="utf-8"
    )
    with pytest.raises(ServiceConfigError, match=r"service.yaml:2:28: dedupe_key_retention_days"):
        load_shops(config, env=env)


def test_storage_stats_prints_rows_and_bytes_per_table(
    tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from datetime import UTC, datetime

    from aftersale_kit.cli import main
    from aftersale_kit.storage import Store

    # given a database without the schema
    assert main(["storage", "stats", "--db", db_url]) == 1
    assert capsys.readouterr().err == "aftersale-kit storage: the database has no schema yet\n"
    # and then with it and two webhooks
    with Store.open(db_url, migrate=True) as store:
        for key in ("a", "b"):
            store.accept_event(
                shop="s.example",
                platform="woocommerce",
                topic="order.updated",
                dedupe_key=key,
                received_at=datetime.now(UTC),
                body=b"x" * 5000,
            )
    # when
    assert main(["storage", "stats", "--db", db_url]) == 0
    out = capsys.readouterr().out.splitlines()
    # then one line per table with rows and a size, and a total
    rows = {line.split()[0]: line.split()[1:] for line in out[1:]}
    assert out[0].split() == ["table", "rows", "bytes"]
    assert rows["events"][0] == "2" and rows["jobs"][0] == "2" and rows["decisions"][0] == "0"
    assert rows["events"][2] in ("KiB", "MiB")
    assert rows["total"][0] == "4"
