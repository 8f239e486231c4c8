"""The fields a condition may read, over the neutral :class:`~aftersale_kit.core.model.Order`.

Every name a shop owner writes in a condition must be one of :data:`FIELDS` (or an alias of one).
A field has a type, a description, whether it needs *enrichment* (an extra read from the platform,
because the webhook does not carry it) and how to read it. Which platform supplies which field
each platform declares (:attr:`~.platform_spec.PlatformSpec.fields`).

Names
    Canonical paths have a scope prefix: ``order.``, ``customer.``, ``line_items.``; ``first_order``
    stands alone. Every ``order.X`` may also be written as plain ``X`` (``subtotal`` is
    ``order.subtotal``); :data:`ALIASES` lists these. Names are matched case-insensitively.

Types
    ``money`` (compared by its amount in the shop currency, a Decimal), ``number`` (a count, Decimal
    or int), ``text``, ``yes/no``, ``text list`` and ``time`` (an aware datetime).

Missing values
    *Unknown* (``None`` in the model: not in the webhook, not fetched yet) makes a comparison
    unknown; the engine then does not fire the campaign and names the field. *Absent* (a value that
    does not exist for this order, e.g. the shipping country of an order without shipping address,
    or ``customer.orders_count`` of a guest order) is a value of its own: ``==``, ``<``,
    ``in`` and ``contains`` are false, ``!=``, ``not in`` and ``is empty`` are true.

Guests
    A guest order has no customer account: ``customer.is_guest`` is true, ``customer.tags`` is the
    empty list, ``customer.email`` and ``customer.locale`` come from the order, the account figures
    (``customer.id``, ``orders_count``, ``total_spent``, ``accepts_marketing``, ``care_cost``,
    ``care_cost_share``) are absent, and ``first_order`` is false (a guest cannot be recognised as
    a returning customer, so the shop does not pay a first-order incentive to every guest).

From the service's records
    ``customer.care_cost`` and ``customer.care_cost_share`` (:attr:`FieldSpec.from_records`) are
    not the platform's: the service sums them from what it recorded (redemptions, gifts, points,
    service checks) and fills them in like an enrichment, on every platform. They are unknown
    until filled in, and the share stays unknown while the customer's history is too short (the
    explanation gives the reason the service noted, ``Customer.care_cost_note``). Explanations
    name their values, which the shop owner cannot look up in the shop's admin.

Line items
    ``line_items.*`` fields belong to one line item and are only valid inside ``any``, ``all`` or
    ``none`` (see :mod:`aftersale_kit.core.conditions`).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum
from operator import attrgetter
from typing import Any, Final

from .model import LineItem, Order

__all__ = [
    "ABSENT",
    "ALIASES",
    "FIELDS",
    "FieldSpec",
    "FieldType",
    "canonical_name",
    "suggest_field",
]


class FieldType(StrEnum):
    MONEY = "money"
    NUMBER = "number"
    TEXT = "text"
    BOOL = "yes/no"
    TEXT_LIST = "text list"
    DATETIME = "time"


class _Absent:
    """The value of a field that does not exist for this order (see the module docstring)."""

    _instance: _Absent | None = None

    def __new__(cls) -> _Absent:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Final = _Absent()

Getter = Callable[[Any], object]


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field conditions may read."""

    path: str
    type: FieldType
    description: str
    #: Not in the webhook payload: an adapter must fetch it before the field is known.
    needs_enrichment: bool
    #: Reads the value from an Order (or a LineItem for ``line_items.*``). Money is returned as its
    #: amount (Decimal); ``None`` means unknown, :data:`ABSENT` means absent.
    getter: Getter = field(default=lambda _: None, repr=False, compare=False)
    #: The getter may return ``None`` (unknown).
    may_be_unknown: bool = False
    #: The getter may return :data:`ABSENT`.
    may_be_absent: bool = False
    #: Canonical paths of the data the field is made from (itself unless derived).
    reads: frozenset[str] = frozenset()
    #: For fields that may be absent but never unknown: reads the value with ``None`` for absent
    #: (cheaper where ``None`` behaves like ABSENT, as in ``==`` and ``in``).
    none_getter: Getter | None = field(default=None, repr=False, compare=False)
    #: Filled in by the service from its own records (the store), not by the platform: available
    #: on every platform, and an explanation names its value (the shop owner cannot look it up
    #: in the shop's admin).
    from_records: bool = False
    #: Says why the value is unknown for this order (a clause, or ``None`` when it cannot say).
    unknown_note: Getter | None = field(default=None, repr=False, compare=False)

    @property
    def per_item(self) -> bool:
        """A field of one line item (only valid inside ``any``/``all``/``none``)."""
        return self.path.startswith("line_items.")

    @property
    def source_fields(self) -> frozenset[str]:
        return self.reads or frozenset({self.path})


# -- getters ------------------------------------------------------------------------------------


