"""A shop connected with the client credentials grant, run for three days of scaled time by one
``serve`` and three ``worker`` processes on SQLite and PostgreSQL: the token is fetched once per
expiry window (plus once per injected 401), replaced before it expires, shared through the store,
and no coupon job fails for an expired token. The key rotation keeps the shop working."""

from __future__ import annotations

import itertools
import math
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from aftersale_kit_shopify.sandbox.app import ShopifySandbox
from cryptography.fernet import Fernet

from aftersale_kit.service.shops_cli import shops_main
from aftersale_kit.storage import CouponStatus, JobStatus, Store
from aftersale_kit.storage.credentials import CredentialCipher, CredentialStore

from .harness import free_port, shopify_delivery, wait_for

ROOT = Path(__file__).resolve().parents[2]
#: One day of the sandbox's token clock, in real seconds (tokens say ``expires_in: 6``).
DAY = 6.0
CLIENT_ID = "cid-" + secrets.token_hex(8)
CLIENT_SECRET = "csec-" + secrets.token_hex(16)

SHOP_FILE = """\
version: 1
shop:
  platform: shopify
  domain: {domain}
  currency: USD
  api_base_url: {base_url}
  api_version: "2026-01"
  secrets:
    code_secret: SHOP_CODE_SECRET
  auth:
    method: client_credentials
    client_id: SHOP_CLIENT_ID
    client_secret: SHOP_CLIENT_SECRET
campaigns:
  - id: danke
    trigger: order_paid
    actions:
      - issue_coupon: {{type: fixed_amount, value: 5, valid_days: 30, code_prefix: DANKE}}
"""


@pytest.fixture
def sandbox() -> Iterator[ShopifySandbox]:
    with ShopifySandbox(
        shop="cc-shop", client_id=CLIENT_ID, secret=CLIENT_SECRET, token_lifetime=DAY, seed=3
    ) as running:
        running.set_bucket(maximum_available=20000, restore_rate=1000)
        yield running


def _setup(tmp_path: Path, sandbox: ShopifySandbox) -> tuple[Path, dict[str, str]]:
    folder = tmp_path / "shops"
    folder.mkdir()
    (folder / "shop.yaml").write_text(
        SHOP_FILE.format(domain=sandbox.shop_domain, base_url=sandbox.url), encoding="utf-8"
    )
    env = {
        "SHOP_CODE_SECRET": "code-" + secrets.token_hex(12),
        "SHOP_CLIENT_ID": CLIENT_ID,
        "SHOP_CLIENT_SECRET": CLIENT_SECRET,
        "AFTERSALE_CREDENTIALS_KEY": Fernet.generate_key().decode(),
    }
    return folder, env


@contextmanager
def _processes(
    config: Path, db_url: str, env: dict[str, str], tmp_path: Path, port: int
) -> Iterator[list[subprocess.Popen[bytes]]]:
    child_env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    base = [sys.executable, "-m", "aftersale_kit"]
    common = ["--config", str(config), "--db", db_url, "--log-level", "warning"]
    commands = [[*base, "serve", *common, "--no-worker", "--port", str(port)]]
    commands += [[*base, "worker", *common, "--threads", "2", "--lease-seconds", "5"]] * 3
    with ExitStack() as stack:
        procs = []
        for i, command in enumerate(commands):
            log = stack.enter_context((tmp_path / f"proc{i}.log").open("wb"))
            procs.append(subprocess.Popen(command, env=child_env, stdout=log, stderr=log))
        try:
            yield procs
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(30)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _issued(store: Store, shop: str, order_ids: list[str]) -> bool:
    return all(
        [c.status for c in store.coupons_for_order(shop, oid)] == [CouponStatus.ISSUED]
        for oid in order_ids
    )


