"""The GraphQL documents the adapter sends (Admin API, 2026-01 shapes).

Order reads are assembled from fixed parts so that an enrichment asks for exactly the fields
requested and nothing else (the text never contains caller input: values go in variables).

Page sizes keep the requested query cost low: Shopify charges the *requested* cost against the
shop's leaky bucket before it runs a query (and refunds the difference to the actual cost
afterwards), and a connection costs about ``first`` times its node
(https://shopify.dev/docs/api/usage/rate-limits, single-query maximum 1000 points). So an order
is read with its first 25 line items (about 250 points as the sandbox counts them, of which
about 100 are the lines' ``discountAllocations`` and the buyer's ``presentmentMoney``, which the
margin guard and the content need), enrichment asks for as many line items as the order has (at
most 25, or 10 with collections), and the reconciliation sweep reads 10 orders with their first
5 line items per page (about 680 points); longer orders get their remaining line items from
follow-up pages.
"""

from __future__ import annotations

from dataclasses import dataclass

from aftersale_kit.core.platform import (
    CUSTOMER_ORDERS_COUNT,
    CUSTOMER_TAGS,
    CUSTOMER_TOTAL_SPENT,
    LINE_ITEMS_CATEGORIES,
    LINE_ITEMS_PRODUCT_TYPE,
    LINE_ITEMS_TAGS,
)

__all__ = [
    "CODE_DISCOUNT_BY_CODE",
    "COLLECTIONS_BY_HANDLE",
    "CUSTOMER_TAGS",
    "DISCOUNT_BASIC_CREATE",
    "DISCOUNT_DEACTIVATE",
    "DISCOUNT_FREE_SHIPPING_CREATE",
    "METAFIELDS_SET",
    "ORDER_LINES_PAGE",
    "ORDER_NOTE",
    "ORDER_NOTE_UPDATE",
    "TAGS_ADD",
    "TAGS_REMOVE",
    "WEBHOOK_SUBSCRIPTIONS",
    "WEBHOOK_SUBSCRIPTION_CREATE",
    "Selection",
    "enrich_query",
    "line_items_page_query",
    "order_query",
    "orders_history_query",
    "orders_since_query",
]

#: Line items per page when product collections are read, and otherwise.
LINES_PAGE_WITH_COLLECTIONS = 10
LINES_PAGE = 25
#: Collections read per product (handles).
COLLECTIONS_PER_PRODUCT = 20
#: Orders per page of the reconciliation sweep, and their line items on that page.
ORDERS_PAGE = 10
ORDERS_PAGE_LINES = 5

_MONEY = "{ shopMoney { amount currencyCode } }"
#: Shop money for rules, budgets and margins; presentment money (the buyer's) for the content.
_MONEY_BOTH = "{ shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }"
_ADDRESS = "{ countryCodeV2 provinceCode city zip }"


@dataclass(frozen=True, slots=True)
class Selection:
    """Which enrichment fields a query reads."""

    orders_count: bool = False
    total_spent: bool = False
    customer_tags: bool = False
    product_type: bool = False
    product_tags: bool = False
    collections: bool = False

    @classmethod
    def of(cls, fields: frozenset[str]) -> Selection:
        return cls(
            orders_count=CUSTOMER_ORDERS_COUNT in fields,
            total_spent=CUSTOMER_TOTAL_SPENT in fields,
            customer_tags=CUSTOMER_TAGS in fields,
            product_type=LINE_ITEMS_PRODUCT_TYPE in fields,
            product_tags=LINE_ITEMS_TAGS in fields,
            collections=LINE_ITEMS_CATEGORIES in fields,
        )

    @property
    def customer(self) -> bool:
        return self.orders_count or self.total_spent or self.customer_tags

    @property
    def product(self) -> bool:
        return self.product_type or self.product_tags or self.collections

    @property
    def any(self) -> bool:
        return self.customer or self.product

    @property
    def lines_page(self) -> int:
        return LINES_PAGE_WITH_COLLECTIONS if self.collections else LINES_PAGE

    def lines_first(self, known_lines: int) -> int:
        """The first page size when the order's number of line items is known."""
        return max(1, min(known_lines, self.lines_page))

    def customer_fields(self) -> str:
        parts = []
        if self.orders_count:
            parts.append("numberOfOrders")
        if self.total_spent:
            parts.append("amountSpent { amount currencyCode }")
        if self.customer_tags:
            parts.append("tags")
        return " ".join(parts)

    def product_fields(self) -> str:
        parts = []
        if self.product_type:
            parts.append("productType")
        if self.product_tags:
            parts.append("tags")
        if self.collections:
            parts.append(f"collections(first: {COLLECTIONS_PER_PRODUCT}) {{ nodes {{ handle }} }}")
        return " ".join(parts)


