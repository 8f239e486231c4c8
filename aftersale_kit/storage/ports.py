"""What the service needs from storage, as narrow protocols (ports).

Each protocol is one consumer's view; the SQL :class:`~aftersale_kit.storage.store.Store` and the
in-memory :class:`~aftersale_kit.storage.memory.MemoryStore` both satisfy all of them (checked
statically at the end of this module and of :mod:`.memory`), and ``tests/storage/
test_port_contract.py`` runs the same behaviour tests against the memory store, SQLite and
PostgreSQL.

* :class:`EventIntake`: the webhook intake: accept verified deliveries (dedupe, one
  ``process_event`` job each), keep unusable ones aside, keep WooCommerce order keys.
* :class:`BlockReader`: the thank-you block endpoint: stored blocks, the decision of an order,
  the stored order key a page token is checked against.
* :class:`JobQueue`: the worker's leases on the outbox (claim, complete, retry, dead, release).
* :class:`LinkStore`: what the follow-up links record: spent link nonces, survey answers,
  newsletter double opt-ins and the suppression list (``unsubscribe``).
* :class:`MessageStore`: the follow-up schedule (plan, claim, record, cancel) and the contact
  history the contact policy reads.
* :class:`ResultsReader`: what the results read (``aftersale_kit.results``): redemptions, the
  orders' facts, coupons, the ledger, failed jobs, survey answers, loyalty balances.
* :class:`ProcessorStore`: the job handlers (decide a step once, take back, coupons, content,
  shop state); it includes the two above, because the worker and the block endpoint share the
  processor's store.

Optional capabilities, checked at run time (``isinstance``), which only the SQL store has:
:class:`CustomerData` (export and erasure for the privacy webhooks) and :class:`Prunable`
(bounded storage, :mod:`.retention`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ..core.contact.policy import SentMessage
from ..core.decision import Decision
from ..core.model import EventKind, Order, Refund
from ..core.order_facts import OrderFacts
from ..core.ports import Counters
from ..core.timeline import Step
from .records import (
    CouponRecord,
    DecisionRecord,
    IncomingEvent,
    Job,
    JobStatus,
    LedgerEntry,
    RedemptionRecord,
    ShopRecord,
    ShopState,
    StoredEvent,
)

if TYPE_CHECKING:
    from decimal import Decimal

    from ..core.loyalty.program import LoyaltyProgram, SpentRefundPolicy
    from .links import Consent, LinkJob, Suppression, SurveyAnswer, SurveyForm, SurveyOutcome
    from .loyalty import (
        AccountView,
        Identity,
        JournalRow,
        LoyaltyBalance,
        LoyaltyOutcome,
        LoyaltyPlan,
        LoyaltyRedemption,
        LoyaltyReminder,
        RedeemOutcome,
        StepLoyalty,
        SweepOutcome,
    )
    from .loyalty_admin import AccountBalance, ImportEntry, ImportOutcome, LedgerTotals
    from .message_records import (
        ContactFacts,
        ContactRef,
        MessageOutcome,
        MessageRecord,
        MessageState,
        NewMessage,
        StepMessages,
    )
    from .order_facts import CampaignTotals, CustomerHistory
    from .store import Clawback, StepFacts, StepResult

__all__ = [
    "BlockReader",
    "CustomerData",
    "EventIntake",
    "JobQueue",
    "LinkStore",
    "LoyaltyStore",
    "MessageStore",
    "ProcessorStore",
    "Prunable",
    "ResultsReader",
]

#: The default number of attempts of a job (:data:`.outbox.DEFAULT_MAX_ATTEMPTS`).
_ATTEMPTS = 10


class EventIntake(Protocol):
    """What the webhook intake stores (:mod:`aftersale_kit.service.intake`)."""

    def accept_events(
        self, batch: Sequence[IncomingEvent], *, max_attempts: int = _ATTEMPTS
    ) -> list[bool]:
        """Store each new event with its ``process_event`` job in one transaction; one flag
        per event, ``False`` for a ``(shop, dedupe_key)`` seen before (also in this batch)."""
        ...

    def quarantine(self, item: IncomingEvent, *, reason: str) -> bool:
        """Keep an unusable delivery outside the queue; ``False`` when kept already."""
        ...

    def save_order_keys(
        self, rows: Iterable[tuple[str, str, str]], *, now: datetime | None = None
    ) -> None:
        """``(shop, order_id, order_key)``; an order keeps the first key it was seen with."""
        ...


class BlockReader(Protocol):
    """What the block endpoint reads (:mod:`aftersale_kit.service.blocks`)."""

    def decision(
        self, *, shop: str, order_id: str, event_kind: EventKind, ref: str = ""
    ) -> DecisionRecord | None: ...

    def order_key(self, shop: str, order_id: str) -> str | None: ...

    def blocks_json(self, shop: str, order_id: str) -> bytes | None:
        """The stored blocks of the order as UTF-8 JSON (compact, sorted keys), or ``None``."""
        ...


class JobQueue(Protocol):
    """The outbox as the worker leases it (:mod:`aftersale_kit.service.worker`)."""

    def enqueue(
        self,
        *,
        shop: str,
        kind: str,
        idempotency_key: str,
        payload: Mapping[str, Any],
        run_at: datetime | None = None,
        max_attempts: int = _ATTEMPTS,
        now: datetime | None = None,
    ) -> bool: ...

    def claim(
        self,
        *,
        worker_id: str,
        limit: int = 10,
        lease_seconds: float = 60.0,
        now: datetime | None = None,
        kinds: Iterable[str] | None = None,
    ) -> list[Job]: ...

    def complete(self, job: Job, *, now: datetime | None = None) -> bool: ...

    def retry(
        self, job: Job, *, error: str, at: datetime, now: datetime | None = None
    ) -> JobStatus | None: ...

    def dead(self, job: Job, *, error: str, now: datetime | None = None) -> bool: ...

    def release(self, job: Job, *, at: datetime | None = None) -> bool: ...

    def job(self, job_id: int) -> Job | None: ...


class LoyaltyStore(Protocol):
    """The loyalty ledger (:mod:`.loyalty`): accounts, journal, cards, redemptions, sweeps."""

    def loyalty_step(
        self,
        *,
        shop: str,
        account: str,
        identity: Identity | None,
        plan: Callable[[AccountView], LoyaltyPlan],
        policy: SpentRefundPolicy = ...,
        now: datetime | None = None,
    ) -> LoyaltyOutcome: ...

    def loyalty_redeem(
        self,
        *,
        shop: str,
        account: str,
        identity: Identity | None,
        program: LoyaltyProgram,
        option_id: str,
        request: str,
        code: str,
        cart_value: Decimal | None = None,
        now: datetime | None = None,
    ) -> RedeemOutcome: ...

    def loyalty_coupon_deactivated(
        self, *, shop: str, coupon_key: str, now: datetime | None = None
    ) -> bool: ...

    def loyalty_sweep(
        self,
        *,
        shop: str,
        account: str,
        program: LoyaltyProgram,
        now: datetime | None = None,
        remind_within: timedelta = ...,
    ) -> SweepOutcome: ...

    def loyalty_accounts(self, shop: str) -> list[str]: ...

    def loyalty_balance(self, shop: str, account: str) -> LoyaltyBalance | None: ...

    def loyalty_account(self, shop: str, account: str) -> AccountView | None: ...

    def loyalty_journal(self, shop: str, account: str) -> list[JournalRow]: ...

    def loyalty_redemption(self, shop: str, coupon_key: str) -> LoyaltyRedemption | None: ...

    def loyalty_reminders(
        self, shop: str, *, account: str | None = None
    ) -> list[LoyaltyReminder]: ...

    def loyalty_check(self, shop: str, *, account: str | None = None) -> int: ...

    # operators (:mod:`.loyalty_admin`)

    def loyalty_balances(self, shop: str) -> list[AccountBalance]: ...

    def loyalty_import(
        self,
        shop: str,
        entries: Sequence[ImportEntry],
        *,
        now: datetime | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> ImportOutcome:
        """All entries in one transaction or none; an entry booked before moves nothing."""
        ...

    def loyalty_totals(self, shop: str, *, since: datetime, until: datetime) -> LedgerTotals: ...


class LinkStore(Protocol):
    """What the follow-up links record (:mod:`.links`): spent nonces, survey answers per order,
    newsletter consents (double opt-in), the suppression list (unsubscribes). Each write that
    happens for the first time enqueues the given jobs in the same transaction. E-mail
    addresses are compared normalised (trimmed, lower-cased); a confirmed double opt-in lifts
    an earlier unsubscribe of its address."""

    def spend_link_nonce(
        self,
        *,
        shop: str,
        nonce: str,
        purpose: str,
        subject: str,
        jobs: Sequence[LinkJob] = ...,
        now: datetime | None = None,
    ) -> bool: ...

    def record_survey_rating(
        self,
        *,
        shop: str,
        order_id: str,
        nonce: str,
        rating: int,
        shipping_method: str | None = None,
        jobs_for: Callable[[SurveyAnswer], Sequence[LinkJob]] = ...,
        now: datetime | None = None,
    ) -> SurveyOutcome: ...

    def record_survey_form(
        self,
        *,
        shop: str,
        order_id: str,
        form: SurveyForm,
        jobs_for: Callable[[SurveyAnswer], Sequence[LinkJob]] = ...,
        now: datetime | None = None,
    ) -> SurveyOutcome | None: ...

    def survey_answer(self, shop: str, order_id: str) -> SurveyAnswer | None: ...

    def survey_answers(self, shop: str, *, since: datetime) -> list[SurveyAnswer]: ...

    def request_consent(
        self,
        *,
        shop: str,
        subject: str,
        email: str,
        customer_id: str | None,
        source: str,
        text_version: str,
        now: datetime | None = None,
    ) -> Consent: ...

    def confirm_consent(
        self,
        *,
        shop: str,
        subject: str,
        jobs: Sequence[LinkJob] = ...,
        now: datetime | None = None,
    ) -> tuple[Consent, bool] | None: ...

    def consent(self, shop: str, subject: str) -> Consent | None: ...

    def confirmed_consent(self, shop: str, email: str) -> Consent | None: ...

    def unsubscribe(
        self,
        shop: str,
        email: str,
        reason: str,
        *,
        subject: str | None = None,
        jobs: Sequence[LinkJob] = ...,
        now: datetime | None = None,
    ) -> int:
        """Put the address on the shop's suppression list (no follow-up of any kind after; the
        first reason stays), withdraw its double opt-ins (the proof stays) and cancel every
        message still waiting for it, in one transaction; returns how many were cancelled.
        ``subject``: what the unsubscribe link named, kept with the row. ``jobs`` (the
        withdrawal's write to the platform) are enqueued in that transaction, only when this
        call put the address on the list."""
        ...

    def is_unsubscribed(self, shop: str, email: str) -> bool: ...

    def suppression(self, shop: str, email: str) -> Suppression | None: ...


class MessageStore(Protocol):
    """The follow-up schedule (:mod:`aftersale_kit.service.followups`). E-mail addresses are
    compared normalised (trimmed, lower-cased)."""

    def plan_messages(self, items: Iterable[NewMessage], *, now: datetime | None = None) -> int:
        """Put messages on the schedule, each once per ``(shop, key)`` (a repeat, even of a
        cancelled one, adds nothing); returns how many were new."""
        ...

    def cancel_messages(
        self,
        shop: str,
        *,
        reason: str,
        order_id: str | None = None,
        customer_key: str | None = None,
        email: str | None = None,
        ids: Sequence[int] | None = None,
        now: datetime | None = None,
    ) -> int:
        """Cancel the shop's messages still waiting (``planned``/``deferred``) that match (an
        order; a customer key or address; ids; none given: all), with ``reason``."""
        ...

    def claim_messages(
        self,
        *,
        worker_id: str,
        limit: int = 50,
        lease_seconds: float = 120.0,
        now: datetime | None = None,
    ) -> list[MessageRecord]:
        """Lease up to ``limit`` waiting messages due at ``now`` (earliest first) to
        ``worker_id``; a leased message is nobody else's until its lease expires. Customers
        with a message leased to another worker are left out until it is recorded."""
        ...

    def hand_over_message(
        self,
        message_id: int,
        *,
        worker_id: str,
        lease_seconds: float = 120.0,
        now: datetime | None = None,
    ) -> bool:
        """Mark a claimed message as handed over, just before its end of data goes to the
        server, and renew its lease, while it is still ``worker_id``'s (nobody claimed it
        after its lease ran out); ``False``: it must not be sent. Found
        so after the lease ran out, the message is counted as sent, not sent again; a
        handed-over message is not cancelled (it is on its way)."""
        ...

    def finish_message(
        self,
        message_id: int,
        *,
        worker_id: str,
        outcome: MessageOutcome,
        now: datetime | None = None,
    ) -> bool:
        """Record what became of a claimed message and end the lease; ``False`` (nothing
        recorded) when ``worker_id`` no longer holds it or it was cancelled meanwhile."""
        ...

    def finish_messages(
        self,
        outcomes: Sequence[tuple[int, MessageOutcome]],
        *,
        worker_id: str,
        now: datetime | None = None,
    ) -> list[bool]:
        """:meth:`finish_message` for each ``(message id, outcome)``, in one transaction; for
        each, whether it was recorded."""
        ...

    def contact_history(
        self, shop: str, contact_key: str, *, since: datetime | None = None
    ) -> list[SentMessage]:
        """What was sent to the customer (customer key, or ``email:<address>`` for a guest),
        oldest first, of every campaign."""
        ...

    def contact_facts(self, refs: Collection[ContactRef]) -> dict[ContactRef, ContactFacts]:
        """For each of ``refs``, in one read: :meth:`contact_history` of its contact key,
        the earliest :meth:`~LinkStore.confirmed_consent` of its address and whether the
        address is on the suppression list (:meth:`~LinkStore.is_unsubscribed`)."""
        ...

    def message(self, shop: str, message_id: int) -> MessageRecord | None: ...

    def messages(
        self,
        shop: str | None = None,
        *,
        order_id: str | None = None,
        email: str | None = None,
        state: MessageState | None = None,
        limit: int = 100,
    ) -> list[MessageRecord]:
        """Messages by due time (then id)."""
        ...

    def message_counts(self, shop: str | None = None) -> dict[MessageState, int]: ...

    def sent_messages(self, shop: str, *, kind: str, since: datetime) -> list[MessageRecord]:
        """The shop's messages of ``kind`` sent at or after ``since``, oldest first (the survey
        report's response rate)."""
        ...


