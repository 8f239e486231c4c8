"""The worker's sweep of due follow-up messages: policy, compose, deliver, record.

:class:`MessageSender` claims due messages in batches (leased: two workers never hold the same
message), asks the shop's contact policy about each (history from the store, consent from the
order and the confirmed double opt-ins of the ``consents`` table, the suppression list) and
records:

* ``Send`` -> composed (:class:`~aftersale_kit.mail.MailComposer`) and delivered
  (:class:`~aftersale_kit.mail.Mailer`, the shop's send rate): ``sent`` with the Message-ID and
  the server's reply; a transient failure or the send rate -> ``deferred`` to the retry time
  (``attempts`` + 1 for a failure); a permanent failure or the last retry -> ``failed`` with the
  server's reply;
* ``Defer`` -> ``deferred`` to the new due time, with the rule;
* ``HoldBack`` -> ``held_back`` with the rule's explanation.

A message is marked handed over (:meth:`~aftersale_kit.storage.ports.MessageStore.
hand_over_message`) after its text has gone to the server and before the end of data, the
moment the server takes it. A worker that dies before the mark leaves the server nothing (a
connection closed in the middle of data delivers no message): the next sweep sends it. A worker
that dies after it leaves a marked message: the next sweep records it as sent, without sending
it again. The Message-ID comes from the message's key either way (docs/follow-ups.md, "A crash
while sending").

:class:`MessageSweeper` runs the sweep in a daemon thread of the worker (no cron).
"""

from __future__ import annotations

import logging
import os
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.contact.follow_up import Purpose
from ..core.contact.policy import (
    Consent,
    Defer,
    HoldBack,
    Message,
    SentMessage,
    Verdict,
    check,
    normalise_email,
)
from ..mail import (
    Delivery,
    DeliveryStatus,
    MailComposer,
    Mailer,
    MailError,
    MailLinks,
    MailRequest,
    OutgoingMail,
    SendRateLimiter,
    message_id_for,
)
from ..storage.message_records import (
    ContactFacts,
    ContactRef,
    MessageOutcome,
    MessageRecord,
    MessageState,
)
from .followups import PUBLIC_URL_ENV, FollowUps, message_subject, points_data
from .logs import log_event
from .metrics import Metrics
from .shops import ShopEntry

if TYPE_CHECKING:
    from .effects import Processor

__all__ = ["PUBLIC_URL_ENV", "MessageSender", "MessageSweeper", "SweepCounts"]


