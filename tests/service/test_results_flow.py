"""Results end to end: codes the service issued, used in later sandbox orders, on both platforms
and both engines, then read back as the shop's results and checked against the raw rows.

The story (every delivery arrives three times), with the figures written by hand:

* A: Ada buys for 80.00 and pays: ``danke`` issues her a 5.00 code (not bound to her:
  ``restrict_to_email: false``, so that it can travel).
* B: Ada uses A's code on 50.00 of goods and pays 45.00; ``danke`` issues B's code (to Ada).
  Margin at the default 30%: 45.00 - 35.00 = 10.00.
* B is refunded 9.00 of its goods: a fifth of its 45.00, so 36.00 and a margin of 8.00 remain.
* C: Bo uses B's code (issued to Ada) on 30.00 and pays 25.00: a leak. Margin 25.00 - 21.00 =
  4.00. ``danke`` issues C's code.

So ``danke``: 3 codes issued, 2 redeemed (rate 0.6667), 10.00 discount cost, revenue 70.00 gross
and 61.00 net, margin 14.00 gross and 12.00 net, one leak (B's code, redeemed on C).
"""

from __future__ import annotations

import csv
import io
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from aftersale_kit.core.config import load_config
from aftersale_kit.results.collect import shop_results
from aftersale_kit.service.admin_access import ENV_TOKEN
from aftersale_kit.service.report_cli import report_main
from aftersale_kit.storage import CouponStatus, JobStatus

from .harness import Service, running_service, shopify_delivery, wait_for, woocommerce_delivery

pytestmark = pytest.mark.slow

CAMPAIGNS = """\
campaigns:
  - id: danke
    description: Danke-Gutschein
    when: subtotal >= 20
    on_refund: keep
    actions:
      - issue_coupon:
          {type: fixed_amount, value: 5, valid_days: 30, code_prefix: DANKE,
           restrict_to_email: false}
"""

Delivery = Callable[[], httpx.Response]


@dataclass
class Shop:
    domain: str
    config: Path
    env: dict[str, str]
    #: (customer, goods, code or None) -> the order id and its paid delivery.
    buy: Callable[[str, str, str | None], tuple[str, Delivery]]
    #: (order id, amount) -> the refund's delivery.
    refund: Callable[[str, str], Delivery]


_SERVICE: list[str] = [""]


def _config(folder: Path, shop_block: str, campaigns: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "shop.yaml").write_text(f"version: 1\n{shop_block}{campaigns}", encoding="utf-8")
    return folder


def _shopify(sandbox: Any, tmp_path: Path, campaigns: str = CAMPAIGNS) -> Shop:
    env = {
        "SHOP_WEBHOOK_SECRET": sandbox.secret,
        "SHOP_API_TOKEN": sandbox.token,
        "SHOP_CODE_SECRET": "code-" + secrets.token_hex(12),
    }
    shop = sandbox.shop_domain
    config = _config(
        tmp_path / "shops",
        f"""shop:
  platform: shopify
  domain: {shop}
  currency: USD
  api_base_url: {sandbox.url}
  api_version: "2026-01"
  secrets:
    webhook_secret: SHOP_WEBHOOK_SECRET
    api_token: SHOP_API_TOKEN
    code_secret: SHOP_CODE_SECRET
""",
        campaigns,
    )

    def deliver(topic: str, body: dict[str, Any], event_id: str) -> Delivery:
        headers, raw = shopify_delivery(
            topic=topic, body=body, shop=shop, secret=sandbox.secret, event_id=event_id
        )
        return lambda: httpx.post(_SERVICE[0] + "/webhooks/shopify", headers=headers, content=raw)

    def buy(customer: str, goods: str, code: str | None) -> tuple[str, Delivery]:
        extra: dict[str, Any] = {}
        if code is not None:
            extra["discount_codes"] = [{"code": code, "amount": "5.00", "type": "fixed_amount"}]
        order = sandbox.create_order(
            line_items=[{"title": "Espresso", "price": goods, "quantity": 1}],
            customer={"first_name": customer, "email": f"{customer.lower()}@example.com"},
            **extra,
        )
        return str(order["id"]), deliver("orders/paid", order, f"evt-{order['id']}-paid")

    def refund(order_id: str, amount: str) -> Delivery:
        body = sandbox.refund(order_id, amount=amount)
        return deliver("refunds/create", body, f"evt-{order_id}-refund")

    return Shop(shop, config, env, buy, refund)


