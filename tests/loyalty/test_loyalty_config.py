"""The loyalty: section and the award_points and stamp actions: loaded, or every mistake pinned."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from aftersale_kit.cli import main
from aftersale_kit.core.config import load_config, load_config_text
from aftersale_kit.core.counters import InMemoryCounters
from aftersale_kit.core.engine import decide
from aftersale_kit.core.errors import ConfigError
from aftersale_kit.core.loyalty.actions import AwardPoints, Stamp
from aftersale_kit.core.loyalty.earning import points_for
from aftersale_kit.core.loyalty.program import (
    EarnBasis,
    GuestPolicy,
    SpentRefundPolicy,
)
from aftersale_kit.core.model import EventKind
from aftersale_kit.core.schema import config_json_schema
from aftersale_kit.storage.codec import decision_from_json, decision_to_json

from .builders import order

DATA = Path(__file__).resolve().parent / "data"
SHOP = "shop:\n  platform: shopify\n  domain: bohne.myshopify.com\n  currency: EUR\n"


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config_text(text, filename="shop.yaml")
    return [str(p) for p in info.value.problems]


def test_a_full_loyalty_section_loads() -> None:
    config = load_config(DATA / "loyalty_good.yaml", name="shop.yaml")
    program = config.loyalty
    assert program is not None
    assert (program.currency, program.earn.rate, program.earn.basis) == (
        "EUR",
        Decimal(1),
        EarnBasis.MERCHANDISE_NET_OF_TAX,
    )
    assert program.earn.product_types == (("Kaffee", Decimal(2)),)
    assert [t.name for t in program.tiers.levels] == ["Silber", "Gold"]  # type: ignore[union-attr]
    assert program.redemption.option("espresso-tasse").reward.title == "Espresso-Tasse"  # type: ignore[union-attr]
    assert program.guests is GuestPolicy.EMAIL
    assert program.on_spent_refund is SpentRefundPolicy.DEACTIVATE_COUPON
    card = program.card("bohnen-karte")
    assert card is not None and card.stamps == 5 and card.conditions[0].source == "subtotal >= 20"
    assert config.campaigns[0].actions == (
        AwardPoints(multiplier=Decimal(2), product_types=("Kaffee",)),
        Stamp(card="bohnen-karte"),
    )


def test_the_engine_plans_the_loyalty_actions_without_cost() -> None:
    config = load_config(DATA / "loyalty_good.yaml", name="shop.yaml")
    decision = decide(
        config,
        order(),
        event=EventKind.ORDER_PAID,
        counters=InMemoryCounters(),
        now=datetime(2026, 12, 7, tzinfo=UTC),
        code_secret=b"k",
    )
    kinds = [type(p.action) for p in decision.actions]
    assert kinds == [AwardPoints, Stamp]
    assert all(p.cost.amount == 0 and p.coupon_code is None for p in decision.actions)
    outcome = decision.outcome("dezember-doppelt")
    assert outcome is not None
    assert "2x points on Kaffee" in outcome.detail
    assert "stamp on card 'bohnen-karte'" in outcome.detail
    bonuses = [p.action for p in decision.actions if isinstance(p.action, AwardPoints)]
    assert config.loyalty is not None
    award = points_for(order(), config.loyalty, bonuses=bonuses)
    # espresso (SKU ESP-1, multiplier 3 beats Kaffee's 2): 30 x 3 x 2 December; filter: 20
    assert (award.points, award.base) == (200, 110)


def test_a_file_without_loyalty_has_none() -> None:
    text = SHOP + "campaigns:\n  - id: a\n    actions:\n      - tag_order: x\n"
    assert load_config_text(text).loyalty is None


def test_every_mistake_is_reported_at_its_place() -> None:
    with pytest.raises(ConfigError) as info:
        load_config(DATA / "loyalty_mistakes.yaml", name="shop.yaml")
    assert [str(p) for p in info.value.problems] == [
        "shop.yaml:6:11: loyalty.guests: unknown guest policy 'gaeste'; expected one of none, "
        "email",
        "shop.yaml:8:22: loyalty.earn.points_per_unit: expected points per unit of EUR above 0 "
        "(e.g. 1), got 'eins'",
        "shop.yaml:9:15: loyalty.earn.rounding: unknown rounding 'abrunden'; expected one of "
        "down, half_up, up",
        "shop.yaml:11:31: loyalty.earn.multipliers.product_types.Kaffee: expected a factor above "
        "0 (e.g. 2 for double points), got 0",
        "shop.yaml:12:3: loyalty: unknown key 'pending_dayz' (did you mean 'pending_days'?)",
        "shop.yaml:13:29: loyalty.expiry.lifetime_months: expected a whole number of months from "
        "1 to 120, got 0",
        "shop.yaml:17:30: loyalty.tiers.levels[1].from: list the tiers from the lowest up: 200 "
        "is not above the 'Gold' tier's 500",
        "shop.yaml:20:50: loyalty.redeem.options[0]: an option is a coupon: or a reward:, not both",
        "shop.yaml:21:9: loyalty.redeem.options[1]: write coupon: 5 (a 5.00 coupon) or reward: "
        "{product: ..., title: ...}",
        "shop.yaml:24:13: loyalty.stamp_cards[0].when: unknown field 'subtotl' (did you mean "
        "'subtotal'?)",
        "shop.yaml:25:15: loyalty.stamp_cards[0].stamps: expected a whole number of stamps from "
        "2 to 100, got 1",
        "shop.yaml:27:11: loyalty.stamp_cards[0].reward[0]: a stamp card's reward is "
        "issue_coupon or free_gift, not 'tag_order'",
        "shop.yaml:31:39: campaigns[0].actions[0].award_points: write multiplier: or points:, "
        "not both (two actions for both)",
        "shop.yaml:32:16: campaigns[0].actions[1].stamp: unknown stamp card 'bohnen-kart' (did "
        "you mean 'bohnen-karte'?); loyalty.stamp_cards has bohnen-karte",
        "shop.yaml:33:36: campaigns[0].actions[2].award_points.product_types: fixed points are "
        "for the whole order; product_types only limits a multiplier",
    ]


def test_the_loyalty_actions_need_a_loyalty_section() -> None:
    text = SHOP + (
        "campaigns:\n  - id: a\n    actions:\n"
        "      - award_points: {multiplier: 2}\n"
        "      - stamp: {card: karte}\n"
    )
    assert problems(text) == [
        "shop.yaml:8:23: campaigns[0].actions[0].award_points: award_points needs a loyalty: "
        "section in this file (at least loyalty: earn: points_per_unit: 1)",
        "shop.yaml:9:16: campaigns[0].actions[1].stamp: stamp needs a loyalty: section in this "
        "file with the card under stamp_cards:",
    ]


def test_the_loyalty_section_needs_earn_and_its_keys_come_from_the_schema() -> None:
    text = SHOP + "loyalty:\n  pending_days: 7\ncampaigns: []\n"
    assert problems(text) == ["shop.yaml:6:3: loyalty: missing required key 'earn'"]
    loyalty = config_json_schema()["properties"]["loyalty"]
    assert set(loyalty["properties"]) == {
        "guests",
        "earn",
        "pending_days",
        "expiry",
        "tiers",
        "redeem",
        "on_spent_refund",
        "stamp_cards",
    }
    assert {"award_points", "stamp"} <= set(config_json_schema()["$defs"])


def test_evaluate_shows_the_loyalty_actions_in_words_and_json(
    capsys: pytest.CaptureFixture[str],
) -> None:
    kaffee = DATA.parent.parent.parent / "examples" / "kaffeeroesterei-shopify"
    args = [
        "evaluate",
        str(DATA / "loyalty_good.yaml"),
        str(kaffee / "orders" / "02-stammkunde-grosseinkauf.json"),
        "--enrich",
        str(kaffee / "enrichment" / "02-stammkunde-grosseinkauf.json"),
        "--now",
        "2026-12-07T10:00:00+00:00",
    ]
    assert main(args) == 0
    words = capsys.readouterr().out
    assert "dezember-doppelt  2x points on Kaffee" in words
    assert "dezember-doppelt  stamp on card 'bohnen-karte'" in words
    assert main([*args, "--json"]) == 0
    actions = json.loads(capsys.readouterr().out)["actions"]
    assert [a["kind"] for a in actions] == ["award_points", "stamp"]
    assert actions[1]["details"] == {"card": "bohnen-karte", "variant": None}


def test_the_examples_in_the_design_note_load() -> None:
    note = (DATA.parent.parent.parent / "docs" / "loyalty.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", note, flags=re.DOTALL)
    assert len(blocks) == 2
    kaffee, elektro = (load_config_text(b, filename="loyalty.md") for b in blocks)
    assert kaffee.loyalty is not None and elektro.loyalty is not None
    assert [t.name for t in kaffee.loyalty.tiers.levels] == ["Silber", "Gold"]  # type: ignore[union-attr]
    card = elektro.loyalty.card("zubehoer-karte")
    assert card is not None and card.stamps == 5
    assert elektro.campaigns[0].actions == (Stamp(card="zubehoer-karte"),)
    # an editor's schema check agrees (dates as their text, as a YAML language server sends them)
    validator = Draft202012Validator(config_json_schema())
    for block in [*blocks, (DATA / "loyalty_good.yaml").read_text(encoding="utf-8")]:
        document = json.loads(json.dumps(yaml.safe_load(block), default=str))
        assert [e.message for e in validator.iter_errors(document)] == []
    wrong = yaml.safe_load(blocks[1])
    wrong["loyalty"]["stamp_cards"][0]["stampz"] = 5
    assert any("stampz" in e.message for e in validator.iter_errors(wrong))


def test_a_decision_with_loyalty_actions_survives_the_stored_form() -> None:
    config = load_config(DATA / "loyalty_good.yaml", name="shop.yaml")
    decision = decide(
        config,
        order(),
        event=EventKind.ORDER_PAID,
        counters=InMemoryCounters(),
        now=datetime(2026, 12, 7, tzinfo=UTC),
        code_secret=b"k",
    )
    assert decision_from_json(decision_to_json(decision)) == decision
