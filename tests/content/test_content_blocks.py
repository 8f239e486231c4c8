"""Every block renders in German and English, with Babel-formatted money and dates."""

from __future__ import annotations

import html
import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from content_samples import (
    ALL_BLOCKS,
    NOW,
    campaign,
    coupon_action,
    decide_by_hand,
    full_setup,
    loyalty_sample,
    order,
    settings,
    show,
)

from aftersale_kit.content import (
    ContentError,
    ContentRenderer,
    RenderedBlock,
    blocks_payload,
    confirmation_content,
    render_blocks,
    render_email,
)
from aftersale_kit.content.formatting import Formatter
from aftersale_kit.content.views import BUILDERS, countdown_text
from aftersale_kit.core.blocks import BLOCKS
from aftersale_kit.core.campaign import CouponKind, ShopConfig, Window
from aftersale_kit.core.model import EventKind


def plain(text: str) -> str:
    """HTML unescaped, Babel's no-break and thin spaces as plain spaces."""
    return html.unescape(text).replace("\xa0", " ").replace("\u202f", " ").replace("\u2009", " ")


def visible(markup: str) -> str:
    """The text a reader sees: tags removed, white space collapsed."""
    return " ".join(plain(re.sub(r"<[^>]+>", " ", markup)).split())


def render_all(renderer: ContentRenderer, locale: str, **kw: Any) -> dict[str, RenderedBlock]:
    config, the_order, decision = full_setup(locale=locale, **kw)
    blocks = render_blocks(
        decision=decision,
        order=the_order,
        config=config,
        now=NOW,
        renderer=renderer,
        loyalty=loyalty_sample(),
    )
    return {b.block: b for b in blocks}


EXPECTED: dict[str, dict[str, list[str]]] = {
    "coupon": {
        "de": [
            "10 % Rabatt auf Ihre nächste Bestellung",
            "DANKE-7KQ2M9XA",
            "Gültig bis 21.12.2025",
            "ab 50,00 € Bestellwert",
            "Code kopieren",
        ],
        "en": [
            "10% off your next order",
            "DANKE-7KQ2M9XA",
            "Valid until Dec 21, 2025",
            "on orders of €50.00 or more",
            "Copy code",
        ],
    },
    "contact_person": {
        "de": [
            "Ihr persönlicher Kontakt",
            "Julia Berger",
            "Kundenservice",
            'href="tel:+49301234567"',
            'href="mailto:julia@example.com"',
            "Telefon",
        ],
        "en": ["Your personal contact", "Julia Berger", 'href="tel:+49301234567"', "Phone"],
    },
    "shipping": {
        # Friday 21.11.: shipped within 1 business day, 2-4 days in transit.
        "de": [
            "Voraussichtliche Zustellung",
            "Di., 25.11. – Fr., 28.11.",
            "DHL Paket",
            "DHL",
            "Bearbeitungszeit bis zu 1 Werktag",
            "Laufzeit 2–4 Werktage",
        ],
        "en": [
            "Expected delivery",
            "Tue, Nov 25 – Fri, Nov 28",
            "DHL Paket",
            "Handling time up to 1 business day",
            "Transit time 2–4 business days",
        ],
    },
    "thank_you": {
        "de": [
            "Schön, dass Sie bei uns eingekauft haben!",
            'src="https://cdn.example.com/thanks.jpg"',
        ],
        "en": ["We're glad you shopped with us!", 'alt="Unser Team"'],
    },
    "faq_contact": {
        "de": [
            "Fragen? Wir helfen gern.",
            'href="https://shop.example.com/faq"',
            "Zu den FAQ",
            'href="https://kaffee-example.de/pages/returns"',
            "Rücksendung",
        ],
        "en": ["Questions? We're happy to help.", "Read the FAQ", "Contact us"],
    },
    "newsletter": {
        "de": [
            "Newsletter abonnieren",
            "Double-Opt-In",
            'href="https://shop.example.com/newsletter"',
        ],
        "en": ["Subscribe to the newsletter", "double opt-in"],
    },
    "vip_presale": {
        "de": ["VIP-Vorverkauf", "Start: 01.03.2026", 'href="https://shop.example.com/vip"'],
        "en": ["VIP pre-sale", "Starts Mar 1, 2026"],
    },
    "social_follow": {
        "de": ["Folgen Sie uns", "Instagram", 'href="https://instagram.com/example"'],
        "en": ["Follow us", "Instagram"],
    },
    "free_gift": {
        "de": ["Ein kleines Geschenk für Sie", "In Ihrem Paket liegt zusätzlich: eine Probe"],
        "en": ["A little gift for you", "Your parcel also contains: eine Probe"],
    },
    "service_check": {
        "de": [
            "Kostenloser Check alle 3 Monate",
            "Ihr erster kostenloser Check: ab Februar 2026",
            "Termin vereinbaren",
        ],
        "en": ["Free check every 3 months", "Your first free check: from February 2026"],
    },
    "survey": {
        "de": ["Wie war Ihr Einkauf?", "Zur Umfrage", 'href="https://survey.example.com/s/1"'],
        "en": ["How was your shopping experience?", "Take the survey"],
    },
    "loyalty_points": {
        "de": [
            "Sie sammeln 120 Punkte mit dieser Bestellung",
            "nach 14 Tagen gutgeschrieben",
            "Darin enthalten: 40 Punkte Bonus aus einer Aktion.",
        ],
        "en": [
            "You earn 120 points with this order",
            "credited after 14 days",
            "Including 40 points bonus",
        ],
    },
    "loyalty_balance": {
        "de": [
            "Ihr Punktestand: 1.240 Punkte",
            "Dazu kommen 120 Punkte, die noch vorgemerkt sind.",
            "5,00 € Gutschein für 500 Punkte",
            "Noch 260 Punkte bis: Espresso-Tasse",
            'href="https://kaffee-example.de/pages/bonusprogramm"',
        ],
        "en": [
            "Your balance: 1,240 points",
            "€5.00 coupon for 500 points",
            "260 points to go until: Espresso-Tasse",
            "Redeem points",
        ],
    },
    "loyalty_tier": {
        "de": ["Ihr Status: Silber", "Noch 120,00 € bis Gold"],
        "en": ["Your tier: Silber", "€120.00 to go until Gold"],
    },
    "stamp_card": {
        "de": [
            "Kaffee-Sammelkarte",
            "3 von 5 Stempeln gesammelt",
            "Noch 2 Stempel bis zu Ihrer Prämie.",
            "Stempel 3: gesammelt",
            "Stempel 4: offen",
        ],
        "en": ["3 of 5 stamps collected", "2 more stamps until your reward.", "Stamp 5: open"],
    },
}


