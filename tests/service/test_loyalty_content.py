"""The loyalty blocks and the customer's balance on the platform follow the ledger.

On every store behind the ports (memory, SQLite, PostgreSQL) with the Shopify sandbox: an order
of 80.00 for customer 77 earns 80 points, pending 14 days. Written by hand from the program:

* the block endpoint's stored blocks and the content written to the order show 80 points, a
  balance of 0 with 80 pending, one stamp of 3 and 20.00 missing to Silber (100);
* a refund of 40.00 takes back 40: both show 40 points and 40 pending, and the stamp stays
  (the order still has 40.00 >= 20);
* the sweep 15 days later releases them: both show 40 available, redeemable now;
* the customer's metafield holds the balance after each change, written once per change; a
  burst of movements before the worker runs ends in one write.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from aftersale_kit.service.effects import Processor
from aftersale_kit.service.intake import Intake
from aftersale_kit.service.metrics import Metrics
from aftersale_kit.service.shops import default_builder, load_shops
from aftersale_kit.service.worker import Worker
from aftersale_kit.storage import JobKind, JobStatus

from .harness import shopify_delivery
from .test_service_flow import FAST_RETRY

pytestmark = pytest.mark.slow

PROGRAM = """\
loyalty:
  guests: email
  earn:
    points_per_unit: 1
  pending_days: 14
  tiers:
    basis: spend
    window_months: 12
    levels:
      - {name: Silber, from: 100, multiplier: 1.5}
  redeem:
    options:
      - {id: fuenf, points: 50, coupon: 5}
  stamp_cards:
    - id: karte
      name: Sammelkarte
      when: subtotal >= 20
      stamps: 3
      reward:
        - issue_coupon: {type: fixed_amount, value: 15, valid_days: 60, code_prefix: SAMMEL}
campaigns:
  - id: stempel
    actions:
      - stamp: karte
  - id: treue
    actions:
      - show_block: loyalty_points
      - show_block: loyalty_balance
      - show_block: loyalty_tier
      - show_block: stamp_card
"""


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


class Flow:
    def __init__(self, sandbox: Any, tmp_path: Path, store: Any) -> None:
        folder = tmp_path / "shops"
        folder.mkdir(parents=True, exist_ok=True)
        env = {
            "SHOP_WEBHOOK_SECRET": sandbox.secret,
            "SHOP_API_TOKEN": sandbox.token,
            "SHOP_CODE_SECRET": "code-" + secrets.token_hex(12),
        }
        (folder / "shop.yaml").write_text(
            f"""version: 1
shop:
  platform: shopify
  domain: {sandbox.shop_domain}
  currency: EUR
  locale: de_DE
  api_base_url: {sandbox.url}
  api_version: "2026-01"
  secrets:
    webhook_secret: SHOP_WEBHOOK_SECRET
    api_token: SHOP_API_TOKEN
    code_secret: SHOP_CODE_SECRET
{PROGRAM}""",
            encoding="utf-8",
        )
        self.sandbox = sandbox
        self.shop = sandbox.shop_domain
        registry = load_shops(folder, env=env, builder=default_builder(FAST_RETRY))
        self.store = store
        self.clock = Clock()
        self.processor = Processor(registry=registry, store=store, clock=self.clock)
        self.intake = Intake(
            registry=registry, store=store, processor=self.processor, metrics=Metrics()
        )
        self.worker = Worker(self.processor, threads=1, retry_base=0.01, loyalty_interval=60)

    def receive(self, topic: str, body: dict[str, Any]) -> None:
        headers, raw = shopify_delivery(
            topic=topic, body=body, shop=self.shop, secret=self.sandbox.secret
        )
        lowered = {k.lower(): v for k, v in headers.items()}
        assert self.intake.receive("shopify", lowered, raw).status == 200

    def deliver(self, topic: str, body: dict[str, Any]) -> None:
        self.receive(topic, body)
        self.worker.run_until_idle(timeout=30)

    def order(self, price: str) -> dict[str, Any]:
        return dict(
            self.sandbox.create_order(
                line_items=[{"title": "Kabel", "price": price}],
                currency="EUR",
                customer={"id": 77, "first_name": "Kim", "email": "kim@example.com"},
            )
        )

    def stored(self, order_id: str) -> dict[str, dict[str, Any]]:
        """The block endpoint's stored blocks: block name -> its data."""
        raw = self.store.blocks_json(self.shop, order_id)
        assert raw is not None
        return {b["block"]: b["data"] for b in json.loads(raw)["blocks"]}

    def written(self, order_id: str) -> dict[str, dict[str, Any]]:
        """The content written to the order on the platform: block type -> its fields."""
        owner = f"gid://shopify/Order/{order_id}"
        [value] = [
            m["value"]
            for m in self.sandbox.metafields()
            if m["owner_id"] == owner and m["key"] == "blocks"
        ]
        return {b["type"]: b for b in json.loads(value)["blocks"]}

    def customer_loyalty(self) -> list[dict[str, Any]]:
        return [
            json.loads(m["value"])
            for m in self.sandbox.metafields()
            if m["owner_id"] == "gid://shopify/Customer/77" and m["key"] == "loyalty"
        ]

    def customer_writes(self) -> int:
        return sum(
            1
            for r in self.sandbox.api_requests()
            if "metafieldsSet" in str(r.get("query"))
            and "Customer/77" in json.dumps(r.get("variables"))
        )


