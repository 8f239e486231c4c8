"""The order's timeline: what refunds and cancellations take back, and the content of all steps.

An order goes through steps (created, paid, fulfilled, refunds, cancelled), each decided once
against the campaigns it triggers. This module holds the pure rules that tie the steps together:

* :func:`net_of_refunds` - the order as it stands after its refunds (quantities and amounts);
* :func:`take_backs` - which fired campaigns an order's refunds or closure take back, and why;
* :func:`timeline_decision` - one decision made of all the steps' actions, in a stable order
  (campaign priority, then the step's time), without what was taken back: the content of the
  order's confirmation page.

Rules where the platforms leave room (see docs/timeline.md):

* What a reversal triggers is never taken back by it: a campaign whose trigger is
  ``order_cancelled`` or ``refund_created`` keeps what it gave.
* A cancellation or a full refund (the order *closed*) takes back every other campaign, except
  coupons already redeemed (the storage keeps their cost booked).
* A partial refund takes back per the campaign's :class:`~.campaign.RefundPolicy`. ``reevaluate``
  decides the campaign's conditions on :func:`net_of_refunds` in the shop currency
  (:func:`~.currency.price_order`); a condition that is now *false* takes the campaign back, an
  *unknown* one (or amounts without an exchange rate) keeps it: nothing is taken back on a
  guess.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from .campaign import Campaign, FreeGift, IssueCoupon, RefundPolicy, ShopConfig
from .currency import price_order
from .decision import Decision, Outcome, PlannedAction
from .model import EventKind, FinancialStatus, LineItem, Order, Refund
from .money import Money

if TYPE_CHECKING:
    from .counters import InMemoryCounters

__all__ = [
    "REVERSAL_TRIGGERS",
    "OrderTimeline",
    "Step",
    "closed_reason",
    "net_of_refunds",
    "refunded_amount",
    "refunded_goods",
    "reversal_of",
    "steps_of",
    "take_backs",
    "timeline_decision",
]

#: Triggers of campaigns that react to a reversal (never taken back by it).
REVERSAL_TRIGGERS = (EventKind.ORDER_CANCELLED, EventKind.REFUND_CREATED)
#: The order of the steps in an order's life.
_LIFE = (
    EventKind.ORDER_CREATED,
    EventKind.ORDER_PAID,
    EventKind.ORDER_FULFILLED,
    EventKind.REFUND_CREATED,
    EventKind.ORDER_CANCELLED,
)


def reversal_of(order: Order) -> EventKind | None:
    """The reversal the order's state stands for: cancelled (or voided), refunded in full, or
    ``None`` for an order that stands."""
    if order.cancelled_at is not None or order.financial_status in (
        FinancialStatus.VOIDED,
        FinancialStatus.CANCELLED,
    ):
        return EventKind.ORDER_CANCELLED
    if order.financial_status is FinancialStatus.REFUNDED:
        return EventKind.REFUND_CREATED
    return None


#: How a closed order is named in a take-back's reason.
_CLOSED_TEXT = {
    EventKind.ORDER_CANCELLED.value: "the order was cancelled",
    EventKind.REFUND_CREATED.value: "the order was refunded in full",
}


def closed_reason(closure: str | None) -> str | None:
    """A recorded closure (``order_cancelled``, ``refund_created``) in a shop owner's words."""
    return None if closure is None else _CLOSED_TEXT.get(closure, closure)


def steps_of(
    order: Order, kind: EventKind, *, refund: Refund | None = None
) -> list[tuple[EventKind, str]]:
    """The timeline steps an event of ``kind`` on ``order`` stands for: the event itself (a
    refund event: one step per refund it names) and one per refund the order carries."""
    refunds = [refund] if refund is not None else list(order.refunds)
    steps: list[tuple[EventKind, str]] = []
    if kind is not EventKind.REFUND_CREATED:
        steps.append((kind, ""))
    elif not refunds:
        steps.append((kind, "full"))  # refunded in full, no refund listed (a bare status)
    steps += [(EventKind.REFUND_CREATED, r.id) for r in refunds]
    return list(dict.fromkeys(steps))


def refunded_amount(refunds: Iterable[Refund], currency: str) -> Money:
    """The money of all refunds, in ``currency``."""
    return Money(sum((r.amount.amount for r in refunds), Decimal(0)), currency)


def refunded_goods(order: Order, refunds: Iterable[Refund]) -> Decimal:
    """What ``refunds`` took off the order's goods, in the order's currency (see
    :func:`_merchandise`): the base of a redemption's refunded share in the results."""
    return sum((_merchandise(r, order) for r in refunds), Decimal(0))


