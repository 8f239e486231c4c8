"""The routes behind the signed links of the follow-up e-mails and the thank-you content.

=========  ==================================  ==============================================
GET        /v1/unsubscribe/{token}             a page with a button (a GET never unsubscribes:
                                               mail filters fetch links)
POST       /v1/unsubscribe/{token}             unsubscribes: RFC 8058 one-click (body
                                               ``List-Unsubscribe=One-Click``) or the button:
                                               the message's address is suppressed, its
                                               opt-in withdrawn, what waits for it cancelled,
                                               the withdrawal queued for the platform
GET        /v1/survey/{token}?rating=N         records the rating once, then the short form
POST       /v1/survey/{token}                  the short form (``application/x-www-form-
                                               urlencoded``), stored once
GET        /v1/newsletter/signup/{token}       one-click signup: one confirmation e-mail
GET        /v1/newsletter/confirm/{token}      the double opt-in: records the consent
=========  ==================================  ==============================================

Answers are small HTML pages (:mod:`.link_pages`) in the shop's language. A token that is not
genuine, for another purpose or an unknown shop is a 404 page, an expired one a 410, a bad
rating or form a 400; nothing a client sends reaches a 5xx. The key that verifies a link is the
shop's link key (:func:`.followups.link_signer`), the one the worker's e-mails are signed with; an
unsubscribe link names a message (its row id), a survey link the order.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from ..core.errors import AftersaleKitError
from ..mail import LinkClaims, Purpose, Refusal, TokenRefused
from ..storage.links import WAIT_CHOICES, LinkJob, SurveyForm
from .effects import Processor
from .followups import CONFIRMATION, CONSENT, complaint_jobs, message_of, withdrawal_jobs
from .link_pages import PAGE_HEADERS, TEXTS, language_of, page, para, survey_body
from .shops import ShopEntry

__all__ = ["link_routes"]

_MAX_BODY = 8 * 1024
_MAX_COMMENT = 2000
_ONE_CLICK = "List-Unsubscribe=One-Click"


class _Refused(Exception):
    def __init__(self, status: int, key: str, lang: str, **values: object) -> None:
        super().__init__(key)
        self.status, self.key, self.lang, self.values = status, key, lang, values


@dataclass(frozen=True, slots=True)
class _Link:
    entry: ShopEntry
    claims: LinkClaims
    lang: str

    @property
    def shop(self) -> str:
        return self.entry.domain

    @property
    def t(self) -> Mapping[str, str]:
        return TEXTS[self.lang]

    @property
    def shop_name(self) -> str:
        mail = self.entry.config.mail
        return (mail.sender_name if mail is not None else None) or self.entry.domain


def _claimed_shop(token: str) -> str:
    """The shop a token names, unverified (only to pick the shop to verify it for)."""
    head = token.split(".", 1)[0]
    try:
        body = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
        return str(body[2]) if isinstance(body, list) and len(body) > 2 else ""
    except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError):
        return ""


def _html(status: int, html: str) -> Response:
    return HTMLResponse(html, status, headers=PAGE_HEADERS)


def _error(refused: _Refused) -> Response:
    t = TEXTS[refused.lang]
    return _html(
        refused.status,
        page(refused.lang, t["error_title"], para(t[refused.key].format(**refused.values))),
    )


class _Endpoints:
    def __init__(self, processor: Processor) -> None:
        self.processor = processor

    def link(self, request: Request, purpose: Purpose) -> _Link:
        token = str(request.path_params["token"])
        entry = self.processor.registry.by_domain(_claimed_shop(token)[:255])
        lang = language_of(entry.config.settings.locale) if entry is not None else "en"
        follow_ups = self.processor.follow_ups
        if entry is None or follow_ups is None:
            raise _Refused(404, "error_invalid", lang)
        try:
            claims = follow_ups.signer(entry).verify(token, purpose=purpose, shop=entry.domain)
        except TokenRefused as exc:
            expired = exc.reason is Refusal.EXPIRED
            raise _Refused(
                410 if expired else 404, "error_expired" if expired else "error_invalid", lang
            ) from None
        return _Link(entry, claims, lang)

    # -- unsubscribe ----------------------------------------------------------------------------

    def address(self, link: _Link) -> str | None:
        """The address an unsubscribe link's message was for (``None``: erased since)."""
        record = message_of(self.processor.store, link.shop, link.claims.subject)
        if record is None:
            raise _Refused(404, "error_unknown", link.lang)
        return record.email

    def unsubscribe_page(self, link: _Link) -> Response:
        t = link.t
        email = self.address(link)
        if email is None or self.processor.store.is_unsubscribed(link.shop, email):
            return self.unsubscribed(link)
        form = (
            '<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">'
            f'<button type="submit">{t["unsub_button"]}</button></form>'
        )
        body = para(t["unsub_text"].format(shop=link.shop_name)) + form
        return _html(200, page(link.lang, t["unsub_title"], body, shop=link.shop_name))

    def unsubscribe(self, link: _Link) -> Response:
        email = self.address(link)
        if email is not None:
            now = self.processor.clock()
            self.processor.store.unsubscribe(
                link.shop,
                email,
                "unsubscribe_link",
                subject=link.claims.subject,
                jobs=withdrawal_jobs(link.claims.subject, now),
                now=now,
            )
        return self.unsubscribed(link)

    def unsubscribed(self, link: _Link) -> Response:
        t = link.t
        body = para(t["unsub_done"].format(shop=link.shop_name))
        return _html(200, page(link.lang, t["unsub_done_title"], body, shop=link.shop_name))

    # -- survey ---------------------------------------------------------------------------------

    def shipping_method(self, link: _Link) -> str | None:
        try:
            return self.processor.order(link.entry, link.claims.subject).shipping_method
        except AftersaleKitError:
            return None  # the platform did not answer: the answer counts without it

    def rate(self, link: _Link, raw: str | None, action: str) -> Response:
        store = self.processor.store
        answer = store.survey_answer(link.shop, link.claims.subject)
        if answer is None:
            rating = _rating(raw, link.lang)
            answer = store.record_survey_rating(
                shop=link.shop,
                order_id=link.claims.subject,
                nonce=link.claims.nonce,
                rating=rating,
                shipping_method=self.shipping_method(link),
                jobs_for=complaint_jobs,
                now=self.processor.clock(),
            ).answer
        t = link.t
        body = survey_body(t, answer, action)
        return _html(200, page(link.lang, t["survey_title"], body, shop=link.shop_name))

    def answer(self, link: _Link, fields: Mapping[str, str], action: str) -> Response:
        form = _survey_form(fields, link.lang)
        outcome = self.processor.store.record_survey_form(
            shop=link.shop,
            order_id=link.claims.subject,
            form=form,
            jobs_for=complaint_jobs,
            now=self.processor.clock(),
        )
        if outcome is None:
            raise _Refused(400, "error_rating", link.lang)
        t = link.t
        body = survey_body(t, outcome.answer, action)
        return _html(200, page(link.lang, t["survey_title"], body, shop=link.shop_name))

    # -- newsletter -----------------------------------------------------------------------------

    def signup(self, link: _Link) -> Response:
        order_id = link.claims.subject
        job = LinkJob(
            CONFIRMATION,
            f"newsletter:{order_id}:confirmation",
            {"order_id": order_id, "source": "thank_you"},
        )
        self.processor.store.spend_link_nonce(
            shop=link.shop,
            nonce=link.claims.nonce,
            purpose=link.claims.purpose.value,
            subject=order_id,
            jobs=(job,),
            now=self.processor.clock(),
        )
        t = link.t
        body = para(t["signup_text"].format(shop=link.shop_name))
        return _html(200, page(link.lang, t["signup_title"], body, shop=link.shop_name))

    def confirm(self, link: _Link) -> Response:
        subject = link.claims.subject
        job = LinkJob(CONSENT, f"newsletter:{subject}:consent", {"subject": subject})
        found = self.processor.store.confirm_consent(
            shop=link.shop, subject=subject, jobs=(job,), now=self.processor.clock()
        )
        if found is None:
            raise _Refused(404, "error_unknown", link.lang)
        t = link.t
        body = para(t["confirm_text"].format(shop=link.shop_name))
        return _html(200, page(link.lang, t["confirm_title"], body, shop=link.shop_name))


