"""Shopify's privacy webhooks and app/uninstalled end to end: the sandbox signs and sends them,
the service accepts them, its worker carries them out against the store.

The service runs intake-only and its jobs are run with ``drain`` in the test's thread, so the
order in which deliveries are processed is the order they arrived.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from aftersale_kit.storage import CouponStatus, JobStatus

from .conftest import write_shopify_config
from .harness import drain, running_service, shopify_delivery
from .test_service_flow import FAST_RETRY

TOPICS = (
    "orders/paid",
    "customers/data_request",
    "customers/redact",
    "shop/redact",
    "app/uninstalled",
)


def _deliver(sandbox: Any) -> None:
    assert sandbox.wait_for_deliveries(10)


def _rows(svc: Any, table: str, shop: str) -> int:
    with svc.store.db.read() as conn:
        found = conn.execute(text(f"SELECT count(*) FROM {table} WHERE shop = :s"), {"s": shop})
        return int(found.scalar_one())


def _order_events(svc: Any, shop: str, order_id: str) -> list[Any]:
    with svc.store.db.read() as conn:
        ids = conn.execute(
            text("SELECT id FROM events WHERE shop = :s AND order_id = :o"),
            {"s": shop, "o": order_id},
        ).scalars()
        return [svc.store.event(int(i)) for i in ids]


@pytest.mark.slow
def test_data_request_redact_uninstall_and_shop_redact(
    shopify_sandbox: Any, tmp_path: Path, db_url: str
) -> None:
    sandbox = shopify_sandbox
    shop = sandbox.shop_domain
    config, env = write_shopify_config(tmp_path / "shops", sandbox)
    exports = tmp_path / "exports"
    with running_service(
        config=config,
        db_url=db_url,
        env=env,
        worker=False,
        export_dir=exports,
        adapter_options=FAST_RETRY,
    ) as svc:
        for topic in TOPICS:
            sandbox.subscribe(topic, f"{svc.url}/webhooks/shopify")
        # given two customers, each with a paid order and its coupon
        jane = sandbox.create_order(
            line_items=[{"title": "Bohnen", "price": "40.00"}],
            customer={"first_name": "Jane", "last_name": "Doe", "email": "jane.doe@example.com"},
        )
        max_ = sandbox.create_order(
            line_items=[{"title": "Tassen", "price": "40.00"}],
            customer={"first_name": "Max", "last_name": "Muster", "email": "max@example.org"},
        )
        jane_id, jane_order = str(jane["customer"]["id"]), str(jane["id"])
        max_order = str(max_["id"])
        _deliver(sandbox)
        drain(svc)
        (jane_coupon,) = svc.store.coupons_for_order(shop, jane_order)
        (max_coupon,) = svc.store.coupons_for_order(shop, max_order)
        assert {jane_coupon.status, max_coupon.status} == {CouponStatus.ISSUED}

        # when Jane asks for her data
        sandbox.trigger("customers/data_request", customer_id=jane_id)
        _deliver(sandbox)
        drain(svc)
        # then the export file holds her order, coupon and webhook, and nothing of Max
        (export_file,) = exports.glob("*.json")
        export_text = export_file.read_text(encoding="utf-8")
        export = json.loads(export_text)
        assert export_file.name.startswith(shop)
        assert export["orders"] == [jane_order]
        assert [c["code"] for c in export["coupons"]] == [jane_coupon.code]
        assert [d["order_id"] for d in export["decisions"]] == [jane_order]
        assert "jane.doe@example.com" in export_text
        assert max_order not in export_text and "max@example.org" not in export_text
        assert max_coupon.code not in export_text

        # when Jane's data is to be erased
        sandbox.trigger("customers/redact", customer_id=jane_id)
        _deliver(sandbox)
        drain(svc)
        # then her webhook bodies, content and customer key are gone; Max's are untouched
        assert all(e.body == b"" and e.redacted_at for e in _order_events(svc, shop, jane_order))
        assert all(b"max@example.org" in e.body for e in _order_events(svc, shop, max_order))
        assert svc.store.load_blocks(shop, jane_order) is None
        assert svc.store.load_blocks(shop, max_order) is not None
        (redacted,) = svc.store.coupons_for_order(shop, jane_order)
        assert redacted.customer_key is not None and redacted.customer_key.startswith("redacted:")
        assert svc.store.export_customer(shop, customer_id=jane_id)["orders"] == []
        # a redelivery of her paid webhook is still recognised
        headers, body = shopify_delivery(
            topic="orders/paid", body=jane, shop=shop, secret=sandbox.secret
        )
        (sent,) = [
            d
            for d in sandbox.deliveries()
            if d["topic"] == "orders/paid" and str(json.loads(d["body"])["id"]) == jane_order
        ]
        headers["X-Shopify-Event-Id"] = sent["headers"]["X-Shopify-Event-Id"]
        again = httpx.post(f"{svc.url}/webhooks/shopify", headers=headers, content=body)
        assert again.json() == {"status": "duplicate"}

        # when the app is uninstalled while a paid order's webhook is still queued
        sandbox.uninstall()
        _deliver(sandbox)
        late = sandbox.create_order(line_items=[{"title": "Spät", "price": "40.00"}])
        _deliver(sandbox)
        worker = drain(svc)
        # then the queued work is dropped, and later webhooks and block requests are refused
        dead = svc.store.jobs(status=JobStatus.DEAD)
        assert [j.kind for j in dead] == ["process_event"]
        assert "uninstalled" in (dead[0].last_error or "")
        assert svc.store.coupons_for_order(shop, str(late["id"])) == []
        assert 'outcome="dropped"' in worker.metrics.render().decode()
        headers, body = shopify_delivery(
            topic="orders/paid", body=late, shop=shop, secret=sandbox.secret
        )
        refused = httpx.post(f"{svc.url}/webhooks/shopify", headers=headers, content=body)
        assert refused.status_code == 401
        block = httpx.get(f"{svc.url}/v1/blocks/shopify/{shop}/{max_order}")
        assert block.status_code == 404

        # when Shopify asks 48 hours later to erase the shop (accepted although uninstalled)
        sandbox.trigger("shop/redact")
        _deliver(sandbox)
        drain(svc)
        # then nothing of the shop is left
        leftovers = {
            t: _rows(svc, t, shop) for t in ("events", "decisions", "coupons", "ledger", "jobs")
        }
    assert leftovers == dict.fromkeys(leftovers, 0)
    deliveries = sandbox.deliveries()
    assert {d["topic"] for d in deliveries} >= set(TOPICS)
    assert all(d["attempts"][-1]["status"] == 200 for d in deliveries)


def test_privacy_request_naming_no_customer_goes_to_the_dead_letters_at_once(
    shopify_sandbox: Any, tmp_path: Path
) -> None:
    sandbox = shopify_sandbox
    config, env = write_shopify_config(tmp_path / "shops", sandbox)
    with running_service(
        config=config,
        db_url=f"sqlite:///{tmp_path / 'c.db'}",
        env=env,
        worker=False,
        export_dir=tmp_path / "exports",
    ) as svc:
        sandbox.subscribe("customers/redact", f"{svc.url}/webhooks/shopify")
        # given a redact request without customer id or e-mail
        sandbox.trigger(
            "customers/redact",
            payload={"shop_domain": sandbox.shop_domain, "customer": {}, "orders_to_redact": []},
        )
        _deliver(sandbox)
        # when the worker takes it
        drain(svc)
        dead = svc.store.jobs(status=JobStatus.DEAD)
    # then it is dead after one attempt, with a reason naming what is missing
    assert [(j.kind, j.attempts) for j in dead] == [("process_event", 1)]
    assert "names no customer" in (dead[0].last_error or "")
