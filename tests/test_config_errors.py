"""A bad config file is reported completely: every mistake, each at file:line:col, none a traceback.

The messages are pinned: they are the product's user interface for shop owners.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aftersale_kit.content.params import param_problems
from aftersale_kit.core.config import ParamCheck, load_config, load_config_text
from aftersale_kit.core.errors import ConfigError

CONFIGS = Path(__file__).resolve().parent / "data" / "configs"
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

SHOPIFY = "shop:\n  platform: shopify\n  domain: test.myshopify.com\n  currency: EUR\n"
WOO = "shop:\n  platform: woocommerce\n  domain: shop.example.de\n  currency: EUR\n"


def problems(text: str, *, param_check: ParamCheck | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config_text(text, filename="shop.yaml", param_check=param_check)
    listed = [str(p) for p in info.value.problems]
    assert str(info.value) == "\n".join(listed)
    return listed


def campaign(body: str) -> str:
    return SHOPIFY + "campaigns:\n  - id: a\n" + body


# -- the file as a whole ------------------------------------------------------------------------


def test_five_mistakes_give_exactly_five_messages_in_file_order() -> None:
    # given the stored config with five different mistakes
    path = CONFIGS / "five_mistakes.yaml"
    # when it is loaded
    with pytest.raises(ConfigError) as info:
        load_config(path, name="five_mistakes.yaml")
    # then each mistake is one message, at its own position
    assert [str(p) for p in info.value.problems] == [
        "five_mistakes.yaml:7:16: shop.secrets.api_token: this looks like the secret itself; put "
        "it in an environment variable and write the variable's name here, e.g. "
        "SHOPIFY_ACCESS_TOKEN",
        "five_mistakes.yaml:10:5: campaigns[0]: unknown key 'trigerr' (did you mean 'trigger'?)",
        "five_mistakes.yaml:11:13: campaigns[0].when[0]: unknown field 'subtotl' "
        "(did you mean 'subtotal'?)",
        "five_mistakes.yaml:13:49: campaigns[0].actions[0].issue_coupon.value: expected a "
        "percentage above 0 and at most 100, got 'zehn'",
        "five_mistakes.yaml:14:47: campaigns[0].actions[1].show_block.params: block 'shipping' "
        "needs the parameter 'transit_days'",
    ]


def test_secret_values_are_never_repeated_in_messages() -> None:
    text = SHOPIFY + "  secrets:\n    webhook_secret: a8Fk2mQ9xL3vR7tZ1pW5nB\ncampaigns: []\n"
    [message] = problems(text)
    assert "a8Fk2mQ9xL3vR7tZ1pW5nB" not in message
    assert message == (
        "shop.yaml:6:21: shop.secrets.webhook_secret: this looks like the secret itself; put it "
        "in an environment variable and write the variable's name here, e.g. "
        "SHOPIFY_WEBHOOK_SECRET"
    )
    five = (CONFIGS / "five_mistakes.yaml").read_text(encoding="utf-8")
    token = next(w for w in five.split() if w.startswith("shpat_"))
    with pytest.raises(ConfigError) as info:
        load_config(CONFIGS / "five_mistakes.yaml")
    assert token not in str(info.value)


def test_yaml_syntax_error_is_one_positioned_message() -> None:
    text = "shop:\n  platform: shopify\n   domain: x\n"
    assert problems(text) == [
        "shop.yaml:3:10: YAML syntax error: mapping values are not allowed here (check the "
        "indentation, or put a value that contains ': ' in quotes)"
    ]


def test_tab_indentation_is_named() -> None:
    assert problems("shop:\n\tplatform: shopify\n") == [
        "shop.yaml:2:1: YAML syntax error: found a tab character (indent with spaces, not tabs)"
    ]


@pytest.mark.parametrize("text", ["", "\n\n", "# nur ein Kommentar\n"])
def test_empty_file(text: str) -> None:
    assert problems(text) == [
        "shop.yaml:1:1: the file is empty; it needs a shop: section and campaigns:"
    ]


@pytest.mark.parametrize(
    ("text", "found"), [("- a\n- b\n", "a list"), ("hallo\n", "'hallo'"), ("42\n", "42")]
)
def test_file_that_is_not_a_mapping(text: str, found: str) -> None:
    assert problems(text) == [
        f"shop.yaml:1:1: expected a mapping with shop: and campaigns:, got {found}"
    ]


def test_missing_required_keys_point_at_their_mapping() -> None:
    text = "shop:\n  platform: shopify\ncampaigns:\n  - description: x\n"
    assert problems(text) == [
        "shop.yaml:2:3: shop: missing required key 'domain'",
        "shop.yaml:2:3: shop: missing required key 'currency'",
        "shop.yaml:4:5: campaigns[0]: missing required key 'id'",
        "shop.yaml:4:5: campaigns[0]: missing required key 'actions'",
    ]


def test_wrong_version_and_campaigns_not_a_list() -> None:
    assert problems("version: 2\n" + SHOPIFY + "campaigns: {}\n") == [
        "shop.yaml:1:10: version: expected 1, got 2",
        "shop.yaml:6:12: campaigns: expected a list of campaigns (- id: ...), got a mapping "
        "(key: value)",
    ]


def test_unreadable_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "fehlt.yaml", name="fehlt.yaml")
    assert str(info.value) == "fehlt.yaml:1:1: cannot read the file: No such file or directory"
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes("shop:\n  domain: b\xe4ckerei\n".encode("latin-1"))
    with pytest.raises(ConfigError) as info:
        load_config(latin1, name="latin1.yaml")
    assert str(info.value) == "latin1.yaml:2:12: the file is not UTF-8 text; save it as UTF-8"


# -- plain YAML only ----------------------------------------------------------------------------


def test_duplicate_keys_and_duplicate_ids() -> None:
    text = (
        SHOPIFY + "campaigns:\n  - id: a\n    id: b\n    actions: [tag_order: x]\n"
        "  - id: a\n    actions: [tag_order: y]\n"
    )
    assert problems(text) == [
        "shop.yaml:7:5: campaigns[0]: duplicate key 'id' (first at line 6)",
        "shop.yaml:9:9: campaigns[1].id: campaign id 'a' is used twice (first at line 6)",
    ]


def test_anchors_aliases_and_tags_are_refused() -> None:
    bomb = 'a: &a ["x","x"]\nb: &b [*a,*a]\nc: [*b,*b]\n'
    assert problems(bomb) == [
        "shop.yaml:1:4: anchors (&a) are not supported; write each value out in full"
    ]
    assert problems("shop: *x\n") == [
        "shop.yaml:1:7: aliases (*x) are not supported; write the value out in full"
    ]
    assert problems(SHOPIFY + "campaigns: !!python/object:os.system []\n") == [
        "shop.yaml:5:12: tags (!!python/object:os.system) are not supported; put the value in "
        "quotes if it is text"
    ]


# -- types and values ---------------------------------------------------------------------------


def test_wrong_types_say_what_was_expected_and_found() -> None:
    text = campaign(
        '    enabled: ja\n    priority: hoch\n    usage_limit: "10"\n    actions:\n'
        "      - issue_coupon: {type: percentage, value: 10, valid_days: 0}\n"
    )
    assert problems(text) == [
        "shop.yaml:7:14: campaigns[0].enabled: expected true or false, got 'ja'",
        "shop.yaml:8:15: campaigns[0].priority: expected a whole number, got 'hoch'",
        "shop.yaml:9:18: campaigns[0].usage_limit: expected a whole number of at least 1, got "
        "'10' (write the number without quotes)",
        "shop.yaml:11:65: campaigns[0].actions[0].issue_coupon.valid_days: expected a whole "
        "number of days from 1 to 3650, got 0",
    ]


def test_money_shares_and_percentages() -> None:
    text = campaign(
        "    budget: {amount: -5, period: monthly, currency: USD}\n"
        "    margin_guard: {max_share: 30}\n"
        "    split: {holdout: 1, variants: {A: 0, B: 50}}\n"
        "    actions:\n"
        "      - issue_coupon: {type: percentage, value: 150, variant: C}\n"
    )
    assert problems(text) == [
        "shop.yaml:7:22: campaigns[0].budget.amount: expected a positive amount (e.g. 4.20), "
        "got -5",
        "shop.yaml:7:34: campaigns[0].budget.period: unknown period 'monthly' (did you mean "
        "'month'?); expected one of day, week, month, quarter, year, total",
        "shop.yaml:7:53: campaigns[0].budget.currency: budgets are in the shop currency EUR, "
        "got USD",
        "shop.yaml:8:31: campaigns[0].margin_guard.max_share: expected a share above 0 and at "
        "most 1 (e.g. 0.3 for 30 %), got 30",
        "shop.yaml:9:22: campaigns[0].split.holdout: expected a share of at least 0 and below 1 "
        "(e.g. 0.1 for 10 %), got 1",
        "shop.yaml:9:39: campaigns[0].split.variants.A: expected a positive whole-number "
        "weight, got 0",
        "shop.yaml:11:49: campaigns[0].actions[0].issue_coupon.value: expected a percentage "
        "above 0 and at most 100, got 150",
        "shop.yaml:11:63: campaigns[0].actions[0].issue_coupon.variant: unknown variant 'C'; "
        "the split has A, B",
    ]


def test_coupon_values_by_type() -> None:
    text = campaign(
        "    actions:\n"
        "      - issue_coupon: {type: free_shipping, value: 5}\n"
        "      - issue_coupon: {type: fixed_amount, estimated_value: 3}\n"
        "      - issue_coupon: {type: fixed_amount, value: '2,50', code_prefix: 'DANKE 2026!'}\n"
    )
    assert problems(text) == [
        "shop.yaml:8:45: campaigns[0].actions[0].issue_coupon.value: free_shipping coupons have "
        "no value; remove it",
        "shop.yaml:9:23: campaigns[0].actions[1].issue_coupon: missing required key 'value' "
        "(the amount off)",
        "shop.yaml:9:44: campaigns[0].actions[1].issue_coupon.estimated_value: estimated_value "
        "is only for free_shipping coupons",
        "shop.yaml:10:51: campaigns[0].actions[2].issue_coupon.value: expected a positive "
        "amount (e.g. 4.20), got '2,50' (write a decimal point: 2.50)",
        "shop.yaml:10:72: campaigns[0].actions[2].issue_coupon.code_prefix: expected at most 20 "
        "letters, digits, - and _, got 'DANKE 2026!'",
    ]


def test_margin_and_limits_of_the_shop() -> None:
    text = (
        SHOPIFY + "  margin: {default: 35, product_costs: {SKU-1: abc, SKU-2: -1}}\n"
        "  limits: {max_offers_per_order: 0}\ncampaigns: []\n"
    )
    assert problems(text) == [
        "shop.yaml:5:21: shop.margin.default: expected a share between 0 and 1 (e.g. 0.35 for "
        "35 %), got 35",
        "shop.yaml:5:48: shop.margin.product_costs.SKU-1: expected an amount of 0 or more (e.g. "
        "4.20), got 'abc'",
        "shop.yaml:5:60: shop.margin.product_costs.SKU-2: expected an amount of 0 or more (e.g. "
        "4.20), got -1",
        "shop.yaml:6:34: shop.limits.max_offers_per_order: expected a whole number of at least "
        "1, got 0",
    ]


def test_care_settings_of_the_shop() -> None:
    text = (
        SHOPIFY
        + "  care: {service_check_cost: cheap, min_orders: 0, min_order: 2}\ncampaigns: []\n"
    )
    assert problems(text) == [
        "shop.yaml:5:30: shop.care.service_check_cost: expected an amount of 0 or more (e.g. "
        "4.20), got 'cheap'",
        "shop.yaml:5:49: shop.care.min_orders: expected a whole number of at least 1, got 0",
        "shop.yaml:5:52: shop.care: unknown key 'min_order' (did you mean 'min_orders'?)",
    ]
    good = load_config_text(
        SHOPIFY + "  care: {service_check_cost: 2.50, min_orders: 2}\ncampaigns: []\n",
        filename="shop.yaml",
    )
    assert (good.settings.service_check_cost, good.settings.care_min_orders) == (Decimal("2.50"), 2)
    plain = load_config_text(SHOPIFY + "campaigns: []\n", filename="shop.yaml")
    assert (plain.settings.service_check_cost, plain.settings.care_min_orders) == (None, 3)


def test_backtest_redemption_rate_is_a_share() -> None:
    text = SHOPIFY + "  backtest: {redemption_rate: 25, redemtion: 1}\ncampaigns: []\n"
    assert problems(text) == [
        "shop.yaml:5:31: shop.backtest.redemption_rate: expected a share between 0 and 1 (e.g. "
        "0.25 if one coupon in four is redeemed), got 25",
        "shop.yaml:5:35: shop.backtest: unknown key 'redemtion' (did you mean 'redemption_rate'?)",
    ]
    # and a share loads into the settings
    config = load_config_text(SHOPIFY + "  backtest: {redemption_rate: 0.3}\ncampaigns: []\n")
    assert config.settings.backtest_redemption_rate == Decimal("0.3")


def test_shop_settings_name_the_fix() -> None:
    text = (
        "shop:\n  platform: shopify\n  domain: https://www.kaffee.de\n  currency: euro\n"
        "  timezone: Europe/Berln\n  locale: de-DE\n  api_base_url: http://sandbox.example.com\n"
        "  api_version: 2026-02\ncampaigns: []\n"
    )
    assert problems(text) == [
        "shop.yaml:3:11: shop.domain: write the domain without https://, e.g. 'www.kaffee.de'",
        "shop.yaml:4:13: shop.currency: expected a currency code such as EUR, got 'euro'",
        "shop.yaml:5:13: shop.timezone: unknown time zone 'Europe/Berln' (did you mean "
        "'Europe/Berlin'?)",
        "shop.yaml:6:11: shop.locale: expected a locale such as de_DE, got 'de-DE' (did you "
        "mean 'de_DE'?)",
        "shop.yaml:7:17: shop.api_base_url: plain http:// is only allowed for 127.0.0.1 or "
        "localhost; use https://",
        "shop.yaml:8:16: shop.api_version: expected a Shopify API version YYYY-01, -04, -07 or "
        "-10 (e.g. \"2026-01\"), got '2026-02'",
    ]


def test_shopify_needs_the_myshopify_domain() -> None:
    text = "shop:\n  platform: shopify\n  domain: kaffee.de\n  currency: EUR\ncampaigns: []\n"
    assert problems(text) == [
        "shop.yaml:3:11: shop.domain: expected the shop's myshopify.com domain (e.g. "
        "kaffeeroesterei.myshopify.com; not the shop's own domain), got 'kaffee.de'"
    ]


def test_secrets_are_environment_variable_names_known_to_the_platform() -> None:
    text = (
        SHOPIFY
        + "  secrets:\n    api_token: shopify_token\n    consumer_key: WC_KEY\ncampaigns: []\n"
    )
    assert problems(text) == [
        "shop.yaml:6:16: shop.secrets.api_token: expected the name of an environment variable "
        "in capitals, digits and _, e.g. SHOPIFY_ACCESS_TOKEN",
        "shop.yaml:7:5: shop.secrets: unknown secret 'consumer_key' on shopify; known: "
        "webhook_secret, api_token, client_secret, code_secret",
    ]


@pytest.mark.parametrize("value", ["shpat_0123456789abcdef", "ck_1a2b3c4d5e6f", "cs_9f8e7d6c5b4a"])
def test_platform_credentials_are_recognised(value: str) -> None:
    text = WOO + f"  secrets:\n    consumer_key: {value}\ncampaigns: []\n"
    [message] = problems(text)
    assert "looks like the secret itself" in message
    assert value not in message


def test_schedule_and_limits_of_a_campaign() -> None:
    text = (
        SHOPIFY + "campaigns:\n"
        "  - id: a\n    schedule: {from: 2026-12-24, until: 2026-11-01}\n"
        "    actions: [tag_order: x]\n"
        "  - id: b\n    schedule: {from: 24.12.2026}\n    actions: [tag_order: x]\n"
        "  - id: c\n    per_customer: {once: true, max: 2}\n    actions: [tag_order: 'a,b']\n"
        "  - id: 'Danke Gutschein'\n    actions: []\n"
    )
    assert problems(text) == [
        "shop.yaml:7:41: campaigns[0].schedule.until: until is before from",
        "shop.yaml:10:22: campaigns[1].schedule.from: expected a date such as 2026-11-01 or a "
        "moment such as 2026-11-01T08:00, got '24.12.2026'",
        "shop.yaml:13:32: campaigns[2].per_customer: write either once: true or max: N, not both",
        "shop.yaml:14:26: campaigns[2].actions[0].tag_order: a tag cannot contain commas; add one "
        "tag_order per tag",
        "shop.yaml:15:9: campaigns[3].id: expected a name of letters, digits, - and _ (at most 64 "
        "characters), got 'Danke Gutschein'",
        "shop.yaml:16:14: campaigns[3].actions: a campaign needs at least one action",
    ]


def test_exclusive_group_needs_distinct_priorities() -> None:
    text = (
        SHOPIFY + "campaigns:\n"
        "  - id: a\n    exclusive_group: g\n    priority: 5\n    actions: [tag_order: x]\n"
        "  - id: b\n    exclusive_group: g\n    priority: 5\n    actions: [tag_order: y]\n"
        "  - id: c\n    exclusive_group: g\n    priority: 4\n    actions: [tag_order: z]\n"
    )
    assert problems(text) == [
        "shop.yaml:12:15: campaigns[1].priority: campaigns 'a' and 'b' are both in exclusive "
        "group 'g' with priority 5; give them different priorities so that it is clear which "
        "one wins"
    ]


def test_two_actions_in_one_list_item() -> None:
    text = campaign("    actions:\n      - tag_order: x\n        show_block: coupon\n")
    assert problems(text) == [
        "shop.yaml:9:9: campaigns[0].actions[0]: one action per list item; start 'show_block' "
        "with '- ' on its own line"
    ]


def test_when_and_conditions_are_one_thing() -> None:
    text = campaign(
        "    when: first_order\n    conditions: first_order\n    actions: [tag_order: x]\n"
    )
    assert problems(text) == [
        "shop.yaml:8:5: campaigns[0]: write the conditions under when: only, not twice"
    ]


# -- did you mean -------------------------------------------------------------------------------


def test_did_you_mean_on_keys_synonyms_and_values() -> None:
    text = campaign(
        "    trigger: order_payed\n    if: first_order\n    actions:\n"
        "      - coupon: {type: percent, value: 10}\n"
        "      - issue_coupon: {type: percent, value: 10}\n"
    )
    assert problems(text) == [
        "shop.yaml:7:14: campaigns[0].trigger: unknown trigger 'order_payed' (did you mean "
        "'order_paid'?); expected one of order_created, order_paid, order_fulfilled, "
        "order_cancelled, refund_created",
        "shop.yaml:8:5: campaigns[0]: unknown key 'if' (did you mean 'when'?)",
        "shop.yaml:10:9: campaigns[0].actions[0]: unknown key 'coupon' (did you mean "
        "'issue_coupon'?)",
        "shop.yaml:11:30: campaigns[0].actions[1].issue_coupon.type: unknown coupon type "
        "'percent' (did you mean 'percentage'?); expected one of percentage, fixed_amount, "
        "free_shipping",
    ]


def test_trigger_the_platform_never_delivers_is_an_error_with_what_to_write() -> None:
    # given a WooCommerce shop with a campaign on order_created, which no WooCommerce webhook
    # reports (an order is reported by its status, first when it is paid)
    body = "  - id: a\n    trigger: order_created\n    actions: [tag_order: x]\n"
    # when it is loaded, then the trigger is the one problem, with what to write instead
    assert problems(WOO + "campaigns:\n" + body) == [
        "shop.yaml:7:14: campaigns[0].trigger: trigger 'order_created' is never delivered on "
        "woocommerce (WooCommerce reports an order by its status, first when it is paid; did "
        "you mean 'order_paid'?); expected one of order_paid, order_fulfilled, order_cancelled, "
        "refund_created"
    ]
    # and on Shopify (orders/create) the same campaign loads
    config = load_config_text(SHOPIFY + "campaigns:\n" + body, filename="shop.yaml")
    assert [c.trigger.value for c in config.campaigns] == ["order_created"]


def test_misspelt_field_in_conditions_points_into_the_text() -> None:
    # given the same mistake in plain, single-quoted, escaped double-quoted and folded scalars
    text = campaign(
        "    when:\n"
        "      - 'first_order and subtotl > 1'\n"
        '      - "\\"vip\\" in customer.tagz"\n'
        '      - any line_items.titel == "x"\n'
        "      - >-\n"
        "        first_order and\n"
        "        ordr.total > 5\n"
        "    actions:\n      - tag_order: x\n"
    )
    # then every message points at the misspelt name itself
    assert problems(text) == [
        "shop.yaml:8:26: campaigns[0].when[0]: unknown field 'subtotl' (did you mean 'subtotal'?)",
        "shop.yaml:9:21: campaigns[0].when[1]: unknown field 'customer.tagz' (did you mean "
        "'customer.tags'?)",
        "shop.yaml:10:13: campaigns[0].when[2]: unknown field 'line_items.titel' (did you mean "
        "'line_items.title'?)",
        "shop.yaml:13:9: campaigns[0].when[3]: unknown field 'ordr.total' (did you mean "
        "'order.total'?)",
    ]
    lines = text.splitlines()
    assert lines[7][25:].startswith("subtotl")
    assert lines[8][20:].startswith("customer.tagz")
    assert lines[12][8:].startswith("ordr.total")


def test_money_compared_with_text() -> None:
    text = campaign('    when: subtotal >= "zehn"\n    actions:\n      - tag_order: x\n')
    assert problems(text) == [
        "shop.yaml:7:23: campaigns[0].when: subtotal (money) cannot be compared with the text "
        '"zehn"; write numbers without quotes'
    ]


def test_condition_syntax_error_at_the_end_of_the_text() -> None:
    text = campaign("    when: subtotal >=\n    actions:\n      - tag_order: x\n")
    assert problems(text) == [
        "shop.yaml:7:22: campaigns[0].when: expected a field or a value, but the condition ends"
    ]


def test_field_the_platform_cannot_provide() -> None:
    text = (
        WOO + "campaigns:\n  - id: a\n"
        "    when: first_order and customer.total_spent >= 500\n"
        "    actions:\n      - tag_order: x\n"
    )
    assert problems(text) == [
        "shop.yaml:7:27: campaigns[0].when: field 'customer.total_spent' is not available on "
        "woocommerce (only on shopify)"
    ]


# -- blocks -------------------------------------------------------------------------------------


def test_blocks_missing_parameter_unknown_block_and_parameter() -> None:
    text = campaign(
        "    actions:\n"
        "      - show_block: {block: shipping, params: {handling_days: 1}}\n"
        "      - show_block: coupn\n"
        "      - show_block: {block: contact_person, params: {name: Anna, rolle: Chefin}}\n"
        "      - show_block: {block: vip_presale}\n"
    )
    assert problems(text) == [
        "shop.yaml:8:47: campaigns[0].actions[0].show_block.params: block 'shipping' needs the "
        "parameter 'transit_days'",
        "shop.yaml:9:21: campaigns[0].actions[1].show_block: unknown block 'coupn' (did you mean "
        "'coupon'?); known: contact_person, coupon, faq_contact, free_gift, loyalty_balance, "
        "loyalty_points, loyalty_tier, newsletter, service_check, shipping, social_follow, "
        "stamp_card, survey, thank_you, vip_presale",
        "shop.yaml:10:66: campaigns[0].actions[2].show_block.params.rolle: block "
        "'contact_person' has no parameter 'rolle' (did you mean 'role'?)",
        "shop.yaml:11:21: campaigns[0].actions[3].show_block: block 'vip_presale' needs the "
        "parameter 'url'",
    ]


def test_coupon_and_gift_blocks_need_their_action() -> None:
    text = (
        SHOPIFY + "campaigns:\n  - id: a\n    actions:\n"
        "      - show_block: coupon\n      - show_block: free_gift\n"
        "  - id: b\n    split: {variants: {A: 1, B: 1}}\n    actions:\n"
        "      - issue_coupon: {type: percentage, value: 10, variant: A}\n"
        "      - show_block: coupon\n"
    )
    assert problems(text) == [
        "shop.yaml:8:21: campaigns[0].actions[0].show_block: block 'coupon' shows this "
        "campaign's issue_coupon, but the campaign has no issue_coupon action; add one",
        "shop.yaml:9:21: campaigns[0].actions[1].show_block: block 'free_gift' shows this "
        "campaign's free_gift, but the campaign has no free_gift action; add one",
        "shop.yaml:14:21: campaigns[1].actions[1].show_block: block 'coupon' is shown in every "
        "variant, but issue_coupon only in variant A; give the block the same variant",
    ]


def test_variant_without_split() -> None:
    text = campaign("    actions:\n      - tag_order: {tag: x, variant: A}\n")
    assert problems(text) == [
        "shop.yaml:8:38: campaigns[0].actions[0].tag_order.variant: variant 'A' needs a split "
        "with variants in this campaign"
    ]


def test_comma_inside_a_flow_mapping_gets_a_hint() -> None:
    text = campaign(
        "    actions:\n      - issue_coupon: {type: percentage, value: 10}\n"
        "      - show_block: {block: coupon, params: {headline: Schön, dass Sie da sind!}}\n"
    )
    assert problems(text) == [
        "shop.yaml:9:63: campaigns[0].actions[1].show_block.params['dass Sie da sind!']: block "
        "'coupon' has no parameter 'dass Sie da sind!' (inside {...}, put a text that contains "
        "a comma in quotes)"
    ]


def test_parameter_values_are_checked_by_the_injected_checker_at_their_position() -> None:
    # given a checker of block parameter values (the content layer passes its own)
    seen: list[Sequence[tuple[str, Any]]] = []

    def no_javascript(params: Sequence[tuple[str, Any]]) -> list[tuple[str, str]]:
        seen.append(params)
        return [(k, "must not be javascript:") for k, v in params if str(v).startswith("java")]

    text = campaign(
        "    actions:\n"
        "      - show_block:\n          block: survey\n"
        "          params: {url: 'javascript:alert(1)'}\n"
    )
    # when the config is loaded, then the value's own position is named
    assert problems(text, param_check=no_javascript) == [
        "shop.yaml:10:25: campaigns[0].actions[0].show_block.params.url: must not be javascript:"
    ]
    assert seen == [(("url", "javascript:alert(1)"),)]


def test_problems_are_collected_over_shop_and_campaigns_in_file_order() -> None:
    text = (
        "shop:\n  platform: shopyfi\n  domain: x.myshopify.com\n  currency: EUR\n"
        "campaigns:\n  - id: a\n    priority: x\n    actions: [tag_order: x]\n"
        "  - id: b\n    usage_limit: -1\n    actions: [tag_order: x]\n"
    )
    assert problems(text) == [
        "shop.yaml:2:13: shop.platform: unknown platform 'shopyfi' (did you mean 'shopify'?); "
        "expected one of shopify, woocommerce",
        "shop.yaml:7:15: campaigns[0].priority: expected a whole number, got 'x'",
        "shop.yaml:10:18: campaigns[1].usage_limit: expected a whole number of at least 1, got -1",
    ]


def test_yaml_1_1_oddities_are_not_silently_numbers_or_dates() -> None:
    # 1:30 would be 90 and 0x1F 31 in YAML 1.1; 2026-13-45 is no date at all
    text = campaign(
        "    schedule: {from: 2026-13-45, until: 2026-02-30T10:00:00}\n"
        "    usage_limit: 0b_\n    priority: 1:30\n"
        "    actions:\n      - tag_order: x\n"
    )
    assert problems(text) == [
        "shop.yaml:7:22: campaigns[0].schedule.from: expected a date such as 2026-11-01 or a "
        "moment such as 2026-11-01T08:00, got 2026-13-45",
        "shop.yaml:7:41: campaigns[0].schedule.until: expected a date such as 2026-11-01 or a "
        "moment such as 2026-11-01T08:00, got 2026-02-30T10:00:00",
        "shop.yaml:8:18: campaigns[0].usage_limit: expected a whole number of at least 1, got 0b_",
        "shop.yaml:9:15: campaigns[0].priority: expected a whole number, got 1:30",
    ]


# -- never a traceback --------------------------------------------------------------------------


def test_deep_nesting_is_refused_before_it_exhausts_the_stack() -> None:
    assert problems("[" * 5000 + "]" * 5000) == ["shop.yaml:1:65: nested deeper than 64 levels"]
    assert problems("- " * 3000 + "x\n") == ["shop.yaml:1:129: nested deeper than 64 levels"]


SEEDS = [
    (CONFIGS / "five_mistakes.yaml").read_text(encoding="utf-8"),
    *(p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.glob("*/shop.yaml"))),
]
PIECES = [
    "",
    " ",
    ":",
    "- ",
    "[",
    "]",
    "{",
    "}",
    "'",
    '"',
    "\n",
    "\t",
    "#",
    "&a ",
    "*a",
    "!!str ",
    "|",
    ">",
    "%",
    "@",
    "`",
    ",",
    "?",
    "0",
    "-1",
    "1e9",
    ".inf",
    "~",
    "null",
    "true",
    "ä",
    "2026-13-45",
    "0x1F",
    "1:30",
    "\\",
    "€",
    "subtotal >=",
    "any line_items.",
]


@pytest.mark.slow
@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(
    seed=st.sampled_from(SEEDS),
    edits=st.lists(
        st.tuples(st.floats(0, 1), st.integers(0, 8), st.sampled_from(PIECES)),
        min_size=1,
        max_size=4,
    ),
)
def test_a_mangled_file_gives_problems_never_a_traceback(
    seed: str, edits: list[tuple[float, int, str]]
) -> None:
    # given an example config with a few random edits
    text = seed
    for where, cut, piece in edits:
        pos = int(where * len(text))
        text = text[:pos] + piece + text[pos + cut :]
    # when it is loaded (with the content layer's value checks, as the CLI does)
    try:
        load_config_text(text, filename="shop.yaml", param_check=param_problems)
    except ConfigError as exc:
        # then every problem has a position inside the file
        lines = text.count("\n") + 2
        assert exc.problems
        assert all(1 <= p.line <= lines and p.column >= 1 for p in exc.problems)


# -- exchange rates -----------------------------------------------------------------------------


def test_bad_exchange_rates_are_named_one_by_one() -> None:
    text = WOO + '  exchange_rates: {JPY: 0, "¥": "0.0061", EUR: 1, usd: "1,08", CHF: abc}\n'
    assert problems(text + "campaigns: []\n") == [
        "shop.yaml:5:25: shop.exchange_rates.JPY: expected a rate above 0: how many EUR one JPY "
        'is worth (e.g. "0.0061"), got 0',
        "shop.yaml:5:28: shop.exchange_rates: expected a currency code such as JPY, got '¥'",
        "shop.yaml:5:43: shop.exchange_rates.EUR: EUR is the shop currency and needs no rate; "
        "remove this line",
        "shop.yaml:5:56: shop.exchange_rates.usd: expected a rate above 0: how many EUR one USD "
        "is worth (e.g. \"0.0061\"), got '1,08' (write a decimal point: 1.08)",
        "shop.yaml:5:69: shop.exchange_rates.CHF: expected a rate above 0: how many EUR one CHF "
        "is worth (e.g. \"0.0061\"), got 'abc'",
    ]


def test_exchange_rates_must_be_a_mapping_and_name_each_currency_once() -> None:
    assert problems(WOO + "  exchange_rates: 0.0061\ncampaigns: []\n") == [
        "shop.yaml:5:19: shop.exchange_rates: expected a mapping of currency: rate, e.g. "
        '{JPY: "0.0061"} (1 JPY = 0.0061 EUR), got 0.0061',
    ]
    twice = WOO + '  exchange_rates:\n    JPY: "0.0061"\n    jpy: "0.007"\ncampaigns: []\n'
    assert problems(twice) == ["shop.yaml:7:5: shop.exchange_rates.jpy: JPY is given twice"]
