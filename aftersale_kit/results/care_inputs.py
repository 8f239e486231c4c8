"""Care cost per customer from the store's records, against the margin earned on their orders.

A customer's care cost (:func:`customer_care_of`): the discounts their redeemed codes gave (not
on orders taken back), the booked cost of gift campaigns on their orders (campaigns that give
gifts and no coupon: their ledger cost is the gifts at cost, less what was taken back), and the
service checks sent to them (``service_reminder`` follow-ups) at ``shop.care.service_check_cost``
each. The margin: their orders' margin net of refunds (:mod:`aftersale_kit.core.order_facts`).
The share and its "too short" rule are :func:`.care.customer_care`'s, with
``shop.care.min_orders``. Not counted yet: points redeemed (their coupons' discounts count when
redeemed, as any code's).

When an order is being decided (``order=``), it counts as one of the customer's orders with the
codes of the shop it uses, before the step records them. Customers are told apart by the
engine's key (the customer id, else ``email:<address>``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import TypeVar
from zoneinfo import ZoneInfo

from ..core.campaign import FreeGift, IssueCoupon, ShopConfig, ShopSettings
from ..core.model import Order
from ..core.order_facts import OrderFacts, order_facts
from ..storage.order_facts import SERVICE_CHECK, CustomerHistory
from ..storage.ports import ResultsReader
from ..storage.records import RedemptionRecord
from .attribution import attribute, cents
from .care import care_figures as summed
from .care import customer_care
from .figures import CareFigures, CustomerCare

__all__ = ["TOP", "care_figures", "customer_care_of", "gift_campaigns"]

_ZERO = Decimal(0)
#: How many customers the figures list (the largest shares).
TOP = 10
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_T = TypeVar("_T")


def gift_campaigns(config: ShopConfig) -> frozenset[str]:
    """Campaigns whose booked cost is gifts: they give a gift and issue no coupon."""
    return frozenset(
        c.id
        for c in config.campaigns
        if any(isinstance(a, FreeGift) for a in c.actions)
        and not any(isinstance(a, IssueCoupon) for a in c.actions)
    )


def customer_care_of(
    store: ResultsReader,
    config: ShopConfig,
    customer_key: str,
    *,
    until: datetime,
    order: Order | None = None,
) -> CustomerCare:
    """One customer's care cost and share over what happened before ``until`` (and ``order``,
    the order being decided, see the module docstring)."""
    codes = [code for code, _ in order.code_discounts] if order is not None else []
    history = store.customer_history(
        config.settings.domain, customer_key, campaigns=gift_campaigns(config), codes=codes
    )
    return _from_history(customer_key, history, config.settings, until=until, order=order)


def _from_history(
    customer_key: str,
    history: CustomerHistory,
    settings: ShopSettings,
    *,
    until: datetime,
    order: Order | None = None,
) -> CustomerCare:
    current = order.id if order is not None else None
    facts: list[OrderFacts] = [
        f for f in history.facts if f.placed_at < until and f.order_id != current
    ]
    cost = _ZERO
    counted: set[str] = set()
    if order is not None:
        facts.append(order_facts(order, settings, refunds=order.refunds))
        for code, amount in order.code_discounts:
            counted.add(code.strip().lower())
            if code.strip().lower() in history.shop_codes:
                cost += amount.amount
    # the order's own redemptions recorded by an earlier delivery count unless counted above
    redeemed = [
        r
        for r in history.redemptions
        if r.redeemed_at < until
        and (r.redeeming_order_id != current or r.code.strip().lower() not in counted)
    ]
    by_id = {f.order_id: f for f in history.facts}
    cost += sum(
        (a.discount_cost for a in attribute(redeemed, by_id, zone=ZoneInfo(settings.timezone))),
        _ZERO,
    )
    cost += sum((e.cost for e in history.ledger if e.booked_at < until), _ZERO)
    if settings.service_check_cost is not None:
        checks = sum(1 for at in history.service_checks if at < until)
        cost += settings.service_check_cost * checks
    margin = cents(sum((f.margin_after_refunds for f in facts), _ZERO))
    return customer_care(
        customer_key, len(facts), cents(cost), margin, min_orders=settings.care_min_orders
    )


def care_figures(
    store: ResultsReader,
    config: ShopConfig,
    *,
    facts: Sequence[OrderFacts],
    redemptions: Sequence[RedemptionRecord],
    until: datetime,
    since: datetime,
) -> CareFigures:
    """Every customer with an order in ``[since, until)``, over their history up to ``until``
    (the same rule as :func:`customer_care_of`, from one read of each kind of record)."""
    settings = config.settings
    shop = settings.domain
    active = sorted(
        {f.customer_key for f in facts if f.customer_key and since <= f.placed_at < until}
    )
    gifts = gift_campaigns(config)
    entries = [e for e in store.ledger(shop) if e.campaign_id in gifts] if gifts else []
    checks: list[tuple[str | None, datetime]] = []
    if settings.service_check_cost is not None:
        sent = store.sent_messages(shop, kind=SERVICE_CHECK, since=_EPOCH)
        checks = [(m.customer_key, m.sent_at) for m in sent if m.sent_at is not None]
    by_customer = _grouped(facts, lambda f: f.customer_key)
    used = _grouped(redemptions, lambda r: r.redeeming_customer_key)
    booked = _grouped(entries, lambda e: e.customer_key)
    sent_to = _grouped(checks, lambda c: c[0])
    rows = []
    for key in active:
        assert key is not None
        history = CustomerHistory(
            facts=tuple(by_customer.get(key, ())),
            redemptions=tuple(used.get(key, ())),
            ledger=tuple(booked.get(key, ())),
            service_checks=tuple(at for _, at in sent_to.get(key, ())),
        )
        rows.append(_from_history(key, history, settings, until=until))
    return summed(rows, top=TOP, min_orders=settings.care_min_orders)


def _grouped(items: Iterable[_T], key: Callable[[_T], str | None]) -> dict[str, list[_T]]:
    out: dict[str, list[_T]] = {}
    for item in items:
        k = key(item)
        if k is not None:
            out.setdefault(k, []).append(item)
    return out
