"""Intake refusals over real HTTP: what is answered, what is stored, what is logged."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import write_shopify_config
from .harness import running_service, shopify_delivery

SECRETS_IN_LOGS = ("SHOP_WEBHOOK_SECRET", "SHOP_API_TOKEN", "SHOP_CODE_SECRET")


def _count_events(svc: Any) -> int:
    from sqlalchemy import text

    with svc.store.db.read() as conn:
        return int(conn.execute(text("SELECT count(*) FROM events")).scalar_one())


@pytest.mark.slow
def test_refusals_store_nothing_and_log_no_secret_or_email(
    shopify_sandbox: Any,
    tmp_path: Path,
    db_url: str,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    # given a service (intake only) and a real order with a customer e-mail
    config, env = write_shopify_config(tmp_path / "shops", shopify_sandbox)
    shop = shopify_sandbox.shop_domain
    order = shopify_sandbox.create_order(
        email="jane.doe@example.com", line_items=[{"title": "Bohnen", "price": "30.00"}]
    )
    caplog.set_level(logging.DEBUG)
    with running_service(
        config=config, db_url=db_url, env=env, worker=False, max_body_bytes=65536
    ) as svc:
        url = f"{svc.url}/webhooks/shopify"
        good_headers, body = shopify_delivery(
            topic="orders/paid", body=order, shop=shop, secret=shopify_sandbox.secret
        )
        # when: a forged signature, no signature, a malformed body, an unknown shop, too big
        forged = dict(good_headers, **{"X-Shopify-Hmac-Sha256": "AAAA" + "=" * 40})
        unsigned = {k: v for k, v in good_headers.items() if k != "X-Shopify-Hmac-Sha256"}
        bad_h, bad_body = shopify_delivery(
            topic="orders/paid", body=b"{not json", shop=shop, secret=shopify_sandbox.secret
        )
        other_h, other_body = shopify_delivery(
            topic="orders/paid",
            body=order,
            shop="someone-else.myshopify.com",
            secret=shopify_sandbox.secret,
        )
        big_h, big_body = shopify_delivery(
            topic="orders/paid",
            body={**order, "note": "x" * 100_000},
            shop=shop,
            secret=shopify_sandbox.secret,
        )
        answers = {
            "forged": httpx.post(url, headers=forged, content=body).status_code,
            "unsigned": httpx.post(url, headers=unsigned, content=body).status_code,
            "malformed": httpx.post(url, headers=bad_h, content=bad_body).status_code,
            "unknown_shop": httpx.post(url, headers=other_h, content=other_body).status_code,
            "too_big": httpx.post(url, headers=big_h, content=big_body).status_code,
        }
        stored_after_refusals = _count_events(svc)
        # a body sent in chunks without Content-Length is limited too
        chunked = httpx.post(
            url, headers=big_h, content=iter([big_body[:30000], big_body[30000:]])
        ).status_code
        ok = httpx.post(url, headers=good_headers, content=body)
        metrics = httpx.get(f"{svc.url}/metrics").text
        health = httpx.get(f"{svc.url}/healthz")
        stored = _count_events(svc)
    # then
    assert answers == {
        "forged": 401,
        "unsigned": 401,
        "malformed": 400,
        "unknown_shop": 401,
        "too_big": 413,
    }
    assert chunked == 413
    assert stored_after_refusals == 0
    assert ok.status_code == 200 and ok.json() == {"status": "accepted"}
    assert stored == 1
    assert health.status_code == 200
    assert 'reason="signature"' in metrics and 'result="accepted"' in metrics
    logged = caplog.text + "".join(capfd.readouterr())
    assert "jane.doe@example.com" not in logged
    for name in SECRETS_IN_LOGS:
        assert env[name] not in logged
    assert "webhook rejected" in logged


def test_woocommerce_ping_is_answered_200_without_a_shop(
    shopify_sandbox: Any, tmp_path: Path
) -> None:
    config, env = write_shopify_config(tmp_path / "shops", shopify_sandbox)
    with running_service(
        config=config, db_url=None, sqlite_path=tmp_path / "s.db", env=env, worker=False
    ) as svc:
        ping = httpx.post(
            f"{svc.url}/webhooks/woocommerce",
            content=b"webhook_id=17",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        unsigned_json = httpx.post(
            f"{svc.url}/webhooks/woocommerce",
            content=json.dumps({"id": 1}).encode(),
            headers={"X-WC-Webhook-Source": "https://unknown.example/"},
        )
    assert ping.status_code == 200
    assert unsigned_json.status_code == 401
