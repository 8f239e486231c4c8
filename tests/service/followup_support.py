"""Shared pieces of the follow-up link tests: a shop file with a ``mail:`` section to a
loopback SMTP server, the link key, and links made as the e-mails make them."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from aftersale_kit.mail import LinkSigner, MailLinks, Purpose
from aftersale_kit.storage import NewMessage

from .harness import Service

LINK_KEY = "k" * 40 + "-follow-up-link-key"
SUPPORT = "support@bohne.example"


def link_env(env: dict[str, str]) -> dict[str, str]:
    # the links in e-mails point here; the tests call the service's own address instead
    return {**env, "AFTERSALE_LINK_KEY": LINK_KEY, "AFTERSALE_PUBLIC_URL": "http://127.0.0.1:9"}


def add_mail(config: Path, smtp_port: int, *, locale: str | None = None) -> None:
    path = config / "shop.yaml"
    text = path.read_text(encoding="utf-8")
    if locale is not None:
        text = text.replace("locale: de_DE", f"locale: {locale}")
    mail = (
        "mail:\n"
        '  sender: "Kaffeerösterei Bohne <hallo@bohne.example>"\n'
        f"  support_address: {SUPPORT}\n"
        f"  smtp: {{host: 127.0.0.1, port: {smtp_port}, security: none, timeout_seconds: 5}}\n"
        "  rate_per_minute: 600\n"
    )
    at = text.index("campaigns:")
    path.write_text(text[:at] + mail + text[at:], encoding="utf-8")


def links(svc: Service) -> MailLinks:
    return MailLinks(LinkSigner(LINK_KEY.encode()), svc.url)


def shop_of(svc: Service) -> str:
    (entry,) = list(svc.registry)
    return entry.domain


def planned_message(
    svc: Service,
    order_id: str,
    email: str,
    *,
    purpose: str = "marketing",
    customer_key: str | None = None,
) -> str:
    """Put one message for ``email`` on the schedule, a year ahead; its row id (what an
    unsubscribe link names)."""
    import datetime as dt

    shop = shop_of(svc)
    key = f"{shop}:{order_id}:test:{purpose}"
    due = dt.datetime.now(dt.UTC) + dt.timedelta(days=365)
    svc.store.plan_messages(
        [
            NewMessage(
                shop=shop, key=key, order_id=order_id, customer_key=customer_key, email=email,
                campaign_id="test", occurrence=1, kind="custom", template="service_reminder",
                purpose=purpose, due_at=due, data={},
            )
        ]
    )  # fmt: skip
    (row,) = [m for m in svc.store.messages(shop, order_id=order_id) if m.key == key]
    return str(row.id)


def expired_token(svc: Service, purpose: Purpose, subject: str) -> str:
    import datetime as dt

    past = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    signer = LinkSigner(LINK_KEY.encode(), clock=lambda: past)
    return signer.sign(purpose, shop=shop_of(svc), subject=subject, valid_for=timedelta(days=1))


def path_of(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[1]


def follow(svc: Service, url: str, **kwargs: Any) -> httpx.Response:
    """GET a link from an e-mail or made by :func:`links`, at the running service."""
    return httpx.get(f"{svc.url}/{path_of(url)}", timeout=10, **kwargs)


def link_in(text: str, path: str) -> str:
    found = re.search(r"https?://[^\s\"<>]+" + re.escape(path) + r"[^\s\"<>]+", text)
    assert found is not None, f"no {path} link in the e-mail"
    return found.group(0).replace("&amp;", "&")
