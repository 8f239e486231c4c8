"""No token or key leaves the service: every log record (at DEBUG, before any redacting
formatter), the metrics, the customer data exports, the HTTP answers and the error messages are
searched for every token the sandbox issued, the client secret, the REST keys WooCommerce
created and the credentials encryption key."""

from __future__ import annotations

import logging
import secrets
import urllib.parse
from pathlib import Path

import httpx
import pytest
from aftersale_kit_shopify import ShopifyAdapter
from aftersale_kit_shopify.sandbox.app import ShopifySandbox
from aftersale_kit_woocommerce.sandbox import WooCommerceSandbox
from aftersale_kit_woocommerce.sandbox.wc_auth import approve
from aftersale_kit_woocommerce.webhooks import normalize_store
from cryptography.fernet import Fernet

from aftersale_kit.core.errors import AftersaleKitError

from .harness import drain, running_service, wait_for
from .test_service_flow import FAST_RETRY

CLIENT_ID = "cid-" + secrets.token_hex(8)
CLIENT_SECRET = "csec-" + secrets.token_hex(16)

SHOPIFY_FILE = """\
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
      - show_block: {{block: coupon, params: {{headline: Danke!}}}}
"""

WOO_FILE = """\
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


def _leaks(haystacks: dict[str, str], needles: list[str]) -> list[tuple[str, str]]:
    return [
        (where, needle[:6] + "...")
        for where, text in haystacks.items()
        for needle in needles
        if needle and needle in text
    ]


def _log_text(caplog: pytest.LogCaptureFixture) -> str:
    lines = []
    for record in caplog.records:
        lines.append(record.getMessage())
        lines.append(repr(record.__dict__))
    return "\n".join(lines)


@pytest.mark.slow
def test_client_credentials_tokens_never_leave_the_service(
    tmp_path: Path, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    key = Fernet.generate_key().decode()
    with ShopifySandbox(shop="leak-check", client_id=CLIENT_ID, secret=CLIENT_SECRET) as sandbox:
        folder = tmp_path / "shops"
        folder.mkdir()
        (folder / "shop.yaml").write_text(
            SHOPIFY_FILE.format(domain=sandbox.shop_domain, base_url=sandbox.url), "utf-8"
        )
        env = {
            "SHOP_CODE_SECRET": "code-" + secrets.token_hex(12),
            "SHOP_CLIENT_ID": CLIENT_ID,
            "SHOP_CLIENT_SECRET": CLIENT_SECRET,
            "AFTERSALE_CREDENTIALS_KEY": key,
        }
        exports = tmp_path / "exports"
        answers: dict[str, str] = {}
        with running_service(
            config=folder,
            db_url=db_url,
            env=env,
            worker=False,
            export_dir=exports,
            adapter_options=FAST_RETRY,
        ) as svc:
            for topic in ("orders/paid", "customers/data_request"):
                sandbox.subscribe(topic, f"{svc.url}/webhooks/shopify")
            # given paid orders, a refused token in between (a 401 and a new token)
            first = sandbox.create_order(
                line_items=[{"title": "Bohnen", "price": "40.00"}],
                customer={"first_name": "Jane", "last_name": "Doe", "email": "jane@example.com"},
            )
            assert sandbox.wait_for_deliveries(10)
            drain(svc)
            sandbox.tokens.expire_all()
            sandbox.create_order(line_items=[{"title": "Tassen", "price": "40.00"}])
            assert sandbox.wait_for_deliveries(10)
            drain(svc)
            # and a customer export
            sandbox.trigger("customers/data_request", customer_id=first["customer"]["id"])
            assert sandbox.wait_for_deliveries(10)
            drain(svc)
            assert any(exports.glob("*.json"))
            answers["metrics"] = httpx.get(f"{svc.url}/metrics").text
            answers["install"] = httpx.get(
                f"{svc.url}/auth/shopify/install", params={"shop": sandbox.shop_domain}
            ).text
            answers["jobs"] = repr(svc.store.jobs(limit=1000))
        # and an adapter with a wrong secret fails
        wrong = ShopifyAdapter.from_settings(
            next(iter(svc.registry)).config.settings,
            secrets={
                "client_id": CLIENT_ID,
                "client_secret": "wrong-" + CLIENT_SECRET,
                "webhook_secret": CLIENT_SECRET,
            },
        )
        with pytest.raises(AftersaleKitError) as info:
            wrong.list_webhooks()
        answers["error"] = str(info.value) + repr(info.value.__dict__)
        tokens = sandbox.tokens.issued()
    answers["exports"] = "".join(p.read_text("utf-8") for p in exports.glob("*.json"))
    answers["logs"] = _log_text(caplog)
    # then two tokens were issued and used, and none of them (nor the secret or key) leaked
    assert len(tokens) == 2
    assert "jane@example.com" in answers["exports"]
    assert _leaks(answers, [*tokens, CLIENT_SECRET, key]) == []


@pytest.mark.slow
def test_approved_woocommerce_keys_never_leave_the_service(
    tmp_path: Path, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    key = Fernet.generate_key().decode()
    webhook_secret = "wcsec-" + secrets.token_hex(12)
    with WooCommerceSandbox(
        webhook_secret=webhook_secret, seed=7, allow_http_callback=True
    ) as sandbox:
        folder = tmp_path / "shops"
        folder.mkdir()
        domain = normalize_store(sandbox.home_url)
        (folder / "shop.yaml").write_text(
            WOO_FILE.format(domain=domain, base_url=sandbox.url), "utf-8"
        )
        env = {
            "WOO_WEBHOOK_SECRET": webhook_secret,
            "WOO_CODE_SECRET": "code-" + secrets.token_hex(12),
            "AFTERSALE_CREDENTIALS_KEY": key,
        }
        answers: dict[str, str] = {}
        with running_service(config=folder, db_url=db_url, env=env) as svc:
            link = httpx.get(f"{svc.url}/auth/woocommerce/connect", params={"shop": domain})
            status, location = approve(link.headers["location"])
            answers["return"] = httpx.get(location).text
            answers["return_url"] = location
            order = sandbox.create_order("wc_v3_order_727", customer_id=5, email="a@example.com")
            sandbox.pay(int(order["id"]))
            wait_for(lambda: any(c["code"].startswith("danke") for c in sandbox.coupons()))
            answers["metrics"] = httpx.get(f"{svc.url}/metrics").text
            user_id = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))["user_id"]
            [(_, consumer_key)] = sandbox.wc_auth.created
            stored = next(iter(svc.registry)).credentials.get(domain, "rest_keys")
            replay = httpx.post(
                f"{svc.url}/auth/woocommerce/callback",
                json={"user_id": user_id, **stored.value, "key_permissions": "read_write"},
            )
            answers["replay"] = replay.text
            answers["jobs"] = repr(svc.store.jobs(limit=1000))
        secret = next(
            k.consumer_secret
            for k in sandbox.auth.keys()  # noqa: SIM118 (a method, not a dict)
            if k.consumer_key == consumer_key
        )
    answers["logs"] = _log_text(caplog)
    assert status == 302 and replay.status_code == 400
    assert _leaks(answers, [consumer_key, secret, key]) == []
