"""Building one follow-up e-mail: multipart/alternative (plain text, then HTML) with its headers.

Both parts come from Jinja2 templates (``templates/mail/<name>.txt.j2`` and ``.html.j2``,
loaded by the content's sandboxed, autoescaping environment, so a shop's own ``templates_dir``
can override them). Data from orders never reaches a header unfiltered: control characters (CR,
LF, TAB, ...) become spaces, so a name or subject cannot add a header line.

The ``Message-ID`` is derived from the message's idempotency key (e.g. ``shop:order:campaign:
occurrence``): composing the same message again, say after a crash between sending and
recording, gives the same ``Message-ID``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit

from aftersale_kit.content import ContentRenderer, Formatter
from aftersale_kit.content.formatting import Texts
from aftersale_kit.content.messages import LANGUAGES
from aftersale_kit.core.campaign import ShopSettings
from aftersale_kit.core.contact.follow_up import template_files as custom_files
from aftersale_kit.core.mail_settings import LOOPBACK_HOSTS, MailSettings

from .errors import MailError
from .texts import MAIL_TEXTS
from .views import VIEWS, custom
from .wire import address_line, header_line, multipart_alternative

__all__ = ["MailComposer", "MailRequest", "OutgoingMail", "message_id_for", "safe_header_text"]

_ADDRESS = re.compile(r"^[^@\s<>()\[\],;:\"\\]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_SPACES = re.compile(r"\s+")
_MAX_HEADER_TEXT = 200
_WIRE = policy.SMTP.clone(max_line_length=998)
_LOCALE_TAG = re.compile(r"^[A-Za-z]{2}([_-][A-Za-z]{2})?$")


def safe_header_text(value: str, *, limit: int = _MAX_HEADER_TEXT) -> str:
    """``value`` as one header line: control and separator characters become spaces, runs of
    spaces one space, at most ``limit`` characters."""
    cleaned = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in value
    )
    return _SPACES.sub(" ", cleaned).strip()[:limit].strip()


def message_id_for(idempotency_key: str, domain: str) -> str:
    """``<ak.<40 hex>@domain>``: the same key gives the same Message-ID, every time."""
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:40]
    return f"<ak.{digest}@{domain}>"


@dataclass(frozen=True, slots=True)
class MailRequest:
    """One message to build. ``data`` is what the template's view needs (see :mod:`.views`)."""

    template: str
    to_address: str
    idempotency_key: str
    marketing: bool
    data: Mapping[str, Any] = field(default_factory=dict)
    to_name: str | None = None
    #: The customer's (or order's) locale, e.g. ``en_GB``; else the shop's.
    locale: str | None = None
    #: The one-click unsubscribe link (:meth:`MailLinks.unsubscribe`); required for marketing.
    unsubscribe_url: str | None = None


class OutgoingMail:
    """A built message and what delivery needs to know about it. The message is kept as the
    bytes that are sent; :attr:`message` parses them on first use (a change made to it is what
    is sent from then on)."""

    __slots__ = (
        "_message",
        "_wire",
        "idempotency_key",
        "language",
        "marketing",
        "message_id",
        "recipient",
        "sender",
        "shop",
    )

    def __init__(
        self,
        *,
        wire: bytes,
        message_id: str,
        shop: str,
        sender: str,
        recipient: str,
        idempotency_key: str,
        marketing: bool,
        language: str,
    ) -> None:
        self._wire = wire
        self._message: EmailMessage | None = None
        self.message_id = message_id
        self.shop = shop
        self.sender = sender
        self.recipient = recipient
        self.idempotency_key = idempotency_key
        self.marketing = marketing
        self.language = language

    @property
    def message(self) -> EmailMessage:
        if self._message is None:
            parsed = BytesParser(policy=_WIRE).parsebytes(self._wire)
            assert isinstance(parsed, EmailMessage)
            self._message = parsed
        return self._message

    def as_bytes(self) -> bytes:
        """The message as sent (CRLF line ends)."""
        if self._message is not None:
            return self._message.as_bytes()
        return self._wire.replace(b"\n", b"\r\n")


