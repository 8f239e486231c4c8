"""The decision engine: which campaigns fire for an order, what they cost, and why.

:func:`decide` is pure and deterministic: the same config, order, event, counters and ``now`` give
the same :class:`~aftersale_kit.core.decision.Decision`. It reads counters but books nothing; the
caller books a decision once its actions are carried out (``InMemoryCounters.record`` or storage).

Campaigns are decided by priority (higher first, ties in file order); the outcomes come back in
file order, one per campaign. For each campaign the checks run in this order, and the first that
fails is the reason it does not fire:

1. disabled; 2. trigger (the event it runs on); 3. window (``now`` inside ``[starts_at,
ends_at)``); 4. conditions (all must be true; an unknown field means "does not fire", naming the
field, and for a field from the service's records the reason it noted); 5. split (holdout
group, then the A/B variant; actions of other variants are dropped);
6. amounts in the shop currency (see below); 7. per-customer limit and cooldown; 8. usage limit;
9. margin guard (on :func:`margin_basis`: the margin net of discounts; an order without margin
funds no offer); 10. budget; 11. exclusive group (the first campaign of the group to get here,
i.e. the highest priority, wins); 12. contact limit (``settings.max_offers_per_order`` counts
firing campaigns with a coupon or a free gift).

Currencies (:mod:`aftersale_kit.core.currency`): an order in another currency than the shop's is
converted at ``settings.exchange_rates`` (the explanation then ends with the rate); without a rate
a condition that reads an amount is unknown, and a campaign with a margin guard or whose cost is
a share of the order (percentage coupon, free shipping without ``estimated_value``) does not fire,
each naming the reason.

Limits and budgets count what the counters hold plus what this decision has already granted.

Fields from the service's records (``customer.care_cost_share``, see :mod:`.fields`) are named
with their values in the explanation, when a condition on them is false and when the campaign
fires: the shop owner cannot look them up in the shop's admin.

Conventions
    The shop key (counters, idempotency keys, coupon codes, split) is ``settings.domain``. The
    customer key is the customer id, or ``email:<lower-case e-mail>`` for guests
    (:func:`customer_key`). Costs are in the shop currency, computed from the order's amounts in
    the shop currency.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from .campaign import (
    Action,
    BudgetBasis,
    BudgetPeriod,
    Campaign,
    CouponKind,
    FreeGift,
    IssueCoupon,
    ShopConfig,
    ShopSettings,
    ShowBlock,
    Split,
    TagOrder,
)
from .codes import coupon_code
from .contact.follow_up import FollowUp
from .contact.presale import VipPresale
from .currency import Pricing, price_order
from .decision import Decision, Outcome, PlannedAction, Reason
from .fields import FIELDS, FieldType
from .loyalty.actions import AwardPoints, Stamp
from .model import EventKind, LineItem, Order
from .money import Money
from .ports import Counters

__all__ = [
    "MarginBasis",
    "action_cost",
    "assign_variant",
    "budget_period_start",
    "customer_key",
    "decide",
    "depends_on_order_amounts",
    "enrichment_fields",
    "fields_from_records",
    "margin_basis",
    "order_margin",
    "required_fields",
]

_HUNDRED = Decimal(100)
_TWO_64 = Decimal(2**64)
#: Actions that make a campaign an offer (counted by the contact limit).
_OFFERS = (IssueCoupon, FreeGift)


# -- small pure helpers -------------------------------------------------------------------------


def customer_key(order: Order) -> str | None:
    """The customer id, ``email:<lower-case e-mail>`` for a guest, or None without either."""
    if order.customer is not None:
        return order.customer.id
    email = (order.email or "").strip().lower()
    return f"email:{email}" if email else None


def action_cost(action: Action, order: Order, settings: ShopSettings) -> Money:
    """What one action costs the shop, in the shop currency, rounded to cents.

    A percentage coupon is costed at its share of this order's subtotal (the next basket is
    expected to be like this one); free shipping at ``estimated_value`` or this order's shipping;
    a free gift at its cost; blocks and tags cost nothing.
    """
    currency = settings.currency
    if isinstance(action, IssueCoupon):
        if action.kind is CouponKind.FIXED_AMOUNT:
            amount = action.value
        elif action.kind is CouponKind.PERCENTAGE:
            amount = order.subtotal.amount * action.value / _HUNDRED
        elif action.estimated_value is not None:
            amount = action.estimated_value
        else:
            amount = order.shipping.amount
        return Money(amount, currency).rounded()
    if isinstance(action, FreeGift):
        return Money(action.cost, currency).rounded()
    return Money.zero(currency)


@dataclass(frozen=True, slots=True)
class MarginBasis:
    """The margin the guard uses, and what it was computed from (all in the shop currency)."""

    #: Net merchandise value minus the cost of the goods; never below zero.
    margin: Money
    #: What the goods were sold for: line prices minus their discounts, gift cards excluded.
    net: Money
    #: The discounts taken off those lines.
    discounts: Money
    #: The platform gave no per-line discounts: the order's discounts were spread over the
    #: lines by their share of the value.
    spread: bool = False

    def describe(self) -> str:
        """``this order's margin 12.00 EUR`` plus ``(net of 20.00 EUR discounts)`` if any."""
        text = f"this order's margin {self.margin.rounded()}"
        if self.discounts.amount:
            how = ", spread over the lines by value" if self.spread else ""
            text += f" (net of {self.discounts.rounded()} discounts{how})"
        return text


