"""Follow-up messages over the history, counted against the shop's contact policy.

As the service does: a decided step's ``follow_up`` actions become messages with their due
times (:func:`~aftersale_kit.core.contact.schedule.planned_messages`, from the step's trigger
moment), for orders with an e-mail address; a later order of the customer that makes a repeat's
``stop_when`` true cancels the repeats due after it; a closed order (cancelled, refunded in
full) cancels its waiting messages. A ``vip_presale`` plans its one announcement per customer
and pre-sale (due at the start, at once during the sale, none after it), dropped when the sale
ended while it waited. Messages are then decided in due-time order, interleaved
with the history's events, by :func:`~aftersale_kit.core.contact.policy.check` against the
customer's messages sent so far, with the consent the order carries (``accepts_marketing``;
newsletter opt-ins and unsubscribes are not in an order export); a deferral is asked again at
its time. Sent messages per customer and hold-backs per rule are what the report shows.
"""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..core.campaign import ShopConfig
from ..core.conditions import Condition
from ..core.contact.follow_up import FollowUp, Purpose
from ..core.contact.policy import Consent, Defer, HoldBack, Message, SentMessage, check
from ..core.contact.presale import VipPresale, announcement_due, presale_key
from ..core.contact.schedule import planned_messages
from ..core.decision import Decision
from ..core.engine import customer_key
from ..core.model import EventKind, Order

__all__ = ["ContactBook", "trigger_moment"]


def trigger_moment(order: Order, decision: Decision) -> datetime:
    """When the step's event happened (as the service's follow-ups take it): the payment for
    ``order_paid``, the creation for ``order_created``, else the decision's time."""
    if decision.event is EventKind.ORDER_PAID and order.paid_at is not None:
        return order.paid_at
    if decision.event is EventKind.ORDER_CREATED:
        return order.created_at
    return decision.decided_at


@dataclass(slots=True)
class _Pending:
    key: str
    order_id: str
    email: str
    message: Message
    consent: Consent
    stop_when: Condition | None
    cancelled: bool = False
    #: A pre-sale announcement's end: one still waiting then is dropped.
    ends_at: datetime | None = None


