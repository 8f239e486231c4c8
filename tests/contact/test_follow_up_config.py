"""The follow_up action and the contact_policy: section: loaded, planned, or every mistake pinned.

The messages are pinned: they are the product's user interface for shop owners.
"""

from __future__ import annotations

import json
import re
import textwrap
from datetime import date, time, timedelta
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from aftersale_kit.cli import decision_json
from aftersale_kit.core.config import load_config, load_config_text
from aftersale_kit.core.contact.follow_up import (
    Delay,
    DelayUnit,
    FollowUp,
    FollowUpKind,
    Purpose,
    template_files,
)
from aftersale_kit.core.contact.policy import ContactPolicy, MarketingCap, QuietHours
from aftersale_kit.core.counters import InMemoryCounters
from aftersale_kit.core.engine import decide
from aftersale_kit.core.errors import ConfigError
from aftersale_kit.core.model import EventKind
from aftersale_kit.core.schema import config_json_schema

from .builders import SHOPIFY, follow_up_campaign, order, utc

P = "campaigns[0].actions[0].follow_up"
POLICY = """contact_policy:
  marketing_cap: {max: 2, days: 30}
  min_gap_hours: 24
  quiet_hours: {from: 20:00, until: "08:00"}
  quiet_days: [sunday, holidays]
  holidays: [2026-12-25, "2026-12-26"]
  suppress: [" Bounce@Example.COM "]
"""
FULL = """kind: service_reminder
template: service_reminder
after: {months: 3}
repeat:
  every: {months: 3}
  times: 2
  stop_when: 'any line_items.sku == "WARTUNG"'
purpose: marketing
"""


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config_text(text, filename="shop.yaml")
    listed = [str(p) for p in info.value.problems]
    assert str(info.value) == "\n".join(listed)
    return listed


def follow_up(body: str, **kwargs: str) -> FollowUp:
    config = load_config_text(follow_up_campaign(body, **kwargs), filename="shop.yaml")
    action = config.campaigns[0].actions[0]
    assert isinstance(action, FollowUp)
    return action


# -- what loads ----------------------------------------------------------------------------------


def test_a_full_follow_up_and_policy_load() -> None:
    config = load_config_text(follow_up_campaign(FULL, head=POLICY), filename="shop.yaml")
    action = config.campaigns[0].actions[0]
    assert isinstance(action, FollowUp)
    assert (action.kind, action.template, action.after, action.purpose) == (
        FollowUpKind.SERVICE_REMINDER,
        "service_reminder",
        Delay(3, DelayUnit.MONTHS),
        Purpose.MARKETING,
    )
    assert action.repeat is not None and action.repeat.times == 2
    assert action.repeat.every == Delay(3, DelayUnit.MONTHS)
    assert action.repeat.stop_when is not None
    assert action.repeat.stop_when.source == 'any line_items.sku == "WARTUNG"'
    assert action.messages == 3
    assert config.contact_policy == ContactPolicy(
        timezone="Europe/Berlin",
        marketing_cap=MarketingCap(max=2, days=30),
        min_gap=timedelta(hours=24),
        quiet_hours=QuietHours(time(20, 0), time(8, 0)),
        quiet_days=frozenset({6}),
        quiet_on_holidays=True,
        holidays=(date(2026, 12, 25), date(2026, 12, 26)),
        suppressed=frozenset({"bounce@example.com"}),
    )
    assert config.policy is config.contact_policy


def test_without_a_section_the_policy_is_consent_and_suppression_in_the_shop_zone() -> None:
    config = load_config_text(follow_up_campaign("kind: survey\nafter: {days: 14}"))
    assert config.contact_policy is None
    assert config.policy == ContactPolicy(timezone="Europe/Berlin")


@pytest.mark.parametrize(
    ("kind", "purpose"),
    [
        ("survey", Purpose.TRANSACTIONAL),
        ("service_reminder", Purpose.MARKETING),
        ("review_request", Purpose.MARKETING),
        ("points_reminder", Purpose.MARKETING),
    ],
)
def test_the_purpose_defaults_per_kind_and_the_template_to_the_kind(
    kind: str, purpose: Purpose
) -> None:
    action = follow_up(f"kind: {kind}\nafter: {{business_days: 3}}")
    assert (action.purpose, action.template, action.after) == (
        purpose,
        kind,
        Delay(3, DelayUnit.BUSINESS_DAYS),
    )
    assert action.repeat is None