def _line_node(sel: Selection, *, full: bool) -> str:
    product = f"product {{ id {sel.product_fields()} }}"
    if not full:
        return f"id {product}"
    return (
        "id title name quantity sku vendor isGiftCard variant { id } "
        f"originalUnitPriceSet {_MONEY_BOTH} discountAllocations {{ allocatedAmountSet {_MONEY} }} "
        f"{product}"
    )


def _order_fields(sel: Selection, *, lines_first: str) -> str:
    customer = (
        # Customer.email is deprecated in favour of defaultEmailAddress (2025-04) but still served;
        # the order's own email is what coupons and messages use.
        f"customer {{ id email firstName lastName locale {sel.customer_fields()} }}"
    )
    return (
        "id legacyResourceId name createdAt processedAt cancelledAt test email currencyCode "
        "presentmentCurrencyCode "
        "displayFinancialStatus tags discountCodes customerLocale sourceName paymentGatewayNames "
        "customAttributes { key value } "
        f"subtotalPriceSet {_MONEY_BOTH} totalPriceSet {_MONEY_BOTH} "
        f"totalDiscountsSet {_MONEY_BOTH} totalShippingPriceSet {_MONEY_BOTH} "
        f"totalTaxSet {_MONEY_BOTH} "
        "shippingLine { title code } "
        f"billingAddress {_ADDRESS} shippingAddress {_ADDRESS} "
        f"{customer} "
        f"lineItems(first: {lines_first}) {{ pageInfo {{ hasNextPage endCursor }} "
        f"nodes {{ {_line_node(sel, full=True)} }} }}"
    )


def order_query(sel: Selection) -> str:
    """One order, with the selected enrichment fields. Variables: ``id``, ``lines``."""
    return (
        "query AftersaleOrder($id: ID!, $lines: Int!) { "
        f"order(id: $id) {{ {_order_fields(sel, lines_first='$lines')} }} }}"
    )


def enrich_query(sel: Selection) -> str:
    """Only the selected enrichment fields of one order. Variables: ``id``, ``lines``."""
    parts = ["id"]
    if sel.customer:
        parts.append(f"customer {{ id {sel.customer_fields()} }}")
    if sel.product:
        parts.append(
            "lineItems(first: $lines) { pageInfo { hasNextPage endCursor } "
            f"nodes {{ {_line_node(sel, full=False)} }} }}"
        )
    variables = "$id: ID!, $lines: Int!" if sel.product else "$id: ID!"
    return f"query AftersaleEnrich({variables}) {{ order(id: $id) {{ {' '.join(parts)} }} }}"


def line_items_page_query(sel: Selection, *, full: bool) -> str:
    """The next page of an order's line items. Variables: ``id``, ``lines``, ``after``."""
    return (
        "query AftersaleOrderLines($id: ID!, $lines: Int!, $after: String) { "
        "order(id: $id) { id lineItems(first: $lines, after: $after) { "
        "pageInfo { hasNextPage endCursor } "
        f"nodes {{ {_line_node(sel, full=full)} }} }} }} }}"
    )


ORDER_LINES_PAGE = line_items_page_query(Selection(), full=True)


def orders_since_query(sel: Selection) -> str:
    """Orders updated after a time. Variables: ``query``, ``first``, ``after``, ``lines``."""
    return (
        "query AftersaleOrdersSince($query: String!, $first: Int!, $after: String, "
        "$lines: Int!) { "
        "orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) { "
        "pageInfo { hasNextPage endCursor } "
        f"nodes {{ {_order_fields(sel, lines_first='$lines')} }} }} }}"
    )


