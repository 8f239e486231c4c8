"""``aftersale-kit backtest CONFIG --from-shop``: the orders read through the adapter from the
Shopify sandbox over a real socket, the same report as from files, and ``--compare`` reading
the shop once (the second run reads what the first spooled)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aftersale_kit_shopify.sandbox import ShopifySandbox

from aftersale_kit.cli import main

pytestmark = pytest.mark.slow  # a sandbox on a real socket

CONFIG = """\
version: 1
shop:
  platform: shopify
  domain: {domain}
  currency: USD
  locale: en_US
  timezone: UTC
  api_base_url: {url}
  secrets: {{api_token: BACKTEST_SHOP_TOKEN}}
campaigns:
  - id: thanks
    description: Thank-you coupon
    when: subtotal >= {threshold}
    actions:
      - issue_coupon: {{type: fixed_amount, value: 5, valid_days: 30}}
"""
PRICES = ("40.00", "55.00", "70.00")


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> ShopifySandbox:
    with ShopifySandbox(currency="USD") as shop:
        monkeypatch.setenv("BACKTEST_SHOP_TOKEN", shop.token)
        # a roomy bucket: a throttled page asked again would blur the count of requests
        shop.set_bucket(maximum_available=1e6, currently_available=1e6, restore_rate=1e6)
        start = datetime(2025, 3, 1, 8, tzinfo=UTC)
        for i in range(12):
            created = (start + timedelta(days=i)).isoformat()
            shop.create_order(
                created_at=created,
                processed_at=created,
                financial_status="paid",
                customer=None,
                line_items=[{"title": f"Bohnen {i}", "price": PRICES[i % 3]}],
            )
        yield shop


def _config(tmp_path: Path, shop: ShopifySandbox, threshold: int, name: str) -> str:
    path = tmp_path / name
    text = CONFIG.format(domain=shop.shop_domain, url=shop.url, threshold=threshold)
    path.write_text(text, encoding="utf-8")
    return str(path)


def _listing_requests(shop: ShopifySandbox) -> int:
    return sum(1 for r in shop.api_requests() if "orders" in str(r.get("query", "")))


def test_from_shop_reads_the_orders_and_compare_reads_them_once(
    tmp_path: Path, sandbox: ShopifySandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    at_50 = _config(tmp_path, sandbox, 50, "at-50.yaml")
    at_60 = _config(tmp_path, sandbox, 60, "at-60.yaml")
    # when the shop's orders are backtested once, then compared under two thresholds
    before = _listing_requests(sandbox)
    assert main(["backtest", at_50, "--from-shop", "--out", str(tmp_path / "one")]) == 0
    one_read = _listing_requests(sandbox) - before
    argv = ["backtest", at_50, "--from-shop", "--compare", at_60, "--out", str(tmp_path / "two")]
    assert main(argv) == 0
    out = capsys.readouterr().out
    # then the comparison asked the shop no more than the single run did
    assert one_read > 0
    assert _listing_requests(sandbox) - before - one_read == one_read
    # and both runs saw all twelve orders: 55 and 70 reach 50, only 70 reaches 60
    data = json.loads((tmp_path / "two" / "backtest.json").read_text(encoding="utf-8"))
    assert [run["orders"] for run in data["runs"]] == [12, 12]
    assert [run["campaigns"][0]["orders"] for run in data["runs"]] == [8, 4]
    assert data["difference"][0]["orders"] == [8, 4, -4]
    assert f"Backtest of {sandbox.shop_domain}: 12 orders" in out


def test_orders_and_from_shop_together_are_wrong_usage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "shop.yaml"
    config.write_text(
        CONFIG.format(domain="x.myshopify.com", url="http://127.0.0.1:9", threshold=50),
        encoding="utf-8",
    )
    with pytest.raises(SystemExit) as exited:
        main(["backtest", str(config), "orders.csv", "--from-shop"])
    assert exited.value.code == 2
    assert "give the ORDERS files or --from-shop, one of the two" in capsys.readouterr().err