class ContactBook:
    """The follow-up schedule of one run and what the contact policy made of it."""

    def __init__(self, config: ShopConfig) -> None:
        self.policy = config.policy
        self.active = any(
            isinstance(a, FollowUp | VipPresale) for c in config.campaigns for a in c.actions
        )
        #: The pre-sale invitations planned (one per customer and pre-sale).
        self._invited: set[str] = set()
        self._heap: list[tuple[datetime, int, _Pending]] = []
        self._seq = 0
        cap = self.policy.marketing_cap
        #: How far back a customer's sent messages matter (the cap's window, the minimum gap).
        self._memory = max(
            timedelta(days=cap.days) if cap is not None else timedelta(0),
            self.policy.min_gap or timedelta(0),
        )
        self._by_email: dict[str, list[_Pending]] = {}
        self._by_order: dict[str, list[_Pending]] = {}
        self.history: dict[str, list[SentMessage]] = {}
        self.sent: Counter[str] = Counter()
        self.held_back: Counter[str] = Counter()
        self.cancelled = 0

    def plan(self, config: ShopConfig, order: Order, decision: Decision, *, now: datetime) -> None:
        """Schedule the step's follow-ups; stop earlier repeats this order stops."""
        if not self.active:
            return
        email = order.email or (order.customer.email if order.customer is not None else None)
        if not email:
            return
        self._stop_repeats(order, email)
        key = customer_key(order) or f"email:{email.strip().lower()}"
        consent = Consent(
            accepts_marketing=order.customer.accepts_marketing if order.customer else None
        )
        trigger_at = trigger_moment(order, decision)
        for planned in decision.actions:
            action = planned.action
            if isinstance(action, VipPresale):
                self._invite(planned.campaign_id, action, order, email, key, consent, decision)
            if not isinstance(action, FollowUp):
                continue
            messages = planned_messages(
                planned,
                trigger_at=trigger_at,
                tz=self.policy.timezone,
                holidays=self.policy.holidays,
            )
            for m in messages:
                label = f"campaign {m.campaign_id!r} message {m.occurrence}"
                item = _Pending(
                    key=m.key,
                    order_id=order.id,
                    email=email,
                    message=Message(key, email, m.purpose, m.due_at, label),
                    consent=consent,
                    stop_when=action.repeat.stop_when if action.repeat is not None else None,
                )
                self._push(m.due_at, item)
                self._by_email.setdefault(email, []).append(item)
                self._by_order.setdefault(order.id, []).append(item)

    def _invite(
        self,
        campaign_id: str,
        action: VipPresale,
        order: Order,
        email: str,
        key: str,
        consent: Consent,
        decision: Decision,
    ) -> None:
        """The customer's one announcement of the pre-sale, as the service plans it."""
        invitation = presale_key(decision.shop, campaign_id, key)
        due = announcement_due(action, decision.decided_at)
        if due is None or invitation in self._invited:
            return
        self._invited.add(invitation)
        label = f"campaign {campaign_id!r} pre-sale announcement"
        item = _Pending(
            key=f"{invitation}:1", order_id=order.id, email=email,
            message=Message(key, email, action.purpose, due, label), consent=consent,
            stop_when=None, ends_at=action.ends_at,
        )  # fmt: skip
        self._push(due, item)
        self._by_email.setdefault(email, []).append(item)
        self._by_order.setdefault(order.id, []).append(item)

    def _push(self, at: datetime, item: _Pending) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (at, self._seq, item))

    def _stop_repeats(self, order: Order, email: str) -> None:
        for item in self._by_email.get(email, ()):
            if item.cancelled or item.stop_when is None or item.order_id == order.id:
                continue
            if item.message.due_at > order.created_at and item.stop_when.evaluate(order).is_true:
                item.cancelled = True
                self.cancelled += 1

    def cancel(self, order_id: str, *, now: datetime) -> None:
        """The order closed: its waiting messages go nowhere."""
        for item in self._by_order.pop(order_id, ()):
            if not item.cancelled:
                item.cancelled = True
                self.cancelled += 1

    def advance(self, until: datetime | None) -> None:
        """Decide every message due before ``until`` (``None``: all), in due-time order."""
        heap = self._heap
        while heap and (until is None or heap[0][0] < until):
            at, _, item = heapq.heappop(heap)
            if item.cancelled:
                continue
            if item.ends_at is not None and at >= item.ends_at:
                self._forget(item)  # the pre-sale ended while it waited
                self.cancelled += 1
                continue
            history = self.history.setdefault(item.message.customer, [])
            verdict = check(item.message, history, item.consent, self.policy, at)
            if isinstance(verdict, Defer):
                self._push(verdict.until, item)
                continue
            self._forget(item)
            if isinstance(verdict, HoldBack):
                self.held_back[verdict.rule.value] += 1
                continue
            history.append(SentMessage(sent_at=at, purpose=item.message.purpose))
            # older messages than the rules look back are forgotten (the last one stays)
            while len(history) > 1 and history[0].sent_at <= at - self._memory:
                del history[0]
            self.sent[item.message.customer] += 1

    def _forget(self, item: _Pending) -> None:
        item.cancelled = True  # decided: neither a stop nor a closure counts it again
        mine = self._by_email.get(item.email)
        if mine is not None:
            mine.remove(item)
            if not mine:
                del self._by_email[item.email]
        orders = self._by_order.get(item.order_id)
        if orders is not None and item in orders:
            orders.remove(item)
            if not orders:
                del self._by_order[item.order_id]

    def flush(self) -> None:
        self.advance(None)

    def customers_by_count(self) -> dict[int, int]:
        """How many customers got how many messages (0 not counted: no message, no entry)."""
        out: Counter[int] = Counter(self.sent.values())
        return dict(sorted(out.items()))

    @staticmethod
    def is_marketing(purpose: Purpose) -> bool:
        return purpose is Purpose.MARKETING
