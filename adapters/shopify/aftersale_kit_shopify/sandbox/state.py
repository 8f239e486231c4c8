"""The sandbox shop's state: orders, customers, products, collections, discounts, metafields, tags
and webhook subscriptions.

Orders are kept in Shopify's REST shape (the shape webhooks carry), with ids as Python ints so that
ids above 2**53 stay exact; the GraphQL layer reads them into Shopify's GraphQL shape. Customer
history (orders count, amount spent) and product taxonomy (type, tags, collections), which order
payloads lack since API 2022-07, live on their own records so that enrichment can be tested.

Every access goes through :attr:`ShopState.lock` (re-entrant): the HTTP handlers, the webhook
sender's callbacks and the Python control API run in different threads.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from .util import gid, now_utc, to_decimal

__all__ = [
    "FIRST_GENERATED_ID",
    "BulkCreation",
    "CollectionRecord",
    "CustomerRecord",
    "DiscountRecord",
    "MetafieldRecord",
    "OrderRecord",
    "ProductRecord",
    "RedeemCode",
    "ShopState",
    "SubscriptionRecord",
]

#: Ids the sandbox makes up start above 2**53, so that a client that parses ids as floats (as
#: JavaScript does) breaks in tests rather than in production.
FIRST_GENERATED_ID = 2**53 + 1001


@dataclass
class CustomerRecord:
    id: int
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    locale: str = "en"
    state: str = "enabled"
    note: str | None = None
    verified_email: bool = True
    tax_exempt: bool = False
    tags: list[str] = field(default_factory=list)
    #: Set explicitly (absolute values); ``None``: computed from the sandbox's orders.
    orders_count: int | None = None
    total_spent: Decimal | None = None
    currency: str = "USD"
    default_address: dict[str, Any] | None = None
    created_at: datetime = field(default_factory=now_utc)
    updated_at: datetime = field(default_factory=now_utc)
    #: ``emailMarketingConsent`` (``customerEmailMarketingConsentUpdate``).
    email_marketing_state: str = "NOT_SUBSCRIBED"
    email_opt_in_level: str | None = None
    email_consent_updated_at: datetime | None = None

    @property
    def gid(self) -> str:
        return gid("Customer", self.id)


@dataclass
class CollectionRecord:
    id: int
    handle: str
    title: str

    @property
    def gid(self) -> str:
        return gid("Collection", self.id)


@dataclass
class ProductRecord:
    id: int
    title: str = ""
    handle: str = ""
    product_type: str = ""
    vendor: str = ""
    status: str = "ACTIVE"
    tags: list[str] = field(default_factory=list)
    #: Collection handles.
    collections: list[str] = field(default_factory=list)
    created_at: datetime = field(default_factory=now_utc)
    updated_at: datetime = field(default_factory=now_utc)

    @property
    def gid(self) -> str:
        return gid("Product", self.id)


@dataclass
class OrderRecord:
    #: The order in Shopify's REST shape, the source of truth.
    rest: dict[str, Any]
    #: ``time.monotonic()`` from which the API sees the order (the "not created yet" window).
    visible_at: float = 0.0

    @property
    def id(self) -> int:
        return int(self.rest["id"])

    @property
    def gid(self) -> str:
        return str(self.rest.get("admin_graphql_api_id") or gid("Order", self.id))

    def visible(self) -> bool:
        return time.monotonic() >= self.visible_at


@dataclass
class RedeemCode:
    id: int
    code: str
    usage_count: int = 0


@dataclass
class DiscountRecord:
    id: int
    #: ``basic`` or ``free_shipping``.
    kind: str
    title: str
    codes: list[RedeemCode]
    starts_at: datetime
    ends_at: datetime | None = None
    usage_limit: int | None = None
    applies_once_per_customer: bool = False
    recurring_cycle_limit: int | None = None
    #: ``{"percentage": 0.1}`` or ``{"amount": Decimal, "applies_on_each_item": bool}``.
    value: dict[str, Any] = field(default_factory=dict)
    #: ``{"all": True}``, ``{"products": [ids], "variants": [ids]}`` or ``{"collections": [ids]}``.
    items: dict[str, Any] = field(default_factory=lambda: {"all": True})
    #: ``None``, ``{"subtotal": Decimal}`` or ``{"quantity": int}``.
    minimum: dict[str, Any] | None = None
    combines_with: dict[str, bool] = field(
        default_factory=lambda: {
            "orderDiscounts": False,
            "productDiscounts": False,
            "shippingDiscounts": False,
        }
    )
    #: ``{"all": True}``, ``{"customers": [gids]}`` or ``{"segments": [gids]}``.
    context: dict[str, Any] = field(default_factory=lambda: {"all": True})
    #: Free shipping: ``{"all": True}`` or ``{"countries": [...], "rest_of_world": bool}``.
    destination: dict[str, Any] = field(default_factory=lambda: {"all": True})
    maximum_shipping_price: Decimal | None = None
    applies_on_one_time_purchase: bool = True
    applies_on_subscription: bool = False
    currency: str = "USD"
    created_at: datetime = field(default_factory=now_utc)
    updated_at: datetime = field(default_factory=now_utc)

    @property
    def gid(self) -> str:
        return gid("DiscountCodeNode", self.id)

    def status(self, at: datetime | None = None) -> str:
        moment = at or now_utc()
        if self.ends_at is not None and self.ends_at <= moment:
            return "EXPIRED"
        if self.starts_at > moment:
            return "SCHEDULED"
        return "ACTIVE"

    def summary_dict(self) -> dict[str, Any]:
        return {
            "id": self.gid,
            "kind": self.kind,
            "title": self.title,
            "codes": [code.code for code in self.codes],
            "status": self.status(),
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat() if self.ends_at else None,
            "usage_limit": self.usage_limit,
            "applies_once_per_customer": self.applies_once_per_customer,
            "value": {k: str(v) if isinstance(v, Decimal) else v for k, v in self.value.items()},
            "items": self.items,
            "minimum": (
                {k: str(v) for k, v in self.minimum.items()} if self.minimum is not None else None
            ),
            "combines_with": dict(self.combines_with),
            "context": self.context,
            "destination": self.destination if self.kind == "free_shipping" else None,
        }


@dataclass
class MetafieldRecord:
    id: int
    owner_gid: str
    owner_type: str
    namespace: str
    key: str
    value: str
    type: str
    created_at: datetime = field(default_factory=now_utc)
    updated_at: datetime = field(default_factory=now_utc)

    @property
    def gid(self) -> str:
        return gid("Metafield", self.id)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.gid,
            "owner_id": self.owner_gid,
            "owner_type": self.owner_type,
            "namespace": self.namespace,
            "key": self.key,
            "value": self.value,
            "type": self.type,
            "updated_at": self.updated_at.isoformat(),
        }


@dataclass
class SubscriptionRecord:
    id: int
    #: REST topic, e.g. ``orders/paid``.
    topic: str
    uri: str
    api_version: str
    format: str = "JSON"
    include_fields: list[str] = field(default_factory=list)
    metafield_namespaces: list[str] = field(default_factory=list)
    filter: str | None = None
    #: ``api``: created with ``webhookSubscriptionCreate`` (deleted after consecutive failures);
    #: ``app``: declared in the app's configuration file (``shopify.app.toml``), kept.
    source: str = "api"
    consecutive_failures: int = 0
    created_at: datetime = field(default_factory=now_utc)
    updated_at: datetime = field(default_factory=now_utc)

    @property
    def gid(self) -> str:
        return gid("WebhookSubscription", self.id)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.gid,
            "topic": self.topic,
            "uri": self.uri,
            "api_version": self.api_version,
            "format": self.format,
            "include_fields": list(self.include_fields),
            "source": self.source,
            "consecutive_failures": self.consecutive_failures,
        }


@dataclass
class BulkCreation:
    id: int
    discount_id: int
    #: ``(code, errors, redeem code id or None)`` per submitted code.
    codes: list[tuple[str, list[dict[str, Any]], int | None]]
    created_at: datetime
    #: ``time.monotonic()`` at which the job reports ``done``.
    done_at: float

    @property
    def gid(self) -> str:
        return gid("DiscountRedeemCodeBulkCreation", self.id)


class ShopState:
    """Everything the sandbox shop holds. Callers hold :attr:`lock` around reads and writes."""

    def __init__(self, *, shop: str, currency: str = "USD", email: str | None = None) -> None:
        self.lock = threading.RLock()
        self.shop = shop
        self.currency = currency
        self.email = email or f"owner@{shop}.example"
        self.shop_id = 548380009
        self._ids = itertools.count(FIRST_GENERATED_ID)
        self.orders: dict[int, OrderRecord] = {}
        self.customers: dict[int, CustomerRecord] = {}
        self.products: dict[int, ProductRecord] = {}
        self.collections: dict[str, CollectionRecord] = {}
        self.discounts: dict[int, DiscountRecord] = {}
        self.metafields: dict[int, MetafieldRecord] = {}
        self.subscriptions: dict[int, SubscriptionRecord] = {}
        self.bulk_creations: dict[int, BulkCreation] = {}
        self.next_order_number = 1001

    @property
    def domain(self) -> str:
        return f"{self.shop}.myshopify.com"

    @property
    def shop_gid(self) -> str:
        return gid("Shop", self.shop_id)

    def new_id(self) -> int:
        with self.lock:
            return next(self._ids)

    def clear(self) -> None:
        with self.lock:
            self.orders.clear()
            self.customers.clear()
            self.products.clear()
            self.collections.clear()
            self.discounts.clear()
            self.metafields.clear()
            self.subscriptions.clear()
            self.bulk_creations.clear()
            self.next_order_number = 1001

    # -- lookups -------------------------------------------------------------------------------

    def visible_orders(self) -> list[OrderRecord]:
        with self.lock:
            return [record for record in self.orders.values() if record.visible()]

    def collection(self, handle: str) -> CollectionRecord:
        """The collection with ``handle``, created on first use."""
        with self.lock:
            existing = self.collections.get(handle)
            if existing is None:
                title = handle.replace("-", " ").replace("_", " ").title()
                existing = CollectionRecord(self.new_id(), handle, title)
                self.collections[handle] = existing
            return existing

    def collection_by_id(self, id_: int) -> CollectionRecord | None:
        with self.lock:
            return next((c for c in self.collections.values() if c.id == id_), None)

    def discount_by_code(self, code: str) -> tuple[DiscountRecord, RedeemCode] | None:
        """Codes are unique per shop and compared case-insensitively."""
        wanted = code.strip().casefold()
        with self.lock:
            for discount in self.discounts.values():
                for redeem in discount.codes:
                    if redeem.code.casefold() == wanted:
                        return discount, redeem
            return None

    def customer_history(self, customer: CustomerRecord) -> tuple[int, Decimal]:
        """``(orders count, amount spent)``: explicit values, else computed from visible orders."""
        with self.lock:
            count = 0
            spent = Decimal("0")
            for record in self.visible_orders():
                nested = record.rest.get("customer") or {}
                if nested.get("id") != customer.id:
                    continue
                count += 1
                if record.rest.get("financial_status") in (
                    "paid",
                    "partially_paid",
                    "partially_refunded",
                    "refunded",
                ):
                    refunded = sum(
                        (
                            to_decimal(t.get("amount", "0"))
                            for refund in record.rest.get("refunds") or []
                            for t in refund.get("transactions") or []
                            if t.get("kind") == "refund"
                        ),
                        Decimal("0"),
                    )
                    spent += to_decimal(record.rest.get("total_price") or "0") - refunded
            if customer.orders_count is not None:
                count = customer.orders_count
            if customer.total_spent is not None:
                spent = customer.total_spent
            return count, spent

    def owner_exists(self, kind: str, id_: int) -> bool:
        with self.lock:
            if kind == "Order":
                return id_ in self.orders and self.orders[id_].visible()
            if kind == "Customer":
                return id_ in self.customers
            if kind == "Product":
                return id_ in self.products
            if kind in ("DiscountCodeNode", "DiscountNode"):
                return id_ in self.discounts
            if kind == "Shop":
                return id_ == self.shop_id
            if kind == "Collection":
                return self.collection_by_id(id_) is not None
            return False