#: The plain attribute reader behind each getter made by :func:`_opt` (None for absent).
_RAW: dict[Getter, Getter] = {}


def _opt(name: str) -> Getter:
    """An optional attribute (of an Order or a LineItem): ``None`` there means absent."""
    get = attrgetter(name)

    def getter(o: object) -> object:
        v = get(o)
        return ABSENT if v is None else v

    _RAW[getter] = get
    return getter


def _customer(name: str) -> Getter:
    """A customer-account attribute: absent for guests, ``None`` (unknown) stays ``None``."""
    get = attrgetter(name)

    def getter(o: Order) -> object:
        c = o.customer
        return ABSENT if c is None else get(c)

    return getter


def _customer_total_spent(o: Order) -> object:
    c = o.customer
    if c is None:
        return ABSENT
    spent = c.total_spent
    return None if spent is None else spent.amount


def _customer_tags(o: Order) -> object:
    c = o.customer
    return () if c is None else c.tags


def _customer_email(o: Order) -> object:
    c = o.customer
    email = (c.email if c is not None else None) or o.email
    return email.lower() if email else ABSENT


def _order_email(o: Order) -> object:
    return o.email.lower() if o.email else ABSENT


def _customer_locale(o: Order) -> object:
    c = o.customer
    locale = (c.locale if c is not None else None) or o.locale
    return locale if locale else ABSENT


def _customer_id(o: Order) -> object:
    c = o.customer
    return ABSENT if c is None else c.id


def _customer_care_cost(o: Order) -> object:
    c = o.customer
    if c is None:
        return ABSENT
    cost = c.care_cost
    return None if cost is None else cost.amount


def _care_cost_note(o: Order) -> object:
    c = o.customer
    return None if c is None else c.care_cost_note


def _is_guest(o: Order) -> object:
    return o.customer is None


def _first_order(o: Order) -> object:
    c = o.customer
    if c is None:
        return False
    n = c.orders_count
    return None if n is None else n == 1


def _item_count(o: Order) -> object:
    return sum(li.quantity for li in o.line_items)


def _line_total(li: LineItem) -> object:
    return li.unit_price.amount * Decimal(li.quantity)


# -- the registry -------------------------------------------------------------------------------

_M, _N, _T, _B, _L, _D = (
    FieldType.MONEY,
    FieldType.NUMBER,
    FieldType.TEXT,
    FieldType.BOOL,
    FieldType.TEXT_LIST,
    FieldType.DATETIME,
)