class MailComposer:
    """Builds messages for one shop. ``renderer`` is the shop's compiled templates
    (:meth:`ContentRenderer.for_config`); ``clock`` gives the ``Date`` header."""

    def __init__(
        self,
        *,
        shop: ShopSettings,
        mail: MailSettings,
        renderer: ContentRenderer,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.shop = shop
        self.mail = mail
        self.renderer = renderer
        self.clock = clock or (lambda: datetime.now(UTC))
        self.domain = mail.sender_address.rsplit("@", 1)[1].lower()
        self.shop_name = safe_header_text(mail.sender_name or shop.domain)
        self._from = address_line("From", self.shop_name, mail.sender_address)

    def compose(self, request: MailRequest) -> OutgoingMail:
        """Render and assemble ``request``; :class:`MailError` if it cannot be built."""
        view = VIEWS.get(request.template)
        if view is None and not self.renderer.has_template(custom_files(request.template)[1]):
            known = ", ".join(sorted(VIEWS))
            raise MailError(
                f"unknown mail template {request.template!r}; built in are {known}; a shop's "
                f"own lives in shop.templates_dir as {' and '.join(custom_files(request.template))}"
            )
        if request.marketing and not request.unsubscribe_url:
            raise MailError("a marketing e-mail needs its one-click unsubscribe link")
        recipient = _checked_address(request.to_address)
        formatter = self._formatter(request.locale)
        language = formatter.language
        texts = MAIL_TEXTS[language]
        values = (view or custom)(texts, self._with_shop_links(request.data))
        context = self._context(request, texts, values, language)
        if view is not None:
            text = self.renderer.render(f"mail/{request.template}.txt.j2", context)
            html = self.renderer.render(f"mail/{request.template}.html.j2", context)
        else:
            html_name, text_name = custom_files(request.template)
            text, exported = self.renderer.render_module(text_name, context)
            subject = " ".join(str(exported.get("subject") or "").split())
            if not subject:
                raise MailError(f'{text_name} sets no subject: add {{% set subject = "..." %}}')
            values = {**values, "subject": subject}
            html = self.renderer.render(html_name, {**context, "subject": subject})
        message_id = message_id_for(request.idempotency_key, self.domain)
        headers = self._headers(request, recipient, safe_header_text(values["subject"]))
        return OutgoingMail(
            wire=multipart_alternative(headers, text, html),
            message_id=message_id,
            shop=self.shop.domain,
            sender=self.mail.sender_address,
            recipient=recipient,
            idempotency_key=request.idempotency_key,
            marketing=request.marketing,
            language=language,
        )

    def _with_shop_links(self, data: Mapping[str, Any]) -> Mapping[str, Any]:
        """``data`` with the shop's booking and review pages where the message has none of
        its own (a ``follow_up``'s ``link:``) and the shop's contact block: read now, so a
        changed ``shop.booking_url`` or ``shop.contact`` holds for the messages already
        planned."""
        shop = {"booking_url": self.shop.booking_url, "review_url": self.shop.review_url}
        missing: dict[str, Any] = {k: v for k, v in shop.items() if v and not data.get(k)}
        contact = self.shop.contact
        if contact is not None:
            missing["contact"] = {
                "phone": contact.phone, "email": contact.email, "hours": contact.hours
            }  # fmt: skip
        return {**data, **missing} if missing else data

    def _formatter(self, locale: str | None) -> Formatter:
        settings = self.shop
        if locale and _LOCALE_TAG.match(locale.strip()):
            language = locale.strip()[:2].lower()
            if language in LANGUAGES and language in MAIL_TEXTS:
                settings = dataclasses.replace(settings, locale=locale.strip())
        formatter = Formatter.create(order=None, settings=settings)
        if formatter.language not in MAIL_TEXTS:
            formatter = Formatter.create(
                order=None, settings=dataclasses.replace(settings, locale="en")
            )
        return formatter

    def _context(
        self,
        request: MailRequest,
        texts: Mapping[str, str],
        values: Mapping[str, Any],
        language: str,
    ) -> dict[str, Any]:
        name = safe_header_text(request.to_name or "", limit=100)
        support = self.mail.support_address
        questions = (
            texts["questions_support"].format(address=support) if support else texts["questions"]
        )
        why = texts["why_marketing" if request.marketing else "why_service"]
        return {
            "template": request.template,
            "lang": language,
            "t": Texts(texts),
            "v": values,
            "subject": safe_header_text(values["subject"] or ""),
            "greeting": texts["greeting_named"].format(name=name) if name else texts["greeting"],
            "signature": texts["signature"].format(shop=self.shop_name),
            "questions": questions,
            "why": why.format(shop=self.shop_name),
            "marketing": request.marketing,
            "unsubscribe_url": request.unsubscribe_url,
        }

    def _headers(self, request: MailRequest, recipient: str, subject: str) -> list[str]:
        name = safe_header_text(request.to_name or "", limit=100)
        lines = [self._from, address_line("To", name, recipient)]
        if self.mail.reply_to:
            lines.append(header_line("Reply-To", self.mail.reply_to))
        lines += [
            header_line("Subject", subject),
            header_line("Date", format_datetime(self.clock().astimezone(UTC))),
            header_line("Message-ID", message_id_for(request.idempotency_key, self.domain)),
            # RFC 3834: no vacation or out-of-office replies to an automatic message.
            "Auto-Submitted: auto-generated\n",
        ]
        if request.unsubscribe_url:
            url = request.unsubscribe_url
            _check_unsubscribe_url(url)
            # RFC 8058, section 3.1: an https URI in List-Unsubscribe, and List-Unsubscribe-Post
            # with exactly this value, so that mail clients can unsubscribe with one POST.
            lines.append(header_line("List-Unsubscribe", f"<{url}>"))
            lines.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click\n")
        return lines


def _check_unsubscribe_url(url: str) -> None:
    """RFC 8058 needs an https URI (plain http only to a loopback test server)."""
    parts = urlsplit(url)
    loopback = parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS
    if not (parts.scheme == "https" or loopback) or not parts.hostname:
        raise MailError("the unsubscribe link must be an https:// address (RFC 8058)")
    if any(ch in url for ch in "<>\r\n\t ,") or not url.isascii():
        raise MailError("the unsubscribe link must be a plain ASCII URL")


def _checked_address(address: str) -> str:
    """The recipient's address, or :class:`MailError` (an address cannot be repaired)."""
    value = address.strip()
    if not value.isascii() or not _ADDRESS.match(value) or len(value) > 254:
        raise MailError(f"not a usable e-mail address: {safe_header_text(address, limit=80)!r}")
    return value
