"""``customer.care_cost_share`` filled in by the service from what the store recorded: a campaign
for customers whose care costs less than 30% of their margin stops firing once a customer's
redeemed codes pass that share, fires for a new customer, and says the value it judged by; on
the memory store, SQLite and PostgreSQL.

By hand (default margin 30%, 40.00 of goods an order: 12.00 margin, 7.00 with a 5.00 code):
anna's first order 0/12 fires, the second (redeeming the first's code) 5/19 = 0.2632 fires, the
third (redeeming the second's) 10/26 = 0.3846 does not; bert's first 0/12 fires. With a service
check sent to bert (2.50 each) his next order is 2.50/24 = 0.1042.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from aftersale_kit.core.decision import Reason
from aftersale_kit.core.model import Customer, EventKind, FinancialStatus, LineItem, Order
from aftersale_kit.core.money import Money
from aftersale_kit.results.care_inputs import customer_care_of
from aftersale_kit.results.collect import shop_results
from aftersale_kit.service.effects import Processor
from aftersale_kit.service.shops import load_shops
from aftersale_kit.storage.message_records import MessageOutcome, MessageState, NewMessage

SHOP = "pflege.myshopify.com"
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
ENV = {
    "SHOP_WEBHOOK_SECRET": "whsec-" + secrets.token_hex(12),
    "SHOP_API_TOKEN": "token-" + secrets.token_hex(8),
    "SHOP_CODE_SECRET": "code-" + secrets.token_hex(12),
}
CONFIG = f"""version: 1
shop:
  platform: shopify
  domain: {SHOP}
  currency: EUR
  api_base_url: http://127.0.0.1:9
  api_version: "2026-01"
  care: {{min_orders: 1, service_check_cost: 2.50}}
  secrets:
    webhook_secret: SHOP_WEBHOOK_SECRET
    api_token: SHOP_API_TOKEN
    code_secret: SHOP_CODE_SECRET
campaigns:
  - id: pflege
    when: ["customer.care_cost_share < 0.3"]
    actions:
      - issue_coupon: {{type: fixed_amount, value: 5, valid_days: 30, code_prefix: PFLEGE}}
"""


class Shop:
    def __init__(self, store: Any, tmp_path: Path) -> None:
        (tmp_path / "shop.yaml").write_text(CONFIG, encoding="utf-8")
        registry = load_shops(tmp_path / "shop.yaml", env=ENV)
        entry = registry.by_domain(SHOP)
        assert entry is not None
        self.entry = entry
        self.processor = Processor(registry=registry, store=store)
        self.store = store
        self.placed = 0
        self.codes: dict[str, str] = {}

    def buy(self, customer_id: str) -> Any:
        """A paid order of 40.00 of goods, using the customer's last code if they have one."""
        self.placed += 1
        at = START + timedelta(days=self.placed)
        code = self.codes.pop(customer_id, None)
        off = Money.of("5.00" if code else "0.00", "EUR")
        goods = Money.of("40.00", "EUR")
        order = Order(
            platform="shopify",
            shop=SHOP,
            id=f"o-{self.placed}",
            number=f"#{self.placed}",
            currency="EUR",
            created_at=at,
            paid_at=at,
            financial_status=FinancialStatus.PAID,
            subtotal=Money(goods.amount - off.amount, "EUR"),
            total=Money(goods.amount - off.amount, "EUR"),
            discounts=off,
            shipping=Money.zero("EUR"),
            tax=Money.zero("EUR"),
            line_items=(LineItem(id="l1", title="Tee", quantity=1, unit_price=goods),),
            customer=Customer(id=customer_id, email=f"{customer_id}@example.de"),
            discount_codes=(code,) if code else (),
            code_discounts=((code, off),) if code else (),
        )
        result = self.processor.step(self.entry, order, EventKind.ORDER_PAID, now=at)
        for planned in result.record.decision.actions:
            if planned.coupon_code:
                self.codes[customer_id] = planned.coupon_code
        [outcome] = result.record.decision.outcomes
        return outcome


def test_a_care_cost_condition_reads_the_stores_records(any_store: Any, tmp_path: Path) -> None:
    shop = Shop(any_store, tmp_path)
    # when anna keeps buying and redeeming the 5.00 code each time
    anna = [shop.buy("anna") for _ in range(3)]
    # then the campaign fires while her share is below 0.3, and stops once it passes
    assert [o.fired for o in anna] == [True, True, False]
    assert anna[0].detail.endswith("; customer.care_cost_share is 0.0000")
    assert anna[1].detail.endswith("; customer.care_cost_share is 0.2632")
    assert anna[2].reason is Reason.CONDITION_FAILED
    assert anna[2].detail == (
        "condition 1 `customer.care_cost_share < 0.3` is false (customer.care_cost_share is 0.3846)"
    )
    # and a new customer gets the offer
    bert = shop.buy("bert")
    assert bert.fired and bert.detail.endswith("; customer.care_cost_share is 0.0000")
    # and a service check sent to bert counts at its configured cost
    _send_service_check(any_store, "bert", at=START + timedelta(days=4, hours=1))
    shop.codes.pop("bert")
    again = shop.buy("bert")
    assert again.detail.endswith("; customer.care_cost_share is 0.1042")
    # and the report's care figures say the same, from one read of each kind of record
    until = START + timedelta(days=30)
    care = shop_results(any_store, shop.entry.config, since=START, until=until, now=until).care
    assert (care.customers, care.cost, care.margin) == (2, Decimal("12.50"), Decimal("50.00"))
    assert [(c.customer, c.orders, c.cost, c.share) for c in care.top] == [
        ("anna", 3, Decimal("10.00"), Decimal("0.3846")),
        ("bert", 2, Decimal("2.50"), Decimal("0.1042")),
    ]
    for c in care.top:
        assert customer_care_of(any_store, shop.entry.config, c.customer, until=until) == c


def _send_service_check(store: Any, customer: str, *, at: datetime) -> None:
    store.plan_messages(
        [
            NewMessage(
                shop=SHOP,
                key=f"check-{customer}",
                order_id="o-4",
                customer_key=customer,
                email=f"{customer}@example.de",
                campaign_id="service",
                occurrence=0,
                kind="service_reminder",
                template="service_reminder",
                purpose="service",
                data={},
                due_at=at,
            )
        ],
        now=at,
    )
    [claimed] = store.claim_messages(worker_id="w", now=at, limit=1)
    sent = MessageOutcome(
        state=MessageState.SENT, message_id="<m@example.de>", reply="250 ok", sent_at=at
    )
    assert store.finish_message(claimed.id, worker_id="w", outcome=sent, now=at)
