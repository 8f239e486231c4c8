"""Content writes converge: a worker whose write raced with a change of the order's timeline
writes again, so the platform never keeps content older than the last change.

The platform here is a hand-written fake of the port (only the two calls a content job makes):
the race needs a change to land exactly between the job's read and its write, which a sandbox
cannot be told to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from aftersale_kit.core.model import Customer, EventKind, FinancialStatus, Order
from aftersale_kit.core.money import Money
from aftersale_kit.core.platform import ConfirmationContent
from aftersale_kit.service.effects import Processor
from aftersale_kit.service.shops import ShopEntry, load_shops
from aftersale_kit.storage import JobKind

from .harness import STORES, open_store

DOMAIN = "race-shop.myshopify.com"
ENV = {"RACE_WEBHOOK_SECRET": "whsec-race", "RACE_CODE_SECRET": "code-race"}
SHOP_FILE = f"""\
version: 1
shop:
  platform: shopify
  domain: {DOMAIN}
  currency: EUR
  secrets:
    webhook_secret: RACE_WEBHOOK_SECRET
    code_secret: RACE_CODE_SECRET
campaigns:
  - id: danke
    actions:
      - issue_coupon: {{type: fixed_amount, value: 5, valid_days: 30, code_prefix: DANKE}}
      - show_block: coupon
      - show_block: {{block: thank_you, params: {{headline: Danke}}}}
"""
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
EUR = Money.of("60.00", "EUR")
ORDER = Order(
    platform="shopify",
    shop=DOMAIN,
    id="7001",
    number="#7001",
    currency="EUR",
    created_at=NOW,
    financial_status=FinancialStatus.PAID,
    subtotal=EUR,
    total=EUR,
    discounts=Money.zero("EUR"),
    shipping=Money.zero("EUR"),
    tax=Money.zero("EUR"),
    customer=Customer(id="c1"),
)


@dataclass
class RacingPlatform:
    """Fetches the order; on its first content write, the order is cancelled meanwhile."""

    processor: list[Processor] = field(default_factory=list)
    entry: list[ShopEntry] = field(default_factory=list)
    written: list[ConfirmationContent] = field(default_factory=list)

    def fetch_order(self, order_id: str) -> Order:
        return ORDER

    def write_content(self, order: Order, content: ConfirmationContent) -> None:
        self.written.append(content)
        if len(self.written) == 1:  # another worker takes the order back right now
            cancelled = replace(ORDER, cancelled_at=NOW, financial_status=FinancialStatus.VOIDED)
            self.processor[0].process_order(self.entry[0], cancelled, EventKind.ORDER_CANCELLED)


@pytest.mark.parametrize("kind", STORES)
def test_a_write_that_raced_with_a_take_back_is_written_again(tmp_path: Path, kind: str) -> None:
    (tmp_path / "shop.yaml").write_text(SHOP_FILE, encoding="utf-8")
    platform = RacingPlatform()
    fake: Any = platform
    registry = load_shops(tmp_path / "shop.yaml", env=ENV, builder=lambda _entry: fake)
    (entry,) = registry
    with open_store(kind, tmp_path) as store:
        processor = Processor(registry=registry, store=store, clock=lambda: NOW)
        platform.processor.append(processor)
        platform.entry.append(entry)
        # given the paid order decided: a coupon and its block, a thank-you block
        processor.process_order(entry, ORDER, EventKind.ORDER_PAID)
        [job] = store.claim(worker_id="w", kinds=[JobKind.WRITE_CONTENT])
        # when its content job runs and the order is cancelled between its read and its write
        processor.write_content(job)
        stored = store.load_blocks(DOMAIN, "7001")
    # then it wrote twice, and what stays on the platform and in the store has no coupon
    assert [[b["type"] for b in c.blocks] for c in platform.written] == [
        ["coupon", "thank_you"],
        ["thank_you"],
    ]
    assert stored is not None
    assert [b["block"] for b in stored["blocks"]] == ["thank_you"]