def _line_discounts(order: Order, lines: list[LineItem]) -> tuple[list[Decimal], bool]:
    """Each line's discount: the platform's allocation, else the order's discounts by share."""
    if any(li.discount is not None for li in order.line_items):
        zero = Decimal(0)
        return [li.discount.amount if li.discount is not None else zero for li in lines], False
    gross = [li.unit_price.amount * li.quantity for li in lines]
    whole = sum(gross, Decimal(0))
    if whole <= 0 or order.discounts.amount <= 0:
        return [Decimal(0)] * len(lines), False
    return [order.discounts.amount * g / whole for g in gross], True


def margin_basis(order: Order, settings: ShopSettings) -> MarginBasis:
    """The margin on what was paid for the goods, in the shop currency.

    Per line (gift cards excluded: they are money, not merchandise): the net value is
    ``unit price * quantity - discount`` (the line's share of line and order-level discounts, as
    the platform allocated them; without allocations the order's ``discounts`` are spread over
    the lines by their value), never below zero; the cost of the goods is
    ``settings.product_costs[sku] * quantity``, else ``price * quantity * (1 - default_margin)``.
    The margin is the sum of net minus cost, never below zero: a fully discounted order has no
    margin.
    """
    currency = settings.currency
    lines = [li for li in order.line_items if not li.gift_card]
    discounts, spread = _line_discounts(order, lines)
    keep = Decimal(1) - settings.default_margin
    margin = net_total = taken = Decimal(0)
    for item, discount in zip(lines, discounts, strict=True):
        gross = item.unit_price.amount * item.quantity
        discount = min(max(discount, Decimal(0)), max(gross, Decimal(0)))
        unit_cost = settings.product_cost(item.sku)
        cost = gross * keep if unit_cost is None else unit_cost * item.quantity
        net = gross - discount
        margin += net - cost
        net_total += net
        taken += discount
    return MarginBasis(
        margin=Money(max(margin, Decimal(0)), currency),
        net=Money(net_total, currency),
        discounts=Money(taken, currency),
        spread=spread and taken > 0,
    )


def order_margin(order: Order, settings: ShopSettings) -> Money:
    """The margin the guard uses (see :func:`margin_basis`), in the shop currency."""
    return margin_basis(order, settings).margin


def depends_on_order_amounts(action: Action) -> bool:
    """The action's cost is a share of this order's amounts (see :func:`action_cost`)."""
    return isinstance(action, IssueCoupon) and (
        action.kind is CouponKind.PERCENTAGE
        or (action.kind is CouponKind.FREE_SHIPPING and action.estimated_value is None)
    )