def test_a_survey_may_be_declared_marketing_and_a_custom_one_names_its_template(
    tmp_path: Path,
) -> None:
    assert follow_up("kind: survey\nafter: {days: 0}\npurpose: marketing").purpose is (
        Purpose.MARKETING
    )
    (tmp_path / "vorlagen" / "follow_up").mkdir(parents=True)
    html, plain = template_files("garantie")
    (tmp_path / "vorlagen" / html).write_text("<p>Hallo</p>", encoding="utf-8")
    (tmp_path / "vorlagen" / plain).write_text("Hallo", encoding="utf-8")
    text = follow_up_campaign("kind: custom\ntemplate: garantie\nafter: {days: 300}").replace(
        "  timezone: Europe/Berlin\n", "  timezone: Europe/Berlin\n  templates_dir: vorlagen\n"
    )
    (tmp_path / "shop.yaml").write_text(text, encoding="utf-8")
    # the plain-text part names the subject
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "shop.yaml", name="shop.yaml")
    assert [str(p) for p in info.value.problems] == [
        f"shop.yaml:13:21: {P}.template: follow_up/garantie.txt.j2 sets no subject: add "
        '{% set subject = "..." %} at its top'
    ]
    (tmp_path / "vorlagen" / plain).write_text(
        '{% set subject = "Ihre Garantie" %}Hallo', encoding="utf-8"
    )
    action = load_config(tmp_path / "shop.yaml").campaigns[0].actions[0]
    assert isinstance(action, FollowUp)
    assert (action.kind, action.template, action.purpose) == (
        FollowUpKind.CUSTOM,
        "garantie",
        Purpose.MARKETING,
    )
    # the plain-text part missing is named
    (tmp_path / "vorlagen" / "follow_up" / "garantie.txt.j2").unlink()
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "shop.yaml", name="shop.yaml")
    assert [str(p) for p in info.value.problems] == [
        f"shop.yaml:13:21: {P}.template: template 'garantie' not found: add "
        "follow_up/garantie.txt.j2 to shop.templates_dir"
    ]


def test_the_engine_plans_a_follow_up_with_its_key_at_no_cost() -> None:
    config = load_config_text(follow_up_campaign(FULL, head=POLICY), filename="shop.yaml")
    decision = decide(
        config,
        order(),
        event=EventKind.ORDER_FULFILLED,
        counters=InMemoryCounters(),
        now=utc(2026, 2, 2, 10, 0),
        code_secret=b"s" * 32,
    )
    [planned] = decision.actions
    assert planned.idempotency_key == "test.myshopify.com:1001:nachfrage:0"
    assert planned.cost.amount == 0 and planned.coupon_code is None
    outcome = decision.outcome("nachfrage")
    assert outcome is not None and outcome.fired
    assert outcome.detail == (
        "fired: service_reminder e-mail 'service_reminder' after 3 months, then 2 more every "
        '3 months until `any line_items.sku == "WARTUNG"` (marketing); offer cost 0.00 EUR'
    )
    # and the evaluate command's JSON carries it, named as in the file
    action = decision_json(order(), decision)["actions"][0]
    assert action["kind"] == "follow_up"
    assert action["details"] == {
        "kind": "service_reminder",
        "template": "service_reminder",
        "after": {"months": 3},
        "repeat": {
            "every": {"months": 3},
            "times": 2,
            "stop_when": 'any line_items.sku == "WARTUNG"',
        },
        "purpose": "marketing",
        "variant": None,
        "link": None,
        "link_text": None,
    }
    json.dumps(action)


def test_the_schema_accepts_the_full_example_and_refuses_what_the_loader_refuses() -> None:
    validator = Draft202012Validator(config_json_schema())
    text = follow_up_campaign(FULL, head=POLICY).replace("20:00", '"20:00"')
    document = yaml.safe_load(text)
    document["contact_policy"]["holidays"] = ["2026-12-25", "2026-12-26"]
    assert list(validator.iter_errors(document)) == []
    action = document["campaigns"][0]["actions"][0]["follow_up"]
    action["after"] = {"days": 14, "months": 1}
    document["contact_policy"]["quiet_days"] = ["sonntag"]
    assert len(list(validator.iter_errors(document))) == 2


