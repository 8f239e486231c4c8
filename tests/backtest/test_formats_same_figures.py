"""Issue 15's acceptance: a Shopify orders CSV export, a bulk-operation JSON Lines file and a
WooCommerce JSON page set of the same 1,000 synthetic orders give the same report figures.

The config reads what every format carries (amounts, the customer) and books a per-customer
limit, a budget per month that runs out, a cooldown, a usage limit and a take-back on refunds;
the figures are compared as the report's JSON writes them. What a format cannot carry is left
out of the comparison, and pinned separately: Shopify's CSV export has a refund only as the
order's refunded total, without a date (docs/backtest-inputs.md), so the number of refund
events differs and a campaign that takes its offer back on a refund frees its budget at another
time: the CSV's figures equal those of the same orders read from the bulk operation without
refund dates; and the order number is shown as each platform writes it (``#1001`` on Shopify,
``1001`` on WooCommerce).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from aftersale_kit.backtest.command import run_backtest
from aftersale_kit.backtest.generate import FORMATS, OUTPUTS, generate, write
from aftersale_kit.backtest.history import HistoryOrder
from aftersale_kit.backtest.readers import read_orders
from aftersale_kit.backtest.report.json_csv import result_json
from aftersale_kit.evaluation import load_shop_config

CONFIG = """\
version: 1
shop:
  platform: shopify
  domain: test-roesterei.myshopify.com
  currency: EUR
  locale: de_DE
  timezone: Europe/Berlin
campaigns:
  - id: danke
    when: subtotal >= 40
    budget: {amount: 60, period: month}
    on_refund: revoke
    actions:
      - issue_coupon: {type: fixed_amount, value: 5, valid_days: 30}
  - id: grosse-bestellung
    priority: 10
    when: total >= 80
    per_customer: {max: 2}
    on_refund: keep
    actions:
      - issue_coupon: {type: percentage, value: 10, valid_days: 60}
  - id: stammkunden-pause
    when: total >= 30
    per_customer: {cooldown_days: 60}
    usage_limit: 150
    on_refund: keep
    actions:
      - issue_coupon: {type: fixed_amount, value: 3, valid_days: 30}
"""


def _figures(data: dict[str, Any]) -> dict[str, Any]:
    """The report's figures without what a format cannot carry (see the module docstring)."""
    kept = {k: v for k, v in data.items() if k not in ("config", "bad_rows", "events")}
    kept["top_orders"] = [{**o, "number": None} for o in data["top_orders"]]
    return kept


def _undated(orders: Iterable[HistoryOrder]) -> Iterator[HistoryOrder]:
    """The orders as Shopify's CSV export carries them: refunds without their dates."""
    for h in orders:
        refunds = tuple(replace(r, created_at=None) for r in h.order.refunds)
        yield replace(h, order=replace(h.order, refunds=refunds))


@pytest.mark.slow
def test_three_formats_of_the_same_orders_give_the_same_figures(tmp_path: Path) -> None:
    # given: 1,000 generated orders written once in every format, and one shop config
    out = tmp_path / "orders"
    assert write(generate(count=1000, customers=250, seed=5), FORMATS, out, gz=False) == 1000
    (tmp_path / "shop.yaml").write_text(CONFIG, encoding="utf-8")
    config = load_shop_config(tmp_path / "shop.yaml")
    zone = ZoneInfo("Europe/Berlin")
    rate = Decimal("0.5")

    def figures(fmt: str, *, dated: bool = True) -> dict[str, Any]:
        path = out / OUTPUTS[fmt]
        if dated:
            result = run_backtest(config, [str(path)], redemption_rate=rate, fmt=fmt)
        else:
            read = partial(read_orders, [str(path)], shop=config.settings.domain,
                           currency=config.settings.currency, fmt=fmt)  # fmt: skip
            source = lambda bad: _undated(read(on_bad=bad))  # noqa: E731
            result = run_backtest(config, [], redemption_rate=rate, source=source)
        assert result.bad_count == 0, fmt
        return _figures(result_json(result, zone))

    # when: the same backtest over each format
    bulk, woo, csv = figures("shopify-bulk"), figures("woo-json"), figures("shopify-csv")
    # then: the bulk operation and the WooCommerce pages (both with refund dates) agree in
    # every figure, and they are not trivially empty: every campaign fired, a budget ran out,
    # refunds took offers back
    assert woo == bulk
    fired = {c["campaign_id"]: c["orders"] for c in bulk["campaigns"]}
    assert all(n > 0 for n in fired.values()), fired
    assert any(b["refused"] for c in bulk["campaigns"] for b in c["budget"])
    assert any(c["taken_back"] for c in bulk["campaigns"])
    assert bulk["first_order"].startswith("2025-01-01T")  # in the shop's time zone
    assert bulk["first_order"].endswith("+01:00")
    # and the CSV export gives the same figures as the bulk operation read without refund
    # dates (what the CSV lacks): everything else it carries is read alike
    assert csv == figures("shopify-bulk", dated=False)
    assert csv != bulk  # the refund dates do matter to a campaign that takes back on refunds