def test_every_catalogue_block_has_data_texts_and_a_test() -> None:
    assert set(BUILDERS) == set(BLOCKS) == set(EXPECTED) == set(ALL_BLOCKS)


@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("name", sorted(BLOCKS))
def test_block_renders_in_both_languages(renderer: ContentRenderer, name: str, lang: str) -> None:
    # given a shop in that language and a decision that shows every block
    blocks = render_all(renderer, "de_DE" if lang == "de" else "en_US")
    # when the block is rendered
    block = blocks[name]
    # then its HTML says what it should, in that language
    text = plain(block.html)
    seen = visible(block.html)
    for expected in EXPECTED[name][lang]:
        assert expected in text or expected in seen, f"{expected!r} missing in {name} ({lang})"
    assert f'data-ak-block="{name}"' in block.html
    # and its data is JSON and carries the same headline
    assert json.loads(json.dumps(block.data)) == block.data
    assert plain(block.data["headline"]) in text


def test_blocks_come_in_decision_order_with_their_campaign(renderer: ContentRenderer) -> None:
    config, the_order, decision = full_setup()
    blocks = render_blocks(
        decision=decision, order=the_order, config=config, now=NOW, renderer=renderer
    )
    assert [(b.block, b.campaign_id) for b in blocks][:3] == [
        ("coupon", "danke-coupon"),
        ("free_gift", "gratis-probe"),
        ("contact_person", "bestaetigung"),
    ]


@pytest.mark.parametrize(
    ("kind", "value", "de", "en"),
    [
        (CouponKind.PERCENTAGE, "10", "10 %", "10%"),
        (CouponKind.PERCENTAGE, "12.5", "12,5 %", "12.5%"),
        (CouponKind.FIXED_AMOUNT, "5", "5,00 €", "€5.00"),
        (CouponKind.FREE_SHIPPING, "0", "Gratisversand", "Free shipping"),
    ],
)
def test_coupon_value_per_kind_and_locale(
    renderer: ContentRenderer, kind: CouponKind, value: str, de: str, en: str
) -> None:
    for locale, expected in (("de_DE", de), ("en_US", en)):
        block = render_all(renderer, locale, kind=kind, value=value)["coupon"]
        assert plain(block.data["value"]) == expected
        assert expected in plain(block.html)


