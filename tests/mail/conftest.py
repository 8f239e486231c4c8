"""Shared pieces of the mail tests: a shop, its mail settings, the templates, a fixed clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import pytest

from aftersale_kit.content import ContentRenderer
from aftersale_kit.core.campaign import ShopSettings
from aftersale_kit.core.mail_settings import MailSettings, SmtpSecurity, SmtpSettings
from aftersale_kit.mail import LinkSigner, MailComposer, MailLinks, MailRequest

from .smtp_sink import Sink, smtp_sink

SHOP = "bohne.myshopify.com"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
KEY = b"0123456789abcdef0123456789abcdef-link-key"


class Clock:
    """A settable clock: ``clock()`` is now; ``advance`` moves it."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def shop_settings(locale: str = "de_DE") -> ShopSettings:
    return ShopSettings(
        platform="shopify", domain=SHOP, currency="EUR", locale=locale, timezone="Europe/Berlin"
    )


def mail_settings(port: int = 25, **changes: Any) -> MailSettings:
    values: dict[str, Any] = {
        "sender_address": "hallo@bohne.example",
        "sender_name": "Kaffeerösterei Bohne",
        "reply_to": "service@bohne.example",
        "support_address": "support@bohne.example",
        "smtp": SmtpSettings("127.0.0.1", port, SmtpSecurity.NONE, timeout_seconds=5),
        "rate_per_minute": 600,
    }
    values.update(changes)
    return MailSettings(**values)


@pytest.fixture(scope="session")
def renderer() -> ContentRenderer:
    return ContentRenderer.load()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def links(clock: Clock) -> MailLinks:
    return MailLinks(LinkSigner(KEY, clock=clock), "https://after.bohne.example")


@pytest.fixture
def composer(renderer: ContentRenderer, clock: Clock) -> MailComposer:
    return MailComposer(shop=shop_settings(), mail=mail_settings(), renderer=renderer, clock=clock)


@pytest.fixture
def sink() -> Iterator[Sink]:
    with smtp_sink() as server:
        yield server


def survey_request(links: MailLinks, **changes: Any) -> MailRequest:
    values: dict[str, Any] = {
        "template": "survey",
        "to_address": "kim@example.com",
        "to_name": "Kim Weber",
        "idempotency_key": f"{SHOP}:1001:survey:1",
        "marketing": False,
        "data": {
            "order_number": "#1001",
            "rating_urls": links.survey_answers(shop=SHOP, subject="order-1001"),
        },
        "unsubscribe_url": links.unsubscribe(shop=SHOP, subject="customer-77"),
    }
    values.update(changes)
    return MailRequest(**values)


def reminder_request(links: MailLinks, **changes: Any) -> MailRequest:
    values: dict[str, Any] = {
        "template": "service_reminder",
        "to_address": "kim@example.com",
        "to_name": "Kim Weber",
        "idempotency_key": f"{SHOP}:1001:quarterly-check:2",
        "marketing": True,
        "data": {
            "months": 3,
            "products": ["Siebträger Classic"],
            "booking_url": "https://bohne.example/service",
        },
        "unsubscribe_url": links.unsubscribe(shop=SHOP, subject="customer-77"),
    }
    values.update(changes)
    return MailRequest(**values)


HOSTILE = '<img src=x onerror="alert(1)">{shop}\r\nBcc: victim@example.org'


def request(links: MailLinks, template: str, data: dict[str, Any], **changes: Any) -> MailRequest:
    values: dict[str, Any] = {
        "template": template,
        "to_address": "kim@example.com",
        "to_name": "Kim Weber",
        "idempotency_key": f"{SHOP}:1001:{template}:1",
        "marketing": True,
        "data": data,
        "unsubscribe_url": links.unsubscribe(shop=SHOP, subject="17"),
    }
    values.update(changes)
    return MailRequest(**values)


def rendered(composer: MailComposer, req: MailRequest) -> tuple[EmailMessage, str, str]:
    message = BytesParser(policy=policy.default).parsebytes(composer.compose(req).as_bytes())
    assert isinstance(message, EmailMessage)
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and html is not None
    return message, text.get_content(), html.get_content()
