"""GraphQL views over the sandbox state: one class per Shopify object type.

graphql-core's default resolver reads an attribute named like the field and, when it is callable,
calls it with ``(info, **arguments)``. So each view exposes methods named exactly as Shopify's
fields (camelCase). Union and interface members carry ``typename``; small value objects are dicts
with a ``__typename`` key.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from graphql import GraphQLError, GraphQLResolveInfo

from .orders import Event
from .state import (
    BulkCreation,
    CollectionRecord,
    CustomerRecord,
    DiscountRecord,
    MetafieldRecord,
    OrderRecord,
    ProductRecord,
    ShopState,
    SubscriptionRecord,
)
from .util import gid, graphql_decimal, iso_graphql, parse_gid, to_decimal

__all__ = [
    "MAX_PAGE_SIZE",
    "Context",
    "CustomerView",
    "DiscountNodeView",
    "OrderView",
    "ProductView",
    "WebhookSubscriptionView",
    "invalid_id",
    "money",
    "paginate",
]

MAX_PAGE_SIZE = 250
T = TypeVar("T")
Info = GraphQLResolveInfo


@dataclass
class Context:
    """Per-request context (``info.context``)."""

    state: ShopState
    version: str
    app_id: int
    emit: Callable[[list[Event]], None]
    bulk_job_seconds: float = 0.2
    search: list[dict[str, Any]] = field(default_factory=list)

    @property
    def app_namespace(self) -> str:
        return f"app--{self.app_id}"

    def resolve_namespace(self, namespace: str | None) -> str:
        """``$app`` and ``$app:x`` become the app's reserved namespace ``app--<id>[--x]``."""
        if namespace is None or namespace == "$app":
            return self.app_namespace
        if namespace.startswith("$app:"):
            return f"{self.app_namespace}--{namespace[5:]}"
        return namespace


# -- shared helpers --------------------------------------------------------------------------


def invalid_id(value: str) -> GraphQLError:
    return GraphQLError(
        f"Invalid global id '{value}'",
        extensions={"code": "argumentLiteralsIncompatible", "typeName": "CoercionError"},
    )


def lookup_gid(value: str, *kinds: str) -> int | None:
    """The numeric id if ``value`` is a GID of one of ``kinds``; raise on a malformed GID."""
    parsed = parse_gid(value)
    if parsed is None:
        raise invalid_id(value)
    kind, id_ = parsed
    return id_ if kind in kinds else None


def money(amount: Any, currency: str) -> dict[str, Any]:
    return {"amount": graphql_decimal(amount), "currencyCode": currency}


def bag_from_rest(rest_set: Any, fallback_amount: Any, currency: str) -> dict[str, Any]:
    """A GraphQL ``MoneyBag`` from a REST ``*_set`` (or from a plain amount when it is absent)."""
    if isinstance(rest_set, dict) and rest_set.get("shop_money"):
        shop = rest_set["shop_money"]
        presentment = rest_set.get("presentment_money") or shop
        return {
            "shopMoney": money(shop["amount"], shop["currency_code"]),
            "presentmentMoney": money(presentment["amount"], presentment["currency_code"]),
        }
    amount = fallback_amount if fallback_amount not in (None, "") else "0"
    return {"shopMoney": money(amount, currency), "presentmentMoney": money(amount, currency)}


def _cursor(key: Any) -> str:
    raw = json.dumps({"last_id": key}, separators=(",", ":")).encode()
    return base64.b64encode(raw).decode()


def _decode_cursor(cursor: str) -> Any:
    try:
        return json.loads(base64.b64decode(cursor.encode(), validate=True))["last_id"]
    except (ValueError, KeyError, TypeError) as exc:
        raise GraphQLError(f"Invalid cursor: {cursor}") from exc