def test_coupon_data_for_clients_that_cannot_show_html(renderer: ContentRenderer) -> None:
    data = render_all(renderer, "de_DE")["coupon"].data
    assert data["code"] == "DANKE-7KQ2M9XA"
    assert data["kind"] == "percentage"
    assert data["expires_on"] == "2025-12-21"
    assert data["expires_at_iso"] == "2025-12-21T09:05:00Z"
    assert data["minimum_order_amount"] == "50"
    assert plain(data["headline"]) == "10 % Rabatt auf Ihre nächste Bestellung"
    assert data["text"].startswith("Als Dankeschön")


def test_coupon_without_minimum_order_says_nothing_about_one(renderer: ContentRenderer) -> None:
    block = render_all(renderer, "de_DE", minimum_order=None)["coupon"]
    assert block.data["minimum_order"] is None
    assert "Bestellwert" not in block.html


def _coupon_block(
    renderer: ContentRenderer, *, valid_days: int, window: Window | None = None, **params: Any
) -> RenderedBlock:
    the_order = order()
    campaigns = (
        campaign(
            "c", (coupon_action(valid_days=valid_days), show("coupon", **params)), window=window
        ),
    )
    config = ShopConfig(settings=settings(), campaigns=campaigns)
    decision = decide_by_hand(campaigns, the_order)
    [block] = render_blocks(
        decision=decision, order=the_order, config=config, now=NOW, renderer=renderer
    )
    return block


def test_short_coupon_gets_a_live_countdown(renderer: ContentRenderer) -> None:
    # given a coupon valid for 7 days
    block = _coupon_block(renderer, valid_days=7)
    # then the page counts down to its expiry, and says so without script too
    assert block.data["countdown"] is True
    assert 'data-ak-expires="2025-11-28T09:05:00Z"' in block.html
    assert "Noch 7 Tage gültig" in block.html
    assert 'data-ak-now="2025-11-21T09:05:00Z"' in block.html
    assert "<script>" in block.html


def test_long_coupon_has_no_countdown(renderer: ContentRenderer) -> None:
    block = _coupon_block(renderer, valid_days=30)
    assert block.data["countdown"] is False
    assert 'data-ak-expires="' not in block.html


def test_campaign_with_a_window_end_gets_a_countdown(renderer: ContentRenderer) -> None:
    window = Window(ends_at=datetime(2025, 12, 24, tzinfo=UTC))
    assert _coupon_block(renderer, valid_days=30, window=window).data["countdown"] is True


def test_countdown_parameter_wins(renderer: ContentRenderer) -> None:
    assert _coupon_block(renderer, valid_days=3, countdown=False).data["countdown"] is False
    assert _coupon_block(renderer, valid_days=30, countdown=True).data["countdown"] is True


def test_coupon_block_needs_a_coupon_of_its_campaign(renderer: ContentRenderer) -> None:
    # given the engine planned the coupon block but (e.g. in another variant) no coupon
    the_order = order()
    campaigns = (campaign("c", (show("coupon"),)),)
    config = ShopConfig(settings=settings(), campaigns=campaigns)
    decision = decide_by_hand(campaigns, the_order)
    # then there is nothing to show rather than an empty coupon
    assert (
        render_blocks(decision=decision, order=the_order, config=config, now=NOW, renderer=renderer)
        == []
    )


def test_shop_owner_text_per_language(renderer: ContentRenderer) -> None:
    the_order = order(locale="en")
    headline = {"de": "Danke für Ihre Treue", "en": "Thanks for your loyalty"}
    campaigns = (campaign("c", (coupon_action(), show("coupon", headline=headline))),)
    config = ShopConfig(settings=settings(), campaigns=campaigns)
    decision = decide_by_hand(campaigns, the_order)
    [block] = render_blocks(
        decision=decision, order=the_order, config=config, now=NOW, renderer=renderer
    )
    assert block.data["headline"] == "Thanks for your loyalty"


@pytest.mark.parametrize(
    ("shop_locale", "order_locale", "customer_locale", "expected"),
    [
        ("de_DE", None, None, "de_DE"),
        ("de_DE", "en-US", None, "en_US"),  # the order's language wins
        ("de_DE", None, "en", "en"),  # then the customer's
        ("de_DE", "fr", None, "de_DE"),  # a language without texts: the shop's
        ("en_GB", "en", None, "en_GB"),  # same language: the shop's regional formats
        ("fr_FR", None, None, "en"),  # nothing usable: English
    ],
)
def test_locale_choice(
    renderer: ContentRenderer,
    shop_locale: str,
    order_locale: str | None,
    customer_locale: str | None,
    expected: str,
) -> None:
    the_order = order(locale=order_locale, customer_locale=customer_locale)
    config, _, decision = full_setup(the_order=the_order, locale=shop_locale)
    payload = blocks_payload(
        decision=decision, order=the_order, config=config, now=NOW, renderer=renderer
    )
    assert payload["locale"] == expected