def _rating(raw: str | None, lang: str) -> int:
    if raw is None or raw.strip() not in {"1", "2", "3", "4", "5"}:
        raise _Refused(400, "error_rating", lang)
    return int(raw.strip())


def _yes_no(fields: Mapping[str, str], name: str, lang: str) -> bool | None:
    value = fields.get(name, "").strip()
    if value not in ("", "yes", "no"):
        raise _Refused(400, "error_form", lang, reason=name)
    return None if not value else value == "yes"


def _survey_form(fields: Mapping[str, str], lang: str) -> SurveyForm:
    wait = fields.get("wait", "").strip()
    if wait and wait not in WAIT_CHOICES:
        raise _Refused(400, "error_form", lang, reason="wait")
    comment = fields.get("comment", "").replace("\r\n", "\n").strip()
    if len(comment) > _MAX_COMMENT:
        raise _Refused(400, "error_form", lang, reason="comment")
    return SurveyForm(
        satisfied=_yes_no(fields, "satisfied", lang),
        delivery_ok=_yes_no(fields, "delivery", lang),
        payment_ok=_yes_no(fields, "payment", lang),
        wait=wait or None,
        comment=comment or None,
    )


async def _form_fields(request: Request) -> dict[str, str]:
    """The form body's fields (the first value of each), at most 8 KiB, UTF-8."""
    data = b""
    try:
        async for chunk in request.stream():
            data += chunk
            if len(data) > _MAX_BODY:
                raise _Refused(400, "error_form", "en", reason="too large")
    except ClientDisconnect:
        raise _Refused(400, "error_form", "en", reason="no body") from None
    try:
        parsed = parse_qs(data.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        raise _Refused(400, "error_form", "en", reason="not a form") from None
    return {key: values[0] for key, values in parsed.items() if values}


Handler = Callable[[Request], Awaitable[Response]]


def _guarded(handler: Handler) -> Handler:
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except _Refused as refused:
            return _error(refused)

    return endpoint


def link_routes(processor: Processor) -> list[Route]:
    """The link routes (see the module docstring)."""
    e = _Endpoints(processor)

    async def unsubscribe(request: Request) -> Response:
        link = await run_in_threadpool(e.link, request, Purpose.UNSUBSCRIBE)
        if request.method == "POST":
            await _form_fields(request)  # RFC 8058: the body is List-Unsubscribe=One-Click
            return await run_in_threadpool(e.unsubscribe, link)
        return await run_in_threadpool(e.unsubscribe_page, link)

    async def survey(request: Request) -> Response:
        link = await run_in_threadpool(e.link, request, Purpose.SURVEY)
        action = request.url.path
        if request.method == "POST":
            fields = await _form_fields(request)
            return await run_in_threadpool(e.answer, link, fields, action)
        raw = request.query_params.get("rating")
        return await run_in_threadpool(e.rate, link, raw, action)

    async def signup(request: Request) -> Response:
        link = await run_in_threadpool(e.link, request, Purpose.NEWSLETTER_SIGNUP)
        return await run_in_threadpool(e.signup, link)

    async def confirm(request: Request) -> Response:
        link = await run_in_threadpool(e.link, request, Purpose.NEWSLETTER_CONFIRM)
        return await run_in_threadpool(e.confirm, link)

    return [
        Route("/v1/unsubscribe/{token}", _guarded(unsubscribe), methods=["GET", "POST"]),
        Route("/v1/survey/{token}", _guarded(survey), methods=["GET", "POST"]),
        Route("/v1/newsletter/signup/{token}", _guarded(signup), methods=["GET"]),
        Route("/v1/newsletter/confirm/{token}", _guarded(confirm), methods=["GET"]),
    ]