# -- mistakes, pinned ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "kind: survy\nafter: {days: 14}",
            f"shop.yaml:11:17: {P}.kind: unknown follow-up kind 'survy' (did you mean 'survey'?); "
            "expected one of service_reminder, survey, review_request, points_reminder, custom",
        ),
        (
            "kind: survey\nafter: 14",
            f"shop.yaml:12:18: {P}.after: expected a delay such as {{days: 14}}, got 14",
        ),
        (
            "kind: survey\nafter: {days: 14, business_days: 3}",
            f"shop.yaml:12:29: {P}.after: write one unit only, e.g. {{days: 14}}",
        ),
        (
            "kind: survey\nafter: {weeks: 2}",
            f"shop.yaml:12:19: {P}.after: write weeks as days, e.g. days: 14 for two weeks",
        ),
        (
            "kind: survey\nafter: {werktage: 3}",
            f"shop.yaml:12:19: {P}.after: unknown unit 'werktage' (did you mean "
            "'business_days'?); expected days, business_days, months",
        ),
        (
            "kind: survey\nafter: {days: 4000}",
            f"shop.yaml:12:25: {P}.after.days: expected a whole number of days from 0 to 3650, "
            "got 4000",
        ),
        (
            "kind: survey\nafter: {months: 0}",
            f"shop.yaml:12:27: {P}.after.months: expected a whole number of months from 1 to "
            "120, got 0",
        ),
        (
            "kind: service_reminder\nafter: {months: 3}\n"
            "repeat: {every: {business_days: 3}, times: 2}",
            f"shop.yaml:13:28: {P}.repeat.every: repeat counts days or months; business_days "
            "are only for after:",
        ),
        (
            "kind: service_reminder\nafter: {months: 3}\nrepeat: {every: {months: 3}}",
            f"shop.yaml:13:19: {P}.repeat: missing required key 'times'",
        ),
        (
            "kind: service_reminder\nafter: {months: 3}\nrepeat: {every: {months: 3}, times: 0}",
            f"shop.yaml:13:47: {P}.repeat.times: expected a whole number of e-mails after the "
            "first, from 1 to 60, got 0",
        ),
        (
            "kind: service_reminder\nafter: {months: 3}\n"
            "repeat: {every: {months: 3}, times: 2, stop_when: 'any line_items.skuu == \"W\"'}",
            f"shop.yaml:13:66: {P}.repeat.stop_when: unknown field 'line_items.skuu' "
            "(did you mean 'line_items.sku'?)",
        ),
        (
            "kind: service_reminder\nafter: {months: 3}\n"
            "repeat: {every: {months: 3}, times: 2, stop_when: ['a', 'b']}",
            f"shop.yaml:13:61: {P}.repeat.stop_when: write one condition (join several with "
            "and / or), not a list",
        ),
        (
            "kind: survey\nafter: {days: 14}\npurpose: service",
            f"shop.yaml:13:20: {P}.purpose: unknown purpose 'service'; expected one of "
            "marketing, transactional",
        ),
        (
            "kind: custom\nafter: {days: 14}",
            f"shop.yaml:11:11: {P}: a custom follow_up needs template: <name of your template>",
        ),
        (
            "kind: survey\nafter: {days: 14}\ntemplate: survy",
            f"shop.yaml:13:21: {P}.template: unknown template 'survy' (did you mean 'survey'?); "
            "built in are service_reminder, survey, review_request, points_reminder; for your "
            "own, set shop.templates_dir and put follow_up/survy.html.j2 and "
            "follow_up/survy.txt.j2 there",
        ),
        (
            "kind: survey\nafter: {days: 14}\nvariant: A",
            f"shop.yaml:13:20: {P}.variant: variant 'A' needs a split with variants in this "
            "campaign",
        ),
    ],
)
def test_follow_up_mistakes(body: str, expected: str) -> None:
    assert problems(follow_up_campaign(body)) == [expected]


def test_a_misspelt_key_is_named_with_the_missing_one() -> None:
    assert problems(follow_up_campaign("kind: survey\ndelay: {days: 14}")) == [
        f"shop.yaml:11:11: {P}: missing required key 'after'",
        f"shop.yaml:12:11: {P}: unknown key 'delay' (did you mean 'after'?)",
    ]