class ResultsReader(Protocol):
    """What a shop's results are made of (``aftersale_kit.results.collect``): reads only."""

    def redemptions(
        self, shop: str, *, issuing_order_id: str | None = None
    ) -> list[RedemptionRecord]: ...

    def order_facts(
        self, shop: str, *, order_ids: Collection[str] | None = None
    ) -> list[OrderFacts]: ...

    def shop_decisions(
        self, shop: str, *, since: datetime, until: datetime
    ) -> list[DecisionRecord]:
        """The shop's decisions made in ``[since, until)``, oldest first."""
        ...

    def campaign_totals(self, shop: str) -> list[CampaignTotals]:
        """The campaigns' redemptions over all time (:class:`.order_facts.CampaignTotals`)."""
        ...

    def shop_coupons(self, shop: str) -> list[CouponRecord]: ...

    def customer_history(
        self,
        shop: str,
        customer_key: str,
        *,
        campaigns: Collection[str] = (),
        codes: Collection[str] = (),
    ) -> CustomerHistory:
        """One customer's records, for their care cost (:class:`.order_facts.CustomerHistory`)."""
        ...

    def ledger(self, shop: str, *, order_id: str | None = None) -> list[LedgerEntry]: ...

    def counters(self) -> Counters: ...

    def jobs(
        self,
        *,
        shop: str | None = None,
        status: JobStatus | None = None,
        kind: str | None = None,
        limit: int = 100,
    ) -> list[Job]: ...

    def survey_answers(self, shop: str, *, since: datetime) -> list[SurveyAnswer]: ...

    def sent_messages(self, shop: str, *, kind: str, since: datetime) -> list[MessageRecord]: ...

    def loyalty_balances(self, shop: str) -> list[AccountBalance]: ...


