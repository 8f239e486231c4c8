"""The generator's electronics catalogue and ``--products``: WooCommerce order lines carry no
categories, so the electronics example's category campaigns fire in a backtest only with the
product file, in the demo as on the command line; a bad product file is named with the fix."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path

import pytest

from aftersale_kit.backtest.command import run_backtest
from aftersale_kit.backtest.generate import generate, write, write_products
from aftersale_kit.backtest.products import load_products
from aftersale_kit.cli import main
from aftersale_kit.demo_backtest import DemoHistory, backtest_examples
from aftersale_kit.evaluation import load_shop_config

ROOT = Path(__file__).resolve().parents[2]
ELECTRONICS = ROOT / "examples" / "elektronik-woocommerce" / "shop.yaml"
#: The example's campaigns on categories (order lines alone never say which).
CATEGORY_CAMPAIGNS = ("zusatz-akku", "service-check", "zubehoer-stempel")
SMALL = DemoHistory(count=400, customers=120, seed=3)


@pytest.mark.slow
def test_the_electronics_demo_backtest_costs_something_for_its_smartphone_campaign(
    tmp_path: Path,
) -> None:
    # given the electronics example shop and a small generated history of its products
    config = load_shop_config(ELECTRONICS)
    out = io.StringIO()
    # when the demo backtests it
    (page,) = backtest_examples([(ELECTRONICS, config)], out=out, out_dir=tmp_path, history=SMALL)
    run = json.loads((page.parent / "backtest.json").read_text(encoding="utf-8"))["runs"][0]
    campaigns = {c["campaign_id"]: c for c in run["campaigns"]}
    # then the free gift to new smartphones cost money, and every category campaign fired
    assert Decimal(campaigns["zusatz-akku"]["expected_cost"]) > 0
    assert all(campaigns[c]["orders"] > 0 for c in CATEGORY_CAMPAIGNS)
    # and the summary line says so with the orders it fired on
    (line,) = [x for x in out.getvalue().splitlines() if x.startswith("  zusatz-akku ")]
    assert f"{campaigns['zusatz-akku']['orders']} Bestellungen" in line
    assert not line.rstrip().endswith(" 0,00 €")


@pytest.mark.slow
def test_without_the_product_file_no_category_campaign_fires(tmp_path: Path) -> None:
    # given the same kind of history as WooCommerce REST pages, and its product file
    config = load_shop_config(ELECTRONICS)
    orders = generate(count=300, customers=100, seed=5, catalogue="electronics")
    write(orders, ("woo-json",), tmp_path)
    products = load_products(write_products("electronics", tmp_path / "products.json"))
    pages = str(tmp_path / "woo-pages")
    # when it is replayed with and without the products
    rate = Decimal("0.5")
    with_file = run_backtest(config, [pages], redemption_rate=rate, products=products)
    without = run_backtest(config, [pages], redemption_rate=rate)
    fired = {c.campaign_id: c.orders for c in with_file.campaigns}
    bare = {c.campaign_id: c.orders for c in without.campaigns}
    # then only the product file lets the category campaigns fire
    assert all(fired[c] > 0 for c in CATEGORY_CAMPAIGNS)
    assert all(bare[c] == 0 for c in CATEGORY_CAMPAIGNS)
    # and a campaign on titles fires either way (less often beside the smartphone gift, which
    # wins their exclusive group)
    assert 0 < fired["gratis-kopfhoerer"] <= bare["gratis-kopfhoerer"]


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ('{"products": {"SP-1": {"kategorien": ["x"]}}}', "products.SP-1.kategorien: unknown"),
        ('{"products": {"SP-1": {"categories": "x"}}}', "expected a list of texts"),
        ('{"SP-1": {"categories": ["x"]}}', 'expected a JSON object with "products"'),
        ('{"products": {', "products.json:1"),
    ],
)
def test_a_bad_product_file_is_named_with_what_to_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, says: str
) -> None:
    # given a product file with a mistake
    path = tmp_path / "products.json"
    path.write_text(content, encoding="utf-8")
    orders = tmp_path / "orders.jsonl"
    orders.write_text("", encoding="utf-8")
    # when the backtest is run with it
    code = main(["backtest", str(ELECTRONICS), str(orders), "--products", str(path)])
    # then it stops with the file and what is wrong, not a traceback
    err = capsys.readouterr().err
    assert code == 2
    assert f"--products: {path}" in err and says in err
    assert "Traceback" not in err


def test_the_generator_writes_the_electronics_catalogue_and_its_product_file(
    tmp_path: Path,
) -> None:
    # given the generator asked for the electronics catalogue and its product file
    from aftersale_kit.backtest.generate import main as generate_main
    from aftersale_kit.backtest.readers import read_orders

    products = tmp_path / "products.json"
    out = tmp_path / "orders"
    code = generate_main(
        ["--count", "60", "--format", "woo-jsonl", "--out", str(out), "--catalogue",
         "electronics", "--products", str(products)]
    )  # fmt: skip
    # then every ordered SKU is in the product file with its categories, and the orders read
    assert code == 0
    facts = load_products(products)
    orders = list(read_orders([str(out)], shop="s", currency="EUR", on_bad=pytest.fail))
    skus = {li.sku for h in orders for li in h.order.line_items}
    assert len(orders) == 60 and skus and skus <= set(facts)
    assert "smartphones" in {c for sku in skus for c in facts[sku]["categories"]}
