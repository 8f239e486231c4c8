"""What a job does: process an accepted webhook, decide once, and carry out each effect.

Every handler is idempotent, so a job run twice (its worker died after the platform call and
before ``complete``) changes nothing the second time:

* ``process_event``: re-reads the stored delivery through the adapter (the signature is checked
  again), enriches exactly the fields the shop's campaigns need and calls
  :meth:`Store.decide_once` (one decision per shop, order and event kind; limits and budgets are
  booked in the same transaction). A cancellation or refund stores a marker decision and calls
  :meth:`Store.reverse_order` (clawback); a decision taken after the marker grants nothing;
* ``create_coupon``: only while the coupon is still ``planned``; the platform call is idempotent by
  the deterministic code (a second call finds the same coupon), then ``mark_issued``. A retry
  that finds the coupon revoked (order taken back meanwhile) switches off what an earlier
  attempt may have created; a retry still waiting when the order is taken back is cancelled by
  :meth:`Store.reverse_order`, which queues a ``deactivate_coupon`` in its place;
* ``write_content``: renders the confirmation content, writes it to the order and stores the
  blocks for the thank-you endpoint (both replace what was there);
* ``tag_order`` / ``add_gift_note``: tags are a set on the platform; a free gift's note for the
  staff (written before the tag) ends in a marker of the action's idempotency key, and the
  adapter writes nothing when it finds that marker on the order;
* ``deactivate_coupon``: deactivation is idempotent on the platform, then ``mark_deactivated``;
* ``write_customer_loyalty``: the customer's balance and tier on the platform, as the account
  holds them when the job runs (:func:`.loyalty_content.write_customer`).

Errors: :class:`PermanentJobError` (and NotAuthorized/InvalidRequest/Payload errors) send the job
to the dead letters with the reason; everything else is retried by the worker.

Shop lifecycle: ``app/uninstalled`` marks the shop uninstalled as of the platform's trigger time (as
the adapter reads it from the delivery); from then on the intake answers its webhooks 401 (privacy
webhooks excepted), its block requests 404, and the worker drops its queued jobs. A shop becomes
active again only by an operator: ``aftersale-kit shops activate DOMAIN --config ... --db ...``, run
when the merchant has reinstalled the app and the new access token is in the shop's secrets (a
reinstall issues a new token, so the operator is in the loop anyway). A webhook does not reactivate
a shop by itself: a platform may sign the body only, not the header carrying the trigger time, so a
replayed body with a fresh header would pass for a delivery after a reinstall. An
``app/uninstalled`` triggered before the shop's latest activation (processed late, behind a
backlog) is stale and changes nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from ..core.campaign import FreeGift, RefundPolicy, TagOrder
from ..core.decision import Decision
from ..core.engine import decide, enrichment_fields, fields_from_records
from ..core.errors import (
    AftersaleKitError,
    UnknownTopicError,
    UnusableOrderError,
    WebhookError,
)
from ..core.model import EventKind, FinancialStatus, Order, Refund
from ..core.order_facts import order_facts
from ..core.platform import IncomingWebhook, WebhookKind, coupon_spec
from ..core.timeline import (
    closed_reason,
    reversal_of,
    steps_of,
    take_backs,
    timeline_decision,
)
from ..storage import (
    Clawback,
    CouponStatus,
    DecisionRecord,
    IncomingEvent,
    Job,
    JobKind,
    ShopState,
    StepFacts,
    StepResult,
    StoredEvent,
    customer_key_for,
)
from ..storage.decisions import TAG_CUSTOMER, UNTAG_CUSTOMER
from ..storage.ports import ProcessorStore
from .care_fields import with_care
from .followups import (
    FOLLOW_UP_JOBS,
    FollowUps,
    step_follow_ups,
    stop_repeats,
    with_signup_links,
)
from .logs import log_event
from .loyalty import log_booked, loyalty_fields, step_loyalty
from .shops import ShopEntry, ShopRegistry

__all__ = ["PAID", "PermanentJobError", "Processor", "reversal_of"]

#: Financial states of an order that has been paid (and not taken back in full).
PAID = (FinancialStatus.PAID, FinancialStatus.PARTIALLY_REFUNDED)
_COMPLIANCE = (
    WebhookKind.CUSTOMERS_DATA_REQUEST,
    WebhookKind.CUSTOMERS_REDACT,
    WebhookKind.SHOP_REDACT,
)


class PermanentJobError(AftersaleKitError):
    """Retrying cannot help (unknown shop, a stored body that no longer verifies, ...)."""


def _now() -> datetime:
    return datetime.now(UTC)


class Processor:
    """The job handlers, shared by the worker, the block endpoint and reconciliation."""

    #: The link key, address and mailers of the follow-up links (``None``: not configured).
    follow_ups: FollowUps | None = None

    def __init__(
        self,
        *,
        registry: ShopRegistry,
        store: ProcessorStore,
        clock: Callable[[], datetime] = _now,
        order_ttl: float = 30.0,
        compliance_sink: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> None:
        self.registry = registry
        self.store: ProcessorStore = store
        self.clock = clock
        self._order_ttl = order_ttl
        self._orders: dict[tuple[str, str], tuple[float, Order]] = {}
        self._orders_lock = threading.Lock()
        self._states: dict[str, tuple[float, bool]] = {}
        self.compliance_sink = compliance_sink

    # -- shops ----------------------------------------------------------------------------------

    def entry(self, shop: str) -> ShopEntry:
        entry = self.registry.by_domain(shop)
        if entry is None:
            raise PermanentJobError(f"shop {shop} is not configured in this service")
        return entry

    def uninstalled(self, shop: str, *, ttl: float = 5.0) -> bool:
        """Whether the shop uninstalled the app (cached for ``ttl`` seconds)."""
        now = time.monotonic()
        cached = self._states.get(shop)
        if cached is not None and cached[0] > now:
            return cached[1]
        record = self.store.shop_state(shop)
        gone = record is not None and record.state == ShopState.UNINSTALLED
        self._states[shop] = (now + ttl, gone)
        return gone

    def forget_state(self, shop: str) -> None:
        self._states.pop(shop, None)

    def uninstall(self, entry: ShopEntry, *, at: datetime | None) -> bool:
        """Record that the app was uninstalled from the shop at ``at`` (the platform's trigger
        time; ``None``: now). ``False`` when the shop was activated after ``at`` (a stale
        uninstall, processed after the merchant reinstalled and an operator activated it)."""
        when = at or self.clock()
        record = self.store.shop_state(entry.domain)
        if (
            record is not None
            and record.state == ShopState.ACTIVE
            and record.installed_at is not None
            and record.installed_at > when
        ):
            log_event(
                logging.INFO,
                "stale uninstall ignored",
                shop=entry.domain,
                triggered_at=when.isoformat(),
                activated_at=record.installed_at.isoformat(),
            )
            return False
        self.store.set_shop_state(
            shop=entry.domain, platform=entry.platform, state=ShopState.UNINSTALLED, now=when
        )
        if entry.credentials is not None:
            # The platform revoked the token with the app; a reinstall brings a new one.
            entry.credentials.delete(entry.key)
        self.forget_state(entry.domain)
        cancelled = self.store.cancel_messages(entry.domain, reason="app uninstalled", now=when)
        log_event(logging.INFO, "shop uninstalled", shop=entry.domain, messages=cancelled)
        return True

    # -- orders ---------------------------------------------------------------------------------

    def order(self, entry: ShopEntry, order_id: str, *, fresh: bool = False) -> Order:
        """The order from the platform (cached briefly: several effects of one order)."""
        key = (entry.domain, order_id)
        now = time.monotonic()
        if not fresh:
            with self._orders_lock:
                hit = self._orders.get(key)
            if hit is not None and hit[0] > now:
                return hit[1]
        order = entry.adapter.fetch_order(order_id)
        self.remember(entry, order)
        return order

    def remember(self, entry: ShopEntry, order: Order) -> None:
        with self._orders_lock:
            if len(self._orders) > 10_000:
                self._orders.clear()
            self._orders[(entry.domain, order.id)] = (time.monotonic() + self._order_ttl, order)

    # -- deciding -------------------------------------------------------------------------------

    def decide_order(
        self, entry: ShopEntry, order: Order, kind: EventKind, *, now: datetime | None = None
    ) -> tuple[DecisionRecord, bool]:
        """Decide ``kind`` once for the order as one step of its timeline (:meth:`step`)."""
        result = self.step(entry, order, kind, now=now)
        return result.record, result.created

    def steps_of(
        self, order: Order, kind: EventKind, *, refund: Refund | None = None
    ) -> list[tuple[EventKind, str]]:
        """:func:`~aftersale_kit.core.timeline.steps_of`."""
        return steps_of(order, kind, refund=refund)

    def step(
        self,
        entry: ShopEntry,
        order: Order,
        kind: EventKind,
        *,
        ref: str = "",
        refunds: Sequence[Refund] = (),
        now: datetime | None = None,
    ) -> StepResult:
        """Decide one step of the order's timeline and settle what refunds and closure take back
        (:meth:`Store.decide_step`), exactly as :func:`~aftersale_kit.core.engine.decide` and
        :func:`~aftersale_kit.core.timeline.take_backs` say for the same facts."""
        now = now or self.clock()
        config = entry.config
        known = list(refunds) or list(order.refunds)
        # Enrich what a first decision reads, and what refunds re-decide; each look-up runs
        # only when its answer can change what is enriched (most shops enrich nothing).
        fields = enrichment_fields(config.campaigns, event=kind) | loyalty_fields(config)
        if fields and (
            self.store.decision(shop=entry.domain, order_id=order.id, event_kind=kind, ref=ref)
            is not None
        ):
            fields = frozenset()
        again = _reevaluated_fields(config)
        if again and (known or self.store.refunds(entry.domain, order.id)):
            fields |= again
        records = fields & fields_from_records(config.campaigns, event=kind)
        if fields - records:
            order = entry.adapter.enrich(order, fields - records)
        self.remember(entry, order)
        if records:
            order = with_care(self.store, config, order, now=now)
        closing = reversal_of(order)

        def run(counters: Any) -> Decision:
            # Runs under the shop lock: no Store call here.
            return decide(
                config,
                order,
                event=kind,
                counters=counters,
                now=now,
                code_secret=entry.code_secret,
                occurrence=ref,
            )

        def settle(facts: StepFacts) -> dict[str, str]:
            return take_backs(
                config=config,
                order=order,
                refunds=facts.refunds,
                open_campaigns=facts.open_campaigns,
                closed=closed_reason(facts.closed),
            )

        result = self.store.decide_step(
            shop=entry.domain,
            order=order,
            event_kind=kind,
            ref=ref,
            customer_key=customer_key_for(order),
            decide=run,
            settle=settle,
            refunds=known,
            closing=closing.value if closing is not None else None,
            now=now,
            loyalty=step_loyalty(entry, order, now=now),
            follow_ups=step_follow_ups(entry, order),
            facts_of=lambda facts: order_facts(
                order, config.settings, refunds=facts.refunds, closed=facts.closed
            ),
        )
        if result.created:
            stop_repeats(self.store, entry, order, now=now)
        if result.planned_messages:
            log_event(
                logging.INFO,
                "follow-ups planned",
                shop=entry.domain,
                order_id=order.id,
                kind=kind.value,
                messages=result.planned_messages,
            )
        if config.loyalty is not None:
            log_booked(entry, order, result.loyalty)
        if result.taken_back or result.redemptions:
            log_event(
                logging.INFO,
                "timeline settled",
                shop=entry.domain,
                order_id=order.id,
                kind=kind.value,
                taken_back=sorted(result.taken_back),
                redeemed=[r.campaign_id for r in result.redemptions],
            )
        return result

    def process_order(
        self, entry: ShopEntry, order: Order, kind: EventKind, *, refund: Refund | None = None
    ) -> list[StepResult]:
        """Every step an event of ``kind`` on ``order`` stands for (:meth:`steps_of`), in turn;
        ``refund``: the refund a refund event carried (where the delivery is the refund)."""
        extra = [refund] if refund is not None else []
        results = []
        for step_kind, ref in self.steps_of(order, kind, refund=refund):
            result = self.step(entry, order, step_kind, ref=ref, refunds=extra)
            log_event(
                logging.INFO,
                "decided" if result.created else "already decided",
                shop=entry.domain,
                order_id=order.id,
                kind=step_kind.value,
                ref=ref or None,
                fired=list(result.record.decision.fired),
            )
            results.append(result)
        return results

    def clawback(self, entry: ShopEntry, order_id: str, kind: EventKind) -> Clawback:
        """Take back everything the order got (cancelled or refunded in full) without deciding
        anything: the order closed, unused coupons revoked and deactivated, bookings reversed
        (less what was redeemed). Idempotent: a repeat takes back nothing more."""
        now = self.clock()
        back = self.store.reverse_order(
            shop=entry.domain, order_id=order_id, reason=kind.value, now=now
        )
        self.store.close_order(shop=entry.domain, order_id=order_id, reason=kind.value, now=now)
        log_event(
            logging.INFO,
            "clawback",
            shop=entry.domain,
            order_id=order_id,
            kind=kind.value,
            campaigns=list(back.campaigns),
            coupons=len(back.coupons),
        )
        return back

    # -- jobs -----------------------------------------------------------------------------------

    def handle(self, job: Job) -> None:
        kind = job.kind
        if kind == JobKind.PROCESS_EVENT:
            self.process_event(job)
        elif kind == JobKind.CREATE_COUPON:
            self.create_coupon(job)
        elif kind == JobKind.WRITE_CONTENT:
            self.write_content(job)
        elif kind in (JobKind.TAG_ORDER, JobKind.ADD_GIFT_NOTE):
            self.tag_order(job)
        elif kind == JobKind.DEACTIVATE_COUPON:
            self.deactivate_coupon(job)
        elif kind in (TAG_CUSTOMER, UNTAG_CUSTOMER):
            from . import presale_tags

            handler = (
                presale_tags.tag_customer if kind == TAG_CUSTOMER else presale_tags.untag_customer
            )
            handler(self, job)
        elif kind == JobKind.CREATE_LOYALTY_COUPON:
            from .loyalty import create_redemption_coupon

            create_redemption_coupon(self, job)
        elif kind in FOLLOW_UP_JOBS:
            from .followup_jobs import run_follow_up

            run_follow_up(self, job)
        elif kind == JobKind.WRITE_CUSTOMER_LOYALTY:
            from .loyalty_content import write_customer

            write_customer(self, job)
        else:
            raise PermanentJobError(f"unknown job kind {kind!r}")

    def webhook_of(self, job: Job) -> tuple[ShopEntry, IncomingWebhook] | None:
        event = self.store.event(int(job.payload["event_id"]))
        if event is None or event.redacted:
            return None
        entry = self.entry(event.shop)
        try:
            webhook = entry.adapter.verify_webhook(dict(event.headers), event.body)
        except UnknownTopicError:
            return None
        except UnusableOrderError as exc:  # signed, but not an order this version reads
            self.quarantine(event, str(exc))
            return None
        except WebhookError as exc:
            raise PermanentJobError(f"stored event {event.id} no longer verifies: {exc}") from exc
        return entry, webhook

    def quarantine(self, event: StoredEvent, reason: str) -> None:
        """Keep a stored delivery aside that the intake's quick check let through but that is
        not a usable order (``aftersale-kit shops replay`` processes it again later)."""
        item = IncomingEvent(
            shop=event.shop,
            platform=event.platform,
            topic=event.topic,
            dedupe_key=event.dedupe_key,
            received_at=event.received_at,
            body=event.body,
            headers=event.headers,
            order_id=event.order_id,
        )
        self.store.quarantine(item, reason=reason[:2000])
        log_event(
            logging.WARNING,
            "webhook quarantined",
            shop=event.shop,
            topic=event.topic,
            event_id=str(event.id),
            reason=reason[:300],
        )

    def process_event(self, job: Job) -> None:
        found = self.webhook_of(job)
        if found is None:
            return
        entry, webhook = found
        kind = webhook.kind
        if kind in _COMPLIANCE:
            from .compliance import handle_compliance

            handle_compliance(self, entry, webhook)
            return
        if kind is WebhookKind.APP_UNINSTALLED:
            self.uninstall(entry, at=webhook.occurred_at)
            return
        event_kind = webhook.event_kind
        if event_kind is None:
            return  # ping, order_updated: nothing to do
        order_id = webhook.order_id or (webhook.order.id if webhook.order else None)
        if order_id is None:
            raise PermanentJobError(f"{webhook.topic} from {entry.domain} names no order")
        order = webhook.order
        if order is None:
            order = self.order(entry, order_id, fresh=True)
        self.process_order(entry, order, event_kind, refund=webhook.refund)
        self.store.link_event(
            int(job.payload["event_id"]), order_id=order.id, customer_key=customer_key_for(order)
        )

    def _decision(self, job: Job) -> tuple[ShopEntry, DecisionRecord]:
        entry = self.entry(job.shop)
        record = self.store.decision(
            shop=job.shop,
            order_id=str(job.payload["order_id"]),
            event_kind=EventKind(job.payload["event_kind"]),
            ref=str(job.payload.get("ref") or ""),
        )
        if record is None:
            raise PermanentJobError(f"job {job.id}: its decision is gone (shop redacted?)")
        return entry, record

    def create_coupon(self, job: Job) -> None:
        planned = job.planned_action()
        coupon = self.store.coupon(job.shop, planned.idempotency_key)
        if coupon is None:
            return
        if coupon.status == CouponStatus.REVOKED and coupon.platform_id is None:
            if job.attempts > 1:
                # An earlier attempt may have created it and died before ``mark_issued``; the
                # order was taken back since, so nobody will switch it off but this run.
                self.entry(job.shop).adapter.deactivate_coupon(coupon.code)
            return
        if coupon.status != CouponStatus.PLANNED:
            return  # issued by an earlier run, or revoked before it existed: never create
        entry, record = self._decision(job)
        order = self.order(entry, record.order_id)
        spec = coupon_spec(planned, order, entry.config.settings, record.decided_at)
        ref = entry.adapter.create_coupon(spec)
        self.store.mark_issued(
            shop=job.shop, idempotency_key=planned.idempotency_key, platform_id=ref.platform_id
        )
        log_event(
            logging.INFO,
            "coupon issued",
            shop=job.shop,
            order_id=record.order_id,
            campaign=planned.campaign_id,
            new=ref.created,
        )

    def timeline(self, entry: ShopEntry, order_id: str) -> tuple[Decision, dict[str, datetime]]:
        """The order's content as one decision: every step's actions, without the coupons and
        gifts taken back (:func:`~aftersale_kit.core.timeline.timeline_decision`)."""
        steps, taken = self.store.order_steps(entry.domain, order_id)
        union, times = timeline_decision(
            config=entry.config,
            shop=entry.domain,
            order_id=order_id,
            steps=steps,
            taken_back=taken,
        )
        return with_signup_links(self.follow_ups, entry, union), times

    def _content(self, entry: ShopEntry, order: Order) -> dict[str, Any]:
        """The arguments of the content functions for the order as its timeline stands."""
        from .loyalty_content import order_view

        union, times = self.timeline(entry, order.id)
        return {
            "decision": union,
            "order": order,
            "config": entry.config,
            "now": union.decided_at,
            "renderer": entry.renderer,
            "times": times,
            "loyalty": order_view(self.store, entry, order, union, now=self.clock()),
        }

    def render(
        self, entry: ShopEntry, record: DecisionRecord | None, order: Order
    ) -> dict[str, Any]:
        """The thank-you blocks of the order (all its steps, not only ``record``'s: it is only
        the step that asked), stored for the block endpoint."""
        from ..content import blocks_payload

        payload = blocks_payload(**self._content(entry, order))
        self.store.save_blocks(entry.domain, order.id, payload)
        return payload

    def page(self, entry: ShopEntry, order: Order) -> str:
        """The order's thank-you page as a standalone preview: the same blocks, in the same
        order and with the same data, as the block endpoint serves."""
        from ..content import render_page

        return render_page(**self._content(entry, order), preview=True)

    def write_content(self, job: Job) -> None:
        """Write the order's content (the union of its steps) to the platform and the store.

        Content jobs of one order may run at once in several workers; each writes what the
        timeline (and the loyalty ledger) held when it read it, then reads again: when they moved
        meanwhile it writes again, so the last write on the platform is never older than the
        last change.
        """
        from ..content import blocks_payload, confirmation_content

        entry = self.entry(job.shop)
        order_id = str(job.payload["order_id"])
        order = self.order(entry, order_id)
        for _ in range(5):
            content = self._content(entry, order)
            entry.adapter.write_content(order, confirmation_content(**content))
            self.store.save_blocks(entry.domain, order_id, blocks_payload(**content))
            again = self._content(entry, order)
            if (again["decision"], again["loyalty"]) == (content["decision"], content["loyalty"]):
                return
        raise RuntimeError(f"the timeline of order {order_id} kept changing; retrying later")

    def tag_order(self, job: Job) -> None:
        planned = job.planned_action()
        action = planned.action
        if not isinstance(action, TagOrder | FreeGift):
            raise PermanentJobError(f"job {job.id}: {type(action).__name__} is not a tag")
        entry = self.entry(job.shop)
        order = self.order(entry, str(job.payload["order_id"]))
        if isinstance(action, FreeGift):
            wrote = entry.adapter.add_order_note(
                order, text=action.note, key=planned.idempotency_key
            )
            log_event(
                logging.INFO,
                "gift note written" if wrote else "gift note already there",
                shop=job.shop,
                order_id=order.id,
                campaign=planned.campaign_id,
            )
        entry.adapter.tag_order(order, [action.tag])

    def deactivate_coupon(self, job: Job) -> None:
        entry = self.entry(job.shop)
        entry.adapter.deactivate_coupon(str(job.payload["code"]))
        key = str(job.payload["coupon_key"])
        self.store.mark_deactivated(shop=job.shop, idempotency_key=key)
        # a loyalty redemption's coupon: its points come back now (once)
        self.store.loyalty_coupon_deactivated(shop=job.shop, coupon_key=key)
        log_event(
            logging.INFO,
            "coupon deactivated",
            shop=job.shop,
            order_id=str(job.payload.get("order_id")),
            campaign=str(job.payload.get("campaign_id")),
        )


def _reevaluated_fields(config: Any) -> frozenset[str]:
    """Fields to enrich so that refunds can decide ``reevaluate`` campaigns again."""
    return enrichment_fields(
        c for c in config.campaigns if c.enabled and c.on_refund is RefundPolicy.REEVALUATE
    )
