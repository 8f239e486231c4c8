"""``aftersale-kit shops register-webhooks DOMAIN``: subscribes the running service's webhook route
on both platform sandboxes through the adapters; a second run changes nothing; the platform's
next event reaches the service."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from aftersale_kit.cli import main

from .conftest import write_shopify_config, write_woocommerce_config
from .harness import running_service

SHOPIFY_TOPICS = {
    "orders/create",
    "orders/paid",
    "orders/fulfilled",
    "orders/cancelled",
    "refunds/create",
    "app/uninstalled",
}


def _register(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], domain: str, config: Path, url: str
) -> int:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return main(
        ["shops", "register-webhooks", domain, "--config", str(config), "--public-url", url]
    )


def test_shopify_registration_is_idempotent_and_events_arrive(
    shopify_sandbox: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sandbox = shopify_sandbox
    shop = sandbox.shop_domain
    config, env = write_shopify_config(tmp_path / "shops", sandbox)
    with running_service(
        config=config, db_url=f"sqlite:///{tmp_path / 'svc.db'}", env=env, worker=False
    ) as svc:
        address = f"{svc.url}/webhooks/shopify"
        # when the operator registers the shop's webhooks
        assert _register(monkeypatch, env, shop, config, svc.url + "/") == 0
        first = capsys.readouterr().out.splitlines()
        # then the six API topics are subscribed to the service's Shopify route
        subscribed = {(s["topic"], s["uri"]) for s in sandbox.subscriptions()}
        assert subscribed == {(topic, address) for topic in SHOPIFY_TOPICS}
        assert len([line for line in first if line.endswith(")") and ": created (id " in line]) == 6
        assert f"{shop} (shopify): ORDERS_PAID -> {address}: created" in "\n".join(first)
        assert f"{shop}: 6 created, 0 already there" in first
        assert any("shopify.app.toml" in line for line in first)
        ids = sorted(s["id"] for s in sandbox.subscriptions())
        creates = _shopify_creates(sandbox)
        # when it is run again
        assert _register(monkeypatch, env, shop, config, svc.url) == 0
        second = capsys.readouterr().out.splitlines()
        # then nothing changed on the platform and the output says so
        assert sorted(s["id"] for s in sandbox.subscriptions()) == ids
        assert _shopify_creates(sandbox) == creates == 6
        assert f"{shop}: 0 created, 6 already there" in second
        assert sum(": already registered (id " in line for line in second) == 6
        # and the next (paid) order is delivered to the service and accepted
        sandbox.create_order(line_items=[{"title": "Espresso", "price": "20.00"}])
        assert sandbox.wait_for_deliveries(10)
        paid = [d for d in sandbox.deliveries() if d["topic"] == "orders/paid"]
        assert paid and all(d["url"] == address for d in paid)
        assert [a["status"] for a in paid[-1]["attempts"]][-1] == 200


def _shopify_creates(sandbox: Any) -> int:
    return sum(
        1 for r in sandbox.api_requests() if "webhookSubscriptionCreate" in (r["query"] or "")
    )


def test_woocommerce_registration_is_idempotent_and_pings_are_answered(
    woocommerce_sandbox: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sandbox = woocommerce_sandbox
    config, env = write_woocommerce_config(tmp_path / "shops", sandbox)
    with running_service(
        config=config, db_url=f"sqlite:///{tmp_path / 'svc.db'}", env=env, worker=False
    ) as svc:
        address = f"{svc.url}/webhooks/woocommerce"
        domain = next(iter(svc.registry)).domain
        # when the operator registers the shop's webhooks
        assert _register(monkeypatch, env, domain, config, svc.url) == 0
        first = capsys.readouterr().out.splitlines()
        # then order.created and order.updated deliver to the service, signed with the secret
        hooks = [w for w in _woo_hooks(sandbox) if w["delivery_url"] == address]
        assert sorted(w["topic"] for w in hooks) == ["order.created", "order.updated"]
        for hook in hooks:
            state = sandbox.webhook_state(hook["id"])
            assert state["status"] == "active"
            assert state["secret"] == env["WOO_WEBHOOK_SECRET"]
        assert f"{domain}: 2 created, 0 already there" in first
        # and the service answered WooCommerce's ping for each with exactly 200
        pings = [d for d in sandbox.deliveries() if d["kind"] == "ping"]
        assert [p["status"] for p in pings] == [200, 200]
        posts = _woo_posts(sandbox)
        # when it is run again
        assert _register(monkeypatch, env, domain, config, svc.url) == 0
        second = capsys.readouterr().out.splitlines()
        # then no subscription was added and none pinged again
        again = [w for w in _woo_hooks(sandbox) if w["delivery_url"] == address]
        assert sorted(w["id"] for w in again) == sorted(w["id"] for w in hooks)
        assert _woo_posts(sandbox) == posts == 2
        assert len([d for d in sandbox.deliveries() if d["kind"] == "ping"]) == 2
        assert f"{domain}: 0 created, 2 already there" in second
        assert any(f"order.updated -> {address}: already registered" in s for s in second)


def _woo_hooks(sandbox: Any) -> list[dict[str, Any]]:
    return [sandbox.webhook_state(i) for i in sorted(sandbox.store.webhooks)]


def _woo_posts(sandbox: Any) -> int:
    return sum(
        1 for r in sandbox.requests() if r["method"] == "POST" and r["path"].endswith("/webhooks")
    )


def test_unknown_shop_and_bad_url_are_one_line(
    shopify_sandbox: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config, env = write_shopify_config(tmp_path / "shops", shopify_sandbox)
    # a domain that is not configured: the configured ones are named
    code = _register(monkeypatch, env, "other.myshopify.com", config, "https://svc.example")
    assert code == 1
    assert capsys.readouterr().err == (
        "aftersale-kit shops register-webhooks: shop 'other.myshopify.com' is not in "
        f"{config} (configured: {shopify_sandbox.shop_domain})\n"
    )
    # a public URL that is not one: argparse's usage error, exit 2
    with pytest.raises(SystemExit) as exited:
        _register(monkeypatch, env, shopify_sandbox.shop_domain, config, "svc.example")
    assert exited.value.code == 2
    assert "expected the service's public base URL" in capsys.readouterr().err
    assert shopify_sandbox.subscriptions() == []
