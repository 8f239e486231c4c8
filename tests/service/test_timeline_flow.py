"""One order's timeline end to end, over real HTTP, on both platforms and both engines.

Order A (80.00) is paid, fulfilled, refunded 40.00 and cancelled; a later order B redeems one of
A's codes. Every webhook is delivered three times, in shuffled order. The expectation below is
written by hand from the campaigns, not from what the service did:

* ``danke`` (paid, priority 10, "from 50", reevaluated on refunds): 5.00 coupon + coupon block +
  thank-you block. The 40.00 refund leaves 40.00: the coupon is taken back (deactivated on the
  platform), its 5.00 go back to the budget; the thank-you block stays.
* ``treue`` (paid, priority 5, "from 40", ``on_refund: keep``): 3.00 coupon + coupon block. B
  redeems it: it is ``used``, never deactivated, and its 3.00 stay booked after A's cancellation.
* ``umfrage`` (fulfilled): a survey block; taken back by the cancellation (its use released),
  the block stays.
* ``storno-umfrage`` (cancelled): a survey block; what a reversal triggers is never taken back.
* B (27.00 after its 3.00 code) earns nothing.

Content, in the order of priority then the order's life: danke's thank-you, treue's coupon,
umfrage's survey, storno-umfrage's survey.
"""

from __future__ import annotations

import os
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from aftersale_kit.storage import CouponStatus, JobStatus

from .harness import Service, running_service, shopify_delivery, wait_for, woocommerce_delivery

pytestmark = pytest.mark.slow

CAMPAIGNS = """\
campaigns:
  - id: danke
    priority: 10
    when: subtotal >= 50
    actions:
      - issue_coupon: {type: fixed_amount, value: 5, valid_days: 30, code_prefix: DANKE}
      - show_block: {block: coupon, params: {headline: Danke!}}
      - show_block: {block: thank_you, params: {headline: "Schön, dass Sie da sind"}}
  - id: treue
    priority: 5
    when: subtotal >= 40
    on_refund: keep
    actions:
      - issue_coupon: {type: fixed_amount, value: 3, valid_days: 30, code_prefix: TREUE}
      - show_block: {block: coupon, params: {headline: Treue zahlt sich aus}}
  - id: umfrage
    trigger: order_fulfilled
    actions:
      - show_block: {block: survey, params: {url: /umfrage}}
  - id: storno-umfrage
    trigger: order_cancelled
    actions:
      - show_block: {block: survey, params: {url: /storno-umfrage}}
"""

EXPECTED_BLOCKS = [
    ("thank_you", "danke"),
    ("coupon", "treue"),
    ("survey", "umfrage"),
    ("survey", "storno-umfrage"),
]
#: Per campaign on order A: (cost booked, uses) after everything.
EXPECTED_BOOKS = {
    "danke": (Decimal("0.00"), 0),
    "treue": (Decimal("3.00"), 1),
    "umfrage": (Decimal("0.00"), 0),
    "storno-umfrage": (Decimal("0.00"), 1),
}
API_KEY = "timeline-client-id"

Delivery = Callable[[], httpx.Response]


@dataclass
class Shop:
    platform: str
    domain: str
    config: Path
    env: dict[str, str]
    #: Makes order A, paid; returns (A's id, its paid delivery).
    place: Callable[[], tuple[str, Delivery]]
    #: After A's coupons exist: B redeeming ``code``, and A's fulfilled, refund, cancel
    #: deliveries.
    later: Callable[[str, str, str], list[Delivery]]
    #: The block endpoint's URL (with its credentials) for an order, as headers and URL.
    block_request: Callable[[Service, str], tuple[str, dict[str, str]]]


