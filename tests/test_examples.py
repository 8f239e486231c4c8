"""The examples cannot rot: every config validates, every order is decided, and together they use
every feature (every block, action, trigger beyond order_paid, limit and key of the format)."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from aftersale_kit.cli import DEMO_CODE_SECRET, evaluate_payload, load_shop_config, read_json_file
from aftersale_kit.core.blocks import BLOCKS
from aftersale_kit.core.campaign import FreeGift, IssueCoupon, ShowBlock, TagOrder
from aftersale_kit.core.contact.follow_up import FollowUp
from aftersale_kit.core.contact.presale import VipPresale
from aftersale_kit.core.counters import InMemoryCounters
from aftersale_kit.core.decision import Decision, Reason
from aftersale_kit.core.loyalty.actions import AwardPoints, Stamp
from aftersale_kit.core.model import EventKind
from aftersale_kit.core.normalize import guess_platform
from aftersale_kit.core.schema import config_json_schema
from aftersale_kit.demo import main as demo_main
from aftersale_kit.demo import run_shop

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SHOPS = sorted(EXAMPLES.glob("*/shop.yaml"))
ORDERS = sorted(EXAMPLES.glob("*/orders/*.json"))

# Keys of the format that the examples need not use, and why.
UNUSED_KEYS = {
    "conditions": "another name for when",
    "api_base_url": "a sandbox override; shown commented out in elektronik-woocommerce",
    "api_token": "the legacy static token (auth method token); the README's legacy-apps note",
}


def decide_all(shop: Path) -> list[Decision]:
    """Every order of one example shop, in file order, against shared counters."""
    config = load_shop_config(shop)
    counters = InMemoryCounters()
    decisions = []
    for order_path in sorted((shop.parent / "orders").glob("*.json")):
        enrichment = shop.parent / "enrichment" / order_path.name
        order, decision = evaluate_payload(
            config,
            read_json_file(order_path),
            enrichment=read_json_file(enrichment) if enrichment.exists() else None,
            code_secret=DEMO_CODE_SECRET,
            counters=counters,
        )
        counters.record(decision, order)
        decisions.append(decision)
    return decisions


def test_there_are_two_shops_on_two_platforms() -> None:
    assert [p.parent.name for p in SHOPS] == ["elektronik-woocommerce", "kaffeeroesterei-shopify"]
    assert {load_shop_config(p).settings.platform for p in SHOPS} == {"shopify", "woocommerce"}


@pytest.mark.parametrize("shop", SHOPS, ids=lambda p: p.parent.name)
def test_every_example_validates(shop: Path) -> None:
    config = load_shop_config(shop)
    assert config.campaigns
    assert config.settings.locale == "de_DE"
    assert config.settings.currency == "EUR"


@pytest.mark.parametrize("order", ORDERS, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_every_example_order_is_a_raw_payload_of_its_shop_s_platform(order: Path) -> None:
    config = load_shop_config(order.parent.parent / "shop.yaml")
    payload = read_json_file(order)
    assert guess_platform(payload) == config.settings.platform
    assert payload["currency"] == "EUR"


@pytest.mark.parametrize("shop", SHOPS, ids=lambda p: p.parent.name)
def test_every_enabled_campaign_fires_for_some_example_order(shop: Path) -> None:
    config = load_shop_config(shop)
    decisions = decide_all(shop)
    assert len(decisions) >= 5
    fired = {cid for d in decisions for cid in d.fired}
    assert {c.id for c in config.campaigns if c.enabled} - fired == set()


def test_every_enrichment_file_belongs_to_an_order() -> None:
    for path in EXAMPLES.glob("*/enrichment/*.json"):
        assert (path.parent.parent / "orders" / path.name).exists(), path


def test_the_examples_show_the_limits_biting() -> None:
    # given all example orders decided
    reasons = {o.reason for shop in SHOPS for d in decide_all(shop) for o in d.outcomes}
    # then the controls a shop owner relies on are each seen stopping a campaign
    assert {
        Reason.CONTACT_LIMIT,
        Reason.LOST_TO_PRIORITY,
        Reason.HOLDOUT,
        Reason.CUSTOMER_LIMIT,
        Reason.OUTSIDE_WINDOW,
        Reason.DISABLED,
        Reason.OTHER_TRIGGER,
        Reason.CONDITION_FAILED,
    } <= reasons
    events = {d.event for shop in SHOPS for d in decide_all(shop)}
    assert {EventKind.ORDER_PAID, EventKind.ORDER_FULFILLED, EventKind.ORDER_CANCELLED} <= events


def test_together_the_examples_use_every_block_action_and_control() -> None:
    campaigns = [c for shop in SHOPS for c in load_shop_config(shop).campaigns]
    actions = [a for c in campaigns for a in c.actions]
    assert {a.block for a in actions if isinstance(a, ShowBlock)} == set(BLOCKS)
    assert {type(a) for a in actions} == {
        IssueCoupon,
        ShowBlock,
        FreeGift,
        TagOrder,
        AwardPoints,
        Stamp,
        FollowUp,
        VipPresale,
    }
    assert {a.kind.value for a in actions if isinstance(a, IssueCoupon)} == {
        "percentage",
        "fixed_amount",
        "free_shipping",
    }
    assert any(c.split is not None and c.split.variants for c in campaigns)
    assert any(c.split is not None and c.split.holdout for c in campaigns)
    assert any(c.per_customer is not None and c.per_customer.max_uses == 1 for c in campaigns)
    assert any(c.per_customer is not None and c.per_customer.cooldown_days for c in campaigns)
    assert any(c.usage_limit for c in campaigns)
    assert any(c.budget is not None for c in campaigns)
    assert any(c.margin_guard is not None for c in campaigns)
    assert any(c.window is not None for c in campaigns)
    assert any(c.exclusive_group for c in campaigns)
    assert any(
        isinstance(a, ShowBlock) and a.block == "coupon" and a.param("countdown") is True
        for a in actions
    )


def _keys(node: Any, schema: dict[str, Any], defs: dict[str, Any], path: str) -> set[str]:
    """Schema property paths (``campaign.budget.period``) that ``node`` uses."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return _keys(node, defs[name], defs, name)
    used: set[str] = set()
    if isinstance(node, list) and "items" in schema:
        for item in node:
            used |= _keys(item, schema["items"], defs, path)
    options = [schema, *schema.get("anyOf", []), *schema.get("oneOf", [])]
    if isinstance(node, dict):
        for option in options:
            props = option.get("properties", {})
            if not set(node) <= set(props):
                continue
            for key, value in node.items():
                used.add(f"{path}.{key}")
                used |= _keys(value, props[key], defs, f"{path}.{key}")
    elif isinstance(node, list):
        for option in options:
            if "items" in option and option is not schema:
                for item in node:
                    used |= _keys(item, option["items"], defs, path)
    return used