def test_shipping_method_from_the_order_or_the_parameter(renderer: ContentRenderer) -> None:
    the_order = order(shipping_method="Hermes Standard")
    for params, expected in (({}, "Hermes Standard"), ({"method": "Express"}, "Express")):
        campaigns = (campaign("s", (show("shipping", handling_days=0, transit_days=1, **params),)),)
        config = ShopConfig(settings=settings(), campaigns=campaigns)
        decision = decide_by_hand(campaigns, the_order)
        [block] = render_blocks(
            decision=decision, order=the_order, config=config, now=NOW, renderer=renderer
        )
        assert block.data["method"] == expected
        # shipped the same day, one day in transit: Monday after the Friday order
        assert block.data["window"] == "Mo., 24.11."
        assert block.data["handling"] is None


def test_shipping_after_fulfilment_counts_transit_from_now(renderer: ContentRenderer) -> None:
    the_order = order()
    campaigns = (campaign("s", (show("shipping", handling_days=2, transit_days=1),)),)
    config = ShopConfig(settings=settings(), campaigns=campaigns)
    decision = decide_by_hand(campaigns, the_order, event=EventKind.ORDER_FULFILLED)
    now = datetime(2025, 11, 25, 12, 0, tzinfo=UTC)  # Tuesday
    [block] = render_blocks(
        decision=decision, order=the_order, config=config, now=now, renderer=renderer
    )
    assert (block.data["earliest"], block.data["latest"]) == ("2025-11-26", "2025-11-26")


def test_contact_without_photo_shows_initials(renderer: ContentRenderer) -> None:
    block = render_all(renderer, "de_DE")["contact_person"]
    assert block.data["initials"] == "JB"
    assert "ak-avatar--initials" in block.html


def test_contact_with_photo(renderer: ContentRenderer) -> None:
    the_order = order()
    campaigns = (campaign("p", (show("contact_person", name="Jo", photo_url="/img/jo.jpg"),)),)
    config = ShopConfig(settings=settings(), campaigns=campaigns)
    decision = decide_by_hand(campaigns, the_order)
    [block] = render_blocks(
        decision=decision, order=the_order, config=config, now=NOW, renderer=renderer
    )
    assert 'src="https://kaffee-example.de/img/jo.jpg" alt="Foto von Jo"' in block.html


@pytest.mark.parametrize(
    ("block", "params", "message"),
    [
        ("survey", {"url": "javascript:alert(1)"}, "url must start with https://"),
        (
            "contact_person",
            {"name": "X", "photo_url": "mailto:a@b.de"},
            "photo_url must be the address of an image",
        ),
        ("shipping", {"handling_days": 1, "transit_days": "bald"}, "transit_days must be"),
        ("social_follow", {"links": "instagram"}, "links must be a list of links"),
        ("service_check", {"interval_months": 0}, "interval_months must be a whole number"),
    ],
)
def test_bad_parameter_values_are_named(
    renderer: ContentRenderer, block: str, params: dict[str, Any], message: str
) -> None:
    the_order = order()
    campaigns = (campaign("bad", (show(block, **params),)),)
    config = ShopConfig(settings=settings(), campaigns=campaigns)
    decision = decide_by_hand(campaigns, the_order)
    # at startup
    with pytest.raises(ContentError) as at_start:
        renderer.check(config)
    assert message in str(at_start.value)
    assert "campaigns[bad].actions[0]" in str(at_start.value)
    # and, if nobody checked, when rendering
    with pytest.raises(
        ContentError, match=re.escape(f"campaign 'bad', block '{block}': {message}")
    ):
        render_blocks(decision=decision, order=the_order, config=config, now=NOW, renderer=renderer)


def test_check_passes_a_good_config(renderer: ContentRenderer) -> None:
    config, _, _ = full_setup()
    renderer.check(config)


def test_payload_for_the_thank_you_extension(renderer: ContentRenderer) -> None:
    config, the_order, decision = full_setup()
    payload = blocks_payload(
        decision=decision, order=the_order, config=config, now=NOW, renderer=renderer
    )
    assert json.loads(json.dumps(payload)) == payload
    assert payload["status"] == "ready"
    assert payload["order_id"] == "820982911946154508"
    assert payload["locale"] == "de_DE"
    assert [b["block"] for b in payload["blocks"]][:2] == ["coupon", "free_gift"]
    assert set(payload["blocks"][0]) == {"block", "campaign_id", "html", "data"}
    assert payload["blocks"][0]["data"]["code"] == "DANKE-7KQ2M9XA"


