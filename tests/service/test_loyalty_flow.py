"""Loyalty end to end over real HTTP, on both platforms' sandboxes and both engines.

An order of 2 x 40.00 is paid and completed; every delivery arrives five times, shuffled. The
shop earns 1 point per unit, pending 14 days; a redemption of 30 points buys a 3.00 coupon.
Written by hand from the program, not from what the service did:

* the order earns 80 points once, pending;
* a refund of 40.00 reverses exactly 40 (the refunded share);
* the sweep, 15 days later (time injected), releases the 40 left;
* a redemption over the storefront route creates one customer-bound coupon on the platform and
  leaves 10 points; a second one is refused (409) and spends nothing;
* the journal's sums equal the running totals.
"""

from __future__ import annotations

import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from aftersale_kit.core.loyalty.ledger import MovementKind
from aftersale_kit.service.loyalty import sweep
from aftersale_kit.storage import CouponStatus, JobKind, JobStatus

from .harness import Service, running_service, shopify_delivery, wait_for, woocommerce_delivery

pytestmark = pytest.mark.slow

API_KEY = "loyalty-client-id"
LOYALTY = """\
loyalty:
  earn:
    points_per_unit: 1
  pending_days: 14
  tiers:
    basis: spend
    window_months: 12
    levels:
      - {name: Gold, from: 100, multiplier: 2}
  redeem:
    options:
      - {id: drei, points: 30, coupon: 3}
campaigns:
  - id: danke
    actions:
      - show_block: {block: thank_you, params: {headline: Danke}}
"""

Delivery = Callable[[], httpx.Response]
_SERVICE: list[str] = [""]


@dataclass
class Shop:
    platform: str
    domain: str
    config: Path
    env: dict[str, str]
    #: A paid order of 2 x 40.00 for customer ``who``; (its id, paid and completed deliveries).
    place: Callable[[str], tuple[str, list[Delivery]]]
    #: Refund 40.00 of the order: its delivery.
    refund: Callable[[str], Delivery]
    #: The block credentials of an order: (query string, headers).
    auth: Callable[[Service, str], tuple[str, dict[str, str]]]
    #: The codes of the coupons on the platform that are bound to a customer.
    bound_codes: Callable[[], set[str]]


def _config(folder: Path, shop_block: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "shop.yaml").write_text(f"version: 1\n{shop_block}{LOYALTY}", encoding="utf-8")
    return folder


def _shopify(sandbox: Any, tmp_path: Path) -> Shop:
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
  locale: de_DE
  api_base_url: {sandbox.url}
  api_version: "2026-01"
  secrets:
    webhook_secret: SHOP_WEBHOOK_SECRET
    api_token: SHOP_API_TOKEN
    code_secret: SHOP_CODE_SECRET
