"""The review request and the points reminder: both languages, links, inert hostile data."""

from __future__ import annotations

from typing import Any

import pytest

from aftersale_kit.core.contact.follow_up import BUILTIN_TEMPLATES
from aftersale_kit.mail import MailComposer, MailError, MailLinks
from aftersale_kit.mail.views import VIEWS

from .conftest import HOSTILE, rendered, request


def test_every_built_in_follow_up_kind_has_a_view() -> None:
    assert set(BUILTIN_TEMPLATES) <= set(VIEWS)


REVIEW = {
    "order_number": "#1001",
    "products": ["Siebträger Classic"],
    "review_url": "https://bohne.example/bewerten",
}


@pytest.mark.parametrize(
    ("locale", "subject", "words"),
    [
        (None, "Wie gefällt Ihnen Ihr Einkauf (Bestellung #1001)?",
         ["Guten Tag Kim Weber,", "Ihre Bestellung: Siebträger Classic",
          "Bewertung schreiben: https://bohne.example/bewerten"]),
        ("en_GB", "How do you like your purchase (order #1001)?",
         ["Hello Kim Weber,", "Your order: Siebträger Classic",
          "Write a review: https://bohne.example/bewerten"]),
    ],
)  # fmt: skip
def test_a_review_request_in_german_and_english(
    composer: MailComposer, links: MailLinks, locale: str | None, subject: str, words: list[str]
) -> None:
    message, text, html = rendered(
        composer, request(links, "review_request", REVIEW, locale=locale)
    )
    assert message["Subject"] == subject
    for word in words:
        assert word in text
    assert 'href="https://bohne.example/bewerten"' in html and "data-ak-review" in html
    assert "data-ak-unsubscribe" in html


def test_a_review_request_without_a_link_asks_for_a_reply(
    composer: MailComposer, links: MailLinks
) -> None:
    data = {"order_number": "#1001"}
    _, text, html = rendered(composer, request(links, "review_request", data))
    assert "Antworten Sie einfach auf diese E-Mail, wir lesen jede Nachricht." in text
    assert "data-ak-review" not in html
    with pytest.raises(MailError, match="web address"):
        composer.compose(request(links, "review_request", {**data, "review_url": "javascript:x"}))
    with pytest.raises(MailError, match="order_number"):
        composer.compose(request(links, "review_request", {}))


POINTS = {"points_balance": 1250, "points_expiring": 300, "points_expire_on": "2027-03-31"}


@pytest.mark.parametrize(
    ("locale", "subject", "words"),
    [
        (None, "Sie haben 1250 Punkte bei uns",
         ["Auf Ihrem Kundenkonto stehen 1250 Punkte bereit.",
          "Davon verfallen 300 Punkte am 31.03.2027."]),
        ("en_US", "You have 1250 points with us",
         ["Your customer account holds 1250 points.", "300 of them expire on 2027-03-31."]),
    ],
)  # fmt: skip
def test_a_points_reminder_shows_the_balance_and_what_expires(
    composer: MailComposer, links: MailLinks, locale: str | None, subject: str, words: list[str]
) -> None:
    message, text, html = rendered(
        composer, request(links, "points_reminder", POINTS, locale=locale)
    )
    assert message["Subject"] == subject
    for word in words:
        assert word in text and word in html


def test_a_points_reminder_without_expiring_points_says_only_the_balance(
    composer: MailComposer, links: MailLinks
) -> None:
    _, text, html = rendered(composer, request(links, "points_reminder", {"points_balance": 40}))
    assert "Auf Ihrem Kundenkonto stehen 40 Punkte bereit." in text
    assert "verfallen" not in text and 'data-ak-points="expiring"' not in html
    _, text, _ = rendered(
        composer, request(links, "points_reminder", {"points_balance": 40, "points_expiring": 5})
    )
    assert "Davon verfallen demnächst 5 Punkte." in text


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"points_balance": "viele"},
        {"points_balance": True},
        {"points_balance": 1, "points_expiring": 1, "points_expire_on": "bald"},
        {"points_balance": 1, "shop_url": "data:text/html,hi"},
    ],
)
def test_a_points_reminder_refuses_unusable_data(
    composer: MailComposer, links: MailLinks, data: dict[str, Any]
) -> None:
    with pytest.raises(MailError):
        composer.compose(request(links, "points_reminder", data))


@pytest.mark.parametrize("locale", [None, "en_GB"])
def test_hostile_data_stays_inert_in_both_new_templates(
    composer: MailComposer, links: MailLinks, locale: str | None
) -> None:
    review = {"order_number": HOSTILE, "products": [HOSTILE]}
    points = {"points_balance": 7, "shop_url": 'https://bohne.example/?q=<b>&x="y"'}
    for req in (
        request(links, "review_request", review, to_name=HOSTILE, locale=locale),
        request(links, "points_reminder", points, to_name=HOSTILE, locale=locale),
    ):
        raw = composer.compose(req).as_bytes()
        head = raw.split(b"\r\n\r\n", 1)[0]
        assert b"\r\nBcc:" not in head
        message, text, html = rendered(composer, req)
        assert "Bcc" not in message and "\n" not in str(message["Subject"])
        assert "<img" not in html and "<b>" not in html
        assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html
        assert "{shop}" in text  # braces in data are text, never a format field
