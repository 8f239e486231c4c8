"""What a valid config file becomes: the dataclasses of the campaign model, exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from aftersale_kit.core.campaign import (
    Budget,
    BudgetPeriod,
    CouponKind,
    FreeGift,
    IssueCoupon,
    MarginGuard,
    PerCustomerLimit,
    SecretRef,
    ShopConfig,
    ShowBlock,
    SourceSpan,
    Split,
    TagOrder,
    Window,
)
from aftersale_kit.core.config import load_config, load_config_text
from aftersale_kit.core.config.source import compose, text_position
from aftersale_kit.core.errors import ConfigError
from aftersale_kit.core.model import EventKind
from aftersale_kit.core.money import Money

BERLIN = ZoneInfo("Europe/Berlin")

FULL = """\
version: 1
shop:
  platform: shopify
  domain: Kaffee-Test.myshopify.com
  currency: eur
  locale: de_AT
  timezone: Europe/Berlin
  api_base_url: http://127.0.0.1:8081/
  api_version: "2026-01"
  secrets:
    webhook_secret: SHOPIFY_WEBHOOK_SECRET
    code_secret: AFTERSALE_CODE_SECRET
  margin:
    default: 0.35
    product_costs: {KAF-1: 4.20, 1234: "0.90", KAF-3: 3}
  limits: {max_offers_per_order: 2}
campaigns:
  - id: danke
    description: Danke!
    trigger: order_paid
    when: ["subtotal >= 30", first_order]
    priority: 10
    exclusive_group: danke-gruppe
    schedule: {from: 2026-11-01, until: 2026-12-24}
    per_customer: {once: true}
    usage_limit: 500
    budget: {amount: 2000.50, period: month}
    margin_guard: {max_share: 0.3}
    split: {holdout: 0.1, variants: {A: 50, B: 50}}
    actions:
      - issue_coupon: {type: percentage, value: 12.5, minimum_order: 40, variant: A,
                       code_prefix: 2024, products: [788032119674292922, "42"],
                       collections: [kaffee]}
      - issue_coupon: {type: fixed_amount, value: 5, valid_days: 14, single_use: false,
                       restrict_to_email: no, code_length: 12, variant: B}
      - show_block: {block: coupon, params: {countdown: true, headline: "Danke, Anna!"}}
      - free_gift: {note: Probierpäckchen, cost: 2.50}
      - tag_order: no
      - tag_order: {tag: vip, variant: B}
  - id: versand
    enabled: false
    trigger: order_fulfilled
    conditions: customer.is_guest
    schedule: {from: "2026-11-27T08:00:00+01:00", until: "2026-11-30T20:00"}
    per_customer: {max: 2, cooldown_days: 90}
    budget: {amount: "150", period: total, currency: EUR}
    actions:
      - issue_coupon: {type: free_shipping, estimated_value: 4.90}
      - show_block:
          block: faq_contact
          params: {faq_url: /pages/faq, links: [{label: DHL, url: "https://dhl.de"}]}