""",
    )

    def deliver(topic: str, body: dict[str, Any], event_id: str) -> Delivery:
        headers, raw = shopify_delivery(
            topic=topic, body=body, shop=shop, secret=sandbox.secret, event_id=event_id
        )
        return lambda: httpx.post(_SERVICE[0] + "/webhooks/shopify", headers=headers, content=raw)

    def place(who: str) -> tuple[str, list[Delivery]]:
        order = sandbox.create_order(
            line_items=[{"title": "Espresso", "price": "40.00", "quantity": 2}],
            customer={"id": 500 + len(who), "first_name": who, "email": f"{who}@example.com"},
        )
        order_id = str(order["id"])
        fulfilled = sandbox.fulfill(order_id)
        return order_id, [
            deliver("orders/paid", order, f"paid-{order_id}"),
            deliver("orders/fulfilled", fulfilled, f"fulfilled-{order_id}"),
        ]

    def refund(order_id: str) -> Delivery:
        body = sandbox.refund(order_id, amount="40.00")
        return deliver("refunds/create", body, f"refund-{order_id}")

    def auth(svc: Service, order_id: str) -> tuple[str, dict[str, str]]:
        now = int(time.time())
        token = jwt.encode(
            {"dest": f"https://{shop}", "aud": API_KEY, "exp": now + 60, "nbf": now - 5},
            sandbox.secret,
            "HS256",
        )
        return "", {"Authorization": f"Bearer {token}"}

    def bound_codes() -> set[str]:
        return {
            code
            for d in sandbox.discounts()
            if "customer" in str(d.get("context")).lower()
            for code in d["codes"]
        }

    return Shop("shopify", shop, config, env, place, refund, auth, bound_codes)


def _woocommerce(sandbox: Any, tmp_path: Path) -> Shop:
    from aftersale_kit_woocommerce.tokens import block_token
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
  locale: de_DE
  api_base_url: {sandbox.url}
  secrets:
    webhook_secret: WOO_WEBHOOK_SECRET
    consumer_key: WOO_CONSUMER_KEY
    consumer_secret: WOO_CONSUMER_SECRET
    code_secret: WOO_CODE_SECRET
""",
    )

    def deliver(body: dict[str, Any]) -> Delivery:
        headers, raw = woocommerce_delivery(body=body, source=sandbox.home_url + "/", secret=secret)
        return lambda: httpx.post(
            _SERVICE[0] + "/webhooks/woocommerce", headers=headers, content=raw
        )

    customers = {"ada": 7, "bo": 8}

    def place(who: str) -> tuple[str, list[Delivery]]:
        order = sandbox.create_order(
            line_items=[{"name": "Kopfhörer", "quantity": 2, "price": "40.00"}],
            customer_id=customers[who],
            email=f"{who}@example.com",
        )
        order_id = int(order["id"])
        sandbox.pay(order_id)
        paid = sandbox.order(order_id)
        sandbox.skew_clock(3600)
        sandbox.complete(order_id)
        completed = sandbox.order(order_id)
        sandbox.skew_clock(0)
        return str(order_id), [deliver(paid), deliver(completed)]

    def refund(order_id: str) -> Delivery:
        sandbox.refund(int(order_id), "40.00")
        return deliver(sandbox.order(int(order_id)))

    def auth(svc: Service, order_id: str) -> tuple[str, dict[str, str]]:
        entry = svc.registry.by_domain(shop)
        assert entry is not None
        key = sandbox.order(int(order_id))["order_key"]
        token = block_token(secret=entry.token_secret, shop=shop, order_id=order_id, order_key=key)
        return f"token={token}", {}

    def bound_codes() -> set[str]:
        return {c["code"].upper() for c in sandbox.coupons() if c.get("email_restrictions")}

    return Shop("woocommerce", shop, config, env, place, refund, auth, bound_codes)


def _shop(platform: str, shopify: Any, woocommerce: Any, tmp_path: Path) -> Shop:
    if platform == "shopify":
        return _shopify(shopify, tmp_path)
    return _woocommerce(woocommerce, tmp_path)


def _idle(svc: Service) -> bool:
    stats = svc.store.queue_stats()
    return stats.get(JobStatus.PENDING, 0) == 0 and stats.get(JobStatus.CLAIMED, 0) == 0


def _account(svc: Service, shop: str) -> str:
    [account] = svc.store.loyalty_accounts(shop)
    return account


def _post_redeem(svc: Service, shop: Shop, order_id: str, request: str) -> httpx.Response:
    query, headers = shop.auth(svc, order_id)
    url = f"{svc.url}/v1/loyalty/{shop.platform}/{shop.domain}/redeem"
    return httpx.post(
        f"{url}?{query}" if query else url,
        headers=headers,
        json={"order": order_id, "option": "drei", "request": request},
        timeout=30,
    )