@dataclass
class SweepCounts:
    """What one sweep did, by recorded state (``lost``: the lease was gone when recording)."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, name: str) -> None:
        self.counts[name] = self.counts.get(name, 0) + 1

    @property
    def claimed(self) -> int:
        return sum(self.counts.values())


class _ShopMail:
    """One shop's composer and links; its mailer is built on first delivery (a preview
    needs none)."""

    def __init__(
        self, composer: MailComposer, links: MailLinks | None, build: Callable[[], Mailer]
    ) -> None:
        self.composer = composer
        self.links = links
        self._build = build
        self._mailer: Mailer | None = None

    @property
    def mailer(self) -> Mailer:
        if self._mailer is None:
            self._mailer = self._build()
        return self._mailer

    def close(self) -> None:
        if self._mailer is not None:
            self._mailer.close()


class MessageSender:
    """Sends the due messages of every configured shop. ``environ`` holds the SMTP logins and,
    when the processor has no :class:`~.followups.FollowUps`, the link key and
    :data:`PUBLIC_URL_ENV`; ``ssl_context`` verifies the SMTP servers (tests: a test CA). The
    links are signed with the key the routes verify with (:func:`.followups.link_signer`)."""

    def __init__(
        self,
        processor: Processor,
        *,
        metrics: Metrics | None = None,
        worker_id: str = "mail-sweep",
        public_url: str | None = None,
        environ: Mapping[str, str] | None = None,
        ssl_context: ssl.SSLContext | None = None,
        limiter: SendRateLimiter | None = None,
    ) -> None:
        self.processor = processor
        self.store = processor.store
        self.metrics = metrics or Metrics()
        self.worker_id = worker_id
        self.environ = os.environ if environ is None else environ
        self.follow_ups = processor.follow_ups or FollowUps.from_env(
            self.environ, clock=processor.clock
        )
        self.public_url = public_url or self.follow_ups.public_url
        self.ssl_context = ssl_context
        self.limiter = limiter or SendRateLimiter()
        self._shops: dict[str, _ShopMail] = {}
        self._lock = threading.Lock()
        self._lease_seconds = 120.0
        #: The claimed messages this sweep marked handed over (their end of data went out).
        self._handed_over: set[int] = set()

    # -- one sweep ------------------------------------------------------------------------------

    def sweep(self, *, limit: int = 50, lease_seconds: float = 120.0) -> SweepCounts:
        """Claim up to ``limit`` due messages and work each off; returns what was recorded.

        The contact policy's reads (history, consent, suppression) are made for the whole
        claim in one read, and the outcomes recorded in one transaction, in parts of at most
        :data:`PART_SECONDS`: a part's reads are that fresh at most, and its outcomes wait that
        long at most. Within a part, a message sent counts in the history of the customer's
        later messages (the claim holds the customer: no other worker writes to them). A
        message is marked handed over before its end of data, each in its own transaction,
        so a crash before the part is recorded does not send it again."""
        done = SweepCounts()
        self._lease_seconds = lease_seconds
        self._handed_over.clear()
        claimed = self.store.claim_messages(
            worker_id=self.worker_id,
            limit=limit,
            lease_seconds=lease_seconds,
            now=self.processor.clock(),
        )
        pending: list[tuple[MessageRecord, MessageOutcome]] = []
        facts: _PartFacts | None = None
        for index, record in enumerate(claimed):
            if facts is None or facts.expired():
                self._record(pending, done)
                pending = []
                refs = [ContactRef.of(r) for r in claimed[index:] if r.email]
                facts = _PartFacts(self.store.contact_facts(refs))
            outcome = self.work(record, facts)
            facts.note(record, outcome, self.processor.clock())
            if record.id in self._handed_over and outcome.state is not MessageState.SENT:
                # refused at its end of data: recorded at once, so that a crash before the
                # part is recorded cannot count its hand-over mark as a message sent
                self._record([(record, outcome)], done)
            else:
                pending.append((record, outcome))
        self._record(pending, done)
        return done

    def _record(
        self, pending: list[tuple[MessageRecord, MessageOutcome]], done: SweepCounts
    ) -> None:
        if not pending:
            return
        recorded = self.store.finish_messages(
            [(record.id, outcome) for record, outcome in pending],
            worker_id=self.worker_id,
            now=self.processor.clock(),
        )
        for (_, outcome), ok in zip(pending, recorded, strict=True):
            name = outcome.state.value if ok else "lost"
            done.add(name)
            self.metrics.messages.labels(name).inc()

    def sweep_until_idle(self, *, limit: int = 50, rounds: int = 1000) -> SweepCounts:
        """Sweep until nothing is due (tests, ``messages`` tooling)."""
        total = SweepCounts()
        for _ in range(rounds):
            done = self.sweep(limit=limit)
            if not done.claimed:
                break
            for name, n in done.counts.items():
                total.counts[name] = total.counts.get(name, 0) + n
        return total

    def work(self, record: MessageRecord, facts: _PartFacts | None = None) -> MessageOutcome:
        """The outcome of one claimed message (nothing recorded yet); ``facts``: the policy's
        reads made for the sweep's part, else read for this message alone."""
        entry = self.processor.registry.by_domain(record.shop)
        if record.handed_over_at is not None:  # before all else: the server has it
            return self.handed_over(entry, record)
        if entry is None:
            return _cancelled("the shop is not configured in this service")
        if self.processor.uninstalled(record.shop):
            return _cancelled("app uninstalled")
        if not record.email:
            return _cancelled("no e-mail address (redacted?)")
        ended = _presale_ended(record, self.processor.clock())
        if ended is not None:
            return _cancelled(ended)
        verdict = self.verdict(entry, record, facts)
        if isinstance(verdict, Defer):
            return MessageOutcome(MessageState.DEFERRED, reason=verdict.explanation,
                                  due_at=verdict.until)  # fmt: skip
        if isinstance(verdict, HoldBack):
            return MessageOutcome(MessageState.HELD_BACK, reason=verdict.explanation)
        return self.send(entry, record)

    def verdict(
        self, entry: ShopEntry, record: MessageRecord, facts: _PartFacts | None = None
    ) -> Verdict:
        """The shop's contact policy on ``record`` now (:func:`~aftersale_kit.core.contact.
        policy.check`)."""
        email = record.email or ""
        message = Message(
            customer=record.contact_key,
            email=email,
            purpose=Purpose(record.purpose),
            due_at=record.due_at,
            label=f"campaign {record.campaign_id!r} message {record.occurrence}",
        )
        known = facts.get(record) if facts is not None else None
        if known is None:
            known = self.store.contact_facts([ContactRef.of(record)])[ContactRef.of(record)]
        accepts = record.data.get("accepts_marketing")
        consent = Consent(
            accepts_marketing=accepts if isinstance(accepts, bool) else None,
            opt_in_confirmed_at=known.opt_in_confirmed_at,
        )
        return check(
            message,
            list(known.history),
            consent,
            entry.config.policy,
            self.processor.clock(),
            unsubscribed={normalise_email(email)} if known.unsubscribed else set(),
        )

    # -- sending --------------------------------------------------------------------------------

    def handed_over(self, entry: ShopEntry | None, record: MessageRecord) -> MessageOutcome:
        """A message a worker handed to the server and stopped before recording the reply:
        the server has it (the end of data went out), so it counts as sent, even if the shop
        was removed or the address erased since."""
        at = record.handed_over_at
        settings = entry.config.mail if entry is not None else None
        domain = settings.sender_address.rsplit("@", 1)[1] if settings is not None else None
        log_event(
            logging.WARNING,
            "follow-up handed over before a worker stopped: recorded as sent",
            shop=record.shop,
            order_id=record.order_id,
            campaign=record.campaign_id,
            occurrence=record.occurrence,
        )
        return MessageOutcome(
            MessageState.SENT,
            reason=f"handed over to the server at {at.isoformat() if at else '?'} by a worker "
            "that stopped before it read the reply; not sent again",
            message_id=record.message_id
            or (message_id_for(record.key, domain.lower()) if domain else None),
            attempts=record.attempts + 1,
            sent_at=at,
        )

    def send(self, entry: ShopEntry, record: MessageRecord) -> MessageOutcome:
        try:
            shop_mail = self.shop_mail(entry)
            mail = self.compose(shop_mail, record)
            mailer = shop_mail.mailer
        except MailError as exc:
            return MessageOutcome(MessageState.FAILED, reason=f"cannot build the e-mail: {exc}")

        def hand_over() -> bool:
            marked = self.store.hand_over_message(
                record.id,
                worker_id=self.worker_id,
                lease_seconds=self._lease_seconds,
                now=self.processor.clock(),
            )
            if marked:
                self._handed_over.add(record.id)
            return marked

        delivery = mailer.deliver(mail, attempt=record.attempts + 1, before_end=hand_over)
        outcome = _recorded(delivery, now=self.processor.clock())
        log_event(
            logging.INFO if delivery.status is DeliveryStatus.SENT else logging.WARNING,
            f"follow-up {outcome.state.value}",
            shop=record.shop,
            order_id=record.order_id,
            campaign=record.campaign_id,
            occurrence=record.occurrence,
            reason=delivery.reason,
        )
        return outcome

    def shop_mail(self, entry: ShopEntry) -> _ShopMail:
        with self._lock:
            found = self._shops.get(entry.domain)
            if found is None:
                found = self._shops[entry.domain] = self._build(entry)
            return found

    def _build(self, entry: ShopEntry) -> _ShopMail:
        settings = entry.config.mail
        if settings is None:
            raise MailError(f"shop {entry.domain} has no mail: section")
        clock = self.processor.clock
        source = Path(entry.config.source)
        composer = MailComposer(
            shop=entry.config.settings, mail=settings, renderer=entry.renderer, clock=clock
        )
        links = None
        if self.public_url is not None:
            links = MailLinks(self.follow_ups.signer(entry, clock=clock), self.public_url)

        def mailer() -> Mailer:
            return Mailer.for_settings(
                entry.domain,
                settings,
                base_dir=source.parent if source.is_file() else None,
                environ=self.environ,
                ssl_context=self.ssl_context,
                limiter=self.limiter,
                clock=clock,
            )

        return _ShopMail(composer, links, mailer)

    def compose(self, shop_mail: _ShopMail, record: MessageRecord) -> OutgoingMail:
        data = dict(record.data)
        links = shop_mail.links
        unsubscribe = None
        if links is not None:
            unsubscribe = links.unsubscribe(shop=record.shop, subject=message_subject(record))
            if record.template == "survey":
                # one answer per order: the survey link names the order
                data["rating_urls"] = links.survey_answers(
                    shop=record.shop, subject=record.order_id
                )
        elif record.purpose == Purpose.MARKETING.value or record.template == "survey":
            raise MailError(f"set {PUBLIC_URL_ENV} (the service's public address) for its links")
        if record.template == "points_reminder":
            account = data.get("loyalty_account")
            data.update(
                points_data(self.store, record.shop, account if isinstance(account, str) else None)
            )
        locale = data.get("locale")
        name = data.get("to_name")
        return shop_mail.composer.compose(
            MailRequest(
                template=record.template,
                to_address=record.email or "",
                idempotency_key=record.key,
                marketing=record.purpose == Purpose.MARKETING.value,
                data=data,
                to_name=name if isinstance(name, str) else None,
                locale=locale if isinstance(locale, str) else None,
                unsubscribe_url=unsubscribe,
            )
        )

    def close(self) -> None:
        with self._lock:
            for shop_mail in self._shops.values():
                shop_mail.close()
            self._shops.clear()