def paginate(
    items: Sequence[T],
    *,
    key: Callable[[T], Any],
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    reverse: bool = False,
    **_: Any,
) -> dict[str, Any]:
    """A Relay connection (``edges``, ``nodes``, ``pageInfo``) over ``items``."""
    if first is None and last is None:
        raise GraphQLError("you must provide one of first or last")
    for name, value in (("first", first), ("last", last)):
        if value is not None and (value < 0 or value > MAX_PAGE_SIZE):
            raise GraphQLError(
                f"The '{name}' argument must be between 0 and {MAX_PAGE_SIZE}, got {value}."
            )
    ordered = list(reversed(items)) if reverse else list(items)
    keys = [key(item) for item in ordered]
    start, end = 0, len(ordered)
    if after:
        wanted = _decode_cursor(after)
        if wanted not in keys:
            raise GraphQLError(f"Invalid cursor: {after}")
        start = keys.index(wanted) + 1
    if before:
        wanted = _decode_cursor(before)
        if wanted not in keys:
            raise GraphQLError(f"Invalid cursor: {before}")
        end = keys.index(wanted)
    window = list(range(start, max(start, end)))
    has_next = end < len(ordered)
    has_previous = start > 0
    if first is not None:
        has_next = has_next or len(window) > first
        window = window[:first]
    if last is not None:
        has_previous = has_previous or len(window) > last
        window = window[len(window) - last :] if last else []
    edges = [{"cursor": _cursor(keys[i]), "node": ordered[i]} for i in window]
    return {
        "edges": edges,
        "nodes": [edge["node"] for edge in edges],
        "pageInfo": {
            "hasNextPage": has_next,
            "hasPreviousPage": has_previous,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


class _HasMetafields:
    ctx: Context
    owner_gid: str

    def metafield(self, info: Info, key: str, namespace: str | None = None) -> MetafieldView | None:
        if namespace is None and "." in key:
            namespace, key = key.split(".", 1)
        resolved = self.ctx.resolve_namespace(namespace)
        for record in self.ctx.state.metafields.values():
            if (record.owner_gid, record.namespace, record.key) == (self.owner_gid, resolved, key):
                return MetafieldView(self.ctx, record)
        return None

    def metafields(
        self,
        info: Info,
        namespace: str | None = None,
        keys: list[str] | None = None,
        **page: Any,
    ) -> dict[str, Any]:
        resolved = self.ctx.resolve_namespace(namespace) if namespace is not None else None
        records = [
            r
            for r in self.ctx.state.metafields.values()
            if r.owner_gid == self.owner_gid
            and (resolved is None or r.namespace == resolved)
            and (keys is None or f"{r.namespace}.{r.key}" in keys)
        ]
        views = [MetafieldView(self.ctx, r) for r in records]
        return paginate(views, key=lambda v: v.record.id, **page)


# -- shop, customers, products -----------------------------------------------------------


class ShopView(_HasMetafields):
    typename = "Shop"

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.owner_gid = ctx.state.shop_gid
        state = ctx.state
        self.id = state.shop_gid
        self.name = state.shop
        self.email = state.email
        self.myshopifyDomain = state.domain
        self.currencyCode = state.currency
        self.ianaTimezone = "Etc/UTC"


def address_view(address: Any, owner_id: int) -> dict[str, Any] | None:
    if not isinstance(address, dict):
        return None
    first = address.get("first_name")
    last = address.get("last_name")
    name = address.get("name") or " ".join(p for p in (first, last) if p) or None
    return {
        "__typename": "MailingAddress",
        "id": gid("MailingAddress", owner_id) + "?model_name=Address",
        "address1": address.get("address1"),
        "address2": address.get("address2"),
        "city": address.get("city"),
        "company": address.get("company"),
        "country": address.get("country"),
        "countryCodeV2": address.get("country_code"),
        "firstName": first,
        "lastName": last,
        "name": name,
        "phone": address.get("phone"),
        "province": address.get("province"),
        "provinceCode": address.get("province_code"),
        "zip": address.get("zip"),
        "latitude": address.get("latitude"),
        "longitude": address.get("longitude"),
    }


class CustomerView(_HasMetafields):
    typename = "Customer"

    def __init__(self, ctx: Context, record: CustomerRecord) -> None:
        self.ctx = ctx
        self.record = record
        self.owner_gid = record.gid
        self.id = record.gid
        self.legacyResourceId = str(record.id)
        self.email = record.email
        self.firstName = record.first_name
        self.lastName = record.last_name
        self.phone = record.phone
        self.locale = record.locale
        self.note = record.note
        self.state = record.state.upper()
        self.tags = sorted(record.tags)
        self.verifiedEmail = record.verified_email
        self.taxExempt = record.tax_exempt
        self.createdAt = iso_graphql(record.created_at)
        self.updatedAt = iso_graphql(record.updated_at)

    def emailMarketingConsent(self, info: Info) -> dict[str, Any] | None:
        record = self.record
        if record.email is None:
            return None
        at = record.email_consent_updated_at
        return {
            "marketingState": record.email_marketing_state,
            "marketingOptInLevel": record.email_opt_in_level,
            "consentUpdatedAt": iso_graphql(at) if at is not None else None,
        }

    def displayName(self, info: Info) -> str:
        name = " ".join(p for p in (self.record.first_name, self.record.last_name) if p)
        return name or self.record.email or ""

    def numberOfOrders(self, info: Info) -> str:
        count, _ = self.ctx.state.customer_history(self.record)
        return str(count)

    def amountSpent(self, info: Info) -> dict[str, Any]:
        _, spent = self.ctx.state.customer_history(self.record)
        return money(spent, self.record.currency)

    def defaultAddress(self, info: Info) -> dict[str, Any] | None:
        return address_view(self.record.default_address, self.record.id)

    def orders(self, info: Info, **args: Any) -> dict[str, Any]:
        query = args.pop("query", None)
        scope = f"customer_id:{self.record.id}" + (f" {query}" if query else "")
        return orders_connection(self.ctx, info, query=scope, **args)


class CollectionView:
    typename = "Collection"

    def __init__(self, record: CollectionRecord) -> None:
        self.record = record
        self.id = record.gid
        self.legacyResourceId = str(record.id)
        self.handle = record.handle
        self.title = record.title


class ProductView(_HasMetafields):
    typename = "Product"

    def __init__(self, ctx: Context, record: ProductRecord) -> None:
        self.ctx = ctx
        self.record = record
        self.owner_gid = record.gid
        self.id = record.gid
        self.legacyResourceId = str(record.id)
        self.title = record.title
        self.handle = record.handle or f"product-{record.id}"
        self.productType = record.product_type
        self.vendor = record.vendor or ctx.state.shop
        self.tags = sorted(record.tags)
        self.status = record.status
        self.createdAt = iso_graphql(record.created_at)
        self.updatedAt = iso_graphql(record.updated_at)

    def collections(self, info: Info, query: str | None = None, **page: Any) -> dict[str, Any]:
        records = [self.ctx.state.collection(h) for h in self.record.collections]
        return collections_connection(self.ctx, info, query=query, records=records, **page)


class VariantView:
    typename = "ProductVariant"

    def __init__(self, ctx: Context, item: dict[str, Any], product: ProductRecord) -> None:
        self.ctx = ctx
        variant_id = int(item["variant_id"])
        self.id = gid("ProductVariant", variant_id)
        self.legacyResourceId = str(variant_id)
        self.title = item.get("variant_title") or "Default Title"
        self.displayName = f"{product.title or item.get('title')} - {self.title}"
        self.sku = item.get("sku")
        self.price = graphql_decimal(item.get("price") or "0")
        self._product = product

    def product(self, info: Info) -> ProductView:
        return ProductView(self.ctx, self._product)


# -- orders ------------------------------------------------------------------------------

_FULFILLMENT = {
    None: "UNFULFILLED",
    "fulfilled": "FULFILLED",
    "partial": "PARTIALLY_FULFILLED",
    "restocked": "RESTOCKED",
}


class LineItemView:
    typename = "LineItem"

    def __init__(self, ctx: Context, item: dict[str, Any], order: dict[str, Any]) -> None:
        self.ctx = ctx
        self.item = item
        currency = str(order.get("currency") or ctx.state.currency)
        self.currency = currency
        self.id = item.get("admin_graphql_api_id") or gid("LineItem", item["id"])
        self.name = item.get("name") or item.get("title") or ""
        self.title = item.get("title") or ""
        quantity = int(item.get("quantity") or 0)
        refunded = sum(
            int(line.get("quantity") or 0)
            for refund in order.get("refunds") or []
            for line in refund.get("refund_line_items") or []
            if line.get("line_item_id") == item.get("id")
        )
        self.quantity = quantity
        self.currentQuantity = int(item.get("current_quantity", quantity - refunded))
        self.refundableQuantity = max(0, quantity - refunded)
        self.unfulfilledQuantity = int(item.get("fulfillable_quantity", quantity))
        self.sku = item.get("sku") or None
        self.vendor = item.get("vendor")
        self.variantTitle = item.get("variant_title")
        self.isGiftCard = bool(item.get("gift_card", False))
        self.requiresShipping = bool(item.get("requires_shipping", True))
        self.taxable = bool(item.get("taxable", True))
        self.customAttributes = [
            {"key": str(p.get("name")), "value": p.get("value")}
            for p in item.get("properties") or []
        ]
        price = to_decimal(item.get("price") or "0")
        discount = to_decimal(item.get("total_discount") or "0")
        self.originalUnitPriceSet = bag_from_rest(item.get("price_set"), price, currency)
        per_unit_discount = discount / quantity if quantity else Decimal("0")
        self.discountedUnitPriceSet = bag_from_rest(None, price - per_unit_discount, currency)
        self.originalTotalSet = bag_from_rest(None, price * quantity, currency)
        self.discountedTotalSet = bag_from_rest(None, price * quantity - discount, currency)
        self.totalDiscountSet = bag_from_rest(item.get("total_discount_set"), discount, currency)
        self.discountAllocations = [
            {"allocatedAmountSet": bag_from_rest(a.get("amount_set"), a.get("amount"), currency)}
            for a in item.get("discount_allocations") or []
        ]

    def _product(self) -> ProductRecord | None:
        product_id = self.item.get("product_id")
        if product_id is None:
            return None
        return self.ctx.state.products.get(int(product_id))

    def product(self, info: Info) -> ProductView | None:
        record = self._product()
        return ProductView(self.ctx, record) if record else None

    def variant(self, info: Info) -> VariantView | None:
        record = self._product()
        if record is None or self.item.get("variant_id") is None:
            return None
        return VariantView(self.ctx, self.item, record)


class OrderView(_HasMetafields):
    typename = "Order"

    def __init__(self, ctx: Context, record: OrderRecord) -> None:
        self.ctx = ctx
        self.record = record
        self.owner_gid = record.gid
        o = record.rest
        self.rest = o
        currency = str(o.get("currency") or ctx.state.currency)
        self.currency = currency
        self.id = record.gid
        self.legacyResourceId = str(record.id)
        self.name = o.get("name") or f"#{o.get('order_number', record.id)}"
        self.email = o.get("email") or o.get("contact_email") or None
        self.phone = o.get("phone")
        self.createdAt = iso_graphql(o.get("created_at"))
        self.updatedAt = iso_graphql(o.get("updated_at") or o.get("created_at"))
        self.processedAt = iso_graphql(o.get("processed_at") or o.get("created_at"))
        self.closedAt = iso_graphql(o.get("closed_at"))
        self.closed = bool(o.get("closed_at"))
        self.cancelledAt = iso_graphql(o.get("cancelled_at"))
        self.cancelReason = str(o["cancel_reason"]).upper() if o.get("cancel_reason") else None
        self.confirmed = bool(o.get("confirmed", True))
        self.test = bool(o.get("test", False))
        self.note = o.get("note")
        self.tags = [t.strip() for t in str(o.get("tags") or "").split(",") if t.strip()]
        self.currencyCode = currency
        self.presentmentCurrencyCode = o.get("presentment_currency") or currency
        status = o.get("financial_status")
        self.displayFinancialStatus = str(status).upper() if status else None
        self.displayFulfillmentStatus = _FULFILLMENT.get(o.get("fulfillment_status"), "UNFULFILLED")
        self.fullyPaid = status in ("paid", "partially_refunded", "refunded")
        self.subtotalPriceSet = bag_from_rest(
            o.get("subtotal_price_set"), o.get("subtotal_price"), currency
        )
        self.totalPriceSet = bag_from_rest(o.get("total_price_set"), o.get("total_price"), currency)
        self.totalDiscountsSet = bag_from_rest(
            o.get("total_discounts_set"), o.get("total_discounts"), currency
        )
        shipping = sum(
            (to_decimal(line.get("price") or "0") for line in o.get("shipping_lines") or []),
            Decimal("0"),
        )
        self.totalShippingPriceSet = bag_from_rest(
            o.get("total_shipping_price_set"), shipping, currency
        )
        self.totalTaxSet = bag_from_rest(o.get("total_tax_set"), o.get("total_tax"), currency)
        refunded = sum(
            (
                to_decimal(t.get("amount") or "0")
                for refund in o.get("refunds") or []
                for t in refund.get("transactions") or []
                if t.get("kind") == "refund"
            ),
            Decimal("0"),
        )
        self.totalRefundedSet = bag_from_rest(None, refunded, currency)
        self.currentSubtotalPriceSet = bag_from_rest(
            o.get("current_subtotal_price_set"),
            o.get("current_subtotal_price", o.get("subtotal_price")),
            currency,
        )
        self.currentTotalPriceSet = bag_from_rest(
            o.get("current_total_price_set"),
            o.get("current_total_price", o.get("total_price")),
            currency,
        )
        self.currentTotalDiscountsSet = bag_from_rest(
            o.get("current_total_discounts_set"),
            o.get("current_total_discounts", o.get("total_discounts")),
            currency,
        )
        codes = [str(c.get("code")) for c in o.get("discount_codes") or [] if c.get("code")]
        self.discountCodes = codes
        self.discountCode = codes[0] if codes else None
        self.sourceName = o.get("source_name")
        self.customAttributes = [
            {"key": str(a.get("name")), "value": a.get("value")}
            for a in o.get("note_attributes") or []
        ]
        gateways = o.get("payment_gateway_names")
        if gateways is None:
            gateways = [o["gateway"]] if o.get("gateway") else []
        self.paymentGatewayNames = list(gateways)
        self.customerLocale = o.get("customer_locale")
        self.statusPageUrl = o.get("order_status_url") or (
            f"https://{ctx.state.domain}/{ctx.state.shop_id}/orders/{o.get('token', record.id)}"
        )
        self.confirmationNumber = o.get("confirmation_number")

    def customer(self, info: Info) -> CustomerView | None:
        nested = self.rest.get("customer")
        if not isinstance(nested, dict) or nested.get("id") is None:
            return None
        record = self.ctx.state.customers.get(int(nested["id"]))
        return CustomerView(self.ctx, record) if record else None

    def lineItems(self, info: Info, **page: Any) -> dict[str, Any]:
        views = [
            LineItemView(self.ctx, item, self.rest) for item in self.rest.get("line_items") or []
        ]
        return paginate(views, key=lambda v: v.item["id"], **page)

    def shippingAddress(self, info: Info) -> dict[str, Any] | None:
        return address_view(self.rest.get("shipping_address"), self.record.id)

    def billingAddress(self, info: Info) -> dict[str, Any] | None:
        return address_view(self.rest.get("billing_address"), self.record.id + 1)

    def shippingLine(self, info: Info) -> dict[str, Any] | None:
        lines = self.rest.get("shipping_lines") or []
        if not lines:
            return None
        line = lines[0]
        price = line.get("price") or "0"
        discounted = line.get("discounted_price", price)
        return {
            "id": gid("ShippingLine", line["id"]) if line.get("id") else None,
            "title": line.get("title") or "",
            "code": line.get("code"),
            "source": line.get("source"),
            "carrierIdentifier": line.get("carrier_identifier"),
            "originalPriceSet": bag_from_rest(line.get("price_set"), price, self.currency),
            "discountedPriceSet": bag_from_rest(
                line.get("discounted_price_set"), discounted, self.currency
            ),
        }

    def refunds(self, info: Info, first: int | None = None) -> list[dict[str, Any]]:
        out = []
        for refund in self.rest.get("refunds") or []:
            amount = sum(
                (
                    to_decimal(t.get("amount") or "0")
                    for t in refund.get("transactions") or []
                    if t.get("kind") == "refund"
                ),
                Decimal("0"),
            )
            out.append(
                {
                    "id": refund.get("admin_graphql_api_id") or gid("Refund", refund["id"]),
                    "legacyResourceId": str(refund["id"]),
                    "createdAt": iso_graphql(refund.get("created_at")),
                    "note": refund.get("note"),
                    "totalRefundedSet": bag_from_rest(None, amount, self.currency),
                    "__typename": "Refund",
                }
            )
        return out[:first] if first is not None else out

    def fulfillments(self, info: Info, first: int | None = None) -> list[dict[str, Any]]:
        out = []
        for f in self.rest.get("fulfillments") or []:
            tracking = [
                {"company": f.get("tracking_company"), "number": number, "url": url}
                for number, url in zip(
                    f.get("tracking_numbers") or [], f.get("tracking_urls") or [], strict=False
                )
            ]
            out.append(
                {
                    "__typename": "Fulfillment",
                    "id": f.get("admin_graphql_api_id") or gid("Fulfillment", f["id"]),
                    "legacyResourceId": str(f["id"]),
                    "name": f.get("name") or "",
                    "status": str(f.get("status") or "success").upper(),
                    "createdAt": iso_graphql(f.get("created_at")),
                    "trackingInfo": lambda info, first=None, _t=tracking: (
                        _t[:first] if first is not None else _t
                    ),
                }
            )
        return out[:first] if first is not None else out


_ORDER_SORT: dict[str, Callable[[dict[str, Any]], Any]] = {
    "CREATED_AT": lambda o: iso_graphql(o.get("created_at")) or "",
    "UPDATED_AT": lambda o: iso_graphql(o.get("updated_at") or o.get("created_at")) or "",
    "PROCESSED_AT": lambda o: iso_graphql(o.get("processed_at") or o.get("created_at")) or "",
    "ORDER_NUMBER": lambda o: int(o.get("order_number") or o.get("number") or 0),
    "TOTAL_PRICE": lambda o: to_decimal(o.get("total_price") or "0"),
    "CURRENT_TOTAL_PRICE": lambda o: to_decimal(
        o.get("current_total_price") or o.get("total_price") or "0"
    ),
    "FINANCIAL_STATUS": lambda o: str(o.get("financial_status") or ""),
    "FULFILLMENT_STATUS": lambda o: str(o.get("fulfillment_status") or ""),
    "CUSTOMER_NAME": lambda o: " ".join(
        str((o.get("customer") or {}).get(k) or "") for k in ("first_name", "last_name")
    ),
    "TOTAL_ITEMS_QUANTITY": lambda o: sum(int(i.get("quantity") or 0) for i in o["line_items"]),
}


def orders_connection(
    ctx: Context,
    info: Info,
    *,
    query: str | None = None,
    sortKey: str = "PROCESSED_AT",
    **page: Any,
) -> dict[str, Any]:
    from .search import compile_order_query

    predicate, warnings = compile_order_query(query)
    if warnings:
        ctx.search.append({"path": list(info.path.as_list()), "query": query, "warnings": warnings})
    records = [r for r in ctx.state.visible_orders() if predicate(r.rest)]
    sort = _ORDER_SORT.get(sortKey)
    if sort is None:
        records.sort(key=lambda r: r.id)
    else:
        records.sort(key=lambda r: (sort(r.rest), r.id))
    # Paged over the records, and only the page's orders become views: building a view reads
    # every money field of the order, which made each page cost as much as the whole shop.
    connection = paginate(records, key=lambda r: r.id, **page)
    edges = [{**edge, "node": OrderView(ctx, edge["node"])} for edge in connection["edges"]]
    return {**connection, "edges": edges, "nodes": [edge["node"] for edge in edges]}


def collections_connection(
    ctx: Context,
    info: Info,
    *,
    query: str | None = None,
    records: Sequence[CollectionRecord] | None = None,
    **page: Any,
) -> dict[str, Any]:
    """The shop's collections (or ``records``) that match ``query``, by id."""
    from .search import compile_collection_query

    predicate, warnings = compile_collection_query(query)
    if warnings:
        ctx.search.append({"path": list(info.path.as_list()), "query": query, "warnings": warnings})
    if records is None:
        records = list(ctx.state.collections.values())
    views = [
        CollectionView(r)
        for r in records
        if predicate({"id": r.id, "handle": r.handle, "title": r.title})
    ]
    return paginate(views, key=lambda v: v.record.id, **page)


# -- metafields ----------------------------------------------------------------------------


class MetafieldView:
    typename = "Metafield"

    def __init__(self, ctx: Context, record: MetafieldRecord) -> None:
        self.record = record
        self.id = record.gid
        self.legacyResourceId = str(record.id)
        self.namespace = record.namespace
        self.key = record.key
        self.value = record.value
        self.type = record.type
        self.ownerType = record.owner_type
        self.compareDigest = hashlib.sha256(record.value.encode()).hexdigest()
        self.createdAt = iso_graphql(record.created_at)
        self.updatedAt = iso_graphql(record.updated_at)

    def jsonValue(self, info: Info) -> Any:
        kind, value = self.record.type, self.record.value
        try:
            if kind in (
                "json",
                "money",
                "rating",
                "dimension",
                "volume",
                "weight",
            ) or kind.startswith("list."):
                return json.loads(value)
            if kind == "number_integer":
                return int(value)
            if kind == "number_decimal":
                return value
            if kind == "boolean":
                return value == "true"
        except ValueError:
            return value
        return value


# -- discounts -----------------------------------------------------------------------------


def _summary(record: DiscountRecord) -> str:
    parts: list[str] = []
    if record.kind == "free_shipping":
        parts.append("Free shipping on all products")
    else:
        target = "entire order" if record.items.get("all") else "selected items"
        if "percentage" in record.value:
            pct = Decimal(str(record.value["percentage"])) * 100
            parts.append(f"{graphql_decimal(pct).removesuffix('.0')}% off {target}")
        else:
            amount = graphql_decimal(record.value.get("amount", 0))
            each = " each" if record.value.get("applies_on_each_item") else ""
            parts.append(f"{amount} {record.currency} off{each} {target}")
    if record.minimum and "subtotal" in record.minimum:
        parts.append(f"Minimum purchase of {graphql_decimal(record.minimum['subtotal'])}")
    if record.minimum and "quantity" in record.minimum:
        parts.append(f"Minimum quantity of {record.minimum['quantity']}")
    if record.applies_once_per_customer:
        parts.append("One use per customer")
    if record.usage_limit is not None:
        uses = "use" if record.usage_limit == 1 else "uses"
        parts.append(f"Limit of {record.usage_limit} {uses}")
    return " • ".join(parts)


class _DiscountProductsView:
    typename = "DiscountProducts"

    def __init__(self, ctx: Context, record: DiscountRecord) -> None:
        self.ctx = ctx
        self.record = record

    def products(self, info: Info, **page: Any) -> dict[str, Any]:
        views = [
            ProductView(self.ctx, self.ctx.state.products[i])
            for i in self.record.items.get("products", [])
            if i in self.ctx.state.products
        ]
        return paginate(views, key=lambda v: v.record.id, **page)

    def productVariants(self, info: Info, **page: Any) -> dict[str, Any]:
        return paginate([], key=lambda v: v, **page)


class _DiscountCollectionsView:
    typename = "DiscountCollections"

    def __init__(self, ctx: Context, record: DiscountRecord) -> None:
        self.ctx = ctx
        self.record = record

    def collections(self, info: Info, **page: Any) -> dict[str, Any]:
        found = [self.ctx.state.collection_by_id(i) for i in self.record.items["collections"]]
        views = [CollectionView(c) for c in found if c is not None]
        return paginate(views, key=lambda v: v.record.id, **page)


class _DiscountCustomersView:
    typename = "DiscountCustomers"

    def __init__(self, ctx: Context, gids: list[str]) -> None:
        self.ctx = ctx
        self.gids = gids

    def customers(self, info: Info) -> list[CustomerView]:
        out = []
        for value in self.gids:
            parsed = parse_gid(value)
            if parsed and parsed[1] in self.ctx.state.customers:
                out.append(CustomerView(self.ctx, self.ctx.state.customers[parsed[1]]))
        return out


class DiscountCodeView:
    """``DiscountCodeBasic`` or ``DiscountCodeFreeShipping``."""

    def __init__(self, ctx: Context, record: DiscountRecord) -> None:
        self.ctx = ctx
        self.record = record
        self.typename = (
            "DiscountCodeFreeShipping" if record.kind == "free_shipping" else ("DiscountCodeBasic")
        )
        self.title = record.title
        self.status = record.status()
        self.summary = _summary(record)
        self.startsAt = iso_graphql(record.starts_at)
        self.endsAt = iso_graphql(record.ends_at)
        self.createdAt = iso_graphql(record.created_at)
        self.updatedAt = iso_graphql(record.updated_at)
        self.codesCount = {"count": len(record.codes), "precision": "EXACT"}
        self.asyncUsageCount = sum(code.usage_count for code in record.codes)
        self.usageLimit = record.usage_limit
        self.appliesOncePerCustomer = record.applies_once_per_customer
        self.appliesOnOneTimePurchase = record.applies_on_one_time_purchase
        self.appliesOnSubscription = record.applies_on_subscription
        self.recurringCycleLimit = record.recurring_cycle_limit
        self.combinesWith = dict(record.combines_with)
        self.hasTimelineComment = False
        if record.kind == "free_shipping":
            discount_class = "SHIPPING"
        elif record.items.get("all"):
            discount_class = "ORDER"
        else:
            discount_class = "PRODUCT"
        self.discountClass = discount_class
        self.discountClasses = [discount_class]
        self.maximumShippingPrice = (
            money(record.maximum_shipping_price, record.currency)
            if record.maximum_shipping_price is not None
            else None
        )

    def codes(self, info: Info, query: str | None = None, **page: Any) -> dict[str, Any]:
        nodes = [
            {
                "id": gid("DiscountRedeemCode", code.id),
                "code": code.code,
                "asyncUsageCount": code.usage_count,
            }
            for code in self.record.codes
        ]
        return paginate(nodes, key=lambda n: n["id"], **page)

    def customerGets(self, info: Info) -> dict[str, Any]:
        r = self.record
        if "percentage" in r.value:
            value: Any = {"__typename": "DiscountPercentage", "percentage": r.value["percentage"]}
        else:
            value = {
                "__typename": "DiscountAmount",
                "amount": money(r.value.get("amount", 0), r.currency),
                "appliesOnEachItem": bool(r.value.get("applies_on_each_item", False)),
            }
        items: Any
        if r.items.get("all"):
            items = {"__typename": "AllDiscountItems", "allItems": True}
        elif "collections" in r.items:
            items = _DiscountCollectionsView(self.ctx, r)
        else:
            items = _DiscountProductsView(self.ctx, r)
        return {
            "value": value,
            "items": items,
            "appliesOnOneTimePurchase": r.applies_on_one_time_purchase,
            "appliesOnSubscription": r.applies_on_subscription,
        }

    def minimumRequirement(self, info: Info) -> dict[str, Any] | None:
        minimum = self.record.minimum
        if not minimum:
            return None
        if "subtotal" in minimum:
            return {
                "__typename": "DiscountMinimumSubtotal",
                "greaterThanOrEqualToSubtotal": money(minimum["subtotal"], self.record.currency),
            }
        return {
            "__typename": "DiscountMinimumQuantity",
            "greaterThanOrEqualToQuantity": str(minimum["quantity"]),
        }

    def context(self, info: Info) -> Any:
        c = self.record.context
        if c.get("customers"):
            return _DiscountCustomersView(self.ctx, c["customers"])
        if c.get("segments"):
            return {
                "__typename": "DiscountCustomerSegments",
                "segments": [{"id": s, "name": "Segment"} for s in c["segments"]],
            }
        return {"__typename": "DiscountBuyerSelectionAll", "all": "ALL"}

    def customerSelection(self, info: Info) -> Any:
        c = self.record.context
        if c.get("customers") or c.get("segments"):
            return self.context(info)
        return {"__typename": "DiscountCustomerAll", "allCustomers": True}

    def destinationSelection(self, info: Info) -> dict[str, Any]:
        d = self.record.destination
        if d.get("all", True) and not d.get("countries"):
            return {"__typename": "DiscountCountryAll", "allCountries": True}
        return {
            "__typename": "DiscountCountries",
            "countries": list(d.get("countries") or []),
            "includeRestOfWorld": bool(d.get("rest_of_world", False)),
        }


class DiscountNodeView(_HasMetafields):
    typename = "DiscountCodeNode"

    def __init__(self, ctx: Context, record: DiscountRecord) -> None:
        self.ctx = ctx
        self.record = record
        self.owner_gid = record.gid
        self.id = record.gid

    def codeDiscount(self, info: Info) -> DiscountCodeView:
        return DiscountCodeView(self.ctx, self.record)


class BulkCreationView:
    typename = "DiscountRedeemCodeBulkCreation"

    def __init__(self, ctx: Context, record: BulkCreation) -> None:
        import time

        self.ctx = ctx
        self.record = record
        self.id = record.gid
        self.done = time.monotonic() >= record.done_at
        self.codesCount = len(record.codes)
        imported = sum(1 for _, errors, _ in record.codes if not errors)
        self.importedCount = imported if self.done else 0
        self.failedCount = (len(record.codes) - imported) if self.done else 0
        self.createdAt = iso_graphql(record.created_at)

    def codes(self, info: Info, **page: Any) -> dict[str, Any]:
        nodes = []
        for index, (code, errors, redeem_id) in enumerate(self.record.codes):
            nodes.append(
                {
                    "_index": index,
                    "code": code,
                    "errors": errors if self.done else [],
                    "discountRedeemCode": (
                        {
                            "id": gid("DiscountRedeemCode", redeem_id),
                            "code": code,
                            "asyncUsageCount": 0,
                        }
                        if redeem_id is not None and self.done
                        else None
                    ),
                }
            )
        return paginate(nodes, key=lambda n: n["_index"], **page)

    def discountCode(self, info: Info) -> DiscountNodeView | None:
        record = self.ctx.state.discounts.get(self.record.discount_id)
        return DiscountNodeView(self.ctx, record) if record else None


# -- webhooks ------------------------------------------------------------------------------


def topic_enum(topic: str) -> str:
    return topic.upper().replace("/", "_")


def topic_rest(enum_value: str) -> str:
    return enum_value.lower().replace("_", "/", 1)


class WebhookSubscriptionView:
    typename = "WebhookSubscription"

    def __init__(self, ctx: Context, record: SubscriptionRecord) -> None:
        self.record = record
        self.id = record.gid
        self.legacyResourceId = str(record.id)
        self.topic = topic_enum(record.topic)
        self.format = record.format
        self.includeFields = list(record.include_fields)
        self.metafieldNamespaces = list(record.metafield_namespaces)
        self.filter = record.filter
        self.callbackUrl = record.uri
        self.uri = record.uri
        self.endpoint = {"__typename": "WebhookHttpEndpoint", "callbackUrl": record.uri}
        self.apiVersion = {
            "handle": record.api_version,
            "displayName": record.api_version,
            "supported": True,
        }
        self.createdAt = iso_graphql(record.created_at)
        self.updatedAt = iso_graphql(record.updated_at)