_SPECS: tuple[FieldSpec, ...] = (
    # order
    FieldSpec("order.subtotal", _M, "Sum of the line items after line discounts, before shipping "
              "and tax.", False, attrgetter("subtotal.amount")),
    FieldSpec("order.total", _M, "What the customer paid, with shipping and tax.", False,
              attrgetter("total.amount")),
    FieldSpec("order.discounts", _M, "Total discount granted on the order.", False,
              attrgetter("discounts.amount")),
    FieldSpec("order.shipping", _M, "Shipping charged.", False,
              attrgetter("shipping.amount")),
    FieldSpec("order.tax", _M, "Tax on the order.", False, attrgetter("tax.amount")),
    FieldSpec("order.currency", _T, "ISO 4217 code of the order currency, e.g. \"EUR\".", False,
              attrgetter("currency")),
    FieldSpec("order.shipping_country", _T, "ISO country code of the shipping address, e.g. "
              "\"DE\"; absent without shipping address.", False,
              _opt("shipping_country"), may_be_absent=True),
    FieldSpec("order.billing_country", _T, "ISO country code of the billing address.", False,
              _opt("billing_country"), may_be_absent=True),
    FieldSpec("order.payment_gateway", _T, "Payment method, as the platform names it (e.g. "
              "\"paypal\").", False, _opt("payment_gateway"), may_be_absent=True),
    FieldSpec("order.source", _T, "Where the order came from, as the platform names its "
              "channels (e.g. \"web\", \"pos\", \"checkout\").", False,
              _opt("source"), may_be_absent=True),
    FieldSpec("order.shipping_method", _T, "Title of the shipping method.", False,
              _opt("shipping_method"), may_be_absent=True),
    FieldSpec("order.financial_status", _T, "Payment state: pending, authorized, paid, "
              "partially_paid, partially_refunded, refunded, voided, cancelled, failed.", False,
              attrgetter("financial_status")),
    FieldSpec("order.discount_codes", _L, "Discount codes used on the order (exact spelling).",
              False, attrgetter("discount_codes")),
    FieldSpec("order.tags", _L, "Order tags.", False,
              attrgetter("tags")),
    FieldSpec("order.item_count", _N, "Number of items: the sum of the line-item quantities.",
              False, _item_count),
    FieldSpec("order.locale", _T, "Language of the checkout, e.g. \"de\".", False,
              _opt("locale"), may_be_absent=True),
    FieldSpec("order.email", _T, "E-mail address on the order, lower case.", False,
              _order_email, may_be_absent=True),
    FieldSpec("order.test", _B, "A test order (the platform's test mode).",
              False, attrgetter("test")),
    FieldSpec("order.created_at", _D, "When the order was placed.", False,
              attrgetter("created_at")),
    FieldSpec("order.paid_at", _D, "When the order was paid; absent while unpaid.", False,
              _opt("paid_at"), may_be_absent=True),
    # customer
    FieldSpec("customer.id", _T, "The customer account id; absent for guests.", False,
              _customer_id, may_be_absent=True),
    FieldSpec("customer.email", _T, "The customer's e-mail address, lower case (the order's for "
              "guests).", False, _customer_email, may_be_absent=True),
    FieldSpec("customer.locale", _T, "The customer's language (the order's for guests).", False,
              _customer_locale, may_be_absent=True),
    FieldSpec("customer.is_guest", _B, "The order was placed without a customer account.", False,
              _is_guest),
    FieldSpec("customer.orders_count", _N, "Number of orders of the customer, this one included.",
              True, _customer("orders_count"), may_be_unknown=True, may_be_absent=True),
    FieldSpec("customer.total_spent", _M, "What the customer has spent in the shop so far.", True,
              _customer_total_spent, may_be_unknown=True, may_be_absent=True),
    FieldSpec("customer.tags", _L, "Customer tags such as \"vip\" (empty for guests).", True,
              _customer_tags, may_be_unknown=True),
    FieldSpec("customer.accepts_marketing", _B, "The customer agreed to marketing e-mails.", False,
              _customer("accepts_marketing"), may_be_unknown=True,
              may_be_absent=True),
    FieldSpec("customer.care_cost", _M, "What the shop's after-sales care of the customer has "
              "cost so far: redeemed discounts, gifts at cost, points redeemed, service checks "
              "(from the service's records).", True, _customer_care_cost, may_be_unknown=True,
              may_be_absent=True, from_records=True),
    FieldSpec("customer.care_cost_share", _N, "The customer's care cost as a share of the margin "
              "earned on their orders (0.25 is a quarter); unknown while their history is too "
              "short (from the service's records).", True, _customer("care_cost_share"),
              may_be_unknown=True, may_be_absent=True, from_records=True,
              unknown_note=_care_cost_note),
    FieldSpec("first_order", _B, "This is the customer's first order (orders_count is 1); false "
              "for guests.", True, _first_order, may_be_unknown=True,
              reads=frozenset({"customer.orders_count"})),
    # line items
    FieldSpec("line_items.title", _T, "Product title.", False, attrgetter("title")),
    FieldSpec("line_items.sku", _T, "Stock keeping unit.", False, _opt("sku"),
              may_be_absent=True),
    FieldSpec("line_items.vendor", _T, "Product vendor.", False,
              _opt("vendor"), may_be_absent=True),
    FieldSpec("line_items.product_type", _T, "Product type, e.g. \"Kaffee\".", True,
              attrgetter("product_type"), may_be_unknown=True),
    FieldSpec("line_items.tags", _L, "Product tags.", True, attrgetter("tags"),
              may_be_unknown=True),
    FieldSpec("line_items.categories", _L, "The collections or categories of the product (their "
              "handles or slugs).", True, attrgetter("categories"), may_be_unknown=True),
    FieldSpec("line_items.product_id", _T, "Product id.", False, _opt("product_id"),
              may_be_absent=True),
    FieldSpec("line_items.variant_id", _T, "Variant (variation) id.", False,
              _opt("variant_id"), may_be_absent=True),
    FieldSpec("line_items.quantity", _N, "Quantity.", False, attrgetter("quantity")),
    FieldSpec("line_items.price", _M, "Unit price.", False,
              attrgetter("unit_price.amount")),
    FieldSpec("line_items.total", _M, "Unit price times quantity.", False, _line_total),
    FieldSpec("line_items.gift_card", _B, "The line item is a gift card.", False,
              attrgetter("gift_card")),
)  # fmt: skip

FIELDS: Mapping[str, FieldSpec] = {
    spec.path: replace(spec, none_getter=_RAW.get(spec.getter)) for spec in _SPECS
}

#: Short names: every ``order.X`` may be written as ``X``.
ALIASES: Mapping[str, str] = {
    path.removeprefix("order."): path for path in FIELDS if path.startswith("order.")
}


def canonical_name(name: str) -> str | None:
    """The canonical path of a name as written (any case, alias or full path); None if unknown."""
    low = name.lower()
    if low in FIELDS:
        return low
    return ALIASES.get(low)


def suggest_field(name: str) -> str | None:
    """The closest known field name to a misspelt one, or None."""
    choices = [*FIELDS, *ALIASES]
    close = difflib.get_close_matches(name.lower(), choices, n=1, cutoff=0.6)
    return close[0] if close else None