#: The longest a sweep's part lasts: its policy reads are this fresh, its outcomes wait this
#: long to be recorded, at most.
PART_SECONDS = 5.0


class _PartFacts:
    """The contact policy's reads for a part of a sweep, plus what the part sent so far."""

    def __init__(self, facts: Mapping[ContactRef, ContactFacts]) -> None:
        self._facts = facts
        self._sent: dict[tuple[str, str], list[SentMessage]] = {}
        self._read_at = time.monotonic()

    def expired(self) -> bool:
        return time.monotonic() - self._read_at > PART_SECONDS

    def get(self, record: MessageRecord) -> ContactFacts | None:
        known = self._facts.get(ContactRef.of(record))
        sent = self._sent.get((record.shop, record.contact_key))
        if known is None or not sent:
            return known
        history = sorted((*known.history, *sent), key=lambda m: m.sent_at)
        return replace(known, history=tuple(history))

    def note(self, record: MessageRecord, outcome: MessageOutcome, now: datetime) -> None:
        """A sent message joins its customer's history (for their later messages)."""
        if outcome.state is MessageState.SENT:
            sent = SentMessage(sent_at=outcome.sent_at or now, purpose=Purpose(record.purpose))
            self._sent.setdefault((record.shop, record.contact_key), []).append(sent)


