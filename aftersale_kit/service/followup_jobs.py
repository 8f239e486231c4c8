"""The handlers of the follow-up jobs (:data:`.followups.FOLLOW_UP_JOBS`), called by
:meth:`.effects.Processor.handle`. See :mod:`.followups` for what each does."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from ..core.model import Order
from ..core.platform import platform_customer_id
from ..mail import MailRequest
from ..storage.links import SurveyAnswer
from ..storage.records import Job
from .followups import (
    COMPLAINT_TAG,
    CONFIRMATION,
    CONSENT,
    CONSENT_TEXT_VERSION,
    MAIL,
    NOTE,
    TAG,
    WITHDRAWAL,
    FollowUps,
    JobFailed,
    consent_of,
    job_attempt,
    message_of,
    withdrawal_of,
)
from .logs import log_event
from .shops import ShopEntry

if TYPE_CHECKING:
    from .effects import Processor

__all__ = ["run_follow_up"]


def run_follow_up(processor: Processor, job: Job) -> None:
    from .effects import PermanentJobError

    follow_ups = processor.follow_ups
    if follow_ups is None:
        raise PermanentJobError(f"job {job.id}: follow-ups are not set up in this processor")
    handler = _HANDLERS[job.kind]
    try:
        handler(processor, follow_ups, job)
    except JobFailed as exc:
        raise PermanentJobError(f"job {job.id} ({job.kind}): {exc}") from exc


def _answer(processor: Processor, job: Job) -> tuple[ShopEntry, Order, SurveyAnswer]:
    entry = processor.entry(job.shop)
    order_id = str(job.payload["order_id"])
    answer = processor.store.survey_answer(job.shop, order_id)
    if answer is None:
        raise JobFailed(f"no survey answer for order {order_id}")
    return entry, processor.order(entry, order_id), answer


def _customer(order: Order) -> str:
    customer = order.customer
    name = " ".join(p for p in (customer.first_name, customer.last_name) if p) if customer else ""
    address = order.email or (customer.email if customer else None) or ""
    return f"{name} <{address}>".strip() if address else name


def complaint_mail(processor: Processor, follow_ups: FollowUps, job: Job) -> None:
    entry, order, answer = _answer(processor, job)
    mail = entry.config.mail
    support = mail.support_address if mail is not None else None
    if not support:
        log_event(logging.WARNING, "complaint not mailed: no support address", shop=job.shop)
        return
    form = answer.form
    request = MailRequest(
        template="complaint",
        to_address=support,
        idempotency_key=f"{job.shop}:{job.idempotency_key}",
        marketing=False,
        locale=entry.config.settings.locale,
        data={
            "order_number": order.number,
            "rating": answer.rating,
            "delivery_ok": form.delivery_ok,
            "payment_ok": form.payment_ok,
            "wait": form.wait,
            "comment": form.comment,
            "customer": _customer(order),
        },
    )
    follow_ups.send(entry, request, attempt=job_attempt(job))
    log_event(logging.INFO, "complaint mailed", shop=job.shop, order_id=order.id)


def complaint_note(processor: Processor, follow_ups: FollowUps, job: Job) -> None:
    entry, order, answer = _answer(processor, job)
    problems = answer.complaint_reasons()
    text = "Survey complaint: " + ", ".join(problems or [f"rating {answer.rating}/5"])
    entry.adapter.add_order_note(order, text=text, key=job.idempotency_key)


def complaint_tag(processor: Processor, follow_ups: FollowUps, job: Job) -> None:
    entry = processor.entry(job.shop)
    order = processor.order(entry, str(job.payload["order_id"]))
    entry.adapter.tag_order(order, [COMPLAINT_TAG])


def newsletter_confirmation(processor: Processor, follow_ups: FollowUps, job: Job) -> None:
    entry = processor.entry(job.shop)
    order = processor.order(entry, str(job.payload["order_id"]))
    address = order.email or (order.customer.email if order.customer else None)
    if not address:
        raise JobFailed(f"order {order.id} has no e-mail address")
    customer = order.customer.id if order.customer else None
    consent = processor.store.request_consent(
        shop=job.shop,
        subject=order.id,
        email=address,
        customer_id=customer,
        source=str(job.payload.get("source") or "thank_you"),
        text_version=CONSENT_TEXT_VERSION,
        now=processor.clock(),
    )
    mail = entry.config.mail
    links = follow_ups.links(entry)
    if links is None:
        raise JobFailed("set AFTERSALE_PUBLIC_URL (the service's public address) for its link")
    request = MailRequest(
        template="newsletter_confirm",
        to_address=consent.email,
        idempotency_key=f"{job.shop}:{job.idempotency_key}",
        marketing=False,
        locale=order.locale or (order.customer.locale if order.customer else None),
        data={
            "shop_name": (mail.sender_name if mail else None) or entry.domain,
            "confirm_url": links.newsletter_confirm(shop=job.shop, subject=order.id),
        },
    )
    follow_ups.send(entry, request, attempt=job_attempt(job))
    log_event(logging.INFO, "newsletter confirmation mailed", shop=job.shop, order_id=order.id)


def record_consent(processor: Processor, follow_ups: FollowUps, job: Job) -> None:
    entry = processor.entry(job.shop)
    consent = processor.store.consent(job.shop, str(job.payload["subject"]))
    if consent is None or consent.confirmed_at is None:
        raise JobFailed("no confirmed consent to record")
    customer = platform_customer_id(consent.customer_id)
    wrote = entry.adapter.record_marketing_consent(customer, consent.email, consent_of(consent))
    log_event(
        logging.INFO,
        "marketing consent written" if wrote else "marketing consent not written (guest)",
        shop=job.shop,
    )


def _not_withdrawn(job: Job, why: str) -> None:
    """Nothing to write on the platform, and why (kept in the log with the job's key)."""
    log_event(
        logging.INFO,
        "marketing consent withdrawal not written",
        shop=job.shop,
        job=job.idempotency_key,
        reason=why,
    )


def withdraw_consent(processor: Processor, follow_ups: FollowUps, job: Job) -> None:
    """An unsubscribe's withdrawal on the platform (``record_marketing_consent`` with
    ``opted_in`` false and the unsubscribe's time). Read when the job runs: the message the
    link named (its address and customer) and whether the address is still unsubscribed (a
    confirmed double opt-in after the unsubscribe lifts it: then the withdrawal is stale)."""
    store = processor.store
    record = message_of(store, job.shop, str(job.payload["message_id"]))
    if record is None or not record.email:
        return _not_withdrawn(job, "the message or its address is gone (erased)")
    if not store.is_unsubscribed(job.shop, record.email):
        return _not_withdrawn(job, "the address subscribed again since")
    customer = platform_customer_id(record.customer_key)
    if customer is None:
        return _not_withdrawn(job, "guest: no customer account on the platform")
    entry = processor.entry(job.shop)
    at = datetime.fromisoformat(str(job.payload["at"]))
    withdrawal = withdrawal_of(at, "unsubscribe_link")
    if not entry.adapter.record_marketing_consent(customer, record.email, withdrawal):
        return _not_withdrawn(job, f"customer {customer} is unknown on the platform")
    log_event(logging.INFO, "marketing consent withdrawn", shop=job.shop, job=job.idempotency_key)


_HANDLERS = {
    MAIL: complaint_mail,
    NOTE: complaint_note,
    TAG: complaint_tag,
    CONFIRMATION: newsletter_confirmation,
    CONSENT: record_consent,
    WITHDRAWAL: withdraw_consent,
}