def _config(folder: Path, shop_block: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "shop.yaml").write_text(f"version: 1\n{shop_block}{CAMPAIGNS}", encoding="utf-8")
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

    def place() -> tuple[str, Delivery]:
        a = sandbox.create_order(
            line_items=[{"title": "Espresso", "price": "40.00", "quantity": 2}],
            customer={"first_name": "Ada", "email": "ada@example.com"},
        )
        return str(a["id"]), deliver("orders/paid", a, "evt-a-paid")

    def later(a_id: str, code: str, _code_key: str) -> list[Delivery]:
        b = sandbox.create_order(
            line_items=[{"title": "Filter", "price": "30.00"}],
            customer={"first_name": "Bo", "email": "bo@example.com"},
            discount_codes=[{"code": code, "amount": "3.00", "type": "fixed_amount"}],
        )
        fulfilled = sandbox.fulfill(a_id)
        refund = sandbox.refund(a_id, amount="40.00")
        cancelled = sandbox.cancel(a_id)
        return [
            deliver("orders/paid", b, "evt-b-paid"),
            deliver("orders/fulfilled", fulfilled, "evt-a-fulfilled"),
            deliver("refunds/create", refund, "evt-a-refund"),
            deliver("orders/cancelled", cancelled, "evt-a-cancelled"),
        ]

    def block_request(svc: Service, order_id: str) -> tuple[str, dict[str, str]]:
        now = int(time.time())
        token = jwt.encode(
            {"dest": f"https://{shop}", "aud": API_KEY, "exp": now + 60, "nbf": now - 5},
            sandbox.secret,
            "HS256",
        )
        url = f"{svc.url}/v1/blocks/shopify/{shop}/{order_id}"
        return url, {"Authorization": f"Bearer {token}"}

    return Shop("shopify", shop, config, env, place, later, block_request)


def _woocommerce(sandbox: Any, tmp_path: Path) -> Shop:
    from aftersale_kit_woocommerce.tokens import block_token as woocommerce_block_token
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

    def place() -> tuple[str, Delivery]:
        a = sandbox.create_order(
            line_items=[{"name": "Kopfhörer", "quantity": 2, "price": "40.00"}],
            customer_id=7,
            email="ada@example.com",
        )
        a_id = int(a["id"])
        sandbox.pay(a_id)
        return str(a_id), deliver(sandbox.order(a_id))

    def later(a_id: str, _code: str, code_key: str) -> list[Delivery]:
        b = sandbox.create_order(
            line_items=[{"name": "Kabel", "quantity": 1, "price": "27.00"}],
            customer_id=8,
            email="bo@example.com",
        )
        sandbox.pay(int(b["id"]))
        paid_b = sandbox.order(int(b["id"]))
        # WooCommerce names the coupon in lower case on the order (its coupon_lines)
        paid_b["coupon_lines"] = [{"id": 1, "code": code_key, "discount": "3.00"}]
        bodies = []
        for hours, action in ((1, sandbox.complete), (2, None), (3, sandbox.cancel)):
            sandbox.skew_clock(3600 * hours)  # completed well after paid: "fulfilled"
            if action is None:
                sandbox.refund(int(a_id), "40.00")
            else:
                action(int(a_id))
            bodies.append(sandbox.order(int(a_id)))
        sandbox.skew_clock(0)  # back to now: OAuth refuses timestamps 15 minutes off
        return [deliver(paid_b)] + [deliver(body) for body in bodies]

    def block_request(svc: Service, order_id: str) -> tuple[str, dict[str, str]]:
        entry = svc.registry.by_domain(shop)
        assert entry is not None
        key = sandbox.order(int(order_id))["order_key"]
        token = woocommerce_block_token(
            secret=entry.token_secret, shop=shop, order_id=order_id, order_key=key
        )
        return f"{svc.url}/v1/blocks/woocommerce/{shop}/{order_id}?token={token}", {}

    return Shop("woocommerce", shop, config, env, place, later, block_request)


#: The running service's URL, for the delivery closures built before it starts.
_SERVICE: list[str] = [""]