def _merchandise(refund: Refund, order: Order) -> Decimal:
    """What the refund took off the goods: its lines' subtotals (a line without one at the
    line's unit price), else its money less refunded shipping."""
    if refund.lines:
        prices = {li.id: li.unit_price.amount for li in order.line_items}
        return sum(
            (
                line.subtotal.amount
                if line.subtotal is not None
                else prices.get(line.line_item_id, Decimal(0)) * line.quantity
                for line in refund.lines
            ),
            Decimal(0),
        )
    shipping = refund.shipping.amount if refund.shipping is not None else Decimal(0)
    return max(refund.amount.amount - shipping, Decimal(0))


def net_of_refunds(order: Order, refunds: Sequence[Refund]) -> Order:
    """The order net of ``refunds``: refunded quantities removed from its lines, the refunded
    goods off its subtotal, the refunded money off its total (never below zero)."""
    if not refunds:
        return order
    currency = order.currency
    returned: dict[str, int] = {}
    for refund in refunds:
        for line in refund.lines or ():
            returned[line.line_item_id] = returned.get(line.line_item_id, 0) + line.quantity
    lines: list[LineItem] = []
    for item in order.line_items:
        left = item.quantity - returned.get(item.id, 0)
        if left <= 0:
            continue
        if left != item.quantity:
            share = Decimal(left) / Decimal(item.quantity)
            discount = item.discount * share if item.discount is not None else None
            item = replace(item, quantity=left, discount=discount)
        lines.append(item)
    goods = sum((_merchandise(r, order) for r in refunds), Decimal(0))
    money = refunded_amount(refunds, currency).amount
    shipping = sum((r.shipping.amount for r in refunds if r.shipping is not None), Decimal(0))
    zero = Decimal(0)
    return replace(
        order,
        line_items=tuple(lines),
        subtotal=Money(max(order.subtotal.amount - goods, zero), currency),
        total=Money(max(order.total.amount - money, zero), currency),
        shipping=Money(max(order.shipping.amount - shipping, zero), currency),
    )


def _reevaluate(campaign: Campaign, net: Order) -> str | None:
    """Why the net order (its amounts in the shop currency) no longer earns the campaign, or
    ``None`` if it still does."""
    for number, condition in enumerate(campaign.conditions, start=1):
        if condition.evaluate(net).value is False:
            return (
                f"condition {number} `{condition.source}` no longer holds on the order net of "
                f"refunds (subtotal {net.subtotal}, total {net.total})"
            )
    return None


def take_backs(
    *,
    config: ShopConfig,
    order: Order,
    refunds: Sequence[Refund],
    open_campaigns: Iterable[str],
    closed: str | None,
) -> dict[str, str]:
    """The campaigns (of ``open_campaigns``: fired on this order and not taken back yet) that
    must be taken back now, each with the reason in a shop owner's words.

    ``closed`` is the reason the order is closed (cancelled, refunded in full) or ``None``;
    ``order`` is the order as first decided (its refunds are applied here).
    """
    by_id = {c.id: c for c in config.campaigns}
    ids = ", ".join(r.id for r in refunds)
    net: Order | None = None
    unpriced = False
    out: dict[str, str] = {}
    for cid in open_campaigns:
        campaign = by_id.get(cid)
        if campaign is not None and campaign.trigger in REVERSAL_TRIGGERS:
            continue
        if closed is not None:
            out[cid] = closed
        elif not refunds or campaign is None or campaign.on_refund is RefundPolicy.KEEP:
            continue
        elif campaign.on_refund is RefundPolicy.REVOKE:
            out[cid] = f"refund {ids}: the campaign takes its offer back on any refund"
        else:
            if net is None:
                priced = price_order(net_of_refunds(order, refunds), config.settings)
                # amounts that cannot be brought to the shop currency decide nothing: keep
                net = priced.order if priced.unknown is None else order
                unpriced = priced.unknown is not None
            why = None if unpriced else _reevaluate(campaign, net)
            if why is not None:
                out[cid] = f"refund {ids}: {why}"
    return out


@dataclass(frozen=True, slots=True)
class Step:
    """One decided step of the order's timeline, as stored."""

    decision: Decision
    decided_at: datetime