def test_a_follow_up_needs_a_paid_or_fulfilled_trigger() -> None:
    text = follow_up_campaign("kind: survey\nafter: {days: 3}", trigger="refund_created")
    assert problems(text) == [
        f"shop.yaml:11:11: {P}: a follow_up counts its delay from the order being paid or "
        "fulfilled, but this campaign's trigger is 'refund_created'; use trigger: order_paid "
        "or order_fulfilled"
    ]
    assert follow_up("kind: survey\nafter: {days: 3}", trigger="order_paid").after.amount == 3


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        (
            "  marketing_cap: {max: 0, days: 30}\n",
            [
                "shop.yaml:7:24: contact_policy.marketing_cap.max: expected a whole number from 1 "
                "to 100, got 0"
            ],
        ),
        (
            "  marketing_cap: {max: 2}\n",
            ["shop.yaml:7:18: contact_policy.marketing_cap: missing required key 'days'"],
        ),
        (
            "  min_gap_hours: '24'\n",
            [
                "shop.yaml:7:18: contact_policy.min_gap_hours: expected a whole number of hours "
                "from 1 to 8760, got '24' (write the number without quotes)"
            ],
        ),
        (
            "  quiet_hours: {from: '20 Uhr', until: 25:00}\n",
            [
                "shop.yaml:7:23: contact_policy.quiet_hours.from: expected a time of day such "
                "as \"20:00\", got '20 Uhr'",
                "shop.yaml:7:40: contact_policy.quiet_hours.until: expected a time of day such "
                'as "20:00", got 25:00',
            ],
        ),
        (
            "  quiet_hours: {from: '08:00', until: '08:00'}\n",
            [
                "shop.yaml:7:39: contact_policy.quiet_hours.until: from and until are the same "
                "time; quiet hours need an end (e.g. 20:00 to 08:00)"
            ],
        ),
        (
            "  quiet_days: [sonntag, holiday]\n",
            [
                "shop.yaml:7:16: contact_policy.quiet_days[0]: unknown weekday 'sonntag' (did "
                "you mean 'sunday'?); expected one of monday, tuesday, wednesday, thursday, "
                "friday, saturday, sunday, holidays",
                "shop.yaml:7:25: contact_policy.quiet_days[1]: unknown weekday 'holiday' (did "
                "you mean 'holidays'?); expected one of monday, tuesday, wednesday, thursday, "
                "friday, saturday, sunday, holidays",
            ],
        ),
        (
            "  quiet_days: [monday, tuesday, wednesday, thursday, friday, saturday, sunday]\n",
            [
                "shop.yaml:7:15: contact_policy.quiet_days: every day is quiet, so no e-mail could "
                "ever go out; remove some days"
            ],
        ),
        (
            "  holidays: [2026-12-25, 2026-13-45, weihnachten]\n",
            [
                "shop.yaml:7:26: contact_policy.holidays[1]: expected a date such as "
                "2026-12-25, got 2026-13-45",
                "shop.yaml:7:38: contact_policy.holidays[2]: expected a date such as "
                "2026-12-25, got 'weihnachten'",
            ],
        ),
        (
            "  suppress: [ok@example.de, 'kein at example.de']\n",
            [
                "shop.yaml:7:29: contact_policy.suppress[1]: expected an e-mail address, got "
                "'kein at example.de'"
            ],
        ),
    ],
)
def test_contact_policy_mistakes(section: str, expected: list[str]) -> None:
    text = (
        SHOPIFY
        + "contact_policy:\n"
        + section
        + "campaigns:\n  - id: a\n    actions: [tag_order: x]\n"
    )
    assert problems(text) == expected


def test_the_examples_of_the_schedule_and_policy_docs_load() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "follow-ups.md").read_text("utf-8")
    section = text.split("## Schedule and contact policy", 1)[1].split("\n## ", 1)[0]
    action, shop, policy = re.findall(r"```yaml\n(.*?)```", section, re.S)
    below_shop = textwrap.dedent(shop).split("\n", 1)[1]
    config = load_config_text(SHOPIFY + below_shop + policy + action, filename="follow-ups.md")
    assert config.contact_policy is not None and config.contact_policy.suppressed == {
        "bounced@example.com"
    }
    follow_up = config.campaigns[0].actions[0]
    assert isinstance(follow_up, FollowUp)
    assert (
        follow_up.link
        == config.settings.booking_url
        == ("https://elektro-krause.de/service/termin")
    )
    assert config.settings.contact is not None and config.settings.contact.hours
