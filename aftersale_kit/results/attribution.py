"""Redemptions joined to their campaigns and to the redeeming orders' value, net of refunds.

Pure: the records come in (from :class:`~aftersale_kit.storage.ports.ResultsReader`), the
figures go out. The rules (docs/results.md):

* **issued**: coupons created on the platform (or already used) in the range, by creation time;
  **redeemed**: redemptions in the range, by the redeeming order's time, once per (code,
  order) however often the order is delivered; **redemption rate**: of the codes issued in the
  range, the share redeemed so far.
* **discount cost**: the discounts the codes gave, except on redeeming orders taken back
  (cancelled or refunded in full: the cost was given back, as the budgets count it).
* **revenue** and **margin** of a redemption: the redeeming order's goods as paid for and their
  margin (:mod:`aftersale_kit.core.order_facts`); *gross* as redeemed, *net* less the refunded
  share of the goods (a full refund or a cancellation: nothing left). An order that used codes
  of two campaigns counts for each.
* **leak**: a redemption whose redeeming customer is known to be another one than the one the
  code was issued to: neither the customer id nor the normalised e-mail matches. A side with
  neither known is no leak (it cannot be told).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from ..core.order_facts import OrderFacts
from ..storage.records import CouponRecord, CouponStatus, RedemptionRecord
from .figures import CampaignPeriod, Leak

__all__ = [
    "Attributed",
    "Identity",
    "attribute",
    "cents",
    "identity",
    "is_leak",
    "issued_coupons",
    "period_of",
    "periods",
]

_ZERO = Decimal(0)
_CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Attributed:
    """One redemption with the redeeming order's value (zero when its facts are unknown)."""

    redemption: RedemptionRecord
    period: str
    discount_cost: Decimal
    revenue_gross: Decimal
    revenue_net: Decimal
    margin_gross: Decimal
    margin_net: Decimal
    leak: bool


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a customer is, as far as known: the platform id and the normalised e-mail."""

    customer_id: str | None
    email: str | None

    @property
    def known(self) -> bool:
        return self.customer_id is not None or self.email is not None


def identity(facts: OrderFacts | None, key: str | None) -> Identity:
    """A customer from the order's facts, else from the stored key (an id or ``email:...``)."""
    if facts is not None and (facts.customer_id or facts.email):
        return Identity(facts.customer_id, facts.email)
    if not key:
        return Identity(None, None)
    if key.startswith("email:"):
        return Identity(None, key.removeprefix("email:").strip().lower() or None)
    return Identity(key, None)


def is_leak(issued_to: Identity, redeemed_by: Identity) -> bool:
    """Both customers known and neither their ids nor their e-mails match."""
    if not (issued_to.known and redeemed_by.known):
        return False
    same_id = issued_to.customer_id is not None and issued_to.customer_id == (
        redeemed_by.customer_id
    )
    same_email = issued_to.email is not None and issued_to.email == redeemed_by.email
    return not (same_id or same_email)


def cents(amount: Decimal) -> Decimal:
    """Money as the results show it: rounded half up to the cent."""
    return amount.quantize(_CENT, ROUND_HALF_UP)


def period_of(moment: datetime, zone: ZoneInfo) -> str:
    """The month ``YYYY-MM`` of ``moment`` in the shop's time zone."""
    return moment.astimezone(zone).strftime("%Y-%m")


def issued_coupons(coupons: Iterable[CouponRecord]) -> list[CouponRecord]:
    """The coupons that exist on the platform (or were used): a planned or revoked coupon
    never created is not issued."""
    return [c for c in coupons if c.platform_id is not None or c.status is CouponStatus.USED]


def attribute(
    redemptions: Iterable[RedemptionRecord],
    facts: Mapping[str, OrderFacts],
    *,
    zone: ZoneInfo,
) -> list[Attributed]:
    """Each redemption with its redeeming order's value and whether it leaked (``facts``: the
    orders' facts by order id)."""
    out = []
    for r in redemptions:
        redeeming = facts.get(r.redeeming_order_id)
        issuing = facts.get(r.issuing_order_id)
        taken_back = r.reversed_at is not None
        gross = margin = net = margin_net = _ZERO
        if redeeming is not None:
            gross, margin = redeeming.net, redeeming.margin
            if not taken_back:
                net, margin_net = redeeming.net_after_refunds, redeeming.margin_after_refunds
        out.append(
            Attributed(
                redemption=r,
                period=period_of(r.redeemed_at, zone),
                discount_cost=_ZERO if taken_back else r.amount.amount,
                revenue_gross=gross,
                revenue_net=net,
                margin_gross=margin,
                margin_net=margin_net,
                leak=is_leak(
                    identity(issuing, r.issuing_customer_key),
                    identity(redeeming, r.redeeming_customer_key),
                ),
            )
        )
    return out


def leak_of(item: Attributed) -> Leak:
    """The :class:`Leak` a leaked redemption reports (who by the stored customer keys)."""
    r = item.redemption
    return Leak(
        campaign_id=r.campaign_id,
        code=r.code,
        issued_to=r.issuing_customer_key,
        redeemed_by=r.redeeming_customer_key,
        redeeming_order_id=r.redeeming_order_id,
        redeemed_at=r.redeemed_at,
    )


def periods(
    items: Sequence[Attributed], issued: Sequence[CouponRecord], *, zone: ZoneInfo
) -> tuple[CampaignPeriod, ...]:
    """One campaign's figures per month (months with an issue or a redemption), in order."""
    months = sorted({i.period for i in items} | {period_of(c.created_at, zone) for c in issued})
    out = []
    for month in months:
        mine = [i for i in items if i.period == month]
        out.append(
            CampaignPeriod(
                period=month,
                issued=sum(1 for c in issued if period_of(c.created_at, zone) == month),
                redeemed=len(mine),
                discount_cost=cents(sum((i.discount_cost for i in mine), _ZERO)),
                revenue_gross=cents(sum((i.revenue_gross for i in mine), _ZERO)),
                revenue_net=cents(sum((i.revenue_net for i in mine), _ZERO)),
                margin_gross=cents(sum((i.margin_gross for i in mine), _ZERO)),
                margin_net=cents(sum((i.margin_net for i in mine), _ZERO)),
            )
        )
    return tuple(out)