def test_together_the_examples_use_every_key_of_the_format() -> None:
    schema = config_json_schema()
    defs = schema["$defs"]
    used: set[str] = set()
    for shop in SHOPS:
        used |= _keys(yaml.safe_load(shop.read_text(encoding="utf-8")), schema, defs, "")
    every: set[str] = set()

    def collect(node: dict[str, Any], path: str) -> None:
        for option in [node, *node.get("anyOf", [])]:
            for key, sub in option.get("properties", {}).items():
                if "$ref" not in sub:
                    every.add(f"{path}.{key}")
                    collect(sub, f"{path}.{key}")

    collect(schema, "")
    for name, definition in defs.items():
        collect(definition, name)
    missing = {key for key in every - used if key.rsplit(".", 1)[1] not in UNUSED_KEYS}
    # params of blocks are free-form here; the catalogue test above covers the blocks
    assert {k for k in missing if ".params." not in k} == set()


@pytest.mark.slow
def test_the_demo_decides_everything_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert demo_main([str(EXAMPLES)]) == 0
    out = capsys.readouterr().out
    for shop in SHOPS:
        assert f"== {shop.relative_to(ROOT)}: ok" in out or f"== {shop}: ok" in out
    for order in ORDERS:
        assert order.name in out
    assert out.rstrip().endswith("demo ok: 2 shops")
    assert "campaigns that fired for no example order" not in out


def test_the_demo_fails_on_a_broken_example(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a copy of one example with a broken order and another with a broken config
    shutil.copytree(EXAMPLES / "kaffeeroesterei-shopify", tmp_path / "kaffee")
    (tmp_path / "kaffee" / "orders" / "99-kaputt.json").write_text(
        json.dumps({"id": 1, "line_items": [], "total_price": "x"}), encoding="utf-8"
    )
    (tmp_path / "leer").mkdir()
    (tmp_path / "leer" / "shop.yaml").write_text("shop: {}\n", encoding="utf-8")
    # when the demo runs over them, then it exits 1 and says what failed
    assert demo_main([str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "99-kaputt.json: FAILED: " in out
    assert "leer/shop.yaml: INVALID" in out


def test_run_shop_reports_every_order() -> None:
    out = io.StringIO()
    failures, fired, enabled = run_shop(EXAMPLES / "kaffeeroesterei-shopify" / "shop.yaml", out=out)
    assert failures == 0
    assert fired == enabled
    assert out.getvalue().count("\n-- ") == 5


@pytest.mark.parametrize("shop", SHOPS, ids=lambda p: p.parent.name)
def test_the_content_layer_accepts_every_example_and_its_own_templates(shop: Path) -> None:
    from aftersale_kit.content import ContentRenderer

    config = load_shop_config(shop)
    renderer = ContentRenderer.for_config(config, base_dir=shop.parent)
    renderer.check(config)
    if config.settings.templates_dir is not None:
        own = Path(config.settings.templates_dir)
        assert sorted(p.name for p in own.rglob("*.j2")) == ["service_check.html.j2"]
        assert own.resolve() in [Path(p).resolve() for p in renderer.search_path]
