"""The platform port: what the product needs from a shop platform, in neutral terms.

An adapter (a built-in one or a third party's) implements :class:`Platform` and is built by
``from_settings(settings, *, secrets=...)`` (:class:`PlatformFactory`). The web service and the
worker speak only to this port; the values passing through it are defined here:

* :class:`IncomingWebhook` - a verified delivery: which :class:`WebhookKind`, which shop, a
  ``dedupe_key`` stable across redeliveries, and the neutral :class:`~.model.Order` if the body
  carried one; :class:`WebhookEnvelope` is the light version for the intake's request path
  (signature checked, no order built);
* :class:`CouponSpec` - everything an adapter needs to create one coupon, built by the pure
  :func:`coupon_spec` from the engine's :class:`~.decision.PlannedAction`; :class:`CouponRef`
  is the answer (``created`` is ``False`` when the coupon already existed: idempotent success);
* :class:`ConfirmationContent` - the blocks (JSON), HTML and text stored on an order for the
  thank-you / order-status page;
* :class:`CustomerLoyalty` - a customer's points and tier, kept on the platform for the theme
  (:func:`platform_customer_id`: a guest's loyalty account has no customer to write to);
* :func:`staff_note` - the line an adapter writes for the shop's staff (a free gift to pack),
  ending in :func:`note_marker`, by which a repeat recognises the note it already wrote.

Every method of an adapter raises only :mod:`aftersale_kit.core.errors` types:
:class:`~.errors.SignatureError`, :class:`~.errors.MalformedWebhookError`,
:class:`~.errors.UnknownTopicError` from :meth:`Platform.verify_webhook`;
:class:`~.errors.NotAuthorizedError`, :class:`~.errors.NotFoundError`,
:class:`~.errors.RateLimitedError`, :class:`~.errors.PlatformUnavailableError`,
:class:`~.errors.InvalidRequestError` from the calls. Messages never contain secrets.

Pure: standard library only, no I/O.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from .campaign import CouponKind, IssueCoupon, ShopSettings
from .decision import PlannedAction
from .fields import FIELDS
from .loyalty.customer import CustomerLoyalty, platform_customer_id
from .model import EventKind, Order, OrderEvent, Refund
from .money import Money

__all__ = [
    "CUSTOMER_ORDERS_COUNT",
    "CUSTOMER_TAGS",
    "CUSTOMER_TOTAL_SPENT",
    "ENRICHABLE_FIELDS",
    "LINE_ITEMS_CATEGORIES",
    "LINE_ITEMS_PRODUCT_TYPE",
    "LINE_ITEMS_TAGS",
    "ConfirmationContent",
    "CouponRef",
    "CouponSpec",
    "CustomerLoyalty",
    "IncomingWebhook",
    "ListedOrder",
    "MarketingConsent",
    "OrderHistory",
    "OrderPage",
    "Platform",
    "PlatformFactory",
    "WebhookEnvelope",
    "WebhookKind",
    "WebhookSubscription",
    "coupon_spec",
    "note_marker",
    "platform_customer_id",
    "source_fields",
    "staff_note",
    "unknown_fields",
]

# -- enrichment fields ------------------------------------------------------------------------

#: Condition fields that webhook payloads lack and adapters fetch on request (``None`` in the
#: order until then). The names are the condition field paths.
CUSTOMER_ORDERS_COUNT = "customer.orders_count"
CUSTOMER_TOTAL_SPENT = "customer.total_spent"
CUSTOMER_TAGS = "customer.tags"
LINE_ITEMS_PRODUCT_TYPE = "line_items.product_type"
LINE_ITEMS_TAGS = "line_items.tags"
LINE_ITEMS_CATEGORIES = "line_items.categories"

ENRICHABLE_FIELDS: frozenset[str] = frozenset(
    {
        CUSTOMER_ORDERS_COUNT,
        CUSTOMER_TOTAL_SPENT,
        CUSTOMER_TAGS,
        LINE_ITEMS_PRODUCT_TYPE,
        LINE_ITEMS_TAGS,
        LINE_ITEMS_CATEGORIES,
    }
)

_CUSTOMER_ATTR = {
    CUSTOMER_ORDERS_COUNT: "orders_count",
    CUSTOMER_TOTAL_SPENT: "total_spent",
    CUSTOMER_TAGS: "tags",
}
_LINE_ATTR = {
    LINE_ITEMS_PRODUCT_TYPE: "product_type",
    LINE_ITEMS_TAGS: "tags",
    LINE_ITEMS_CATEGORIES: "categories",
}


def source_fields(fields: frozenset[str]) -> frozenset[str]:
    """Condition fields with derived ones replaced by what they are made from
    (``first_order`` -> ``customer.orders_count``)."""
    out: set[str] = set()
    for name in fields:
        spec = FIELDS.get(name)
        out |= spec.source_fields if spec is not None else {name}
    return frozenset(out)


def unknown_fields(order: Order, fields: frozenset[str]) -> frozenset[str]:
    """The requested enrichable fields that are still unknown (``None``) in ``order``.

    Derived fields count as their sources (:func:`source_fields`); fields that are not
    enrichable are ignored. A guest order has no customer to enrich, and an order without line
    items no line fields, so those come back empty: nothing to fetch.
    """
    missing: set[str] = set()
    for name in source_fields(fields) & ENRICHABLE_FIELDS:
        if name in _CUSTOMER_ATTR:
            if order.customer is not None and getattr(order.customer, _CUSTOMER_ATTR[name]) is None:
                missing.add(name)
        elif any(getattr(li, _LINE_ATTR[name]) is None for li in order.line_items):
            missing.add(name)
    return frozenset(missing)


# -- webhooks ---------------------------------------------------------------------------------


class WebhookKind(StrEnum):
    """What a verified webhook is about.

    The first five have the values of :class:`~.model.EventKind` and carry an order (or its id);
    ``ORDER_UPDATED`` is an order change that triggers no campaign (e.g. a platform's
    ``order.updated`` while still pending). The rest are not about one order.
    """

    ORDER_CREATED = "order_created"
    ORDER_PAID = "order_paid"
    ORDER_FULFILLED = "order_fulfilled"
    ORDER_CANCELLED = "order_cancelled"
    REFUND_CREATED = "refund_created"
    ORDER_UPDATED = "order_updated"
    APP_UNINSTALLED = "app_uninstalled"
    CUSTOMERS_DATA_REQUEST = "customers_data_request"
    CUSTOMERS_REDACT = "customers_redact"
    SHOP_REDACT = "shop_redact"
    PING = "ping"

    @property
    def event_kind(self) -> EventKind | None:
        """The campaign trigger this webhook stands for, ``None`` if it is none."""
        try:
            return EventKind(self.value)
        except ValueError:
            return None


@dataclass(frozen=True, slots=True)
class IncomingWebhook:
    """A webhook whose signature was verified, in neutral terms.

    ``order`` is set when the body is an order; ``order_id`` is set whenever the webhook is about
    one order, also when the body is not the order itself (a refund): then the caller
    fetches the order (:meth:`Platform.fetch_order`) when it needs it.
    """

    platform: str
    #: The platform's own topic name, e.g. ``orders/paid`` or ``order.updated``.
    topic: str
    kind: WebhookKind
    shop: str
    #: Stable across redeliveries of the same platform event; namespaced by platform and shop.
    dedupe_key: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    order: Order | None = None
    order_id: str | None = None
    #: When the platform says the event happened (``None``: it did not say).
    occurred_at: datetime | None = None
    #: The platform's id of this one delivery (differs between redeliveries), for logs.
    delivery_id: str | None = None
    #: The received headers that matter for the record (lower-case names, no signatures).
    headers: tuple[tuple[str, str], ...] = ()
    #: The refund, when the body is one rather than the order.
    refund: Refund | None = None

    @property
    def event_kind(self) -> EventKind | None:
        return self.kind.event_kind

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        for k, v in self.headers:
            if k == wanted:
                return v
        return None

    def order_event(self, *, now: datetime | None = None) -> OrderEvent | None:
        """The :class:`~.model.OrderEvent` for the engine, if this webhook carries an order event.

        ``occurred_at`` falls back to ``now`` (required then) when the platform sent no time.
        """
        kind = self.event_kind
        if kind is None or self.order is None:
            return None
        occurred = self.occurred_at or now
        if occurred is None:
            raise ValueError("the webhook carries no event time: pass now=")
        return OrderEvent(
            kind=kind, order=self.order, dedupe_key=self.dedupe_key, occurred_at=occurred
        )


@dataclass(frozen=True, slots=True)
class WebhookEnvelope:
    """What the intake needs to store a delivery: the signature was verified and the body is
    the topic's JSON, but no :class:`~.model.Order` was built (the worker verifies the stored
    raw body again with :meth:`Platform.verify_webhook` and works with that)."""

    platform: str
    topic: str
    kind: WebhookKind
    shop: str
    dedupe_key: str
    order_id: str | None = None

    @classmethod
    def of(cls, webhook: IncomingWebhook) -> WebhookEnvelope:
        """The envelope of a fully verified webhook (for adapters without a cheaper way)."""
        return cls(
            platform=webhook.platform,
            topic=webhook.topic,
            kind=webhook.kind,
            shop=webhook.shop,
            dedupe_key=webhook.dedupe_key,
            order_id=webhook.order_id,
        )


# -- coupons ----------------------------------------------------------------------------------

_TITLE_MAX = 255


@dataclass(frozen=True, slots=True)
class WebhookSubscription:
    """One webhook subscription on the platform: its platform id, the topic as the platform
    names it (``ORDERS_PAID``, ``order.updated``), where it delivers, and whether it does
    (a platform may disable a subscription after repeated failures)."""

    id: str
    topic: str
    address: str
    active: bool = True


@dataclass(frozen=True, slots=True)
class CouponSpec:
    """One coupon to create on the platform. ``value`` is a percent (0 < v <= 100) for
    ``PERCENTAGE``, an amount in ``currency`` for ``FIXED_AMOUNT``, 0 for ``FREE_SHIPPING``."""

    code: str
    kind: CouponKind
    value: Decimal
    currency: str
    #: A merchant-readable title; also how an adapter recognises its own coupon on a code clash.
    title: str
    starts_at: datetime
    ends_at: datetime | None = None
    minimum_order: Money | None = None
    #: Total redemptions (``None``: unlimited).
    usage_limit: int | None = None
    once_per_customer: bool = False
    #: Restrict to this platform customer (``None``: anyone, e.g. a guest order's coupon).
    customer_id: str | None = None
    #: Restrict to this e-mail address (for platforms that restrict by e-mail).
    email: str | None = None
    product_ids: tuple[str, ...] = ()
    #: Collection handles / category slugs.
    collections: tuple[str, ...] = ()
    #: The order the coupon was earned with, and the engine's idempotency key.
    order_id: str | None = None
    idempotency_key: str | None = None

    def __post_init__(self) -> None:
        if not self.code.strip():
            raise ValueError("a coupon needs a code")
        if self.starts_at.tzinfo is None or (self.ends_at and self.ends_at.tzinfo is None):
            raise ValueError("coupon start and end must be timezone-aware datetimes")
        if self.ends_at is not None and self.ends_at <= self.starts_at:
            raise ValueError("a coupon must end after it starts")
        if self.kind is CouponKind.PERCENTAGE and not Decimal(0) < self.value <= Decimal(100):
            raise ValueError(f"a percentage coupon needs 0 < value <= 100, got {self.value}")
        if self.kind is CouponKind.FIXED_AMOUNT and self.value <= 0:
            raise ValueError(f"a fixed-amount coupon needs a positive value, got {self.value}")
        if self.usage_limit is not None and self.usage_limit < 1:
            raise ValueError("usage_limit must be at least 1 (None: unlimited)")


@dataclass(frozen=True, slots=True)
class CouponRef:
    """A coupon on the platform. ``created`` is ``False`` when it already existed."""

    platform_id: str
    code: str
    created: bool


def coupon_spec(
    planned: PlannedAction, order: Order, settings: ShopSettings, now: datetime
) -> CouponSpec:
    """The coupon for an ``issue_coupon`` action of the engine's decision (pure).

    The code is the engine's deterministic ``planned.coupon_code``; the coupon starts at ``now``
    (timezone-aware) and ends ``valid_days`` later. A single-use coupon gets ``usage_limit`` 1
    and once-per-customer. ``restrict_to_email`` restricts it to the order's customer where the
    order has one, and to the order's e-mail address where the platform restricts by e-mail.
    """
    action = planned.action
    if not isinstance(action, IssueCoupon):
        raise ValueError(
            f"campaign {planned.campaign_id!r}: action {type(action).__name__} is not issue_coupon"
        )
    if not planned.coupon_code:
        raise ValueError(
            f"campaign {planned.campaign_id!r}: the planned coupon has no code "
            f"(idempotency key {planned.idempotency_key!r})"
        )
    if now.tzinfo is None:
        raise ValueError("now must be a timezone-aware datetime")
    currency = settings.currency.upper()
    email = order.email or (order.customer.email if order.customer else None)
    title = f"aftersale-kit {planned.campaign_id} · order {order.number}"[:_TITLE_MAX]
    return CouponSpec(
        code=planned.coupon_code,
        kind=action.kind,
        value=Decimal(0) if action.kind is CouponKind.FREE_SHIPPING else action.value,
        currency=currency,
        title=title,
        starts_at=now,
        ends_at=now + timedelta(days=action.valid_days),
        minimum_order=(
            Money(action.minimum_order, currency) if action.minimum_order is not None else None
        ),
        usage_limit=1 if action.single_use else None,
        once_per_customer=action.single_use,
        customer_id=(
            order.customer.id if action.restrict_to_email and order.customer is not None else None
        ),
        email=email if action.restrict_to_email else None,
        product_ids=action.product_ids,
        collections=action.collections,
        order_id=order.id,
        idempotency_key=planned.idempotency_key,
    )


# -- confirmation content ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConfirmationContent:
    """What the thank-you / order-status page shows for one order.

    ``blocks`` are the rendered blocks as JSON objects (``{"type": "coupon", ...}``) for pages that
    render natively (checkout UI extensions that accept no raw HTML); ``html`` and ``text`` are the
    same content rendered for pages and e-mails that take markup.
    """

    blocks: tuple[Mapping[str, Any], ...] = ()
    html: str = ""
    text: str = ""
    locale: str | None = None
    version: int = 1

    def to_json_value(self) -> dict[str, Any]:
        """The blocks document as stored on the platform (JSON-serialisable)."""
        return {
            "version": self.version,
            "locale": self.locale,
            "blocks": [dict(b) for b in self.blocks],
        }

    def blocks_json(self) -> str:
        """:meth:`to_json_value` as compact JSON; Decimals and dates become strings."""
        return json.dumps(
            self.to_json_value(),
            ensure_ascii=False,
            separators=(",", ":"),
            sort_keys=True,
            default=str,
        )


# -- staff notes ------------------------------------------------------------------------------


def note_marker(key: str) -> str:
    """The mark that ends a staff note written for ``key`` (an action's idempotency key): short
    and stable, so a retry finds the note it wrote and never writes it twice. The key itself
    (shop, order, campaign) would be noise for whoever packs the parcel; ten hex digits of its
    SHA-256 keep notes of one order apart."""
    if not key.strip():
        raise ValueError("a staff note needs its idempotency key")
    return f"[aftersale-kit {hashlib.sha256(key.encode('utf-8')).hexdigest()[:10]}]"


def staff_note(text: str, key: str) -> str:
    """The line written for the staff: ``text`` (one line) and its :func:`note_marker`."""
    line = " ".join(text.split())
    if not line:
        raise ValueError("a staff note needs a text")
    return f"{line} {note_marker(key)}"


# -- the port ---------------------------------------------------------------------------------


@runtime_checkable
class Platform(Protocol):
    """One shop on one platform. Implementations are safe to use from several threads."""

    @property
    def name(self) -> str:
        """The platform's name, as its spec declares it."""
        ...

    @property
    def supported_fields(self) -> frozenset[str]:
        """Condition fields this platform can provide for its orders (incl. by enrichment)."""
        ...

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> IncomingWebhook:
        """Check the signature over the raw ``body`` and parse the delivery. No network call.

        Raises SignatureError (missing/wrong signature, or another shop's delivery),
        MalformedWebhookError (body not JSON or not the shape of its topic),
        UnknownTopicError (a topic the product does not handle; the caller acknowledges it).
        """
        ...

    def peek_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEnvelope:
        """:meth:`verify_webhook` without building the order: the same signature, shop and
        topic checks and errors, the same ``dedupe_key`` and ``order_id``; the body is only
        checked to be the topic's JSON object (its fields are checked by ``verify_webhook``).
        For the intake's request path. No network call.
        """
        ...

    def fetch_order(self, order_id: str, *, enrich: frozenset[str] = frozenset()) -> Order:
        """Read one order (NotFoundError if absent), with the requested fields filled in."""
        ...

    def enrich(self, order: Order, fields: frozenset[str]) -> Order:
        """``order`` with the requested fields that are unknown in it filled in.

        Makes no call when nothing requested is unknown; fields it cannot provide stay ``None``.
        """
        ...

    def create_coupon(self, spec: CouponSpec) -> CouponRef:
        """Create the coupon; idempotent by code (the same coupon exists: ``created=False``)."""
        ...

    def deactivate_coupon(self, code: str) -> None:
        """Stop the coupon from being redeemed; idempotent (absent or inactive: nothing to do)."""
        ...

    def write_content(self, order: Order, content: ConfirmationContent) -> None:
        """Store the confirmation content on the order (replacing earlier content)."""
        ...

    def tag_order(self, order: Order, tags: Sequence[str]) -> None:
        """Add tags to the order (idempotent; existing tags stay)."""
        ...

    def tag_customer(self, customer_id: str | None, tags: Sequence[str]) -> bool:
        """Add tags to the customer (a set: existing tags stay, a repeat adds nothing), so the
        shop can gate pages by them (a VIP pre-sale). A guest (``None``, ``0`` or an
        ``email:`` key, see :func:`platform_customer_id`) or an unknown customer: nothing is
        written, ``False``. ``True`` when the customer has the tags."""
        ...

    def untag_customer(self, customer_id: str | None, tags: Sequence[str]) -> bool:
        """Remove tags from the customer (the others stay; a tag that is not there is no
        error, so a repeat changes nothing): a VIP pre-sale's tag when the pre-sale ends. A
        guest or an unknown customer: nothing is written, ``False``. ``True`` when the
        customer no longer has the tags."""
        ...

    def customer_tags(self, customer_id: str | None) -> list[str] | None:
        """The customer's tags as the platform keeps them (where :meth:`tag_customer` writes);
        ``None`` for a guest or an unknown customer."""
        ...

    def add_order_note(self, order: Order, *, text: str, key: str) -> bool:
        """Leave ``text`` where the shop's staff see it when they pack the order (the order
        note, appended, or a private order note), once per ``key``: the note is
        :func:`staff_note` and a repeat that finds its :func:`note_marker` writes nothing.
        Notes by others (the customer's, the staff's) stay as they are. ``True`` when this
        call wrote the note, ``False`` when it was there already."""
        ...

    def write_customer_loyalty(self, customer_id: str | None, loyalty: CustomerLoyalty) -> bool:
        """Keep the customer's balance and tier where the shop's theme can show them (an
        app-owned customer field or a user meta), replacing what was there.

        ``customer_id`` is the platform customer id or a loyalty account key; a guest (``None``,
        ``0`` or an ``email:`` key, see :func:`platform_customer_id`) has nowhere to keep it:
        no call, ``False``. ``True`` when written; writing the same value again changes nothing.
        NotFoundError when the customer does not exist."""
        ...

    def record_marketing_consent(
        self, customer_id: str | None, email: str, consent: MarketingConsent
    ) -> bool:
        """Record the customer's e-mail marketing consent where the platform keeps it (the
        customer's marketing consent field or a user meta), so that the shop and the contact
        policy read it. ``customer_id`` ``None`` (a guest) or an unknown customer: nothing is
        written, ``False``. ``True`` when written; writing it again changes nothing."""
        ...

    def register_webhooks(self, address: str) -> list[str]:
        """Subscribe ``address`` to the topics the product needs, skipping existing
        subscriptions; returns the platform ids of all subscriptions for those topics there."""
        ...

    def list_webhooks(self) -> list[WebhookSubscription]:
        """The shop's subscriptions to the topics the product needs, to any address (those
        this app can see: a platform may list only the ones made through the API)."""
        ...

    def orders_since(self, since: datetime) -> Iterator[Order]:
        """Orders updated at or after ``since`` (reconciliation sweep), page by page."""
        ...


@dataclass(frozen=True, slots=True)
class MarketingConsent:
    """A confirmed (double opt-in) or withdrawn e-mail marketing consent, with its proof."""

    opted_in: bool
    #: When the customer confirmed (or withdrew).
    at: datetime
    #: Where the signup came from (``thank_you``, ``email``, ...).
    source: str
    #: The version of the consent text the customer saw.
    text_version: str


@dataclass(frozen=True, slots=True)
class OrderPage:
    """One page of a shop's past orders as the platform sent them.

    ``orders`` are the raw JSON values, normally objects (kept as they came, so that a caller
    can spool them and read them again later with :meth:`OrderHistory.read_listed_order`);
    ``next_cursor`` is what fetches the following page (``None``: this was the last);
    ``total`` the number of orders the listing matches, when the platform says (``None``: it
    does not).
    """

    orders: tuple[Any, ...]
    next_cursor: str | None
    total: int | None = None


@dataclass(frozen=True, slots=True)
class ListedOrder:
    """A listed order read: the neutral order in its last known state, and when it shipped
    (``None``: not shipped, or the platform does not say)."""

    order: Order
    fulfilled_at: datetime | None = None


@runtime_checkable
class OrderHistory(Protocol):
    """An optional capability of an adapter: page through the shop's past orders (for a
    backtest), oldest first, resumable from a cursor. A separate protocol rather than a
    :class:`Platform` method, so that adapters written before it keep satisfying the port.

    Like every adapter method, both raise only :mod:`.errors` types (``read_listed_order``:
    :class:`~.errors.PayloadError` for an order it cannot read)."""

    def list_orders(
        self,
        *,
        since: datetime | None,
        until: datetime | None,
        cursor: str | None,
        page_size: int,
    ) -> OrderPage:
        """The page of orders created at or after ``since`` and before ``until`` (either
        ``None``: unbounded) that ``cursor`` names (``None``: the first), in creation order.
        ``page_size`` is a wish; an adapter may send fewer per page (the platform's limit,
        the query cost). Rate limits are waited out within the adapter's retry bounds."""
        ...

    def read_listed_order(self, raw: Mapping[str, Any]) -> ListedOrder:
        """One order of :attr:`OrderPage.orders` in neutral terms; no network call."""
        ...


class PlatformFactory(Protocol):
    """How adapters are built: the adapter class itself (``MyAdapter.from_settings``).

    ``secrets`` holds the values of the shop's :class:`~.campaign.SecretRef` entries by name,
    resolved by the caller (from environment variables).
    """

    def from_settings(self, settings: ShopSettings, *, secrets: Mapping[str, str]) -> Platform: ...