@pytest.mark.parametrize("locale", ["de_DE", "en_US"])
def test_email_html_and_text_carry_the_same_content(renderer: ContentRenderer, locale: str) -> None:
    config, the_order, decision = full_setup(locale=locale)
    blocks = render_blocks(
        decision=decision, order=the_order, config=config, now=NOW, renderer=renderer
    )
    html_part, text_part = render_email(
        decision=decision, order=the_order, config=config, now=NOW, renderer=renderer
    )
    assert "<script" not in html_part
    assert "<" not in text_part.replace("<script", "")  # plain text
    for block in blocks:
        d = block.data
        facts = [
            d["headline"],
            d.get("code"),
            d.get("window"),
            d.get("name"),
            d.get("url"),
            d.get("note"),
            d.get("first_check"),
            d.get("signup_url"),
            d.get("faq_url"),
        ]
        for fact in filter(None, facts):
            assert plain(fact) in plain(html_part), (block.block, fact)
            assert plain(fact) in plain(text_part), (block.block, fact)
    assert 'style="' in html_part  # inline styles for mail clients


def test_decision_of_another_order_is_refused(renderer: ContentRenderer) -> None:
    config, _, decision = full_setup()
    other = order(order_id="1")
    with pytest.raises(ContentError, match="the decision is for order '820982911946154508'"):
        render_blocks(decision=decision, order=other, config=config, now=NOW, renderer=renderer)


def test_naive_now_is_refused(renderer: ContentRenderer) -> None:
    config, the_order, decision = full_setup()
    with pytest.raises(ContentError, match="time-zone aware"):
        render_blocks(
            decision=decision,
            order=the_order,
            config=config,
            now=NOW.replace(tzinfo=None),
            renderer=renderer,
        )


def test_unknown_time_zone_is_named(renderer: ContentRenderer) -> None:
    config, the_order, decision = full_setup()
    config = replace(config, settings=replace(config.settings, timezone="Europe/Bonn"))
    with pytest.raises(ContentError, match=re.escape("settings.timezone 'Europe/Bonn'")):
        render_blocks(decision=decision, order=the_order, config=config, now=NOW, renderer=renderer)


@pytest.mark.parametrize(
    ("remaining", "clock", "de", "en"),
    [
        (timedelta(days=7), False, "Noch 7 Tage gültig", "7 days left"),
        (timedelta(days=1, hours=2), False, "Noch 1 Tag gültig", "1 day left"),
        (
            timedelta(days=6, seconds=86399),
            True,
            "Noch 6 Tage 23:59:59 gültig",
            "6 days 23:59:59 left",
        ),
        (timedelta(hours=5, minutes=3, seconds=9), True, "Noch 05:03:09 gültig", "05:03:09 left"),
        (timedelta(hours=5), False, "Noch 05:00:00 gültig", "05:00:00 left"),
        (timedelta(0), True, "Dieses Angebot ist abgelaufen.", "This offer has expired."),
    ],
)
def test_countdown_text_matches_the_script(
    remaining: timedelta, clock: bool, de: str, en: str
) -> None:
    for locale, expected in (("de_DE", de), ("en_US", en)):
        fmt = Formatter.create(order=None, settings=settings(locale=locale))
        assert countdown_text(fmt, remaining, clock=clock) == expected


def test_confirmation_content_for_the_platform_adapters(renderer: ContentRenderer) -> None:
    config, the_order, decision = full_setup()
    content = confirmation_content(
        decision=decision, order=the_order, config=config, now=NOW, renderer=renderer
    )
    html_part, text_part = render_email(
        decision=decision, order=the_order, config=config, now=NOW, renderer=renderer
    )
    # the blocks are flat JSON objects named by "type"; html/text are the e-mail fragment
    assert content.blocks[0]["type"] == "coupon"
    assert content.blocks[0]["campaign_id"] == "danke-coupon"
    assert content.blocks[0]["code"] == "DANKE-7KQ2M9XA"
    assert [b["type"] for b in content.blocks][1:3] == ["free_gift", "contact_person"]
    assert (content.html, content.text) == (html_part, text_part)
    assert "<script" not in content.html
    assert content.locale == "de_DE"
    assert json.loads(content.blocks_json())["blocks"][0]["expires_on"] == "2025-12-21"