def _woocommerce(sandbox: Any, tmp_path: Path, campaigns: str = CAMPAIGNS) -> Shop:
    from aftersale_kit_woocommerce.webhooks import normalize_store

    secret = sandbox.webhooks.default_secret
    env = {
        "WOO_WEBHOOK_SECRET": secret,
        "WOO_CONSUMER_KEY": sandbox.consumer_key,
        "WOO_CONSUMER_SECRET": sandbox.consumer_secret,
        "WOO_CODE_SECRET": "code-" + secrets.token_hex(12),
    }
    shop = normalize_store(sandbox.home_url)
    config = _config(
        tmp_path / "shops",
        f"""shop:
  platform: woocommerce
  domain: {shop}
  currency: USD
  api_base_url: {sandbox.url}
  secrets:
    webhook_secret: WOO_WEBHOOK_SECRET
    consumer_key: WOO_CONSUMER_KEY
    consumer_secret: WOO_CONSUMER_SECRET
    code_secret: WOO_CODE_SECRET
""",
        campaigns,
    )
    customers = {"Ada": 7, "Bo": 8}

    def deliver(body: dict[str, Any]) -> Delivery:
        headers, raw = woocommerce_delivery(body=body, source=sandbox.home_url + "/", secret=secret)
        return lambda: httpx.post(
            _SERVICE[0] + "/webhooks/woocommerce", headers=headers, content=raw
        )

    def buy(customer: str, goods: str, code: str | None) -> tuple[str, Delivery]:
        order = sandbox.create_order(
            line_items=[{"name": "Kopfhörer", "quantity": 1, "price": goods}],
            customer_id=customers[customer],
            email=f"{customer.lower()}@example.com",
        )
        order_id = int(order["id"])
        if code is not None:
            # the checkout applies the code (the store's own coupon rules and totals)
            answer = sandbox.client().put(f"orders/{order_id}", {"coupon_lines": [{"code": code}]})
            assert answer.status_code == 200, answer.text
        sandbox.pay(order_id)
        return str(order_id), deliver(sandbox.order(order_id))

    def refund(order_id: str, amount: str) -> Delivery:
        # an hour later: a delivery of the same order in the same second is the same delivery
        sandbox.skew_clock(3600)
        sandbox.refund(int(order_id), amount)
        body = sandbox.order(int(order_id))
        sandbox.skew_clock(0)  # back to now: OAuth refuses timestamps 15 minutes off
        return deliver(body)

    return Shop(shop, config, env, buy, refund)


def _issued(svc: Service, shop: str, order_id: str) -> str:
    """The code the order got, once it exists on the platform."""
    wait_for(
        lambda: (
            [c.status for c in svc.store.coupons_for_order(shop, order_id)] == [CouponStatus.ISSUED]
        )
    )
    (coupon,) = svc.store.coupons_for_order(shop, order_id)
    return coupon.code


def _thrice(delivery: Delivery) -> None:
    assert [delivery().status_code for _ in range(3)] == [200, 200, 200]


def _idle(svc: Service) -> bool:
    stats = svc.store.queue_stats()
    return stats.get(JobStatus.PENDING, 0) == 0 and stats.get(JobStatus.CLAIMED, 0) == 0