def budget_period_start(period: BudgetPeriod, now: datetime, tz_name: str) -> datetime | None:
    """Start of the calendar period containing ``now`` in the shop's timezone (None: total)."""
    if period is BudgetPeriod.TOTAL:
        return None
    tz = ZoneInfo(tz_name)
    today = now.astimezone(tz).date()
    if period is BudgetPeriod.DAY:
        start = today
    elif period is BudgetPeriod.WEEK:
        start = today - timedelta(days=today.weekday())
    elif period is BudgetPeriod.MONTH:
        start = today.replace(day=1)
    elif period is BudgetPeriod.QUARTER:
        start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    else:
        start = date(today.year, 1, 1)
    return datetime(start.year, start.month, start.day, tzinfo=tz)


def assign_variant(split: Split, *, shop: str, campaign_id: str, key: str) -> str | None:
    """The A/B variant of a customer, ``None`` for the holdout group (or without variants: "").

    Deterministic: SHA-256 of (shop, campaign, customer key); the first 64 bits place the customer
    in or out of the holdout share, the next 64 bits pick a variant by weight.
    """
    digest = hashlib.sha256(
        b"\x1f".join(part.encode("utf-8") for part in (shop, campaign_id, key))
    ).digest()
    if split.holdout > 0 and Decimal(int.from_bytes(digest[:8], "big")) < split.holdout * _TWO_64:
        return None
    total = sum(max(weight, 0) for _, weight in split.variants)
    if total <= 0:
        return ""
    pick = int.from_bytes(digest[8:16], "big") % total
    for name, weight in split.variants:
        if pick < max(weight, 0):
            return name
        pick -= max(weight, 0)
    raise AssertionError("unreachable: pick < total")


def required_fields(
    campaigns: Iterable[Campaign], *, event: EventKind | None = None
) -> frozenset[str]:
    """Every field the campaigns' conditions read (with ``event``: only enabled campaigns on it)."""
    paths: set[str] = set()
    for campaign in campaigns:
        if event is not None and (not campaign.enabled or campaign.trigger is not event):
            continue
        for condition in campaign.conditions:
            paths.update(condition.fields)
    return frozenset(paths)


def enrichment_fields(
    campaigns: Iterable[Campaign], *, event: EventKind | None = None
) -> frozenset[str]:
    """The fields an adapter must fetch because the webhook does not carry them."""
    return frozenset(
        p for p in required_fields(campaigns, event=event) if FIELDS[p].needs_enrichment
    )


def fields_from_records(
    campaigns: Iterable[Campaign], *, event: EventKind | None = None
) -> frozenset[str]:
    """The enrichment fields the service fills in from its own records, not the platform
    (``customer.care_cost_share``; see :attr:`~.fields.FieldSpec.from_records`)."""
    return frozenset(p for p in enrichment_fields(campaigns, event=event) if FIELDS[p].from_records)


# -- texts --------------------------------------------------------------------------------------


