"""Building follow-up e-mails: multipart structure, headers, German and English, inert data."""

from __future__ import annotations

import re
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from aftersale_kit.content import ContentRenderer
from aftersale_kit.mail import (
    LinkSigner,
    MailComposer,
    MailError,
    MailLinks,
    OutgoingMail,
    Purpose,
    message_id_for,
)

from .conftest import (
    KEY,
    SHOP,
    Clock,
    mail_settings,
    reminder_request,
    shop_settings,
    survey_request,
)


def wire(mail: OutgoingMail) -> EmailMessage:
    """The message as a receiver parses it from the bytes that are sent."""
    parsed = BytesParser(policy=policy.default).parsebytes(mail.as_bytes())
    assert isinstance(parsed, EmailMessage)
    return parsed


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


def test_a_survey_is_multipart_alternative_with_text_then_html(
    composer: MailComposer, links: MailLinks
) -> None:
    message = wire(composer.compose(survey_request(links)))
    assert message.get_content_type() == "multipart/alternative"
    kinds = [p.get_content_type() for p in message.iter_parts()]
    assert kinds == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in message.iter_parts())
    text, html = parts(message)
    assert "Guten Tag Kim Weber," in text and "Wie war Ihr Einkauf?" in text
    assert html.startswith("<!DOCTYPE html>") and '<html lang="de">' in html
    # five one-click answers, the same signed token, rating 1 to 5
    ratings = re.findall(r'href="([^"]+/v1/survey/[^"]+)"', html)
    assert [u.rsplit("=", 1)[1] for u in ratings] == ["1", "2", "3", "4", "5"]
    token = urlsplit(ratings[0]).path.rsplit("/", 1)[1]
    claims = LinkSigner(KEY, clock=Clock()).verify(token, purpose=Purpose.SURVEY, shop=SHOP)
    assert claims.subject == "order-1001"
    assert all(u in text for u in ratings)


def test_the_headers_carry_sender_reply_to_and_a_stable_message_id(
    composer: MailComposer, links: MailLinks, clock: Clock
) -> None:
    mail = composer.compose(survey_request(links))
    message = wire(mail)
    sender = message["From"].addresses[0]
    assert (sender.display_name, sender.addr_spec) == (
        "Kaffeerösterei Bohne",
        "hallo@bohne.example",
    )
    assert message["Reply-To"] == "service@bohne.example"
    assert message["To"].addresses[0].addr_spec == "kim@example.com"
    assert message["Subject"] == "Wie zufrieden waren Sie mit Ihrer Bestellung #1001?"
    assert message["Date"].datetime == clock.now
    assert message["Auto-Submitted"] == "auto-generated"
    key = f"{SHOP}:1001:survey:1"
    assert message["Message-ID"] == mail.message_id == message_id_for(key, "bohne.example")
    assert re.fullmatch(r"<ak\.[0-9a-f]{40}@bohne\.example>", mail.message_id)
    # composed again (a resend after a crash): the same Message-ID, even with new links
    again = composer.compose(survey_request(links))
    assert again.message_id == mail.message_id
    other = composer.compose(survey_request(links, idempotency_key=f"{SHOP}:1001:survey:2"))
    assert other.message_id != mail.message_id


def test_list_unsubscribe_is_one_https_link_with_one_click_post(
    composer: MailComposer, links: MailLinks
) -> None:
    raw = composer.compose(reminder_request(links)).as_bytes()
    header = re.search(rb"^List-Unsubscribe: (.*)\r\n", raw, re.MULTILINE)
    assert header is not None
    # one line, one https URI in angle brackets, no encoded words (RFC 8058, section 3.1)
    value = header.group(1).decode("ascii")
    assert re.fullmatch(r"<https://after\.bohne\.example/v1/unsubscribe/[A-Za-z0-9_.-]+>", value)
    assert b"\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in raw
    token = value.strip("<>").rsplit("/", 1)[1]
    claims = LinkSigner(KEY, clock=Clock()).verify(token, purpose=Purpose.UNSUBSCRIBE, shop=SHOP)
    assert claims.subject == "customer-77"


def test_marketing_shows_the_unsubscribe_link_in_the_body_and_service_mail_does_not(
    composer: MailComposer, links: MailLinks
) -> None:
    marketing = wire(composer.compose(reminder_request(links)))
    text, html = parts(marketing)
    url = str(marketing["List-Unsubscribe"]).strip("<>")
    assert f'href="{url}"' in html and "data-ak-unsubscribe" in html
    assert f"Keine weiteren E-Mails dieser Art erhalten: {url}" in text
    assert "weil Sie Werbung von Kaffeerösterei Bohne zugestimmt haben" in text
    service = wire(composer.compose(survey_request(links)))
    text, html = parts(service)
    assert "data-ak-unsubscribe" not in html and "/v1/unsubscribe/" not in text
    assert "zu Ihrer Bestellung bei Kaffeerösterei Bohne" in text
    assert service["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_marketing_mail_without_its_unsubscribe_link_is_refused(
    composer: MailComposer, links: MailLinks
) -> None:
    with pytest.raises(MailError, match="unsubscribe link"):
        composer.compose(reminder_request(links, unsubscribe_url=None))
    with pytest.raises(MailError, match="https"):
        composer.compose(reminder_request(links, unsubscribe_url="http://bohne.example/u/1"))


