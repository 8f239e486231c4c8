"""Loyalty in the service on every store behind the ports (memory, SQLite, PostgreSQL), with the
Shopify sandbox as the platform: stamp cards and their reward, bonus campaigns, points spent
before a refund, and the worker's sweep at an injected time."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from aftersale_kit.core.loyalty.ledger import MovementKind
from aftersale_kit.service.effects import Processor
from aftersale_kit.service.intake import Intake
from aftersale_kit.service.loyalty import LoyaltyError, balance, redeem, redeem_for_account
from aftersale_kit.service.loyalty import sweep as loyalty_sweep
from aftersale_kit.service.metrics import Metrics
from aftersale_kit.service.shops import default_builder, load_shops
from aftersale_kit.service.worker import Worker
from aftersale_kit.storage import CouponStatus, JobKind, JobStatus

from .harness import shopify_delivery
from .test_service_flow import FAST_RETRY

pytestmark = pytest.mark.slow

PROGRAM = """\
loyalty:
  earn:
    points_per_unit: 1
  pending_days: 14
  on_spent_refund: deactivate_coupon
  redeem:
    options:
      - {id: drei, points: 30, coupon: 3}
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
  - id: doppelt
    when: subtotal >= 100
    actions:
      - award_points: {multiplier: 2}
  - id: auch-doppelt
    when: subtotal >= 100
    actions:
      - award_points: {multiplier: 2}
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
  currency: USD
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
        self.registry = load_shops(folder, env=env, builder=default_builder(FAST_RETRY))
        self.store = store
        self.clock = Clock()
        self.processor = Processor(registry=self.registry, store=store, clock=self.clock)
        self.intake = Intake(
            registry=self.registry, store=store, processor=self.processor, metrics=Metrics()
        )
        self.worker = Worker(self.processor, threads=1, retry_base=0.01, loyalty_interval=60)

    @property
    def entry(self) -> Any:
        entry = self.registry.by_domain(self.shop)
        assert entry is not None
        return entry

    def deliver(self, topic: str, body: dict[str, Any], *, times: int = 1) -> None:
        for _ in range(times):
            headers, raw = shopify_delivery(
                topic=topic, body=body, shop=self.shop, secret=self.sandbox.secret
            )
            lowered = {k.lower(): v for k, v in headers.items()}
            assert self.intake.receive("shopify", lowered, raw).status == 200
        self.worker.run_until_idle(timeout=30)

    def paid(self, price: str, *, times: int = 2) -> str:
        order = self.sandbox.create_order(
            line_items=[{"title": "Kabel", "price": price}],
            customer={"id": 77, "first_name": "Kim", "email": "kim@example.com"},
        )
        self.deliver("orders/paid", order, times=times)
        return str(order["id"])

    def cancel(self, order_id: str) -> None:
        self.deliver("orders/cancelled", self.sandbox.cancel(order_id))

    def account_balance(self) -> Any:
        return self.store.loyalty_balance(self.shop, "77")

    def discount_status(self, code: str) -> str:
        found = [d for d in self.sandbox.discounts() if code in d["codes"]]
        assert len(found) == 1, found
        return str(found[0]["status"])


@pytest.fixture
def flow(shopify_sandbox: Any, tmp_path: Path, any_store: Any) -> Flow:
    return Flow(shopify_sandbox, tmp_path, any_store)


def _rewards(flow: Flow) -> list[Any]:
    jobs = flow.store.jobs(kind=JobKind.CREATE_COUPON)
    return [flow.store.coupon(flow.shop, j.idempotency_key) for j in jobs]


def test_the_completing_order_rewards_once_and_a_refund_deactivates_the_unused_reward(
    flow: Flow,
) -> None:
    orders = [flow.paid("25.00") for _ in range(4)]  # the fourth starts a new card
    [reward] = _rewards(flow)
    assert reward.status == CouponStatus.ISSUED and reward.code.startswith("SAMMEL")
    assert reward.order_id == orders[2]
    assert flow.discount_status(reward.code) == "ACTIVE"
    card = flow.store.loyalty_account(flow.shop, "77").cards["karte"]
    assert len(card.completions) == 1 and [s.order_id for s in card.stamps] == [orders[3]]
    # the fourth order's stamp takes the place of the first, refunded: the reward stands
    flow.cancel(orders[0])
    assert flow.store.coupon(flow.shop, reward.idempotency_key).status == CouponStatus.ISSUED
    # a second refund leaves no stamp to fill in: the unused reward is switched off
    flow.cancel(orders[1])
    assert flow.store.coupon(flow.shop, reward.idempotency_key).status == CouponStatus.DEACTIVATED
    assert flow.discount_status(reward.code) == "EXPIRED"
    card = flow.store.loyalty_account(flow.shop, "77").cards["karte"]
    assert card.completions[0].status.value == "deactivated"
    assert len(_rewards(flow)) == 1
    assert flow.store.jobs(status=JobStatus.DEAD) == []
    flow.store.loyalty_check(flow.shop)