"""


def load(text: str) -> ShopConfig:
    return load_config_text(text, filename="shop.yaml")


def full_config_text() -> str:
    return FULL


def test_shop_settings() -> None:
    config = load_config_text(full_config_text(), filename="shop.yaml")
    settings = config.settings
    assert config.source == "shop.yaml"
    assert settings.platform == "shopify"
    assert settings.domain == "kaffee-test.myshopify.com"
    assert settings.currency == "EUR"
    assert settings.locale == "de_AT"
    assert settings.timezone == "Europe/Berlin"
    assert settings.api_base_url == "http://127.0.0.1:8081"
    assert settings.api_version == "2026-01"
    assert settings.secrets == (
        SecretRef("webhook_secret", "SHOPIFY_WEBHOOK_SECRET"),
        SecretRef("code_secret", "AFTERSALE_CODE_SECRET"),
    )
    assert settings.default_margin == Decimal("0.35")
    # money keeps the text as written: 4.20 is not float 4.2000000000000002
    assert settings.product_costs == (
        ("KAF-1", Decimal("4.20")),
        ("1234", Decimal("0.90")),
        ("KAF-3", Decimal("3")),
    )
    assert str(settings.product_cost("KAF-1")) == "4.20"
    assert settings.max_offers_per_order == 2
    assert settings.templates_dir is None


def test_first_campaign_with_every_option() -> None:
    campaign = load_config_text(full_config_text(), filename="shop.yaml").campaigns[0]
    assert campaign.id == "danke"
    assert campaign.description == "Danke!"
    assert campaign.enabled is True
    assert campaign.trigger is EventKind.ORDER_PAID
    assert [c.source for c in campaign.conditions] == ["subtotal >= 30", "first_order"]
    assert campaign.priority == 10
    assert campaign.exclusive_group == "danke-gruppe"
    # dates are whole days in the shop's time zone; until includes its day
    assert campaign.window == Window(
        starts_at=datetime(2026, 11, 1, tzinfo=BERLIN),
        ends_at=datetime(2026, 12, 25, tzinfo=BERLIN),
    )
    assert campaign.per_customer == PerCustomerLimit(max_uses=1, cooldown_days=None)
    assert campaign.usage_limit == 500
    assert campaign.budget == Budget(Money(Decimal("2000.50"), "EUR"), BudgetPeriod.MONTH)
    assert campaign.margin_guard == MarginGuard(Decimal("0.3"))
    assert campaign.split == Split(variants=(("A", 50), ("B", 50)), holdout=Decimal("0.1"))
    assert campaign.source == SourceSpan("shop.yaml", 18, 5)
    assert FULL.splitlines()[17] == "  - id: danke"
    assert campaign.actions == (
        IssueCoupon(
            kind=CouponKind.PERCENTAGE,
            value=Decimal("12.5"),
            valid_days=30,
            minimum_order=Decimal("40"),
            code_prefix="2024",
            product_ids=("788032119674292922", "42"),
            collections=("kaffee",),
            variant="A",
        ),
        IssueCoupon(
            kind=CouponKind.FIXED_AMOUNT,
            value=Decimal("5"),
            valid_days=14,
            single_use=False,
            restrict_to_email=False,
            code_length=12,
            variant="B",
        ),
        ShowBlock("coupon", params=(("countdown", True), ("headline", "Danke, Anna!"))),
        FreeGift(note="Probierpäckchen", cost=Decimal("2.50")),
        # a plain `no` is the text "no" where text is expected (no YAML 1.1 surprise)
        TagOrder("no"),
        TagOrder("vip", variant="B"),
    )


def test_second_campaign_and_short_forms() -> None:
    campaign = load_config_text(full_config_text(), filename="shop.yaml").campaigns[1]
    assert campaign.enabled is False
    assert campaign.trigger is EventKind.ORDER_FULFILLED
    assert [c.source for c in campaign.conditions] == ["customer.is_guest"]
    assert campaign.window == Window(
        starts_at=datetime(2026, 11, 27, 7, 0, tzinfo=UTC),
        ends_at=datetime(2026, 11, 30, 20, 0, tzinfo=BERLIN),
    )
    assert campaign.window.starts_at is not None
    assert campaign.window.starts_at.utcoffset() == timedelta(hours=1)
    assert campaign.per_customer == PerCustomerLimit(max_uses=2, cooldown_days=90)
    assert campaign.budget == Budget(Money(Decimal("150"), "EUR"), BudgetPeriod.TOTAL)
    coupon, block = campaign.actions
    assert coupon == IssueCoupon(
        kind=CouponKind.FREE_SHIPPING,
        value=Decimal(0),
        valid_days=30,
        estimated_value=Decimal("4.90"),
    )
    assert isinstance(block, ShowBlock)
    assert block.block == "faq_contact"
    assert block.param("faq_url") == "/pages/faq"
    assert block.param("links") == ({"label": "DHL", "url": "https://dhl.de"},)


def test_minimal_config_gets_the_defaults() -> None:
    config = load(
        "shop:\n  platform: woocommerce\n  domain: shop.example.de\n  currency: EUR\n"
        "campaigns:\n  - id: a\n    actions:\n      - show_block: thank_you\n"
    )
    settings = config.settings
    assert (settings.locale, settings.timezone, settings.default_margin) == (
        "de_DE",
        "UTC",
        Decimal("0.30"),
    )
    assert settings.secrets == ()
    [campaign] = config.campaigns
    assert campaign.trigger is EventKind.ORDER_PAID
    assert campaign.conditions == ()
    assert (campaign.window, campaign.budget, campaign.split) == (None, None, None)
    assert campaign.actions == (ShowBlock("thank_you"),)


def test_block_parameters_keep_what_yaml_1_1_would_turn_into_numbers() -> None:
    config = load(
        "shop:\n  platform: shopify\n  domain: a.myshopify.com\n  currency: EUR\n"
        "campaigns:\n  - id: a\n    actions:\n"
        "      - show_block: {block: contact_person, params: {name: x, hours: 9:30, text: 0x1F,"
        " phone: 030 1234}}\n"
    )
    [block] = config.campaigns[0].actions
    assert isinstance(block, ShowBlock)
    assert block.params == (
        ("name", "x"),
        ("hours", "9:30"),
        ("text", "0x1F"),
        ("phone", "030 1234"),
    )


def test_empty_campaign_list_is_a_valid_config() -> None:
    config = load(
        "shop:\n  platform: shopify\n  domain: a.myshopify.com\n  currency: CHF\ncampaigns: []\n"
    )
    assert config.campaigns == ()
    assert config.settings.currency == "CHF"


def test_compiled_conditions_are_the_engine_s_conditions() -> None:
    config = load_config_text(full_config_text(), filename="shop.yaml")
    fields = set().union(*(c.fields for c in config.campaigns[0].conditions))
    assert {"order.subtotal", "first_order"} <= fields


def test_templates_dir_is_resolved_next_to_the_file(tmp_path: Path) -> None:
    (tmp_path / "vorlagen").mkdir()
    path = tmp_path / "shop.yaml"
    path.write_text(
        "shop:\n  platform: shopify\n  domain: a.myshopify.com\n  currency: EUR\n"
        "  templates_dir: vorlagen\ncampaigns: []\n",
        encoding="utf-8",
    )
    assert load_config(path).settings.templates_dir == str((tmp_path / "vorlagen").resolve())
    (tmp_path / "vorlagen").rmdir()
    with pytest.raises(ConfigError) as info:
        load_config(path, name="shop.yaml")
    assert str(info.value) == (
        "shop.yaml:5:18: shop.templates_dir: folder 'vorlagen' not found next to the config file"
    )


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "shop.yaml"
    path.write_bytes(
        b"\xef\xbb\xbfshop:\n  platform: shopify\n  domain: a.myshopify.com\n"
        b"  currency: EUR\ncampaigns: []\n"
    )
    assert load_config(path).settings.domain == "a.myshopify.com"


# -- positions inside scalars -------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "x: subtotal >= 3x",
        "x: 'it''s subtotal >= 3x'",
        'x: "\\u00e4\\"q\\" subtotal >= 3x"',
        "x: {a: [ 'subtotal >= 3x' ]}",
    ],
)
def test_text_position_maps_value_offsets_through_quotes(line: str) -> None:
    # given a scalar whose value contains "3x"
    node = compose(line + "\n")
    while not isinstance(node, yaml.ScalarNode):
        assert isinstance(node, yaml.MappingNode | yaml.SequenceNode)
        node = node.value[0][1] if isinstance(node, yaml.MappingNode) else node.value[0]
    offset = node.value.index("3x")
    # when the offset is mapped back to the file
    row, column = text_position(line + "\n", node, offset)
    # then it points at "3x" in the source
    assert row == 1
    assert line[column - 1 : column + 1] == "3x"


def test_exchange_rates_are_read_as_decimals_per_upper_case_currency() -> None:
    # given rates written as a quoted text and as a YAML number
    text = (
        "shop:\n  platform: woocommerce\n  domain: shop.example.de\n  currency: EUR\n"
        '  exchange_rates: {JPY: "0.0061", usd: 0.92}\ncampaigns: []\n'
    )
    settings = load_config_text(text, filename="shop.yaml").settings
    # then both are exact decimals (never float), keyed by the upper-case code
    assert settings.exchange_rates == (("JPY", Decimal("0.0061")), ("USD", Decimal("0.92")))
    assert settings.exchange_rate("usd") == Decimal("0.92")
    assert settings.exchange_rate("CHF") is None