def test_english_for_an_english_customer_german_by_default(
    composer: MailComposer, links: MailLinks
) -> None:
    english = wire(composer.compose(reminder_request(links, locale="en_GB")))
    text, html = parts(english)
    assert english["Subject"] == "Time for your free check"
    assert '<html lang="en">' in html and "Hello Kim Weber," in text
    assert "We offer you a free check every 3 months" in text
    assert "Book an appointment: https://bohne.example/service" in text
    assert "Stop e-mails like this one" in html
    german = wire(composer.compose(reminder_request(links, locale="fr_FR")))
    assert german["Subject"] == "Zeit für die kostenlose Überprüfung"
    assert "Wir bieten Ihnen alle 3 Monate eine kostenlose Überprüfung an" in parts(german)[0]
    shop_en = MailComposer(
        shop=shop_settings("en_US"), mail=mail_settings(), renderer=composer.renderer
    )
    assert wire(shop_en.compose(survey_request(links)))["Subject"] == (
        "How happy were you with your order #1001?"
    )


HOSTILE_NAME = 'Eve <script>alert("x")</script>\r\nBcc: victim@example.org\r\n\r\n{shop}'
HOSTILE_NUMBER = "#1001\r\nBcc: victim@example.org"


def test_hostile_order_data_stays_inert_in_headers_and_both_parts(
    composer: MailComposer, links: MailLinks
) -> None:
    request = survey_request(
        links,
        to_name=HOSTILE_NAME,
        data={
            "order_number": HOSTILE_NUMBER,
            "rating_urls": links.survey_answers(shop=SHOP, subject="o"),
        },
    )
    raw = composer.compose(request).as_bytes()
    message = wire(composer.compose(request))
    # no header was added, none was split
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert "Bcc" not in message and b"\r\nBcc:" not in head
    assert [str(a.addr_spec) for a in message["To"].addresses] == ["kim@example.com"]
    assert "\n" not in str(message["Subject"]) and "\r" not in str(message["To"])
    assert message["Subject"] == (
        "Wie zufrieden waren Sie mit Ihrer Bestellung #1001 Bcc: victim@example.org?"
    )
    text, html = parts(message)
    assert "<script" not in html and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    # braces in data are text, never a format field
    assert "{shop}" in text and "{shop}" in html
    assert "Bcc: victim@example.org" in text  # as words on one line, harmless in text/plain


def test_hostile_product_titles_and_links(composer: MailComposer, links: MailLinks) -> None:
    data = {"months": 3, "products": ['<img src=x onerror="alert(1)">'], "booking_url": None}
    text, html = parts(wire(composer.compose(reminder_request(links, data=data))))
    assert "<img" not in html and "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html
    assert "Melden Sie sich einfach bei uns" in text
    for bad in ("javascript:alert(1)", "data:text/html,hi", "//evil.example"):
        with pytest.raises(MailError, match="web address"):
            composer.compose(reminder_request(links, data={"months": 3, "booking_url": bad}))


@pytest.mark.parametrize(
    "address", ["kim@example.com\r\nBcc: x@y.example", "kim", "a@b", "<kim@example.com>", "ü@x.de"]
)
def test_an_unusable_recipient_address_is_refused(
    composer: MailComposer, links: MailLinks, address: str
) -> None:
    with pytest.raises(MailError, match="not a usable e-mail address"):
        composer.compose(survey_request(links, to_address=address))


def test_unknown_templates_and_missing_data_are_named(
    composer: MailComposer, links: MailLinks
) -> None:
    known = (
        "complaint, newsletter_confirm, points_reminder, review_request, service_reminder, survey"
    )
    own = "a shop's own lives in shop.templates_dir as follow_up/coupon.html.j2 and"
    with pytest.raises(MailError, match=f"unknown mail template 'coupon'; built in are {known}"):
        composer.compose(survey_request(links, template="coupon"))
    with pytest.raises(MailError, match=own):
        composer.compose(survey_request(links, template="coupon"))
    with pytest.raises(MailError, match="needs 'order_number'"):
        composer.compose(survey_request(links, data={}))
    with pytest.raises(MailError, match="five rating_urls"):
        composer.compose(survey_request(links, data={"order_number": "1", "rating_urls": ["x"]}))


def test_a_shops_own_template_wins(tmp_path: Path, links: MailLinks, clock: Clock) -> None:
    own = tmp_path / "templates" / "mail"
    own.mkdir(parents=True)
    (own / "survey.txt.j2").write_text(
        '{% extends "mail/layout.txt.j2" %}{% block content %}OWN {{ v.headline }}{% endblock %}'
    )
    renderer = ContentRenderer.load(templates_dir=tmp_path / "templates")
    composer = MailComposer(
        shop=shop_settings(), mail=mail_settings(), renderer=renderer, clock=clock
    )
    text, html = parts(wire(composer.compose(survey_request(links))))
    assert "OWN Wie war Ihr Einkauf?" in text and "OWN" not in html


def test_links_need_an_https_public_address(links: MailLinks) -> None:
    signer = LinkSigner(KEY)
    for bad in ("http://after.bohne.example", "ftp://x.example", "https://x.example/?a=1", "x"):
        with pytest.raises(MailError, match="public address"):
            MailLinks(signer, bad)
    assert MailLinks(signer, "http://127.0.0.1:8080/").base == "http://127.0.0.1:8080"
    assert links.newsletter_confirm(shop=SHOP, subject="c-1").startswith(
        "https://after.bohne.example/v1/newsletter/confirm/"
    )
