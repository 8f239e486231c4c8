"""A platform defined only here goes through validate, evaluate and a serve round trip: the
extension point works without any change to the core, the config loader or the service."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from platform_kasse.adapter import KasseAdapter, sign
from platform_kasse.service import page_token
from platform_kasse.spec import SPEC

from aftersale_kit.core import registry
from aftersale_kit.core.config import load_config, load_config_text
from aftersale_kit.core.errors import ConfigError
from aftersale_kit.core.schema import config_json_schema
from aftersale_kit.evaluation import evaluate_payload

from .harness import running_service, wait_for

SHOP = "laden.kasse.test"
ENV = {
    "KASSE_WEBHOOK_SECRET": "kwh-" + secrets.token_hex(12),
    "KASSE_CODE_SECRET": "kcs-" + secrets.token_hex(12),
}
CONFIG = f"""\
version: 1
shop:
  platform: kasse
  domain: {SHOP}
  currency: EUR
  secrets:
    webhook_secret: KASSE_WEBHOOK_SECRET
    code_secret: KASSE_CODE_SECRET
campaigns:
  - id: danke
    trigger: order_paid
    when: subtotal >= 50
    actions:
      - issue_coupon: {{type: fixed_amount, value: 5, valid_days: 30, code_prefix: DANKE}}
      - show_block: {{block: coupon, params: {{headline: Danke!}}}}
"""


def order(order_id: str, price: str) -> dict[str, object]:
    return {
        "kasse_order": {
            "id": order_id,
            "shop": SHOP,
            "currency": "EUR",
            "created_at": "2026-12-01T10:00:00+00:00",
            "status": "paid",
            "email": "kundin@example.org",
            "items": [{"title": "Espressomaschine", "qty": 1, "price": price}],
        }
    }


@pytest.fixture(autouse=True)
def kasse() -> Iterator[None]:
    registry.register(SPEC)
    KasseAdapter.PLATFORM.clear()
    try:
        yield
    finally:
        registry.unregister(SPEC.name)


def test_the_config_of_a_registered_platform_validates_with_its_rules() -> None:
    config = load_config_text(CONFIG, filename="shop.yaml")
    assert config.settings.platform == "kasse"
    assert config.settings.auth_method == "none"
    assert "kasse" in config_json_schema()["$defs"]["shop"]["properties"]["platform"]["enum"]
    # its own domain rule, fields and triggers decide what a file may say
    bad = (
        CONFIG.replace(SHOP, "laden.example.com")
        .replace("subtotal >= 50", "any line_items.vendor == 'X'")
        .replace("trigger: order_paid", "trigger: order_fulfilled")
    )
    with pytest.raises(ConfigError) as info:
        load_config_text(bad, filename="shop.yaml")
    text = str(info.value)
    assert "expected the shop's kasse.test domain, got 'laden.example.com'" in text
    assert "field 'line_items.vendor' is not available on kasse (only on shopify)" in text
    assert "trigger 'order_fulfilled' is never delivered on kasse" in text


def test_an_unregistered_platform_is_refused_with_the_known_names() -> None:
    registry.unregister("kasse")
    with pytest.raises(ConfigError, match="unknown platform 'kasse'"):
        load_config_text(CONFIG, filename="shop.yaml")


def test_evaluate_reads_its_orders_and_decides() -> None:
    config = load_config_text(CONFIG, filename="shop.yaml")
    secret = ENV["KASSE_CODE_SECRET"].encode()
    _order, decision = evaluate_payload(config, order("7", "60.00"), code_secret=secret)
    assert decision.fired == ("danke",)
    _order, small = evaluate_payload(config, order("8", "20.00"), code_secret=secret)
    assert small.fired == ()


@pytest.mark.slow
def test_serve_round_trip_matches_evaluate(tmp_path: Path) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    payload = order("7", "60.00")
    offline = evaluate_payload(
        load_config(path), payload, code_secret=ENV["KASSE_CODE_SECRET"].encode()
    )[1]
    [planned_code] = [a.coupon_code for a in offline.actions if a.coupon_code]
    body = json.dumps(payload).encode()
    headers = {
        "X-Kasse-Shop": SHOP,
        "X-Kasse-Topic": "order.paid",
        "X-Kasse-Signature": sign(body, ENV["KASSE_WEBHOOK_SECRET"]),
        "Content-Type": "application/json",
    }
    with running_service(config=path, db_url=f"sqlite:///{tmp_path / 's.db'}", env=ENV) as svc:
        forged = httpx.post(
            f"{svc.url}/webhooks/kasse", content=body, headers={**headers, "X-Kasse-Signature": "0"}
        )
        assert forged.status_code == 401
        answer = httpx.post(f"{svc.url}/webhooks/kasse", content=body, headers=headers)
        assert answer.status_code == 200, answer.text
        state = KasseAdapter.PLATFORM
        wait_for(lambda: "7" in state.get(SHOP, {}).get("content", {}))
        assert list(state[SHOP]["coupons"]) == [planned_code]
        token = page_token(ENV["KASSE_WEBHOOK_SECRET"], SHOP, "7")
        url = f"{svc.url}/v1/blocks/kasse/{SHOP}/7"
        assert httpx.get(url).status_code == 401
        assert httpx.get(url, params={"token": "0" * 64}).status_code == 401
        blocks = httpx.get(url, params={"token": token})
        assert blocks.status_code == 200, blocks.text
        assert planned_code in blocks.text
        # the same delivery again changes nothing
        assert (
            httpx.post(f"{svc.url}/webhooks/kasse", content=body, headers=headers).status_code
            == 200
        )
        assert list(state[SHOP]["coupons"]) == [planned_code]
