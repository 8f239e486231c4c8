"""The button of the service reminder and the review request: the follow-up's ``link:``, else
the shop's ``booking_url`` / ``review_url``, else the contact line; both languages, hostile
values inert."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from aftersale_kit.content import ContentRenderer
from aftersale_kit.core.campaign import ShopContact
from aftersale_kit.core.config import load_config_text
from aftersale_kit.core.contact.follow_up import FollowUp
from aftersale_kit.core.model import Customer, FinancialStatus, LineItem, Order
from aftersale_kit.core.money import Money
from aftersale_kit.mail import MailComposer, MailError, MailLinks
from aftersale_kit.service.followups import message_data

from .conftest import HOSTILE, NOW, SHOP, Clock, mail_settings, rendered, request, shop_settings

BOOKING = "https://bohne.example/service/termin"
SHOP_BOOKING = "https://bohne.example/werkstatt"
SHOP_REVIEW = "https://bohne.example/bewertungen"


def composer_with(renderer: ContentRenderer, clock: Clock, **shop: Any) -> MailComposer:
    settings = dataclasses.replace(shop_settings(), **shop)
    return MailComposer(shop=settings, mail=mail_settings(), renderer=renderer, clock=clock)


REMINDER = {"months": 3, "products": ["Siebträger Classic"]}


@pytest.mark.parametrize(
    ("locale", "text_line", "default_line"),
    [
        (None, f"Prüftermin buchen: {BOOKING}", f"Termin vereinbaren: {BOOKING}"),
        ("en_GB", f"Prüftermin buchen: {BOOKING}", f"Book an appointment: {BOOKING}"),
    ],
)
def test_a_service_reminder_shows_the_campaigns_link_in_both_languages(
    composer: MailComposer,
    links: MailLinks,
    locale: str | None,
    text_line: str,
    default_line: str,
) -> None:
    data = {**REMINDER, "booking_url": BOOKING, "link_text": "Prüftermin buchen"}
    _, text, html = rendered(composer, request(links, "service_reminder", data, locale=locale))
    assert text_line in text
    assert f'<a href="{BOOKING}"' in html and "data-ak-booking" in html
    assert ">Prüftermin buchen</a>" in html
    del data["link_text"]
    _, text, _ = rendered(composer, request(links, "service_reminder", data, locale=locale))
    assert default_line in text


def test_without_its_own_link_a_reminder_shows_the_shops_booking_page(
    renderer: ContentRenderer, links: MailLinks, clock: Clock
) -> None:
    composer = composer_with(renderer, clock, booking_url=SHOP_BOOKING, review_url=SHOP_REVIEW)
    _, text, html = rendered(composer, request(links, "service_reminder", dict(REMINDER)))
    assert f"Termin vereinbaren: {SHOP_BOOKING}" in text
    assert f'href="{SHOP_BOOKING}"' in html and "Melden Sie sich einfach" not in text
    # the campaign's own link wins over the shop's
    own = {**REMINDER, "booking_url": BOOKING}
    _, text, html = rendered(composer, request(links, "service_reminder", own))
    assert f"Termin vereinbaren: {BOOKING}" in text and SHOP_BOOKING not in html
    # and a review request takes the shop's review page, in English too
    review = {"order_number": "#1001"}
    _, text, html = rendered(composer, request(links, "review_request", review, locale="en"))
    assert f"Write a review: {SHOP_REVIEW}" in text and f'href="{SHOP_REVIEW}"' in html
    assert SHOP_BOOKING not in text


@pytest.mark.parametrize(
    ("locale", "contact", "reply"),
    [
        (None, "Melden Sie sich einfach bei uns, wir finden einen Termin.",
         "Antworten Sie einfach auf diese E-Mail, wir lesen jede Nachricht."),
        ("en_US", "Just get in touch and we will find a date.",
         "Just reply to this e-mail; we read every message."),
    ],
)  # fmt: skip
def test_without_any_link_the_contact_line_stays(
    composer: MailComposer, links: MailLinks, locale: str | None, contact: str, reply: str
) -> None:
    _, text, html = rendered(
        composer, request(links, "service_reminder", dict(REMINDER), locale=locale)
    )
    assert contact in text and contact in html
    assert "data-ak-booking" not in html
    # the footer names the support address (the shop's mail: section)
    assert "support@bohne.example" in text
    _, text, html = rendered(
        composer, request(links, "review_request", {"order_number": "1"}, locale=locale)
    )
    assert reply in text and "data-ak-review" not in html


def test_a_hostile_button_text_and_address_stay_inert(
    composer: MailComposer, links: MailLinks
) -> None:
    tricky = 'https://bohne.example/termin?a="><script>alert(1)</script>'
    data = {**REMINDER, "booking_url": tricky, "link_text": HOSTILE}
    message, text, html = rendered(composer, request(links, "service_reminder", data))
    assert "<script>" not in html and "<img" not in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;{shop} Bcc: victim@example.org" in html
    assert 'href="https://bohne.example/termin?a=&#34;&gt;&lt;script&gt;' in html
    assert message["Bcc"] is None and "victim" not in str(message["To"])
    assert "{shop} Bcc: victim@example.org: https://bohne.example/termin" in text
    for bad in ("javascript:alert(1)", "data:text/html,x", "//bohne.example/x"):
        with pytest.raises(MailError, match="web address"):
            composer.compose(request(links, "service_reminder", {**REMINDER, "booking_url": bad}))


def test_a_link_from_the_config_reaches_the_e_mail_as_planned(
    composer: MailComposer, links: MailLinks
) -> None:
    config = load_config_text(
        "shop:\n  platform: shopify\n  domain: bohne.myshopify.com\n  currency: EUR\n"
        "campaigns:\n  - id: wartung\n    trigger: order_fulfilled\n    actions:\n"
        "      - follow_up:\n          kind: service_reminder\n          after: {months: 3}\n"
        f"          link: {BOOKING}\n          link_text: Wartung <jetzt> buchen\n",
        filename="shop.yaml",
    )
    action = config.campaigns[0].actions[0]
    assert isinstance(action, FollowUp)
    eur = Money.of("89.00", "EUR")
    order = Order(
        platform="shopify", shop=SHOP, id="1001", number="#1001", currency="EUR",
        created_at=NOW, financial_status=FinancialStatus.PAID, subtotal=eur, total=eur,
        discounts=Money.zero("EUR"), shipping=Money.zero("EUR"), tax=Money.zero("EUR"),
        line_items=(LineItem(id="l1", title="Mühle", quantity=1, unit_price=eur),),
        customer=Customer(id="7", email="kim@example.com"), email="kim@example.com",
    )  # fmt: skip
    data = message_data(order, action)
    _, text, html = rendered(composer, request(links, "service_reminder", data))
    assert f"Wartung <jetzt> buchen: {BOOKING}" in text
    assert f'<a href="{BOOKING}"' in html and ">Wartung &lt;jetzt&gt; buchen</a>" in html


@pytest.mark.parametrize(
    ("locale", "lines"),
    [
        (None, ["Telefon: +49 (30) 123-45", "E-Mail: werkstatt@bohne.example",
                "Erreichbar: Mo-Fr 9-18 Uhr <b>"]),
        ("en_GB", ["Phone: +49 (30) 123-45", "E-mail: werkstatt@bohne.example",
                   "Hours: Mo-Fr 9-18 Uhr <b>"]),
    ],
)  # fmt: skip
def test_without_a_booking_page_a_reminder_shows_the_shops_contact_block(
    renderer: ContentRenderer, links: MailLinks, clock: Clock, locale: str | None, lines: list[str]
) -> None:
    contact = ShopContact(
        phone="+49 (30) 123-45", email="werkstatt@bohne.example", hours="Mo-Fr 9-18 Uhr <b>"
    )
    composer = composer_with(renderer, clock, contact=contact)
    req = request(links, "service_reminder", dict(REMINDER), locale=locale)
    _, text, html = rendered(composer, req)
    for line in lines:
        assert line in text
    assert 'href="tel:+493012345"' in html and 'href="mailto:werkstatt@bohne.example"' in html
    assert "9-18 Uhr &lt;b&gt;</p>" in html and "<b>" not in html
    # with a booking page, the button replaces the contact block
    composer = composer_with(renderer, clock, contact=contact, booking_url=SHOP_BOOKING)
    _, text, html = rendered(composer, req)
    assert "123-45" not in text and "data-ak-contact" not in html and SHOP_BOOKING in text