@pytest.mark.slow
def test_three_days_of_client_credentials_with_one_serve_and_three_workers(
    sandbox: ShopifySandbox, tmp_path: Path, db_url: str
) -> None:
    # given a client-credentials shop served by one serve and three worker processes
    config, env = _setup(tmp_path, sandbox)
    shop = sandbox.shop_domain
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    order_ids: list[str] = []
    injected: list[float] = []
    with _processes(config, db_url, env, tmp_path, port) as procs:
        wait_for(lambda: _healthy(url) or procs[0].poll() is not None, timeout=30)
        assert procs[0].poll() is None, (tmp_path / "proc0.log").read_text()
        # when paid orders arrive all along three days of token time, and the shop refuses the
        # current token twice (injected 401s)
        start = time.monotonic()
        with httpx.Client(timeout=10) as client:
            while time.monotonic() - start < 3 * DAY:
                order = sandbox.create_order(line_items=[{"title": "Bohnen", "price": "40.00"}])
                headers, body = shopify_delivery(
                    topic="orders/paid", body=order, shop=shop, secret=CLIENT_SECRET
                )
                assert client.post(f"{url}/webhooks/shopify", headers=headers, content=body)
                order_ids.append(str(order["id"]))
                elapsed = time.monotonic() - start
                due = len(injected) < 2 and elapsed > DAY * (0.5 + len(injected))
                if due and sandbox.tokens.expire_all():
                    injected.append(time.monotonic())
                time.sleep(0.15)
        with Store.open(db_url, migrate=False) as store:
            wait_for(lambda: _issued(store, shop, order_ids), timeout=60, interval=0.2)
            jobs = store.jobs(shop=shop, limit=10000)
    logs = "".join((tmp_path / f"proc{i}.log").read_text() for i in range(4))
    granted = sandbox.tokens.granted()
    # then every order got its coupon, no job is dead or carries an error
    assert len(order_ids) > 3 * DAY / 0.3
    assert [j for j in jobs if j.status == JobStatus.DEAD or j.last_error] == [], logs[-3000:]
    # and the tokens were fetched at most once per window of the refresh period (0.9 of a
    # day), plus once per injected 401: not once per process
    windows = math.ceil(3 * DAY / (0.9 * DAY)) + 1
    assert len(injected) == 2
    assert 3 <= len(granted) <= windows + len(injected), granted
    after_401 = [g for g in granted if any(0 <= g - i < 1.0 for i in injected)]
    assert len(after_401) == len(injected), (granted, injected)
    # every other fetch came a refresh period (0.9 of a day) after the token it replaced
    for previous, fetched in itertools.pairwise(granted):
        if fetched not in after_401:
            assert fetched - previous >= 0.85 * DAY, (granted, injected)
    # and the Admin API never answered 401 but to the two injected refusals
    refused = [r for r in sandbox.api_requests() if r["status"] == 401]
    assert len(refused) <= len(injected) * 6  # at most every worker thread once per refusal
    # and no token or client secret reached a log line
    assert CLIENT_SECRET not in logs
    for token in sandbox.tokens.issued():
        assert token not in logs


def test_rotating_the_key_keeps_the_shop_working(
    sandbox: ShopifySandbox, tmp_path: Path, db_url: str, monkeypatch: Any
) -> None:
    from aftersale_kit_shopify import ShopifyAdapter

    from aftersale_kit.service.connect import attach_credentials
    from aftersale_kit.service.shops import load_shops

    config, env = _setup(tmp_path, sandbox)
    old_key = env["AFTERSALE_CREDENTIALS_KEY"]
    with Store.open(db_url, migrate=True) as store:
        # given a shop whose token was fetched and stored under the old key
        registry = load_shops(config, env=env)
        attach_credentials(registry, store, env=env)
        [entry] = registry
        assert isinstance(entry.adapter, ShopifyAdapter)
        entry.adapter.list_webhooks()
        # when a new key is put first and the stored credentials are re-encrypted
        new_key = Fernet.generate_key().decode()
        monkeypatch.setenv("AFTERSALE_CREDENTIALS_KEY", f"{new_key},{old_key}")
        assert shops_main(["rotate-key", "--db", db_url]) == 0
        # then a process with the new key alone uses the stored token (no new fetch)
        env["AFTERSALE_CREDENTIALS_KEY"] = new_key
        later = load_shops(config, env=env)
        attach_credentials(later, store, env=env)
        [fresh] = later
        fresh.adapter.list_webhooks()
        assert len(sandbox.tokens.granted()) == 1
        only_new = CredentialStore(store.db, CredentialCipher([new_key]))
        [cipher] = only_new.raw_ciphertexts()
        assert Fernet(new_key.encode()).decrypt(cipher.encode())


def test_register_webhooks_fetches_the_token_into_the_services_store(
    sandbox: ShopifySandbox, tmp_path: Path, db_url: str, monkeypatch: Any
) -> None:
    config, env = _setup(tmp_path, sandbox)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    args = ["register-webhooks", sandbox.shop_domain, "--config", str(config), "--db", db_url]
    assert shops_main([*args, "--public-url", "https://aftersale.example.com"]) == 0
    with Store.open(db_url, migrate=False) as store:
        cipher = CredentialCipher([env["AFTERSALE_CREDENTIALS_KEY"]])
        stored = CredentialStore(store.db, cipher).get(sandbox.shop_domain, "access_token")
    [token] = sandbox.tokens.issued()
    assert stored is not None and stored.value["access_token"] == token
    uris = {s["uri"] for s in sandbox.subscriptions() if s["source"] == "api"}
    assert uris == {"https://aftersale.example.com/webhooks/shopify"}