@pytest.mark.parametrize("platform", ["shopify", "woocommerce"])
def test_points_are_earned_once_reversed_by_share_released_and_redeemed_for_one_coupon(
    platform: str, shopify_sandbox: Any, woocommerce_sandbox: Any, tmp_path: Path, db_url: str
) -> None:
    shop = _shop(platform, shopify_sandbox, woocommerce_sandbox, tmp_path)
    with running_service(
        config=shop.config, db_url=db_url, env=shop.env, shopify_api_key=API_KEY
    ) as svc:
        _SERVICE[0] = svc.url
        store = svc.store
        order_id, deliveries = shop.place("ada")
        # every delivery five times, paid and completed in any order
        many = [d for d in deliveries for _ in range(5)]
        random.Random(f"{platform}-{db_url[:6]}").shuffle(many)
        assert {d().status_code for d in many} == {200}
        wait_for(lambda: _idle(svc), timeout=60)
        account = _account(svc, shop.domain)
        earned = store.loyalty_balance(shop.domain, account)
        # a partial refund of 40.00 reverses exactly its share
        assert shop.refund(order_id)().status_code == 200
        wait_for(lambda: _idle(svc), timeout=60)
        after_refund = store.loyalty_balance(shop.domain, account)
        # the sweep releases after pending_days (time injected), once
        early = sweep(svc.processor, now=svc.processor.clock() + timedelta(days=13))
        for _ in range(2):
            sweep(svc.processor, now=svc.processor.clock() + timedelta(days=15))
        released = store.loyalty_balance(shop.domain, account)
        # balance over the storefront route
        query, headers = shop.auth(svc, order_id)
        url = f"{svc.url}/v1/loyalty/{platform}/{shop.domain}/balance?order={order_id}"
        shown = httpx.get(f"{url}&{query}" if query else url, headers=headers, timeout=30)
        # redeem: one coupon, bound to the customer, created on the platform
        first = _post_redeem(svc, shop, order_id, "req-1")
        again = _post_redeem(svc, shop, order_id, "req-1")
        refused = _post_redeem(svc, shop, order_id, "req-2")
        wait_for(lambda: _idle(svc), timeout=60)
        coupon_jobs = [j for j in store.jobs() if j.kind == JobKind.CREATE_LOYALTY_COUPON]
        coupon = store.coupon(shop.domain, coupon_jobs[0].payload["coupon_key"])
        bound = shop.bound_codes()
        journal = [
            (r.movement.kind, r.movement.points)
            for r in store.loyalty_journal(shop.domain, account)
        ]
        checked = store.loyalty_check(shop.domain)
        dead = store.jobs(status=JobStatus.DEAD)
    assert dead == []
    assert (earned.pending, earned.available) == (80, 0)
    assert (after_refund.pending, after_refund.available) == (40, 0)
    assert early.movements == 0
    assert (released.pending, released.available) == (0, 40)
    assert shown.status_code == 200, shown.text
    assert (shown.json()["available"], shown.json()["pending"]) == (40, 0)
    assert first.status_code == 200, first.text
    assert (first.json()["points"], first.json()["available"]) == (30, 10)
    assert again.status_code == 200 and again.json()["repeated"] is True
    assert refused.status_code == 409 and "30 points needed" in refused.json()["reason"]
    assert len(coupon_jobs) == 1
    assert coupon is not None and coupon.status == CouponStatus.ISSUED
    assert coupon.code == first.json()["code"] and coupon.code.upper() in bound
    assert journal == [
        (MovementKind.EARNED_PENDING, 80),
        (MovementKind.REVERSED, 40),
        (MovementKind.RELEASED, 0),
        (MovementKind.REDEEMED, 30),
    ]
    assert checked == 1


@pytest.mark.parametrize("platform", ["shopify", "woocommerce"])
def test_a_tier_customer_earns_the_tier_rate_not_base_plus_tier(
    platform: str, shopify_sandbox: Any, woocommerce_sandbox: Any, tmp_path: Path, db_url: str
) -> None:
    shop = _shop(platform, shopify_sandbox, woocommerce_sandbox, tmp_path)
    with running_service(
        config=shop.config, db_url=db_url, env=shop.env, shopify_api_key=API_KEY
    ) as svc:
        _SERVICE[0] = svc.url
        totals = []
        for _ in range(3):
            _, deliveries = shop.place("bo")
            for delivery in deliveries:
                assert delivery().status_code == 200
            wait_for(lambda: _idle(svc), timeout=60)
            account = _account(svc, shop.domain)
            balance = svc.store.loyalty_balance(shop.domain, account)
            totals.append(balance.pending)
    # 80 at the base rate; with 80 spent the customer is below Gold (100): 80 again;
    # with 160 spent Gold's rate (2x) replaces the base rate: 160, not 80 + 160
    assert totals == [80, 160, 320]


def test_bad_loyalty_requests_are_answered_4xx_with_a_reason(
    shopify_sandbox: Any, tmp_path: Path
) -> None:
    shop = _shopify(shopify_sandbox, tmp_path)
    db_url = f"sqlite:///{tmp_path / 'bad.db'}"
    with running_service(
        config=shop.config, db_url=db_url, env=shop.env, shopify_api_key=API_KEY, worker=False
    ) as svc:
        base = f"{svc.url}/v1/loyalty/shopify/{shop.domain}"
        _, headers = shop.auth(svc, "1")
        answers = [
            httpx.get(f"{base}/balance", headers=headers),
            httpx.post(f"{base}/redeem", headers=headers, content=b"{not json"),
            httpx.post(f"{base}/redeem", headers=headers, content=b"[1, 2]"),
            httpx.post(f"{base}/redeem", headers=headers, json={"order": "1"}),
            httpx.post(
                f"{base}/redeem",
                headers=headers,
                json={"order": "1", "option": "drei", "request": "r", "cart_value": "abc"},
            ),
            httpx.post(f"{base}/redeem", headers=headers, content=b"x" * 20_000),
            httpx.get(f"{svc.url}/v1/loyalty/shopify/unknown.myshopify.com/balance?order=1"),
            httpx.get(f"{base}/balance?order=1"),  # no token
        ]
    codes = [a.status_code for a in answers]
    assert codes[:6] == [400] * 6, [a.text for a in answers]
    assert codes[6] == 404 and codes[7] == 401
    assert all(a.json().get("error") for a in answers)