def test_two_double_points_campaigns_double_once(flow: Flow) -> None:
    flow.paid("120.00", times=3)
    assert flow.account_balance().pending == 240
    [earned] = [
        r
        for r in flow.store.loyalty_journal(flow.shop, "77")
        if r.movement.kind is MovementKind.EARNED_PENDING
    ]
    assert earned.movement.points == 240 and earned.movement.key.startswith("earn:")


@pytest.mark.parametrize("topics", [("create", "paid"), ("paid", "create")])
def test_an_order_created_paid_earns_the_paid_steps_bonus_once(
    flow: Flow, topics: tuple[str, str]
) -> None:
    """Issue 13: orders/create already carries the paid order and earns; the double points
    campaign (trigger order_paid) decides at orders/paid; either order gives 240, once."""
    order = flow.sandbox.create_order(
        line_items=[{"title": "Kabel", "price": "120.00"}],
        customer={"id": 77, "first_name": "Kim", "email": "kim@example.com"},
    )
    for topic in topics:
        flow.deliver(f"orders/{topic}", order, times=2)
    assert flow.account_balance().pending == 240
    earned = [
        r.movement.points
        for r in flow.store.loyalty_journal(flow.shop, "77")
        if r.movement.kind is MovementKind.EARNED_PENDING
    ]
    assert sum(earned) == 240
    flow.cancel(str(order["id"]))
    assert flow.account_balance().pending == 0
    flow.store.loyalty_check(flow.shop)


def test_points_spent_before_a_refund_deactivate_the_coupon_and_come_back(flow: Flow) -> None:
    order_id = flow.paid("80.00")
    assert flow.worker.sweeper is not None
    flow.clock.now += timedelta(days=15)
    report = flow.worker.sweeper.run()
    flow.clock.now -= timedelta(days=15)  # the jobs below run at the worker's own time
    assert report.movements == 1 and flow.account_balance().available == 80
    order = flow.processor.order(flow.entry, order_id)
    done = redeem(flow.processor, flow.entry, order=order, option_id="drei", request="op-1")
    assert done.ok and done.balance is not None and done.balance.available == 50
    assert balance(flow.processor, flow.entry, order=order).available == 50
    flow.worker.run_until_idle(timeout=30)
    assert flow.discount_status(done.code or "") == "ACTIVE"
    flow.cancel(order_id)
    assert flow.discount_status(done.code or "") == "EXPIRED"
    assert flow.account_balance().available == 0
    kinds = [r.movement.kind for r in flow.store.loyalty_journal(flow.shop, "77")]
    assert kinds[-2:] == [MovementKind.REVERSED, MovementKind.ADJUSTED]
    assert flow.store.jobs(status=JobStatus.DEAD) == []
    flow.store.loyalty_check(flow.shop)


def test_an_operator_redemption_creates_one_coupon_bound_to_the_customer(flow: Flow) -> None:
    flow.paid("80.00")
    flow.clock.now += timedelta(days=15)
    loyalty_sweep(flow.processor)
    flow.clock.now -= timedelta(days=15)
    assert flow.account_balance().available == 80
    done = redeem_for_account(
        flow.processor, flow.entry, email="KIM@example.com", option_id="drei", request="op-1"
    )
    again = redeem_for_account(
        flow.processor, flow.entry, customer_id="77", option_id="drei", request="op-1"
    )
    assert done.ok and not done.repeated and done.points == 30
    assert again.ok and again.repeated and again.code == done.code
    assert flow.account_balance().available == 50
    [job] = flow.store.jobs(kind=JobKind.CREATE_LOYALTY_COUPON)
    flow.worker.run_until_idle(timeout=30)
    assert flow.store.coupon(flow.shop, job.idempotency_key).status == CouponStatus.ISSUED
    [discount] = [d for d in flow.sandbox.discounts() if done.code in d["codes"]]
    assert discount["status"] == "ACTIVE" and "Customer/77" in str(discount["context"])
    with pytest.raises(LoyaltyError, match="no loyalty account '78'"):
        redeem_for_account(
            flow.processor, flow.entry, customer_id="78", option_id="drei", request="op-2"
        )
    assert flow.store.jobs(status=JobStatus.DEAD) == []
    flow.store.loyalty_check(flow.shop)


def test_a_guest_order_has_no_account_to_redeem_from(flow: Flow) -> None:
    order = flow.sandbox.create_order(
        line_items=[{"title": "Kabel", "price": "25.00"}], customer=None
    )
    flow.deliver("orders/paid", order)
    fetched = flow.processor.order(flow.entry, str(order["id"]))
    with pytest.raises(LoyaltyError, match="guest"):
        redeem(flow.processor, flow.entry, order=fetched, option_id="drei", request="x")
    assert flow.store.loyalty_accounts(flow.shop) == []