def orders_history_query(sel: Selection, *, lists_first: int) -> str:
    """Orders created in a window, oldest first, with their refunds and fulfillments (for a
    backtest). Variables: ``query``, ``first``, ``after``, ``lines``."""
    return (
        "query AftersaleOrdersHistory($query: String, $first: Int!, $after: String, "
        "$lines: Int!) { "
        "orders(first: $first, after: $after, query: $query, sortKey: CREATED_AT) { "
        "pageInfo { hasNextPage endCursor } "
        f"nodes {{ {_order_fields(sel, lines_first='$lines')} "
        f"refunds(first: {lists_first}) {{ id legacyResourceId createdAt "
        f"totalRefundedSet {_MONEY} }} "
        f"fulfillments(first: {lists_first}) {{ createdAt }} }} }} }}"
    )


_USER_ERRORS = "userErrors { field message code }"

DISCOUNT_BASIC_CREATE = (
    "mutation AftersaleDiscountBasicCreate($basicCodeDiscount: DiscountCodeBasicInput!) { "
    "discountCodeBasicCreate(basicCodeDiscount: $basicCodeDiscount) { "
    f"codeDiscountNode {{ id }} {_USER_ERRORS} }} }}"
)

DISCOUNT_FREE_SHIPPING_CREATE = (
    "mutation AftersaleDiscountFreeShippingCreate("
    "$freeShippingCodeDiscount: DiscountCodeFreeShippingInput!) { "
    "discountCodeFreeShippingCreate(freeShippingCodeDiscount: $freeShippingCodeDiscount) { "
    f"codeDiscountNode {{ id }} {_USER_ERRORS} }} }}"
)

CODE_DISCOUNT_BY_CODE = (
    "query AftersaleDiscountByCode($code: String!) { "
    "codeDiscountNodeByCode(code: $code) { id codeDiscount { __typename "
    "... on DiscountCodeBasic { title status } "
    "... on DiscountCodeFreeShipping { title status } "
    "... on DiscountCodeBxgy { title status } "
    "... on DiscountCodeApp { title status } } } }"
)

DISCOUNT_DEACTIVATE = (
    "mutation AftersaleDiscountDeactivate($id: ID!) { "
    "discountCodeDeactivate(id: $id) { codeDiscountNode { id } "
    "userErrors { field message code } } }"
)

COLLECTIONS_BY_HANDLE = (
    "query AftersaleCollections($query: String!, $first: Int!) { "
    "collections(first: $first, query: $query) { nodes { id handle } } }"
)

METAFIELDS_SET = (
    "mutation AftersaleMetafieldsSet($metafields: [MetafieldsSetInput!]!) { "
    "metafieldsSet(metafields: $metafields) { metafields { id key namespace } "
    "userErrors { field message code } } }"
)

ORDER_NOTE = "query AftersaleOrderNote($id: ID!) { order(id: $id) { id note } }"

ORDER_NOTE_UPDATE = (
    "mutation AftersaleOrderNoteUpdate($input: OrderInput!) { "
    "orderUpdate(input: $input) { order { id note } userErrors { field message } } }"
)

TAGS_ADD = (
    "mutation AftersaleTagsAdd($id: ID!, $tags: [String!]!) { "
    "tagsAdd(id: $id, tags: $tags) { node { id } userErrors { field message } } }"
)

TAGS_REMOVE = (
    "mutation AftersaleTagsRemove($id: ID!, $tags: [String!]!) { "
    "tagsRemove(id: $id, tags: $tags) { node { id } userErrors { field message } } }"
)

CUSTOMER_TAGS_QUERY = "query AftersaleCustomerTags($id: ID!) { customer(id: $id) { id tags } }"

WEBHOOK_SUBSCRIPTIONS = (
    "query AftersaleWebhookSubscriptions($topics: [WebhookSubscriptionTopic!], "
    "$after: String) { "
    "webhookSubscriptions(first: 100, after: $after, topics: $topics) { "
    "pageInfo { hasNextPage endCursor } nodes { id topic uri } } }"
)

WEBHOOK_SUBSCRIPTION_CREATE = (
    "mutation AftersaleWebhookSubscriptionCreate($topic: WebhookSubscriptionTopic!, "
    "$webhookSubscription: WebhookSubscriptionInput!) { "
    "webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) { "
    "webhookSubscription { id topic uri } userErrors { field message } } }"
)

EMAIL_CONSENT_UPDATE = (
    "mutation AftersaleEmailConsent($input: CustomerEmailMarketingConsentUpdateInput!) { "
    "customerEmailMarketingConsentUpdate(input: $input) { customer { id } "
    "userErrors { field message code } } }"
)