class ProcessorStore(
    JobQueue, BlockReader, LoyaltyStore, LinkStore, MessageStore, ResultsReader, Protocol
):
    """What the job handlers use (:class:`aftersale_kit.service.effects.Processor`); the worker
    and the block endpoint take the processor's store, so it is a queue and a block reader too."""

    def shop_state(self, shop: str) -> ShopRecord | None: ...

    def set_shop_state(
        self, *, shop: str, platform: str, state: ShopState, now: datetime | None = None
    ) -> ShopRecord: ...

    def event(self, event_id: int) -> StoredEvent | None: ...

    def link_event(
        self, event_id: int, *, order_id: str | None, customer_key: str | None
    ) -> bool: ...

    def quarantine(self, item: IncomingEvent, *, reason: str) -> bool: ...

    def refunds(self, shop: str, order_id: str) -> list[Refund]: ...

    def closure(self, shop: str, order_id: str) -> str | None: ...

    def decisions_for_order(self, shop: str, order_id: str) -> list[DecisionRecord]: ...

    def decide_step(
        self,
        *,
        shop: str,
        order: Order,
        event_kind: EventKind,
        ref: str = "",
        customer_key: str | None,
        decide: Callable[[Counters], Decision],
        settle: Callable[[StepFacts], Mapping[str, str]],
        refunds: Sequence[Refund] = (),
        closing: str | None = None,
        now: datetime | None = None,
        max_attempts: int = _ATTEMPTS,
        loyalty: StepLoyalty | None = None,
        follow_ups: StepMessages | None = None,
        facts_of: Callable[[StepFacts], OrderFacts] | None = None,
    ) -> StepResult:
        """One step of the order's timeline, decided once, atomically per shop (see
        :meth:`Store.decide_step <aftersale_kit.storage.store.Store.decide_step>`)."""
        ...

    def reverse_order(
        self, *, shop: str, order_id: str, reason: str, now: datetime | None = None
    ) -> Clawback: ...

    def close_order(
        self, *, shop: str, order_id: str, reason: str, now: datetime | None = None
    ) -> None: ...

    def order_steps(self, shop: str, order_id: str) -> tuple[list[Step], dict[str, bool]]: ...

    def coupon(self, shop: str, idempotency_key: str) -> CouponRecord | None: ...

    def mark_issued(
        self, *, shop: str, idempotency_key: str, platform_id: str, now: datetime | None = None
    ) -> CouponRecord: ...

    def mark_deactivated(
        self, *, shop: str, idempotency_key: str, now: datetime | None = None
    ) -> CouponRecord: ...

    def save_blocks(
        self, shop: str, order_id: str, payload: Mapping[str, Any], *, now: datetime | None = None
    ) -> None: ...