@pytest.mark.parametrize("platform", ["shopify", "woocommerce"])
def test_redemptions_refunds_and_leaks_show_in_the_results_as_the_rows_say(
    platform: str,
    shopify_sandbox: Any,
    woocommerce_sandbox: Any,
    tmp_path: Path,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shop = (
        _shopify(shopify_sandbox, tmp_path)
        if platform == "shopify"
        else _woocommerce(woocommerce_sandbox, tmp_path)
    )
    since = datetime.now(UTC) - timedelta(days=1)
    admin = {ENV_TOKEN: secrets.token_urlsafe(24)}
    with running_service(config=shop.config, db_url=db_url, env={**shop.env, **admin}) as svc:
        _SERVICE[0] = svc.url
        # given A paid and its code issued
        a_id, a_paid = shop.buy("Ada", "80.00", None)
        _thrice(a_paid)
        code_a = _issued(svc, shop.domain, a_id)
        # when Ada uses it on B, B is refunded 9.00, and Bo uses B's code on C
        b_id, b_paid = shop.buy("Ada", "50.00", code_a)
        _thrice(b_paid)
        code_b = _issued(svc, shop.domain, b_id)
        _thrice(shop.refund(b_id, "9.00"))
        c_id, c_paid = shop.buy("Bo", "30.00", code_b)
        _thrice(c_paid)
        _issued(svc, shop.domain, c_id)
        wait_for(lambda: _idle(svc), timeout=60)
        config = load_config(shop.config / "shop.yaml")
        now = datetime.now(UTC)
        results = shop_results(svc.store, config, since=since, until=now, now=now)
        raw = _raw_sums(svc, shop.domain, since=since, until=now)
        scraped = httpx.get(svc.url + "/metrics", timeout=30).text
        served = httpx.get(
            f"{svc.url}/admin/{platform}/{shop.domain}/report.json",
            params={"since": f"{since:%Y-%m-%d}"},
            headers={"Authorization": f"Bearer {admin[ENV_TOKEN]}"},
            timeout=30,
        )
        dead = svc.store.jobs(status=JobStatus.DEAD)
    assert dead == []
    (danke,) = results.campaigns
    # then the figures are the ones written by hand
    assert (danke.issued, danke.redeemed, danke.redemption_rate) == (3, 2, Decimal("0.6667"))
    assert danke.discount_cost == Decimal("10.00")
    assert (danke.revenue_gross, danke.revenue_net) == (Decimal("70.00"), Decimal("61.00"))
    assert (danke.margin_gross, danke.margin_net) == (Decimal("14.00"), Decimal("12.00"))
    assert danke.leaks == 1
    assert [(x.code.lower(), x.redeeming_order_id) for x in results.leaks] == [
        (code_b.lower(), c_id)
    ]
    assert sum(p.redeemed for p in danke.periods) == 2
    # and they equal the store's rows, summed independently in SQL
    assert raw == {
        "issued": danke.issued,
        "redeemed": danke.redeemed,
        "discount_cost": danke.discount_cost,
        "revenue_gross": danke.revenue_gross,
        "revenue_net": danke.revenue_net,
        "margin_gross": danke.margin_gross,
    }
    assert danke.budget.spent == Decimal("15.00")
    # and the metrics say the same per campaign
    labels = f'campaign="danke",shop="{shop.domain}"'
    assert f"aftersale_campaign_redemptions{{{labels}}} 2.0" in scraped
    assert f'aftersale_campaign_attributed_revenue{{basis="gross",{labels}}} 70.0' in scraped
    assert f'aftersale_campaign_attributed_revenue{{basis="net",{labels}}} 61.0' in scraped
    assert f"aftersale_campaign_budget_spent{{{labels}}} 15.0" in scraped
    # and `aftersale-kit report` prints the same figures
    for name, value in shop.env.items():
        monkeypatch.setenv(name, value)
    capsys.readouterr()
    common = [shop.domain, "--since", f"{since:%Y-%m-%d}", "--config", str(shop.config)]
    common += ["--db", db_url]
    assert report_main([*common, "--format", "json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    # the same range as the dashboard's report.json, the same figures (only "now" differs)
    assert served.status_code == 200, served.text
    moments = ("until", "generated_at")
    assert {k: v for k, v in printed.items() if k not in moments} == {
        k: v for k, v in served.json().items() if k not in moments
    }
    assert [
        (c["campaign_id"], c["redeemed"], c["revenue_net"], c["leaks"])
        for c in printed["campaigns"]
    ] == [("danke", 2, "61.00", 1)]
    assert report_main([*common, "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    total = next(r for r in rows if r["period"] == "total")
    assert (total["revenue_gross"], total["margin_net"], total["redemption_rate"]) == (
        "70.00",
        "12.00",
        "0.6667",
    )
    assert report_main(common) == 0
    table = capsys.readouterr().out
    assert "danke" in table and "61.00" in table and code_b in table
    assert "set restrict_to_email: true on the issue_coupon of: danke" in table
    # and the HTML report (the dashboard's page) shows the campaign
    code = report_main([*common, "--format", "html"])
    printed_html = capsys.readouterr()
    assert code == 0 and "danke" in printed_html.out and "<svg" in printed_html.out


def _raw_sums(svc: Service, shop: str, *, since: datetime, until: datetime) -> dict[str, Any]:
    """The campaign's figures straight from the tables (one SQL statement each)."""
    million = Decimal(1_000_000)
    args = {"shop": shop, "since": since, "until": until}
    where = "r.shop = :shop AND r.redeemed_at >= :since AND r.redeemed_at < :until"
    with svc.store.db.read() as conn:
        issued = conn.execute(
            text(
                "SELECT count(*) FROM coupons WHERE shop = :shop AND platform_id IS NOT NULL"
                " AND created_at >= :since AND created_at < :until"
            ),
            args,
        ).scalar_one()
        redeemed, cost = conn.execute(
            text(
                "SELECT count(*), coalesce(sum(CASE WHEN r.reversed_at IS NULL"
                f" THEN r.amount_micros ELSE 0 END), 0) FROM redemptions r WHERE {where}"
            ),
            args,
        ).one()
        gross, net, margin = conn.execute(
            text(
                "SELECT coalesce(sum(f.net_micros), 0), coalesce(sum(CASE WHEN"
                " r.reversed_at IS NULL AND f.closed IS NULL THEN f.net_micros -"
                " f.refunded_micros ELSE 0 END), 0), coalesce(sum(f.margin_micros), 0)"
                " FROM redemptions r JOIN order_facts f"
                f" ON f.shop = r.shop AND f.order_id = r.redeeming_order_id WHERE {where}"
            ),
            args,
        ).one()
    return {
        "issued": int(issued),
        "redeemed": int(redeemed),
        "discount_cost": Decimal(int(cost)) / million,
        "revenue_gross": Decimal(int(gross)) / million,
        "revenue_net": Decimal(int(net)) / million,
        "margin_gross": Decimal(int(margin)) / million,
    }


@pytest.mark.parametrize("platform", ["shopify", "woocommerce"])
def test_codes_of_a_campaign_restricted_to_email_are_bound_to_the_customer(
    platform: str, shopify_sandbox: Any, woocommerce_sandbox: Any, tmp_path: Path
) -> None:
    # given the campaign restricting its codes to the customer (the default, against leaks)
    restricted = CAMPAIGNS.replace(",\n           restrict_to_email: false}", "}")
    assert restricted != CAMPAIGNS
    shop = (
        _shopify(shopify_sandbox, tmp_path, restricted)
        if platform == "shopify"
        else _woocommerce(woocommerce_sandbox, tmp_path, restricted)
    )
    db_url = f"sqlite:///{tmp_path / 'restricted.db'}"
    with running_service(config=shop.config, db_url=db_url, env=shop.env) as svc:
        _SERVICE[0] = svc.url
        # when Ada pays an order
        a_id, a_paid = shop.buy("Ada", "80.00", None)
        _thrice(a_paid)
        code = _issued(svc, shop.domain, a_id)
    # then the code on the platform is hers alone
    if platform == "shopify":
        (discount,) = [d for d in shopify_sandbox.discounts() if code in d["codes"]]
        customer = shopify_sandbox.order(a_id)["customer"]["id"]
        assert discount["context"] == {"customers": [f"gid://shopify/Customer/{customer}"]}
    else:
        (coupon,) = [c for c in woocommerce_sandbox.coupons() if c["code"] == code.lower()]
        assert coupon["email_restrictions"] == ["ada@example.com"]
