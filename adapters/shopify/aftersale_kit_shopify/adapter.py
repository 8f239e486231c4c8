"""The Shopify adapter: :class:`aftersale_kit.core.platform.Platform` over the GraphQL Admin API.

Built per shop with :meth:`ShopifyAdapter.from_settings`::

    adapter = ShopifyAdapter.from_settings(
        settings, secrets={"api_token": ..., "webhook_secret": ..., "previous_webhook_secret": ...}
    )

``settings.domain`` is the shop's ``*.myshopify.com`` domain; ``settings.api_base_url`` (e.g. a
sandbox ``http://127.0.0.1:8123``) replaces ``https://<domain>`` in front of
``/admin/api/<version>/graphql.json``; ``settings.api_version`` defaults to
:data:`DEFAULT_API_VERSION`.

What each method sends:

* coupons: ``discountCodeBasicCreate`` / ``discountCodeFreeShippingCreate``; on ``TAKEN`` the code
  is looked up with ``codeDiscountNodeByCode`` and the same coupon (same kind and title) counts as
  success with ``created=False``; deactivation with ``discountCodeDeactivate``;
* content: ``metafieldsSet`` of an app-owned JSON metafield ``$app:aftersale.blocks`` on the
  order, which the order-status page extension reads;
* customer loyalty: ``metafieldsSet`` of an app-owned JSON metafield ``$app:aftersale.loyalty``
  on the customer (balance, pending points, tier; see
  :meth:`ShopifyAdapter.write_customer_loyalty`);
* tags: ``tagsAdd`` (a customer's pre-sale tag removed with ``tagsRemove``);
* staff notes: the order note (what the packing slip prints as ``order.note``), read, appended
  to and written back with ``orderUpdate`` (see :meth:`ShopifyAdapter.add_order_note`);
* enrichment: one query for exactly the requested fields, cached for ``enrich_ttl`` seconds per
  (shop, order); no call when nothing requested is unknown;
* webhooks: ``webhookSubscriptionCreate`` for :data:`WEBHOOK_TOPICS`, skipping existing ones (the
  compliance topics are declared in the app's TOML and cannot be subscribed through the API);
  ``list_webhooks`` reads ``webhookSubscriptions`` of those topics, page by page;
* past orders (:mod:`.history`, for backtests): ``list_orders`` reads one page of the
  ``orders`` connection by creation date, resumable by its cursor; ``read_listed_order`` reads
  one of its orders without a call.
  Subscriptions declared in ``shopify.app.toml`` are not listed by the API: an app that declares
  its topics there should not call :meth:`ShopifyAdapter.register_webhooks` as well, or every
  event arrives twice.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from aftersale_kit.core.campaign import CouponKind, ShopSettings
from aftersale_kit.core.errors import (
    ConfigError,
    ConfigProblem,
    InvalidRequestError,
    NotFoundError,
    PayloadError,
)
from aftersale_kit.core.model import Order
from aftersale_kit.core.platform import (
    ENRICHABLE_FIELDS,
    ConfirmationContent,
    CouponRef,
    CouponSpec,
    CustomerLoyalty,
    IncomingWebhook,
    ListedOrder,
    MarketingConsent,
    OrderPage,
    WebhookEnvelope,
    WebhookSubscription,
    note_marker,
    platform_customer_id,
    source_fields,
    staff_note,
    unknown_fields,
)

from . import history
from . import queries as q
from .coupons import basic_input, free_shipping_input
from .enrich import EnrichmentCache
from .errors import Redactor, user_errors_error
from .graphql_client import GraphQLClient, RetryPolicy
from .mapping import (
    Enrichment,
    apply_enrichment,
    enrichment_from_graphql,
    gid,
    order_from_graphql,
)
from .tokens import ClientCredentialsTokens, InstalledToken
from .webhooks import normalize_shop_domain, peek_shopify_webhook, verify_shopify_webhook

__all__ = [
    "DEFAULT_API_VERSION",
    "LOYALTY_METAFIELD_KEY",
    "METAFIELD_KEY",
    "METAFIELD_NAMESPACE",
    "WEBHOOK_TOPICS",
    "ShopifyAdapter",
]

log = logging.getLogger("aftersale_kit_shopify")

PLATFORM = "shopify"
DEFAULT_API_VERSION = "2026-01"
METAFIELD_NAMESPACE = "$app:aftersale"
METAFIELD_KEY = "blocks"
#: The customer's loyalty document (:class:`CustomerLoyalty`), in the same app namespace.
LOYALTY_METAFIELD_KEY = "loyalty"
#: Topics subscribed through the API (the compliance topics live in the app's TOML).
WEBHOOK_TOPICS = (
    "ORDERS_CREATE",
    "ORDERS_PAID",
    "ORDERS_FULFILLED",
    "ORDERS_CANCELLED",
    "REFUNDS_CREATE",
    "APP_UNINSTALLED",
)

_TYPENAME = {
    CouponKind.PERCENTAGE: "DiscountCodeBasic",
    CouponKind.FIXED_AMOUNT: "DiscountCodeBasic",
    CouponKind.FREE_SHIPPING: "DiscountCodeFreeShipping",
}


def _settings_problem(path: str, message: str) -> ConfigError:
    return ConfigError([ConfigProblem("<shop settings>", 0, 0, path, message)])


def _valid_version(version: str) -> bool:
    return len(version) == 7 and version[4] == "-" and (version[:4] + version[5:]).isdigit()


class ShopifyAdapter:
    """One Shopify shop. Thread-safe; several adapters (shops) may run side by side."""

    name = PLATFORM

    def __init__(
        self,
        *,
        shop: str,
        api_token: str | ClientCredentialsTokens | InstalledToken,
        webhook_secret: str,
        previous_webhook_secret: str | None = None,
        api_version: str = DEFAULT_API_VERSION,
        api_base_url: str | None = None,
        retry: RetryPolicy | None = None,
        ssl_context: ssl.SSLContext | None = None,
        enrich_ttl: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        domain = normalize_shop_domain(shop)
        if not domain.endswith(".myshopify.com") or domain == ".myshopify.com":
            raise _settings_problem(
                "shop.domain",
                f"a Shopify shop is named by its myshopify domain, like 'brand.myshopify.com', "
                f"got {shop!r}",
            )
        if not _valid_version(api_version):
            raise _settings_problem(
                "shop.api_version", f"expected a version like '2026-01', got {api_version!r}"
            )
        if isinstance(api_token, str) and not api_token:
            raise _settings_problem("shop.secrets.api_token", "the Admin API token is empty")
        if not webhook_secret:
            raise _settings_problem("shop.secrets.webhook_secret", "the webhook secret is empty")
        self.shop = domain
        self.api_version = api_version
        self._webhook_secrets = tuple(s for s in (webhook_secret, previous_webhook_secret) if s)
        if isinstance(api_token, str):
            self._redact = Redactor([api_token, *self._webhook_secrets])
        else:
            self._redact = api_token.redactor
            for secret in self._webhook_secrets:
                self._redact.add(secret)
        self._client = GraphQLClient(
            shop=domain,
            token=api_token,
            api_version=api_version,
            base_url=api_base_url,
            retry=retry,
            ssl_context=ssl_context,
            redact=self._redact,
            sleep=sleep,
        )
        self._cache = EnrichmentCache(ttl=enrich_ttl)

    @classmethod
    def from_settings(
        cls,
        settings: ShopSettings,
        *,
        secrets: Mapping[str, str],
        retry: RetryPolicy | None = None,
        ssl_context: ssl.SSLContext | None = None,
        enrich_ttl: float = 60.0,
        credentials: Any = None,
    ) -> ShopifyAdapter:
        """The adapter for a shop's settings and its resolved secrets.

        ``secrets``: ``api_token`` and ``webhook_secret`` (the app's client secret), optionally
        ``previous_webhook_secret`` (accepted during a rotation). With ``shop.auth.method:
        client_credentials``: ``client_id`` and ``client_secret`` instead of ``api_token``; the
        token is fetched and refreshed through ``credentials`` (shared by processes; default:
        this process only). See :mod:`.tokens`.
        """
        if settings.platform != PLATFORM:
            raise _settings_problem(
                "shop.platform",
                f"the Shopify adapter serves platform 'shopify', not {settings.platform!r}",
            )
        method = settings.auth_method
        app = method in ("client_credentials", "oauth")
        needed = ("client_id", "client_secret") if app else ("api_token",)
        for required in (*needed, "webhook_secret"):
            if not secrets.get(required):
                ref = settings.secret(required)
                where = f"environment variable {ref.env}" if ref else f"secret {required!r}"
                raise _settings_problem(
                    f"shop.secrets.{required}",
                    f"{where} is not set (the Shopify adapter needs {required})",
                )
        token: str | ClientCredentialsTokens | InstalledToken = secrets.get("api_token", "")
        if method == "oauth":
            if credentials is None:
                raise _settings_problem(
                    "shop.auth.method",
                    "oauth keeps the installed token in the service's credential store; build "
                    "the adapter with credentials=",
                )
            token = InstalledToken(shop=normalize_shop_domain(settings.domain), store=credentials)
        elif method == "client_credentials":
            token = ClientCredentialsTokens(
                shop=normalize_shop_domain(settings.domain),
                client_id=secrets["client_id"],
                client_secret=secrets["client_secret"],
                base_url=settings.api_base_url,
                shared=credentials,
                ssl_context=ssl_context,
            )
        return cls(
            shop=settings.domain,
            api_token=token,
            webhook_secret=secrets["webhook_secret"],
            previous_webhook_secret=secrets.get("previous_webhook_secret") or None,
            api_version=settings.api_version or DEFAULT_API_VERSION,
            api_base_url=settings.api_base_url,
            retry=retry,
            ssl_context=ssl_context,
            enrich_ttl=enrich_ttl,
        )

    def __repr__(self) -> str:
        return f"ShopifyAdapter(shop={self.shop!r}, api_version={self.api_version!r})"

    @property
    def supported_fields(self) -> frozenset[str]:
        from .spec import SPEC

        return SPEC.fields

    @property
    def client(self) -> GraphQLClient:
        """The transport (its ``throttle_status`` shows the last ``extensions.cost``)."""
        return self._client

    # -- webhooks -----------------------------------------------------------------------------

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> IncomingWebhook:
        return verify_shopify_webhook(headers, body, secrets=self._webhook_secrets, shop=self.shop)

    def peek_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEnvelope:
        return peek_shopify_webhook(headers, body, secrets=self._webhook_secrets, shop=self.shop)

    # -- orders -------------------------------------------------------------------------------

    def _execute(
        self, query: str, variables: Mapping[str, Any] | None, *, operation: str
    ) -> dict[str, Any]:
        return self._client.execute(query, variables, operation=operation)

    def _not_found(self, what: str) -> NotFoundError:
        return NotFoundError(
            f"Shopify {self.shop}: {what} not found", platform=PLATFORM, status=200
        )

    def _all_line_nodes(
        self, order_gid: str, connection: Any, sel: q.Selection, *, full: bool
    ) -> list[Any]:
        """The line-item nodes of the first page plus every following page."""
        if not isinstance(connection, Mapping):
            return []
        nodes = list(connection.get("nodes") or [])
        page = connection.get("pageInfo") or {}
        query = q.line_items_page_query(sel, full=full)
        while isinstance(page, Mapping) and page.get("hasNextPage") and page.get("endCursor"):
            data = self._execute(
                query,
                {"id": order_gid, "lines": sel.lines_page, "after": page["endCursor"]},
                operation="order line items",
            )
            order = data.get("order")
            if not isinstance(order, Mapping):
                raise self._not_found(f"order {order_gid}")
            more = order.get("lineItems")
            if not isinstance(more, Mapping):
                break
            nodes.extend(more.get("nodes") or [])
            page = more.get("pageInfo") or {}
        return nodes

    def _complete(self, node: Mapping[str, Any], sel: q.Selection) -> dict[str, Any]:
        """``node`` with all its line items (following pages when there are more)."""
        order_gid = gid("Order", str(node.get("id", "")))
        lines = self._all_line_nodes(order_gid, node.get("lineItems"), sel, full=True)
        return {**node, "lineItems": {"nodes": lines}}

    def fetch_order(self, order_id: str, *, enrich: frozenset[str] = frozenset()) -> Order:
        fields = source_fields(enrich) & ENRICHABLE_FIELDS
        sel = q.Selection.of(fields)
        order_gid = gid("Order", order_id)
        data = self._execute(
            q.order_query(sel), {"id": order_gid, "lines": sel.lines_page}, operation="fetch_order"
        )
        node = data.get("order")
        if node is None:
            raise self._not_found(f"order {order_id}")
        if not isinstance(node, Mapping):
            raise PayloadError("Shopify GraphQL order: order must be an object", field="order")
        full = self._complete(node, sel)
        order = order_from_graphql(full, shop=self.shop, fields=fields)
        if fields:
            facts = enrichment_from_graphql(full, sel, fields, currency=order.currency)
            self._cache.put(self.shop, order.id, facts)
        return order

    def enrich(self, order: Order, fields: frozenset[str]) -> Order:
        wanted = unknown_fields(order, fields)
        if not wanted:
            return order
        cached = self._cache.get(self.shop, order.id) or Enrichment()
        to_fetch = frozenset(wanted - cached.fields)
        if to_fetch:
            sel = q.Selection.of(to_fetch)
            order_gid = order.ref("gid") or gid("Order", order.id)
            variables: dict[str, Any] = {"id": order_gid}
            if sel.product:
                variables["lines"] = sel.lines_first(len(order.line_items))
            data = self._execute(q.enrich_query(sel), variables, operation="enrich")
            node = data.get("order")
            if node is None:
                raise self._not_found(f"order {order.id}")
            if not isinstance(node, Mapping):
                raise PayloadError("Shopify GraphQL order: order must be an object", field="order")
            if sel.product:
                lines = self._all_line_nodes(order_gid, node.get("lineItems"), sel, full=False)
                node = {**node, "lineItems": {"nodes": lines}}
            facts = enrichment_from_graphql(node, sel, to_fetch, currency=order.currency)
            self._cache.put(self.shop, order.id, facts)
            cached.merge(facts)
        log.debug("shopify %s: enriched order %s with %s", self.shop, order.id, sorted(wanted))
        return apply_enrichment(order, cached, wanted)

    def orders_since(self, since: datetime) -> Iterator[Order]:
        if since.tzinfo is None:
            raise ValueError("since must be a timezone-aware datetime")
        stamp = since.astimezone(UTC).isoformat().replace("+00:00", "Z")
        # ">=": Shopify's updated_at has whole seconds; an order updated in the same second as
        # ``since`` must not slip through (a repeat at the boundary is harmless: dedupe).
        search = f"updated_at:>='{stamp}'"
        sel = q.Selection()
        query = q.orders_since_query(sel)
        after: str | None = None
        while True:
            data = self._execute(
                query,
                {
                    "query": search,
                    "first": q.ORDERS_PAGE,
                    "after": after,
                    "lines": q.ORDERS_PAGE_LINES,
                },
                operation="orders_since",
            )
            connection = data.get("orders")
            if not isinstance(connection, Mapping):
                raise PayloadError("Shopify GraphQL orders: not a connection", field="orders")
            for node in connection.get("nodes") or []:
                yield order_from_graphql(self._complete(node, sel), shop=self.shop)
            page = connection.get("pageInfo") or {}
            if not (page.get("hasNextPage") and page.get("endCursor")):
                return
            after = str(page["endCursor"])

    def list_orders(
        self,
        *,
        since: datetime | None,
        until: datetime | None,
        cursor: str | None,
        page_size: int = history.MAX_PAGE,
    ) -> OrderPage:
        sel = q.Selection()
        data = self._execute(
            q.orders_history_query(sel, lists_first=history.LIST_FIRST),
            {
                "query": history.history_search(since, until) or None,
                "first": max(1, min(history.MAX_PAGE, page_size)),
                "after": cursor,
                "lines": q.ORDERS_PAGE_LINES,
            },
            operation="list_orders",
        )
        connection = data.get("orders")
        if not isinstance(connection, Mapping):
            raise InvalidRequestError(
                f"Shopify {self.shop} answered the order listing without an orders connection",
                platform=PLATFORM,
                status=200,
            )
        nodes = connection.get("nodes") or []
        orders = tuple(
            self._complete(n, sel) if isinstance(n, Mapping) and n.get("id") else n
            for n in (nodes if isinstance(nodes, list) else [])
        )
        page = connection.get("pageInfo") or {}
        more = isinstance(page, Mapping) and page.get("hasNextPage") and page.get("endCursor")
        return OrderPage(orders=orders, next_cursor=str(page["endCursor"]) if more else None)

    def read_listed_order(self, raw: Mapping[str, Any]) -> ListedOrder:
        return history.read_listed_order(raw, shop=self.shop)

    # -- coupons ------------------------------------------------------------------------------

    def _collection_ids(self, handles: Sequence[str]) -> list[str]:
        """Collection GIDs for handles (ids and GIDs pass through)."""
        ids = [gid("Collection", h) for h in handles if h.isdigit() or h.startswith("gid://")]
        names = [h for h in handles if not (h.isdigit() or h.startswith("gid://"))]
        if not names:
            return ids
        search = " OR ".join(f"handle:{h}" for h in names)
        data = self._execute(
            q.COLLECTIONS_BY_HANDLE,
            {"query": search, "first": min(250, len(names))},
            operation="collections by handle",
        )
        found = {
            str(n.get("handle")): str(n.get("id"))
            for n in (data.get("collections") or {}).get("nodes") or []
            if isinstance(n, Mapping)
        }
        missing = [h for h in names if h not in found]
        if missing:
            raise InvalidRequestError(
                f"Shopify {self.shop} has no collection with handle {', '.join(missing)}",
                platform=PLATFORM,
                status=200,
                code="UNKNOWN_COLLECTION",
            )
        return ids + [found[h] for h in names]

    def _find_discount(self, code: str) -> tuple[str, str, str, str] | None:
        """(node id, typename, title, status) of the discount with this code, or None."""
        data = self._execute(q.CODE_DISCOUNT_BY_CODE, {"code": code}, operation="discount by code")
        node = data.get("codeDiscountNodeByCode")
        if not isinstance(node, Mapping):
            return None
        discount = node.get("codeDiscount") or {}
        return (
            str(node.get("id")),
            str(discount.get("__typename", "")),
            str(discount.get("title", "")),
            str(discount.get("status", "")),
        )

    def create_coupon(self, spec: CouponSpec) -> CouponRef:
        if spec.kind is CouponKind.FREE_SHIPPING:
            mutation, root = q.DISCOUNT_FREE_SHIPPING_CREATE, "discountCodeFreeShippingCreate"
            variables: dict[str, Any] = {
                "freeShippingCodeDiscount": free_shipping_input(spec, api_version=self.api_version)
            }
        else:
            collections = (
                self._collection_ids(spec.collections)
                if spec.collections and not spec.product_ids
                else []
            )
            mutation, root = q.DISCOUNT_BASIC_CREATE, "discountCodeBasicCreate"
            variables = {
                "basicCodeDiscount": basic_input(
                    spec, api_version=self.api_version, collection_ids=collections
                )
            }
        for _ in range(2):
            data = self._execute(mutation, variables, operation=root)
            payload = data.get(root) or {}
            errors = [e for e in payload.get("userErrors") or [] if isinstance(e, Mapping)]
            if not errors:
                node = payload.get("codeDiscountNode") or {}
                if not node.get("id"):
                    raise InvalidRequestError(
                        f"Shopify {self.shop} created no discount for {root}",
                        platform=PLATFORM,
                        status=200,
                    )
                log.info("shopify %s: coupon %s created", self.shop, node["id"])
                return CouponRef(platform_id=str(node["id"]), code=spec.code, created=True)
            if not any(e.get("code") == "TAKEN" for e in errors):
                raise user_errors_error(root, errors, shop=self.shop, redact=self._redact)
            existing = self._find_discount(spec.code)
            if existing is None:
                continue  # taken, then gone (deleted meanwhile): create once more
            node_id, typename, title, _ = existing
            if typename == _TYPENAME[spec.kind] and title == spec.title:
                log.info("shopify %s: coupon %s already exists", self.shop, node_id)
                return CouponRef(platform_id=node_id, code=spec.code, created=False)
            raise InvalidRequestError(
                f"Shopify {self.shop}: code {spec.code} is already used by another discount "
                f"({typename} {self._redact(title)!r}); pick another code prefix",
                platform=PLATFORM,
                status=200,
                code="TAKEN",
            )
        raise InvalidRequestError(
            f"Shopify {self.shop}: code {spec.code} is reported taken but cannot be found",
            platform=PLATFORM,
            status=200,
            code="TAKEN",
        )

    def deactivate_coupon(self, code: str) -> None:
        existing = self._find_discount(code)
        if existing is None:
            log.info("shopify %s: no such coupon, nothing to deactivate", self.shop)
            return
        node_id, _, _, status = existing
        if status == "EXPIRED":
            return
        data = self._execute(q.DISCOUNT_DEACTIVATE, {"id": node_id}, operation="deactivate")
        payload = data.get("discountCodeDeactivate") or {}
        errors = [e for e in payload.get("userErrors") or [] if isinstance(e, Mapping)]
        if errors:
            again = self._find_discount(code)
            if again is None or again[3] == "EXPIRED":
                return  # deactivated or deleted meanwhile
            raise user_errors_error(
                "discountCodeDeactivate", errors, shop=self.shop, redact=self._redact
            )
        log.info("shopify %s: coupon %s deactivated", self.shop, node_id)

    # -- order writes -------------------------------------------------------------------------

    def _order_gid(self, order: Order) -> str:
        return order.ref("gid") or gid("Order", order.id)

    def _set_json_metafield(self, owner: str, key: str, value: str) -> list[Mapping[str, Any]]:
        """``metafieldsSet`` of one app-owned JSON metafield (an upsert: set again, it is
        replaced, never duplicated); the user errors, if any."""
        metafield = {
            "ownerId": owner,
            "namespace": METAFIELD_NAMESPACE,
            "key": key,
            "type": "json",
            "value": value,
        }
        data = self._execute(
            q.METAFIELDS_SET, {"metafields": [metafield]}, operation="metafieldsSet"
        )
        payload = data.get("metafieldsSet") or {}
        return [e for e in payload.get("userErrors") or [] if isinstance(e, Mapping)]

    def write_content(self, order: Order, content: ConfirmationContent) -> None:
        errors = self._set_json_metafield(
            self._order_gid(order), METAFIELD_KEY, content.blocks_json()
        )
        if errors:
            raise user_errors_error("metafieldsSet", errors, shop=self.shop, redact=self._redact)

    def write_customer_loyalty(self, customer_id: str | None, loyalty: CustomerLoyalty) -> bool:
        """The JSON metafield ``$app:aftersale.loyalty`` on the customer.

        App-owned (the ``$app`` prefix becomes ``app--<app id>--aftersale``,
        https://shopify.dev/docs/apps/build/custom-data/ownership): only this app writes it,
        the merchant reads it in the admin, and Liquid reads it in theme templates and the
        app's own theme blocks (``customer.metafields``; access table:
        https://shopify.dev/docs/apps/build/custom-data/permissions). ``metafieldsSet`` sets
        a value whether or not it existed and is atomic
        (https://shopify.dev/docs/api/admin-graphql/latest/mutations/metafieldsSet), so a
        repeat replaces it. An unknown customer (``Owner does not exist.``) is NotFoundError.
        """
        customer = platform_customer_id(customer_id)
        if customer is None:
            return False
        owner = customer if customer.startswith("gid://") else gid("Customer", customer)
        errors = self._set_json_metafield(owner, LOYALTY_METAFIELD_KEY, loyalty.to_json())
        if any(_names_owner(e) for e in errors):
            raise self._not_found(f"customer {customer}")
        if errors:
            raise user_errors_error("metafieldsSet", errors, shop=self.shop, redact=self._redact)
        log.info("shopify %s: loyalty of customer %s written", self.shop, customer)
        return True

    def record_marketing_consent(
        self, customer_id: str | None, email: str, consent: MarketingConsent
    ) -> bool:
        """``customerEmailMarketingConsentUpdate``
        (https://shopify.dev/docs/api/admin-graphql/latest/mutations/customerEmailMarketingConsentUpdate,
        scope ``write_customers``): ``marketingState`` ``SUBSCRIBED`` (``UNSUBSCRIBED`` for a
        withdrawal), ``marketingOptInLevel`` ``CONFIRMED_OPT_IN`` (the double opt-in) and
        ``consentUpdatedAt`` the time of the confirmation
        (https://shopify.dev/docs/api/admin-graphql/latest/input-objects/CustomerEmailMarketingConsentInput).
        Shopify keeps no source or text version: those stay in our store as the proof. Setting
        the same state again changes nothing. A guest, an unknown customer or one without an
        e-mail address (the mutation requires one) is not written: ``False``."""
        customer = platform_customer_id(customer_id)
        if customer is None:
            return False
        owner = customer if customer.startswith("gid://") else gid("Customer", customer)
        variables = {
            "input": {
                "customerId": owner,
                "emailMarketingConsent": {
                    "marketingState": "SUBSCRIBED" if consent.opted_in else "UNSUBSCRIBED",
                    "marketingOptInLevel": "CONFIRMED_OPT_IN",
                    "consentUpdatedAt": consent.at.astimezone(UTC).isoformat(),
                },
            }
        }
        data = self._execute(
            q.EMAIL_CONSENT_UPDATE, variables, operation="customerEmailMarketingConsentUpdate"
        )
        payload = data.get("customerEmailMarketingConsentUpdate") or {}
        errors = [e for e in payload.get("userErrors") or [] if isinstance(e, Mapping)]
        if any("customerId" in (e.get("field") or ()) for e in errors):
            log.info(
                "shopify %s: consent of customer %s not written: %s",
                self.shop,
                customer,
                errors[0].get("message"),
            )
            return False
        if errors:
            raise user_errors_error(
                "customerEmailMarketingConsentUpdate", errors, shop=self.shop, redact=self._redact
            )
        log.info("shopify %s: marketing consent of customer %s written", self.shop, customer)
        return True

    def tag_order(self, order: Order, tags: Sequence[str]) -> None:
        cleaned = list(dict.fromkeys(t.strip() for t in tags if t.strip()))
        if not cleaned:
            return
        data = self._execute(
            q.TAGS_ADD, {"id": self._order_gid(order), "tags": cleaned}, operation="tagsAdd"
        )
        payload = data.get("tagsAdd") or {}
        errors = [e for e in payload.get("userErrors") or [] if isinstance(e, Mapping)]
        if errors:
            raise user_errors_error("tagsAdd", errors, shop=self.shop, redact=self._redact)

    def tag_customer(self, customer_id: str | None, tags: Sequence[str]) -> bool:
        """``tagsAdd`` on the Customer (https://shopify.dev/docs/api/admin-graphql/latest/mutations/tagsAdd:
        orders, draft orders, customers, products and articles; scope ``write_customers`` for
        a customer). Shopify merges the tags, so a repeat adds nothing; a theme gates a page
        with ``customer.tags contains 'vip-presale-...'`` in Liquid. A guest or an unknown
        customer (a user error on ``id``): ``False``."""
        return self._customer_tags_change(q.TAGS_ADD, "tagsAdd", customer_id, tags)

    def untag_customer(self, customer_id: str | None, tags: Sequence[str]) -> bool:
        """``tagsRemove`` on the Customer (https://shopify.dev/docs/api/admin-graphql/latest/mutations/tagsRemove,
        the mirror of ``tagsAdd``, scope ``write_customers``): the other tags stay, a tag that
        is not there is no error, so a repeat changes nothing. A guest or an unknown customer
        (a user error on ``id``): ``False``."""
        return self._customer_tags_change(q.TAGS_REMOVE, "tagsRemove", customer_id, tags)

    def _customer_tags_change(
        self, mutation: str, operation: str, customer_id: str | None, tags: Sequence[str]
    ) -> bool:
        """``tagsAdd`` / ``tagsRemove`` on a Customer; ``False`` for a guest or an unknown
        customer (a user error on ``id``), any other user error raised."""
        customer = platform_customer_id(customer_id)
        cleaned = list(dict.fromkeys(t.strip() for t in tags if t.strip()))
        if customer is None or not cleaned:
            return False
        owner = customer if customer.startswith("gid://") else gid("Customer", customer)
        data = self._execute(mutation, {"id": owner, "tags": cleaned}, operation=operation)
        payload = data.get(operation) or {}
        errors = [e for e in payload.get("userErrors") or [] if isinstance(e, Mapping)]
        if any("id" in (e.get("field") or ()) for e in errors):
            log.info("shopify %s: %s on customer %s: %s", self.shop, operation, customer, errors[0])
            return False
        if errors:
            raise user_errors_error(operation, errors, shop=self.shop, redact=self._redact)
        log.info("shopify %s: %s on customer %s", self.shop, operation, customer)
        return True

    def customer_tags(self, customer_id: str | None) -> list[str] | None:
        """The Customer's ``tags``
        (https://shopify.dev/docs/api/admin-graphql/latest/objects/Customer#field-tags);
        ``None`` for a guest or an unknown customer (``customer`` is null)."""
        customer = platform_customer_id(customer_id)
        if customer is None:
            return None
        owner = customer if customer.startswith("gid://") else gid("Customer", customer)
        data = self._execute(q.CUSTOMER_TAGS_QUERY, {"id": owner}, operation="customerTags")
        found = data.get("customer")
        if not isinstance(found, Mapping):
            return None
        return [str(t) for t in found.get("tags") or []]

    def add_order_note(self, order: Order, *, text: str, key: str) -> bool:
        """Append the staff note to the order note, once per ``key``.

        Why the note and not a note attribute: the order note is what staff read on the order
        page and what the packing slip prints (``order.note``,
        https://help.shopify.com/en/manual/orders/printing-orders/packing-slips-variable-list);
        note attributes show only under "Additional details". ``orderUpdate`` overwrites the
        note (OrderInput, https://shopify.dev/docs/api/admin-graphql/2025-10/input-objects/OrderInput),
        so the note is read, our line appended under what is there (the customer's note stays
        first and untouched) and the whole written back.

        The race: Shopify has no compare-and-set for the note. An edit saved between our read
        and our write (one round trip) is overwritten, and a save from an admin page loaded
        before our write drops our line. Both windows are narrow (the note is written seconds
        after payment, before anyone packs), the read and the write follow each other with no
        other call between, and the order tag (``tagsAdd`` merges on Shopify's side) marks the
        gift even when the line is lost.
        """
        line = staff_note(text, key)
        marker = note_marker(key)
        order_gid = self._order_gid(order)
        data = self._execute(q.ORDER_NOTE, {"id": order_gid}, operation="order note")
        node = data.get("order")
        if not isinstance(node, Mapping):
            raise self._not_found(f"order {order.id}")
        current = str(node.get("note") or "")
        if marker in current:
            return False
        note = f"{current.rstrip()}\n{line}" if current.strip() else line
        data = self._execute(
            q.ORDER_NOTE_UPDATE, {"input": {"id": order_gid, "note": note}}, operation="orderUpdate"
        )
        payload = data.get("orderUpdate") or {}
        errors = [e for e in payload.get("userErrors") or [] if isinstance(e, Mapping)]
        if errors:
            raise user_errors_error("orderUpdate", errors, shop=self.shop, redact=self._redact)
        log.info("shopify %s: staff note added to order %s", self.shop, order.id)
        return True

    # -- webhook subscriptions ----------------------------------------------------------------

    def _subscriptions(self) -> list[Mapping[str, Any]]:
        found: list[Mapping[str, Any]] = []
        after: str | None = None
        while True:
            data = self._execute(
                q.WEBHOOK_SUBSCRIPTIONS,
                {"topics": list(WEBHOOK_TOPICS), "after": after},
                operation="webhookSubscriptions",
            )
            connection = data.get("webhookSubscriptions") or {}
            found.extend(n for n in connection.get("nodes") or [] if isinstance(n, Mapping))
            page = connection.get("pageInfo") or {}
            if not (page.get("hasNextPage") and page.get("endCursor")):
                return found
            after = str(page["endCursor"])

    def list_webhooks(self) -> list[WebhookSubscription]:
        return [
            WebhookSubscription(id=str(s["id"]), topic=str(s["topic"]), address=str(s["uri"]))
            for s in self._subscriptions()
            if s.get("id") and s.get("topic") and s.get("uri")
        ]

    def register_webhooks(self, address: str) -> list[str]:
        existing = self._subscriptions()
        ids: list[str] = []
        for topic in WEBHOOK_TOPICS:
            match = next(
                (s for s in existing if s.get("topic") == topic and s.get("uri") == address), None
            )
            if match is not None:
                ids.append(str(match["id"]))
                continue
            data = self._execute(
                q.WEBHOOK_SUBSCRIPTION_CREATE,
                {"topic": topic, "webhookSubscription": {"uri": address, "format": "JSON"}},
                operation="webhookSubscriptionCreate",
            )
            payload = data.get("webhookSubscriptionCreate") or {}
            errors = [e for e in payload.get("userErrors") or [] if isinstance(e, Mapping)]
            if errors:
                # "Address for this topic has already been taken": created meanwhile (a
                # concurrent registration, or a retried request that had succeeded).
                again = next(
                    (
                        s
                        for s in self._subscriptions()
                        if s.get("topic") == topic and s.get("uri") == address
                    ),
                    None,
                )
                if again is None:
                    what = f"webhookSubscriptionCreate {topic}"
                    raise user_errors_error(what, errors, shop=self.shop, redact=self._redact)
                ids.append(str(again["id"]))
                continue
            ids.append(str((payload.get("webhookSubscription") or {}).get("id")))
            log.info("shopify %s: subscribed %s", self.shop, topic)
        return ids


def _names_owner(error: Mapping[str, Any]) -> bool:
    """A ``metafieldsSet`` user error about the owner (``["metafields", "0", "ownerId"]``)."""
    field = error.get("field")
    return isinstance(field, list) and bool(field) and field[-1] == "ownerId"