def _pct(share: Decimal) -> str:
    text = format(share * _HUNDRED, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"


def _money(amount: Decimal, currency: str) -> str:
    return str(Money(amount, currency))


def _describe_action(action: Action, planned: PlannedAction, currency: str) -> str:
    if isinstance(action, IssueCoupon):
        if action.kind is CouponKind.PERCENTAGE:
            what = f"{_pct(action.value / _HUNDRED)} off"
        elif action.kind is CouponKind.FIXED_AMOUNT:
            what = f"{_money(action.value, currency)} off"
        else:
            what = "free shipping"
        return f"coupon {planned.coupon_code} ({what})"
    if isinstance(action, ShowBlock):
        return f"block {action.block!r}"
    if isinstance(action, FreeGift):
        return f"free gift ({action.note})"
    if isinstance(action, TagOrder):
        return f"tag {action.tag!r}"
    if isinstance(action, AwardPoints | Stamp | FollowUp | VipPresale):
        return action.describe()
    raise AssertionError(f"unknown action {action!r}")


def _unknown_detail(number: int, source: str, path: str, order: Order) -> str:
    spec = FIELDS.get(path)
    note = spec.unknown_note(order) if spec is not None and spec.unknown_note else None
    if note is not None:
        return f"condition {number} `{source}`: {path} unknown: {note}"
    if spec is not None and spec.from_records:
        why = "not filled in from the service's records"
    elif spec is not None and spec.needs_enrichment:
        why = "not in the webhook; needs enrichment"
    else:
        why = "the platform did not send it"
    return f"condition {number} `{source}`: unknown field {path} ({why})"


def _record_values(paths: Iterable[str], order: Order, currency: str) -> str:
    """``customer.care_cost_share is 0.42`` for the fields from the service's records that
    ``paths`` name and that have a value here (empty when none): the shop owner cannot look them
    up anywhere else."""
    parts = []
    for path in sorted(paths):
        spec = FIELDS.get(path)
        if spec is None or not spec.from_records:
            continue
        value = spec.getter(order)
        if isinstance(value, Decimal):
            shown = _money(value, currency) if spec.type is FieldType.MONEY else str(value)
            parts.append(f"{path} is {shown}")
    return ", ".join(parts)


# -- the decision -------------------------------------------------------------------------------


@dataclass
class _Granted:
    """What this decision has granted so far (on top of the counters)."""

    uses: dict[str, int] = field(default_factory=dict)
    spent: dict[str, Decimal] = field(default_factory=dict)
    group_winners: dict[str, Campaign] = field(default_factory=dict)
    offers: list[str] = field(default_factory=list)


@dataclass
class _Run:
    settings: ShopSettings
    order: Order
    event: EventKind
    counters: Counters
    now: datetime
    secret: bytes
    shop: str
    key: str | None
    pricing: Pricing
    occurrence: str = ""
    granted: _Granted = field(default_factory=_Granted)
    _margin: MarginBasis | None = None

    def margin(self) -> MarginBasis:
        if self._margin is None:
            self._margin = margin_basis(self.order, self.settings)
        return self._margin

    def decide(self, campaign: Campaign) -> tuple[Outcome, list[PlannedAction]]:
        """The outcome of one campaign, and its planned actions if it fires.

        When the order's amounts were converted to the shop currency and the campaign read
        them, the explanation ends with the rate."""
        outcome, planned = self._decide(campaign)
        note = self.pricing.note
        if note is None or outcome.reason in _BEFORE_AMOUNTS or not _reads_amounts(campaign):
            return outcome, planned
        return replace(outcome, detail=f"{outcome.detail} ({note})"), planned

    def _decide(self, campaign: Campaign) -> tuple[Outcome, list[PlannedAction]]:
        stop = self._gate(campaign) or self._conditions(campaign)
        if stop is not None:
            return Outcome(campaign.id, False, *stop), []
        variant, stop = self._variant(campaign)
        if stop is not None:
            return Outcome(campaign.id, False, *stop, variant), []
        indexed = [
            (i, a)
            for i, a in enumerate(campaign.actions)
            if a.variant is None or a.variant == variant
        ]
        if not indexed:
            where = f" in variant {variant!r}" if variant else ""
            detail = f"the campaign has no actions{where}"
            return Outcome(campaign.id, False, Reason.NO_ACTIONS, detail, variant), []
        costs: list[Money] | None = None
        is_offer = any(isinstance(a, _OFFERS) for _, a in indexed)
        stop = (
            self._unpriced(campaign, indexed)
            or self._customer_limit(campaign)
            or self._usage_limit(campaign)
        )
        if stop is None and (campaign.margin_guard is not None or campaign.budget is not None):
            costs = [action_cost(a, self.order, self.settings) for _, a in indexed]
            cost = sum((c.amount for c in costs), Decimal(0))
            stop = self._margin_guard(campaign, cost, is_offer) or self._budget(campaign, cost)
        stop = stop or self._exclusive_group(campaign) or self._contact_limit(is_offer)
        if stop is not None:
            return Outcome(campaign.id, False, *stop, variant), []
        if costs is None:
            costs = [action_cost(a, self.order, self.settings) for _, a in indexed]
        return self._fire(campaign, variant, indexed, costs, is_offer)

    def _gate(self, campaign: Campaign) -> tuple[Reason, str] | None:
        if not campaign.enabled:
            return Reason.DISABLED, "the campaign is disabled"
        if campaign.trigger is not self.event:
            return (
                Reason.OTHER_TRIGGER,
                f"runs on {campaign.trigger.value}, this event is {self.event.value}",
            )
        window = campaign.window
        if window is not None:
            if window.starts_at is not None and self.now < _aware(window.starts_at):
                return (
                    Reason.OUTSIDE_WINDOW,
                    f"starts at {_aware(window.starts_at):%Y-%m-%d %H:%M %Z}",
                )
            if window.ends_at is not None and self.now >= _aware(window.ends_at):
                return Reason.OUTSIDE_WINDOW, f"ended at {_aware(window.ends_at):%Y-%m-%d %H:%M %Z}"
        return None

    def _variant(self, campaign: Campaign) -> tuple[str | None, tuple[Reason, str] | None]:
        split = campaign.split
        if split is None:
            return None, None
        key = self.key if self.key is not None else f"order:{self.order.id}"
        assigned = assign_variant(split, shop=self.shop, campaign_id=campaign.id, key=key)
        if assigned is None:
            return None, (Reason.HOLDOUT, f"holdout group ({_pct(split.holdout)})")
        return assigned or None, None

    def _usage_limit(self, campaign: Campaign) -> tuple[Reason, str] | None:
        limit = campaign.usage_limit
        if limit is None:
            return None
        used = self.counters.usage_count(self.shop, campaign.id)
        used += self.granted.uses.get(campaign.id, 0)
        if used >= limit:
            return Reason.USAGE_LIMIT, f"usage limit reached: fired {used} of {limit} times"
        return None

    def _unpriced(
        self, campaign: Campaign, indexed: list[tuple[int, Action]]
    ) -> tuple[Reason, str] | None:
        """The campaign needs the order's amounts in the shop currency, which are unknown."""
        why = self.pricing.unknown
        if why is None:
            return None
        if campaign.margin_guard is not None:
            return Reason.FIELD_UNKNOWN, f"the margin guard cannot be checked: {why}"
        if any(depends_on_order_amounts(a) for _, a in indexed):
            return (
                Reason.FIELD_UNKNOWN,
                f"the offer's cost is a share of this order's amounts, unknown in "
                f"{self.pricing.shop}: {why}",
            )
        return None

    def _margin_guard(
        self, campaign: Campaign, cost: Decimal, is_offer: bool
    ) -> tuple[Reason, str] | None:
        guard = campaign.margin_guard
        if guard is None:
            return None
        basis = self.margin()
        margin = basis.margin.amount
        if margin <= 0 and is_offer:
            return (
                Reason.MARGIN_GUARD,
                f"{basis.describe()} leaves nothing to fund an offer "
                f"(the offer costs {_money(cost, self.settings.currency)})",
            )
        allowed = guard.max_share * margin
        if cost <= allowed:
            return None
        currency = self.settings.currency
        return (
            Reason.MARGIN_GUARD,
            f"the offer costs {_money(cost, currency)}, more than {_pct(guard.max_share)} of "
            f"{basis.describe()} (at most {_money(allowed, currency)})",
        )

    def _budget(self, campaign: Campaign, cost: Decimal) -> tuple[Reason, str] | None:
        budget = campaign.budget
        if budget is None:
            return None
        since = budget_period_start(budget.period, self.now, self.settings.timezone)
        if budget.basis is BudgetBasis.REDEEMED:
            # Offers made in this decision are not redeemed yet: only what customers took.
            spent = self.counters.redeemed(self.shop, campaign.id, since)
            what = "redeemed"
        else:
            spent = self.counters.spent(self.shop, campaign.id, since)
            spent += self.granted.spent.get(campaign.id, Decimal(0))
            what = "spent"
        if spent + cost <= budget.amount.amount:
            return None
        per = "in total" if since is None else f"per {budget.period.value}"
        currency = budget.amount.currency
        return (
            Reason.BUDGET_EXHAUSTED,
            f"budget {budget.amount} {per} exhausted: {_money(spent, currency)} {what}, "
            f"this offer costs {_money(cost, currency)}",
        )

    def _exclusive_group(self, campaign: Campaign) -> tuple[Reason, str] | None:
        group = campaign.exclusive_group
        winner = self.granted.group_winners.get(group) if group is not None else None
        if winner is None:
            return None
        return (
            Reason.LOST_TO_PRIORITY,
            f"lost to campaign {winner.id!r} (priority {winner.priority}) in exclusive group "
            f"{group!r}",
        )

    def _contact_limit(self, is_offer: bool) -> tuple[Reason, str] | None:
        cap = self.settings.max_offers_per_order
        if not is_offer or cap is None or len(self.granted.offers) < cap:
            return None
        names = ", ".join(repr(o) for o in self.granted.offers) or "none"
        return (
            Reason.CONTACT_LIMIT,
            f"contact limit of {cap} offer(s) per order reached (already: {names})",
        )

    def _fire(
        self,
        campaign: Campaign,
        variant: str | None,
        indexed: list[tuple[int, Action]],
        costs: list[Money],
        is_offer: bool,
    ) -> tuple[Outcome, list[PlannedAction]]:
        cid = campaign.id
        cost = sum((c.amount for c in costs), Decimal(0))
        planned = self._plan(campaign, indexed, costs)
        granted = self.granted
        granted.uses[cid] = granted.uses.get(cid, 0) + 1
        granted.spent[cid] = granted.spent.get(cid, Decimal(0)) + cost
        if campaign.exclusive_group is not None:
            granted.group_winners[campaign.exclusive_group] = campaign
        if is_offer:
            granted.offers.append(cid)
        currency = self.settings.currency
        parts = "; ".join(_describe_action(p.action, p, currency) for p in planned)
        in_variant = f" (variant {variant!r})" if variant else ""
        detail = f"fired{in_variant}: {parts}; offer cost {_money(cost, currency)}"
        if self.order.is_guest and any(isinstance(p.action, VipPresale) for p in planned):
            detail += "; guest order: no customer account to tag, the announcement goes to the "
            detail += "order's address"
        if campaign.margin_guard is not None and self.margin().discounts.amount:
            detail += f"; within the margin guard on {self.margin().describe()}"
        read = (path for condition in campaign.conditions for path in condition.fields)
        values = _record_values(set(read), self.order, currency)
        if values:
            detail += f"; {values}"
        return Outcome(cid, True, Reason.FIRED, detail, variant), planned

    def _conditions(self, campaign: Campaign) -> tuple[Reason, str] | None:
        unknown: tuple[Reason, str] | None = None
        unpriced = self.pricing.unknown
        for number, condition in enumerate(campaign.conditions, start=1):
            if unpriced is not None and _reads_money(condition.fields):
                # Never compare amounts in another currency as if they were the shop's.
                if unknown is None:
                    unknown = (
                        Reason.FIELD_UNKNOWN,
                        f"condition {number} `{condition.source}`: amounts unknown in "
                        f"{self.pricing.shop}: {unpriced}",
                    )
                continue
            verdict = condition.evaluate(self.order)
            if verdict.value is False:
                detail = f"condition {number} `{condition.source}` is false"
                values = _record_values(condition.fields, self.order, self.settings.currency)
                if values:
                    detail += f" ({values})"
                if self.order.is_guest and any(
                    f.startswith("customer.") or f == "first_order" for f in condition.fields
                ):
                    detail += " (guest order: no customer account)"
                return Reason.CONDITION_FAILED, detail
            if verdict.value is None and unknown is None:
                path = verdict.unknown_field or "?"
                unknown = (
                    Reason.FIELD_UNKNOWN,
                    _unknown_detail(number, condition.source, path, self.order),
                )
        return unknown

    def _customer_limit(self, campaign: Campaign) -> tuple[Reason, str] | None:
        limit = campaign.per_customer
        if limit is None or (limit.max_uses is None and limit.cooldown_days is None):
            return None
        if self.key is None:
            return (
                Reason.CUSTOMER_LIMIT,
                "the per-customer limit cannot be checked: guest order without e-mail address",
            )
        usage = self.counters.customer_usage(self.shop, campaign.id, self.key)
        count = usage.count + self.granted.uses.get(campaign.id, 0)
        if limit.max_uses is not None and count >= limit.max_uses:
            return (
                Reason.CUSTOMER_LIMIT,
                f"this customer already got this campaign {count} time(s) "
                f"(limit {limit.max_uses} per customer)",
            )
        if limit.cooldown_days is not None:
            last = usage.last_at
            if self.granted.uses.get(campaign.id):
                last = self.now
            if last is not None:
                until = _aware(last) + timedelta(days=limit.cooldown_days)
                if self.now < until:
                    return (
                        Reason.COOLDOWN,
                        f"last offer to this customer on {_aware(last):%Y-%m-%d}; the cooldown "
                        f"of {limit.cooldown_days} days runs until {until:%Y-%m-%d %H:%M %Z}",
                    )
        return None

    def _plan(
        self,
        campaign: Campaign,
        indexed: list[tuple[int, Action]],
        costs: list[Money],
    ) -> list[PlannedAction]:
        planned: list[PlannedAction] = []
        coupons = 0
        # A campaign can fire more than once on one order only on repeatable events (one per
        # refund): the occurrence keeps those keys and codes apart.
        suffix = f":{self.occurrence}" if self.occurrence else ""
        code_order = f"{self.order.id}#{self.occurrence}" if self.occurrence else self.order.id
        for (index, action), cost in zip(indexed, costs, strict=True):
            code = None
            if isinstance(action, IssueCoupon):
                code = coupon_code(
                    secret=self.secret,
                    shop=self.shop,
                    order_id=code_order,
                    campaign_id=campaign.id,
                    prefix=action.code_prefix,
                    length=action.code_length,
                    sequence=coupons,
                )
                coupons += 1
            planned.append(
                PlannedAction(
                    campaign_id=campaign.id,
                    action=action,
                    idempotency_key=f"{self.shop}:{self.order.id}:{campaign.id}:{index}{suffix}",
                    cost=cost,
                    coupon_code=code,
                )
            )
        return planned


#: Reasons decided before any amount of the order is read.
_BEFORE_AMOUNTS = frozenset({Reason.DISABLED, Reason.OTHER_TRIGGER, Reason.OUTSIDE_WINDOW})


def _reads_money(paths: Iterable[str]) -> bool:
    return any(FIELDS[p].type is FieldType.MONEY for p in paths if p in FIELDS)


def _reads_amounts(campaign: Campaign) -> bool:
    """The campaign reads the order's amounts: a money condition, the margin guard or a cost."""
    return (
        campaign.margin_guard is not None
        or any(_reads_money(c.fields) for c in campaign.conditions)
        or any(depends_on_order_amounts(a) for a in campaign.actions)
    )


def _aware(moment: datetime) -> datetime:
    """A naive datetime is taken as UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def decide(
    config: ShopConfig,
    order: Order,
    *,
    event: EventKind,
    counters: Counters,
    now: datetime,
    code_secret: bytes,
    occurrence: str = "",
) -> Decision:
    """Decide every campaign of ``config`` for ``order`` on ``event``; see the module docstring.

    ``occurrence`` names one of several events of the same kind on one order (the refund id of
    a ``refund_created``); it makes the planned actions' keys and coupon codes its own.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware, e.g. datetime.now(timezone.utc)")
    pricing = price_order(order, config.settings)
    run = _Run(
        settings=config.settings,
        order=pricing.order,
        pricing=pricing,
        event=event,
        counters=counters,
        now=now,
        secret=code_secret,
        shop=config.settings.domain,
        key=customer_key(order),
        occurrence=occurrence,
    )
    campaigns = config.campaigns
    ranked = sorted(range(len(campaigns)), key=lambda i: (-campaigns[i].priority, i))
    results: dict[int, tuple[Outcome, list[PlannedAction]]] = {}
    for i in ranked:
        results[i] = run.decide(campaigns[i])
    outcomes = tuple(results[i][0] for i in range(len(campaigns)))
    actions = tuple(p for i in range(len(campaigns)) for p in results[i][1])
    return Decision(
        shop=run.shop,
        order_id=order.id,
        event=event,
        decided_at=now,
        outcomes=outcomes,
        actions=actions,
    )