def _presale_ended(record: MessageRecord, now: datetime) -> str | None:
    """A pre-sale announcement still waiting when the pre-sale has ended (deferred by quiet
    hours, the gap or retries past its end) is no use to anyone: the reason, else ``None``."""
    ends = record.data.get("presale_ends")
    if not isinstance(ends, str) or now < datetime.fromisoformat(ends):
        return None
    return f"pre-sale {record.data.get('presale_name')!r} ended at {ends}"


def _cancelled(reason: str) -> MessageOutcome:
    return MessageOutcome(MessageState.CANCELLED, reason=reason)


def _recorded(delivery: Delivery, *, now: datetime) -> MessageOutcome:
    reply = delivery.reply or None
    if delivery.status is DeliveryStatus.SENT:
        return MessageOutcome(
            MessageState.SENT, reason=None, message_id=delivery.message_id, reply=reply,
            attempts=delivery.attempt, sent_at=now,
        )  # fmt: skip
    if delivery.status is DeliveryStatus.RETRY:
        code = f"{delivery.code} " if delivery.code else ""
        return MessageOutcome(
            MessageState.DEFERRED,
            reason=f"retry ({delivery.reason}) {code}{delivery.reply}".strip(),
            due_at=delivery.retry_at or now,
            reply=reply,
            attempts=(delivery.next_attempt or delivery.attempt) - 1,
        )
    return MessageOutcome(
        MessageState.FAILED,
        reason=f"{delivery.reason}: {delivery.code or ''} {delivery.reply}".strip(),
        message_id=delivery.message_id,
        reply=reply,
        attempts=delivery.attempt,
    )


class MessageSweeper:
    """Runs :meth:`MessageSender.sweep` in a daemon thread: at once again while messages are
    due, else every ``interval`` seconds."""

    def __init__(
        self,
        sender: MessageSender,
        *,
        interval: float = 5.0,
        batch: int = 50,
        lease_seconds: float = 120.0,
    ) -> None:
        self.sender = sender
        self.interval = interval
        self.batch = batch
        self.lease_seconds = lease_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="aftersale-mail", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self.sender.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                claimed = self.sender.sweep(
                    limit=self.batch, lease_seconds=self.lease_seconds
                ).claimed
            except Exception as exc:  # the database or a shop's mail is away: later
                log_event(logging.WARNING, "mail sweep failed", error=type(exc).__name__)
                claimed = 0
            if not claimed:
                self._stop.wait(self.interval)
