"""A shop that uninstalled the app and reinstalled it: an operator activates it again with
``aftersale-kit shops activate``; an uninstall processed after that activation is stale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from aftersale_kit.cli import main
from aftersale_kit.core.model import EventKind
from aftersale_kit.service.effects import Processor
from aftersale_kit.service.shops import load_shops
from aftersale_kit.storage import ShopState, Store

from .conftest import write_shopify_config
from .harness import drain, running_service, shop_yaml, shopify_delivery, wait_for

pytestmark = pytest.mark.slow  # an uninstall and reinstall through the service and the CLI

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _cli(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], *argv: str) -> int:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return main(list(argv))


def test_reinstalled_shop_is_served_again_after_shops_activate(
    shopify_sandbox: Any,
    tmp_path: Path,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sandbox = shopify_sandbox
    shop = sandbox.shop_domain
    config, env = write_shopify_config(tmp_path / "shops", sandbox)
    with running_service(config=config, db_url=db_url, env=env, worker=False) as svc:
        sandbox.subscribe("app/uninstalled", f"{svc.url}/webhooks/shopify")
        # given the app was uninstalled: the shop's webhooks are refused
        sandbox.uninstall()
        assert sandbox.wait_for_deliveries(10)
        drain(svc)
        late = sandbox.create_order(line_items=[{"title": "Nachher", "price": "40.00"}])
        headers, body = shopify_delivery(
            topic="orders/paid", body=late, shop=shop, secret=sandbox.secret
        )
        refused = httpx.post(f"{svc.url}/webhooks/shopify", headers=headers, content=body)
        assert refused.status_code == 401
        assert (
            _cli(monkeypatch, env, "shops", "status", "--config", str(config), "--db", db_url) == 0
        )
        assert f"{shop} (shopify): uninstalled since" in capsys.readouterr().out
        # when the merchant reinstalled and the operator activates the shop
        code = _cli(
            monkeypatch, env, "shops", "activate", shop, "--config", str(config), "--db", db_url
        )
        printed = capsys.readouterr().out
        # then the shop is active, and the running service accepts its webhooks within seconds
        assert code == 0
        assert f"{shop} (shopify): active since" in printed
        assert "before: uninstalled since" in printed
        answers: list[int] = []

        def accepted() -> bool:
            answer = httpx.post(f"{svc.url}/webhooks/shopify", headers=headers, content=body)
            answers.append(answer.status_code)
            return answer.status_code == 200 and answer.json() == {"status": "accepted"}

        wait_for(accepted, timeout=15, interval=0.5)
        drain(svc)
        record = svc.store.shop_state(shop)
        decision = svc.store.decision(
            shop=shop, order_id=str(late["id"]), event_kind=EventKind.ORDER_PAID
        )
    assert set(answers) <= {401, 200}
    assert record is not None and record.state == ShopState.ACTIVE
    assert decision is not None and decision.decision.fired == ("danke",)


def test_shops_activate_names_the_configured_shops_for_an_unknown_domain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config, env = _offline_config(tmp_path)
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    code = _cli(
        monkeypatch,
        env,
        "shops",
        "activate",
        "typo.myshopify.com",
        "--config",
        str(config),
        "--db",
        db,
    )
    err = capsys.readouterr().err
    assert code == 1
    assert "'typo.myshopify.com' is not in" in err
    assert "configured: offline.myshopify.com" in err
    assert not (tmp_path / "cli.db").exists()  # nothing opened for a refused command


def _offline_config(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    env = {"OFF_WEBHOOK_SECRET": "whsec-off", "OFF_CODE_SECRET": "code-off"}
    path = tmp_path / "offline.yaml"
    path.write_text(
        shop_yaml(
            platform="shopify",
            domain="offline.myshopify.com",
            base_url="http://127.0.0.1:9",
            secrets={"webhook_secret": "OFF_WEBHOOK_SECRET", "code_secret": "OFF_CODE_SECRET"},
        ),
        encoding="utf-8",
    )
    return path, env


def test_an_uninstall_triggered_before_the_latest_activation_is_stale(
    tmp_path: Path, any_store: Store
) -> None:
    config, env = _offline_config(tmp_path)
    registry = load_shops(config, env=env)
    (entry,) = registry
    with any_store as store:
        processor = Processor(registry=registry, store=store)
        # given a shop uninstalled at T0 and activated by an operator at T0 + 1 h
        assert processor.uninstall(entry, at=T0)
        gone = store.shop_state(entry.domain)
        store.set_shop_state(
            shop=entry.domain,
            platform="shopify",
            state=ShopState.ACTIVE,
            now=T0 + timedelta(hours=1),
        )
        # when an app/uninstalled triggered at T0 + 30 min is processed only now (a backlog)
        stale = processor.uninstall(entry, at=T0 + timedelta(minutes=30))
        after_stale = store.shop_state(entry.domain)
        # and a real one, triggered after the activation, comes later
        fresh = processor.uninstall(entry, at=T0 + timedelta(hours=2))
        after_fresh = store.shop_state(entry.domain)
    # then the stale one changes nothing, the later one uninstalls as of its trigger time
    assert gone is not None
    assert (gone.state, gone.uninstalled_at) == (ShopState.UNINSTALLED, T0)
    assert (stale, fresh) == (False, True)
    assert after_stale is not None and after_stale.state == ShopState.ACTIVE
    assert after_stale.installed_at == T0 + timedelta(hours=1)
    assert after_fresh is not None
    assert (after_fresh.state, after_fresh.uninstalled_at) == (
        ShopState.UNINSTALLED,
        T0 + timedelta(hours=2),
    )
