"""The platform-neutral order model and the events built from it.

Values are frozen dataclasses; ids are strings (platform ids may exceed 2**53); money is
:class:`~aftersale_kit.core.money.Money`.

**Unknown is not empty.** Webhook payloads lack fields that rules use (an order's customer
without orders count or total spent, line items without product type, tags or collections; each
adapter's order reader says what its platform leaves out). Such a field is ``None``
(*unknown*) until an adapter fills it in, never ``0`` or ``()``. An empty tuple means "known to be
empty".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from .money import Money

__all__ = [
    "Address",
    "Customer",
    "EventKind",
    "FinancialStatus",
    "LineItem",
    "Order",
    "OrderEvent",
    "Presentment",
    "Refund",
    "RefundLine",
]


class FinancialStatus(StrEnum):
    """The order's payment state, normalised over both platforms."""

    PENDING = "pending"
    AUTHORIZED = "authorized"
    PAID = "paid"
    PARTIALLY_PAID = "partially_paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    VOIDED = "voided"
    CANCELLED = "cancelled"
    FAILED = "failed"
    UNKNOWN = "unknown"


class EventKind(StrEnum):
    """What happened to an order; a campaign's trigger is one of these."""

    ORDER_CREATED = "order_created"
    ORDER_PAID = "order_paid"
    ORDER_FULFILLED = "order_fulfilled"
    ORDER_CANCELLED = "order_cancelled"
    REFUND_CREATED = "refund_created"


@dataclass(frozen=True, slots=True)
class Address:
    country_code: str | None = None
    province_code: str | None = None
    city: str | None = None
    zip: str | None = None


@dataclass(frozen=True, slots=True)
class Customer:
    """The buyer with an account. Guest orders have no Customer (``Order.customer is None``)."""

    id: str
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    locale: str | None = None
    #: ``None``: unknown (not in the webhook, not fetched yet).
    tags: tuple[str, ...] | None = None
    #: Number of orders including this one; ``None``: unknown.
    orders_count: int | None = None
    #: Lifetime spend; ``None``: unknown.
    total_spent: Money | None = None
    accepts_marketing: bool | None = None
    #: What the shop's after-sales care of this customer has cost so far (redeemed discounts,
    #: gifts at cost, points redeemed, service checks), in the shop currency; from the service's
    #: own records, not the platform. ``None``: unknown (not looked up).
    care_cost: Money | None = None
    #: ``care_cost`` as a share of the margin earned on the customer's orders; ``None``: unknown,
    #: either not looked up or the history is too short to say (``care_cost_note`` says which).
    care_cost_share: Decimal | None = None
    #: Why ``care_cost_share`` is unknown, as an English clause for explanations ("the customer
    #: has 1 order, at least 3 are needed"); ``None`` when known or not looked up.
    care_cost_note: str | None = None


@dataclass(frozen=True, slots=True)
class LineItem:
    id: str
    title: str
    quantity: int
    unit_price: Money
    product_id: str | None = None
    variant_id: str | None = None
    sku: str | None = None
    vendor: str | None = None
    #: ``None``: unknown until enriched.
    product_type: str | None = None
    #: Product tags; ``None``: unknown until enriched.
    tags: tuple[str, ...] | None = None
    #: Collection handles or category slugs of the product; ``None``: unknown.
    categories: tuple[str, ...] | None = None
    gift_card: bool = False
    #: The discount allocated to this line (line and order-level discounts together, as the
    #: platform spread them), in the order currency; ``None``: the platform did not say.
    discount: Money | None = None

    @property
    def total(self) -> Money:
        return self.unit_price * self.quantity


@dataclass(frozen=True, slots=True)
class RefundLine:
    """A refunded quantity of one line item (``subtotal``: its merchandise value, if known)."""

    line_item_id: str
    quantity: int
    subtotal: Money | None = None


@dataclass(frozen=True, slots=True)
class Refund:
    """Money (and possibly goods) given back on an order; one per platform refund id.

    ``amount`` is the money refunded (shipping included); ``lines`` the refunded line items,
    ``None`` when the platform did not say (some carry only a refund's total), ``()`` for a
    money-only refund; ``shipping`` the refunded shipping, if known.
    """

    id: str
    amount: Money
    created_at: datetime | None = None
    lines: tuple[RefundLine, ...] | None = None
    shipping: Money | None = None


@dataclass(frozen=True, slots=True)
class Presentment:
    """The order's amounts in the currency the buyer saw and paid in, where that differs from
    the order currency (a platform's presentment currency and amounts). Content shows these;
    rules, budgets and margins never read them."""

    currency: str
    subtotal: Money
    total: Money
    discounts: Money
    shipping: Money
    tax: Money
    #: ``(line item id, unit price)`` in the presentment currency.
    unit_prices: tuple[tuple[str, Money], ...] = ()

    def unit_price(self, line_id: str) -> Money | None:
        for k, v in self.unit_prices:
            if k == line_id:
                return v
        return None


@dataclass(frozen=True, slots=True)
class Order:
    """One order, as both platforms describe it, in neutral terms."""

    platform: str
    shop: str
    id: str
    number: str
    currency: str
    created_at: datetime
    financial_status: FinancialStatus
    subtotal: Money
    total: Money
    discounts: Money
    shipping: Money
    tax: Money
    line_items: tuple[LineItem, ...] = ()
    customer: Customer | None = None
    email: str | None = None
    paid_at: datetime | None = None
    cancelled_at: datetime | None = None
    billing_address: Address | None = None
    shipping_address: Address | None = None
    shipping_method: str | None = None
    payment_gateway: str | None = None
    source: str | None = None
    discount_codes: tuple[str, ...] = ()
    note_attributes: tuple[tuple[str, str], ...] = ()
    tags: tuple[str, ...] = ()
    locale: str | None = None
    test: bool = False
    #: The refunds the order carries.
    refunds: tuple[Refund, ...] = ()
    #: What each discount code took off this order, in the order currency.
    code_discounts: tuple[tuple[str, Money], ...] = ()
    #: Platform-specific handles the adapters need (a global id, an order key, ...).
    platform_ref: tuple[tuple[str, str], ...] = field(default=())
    #: The buyer's currency and amounts when they differ from ``currency`` (where known).
    presentment: Presentment | None = None

    @property
    def is_guest(self) -> bool:
        return self.customer is None

    @property
    def billing_country(self) -> str | None:
        return self.billing_address.country_code if self.billing_address else None

    @property
    def shipping_country(self) -> str | None:
        return self.shipping_address.country_code if self.shipping_address else None

    def ref(self, key: str) -> str | None:
        """A platform handle by name, e.g. ``order.ref("gid")`` or ``order.ref("order_key")``."""
        for k, v in self.platform_ref:
            if k == key:
                return v
        return None

    def attribute(self, name: str) -> str | None:
        for k, v in self.note_attributes:
            if k == name:
                return v
        return None


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """Something happened to an order. ``dedupe_key`` is stable across redeliveries."""

    kind: EventKind
    order: Order
    dedupe_key: str
    occurred_at: datetime
