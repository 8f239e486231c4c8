"""The report's per-campaign figures against a count of our own from the decisions the replay
made (its ``on_step`` records): orders reached, customers reached, coupons and gifts planned,
face value. An outside check of the tally over a generated history and the example shop."""

from __future__ import annotations

import subprocess
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from aftersale_kit.backtest.history import BadRow, HistoryOrder
from aftersale_kit.backtest.readers import read_orders
from aftersale_kit.backtest.replay import StepRecord, replay
from aftersale_kit.core.campaign import FreeGift, IssueCoupon
from aftersale_kit.core.engine import customer_key
from aftersale_kit.evaluation import load_shop_config, trial_code_secret

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_per_campaign_figures_equal_a_count_from_the_decisions(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "aftersale_kit.backtest.generate", "--count", "400",
         "--customers", "80", "--format", "shopify-bulk", "--out", str(tmp_path), "--seed", "4"],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    config = load_shop_config(str(ROOT / "examples" / "kaffeeroesterei-shopify" / "shop.yaml"))
    bad: list[BadRow] = []
    orders: list[HistoryOrder] = list(
        read_orders(
            [str(tmp_path / "bulk-orders.jsonl")],
            shop=config.settings.domain,
            currency=config.settings.currency,
            on_bad=bad.append,
        )
    )
    assert not bad and len(orders) == 400
    who = {h.order.id: customer_key(h.order) for h in orders}
    steps: list[StepRecord] = []
    result = replay(
        config,
        orders,
        code_secret=trial_code_secret(config),
        redemption_rate=Decimal("0.25"),
        on_step=steps.append,
    )
    reached: dict[str, set[str]] = defaultdict(set)
    coupons: dict[str, int] = defaultdict(int)
    gifts: dict[str, int] = defaultdict(int)
    face: dict[str, Decimal] = defaultdict(Decimal)
    for step in steps:
        for planned in step.decision.actions:
            cid = planned.campaign_id
            reached[cid].add(step.order_id)
            coupons[cid] += isinstance(planned.action, IssueCoupon)
            gifts[cid] += isinstance(planned.action, FreeGift)
            if isinstance(planned.action, IssueCoupon | FreeGift):
                face[cid] += planned.cost.amount
    assert sum(c.orders for c in result.campaigns) > 0  # something fired: the check can fail
    for c in result.campaigns:
        customers = {who[o] for o in reached[c.campaign_id] if who[o] is not None}
        assert (c.orders, c.customers, c.coupons, c.gifts) == (
            len(reached[c.campaign_id]),
            len(customers),
            coupons[c.campaign_id],
            gifts[c.campaign_id],
        ), c.campaign_id
        if not c.points:  # points are priced at a point's value, not counted here
            assert c.face_value == face[c.campaign_id], c.campaign_id