def timeline_decision(
    *,
    config: ShopConfig,
    shop: str,
    order_id: str,
    steps: Sequence[Step],
    taken_back: Mapping[str, bool],
) -> tuple[Decision, dict[str, datetime]]:
    """All steps' actions as one decision, for the order's content, and each action's time.

    Actions are ordered by their campaign's priority (higher first), then by the step's place
    in the order's life (created, paid, fulfilled, refunds, cancelled: the platforms' event
    order, which holds however late or shuffled the deliveries came), then as decided.
    ``taken_back`` maps an action's idempotency key to ``True`` when its coupon or gift was
    taken back: those actions are left out, so the coupon and gift blocks that show them
    disappear while every other block stays.
    """
    priority = {c.id: c.priority for c in config.campaigns}
    ordered = sorted(steps, key=lambda s: (_LIFE.index(s.decision.event), s.decided_at))
    ranked: list[tuple[int, int, int, PlannedAction]] = []
    outcomes: list[Outcome] = []
    times: dict[str, datetime] = {}
    for position, step in enumerate(ordered):
        outcomes.extend(o for o in step.decision.outcomes if o.fired)
        for index, planned in enumerate(step.decision.actions):
            if isinstance(planned.action, IssueCoupon | FreeGift) and taken_back.get(
                planned.idempotency_key
            ):
                continue
            times[planned.idempotency_key] = step.decided_at
            rank = -priority.get(planned.campaign_id, 0)
            ranked.append((rank, position, index, planned))
    ranked.sort(key=lambda r: r[:3])
    last = ordered[-1] if ordered else None
    decision = Decision(
        shop=shop,
        order_id=order_id,
        event=last.decision.event if last else EventKind.ORDER_PAID,
        decided_at=last.decided_at if last else datetime.min.replace(tzinfo=UTC),
        outcomes=tuple(outcomes),
        actions=tuple(r[3] for r in ranked),
    )
    return decision, times


@dataclass
class OrderTimeline:
    """One order's timeline in memory: the service's steps without a database.

    For previews and trials: each :meth:`apply` decides the steps an event stands for (once
    each), records the order's refunds and closure, and takes back what they no longer allow,
    with the same rules as the service (:func:`steps_of`, :func:`take_backs`).
    :meth:`content` is the order's content (:func:`timeline_decision`). Counters are the
    caller's (bookings are recorded in them; take-backs do not release them).
    """

    config: ShopConfig
    code_secret: bytes
    counters: InMemoryCounters
    steps: dict[tuple[EventKind, str], Step] = field(default_factory=dict)
    refunds: dict[str, Refund] = field(default_factory=dict)
    closed: str | None = None
    #: Campaign id -> why it was taken back.
    taken_back: dict[str, str] = field(default_factory=dict)
    first: Order | None = None

    def apply(
        self, order: Order, kind: EventKind, *, now: datetime, refund: Refund | None = None
    ) -> list[Decision]:
        """Decide the event's new steps (as of ``now``) and settle; the decisions made."""
        from .engine import decide

        self.first = self.first or order
        made = []
        for step_kind, ref in steps_of(order, kind, refund=refund):
            if (step_kind, ref) in self.steps:
                continue
            decision = decide(
                self.config,
                order,
                event=step_kind,
                counters=self.counters,
                now=now,
                code_secret=self.code_secret,
                occurrence=ref,
            )
            self.counters.record(decision, order)
            self.steps[(step_kind, ref)] = Step(decision=decision, decided_at=now)
            made.append(decision)
        for r in ([refund] if refund is not None else []) + list(order.refunds):
            self.refunds.setdefault(r.id, r)
        reversal = reversal_of(order)
        if reversal is not None and self.closed is None:
            self.closed = reversal.value
        fired = [o.campaign_id for s in self.steps.values() for o in s.decision.outcomes if o.fired]
        open_ = [c for c in dict.fromkeys(fired) if c not in self.taken_back]
        self.taken_back.update(
            take_backs(
                config=self.config,
                order=self.first,
                refunds=list(self.refunds.values()),
                open_campaigns=open_,
                closed=closed_reason(self.closed),
            )
        )
        return made

    def content(self) -> tuple[Decision, dict[str, datetime]]:
        """The order's content: every step's actions without what was taken back."""
        taken = {
            p.idempotency_key: True
            for s in self.steps.values()
            for p in s.decision.actions
            if p.campaign_id in self.taken_back
        }
        shop = self.config.settings.domain
        order_id = self.first.id if self.first is not None else ""
        return timeline_decision(
            config=self.config,
            shop=shop,
            order_id=order_id,
            steps=list(self.steps.values()),
            taken_back=taken,
        )