@pytest.fixture
def flow(shopify_sandbox: Any, tmp_path: Path, any_store: Any) -> Flow:
    return Flow(shopify_sandbox, tmp_path, any_store)


def _figures(blocks: dict[str, dict[str, Any]]) -> tuple[Any, ...]:
    points, balance = blocks["loyalty_points"], blocks["loyalty_balance"]
    card, tier = blocks["stamp_card"], blocks["loyalty_tier"]
    return (
        points["points"],
        points["pending_days"],
        balance["balance"],
        balance["pending"],
        card["stamps"],
        Decimal(tier["missing"]),
    )


def test_the_loyalty_blocks_show_the_ledger_and_follow_a_refund_and_a_release(
    flow: Flow,
) -> None:
    order = flow.order("80.00")
    order_id = str(order["id"])
    flow.deliver("orders/paid", order)
    paid = (_figures(flow.stored(order_id)), _figures(flow.written(order_id)))
    writes_paid = flow.customer_writes()
    flow.deliver("refunds/create", flow.sandbox.refund(order_id, amount="40.00"))
    refunded = (_figures(flow.stored(order_id)), _figures(flow.written(order_id)))
    assert flow.worker.sweeper is not None
    flow.clock.now += timedelta(days=15)
    flow.worker.sweeper.run()
    flow.worker.run_until_idle(timeout=30)
    released = (_figures(flow.stored(order_id)), _figures(flow.written(order_id)))
    text = flow.stored(order_id)["loyalty_points"]
    assert paid == ((80, 14, 0, 80, 1, Decimal(20)),) * 2
    assert refunded == ((40, 14, 0, 40, 1, Decimal(60)),) * 2
    assert released == ((40, 0, 40, 0, 1, Decimal(60)),) * 2
    assert text["text"] == "Your points can be redeemed right away."
    # the customer's balance on the platform: one document, the latest, one write per change
    [document] = flow.customer_loyalty()
    assert (document["balance"], document["pending"], document["tier"]) == (40, 0, None)
    assert document["next_tier"] == "Silber" and Decimal(document["to_next_tier"]) == 60
    assert writes_paid == 1 and flow.customer_writes() == 3
    assert flow.store.jobs(status=JobStatus.DEAD) == []


def test_a_burst_of_movements_ends_in_one_write_of_the_latest_balance(flow: Flow) -> None:
    # three paid orders arrive before the worker runs: three movements, three jobs
    for price in ("30.00", "40.00", "50.00"):
        flow.receive("orders/paid", flow.order(price))
    flow.worker.run_until_idle(timeout=30)
    jobs = flow.store.jobs(kind=JobKind.WRITE_CUSTOMER_LOYALTY)
    [document] = flow.customer_loyalty()
    assert len(jobs) == 3 and {j.status for j in jobs} == {JobStatus.DONE}
    assert flow.customer_writes() == 1
    assert (document["balance"], document["pending"]) == (0, 120)
    assert (document["tier"], document["next_tier"]) == ("Silber", None)


def test_a_guest_account_queues_no_customer_write(flow: Flow) -> None:
    order = flow.sandbox.create_order(
        line_items=[{"title": "Kabel", "price": "25.00"}],
        currency="EUR",
        customer=None,
        email="gast@example.com",
    )
    flow.deliver("orders/paid", order)
    assert flow.store.loyalty_accounts(flow.shop) == ["email:gast@example.com"]
    assert flow.store.loyalty_balance(flow.shop, "email:gast@example.com").pending == 25
    assert flow.store.jobs(kind=JobKind.WRITE_CUSTOMER_LOYALTY) == []
    assert flow.customer_writes() == 0


@pytest.mark.parametrize("platform", ["shopify", "woocommerce"])
def test_both_sandboxes_hold_the_customers_balance_after_a_paid_order(
    platform: str, shopify_sandbox: Any, woocommerce_sandbox: Any, tmp_path: Path, db_url: str
) -> None:
    # over real HTTP: an order of 2 x 40.00 earns 80 pending points; Gold needs 100 spent
    from .harness import running_service, wait_for
    from .test_loyalty_flow import _SERVICE, API_KEY, _idle, _shop

    shop = _shop(platform, shopify_sandbox, woocommerce_sandbox, tmp_path)
    with running_service(
        config=shop.config, db_url=db_url, env=shop.env, shopify_api_key=API_KEY
    ) as svc:
        _SERVICE[0] = svc.url
        _, deliveries = shop.place("ada")
        for delivery in deliveries:
            assert delivery().status_code == 200
        wait_for(lambda: _idle(svc), timeout=60)
        [account] = svc.store.loyalty_accounts(shop.domain)
    if platform == "shopify":
        owner = f"gid://shopify/Customer/{account}"
        documents = [
            json.loads(m["value"])
            for m in shopify_sandbox.metafields()
            if m["owner_id"] == owner and m["key"] == "loyalty"
        ]
    else:
        from aftersale_kit_woocommerce.adapter import LOYALTY_META_KEY

        documents = [
            json.loads(r["value"])
            for r in woocommerce_sandbox.customer_meta(int(account))
            if r["key"] == LOYALTY_META_KEY
        ]
    [document] = documents
    assert (document["balance"], document["pending"], document["tier"]) == (0, 80, None)
    assert document["next_tier"] == "Gold" and Decimal(document["to_next_tier"]) == 20