@pytest.mark.parametrize("platform", ["shopify", "woocommerce"])
def test_an_orders_timeline_ends_as_computed_by_hand_whatever_the_delivery_order(
    platform: str,
    shopify_sandbox: Any,
    woocommerce_sandbox: Any,
    tmp_path: Path,
    db_url: str,
) -> None:
    shop = (
        _shopify(shopify_sandbox, tmp_path)
        if platform == "shopify"
        else _woocommerce(woocommerce_sandbox, tmp_path)
    )
    with running_service(
        config=shop.config, db_url=db_url, env=shop.env, shopify_api_key=API_KEY
    ) as svc:
        _SERVICE[0] = svc.url
        store = svc.store
        # given order A paid, its coupons created on the platform
        a_id, paid = shop.place()
        assert paid().status_code == 200
        wait_for(
            lambda: (
                _statuses(svc, shop.domain, a_id)
                == {
                    "danke": CouponStatus.ISSUED,
                    "treue": CouponStatus.ISSUED,
                }
            )
        )
        coupons = {c.campaign_id: c for c in store.coupons_for_order(shop.domain, a_id)}
        code = coupons["treue"].code
        # when B redeems treue's code, A is fulfilled, refunded 40.00 and cancelled, and every
        # delivery (A's paid included) arrives three times in shuffled order
        deliveries = [paid, paid] + [d for d in shop.later(a_id, code, code.lower()) for _ in "abc"]
        # (TIMELINE_SEED varies the shuffle for soak runs; the default is fixed)
        seed = f"{platform}-{db_url[:6]}-{os.environ.get('TIMELINE_SEED', '')}"
        random.Random(seed).shuffle(deliveries)
        answers = [d().status_code for d in deliveries]
        wait_for(lambda: _idle(svc), timeout=60)
        statuses = _statuses(svc, shop.domain, a_id)
        books = _books(svc, shop.domain, a_id)
        redemptions = store.redemptions(shop.domain)
        url, headers = shop.block_request(svc, a_id)
        endpoint = httpx.get(url, headers=headers, timeout=30)
        entry = svc.registry.by_domain(shop.domain)
        assert entry is not None
        page = svc.processor.page(entry, svc.processor.order(entry, a_id, fresh=True))
        dead = store.jobs(status=JobStatus.DEAD)
        b_fired = (
            [
                r.decision.fired
                for r in store.decisions_for_order(shop.domain, redemptions[0].redeeming_order_id)
            ]
            if redemptions
            else []
        )
    # then every delivery was taken, nothing died
    assert set(answers) == {200}
    assert dead == []
    # danke's coupon was taken back and switched off; treue's was redeemed and stays
    assert statuses == {"danke": CouponStatus.DEACTIVATED, "treue": CouponStatus.USED}
    # the books, to the cent
    assert books == EXPECTED_BOOKS
    # one redemption: treue's code, from A to B, for 3.00
    assert [
        (r.code, r.campaign_id, r.issuing_order_id, r.amount.amount, r.reversed_at)
        for r in redemptions
    ] == [(code, "treue", a_id, Decimal("3.00"), None)]
    assert redemptions[0].redeeming_order_id != a_id
    assert b_fired == [()]
    # the content: all steps' blocks, by priority then the order's life, without danke's coupon
    assert endpoint.status_code == 200, endpoint.text
    blocks = endpoint.json()["blocks"]
    assert [(b["block"], b["campaign_id"]) for b in blocks] == EXPECTED_BLOCKS
    assert blocks[1]["data"]["code"] == code
    assert [b["data"]["url"].rsplit("/", 1)[-1] for b in blocks[2:]] == [
        "umfrage",
        "storno-umfrage",
    ]
    # and the preview page of the order shows exactly these blocks
    for block in blocks:
        assert block["html"] in page
    assert coupons["danke"].code not in page


def _statuses(svc: Service, shop: str, order_id: str) -> dict[str, CouponStatus]:
    return {c.campaign_id: c.status for c in svc.store.coupons_for_order(shop, order_id)}


def _books(svc: Service, shop: str, order_id: str) -> dict[str, tuple[Decimal, int]]:
    books: dict[str, tuple[Decimal, int]] = {}
    for e in svc.store.ledger(shop, order_id=order_id):
        cost, uses = books.get(e.campaign_id, (Decimal("0.00"), 0))
        books[e.campaign_id] = (cost + e.cost, uses + e.uses)
    return books


def _idle(svc: Service) -> bool:
    stats = svc.store.queue_stats()
    return stats.get(JobStatus.PENDING, 0) == 0 and stats.get(JobStatus.CLAIMED, 0) == 0
