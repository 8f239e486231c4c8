"""The demo's report for the shop owner: per order what fired and what the customer sees.

Written in the shop's language (German or English, from ``shop.locale``), money and dates as the
shop's customers read them. Per order: the campaigns that fired, each with its description as the
sentence; the coupon codes with value, minimum order and expiry (and whether the shop has them);
the free gifts for the parcel; the blocks the confirmation page shows and where its preview is;
why the other campaigns stayed quiet; what the order cost. At the end a table per campaign: how
often it fired, its coupons, the cost booked and its budget. Technical detail (the engine's full
explanation, worker figures) is the demo's ``--verbose`` business, not this module's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from .content.formatting import Formatter
from .core.campaign import CouponKind, FreeGift, IssueCoupon, ShopConfig, ShowBlock
from .core.decision import Decision, PlannedAction, Reason
from .core.model import EventKind, Order
from .core.platform import CouponSpec, coupon_spec
from .demo_loyalty_facts import AccountFacts, LoyaltyFacts
from .demo_loyalty_report import account_lines, order_lines

__all__ = ["CouponLine", "OrderRun", "ShopRun", "coupon_lines", "shop_report", "shown_blocks"]

#: Lines of one screen: the report of one shop fits on two.
SCREEN_LINES = 40


@dataclass(frozen=True, slots=True)
class CouponLine:
    """One coupon an order earned: the campaign, the coupon as created, and whether the shop has
    it (``None``: not asked, the offline run)."""

    campaign_id: str
    spec: CouponSpec
    in_shop: bool | None = None


@dataclass(frozen=True, slots=True)
class OrderRun:
    """One example order file, decided (offline or by the live service)."""

    file: str
    order: Order
    event: EventKind
    #: ``None`` when the live service stored no decision for this order and event.
    decision: Decision | None
    coupons: tuple[CouponLine, ...] = ()
    #: Block types the confirmation page shows for the order (after this event).
    blocks: tuple[str, ...] = ()
    preview: str | None = None
    #: What the order did on the customer's points account (``None``: no loyalty program).
    loyalty: LoyaltyFacts | None = None


@dataclass(frozen=True, slots=True)
class ShopRun:
    config_path: Path
    config: ShopConfig
    orders: tuple[OrderRun, ...]
    #: The points accounts after the release at ``released_at`` (the approval period ended).
    accounts: tuple[AccountFacts, ...] = ()
    released_at: datetime | None = None


def coupon_lines(
    decision: Decision, order: Order, config: ShopConfig, *, in_shop: Iterable[str] | None = None
) -> tuple[CouponLine, ...]:
    """The coupons a decision issues, as the service creates them (``coupon_spec`` at the time
    of the decision). ``in_shop``: the codes the platform has (upper or lower case)."""
    codes = None if in_shop is None else {c.upper() for c in in_shop}
    out: list[CouponLine] = []
    for planned in decision.actions:
        if isinstance(planned.action, IssueCoupon) and planned.coupon_code:
            spec = coupon_spec(planned, order, config.settings, decision.decided_at)
            present = None if codes is None else spec.code.upper() in codes
            out.append(CouponLine(planned.campaign_id, spec, present))
    return tuple(out)


def shown_blocks(decision: Decision) -> tuple[str, ...]:
    """The blocks a decision asks for (the offline run's view of the page)."""
    return tuple(p.action.block for p in decision.actions if isinstance(p.action, ShowBlock))


# -- words ---------------------------------------------------------------------------------------

_TEXTS: dict[str, dict[str, str]] = {
    "de": {
        "shop": "{domain} ({platform}), Beispielbestellungen: {count}",
        "order": "Bestellung {number} ({file}): {event}, {total}, Stand {when}",
        "none_fired": "  Keine Kampagne ausgelöst.",
        "no_decision": "  Keine Entscheidung gespeichert.",
        "coupon": "    Gutschein {code}: {value}{minimum}, gültig bis {until}{shop}",
        "minimum": " ab {amount}",
        "in_shop": " – im Shop angelegt",
        "not_in_shop": " – FEHLT im Shop",
        "gift": "    Beigabe ins Paket: {note}",
        "quiet": "  Nicht dabei –",
        "page": "  Bestellbestätigung zeigt:",
        "nothing": "nichts von aftersale-kit",
        "preview": "Vorschau je Bestellung (Name wie die Datei): {path}",
        "cost": "  Kosten dieser Bestellung: {cost}",
        "table": "  {campaign:<22} {fired:>9} {coupons:>10} {cost:>12}  {budget}",
        "head_campaign": "Kampagne",
        "head_fired": "ausgelöst",
        "head_coupons": "Gutscheine",
        "head_cost": "Kosten",
        "head_budget": "Budget",
        "sum": "Summe",
        "never": "  Bei keiner Beispielbestellung ausgelöst:",
        "off": "{value} Rabatt",
        "free_shipping": "Gratisversand",
        "per": "{amount} pro {period}",
        "total_budget": "{amount} insgesamt",
    },
    "en": {
        "shop": "{domain} ({platform}), example orders: {count}",
        "order": "Order {number} ({file}): {event}, {total}, as of {when}",
        "none_fired": "  No campaign fired.",
        "no_decision": "  No decision stored.",
        "coupon": "    Coupon {code}: {value}{minimum}, valid until {until}{shop}",
        "minimum": " from {amount}",
        "in_shop": " – created in the shop",
        "not_in_shop": " – MISSING in the shop",
        "gift": "    Free gift in the parcel: {note}",
        "quiet": "  Did not fire –",
        "page": "  Confirmation page shows:",
        "nothing": "nothing from aftersale-kit",
        "preview": "Preview per order (named like its file): {path}",
        "cost": "  Cost of this order: {cost}",
        "table": "  {campaign:<22} {fired:>9} {coupons:>10} {cost:>12}  {budget}",
        "head_campaign": "Campaign",
        "head_fired": "fired",
        "head_coupons": "coupons",
        "head_cost": "cost",
        "head_budget": "budget",
        "sum": "Total",
        "never": "  Fired for no example order:",
        "off": "{value} off",
        "free_shipping": "free shipping",
        "per": "{amount} per {period}",
        "total_budget": "{amount} in total",
    },
}

_EVENTS = {
    "de": {
        EventKind.ORDER_CREATED: "bestellt",
        EventKind.ORDER_PAID: "bezahlt",
        EventKind.ORDER_FULFILLED: "versendet",
        EventKind.ORDER_CANCELLED: "storniert",
        EventKind.REFUND_CREATED: "erstattet",
    },
    "en": {
        EventKind.ORDER_CREATED: "placed",
        EventKind.ORDER_PAID: "paid",
        EventKind.ORDER_FULFILLED: "shipped",
        EventKind.ORDER_CANCELLED: "cancelled",
        EventKind.REFUND_CREATED: "refunded",
    },
}

_REASONS = {
    "de": {
        Reason.OUTSIDE_WINDOW: "außerhalb des Aktionszeitraums",
        Reason.CONDITION_FAILED: "Bedingung nicht erfüllt",
        Reason.FIELD_UNKNOWN: "Angabe fehlt",
        Reason.CUSTOMER_LIMIT: "Kunde hatte sie schon",
        Reason.COOLDOWN: "Abstand zur letzten noch zu kurz",
        Reason.USAGE_LIMIT: "Höchstzahl erreicht",
        Reason.BUDGET_EXHAUSTED: "Budget ausgeschöpft",
        Reason.MARGIN_GUARD: "Margenschutz",
        Reason.LOST_TO_PRIORITY: "andere Kampagne hatte Vorrang",
        Reason.CONTACT_LIMIT: "Kontaktgrenze erreicht",
        Reason.HOLDOUT: "Kontrollgruppe",
        Reason.NO_ACTIONS: "nichts zu tun",
    },
    "en": {
        Reason.OUTSIDE_WINDOW: "outside its dates",
        Reason.CONDITION_FAILED: "condition not met",
        Reason.FIELD_UNKNOWN: "data missing",
        Reason.CUSTOMER_LIMIT: "customer had it already",
        Reason.COOLDOWN: "too soon after the last one",
        Reason.USAGE_LIMIT: "limit reached",
        Reason.BUDGET_EXHAUSTED: "budget used up",
        Reason.MARGIN_GUARD: "margin guard",
        Reason.LOST_TO_PRIORITY: "another campaign came first",
        Reason.CONTACT_LIMIT: "contact limit reached",
        Reason.HOLDOUT: "control group",
        Reason.NO_ACTIONS: "nothing to do",
    },
}

_BLOCKS = {
    "de": {
        "coupon": "Gutschein",
        "free_gift": "Geschenk",
        "shipping": "Versand",
        "contact_person": "Ansprechpartner/in",
        "faq_contact": "FAQ & Kontakt",
        "thank_you": "Dankeschön",
        "social_follow": "Social Media",
        "newsletter": "Newsletter",
        "vip_presale": "VIP-Vorverkauf",
        "service_check": "Geräte-Check",
        "survey": "Umfrage",
        "loyalty_points": "Bonuspunkte",
        "loyalty_balance": "Punktestand",
        "loyalty_tier": "Kundenstufe",
        "stamp_card": "Sammelkarte",
    },
    "en": {
        "coupon": "coupon",
        "free_gift": "free gift",
        "shipping": "shipping",
        "contact_person": "contact person",
        "faq_contact": "FAQ & contact",
        "thank_you": "thank-you",
        "social_follow": "social media",
        "newsletter": "newsletter",
        "vip_presale": "VIP presale",
        "service_check": "service check",
        "survey": "survey",
        "loyalty_points": "points",
        "loyalty_balance": "balance",
        "loyalty_tier": "tier",
        "stamp_card": "stamp card",
    },
}

_PERIODS = {
    "de": {"day": "Tag", "week": "Woche", "month": "Monat", "quarter": "Quartal", "year": "Jahr"},
    "en": {"day": "day", "week": "week", "month": "month", "quarter": "quarter", "year": "year"},
}

#: Reasons not worth a word to the owner: the campaign was not meant for this event at all.
_SILENT = (Reason.FIRED, Reason.OTHER_TRIGGER, Reason.DISABLED)


class _Words:
    def __init__(self, config: ShopConfig) -> None:
        self.fmt = Formatter.create(order=None, settings=config.settings)
        self.lang = self.fmt.language if self.fmt.language in _TEXTS else "en"
        self.config = config

    def __call__(self, key: str, **values: object) -> str:
        return _TEXTS[self.lang][key].format(**values)

    def when(self, decision: Decision | None, order: Order) -> str:
        moment = self.fmt.local(decision.decided_at if decision else order.created_at)
        return f"{self.fmt.medium_date(moment.date())} {moment:%H:%M}"

    def coupon_value(self, spec: CouponSpec) -> str:
        if spec.kind is CouponKind.FREE_SHIPPING:
            return self("free_shipping")
        if spec.kind is CouponKind.PERCENTAGE:
            return self("off", value=self.fmt.percent(spec.value))
        return self("off", value=self.fmt.money(spec.value, spec.currency))

    def budget(self, campaign_id: str) -> str:
        campaign = next((c for c in self.config.campaigns if c.id == campaign_id), None)
        if campaign is None or campaign.budget is None:
            return "–"
        amount = self.fmt.money(campaign.budget.amount)
        period = campaign.budget.period.value
        if period == "total":
            return self("total_budget", amount=amount)
        return self("per", amount=amount, period=_PERIODS[self.lang].get(period, period))


def shop_report(run: ShopRun) -> list[str]:
    """The report of one shop, line by line."""
    words = _Words(run.config)
    settings = run.config.settings
    lines = [
        words(
            "shop",
            domain=settings.domain,
            platform=_platform_name(settings.platform),
            count=len(run.orders),
        )
    ]
    previews = sorted({str(Path(o.preview).parent) for o in run.orders if o.preview})
    if previews:
        lines.append(words("preview", path=", ".join(previews)))
    shown: dict[str, object] = {}
    for order_run in run.orders:
        lines.append("")
        # a later event of an order that changed nothing on its points: no second points line
        again = shown.get(order_run.order.id) == order_run.loyalty
        shown[order_run.order.id] = order_run.loyalty
        lines += _order_lines(order_run, words, points=not again)
    released = account_lines(run.accounts, run.config, at=run.released_at)
    if released:
        lines += ["", *released]
    lines.append("")
    lines += _table(run, words)
    return lines


def _platform_name(platform: str) -> str:
    return {"shopify": "Shopify", "woocommerce": "WooCommerce"}.get(platform, platform)


def _order_lines(run: OrderRun, words: _Words, *, points: bool = True) -> list[str]:
    order, decision = run.order, run.decision
    lines = [
        words(
            "order",
            number=order.number,
            file=run.file,
            event=_EVENTS[words.lang].get(run.event, run.event.value),
            when=words.when(decision, order),
            total=words.fmt.money(order.total),
        )
    ]
    if decision is None:
        return [*lines, words("no_decision")]
    lines += _fired_lines(run, decision, words)
    lines += _quiet_lines(decision, words)
    if points:
        lines += order_lines(run.loyalty, words.config)
    names = [_BLOCKS[words.lang].get(b, b) for b in run.blocks]
    items = [f"{name}," for name in names[:-1]] + names[-1:] or [words("nothing")]
    lines += _wrapped(words("page"), items)
    cost = sum((p.cost.amount for p in decision.actions), Decimal(0))
    if cost:
        lines.append(words("cost", cost=words.fmt.money(cost, words.config.settings.currency)))
    return lines


def _quiet_lines(decision: Decision, words: _Words) -> list[str]:
    """The campaigns that did not fire, grouped by why (those not meant for this event and the
    disabled ones are left out)."""
    by_reason: dict[Reason, list[str]] = {}
    for o in decision.outcomes:
        if not o.fired and o.reason not in _SILENT:
            by_reason.setdefault(o.reason, []).append(o.campaign_id)
    if not by_reason:
        return []
    tokens: list[str] = []
    for reason, ids in by_reason.items():
        group = [f"{i}," for i in ids[:-1]] + [f"{ids[-1]};"]
        group[0] = f"{_REASONS[words.lang].get(reason, reason.value)}: {group[0]}"
        tokens += group
    tokens[-1] = tokens[-1].rstrip(";")
    return _wrapped(words("quiet"), tokens)


def _fired_lines(run: OrderRun, decision: Decision, words: _Words) -> list[str]:
    fired = [o for o in decision.outcomes if o.fired]
    if not fired:
        return [words("none_fired")]
    campaigns = {c.id: c for c in words.config.campaigns}
    lines: list[str] = []
    for outcome in fired:
        campaign = campaigns.get(outcome.campaign_id)
        sentence = campaign.description if campaign and campaign.description else ""
        variant = f" [{outcome.variant}]" if outcome.variant else ""
        lines.append(f"  ✓ {outcome.campaign_id}{variant}: {sentence}".rstrip(": "))
        for coupon in run.coupons:
            if coupon.campaign_id == outcome.campaign_id:
                lines.append(_coupon_line(coupon, words))
        for planned in _actions(decision.actions, outcome.campaign_id, FreeGift):
            assert isinstance(planned.action, FreeGift)
            lines.append(words("gift", note=planned.action.note))
    return lines


def _actions(actions: Sequence[PlannedAction], campaign_id: str, kind: type) -> list[PlannedAction]:
    return [p for p in actions if p.campaign_id == campaign_id and isinstance(p.action, kind)]


def _coupon_line(coupon: CouponLine, words: _Words) -> str:
    spec = coupon.spec
    minimum = ""
    if spec.minimum_order is not None:
        minimum = words("minimum", amount=words.fmt.money(spec.minimum_order))
    until = words.fmt.medium_date(words.fmt.local(spec.ends_at).date()) if spec.ends_at else "–"
    shop = {None: "", True: words("in_shop"), False: words("not_in_shop")}[coupon.in_shop]
    return words(
        "coupon",
        code=spec.code,
        value=words.coupon_value(spec),
        minimum=minimum,
        until=until,
        shop=shop,
    )


def _wrapped(prefix: str, items: list[str], *, width: int = 100) -> list[str]:
    """``prefix`` and the items (each with its punctuation), wrapped at ``width`` and indented
    under the first item."""
    lines: list[str] = []
    current = prefix
    indent = " " * (len(prefix) + 1)
    for item in items:
        if current != prefix and len(current) + 1 + len(item) > width:
            lines.append(current)
            current = indent + item
        else:
            current += " " + item
    lines.append(current)
    return lines


def _table(run: ShopRun, words: _Words) -> list[str]:
    fired: dict[str, int] = {}
    coupons: dict[str, int] = {}
    cost: dict[str, Decimal] = {}
    for order_run in run.orders:
        if order_run.decision is None:
            continue
        for campaign_id in order_run.decision.fired:
            fired[campaign_id] = fired.get(campaign_id, 0) + 1
        for coupon in order_run.coupons:
            coupons[coupon.campaign_id] = coupons.get(coupon.campaign_id, 0) + 1
        for planned in order_run.decision.actions:
            cost[planned.campaign_id] = (
                cost.get(planned.campaign_id, Decimal(0)) + planned.cost.amount
            )
    currency = run.config.settings.currency
    row = _TEXTS[words.lang]["table"]
    lines = [
        row.format(
            campaign=words("head_campaign"),
            fired=words("head_fired"),
            coupons=words("head_coupons"),
            cost=words("head_cost"),
            budget=words("head_budget"),
        )
    ]
    for campaign in run.config.campaigns:
        if campaign.id not in fired:
            continue
        lines.append(
            row.format(
                campaign=campaign.id,
                fired=fired[campaign.id],
                coupons=coupons.get(campaign.id, 0),
                cost=words.fmt.money(cost.get(campaign.id, Decimal(0)), currency),
                budget=words.budget(campaign.id),
            )
        )
    lines.append(
        row.format(
            campaign=words("sum"),
            fired=sum(fired.values()),
            coupons=sum(coupons.values()),
            cost=words.fmt.money(sum(cost.values(), Decimal(0)), currency),
            budget="",
        ).rstrip()
    )
    never = [c.id for c in run.config.campaigns if c.enabled and c.id not in fired]
    if never:
        lines += _wrapped(words("never"), [f"{i}," for i in never[:-1]] + never[-1:])
    return lines
