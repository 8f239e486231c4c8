"""The Shopify install flow (``auth: oauth``) end to end over real HTTP: the service's install
link, the sandbox's authorize page and redirect, the HMAC-checked callback, the token stored
encrypted, the webhooks registered, a paid order's coupon; every forged or replayed callback
refused with nothing stored; uninstall then reinstall through the flow."""

from __future__ import annotations

import secrets
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aftersale_kit_shopify.sandbox.app import ShopifySandbox
from aftersale_kit_shopify.sandbox.tokens import sign_query
from cryptography.fernet import Fernet

from aftersale_kit.storage import ShopState

from .harness import Service, running_service, wait_for
from .test_service_flow import FAST_RETRY, _coupons

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
    method: oauth
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
    with ShopifySandbox(shop="agency-client", client_id=CLIENT_ID, secret=CLIENT_SECRET) as box:
        yield box


@pytest.fixture
def service(sandbox: ShopifySandbox, tmp_path: Path, db_url: str) -> Iterator[Service]:
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
    with running_service(
        config=folder, db_url=db_url, env=env, adapter_options=FAST_RETRY
    ) as running:
        yield running


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in urllib.parse.parse_qs(urllib.parse.urlsplit(url).query).items()}


def _install(svc: Service, shop: str) -> tuple[str, dict[str, str]]:
    """The install link and the merchant's approval: the callback URL Shopify redirects to."""
    to_shopify = httpx.get(f"{svc.url}/auth/shopify/install", params={"shop": shop})
    assert to_shopify.status_code == 302, to_shopify.text
    approved = httpx.get(to_shopify.headers["location"])
    assert approved.status_code == 302, approved.text
    callback = approved.headers["location"]
    return callback, _query(callback)


def _stored(svc: Service, shop: str) -> Any:
    entry = next(iter(svc.registry))
    return entry.credentials.get(shop, "access_token")


def test_install_link_asks_shopify_for_the_features_scopes_with_a_state(
    service: Service, sandbox: ShopifySandbox
) -> None:
    answer = httpx.get(f"{service.url}/auth/shopify/install", params={"shop": sandbox.shop_domain})
    assert answer.status_code == 302
    location = answer.headers["location"]
    assert location.startswith(f"{sandbox.url}/admin/oauth/authorize?")
    query = _query(location)
    assert query["client_id"] == CLIENT_ID
    assert query["scope"] == "write_discounts,write_orders,write_customers,read_products"
    assert query["redirect_uri"] == f"{service.url}/auth/shopify/callback"
    assert len(query["state"]) == 32


@pytest.mark.slow
def test_install_end_to_end_stores_the_token_registers_webhooks_and_issues_coupons(
    service: Service, sandbox: ShopifySandbox
) -> None:
    shop = sandbox.shop_domain
    # when the merchant follows the install link and approves
    callback, params = _install(service, shop)
    assert set(params) == {"code", "hmac", "shop", "state", "timestamp"}
    done = httpx.get(callback)
    # then the shop is connected: token stored encrypted, shop active, webhooks registered
    assert done.status_code == 200, done.text
    stored = _stored(service, shop)
    assert stored is not None and stored.value["access_token"] in sandbox.tokens.issued()
    token = stored.value["access_token"]
    entry = next(iter(service.registry))
    assert all(token not in c for c in entry.credentials.raw_ciphertexts())
    assert token not in done.text and params["code"] not in done.text
    record = service.store.shop_state(shop)
    assert record is not None and record.state == ShopState.ACTIVE
    topics = {s["topic"] for s in sandbox.subscriptions() if s["source"] == "api"}
    assert {"ORDERS_PAID", "APP_UNINSTALLED"} <= {t.upper().replace("/", "_") for t in topics}
    assert {s["uri"] for s in sandbox.subscriptions()} == {f"{service.url}/webhooks/shopify"}
    # and a paid order gets its coupon through the sandbox's own webhook
    sandbox.create_order(line_items=[{"title": "Espresso", "price": "40.00", "sku": "ESP"}])
    wait_for(lambda: len(_coupons(sandbox)) == 1, timeout=30)


def _forged(params: dict[str, str], **changes: str) -> dict[str, str]:
    out = {**params, **changes}
    out["hmac"] = sign_query(out, CLIENT_SECRET)
    return out


@pytest.mark.parametrize(
    "case",
    ["bad_hmac", "reused_state", "foreign_state", "stale_timestamp", "foreign_domain"],
)
def test_a_forged_or_replayed_callback_is_refused_with_nothing_stored(
    service: Service, sandbox: ShopifySandbox, case: str
) -> None:
    shop = sandbox.shop_domain
    callback_url, params = _install(service, shop)
    base = callback_url.split("?", 1)[0]
    if case == "bad_hmac":
        bad = {**params, "hmac": sign_query(params, "not-the-client-secret")}
    elif case == "reused_state":
        # a first install went through; its callback comes again
        assert httpx.get(callback_url).status_code == 200
        entry = next(iter(service.registry))
        entry.credentials.delete(shop)
        bad = params
    elif case == "foreign_state":
        bad = _forged(params, state=secrets.token_hex(16))
    elif case == "stale_timestamp":
        bad = _forged(params, timestamp=str(int(time.time()) - 3600))
    else:
        bad = _forged(params, shop="evil.example.com")
    answer = httpx.get(base, params=bad)
    assert answer.status_code == 400
    assert answer.text.startswith("install refused: ")
    assert _stored(service, shop) is None


@pytest.mark.slow
def test_uninstall_drops_the_token_and_a_reinstall_through_the_flow_reactivates(
    service: Service, sandbox: ShopifySandbox
) -> None:
    shop = sandbox.shop_domain
    callback, _ = _install(service, shop)
    assert httpx.get(callback).status_code == 200
    first = _stored(service, shop).value["access_token"]
    # when the merchant uninstalls the app (app/uninstalled reaches the service)
    sandbox.uninstall()
    wait_for(lambda: _stored(service, shop) is None, timeout=30)
    record = service.store.shop_state(shop)
    assert record is not None and record.state == ShopState.UNINSTALLED
    # and installs it again through the link
    callback, _ = _install(service, shop)
    assert httpx.get(callback).status_code == 200
    # then the shop is active with the new token, and serves orders again
    second = _stored(service, shop).value["access_token"]
    assert second != first
    record = service.store.shop_state(shop)
    assert record is not None and record.state == ShopState.ACTIVE
    sandbox.create_order(line_items=[{"title": "Espresso", "price": "40.00", "sku": "ESP"}])
    wait_for(lambda: len(_coupons(sandbox)) == 1, timeout=30)
