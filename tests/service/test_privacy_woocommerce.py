"""WooCommerce privacy: the companion plugin's exporter and eraser (WordPress's privacy tools,
run under php-cli) ask the running service; the CLI does the same for any shop (both engines).

Skipped when php is missing, except under CI=true (see test_wordpress_plugin)."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from test_wordpress_plugin import closed_port_url, run_plugin

from aftersale_kit.cli import main
from aftersale_kit.service.privacy import sign_privacy_request
from aftersale_kit.storage import CouponStatus

from .conftest import write_woocommerce_config
from .harness import running_service, wait_for

ADA = "ada@example.com"
BOB = "bob@example.com"


def _bodies(svc: Any, shop: str, order_id: str) -> list[bytes]:
    with svc.store.db.read() as conn:
        rows = conn.execute(
            text("SELECT body FROM events WHERE shop = :s AND order_id = :o"),
            {"s": shop, "o": order_id},
        )
        return [bytes(r[0]) for r in rows]


def _costs(svc: Any, shop: str) -> list[tuple[str, Decimal, str]]:
    return [(e.order_id, e.cost, e.currency) for e in svc.store.ledger(shop)]


def _plugin(tmp_path: Path, sandbox: Any, url: str, secret: str, run: str, **extra: Any) -> Any:
    out, _, _ = run_plugin(
        tmp_path,
        {
            "home": sandbox.home_url + "/",
            "options": {"aftersale_kit_service_url": url, "aftersale_kit_block_secret": secret},
            "run": run,
            **extra,
        },
    )
    return json.loads(out)


def _post(url: str, shop: str, action: str, body: bytes, headers: dict[str, str]) -> Any:
    endpoint = f"{url}/v1/privacy/woocommerce/{shop}/{action}"
    return httpx.post(endpoint, content=body, headers=headers)


@pytest.mark.slow
def test_plugin_and_cli_export_and_erase_once(
    woocommerce_sandbox: Any,
    tmp_path: Path,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sandbox = woocommerce_sandbox
    config, env = write_woocommerce_config(tmp_path / "shops", sandbox)
    secret = env["WOO_WEBHOOK_SECRET"]
    with running_service(config=config, db_url=db_url, env=env) as svc:
        (entry,) = list(svc.registry)
        shop = entry.domain
        sandbox.add_webhook("order.updated", f"{svc.url}/webhooks/woocommerce", ping=True)
        # given Ada (registered, user 5) and Bob (a guest), each with a paid order and coupon
        ada = sandbox.create_order("wc_v3_order_727", customer_id=5, email=ADA)
        bob = sandbox.create_order("wc_v3_order_727", customer_id=0, email=BOB)
        ada_order, bob_order = str(ada["id"]), str(bob["id"])
        sandbox.pay(int(ada_order))
        sandbox.pay(int(bob_order))
        for order_id in (ada_order, bob_order):
            wait_for(
                lambda o=order_id: (
                    [c.status for c in svc.store.coupons_for_order(shop, o)]
                    == [CouponStatus.ISSUED]
                )
            )
        ada_code = svc.store.coupons_for_order(shop, ada_order)[0].code
        bob_code = svc.store.coupons_for_order(shop, bob_order)[0].code
        costs = _costs(svc, shop)
        wordpress = {"users": {ADA: 5}, "by_customer": {ADA: [ada_order], "user:5": [ada_order]}}

        # when WordPress's exporter runs for Ada
        exported = _plugin(
            tmp_path, sandbox, svc.url, secret, "privacy_export", email=ADA, **wordpress
        )
        # then it lists her coupon and the webhook with her address, nothing of Bob
        assert exported["keys"] == ["aftersale-kit"] and exported["name"] == "aftersale-kit"
        response = exported["response"]
        assert response["done"] is True
        values = json.dumps(response["data"])
        groups = {item["group_id"] for item in response["data"]}
        assert {"aftersale-kit-coupons", "aftersale-kit-bookings", "aftersale-kit-webhooks"} <= (
            groups
        )
        assert ada_code in values and ADA in values
        assert bob_code not in values and BOB not in values

        # and requests the plugin did not sign export nothing
        body = json.dumps({"email": ADA, "customer_id": "5", "order_ids": [ada_order]}).encode()
        now = str(int(time.time()))
        good = sign_privacy_request(
            secret=secret, timestamp=now, shop=shop, action="erase", body=body
        )
        stale = str(int(time.time()) - 3600)
        refused = [
            _post(svc.url, shop, "export", body, {}),
            _post(
                svc.url,
                shop,
                "export",
                body,
                {"X-Aftersale-Kit-Timestamp": now, "X-Aftersale-Kit-Signature": "0" * 64},
            ),
            # an erase signature does not export
            _post(
                svc.url,
                shop,
                "export",
                body,
                {"X-Aftersale-Kit-Timestamp": now, "X-Aftersale-Kit-Signature": good},
            ),
            _post(
                svc.url,
                shop,
                "erase",
                body,
                {
                    "X-Aftersale-Kit-Timestamp": stale,
                    "X-Aftersale-Kit-Signature": sign_privacy_request(
                        secret=secret, timestamp=stale, shop=shop, action="erase", body=body
                    ),
                },
            ),
        ]
        assert [r.status_code for r in refused] == [401, 401, 401, 401]
        assert all("export" not in r.json() and "erased" not in r.json() for r in refused)
        assert all(ADA.encode() in b for b in _bodies(svc, shop, ada_order))

        # when WordPress's eraser runs for Ada, twice
        first = _plugin(tmp_path, sandbox, svc.url, secret, "privacy_erase", email=ADA, **wordpress)
        second = _plugin(
            tmp_path, sandbox, svc.url, secret, "privacy_erase", email=ADA, **wordpress
        )
        # then the first removed her data and says what stays, the second found nothing left
        assert first["response"]["items_removed"] is True
        assert first["response"]["items_retained"] is True and first["response"]["done"] is True
        assert second["response"]["items_removed"] is False
        assert all(b == b"" for b in _bodies(svc, shop, ada_order))
        assert all(BOB.encode() in b for b in _bodies(svc, shop, bob_order))
        assert svc.store.load_blocks(shop, ada_order) is None

        # when the shop owner uses the CLI for Bob (a guest: found by his address alone)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        cli = ["--shop", shop, "--email", BOB, "--config", str(config), "--db", db_url]
        assert main(["privacy", "export", *cli]) == 0
        cli_export = json.loads(capsys.readouterr().out)
        assert main(["privacy", "erase", *cli]) == 0
        erased = capsys.readouterr().out
        assert main(["privacy", "erase", *cli]) == 0
        again = capsys.readouterr().out
        # then the export held his order and coupon, the erasure ran once
        assert cli_export["orders"] == [bob_order]
        assert [c["code"] for c in cli_export["coupons"]] == [bob_code]
        assert erased.startswith(f"{shop}: erased the customer's personal data in 1 order(s)")
        assert again == (
            f"{shop}: nothing left to erase for this customer (already erased, or never stored)\n"
        )
        assert all(b == b"" for b in _bodies(svc, shop, bob_order))
        # and every amount is still booked, for both orders
        assert _costs(svc, shop) == costs
        assert sorted(o for o, _, _ in costs) == sorted([ada_order, bob_order])


def test_the_plugin_reports_an_unreachable_service_as_an_error(
    woocommerce_sandbox: Any, tmp_path: Path
) -> None:
    # given no service at the configured URL
    for run in ("privacy_export", "privacy_erase"):
        # when WordPress runs the callback
        result = _plugin(tmp_path, woocommerce_sandbox, closed_port_url(), "s", run, email=ADA)
        # then it is an error WordPress shows, not an empty "nothing found"
        assert result["response"]["wp_error"] == "aftersale_kit_unreachable"


def test_signed_but_unusable_bodies_are_400_with_the_reason(
    woocommerce_sandbox: Any, tmp_path: Path
) -> None:
    config, env = write_woocommerce_config(tmp_path / "shops", woocommerce_sandbox)
    secret = env["WOO_WEBHOOK_SECRET"]
    with running_service(
        config=config, db_url=f"sqlite:///{tmp_path / 'p.db'}", env=env, worker=False
    ) as svc:
        (entry,) = list(svc.registry)
        shop = entry.domain

        def signed(action: str, body: bytes) -> Any:
            now = str(int(time.time()))
            signature = sign_privacy_request(
                secret=secret, timestamp=now, shop=shop, action=action, body=body
            )
            headers = {"X-Aftersale-Kit-Timestamp": now, "X-Aftersale-Kit-Signature": signature}
            return _post(svc.url, shop, action, body, headers)

        answers = {
            "truncated": signed("export", b'{"email": "ada@exa'),
            "deep": signed("export", b"[" * 50_000),
            "not an object": signed("erase", b'["ada@example.com"]'),
            "no address": signed("erase", b'{"email": "nobody"}'),
            "bad orders": signed("export", b'{"email": "a@b.example", "order_ids": "12"}'),
            "too large": signed("export", b'{"email": "a@b.example", "x": "' + b"y" * 70_000),
        }
        unknown = _post(svc.url, "other.example", "export", b"{}", {})
    assert {k: r.status_code for k, r in answers.items()} == {
        "truncated": 400,
        "deep": 400,
        "not an object": 400,
        "no address": 400,
        "bad orders": 400,
        "too large": 413,
    }
    assert answers["no address"].json()["error"] == "email: expected the customer's e-mail address"
    assert answers["bad orders"].json()["error"] == "order_ids: expected a list of order ids"
    assert unknown.status_code == 404