@runtime_checkable
class CustomerData(Protocol):
    """Export and erasure of personal data (the privacy webhooks); only the SQL store."""

    def export_customer(
        self,
        shop: str,
        *,
        customer_id: str | None = None,
        email: str | None = None,
        order_ids: Iterable[str] = (),
    ) -> dict[str, Any]: ...

    def redact_customer(
        self,
        shop: str,
        *,
        customer_id: str | None = None,
        email: str | None = None,
        order_ids: Iterable[str] = (),
        now: datetime | None = None,
    ) -> dict[str, int]: ...

    def redact_shop(self, shop: str) -> dict[str, int]: ...


@runtime_checkable
class Prunable(Protocol):
    """Bounded storage (:mod:`.retention`); only the SQL store."""

    def prune(
        self, *, bodies_before: datetime, keys_before: datetime | None = None, batch: int = 2000
    ) -> dict[str, int]: ...


if TYPE_CHECKING:
    from .store import Store

    def _store_fits(
        store: Store,
    ) -> tuple[
        EventIntake,
        ProcessorStore,
        CustomerData,
        Prunable,
        LoyaltyStore,
        MessageStore,
        ResultsReader,
    ]:
        """Static check: the SQL store satisfies every port (mypy fails here otherwise)."""
        return store, store, store, store, store, store, store
