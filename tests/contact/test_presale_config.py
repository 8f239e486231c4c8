"""The vip_presale action: loaded, fired for the segment only, or every mistake pinned.

The messages are pinned: they are the product's user interface for shop owners.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from aftersale_kit.cli import decision_json
from aftersale_kit.core.config import load_config_text
from aftersale_kit.core.contact.follow_up import Purpose
from aftersale_kit.core.contact.presale import VipPresale, announcement_due
from aftersale_kit.core.counters import InMemoryCounters
from aftersale_kit.core.decision import Decision
from aftersale_kit.core.engine import decide
from aftersale_kit.core.errors import ConfigError
from aftersale_kit.core.model import Customer, EventKind
from aftersale_kit.storage.decisions import TAG_CUSTOMER, effect_kind, job_key

from .builders import BERLIN, SHOPIFY, eur, order, utc

P = "campaigns[0].actions[0].vip_presale"
FULL = """name: Frühjahrs-Vorverkauf
starts: 2027-03-01T09:00
ends: 2027-03-07
tag: vip-fruehjahr
url: https://shop.example/pages/vip
"""
SEGMENT = "customer.orders_count >= 3 or customer.total_spent >= 500"


def presale_campaign(
    action: str, *, trigger: str = "order_paid", when: str = SEGMENT, cid: str = "vip"
) -> str:
    body = "\n".join(f"          {line}" for line in action.strip("\n").splitlines())
    return (
        SHOPIFY
        + f"campaigns:\n  - id: {cid}\n    trigger: {trigger}\n    when: '{when}'\n"
        + f"    actions:\n      - vip_presale:\n{body}\n"
    )


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config_text(text, filename="shop.yaml")
    return [str(p) for p in info.value.problems]


def presale(body: str, **kwargs: str) -> VipPresale:
    config = load_config_text(presale_campaign(body, **kwargs), filename="shop.yaml")
    action = config.campaigns[0].actions[0]
    assert isinstance(action, VipPresale)
    return action


def test_a_full_presale_loads_in_the_shops_time_zone() -> None:
    action = presale(FULL)
    assert action.name == "Frühjahrs-Vorverkauf"
    assert action.starts_at == datetime(2027, 3, 1, 9, 0, tzinfo=BERLIN)
    assert action.ends_at == datetime(2027, 3, 8, 0, 0, tzinfo=BERLIN)  # the end of the 7th
    assert (action.tag, action.template, action.purpose) == (
        "vip-fruehjahr",
        "vip_presale",
        Purpose.MARKETING,
    )
    assert action.url == "https://shop.example/pages/vip"


def test_the_tag_defaults_to_the_campaign_id() -> None:
    action = presale("name: Sommer\nstarts: 2027-06-01\nends: 2027-06-03", cid="sommer-vip")
    assert action.tag == "vip-presale-sommer-vip"
    assert action.url is None


def test_missing_keys_and_a_misspelling_are_named() -> None:
    assert problems(presale_campaign("name: Sommer\nbegin: 2027-06-01")) == [
        f"shop.yaml:12:11: {P}: missing required key 'starts'",
        f"shop.yaml:12:11: {P}: missing required key 'ends'",
        f"shop.yaml:13:11: {P}: unknown key 'begin'",
    ]


def test_an_end_before_the_start_is_refused() -> None:
    text = presale_campaign("name: Sommer\nstarts: 2027-06-05T10:00\nends: 2027-06-05T09:00")
    assert problems(text) == [f"shop.yaml:14:17: {P}.ends: the pre-sale ends before it starts"]


def test_a_tag_with_a_comma_and_a_plain_http_url_are_refused() -> None:
    text = presale_campaign(
        "name: Sommer\nstarts: 2027-06-01\nends: 2027-06-03\ntag: 'vip, sommer'\n"
        "url: http://shop.example/vip"
    )
    assert problems(text) == [
        f"shop.yaml:15:16: {P}.tag: write one tag of 1 to 255 characters without commas, "
        "e.g. vip-presale-vip",
        f"shop.yaml:16:16: {P}.url: write the page's full address, e.g. "
        "https://shop.example/pages/vip",
    ]


def test_transactional_is_refused_and_an_unpaid_trigger_too() -> None:
    text = presale_campaign(
        "name: Sommer\nstarts: 2027-06-01\nends: 2027-06-03\npurpose: transactional",
        trigger="order_created",
    )
    assert problems(text) == [
        f"shop.yaml:12:11: {P}: a vip_presale invites the customers of paid orders, but this "
        "campaign's trigger is 'order_created'; use trigger: order_paid or order_fulfilled",
        f"shop.yaml:15:20: {P}.purpose: a pre-sale invitation is advertising: it needs the "
        "customer's consent and counts against the marketing cap; remove purpose: or write "
        "purpose: marketing",
    ]


def test_a_bad_moment_is_named() -> None:
    text = presale_campaign("name: Sommer\nstarts: next monday\nends: 2027-06-03")
    assert problems(text) == [
        f"shop.yaml:13:19: {P}.starts: expected a date such as 2026-11-01 or a moment such as "
        "2026-11-01T08:00, got 'next monday'"
    ]


# -- the segment ---------------------------------------------------------------------------------


def _decide(text: str, **changes: Any) -> Decision:
    config = load_config_text(text, filename="shop.yaml")
    return decide(
        config,
        order(**changes),
        event=EventKind.ORDER_PAID,
        counters=InMemoryCounters(),
        now=utc(2027, 2, 20, 10),
        code_secret=b"k" * 32,
    )


def test_the_segment_fires_for_a_qualifying_customer_only() -> None:
    text = presale_campaign(FULL)
    loyal = Customer(id="c-7", email="kim@example.de", orders_count=4, total_spent=eur("120"))
    new = Customer(id="c-8", email="ben@example.de", orders_count=1, total_spent=eur("80"))
    fired = _decide(text, customer=loyal)
    assert fired.fired == ("vip",)
    (planned,) = fired.actions
    assert effect_kind(planned) == TAG_CUSTOMER
    assert job_key(planned, shop="s", customer_key="c-7") == "s:vip:vip:c-7"
    assert decision_json(order(customer=loyal), fired)["actions"][0]["kind"] == "vip_presale"
    not_fired = _decide(text, customer=new)
    assert not_fired.fired == () and not_fired.actions == ()
    detail = not_fired.outcomes[0].detail
    assert "customer.orders_count" in detail and "1" in detail


def test_a_guest_is_told_why_there_is_no_tag() -> None:
    text = presale_campaign(FULL, when="order.subtotal >= 100")
    guest = _decide(text, customer=None)
    assert guest.fired == ("vip",)
    assert "guest order: no customer account to tag" in guest.outcomes[0].detail
    (planned,) = guest.actions
    assert job_key(planned, shop="s", customer_key="email:kim@example.de") is None
    assert job_key(planned, shop="s", customer_key=None) is None


def test_the_announcement_is_due_at_the_start_or_at_once_and_never_after_the_end() -> None:
    action = presale(FULL)
    start = datetime(2027, 3, 1, 9, 0, tzinfo=BERLIN)
    assert announcement_due(action, utc(2027, 2, 20)) == start
    assert announcement_due(action, utc(2027, 3, 2)) == utc(2027, 3, 2)
    assert announcement_due(action, utc(2027, 3, 8)) is None
