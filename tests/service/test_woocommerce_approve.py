"""WooCommerce's approval flow (``auth: approve``) end to end over real HTTP: the link printed by
``aftersale-kit shops connect woocommerce``, the store manager's approval in the sandbox, the
keys posted to the service and stored encrypted for that store only, its webhooks registered, a
paid order's coupon; a callback for an unknown or used request stores nothing."""

from __future__ import annotations

import json
import secrets
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aftersale_kit_woocommerce.sandbox import WooCommerceSandbox
from aftersale_kit_woocommerce.sandbox.wc_auth import approve
from aftersale_kit_woocommerce.webhooks import normalize_store
from cryptography.fernet import Fernet

from aftersale_kit.service.shops_cli import shops_main

from .harness import Service, running_service, wait_for

SHOP_FILE = """\
version: 1
shop:
  platform: woocommerce
  domain: {domain}
  currency: EUR
  api_base_url: {base_url}
  secrets:
    webhook_secret: WOO_WEBHOOK_SECRET
    code_secret: WOO_CODE_SECRET
  auth:
    method: approve
campaigns:
  - id: danke
    trigger: order_paid
    actions:
      - issue_coupon: {{type: fixed_amount, value: 5, valid_days: 30, code_prefix: DANKE}}
"""


@pytest.fixture
def sandbox() -> Iterator[WooCommerceSandbox]:
    with WooCommerceSandbox(
        webhook_secret="wcsec-" + secrets.token_hex(12), seed=7, allow_http_callback=True
    ) as box:
        yield box


@pytest.fixture
def env(sandbox: WooCommerceSandbox) -> dict[str, str]:
    return {
        "WOO_WEBHOOK_SECRET": str(sandbox.webhooks.default_secret),
        "WOO_CODE_SECRET": "code-" + secrets.token_hex(12),
        "AFTERSALE_CREDENTIALS_KEY": Fernet.generate_key().decode(),
    }


@pytest.fixture
def config(sandbox: WooCommerceSandbox, tmp_path: Path) -> Path:
    folder = tmp_path / "shops"
    folder.mkdir()
    (folder / "shop.yaml").write_text(
        SHOP_FILE.format(domain=normalize_store(sandbox.home_url), base_url=sandbox.url),
        encoding="utf-8",
    )
    return folder


@pytest.fixture
def service(config: Path, env: dict[str, str], db_url: str) -> Iterator[Service]:
    with running_service(config=config, db_url=db_url, env=env) as running:
        yield running


def _connect_link(
    svc: Service, config: Path, db_url: str, env: dict[str, str], monkeypatch: Any, capsys: Any
) -> str:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    domain = next(iter(svc.registry)).domain
    args = ["connect", "woocommerce", domain, "--config", str(config), "--db", db_url]
    assert shops_main([*args, "--public-url", svc.url]) == 0
    [link] = capsys.readouterr().out.splitlines()
    return link


def _stored(svc: Service) -> Any:
    entry = next(iter(svc.registry))
    return entry.credentials.get(entry.domain, "rest_keys")


def test_the_connect_command_prints_woocommerces_authorize_link(
    service: Service,
    sandbox: WooCommerceSandbox,
    config: Path,
    db_url: str,
    env: dict[str, str],
    monkeypatch: Any,
    capsys: Any,
) -> None:
    link = _connect_link(service, config, db_url, env, monkeypatch, capsys)
    parts = urllib.parse.urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{sandbox.url}/wc-auth/v1/authorize"
    query = dict(urllib.parse.parse_qsl(parts.query))
    assert query["app_name"] == "aftersale-kit" and query["scope"] == "read_write"
    assert query["return_url"] == f"{service.url}/auth/woocommerce/return"
    assert query["callback_url"] == f"{service.url}/auth/woocommerce/callback"
    assert len(query["user_id"]) == 32
    # and serve redirects to such a link too
    domain = next(iter(service.registry)).domain
    answer = httpx.get(f"{service.url}/auth/woocommerce/connect", params={"shop": domain})
    assert answer.status_code == 302
    assert answer.headers["location"].startswith(f"{sandbox.url}/wc-auth/v1/authorize?")


def test_approval_stores_the_keys_registers_webhooks_and_coupons_follow(
    service: Service,
    sandbox: WooCommerceSandbox,
    config: Path,
    db_url: str,
    env: dict[str, str],
    monkeypatch: Any,
    capsys: Any,
) -> None:
    link = _connect_link(service, config, db_url, env, monkeypatch, capsys)
    user_id = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(link).query))["user_id"]
    # when the store manager approves the link
    status, location = approve(link)
    # then WooCommerce sent the browser back with success, and the service holds the new keys
    assert status == 302
    assert location == f"{service.url}/auth/woocommerce/return?success=1&user_id={user_id}"
    [(posted_user, consumer_key)] = sandbox.wc_auth.created
    assert posted_user == user_id
    stored = _stored(service)
    assert stored is not None and stored.value["consumer_key"] == consumer_key
    entry = next(iter(service.registry))
    assert all(consumer_key not in c for c in entry.credentials.raw_ciphertexts())
    # and the store's webhooks deliver to the service
    address = f"{service.url}/webhooks/woocommerce"
    hooks = [sandbox.webhook_state(i) for i in sorted(sandbox.store.webhooks)]
    assert sorted(h["topic"] for h in hooks if h["delivery_url"] == address) == [
        "order.created",
        "order.updated",
    ]
    # and a paid order gets its coupon, made with the approved keys (the only ones it has)
    order = sandbox.create_order("wc_v3_order_727", customer_id=5, email="ada@example.com")
    sandbox.pay(int(order["id"]))
    wait_for(lambda: any(c["code"].startswith("danke") for c in sandbox.coupons()), timeout=30)


def test_a_callback_for_an_unknown_or_used_request_stores_nothing(
    service: Service,
    sandbox: WooCommerceSandbox,
    config: Path,
    db_url: str,
    env: dict[str, str],
    monkeypatch: Any,
    capsys: Any,
) -> None:
    callback = f"{service.url}/auth/woocommerce/callback"
    keys = {
        "key_id": 9,
        "consumer_key": "ck_" + "1" * 40,
        "consumer_secret": "cs_" + "2" * 40,
        "key_permissions": "read_write",
    }
    # an unknown user_id
    answer = httpx.post(callback, content=json.dumps({**keys, "user_id": secrets.token_hex(16)}))
    assert (answer.status_code, answer.text) == (
        400,
        "user_id is not a pending connection request (unknown or used)\n",
    )
    assert _stored(service) is None
    # a used one: the approval went through, then its callback is replayed with other keys
    link = _connect_link(service, config, db_url, env, monkeypatch, capsys)
    user_id = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(link).query))["user_id"]
    assert approve(link)[0] == 302
    first = dict(_stored(service).value)
    replay = httpx.post(callback, content=json.dumps({**keys, "user_id": user_id}))
    assert replay.status_code == 400
    assert dict(_stored(service).value) == first
    assert keys["consumer_key"] not in replay.text and keys["consumer_secret"] not in replay.text


def test_the_sandbox_refuses_a_callback_that_is_not_https() -> None:
    with WooCommerceSandbox(seed=1) as box:
        query = urllib.parse.urlencode(
            {
                "app_name": "x",
                "scope": "read_write",
                "user_id": "1",
                "return_url": "http://127.0.0.1:9/r",
                "callback_url": "http://127.0.0.1:9/c",
            }
        )
        answer = httpx.get(f"{box.url}/wc-auth/v1/authorize?{query}")
    assert answer.status_code == 401
    assert "Error: The callback_url needs to be over SSL." in answer.text
