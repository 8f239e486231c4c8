"""Follow-ups in the service: the schedule a step plans, the signed links in the e-mails, and
the jobs behind those links.

**The schedule.** :func:`step_follow_ups` goes with each step of an order
(:meth:`Processor.step <aftersale_kit.service.effects.Processor.step>`): when the new decision
carries ``follow_up`` actions, their messages (in the shop's time zone with its holidays) are put
on the schedule in the step's transaction. :func:`stop_repeats`: a new order of the customer that
makes a repeat's ``stop_when`` true cancels that repeat's messages due after it. A closed order
(cancelled, refunded in full) cancels its messages in the store's step; a ``customers/redact`` in
the store's erasure; an uninstall in :meth:`Processor.uninstall
<aftersale_kit.service.effects.Processor.uninstall>`; an unsubscribe with
:meth:`LinkStore.unsubscribe <aftersale_kit.storage.ports.LinkStore.unsubscribe>` (what the
unsubscribe route calls). The sweep that sends what is due is :mod:`.mail_sweep`.

**The links.** One key per shop signs every link, in the worker's e-mails and at the routes
(:mod:`.link_routes`): ``$AFTERSALE_LINK_KEY`` (at least 32 bytes) when set, else a key derived
from the shop's ``code_secret`` (:func:`link_signer`), so a service without the variable still
has working links and rotating either invalidates the links sent. The links' address is
``$AFTERSALE_PUBLIC_URL``; without it no link is made (a marketing or survey e-mail then fails
with that reason, and the thank-you signup stays the shop's own link). What a link names
(its subject, readable by whoever holds it, so never an address): a survey the order id (one
answer per order), an unsubscribe the message's row id (:func:`message_subject`,
:func:`message_of`), the newsletter signup and confirmation the order id.

**The link jobs**, enqueued once per key in the same transaction as the click that causes it
(:mod:`aftersale_kit.storage.links`), each handler idempotent (:mod:`.followup_jobs`):

=============================  =================================================================
``survey_complaint_mail``      the complaint e-mail to the shop's ``mail.support_address``
``survey_complaint_note``      a staff note on the order (once, by its key's marker)
``survey_complaint_tag``       the tag :data:`COMPLAINT_TAG` on the order
``newsletter_confirmation``    records the signup (address from the order) and sends the one
                               double opt-in e-mail
``record_marketing_consent``   writes a confirmed consent to the platform
``withdraw_marketing_consent`` writes an unsubscribe's withdrawal to the platform (queued by
                               the first unsubscribe of the address, :func:`withdrawal_jobs`)
=============================  =================================================================

The e-mails have a Message-ID derived from the job's key, the note carries its marker, tags are a
set and the consent write replaces. A transient delivery failure raises, so the worker retries
with its backoff; a permanent one sends the job to the dead letters with the server's reply. Link
e-mails are rare, so each job opens its own SMTP connection; the shop's send rate is shared.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from ..core.campaign import ShowBlock
from ..core.conditions import Condition, compile_condition
from ..core.contact.follow_up import LINK_DATA_KEYS, DelayUnit, FollowUp, FollowUpKind
from ..core.contact.presale import VipPresale, announcement_due, presale_key
from ..core.contact.schedule import planned_messages
from ..core.decision import Decision, PlannedAction
from ..core.engine import customer_key
from ..core.loyalty.program import LoyaltyProgram, account_key
from ..core.model import EventKind, Order
from ..core.platform import MarketingConsent
from ..mail import (
    DeliveryStatus,
    LinkKeyError,
    LinkKeys,
    LinkSigner,
    MailComposer,
    Mailer,
    MailError,
    MailLinks,
    MailRequest,
    Purpose,
    SendRateLimiter,
    parse_link_keys,
)
from ..mail.links import SIGNUP_DAYS
from ..storage.links import Consent, LinkJob, SurveyAnswer
from ..storage.loyalty import REMINDER
from ..storage.message_records import PENDING_STATES, MessageRecord, NewMessage, StepMessages
from ..storage.ports import LoyaltyStore, MessageStore
from ..storage.records import Job
from .shops import ShopEntry

__all__ = [
    "COMPLAINT_TAG",
    "CONSENT_TEXT_VERSION",
    "FOLLOW_UP_JOBS",
    "LINK_KEYS_ENV",
    "LINK_KEY_ENV",
    "PUBLIC_URL_ENV",
    "FollowUps",
    "complaint_jobs",
    "has_follow_ups",
    "link_signer",
    "message_data",
    "message_of",
    "message_subject",
    "points_data",
    "step_follow_ups",
    "stop_repeats",
    "trigger_moment",
    "with_signup_links",
    "withdrawal_jobs",
    "withdrawal_of",
]

LINK_KEY_ENV = "AFTERSALE_LINK_KEY"
#: ``kid1:secret1,kid2:secret2``: key ids for rotation (the first signs, all verify).
LINK_KEYS_ENV = "AFTERSALE_LINK_KEYS"
PUBLIC_URL_ENV = "AFTERSALE_PUBLIC_URL"
#: The tag a complaint puts on the order, so the shop can filter its order list by it.
COMPLAINT_TAG = "aftersale-complaint"
#: The version of the newsletter consent text (the signup page and the confirmation e-mail).
CONSENT_TEXT_VERSION = "newsletter-v1"

MAIL, NOTE, TAG = "survey_complaint_mail", "survey_complaint_note", "survey_complaint_tag"
CONFIRMATION, CONSENT = "newsletter_confirmation", "record_marketing_consent"
WITHDRAWAL = "withdraw_marketing_consent"
FOLLOW_UP_JOBS = frozenset({MAIL, NOTE, TAG, CONFIRMATION, CONSENT, WITHDRAWAL})


class JobFailed(Exception):
    """A follow-up job that retrying cannot help (the worker's dead letters)."""


def complaint_jobs(answer: SurveyAnswer) -> tuple[LinkJob, ...]:
    """The three jobs of a complaint, keyed by the order: raised once however often asked."""
    if not answer.complaint:
        return ()
    payload = {"order_id": answer.order_id}
    return tuple(
        LinkJob(kind, f"complaint:{answer.order_id}:{kind}", payload) for kind in (MAIL, NOTE, TAG)
    )


def withdrawal_jobs(subject: str, now: datetime) -> tuple[LinkJob, ...]:
    """The job that writes an unsubscribe's withdrawal to the platform: ``subject`` is the
    message the link named (its row id: the address and the customer are read from it when the
    job runs, so the job carries no address), ``now`` the moment of the unsubscribe (the
    withdrawal's time on the platform, and part of the key: an address that subscribes again
    and unsubscribes again gets a new job). Enqueued only by the call that puts the address on
    the suppression list, so a second click queues nothing."""
    at = now.astimezone(UTC).isoformat()
    payload = {"message_id": subject, "at": at}
    return (LinkJob(WITHDRAWAL, f"unsubscribe:{subject}:{at}", payload),)


def withdrawal_of(at: datetime, source: str) -> MarketingConsent:
    """The withdrawn consent written to the platform (the text version of the opt-in it
    withdraws; the platform keeps the state and the time)."""
    return MarketingConsent(opted_in=False, at=at, source=source, text_version=CONSENT_TEXT_VERSION)


class FollowUps:
    """The link key and address, and the per-shop mailers of the link jobs.

    ``key``: the service's link key, ``None`` for each shop's key derived from its
    ``code_secret`` (either is the legacy key: it verifies the tokens without a key id, and
    signs when there are no ``kids``); ``kids``: ``(key id, key)`` pairs, the first signs, all
    verify; ``public_url``: the links' address, ``None``: no links are made."""

    def __init__(
        self,
        *,
        key: bytes | None = None,
        kids: tuple[tuple[str, bytes], ...] = (),
        public_url: str | None = None,
        environ: Mapping[str, str] | None = None,
        clock: Callable[[], datetime] | None = None,
        mailer_options: Mapping[str, Any] | None = None,
    ) -> None:
        if key is not None and len(key) < 32:
            raise LinkKeyError(f"{LINK_KEY_ENV} needs at least 32 bytes, got {len(key)}")
        LinkKeys(b"-" * 32, kids)  # key ids and lengths, or LinkKeyError now, not per link
        self.key = key
        self.kids = kids
        self.public_url = public_url
        self.environ = environ
        self.clock = clock or (lambda: datetime.now(UTC))
        self._options = dict(mailer_options or {})
        self._limiter = SendRateLimiter()

    @classmethod
    def from_env(
        cls, env: Mapping[str, str], *, clock: Callable[[], datetime] | None = None
    ) -> FollowUps:
        """From ``$AFTERSALE_LINK_KEY``, ``$AFTERSALE_LINK_KEYS`` and ``$AFTERSALE_PUBLIC_URL``
        (each optional); a malformed key is a :class:`LinkKeyError` naming the variable and
        what is wrong (never the secret), so the service does not start with it."""
        key = env.get(LINK_KEY_ENV, "")
        raw = env.get(LINK_KEYS_ENV)
        kids = parse_link_keys(raw, variable=LINK_KEYS_ENV) if raw is not None else ()
        url = env.get(PUBLIC_URL_ENV, "").strip()
        return cls(
            key=key.encode("utf-8") if key else None,
            kids=kids,
            public_url=url or None,
            environ=env,
            clock=clock,
        )

    def signer(
        self, entry: ShopEntry, *, clock: Callable[[], datetime] | None = None
    ) -> LinkSigner:
        """The signer of ``entry``'s links (:func:`link_signer`)."""
        return link_signer(entry, key=self.key, kids=self.kids, clock=clock or self.clock)

    def links(
        self, entry: ShopEntry, *, clock: Callable[[], datetime] | None = None
    ) -> MailLinks | None:
        """``entry``'s links under the public address; ``None`` without one."""
        if self.public_url is None:
            return None
        return MailLinks(self.signer(entry, clock=clock), self.public_url)

    def mailer(self, entry: ShopEntry) -> Mailer:
        """A mailer for one job (its own connection; the shop's send rate is shared)."""
        settings = entry.config.mail
        if settings is None:
            raise JobFailed(f"shop {entry.domain} has no mail: section")
        return Mailer.for_settings(
            entry.domain, settings, environ=self.environ, limiter=self._limiter, **self._options
        )

    def send(self, entry: ShopEntry, request: MailRequest, *, attempt: int) -> None:
        """Compose and hand over ``request``; raises to retry, :class:`JobFailed` to give up."""
        settings = entry.config.mail
        if settings is None:
            raise JobFailed(f"shop {entry.domain} has no mail: section")
        composer = MailComposer(
            shop=entry.config.settings, mail=settings, renderer=entry.renderer, clock=self.clock
        )
        mail = composer.compose(request)
        mailer = self.mailer(entry)
        try:
            delivery = mailer.deliver(mail, attempt=attempt)
        finally:
            mailer.transport.close()
        if delivery.status is DeliveryStatus.FAILED:
            raise JobFailed(f"{delivery.reason}: {delivery.code} {delivery.reply}")
        if delivery.status is DeliveryStatus.RETRY:
            raise RuntimeError(f"mail not sent yet ({delivery.reason} {delivery.code}); retrying")


def with_signup_links(
    follow_ups: FollowUps | None, entry: ShopEntry, decision: Decision
) -> Decision:
    """``decision`` with each newsletter block's ``signup_url`` replaced by the one-click signup
    link (when the public address is set and the shop has ``mail:``; else as it is).

    The link is a pure function of the decision: its nonce comes from the order id and its
    expiry from the decision's time, so rendering the same timeline again gives the same
    content (the content job compares timelines to see whether it has to write again)."""
    if follow_ups is None or entry.config.mail is None:
        return decision
    links = follow_ups.links(entry, clock=lambda: decision.decided_at)
    if links is None or not any(_is_newsletter(p) for p in decision.actions):
        return decision
    nonce = hashlib.sha256(f"signup:{decision.order_id}".encode()).hexdigest()[:16]
    token = links.signer.sign(
        Purpose.NEWSLETTER_SIGNUP,
        shop=entry.domain,
        subject=decision.order_id,
        valid_for=timedelta(days=SIGNUP_DAYS),
        nonce=nonce,
    )
    url = f"{links.base}/v1/newsletter/signup/{token}"
    actions = tuple(_signed(p, url) if _is_newsletter(p) else p for p in decision.actions)
    return dataclasses.replace(decision, actions=actions)


def _is_newsletter(planned: PlannedAction) -> bool:
    return isinstance(planned.action, ShowBlock) and planned.action.block == "newsletter"


def _signed(planned: PlannedAction, url: str) -> PlannedAction:
    action = planned.action
    assert isinstance(action, ShowBlock)
    kept = [(k, v) for k, v in action.params if k != "signup_url"]
    params = (*kept, ("signup_url", url))
    return dataclasses.replace(planned, action=dataclasses.replace(action, params=params))


def consent_of(consent: Consent) -> MarketingConsent:
    return MarketingConsent(
        opted_in=True,
        at=consent.confirmed_at or consent.requested_at,
        source=consent.source,
        text_version=consent.text_version,
    )


def job_attempt(job: Job) -> int:
    return max(1, int(job.attempts))


_LINK_KEY_LABEL = b"aftersale-kit mail links v1"
_MAX_PRODUCTS = 5


def link_signer(
    entry: ShopEntry,
    *,
    key: bytes | None = None,
    kids: tuple[tuple[str, bytes], ...] = (),
    clock: Callable[[], datetime] | None = None,
) -> LinkSigner:
    """The signer of the shop's e-mail links. The legacy key (tokens without a key id) is
    ``key`` (the service's ``$AFTERSALE_LINK_KEY``) when given, else HMAC-SHA256 of the shop's
    ``code_secret`` under a fixed label, so every process of the service (worker and routes)
    has the same key without more configuration. ``kids`` (``$AFTERSALE_LINK_KEYS``): the
    first signs, all verify the tokens that name them."""
    if key is None:
        key = hmac.new(entry.code_secret, _LINK_KEY_LABEL, hashlib.sha256).digest()
    return LinkSigner(LinkKeys(key, kids), clock=clock)


def message_subject(record: MessageRecord) -> str:
    """What a message's unsubscribe link names: its row id (readable by whoever holds the
    link, so never an address). The survey link names the order (one answer per order)."""
    return str(record.id)


def message_of(store: MessageStore, shop: str, subject: str) -> MessageRecord | None:
    """The message an unsubscribe link's subject names (``None``: not a row id, or gone)."""
    if not subject.isdigit() or len(subject) > 18:
        return None
    return store.message(shop, int(subject))


def has_follow_ups(entry: ShopEntry) -> bool:
    """Whether the shop's campaigns plan e-mails (``follow_up``, ``vip_presale``)."""
    return any(
        isinstance(a, FollowUp | VipPresale) for c in entry.config.campaigns for a in c.actions
    )


def trigger_moment(order: Order, decision: Decision) -> datetime:
    """When the step's event happened: the payment time for ``order_paid`` (when known), the
    order's creation for ``order_created``, else the moment the step was decided."""
    if decision.event is EventKind.ORDER_PAID and order.paid_at is not None:
        return order.paid_at
    if decision.event is EventKind.ORDER_CREATED:
        return order.created_at
    return decision.decided_at


def _months(action: FollowUp) -> int:
    """The interval a service reminder names ("every N months"): the repeat's, else the
    delay's; days count as months of 30 days (at least 1)."""
    delay = action.repeat.every if action.repeat is not None else action.after
    if delay.unit is DelayUnit.MONTHS:
        return delay.amount
    return max(1, round(delay.amount / 30))


def message_data(
    order: Order, action: FollowUp, *, loyalty: LoyaltyProgram | None = None
) -> dict[str, Any]:
    """What the e-mail's template and the contact policy need, kept with the message. A
    points reminder keeps the loyalty account; the sweep reads its balance when it sends
    (:func:`points_data`). The action's ``link:`` is kept under its kind's key
    (``booking_url``, ``review_url``, ...) with ``link_text``; without one, the composer uses
    the shop's ``booking_url`` or ``review_url`` as configured when the e-mail is sent."""
    customer = order.customer
    name = None
    if customer is not None:
        name = " ".join(p for p in (customer.first_name, customer.last_name) if p) or None
    return {
        "order_number": order.number,
        "products": [item.title for item in order.line_items[:_MAX_PRODUCTS]],
        "months": _months(action),
        "locale": order.locale or (customer.locale if customer is not None else None),
        "to_name": name,
        "accepts_marketing": customer.accepts_marketing if customer is not None else None,
        "stop_when": _stop_source(action),
        "shipping_method": order.shipping_method,
        "loyalty_account": _loyalty_account(order, action, loyalty),
        **_link_data(action),
    }


def _link_data(action: FollowUp) -> dict[str, str]:
    key = LINK_DATA_KEYS.get(action.kind)
    if key is None or action.link is None:
        return {}
    found = {key: action.link}
    if action.link_text is not None:
        found["link_text"] = action.link_text
    return found


def _loyalty_account(order: Order, action: FollowUp, loyalty: LoyaltyProgram | None) -> str | None:
    if action.kind is not FollowUpKind.POINTS_REMINDER or loyalty is None:
        return None
    return account_key(order, loyalty)


def points_data(store: LoyaltyStore, shop: str, account: str | None) -> dict[str, Any]:
    """The points a reminder shows, read when it is sent: the available balance and the
    latest expiry reminder the loyalty sweep recorded (its points and due date)."""
    if account is None:
        raise MailError("a points reminder needs a loyalty account (a loyalty program, a customer)")
    balance = store.loyalty_balance(shop, account)
    found = [r for r in store.loyalty_reminders(shop, account=account) if r.kind == REMINDER]
    latest = max(found, key=lambda r: r.due_at, default=None)
    return {
        "points_balance": balance.available if balance is not None else 0,
        "points_expiring": latest.points if latest is not None else 0,
        "points_expire_on": latest.due_at.date().isoformat() if latest is not None else None,
    }


def _stop_source(action: FollowUp) -> str | None:
    stop = action.repeat.stop_when if action.repeat is not None else None
    return stop.source if stop is not None else None


def _address(order: Order) -> str | None:
    return order.email or (order.customer.email if order.customer is not None else None)


def _stopped(record: MessageRecord, order: Order, conditions: dict[str, Condition]) -> bool:
    source = record.data.get("stop_when")
    if not isinstance(source, str) or record.order_id == order.id:
        return False
    if record.state.value not in PENDING_STATES or record.due_at <= order.created_at:
        return False
    if source not in conditions:
        conditions[source] = compile_condition(source)
    return conditions[source].evaluate(order).is_true


def stop_repeats(store: MessageStore, entry: ShopEntry, order: Order, *, now: datetime) -> int:
    """Cancel the customer's waiting messages of earlier orders whose repeat's ``stop_when``
    ``order`` makes true and that are due after ``order`` was placed; returns how many."""
    email = _address(order)
    if email is None or not any(
        isinstance(a, FollowUp) and _stop_source(a)
        for c in entry.config.campaigns
        for a in c.actions
    ):
        return 0
    conditions: dict[str, Condition] = {}
    ids = [
        m.id
        for m in store.messages(entry.domain, email=email, limit=100_000)
        if _stopped(m, order, conditions)
    ]
    if not ids:
        return 0
    reason = f"stopped by order {order.id} (stop_when)"
    return store.cancel_messages(entry.domain, ids=ids, reason=reason, now=now)


def presale_data(order: Order, action: VipPresale) -> dict[str, Any]:
    """What the announcement's template and the sweep need, kept with the message: the
    pre-sale's name, start and end (the sweep cancels it once the end has passed)."""
    customer = order.customer
    name = None
    if customer is not None:
        name = " ".join(p for p in (customer.first_name, customer.last_name) if p) or None
    return {
        "presale_name": action.name,
        "presale_starts": action.starts_at.isoformat(),
        "presale_ends": action.ends_at.isoformat(),
        "presale_tag": action.tag,
        "presale_url": action.url,
        "locale": order.locale or (customer.locale if customer is not None else None),
        "to_name": name,
        "accepts_marketing": customer.accepts_marketing if customer is not None else None,
        "order_number": order.number,
    }


def _invitation(
    shop: str,
    order: Order,
    planned: PlannedAction,
    action: VipPresale,
    customer: str,
    email: str,
    decision: Decision,
) -> list[NewMessage]:
    """The customer's one announcement of the pre-sale (keyed by customer, not order: a
    second qualifying order plans nothing new); none once the pre-sale has ended."""
    due = announcement_due(action, decision.decided_at)
    if due is None:
        return []
    return [
        NewMessage(
            shop=shop, key=f"{presale_key(shop, planned.campaign_id, customer)}:1",
            order_id=order.id, customer_key=customer, email=email,
            campaign_id=planned.campaign_id, occurrence=1, kind="vip_presale",
            template=action.template, purpose=action.purpose.value, due_at=due,
            data=presale_data(order, action),
        )
    ]  # fmt: skip


def step_follow_ups(entry: ShopEntry, order: Order) -> StepMessages | None:
    """What a step of ``order`` puts on the schedule (``decide_step(follow_ups=...)``);
    ``None`` when the shop has no ``follow_up`` action or the order no e-mail address."""
    if not has_follow_ups(entry):
        return None
    email = _address(order)
    if not email:
        return None
    policy = entry.config.policy
    shop, key = entry.domain, customer_key(order)

    def plan(decision: Decision) -> list[NewMessage]:
        found: list[NewMessage] = []
        trigger_at = trigger_moment(order, decision)
        for planned in decision.actions:
            action = planned.action
            if isinstance(action, VipPresale) and key is not None:
                found.extend(_invitation(shop, order, planned, action, key, email, decision))
            if not isinstance(action, FollowUp):
                continue
            data = message_data(order, action, loyalty=entry.config.loyalty)
            for m in planned_messages(
                planned, trigger_at=trigger_at, tz=policy.timezone, holidays=policy.holidays
            ):
                found.append(
                    NewMessage(
                        shop=shop, key=m.key, order_id=order.id, customer_key=key,
                        email=email, campaign_id=m.campaign_id, occurrence=m.occurrence,
                        kind=m.kind.value, template=m.template, purpose=m.purpose.value,
                        due_at=m.due_at, data=data,
                    )
                )  # fmt: skip
        return found

    return StepMessages(plan=plan)
