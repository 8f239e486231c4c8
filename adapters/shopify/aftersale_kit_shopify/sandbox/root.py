"""Root resolvers: the ``QueryRoot`` fields and the ``Mutation`` fields.

Business errors come back as ``userErrors`` in a 200, as on Shopify; malformed ids as top-level
GraphQL errors. Messages and codes follow Shopify's where known (``TAKEN``: "Code must be unique.
Please try a different code."; required fields: ``BLANK`` with Rails-style "X can't be blank").
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlsplit

from graphql import GraphQLError, GraphQLResolveInfo

from .consent import update_email_consent
from .discount_create import create_discount
from .metafields_set import set_metafields
from .orders import Event, _split_tags
from .state import BulkCreation, DiscountRecord, RedeemCode, SubscriptionRecord
from .util import iso_rest, now_utc, parse_gid
from .util import user_error as _user_error
from .views import (
    BulkCreationView,
    Context,
    CustomerView,
    DiscountNodeView,
    MetafieldView,
    OrderView,
    ProductView,
    ShopView,
    WebhookSubscriptionView,
    collections_connection,
    invalid_id,
    lookup_gid,
    orders_connection,
    paginate,
    topic_rest,
)

__all__ = ["Root"]

Info = GraphQLResolveInfo

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _no_discount(payload_field: str) -> dict[str, Any]:
    """The payload of a discount mutation given an id that names no discount."""
    return {
        payload_field: None,
        "userErrors": [_user_error(["id"], "Discount does not exist", "INVALID")],
    }


def _ctx(info: Info) -> Context:
    context = info.context
    assert isinstance(context, Context)
    return context


class Root:
    """``root_value`` of every operation: graphql-core calls ``root.<field>(info, **args)``."""

    # -- queries -------------------------------------------------------------------------------

    def shop(self, info: Info) -> ShopView:
        return ShopView(_ctx(info))

    def node(self, info: Info, id: str) -> Any:
        ctx = _ctx(info)
        parsed = parse_gid(id)
        if parsed is None:
            raise invalid_id(id)
        kind, id_ = parsed
        state = ctx.state
        if kind == "Order" and id_ in state.orders and state.orders[id_].visible():
            return OrderView(ctx, state.orders[id_])
        if kind == "Customer" and id_ in state.customers:
            return CustomerView(ctx, state.customers[id_])
        if kind == "Product" and id_ in state.products:
            return ProductView(ctx, state.products[id_])
        if kind == "DiscountCodeNode" and id_ in state.discounts:
            return DiscountNodeView(ctx, state.discounts[id_])
        if kind == "WebhookSubscription" and id_ in state.subscriptions:
            return WebhookSubscriptionView(ctx, state.subscriptions[id_])
        if kind == "Metafield" and id_ in state.metafields:
            return MetafieldView(ctx, state.metafields[id_])
        if kind == "DiscountRedeemCodeBulkCreation" and id_ in state.bulk_creations:
            return BulkCreationView(ctx, state.bulk_creations[id_])
        if kind == "Shop" and id_ == state.shop_id:
            return ShopView(ctx)
        return None

    def nodes(self, info: Info, ids: list[str]) -> list[Any]:
        return [self.node(info, value) for value in ids]

    def order(self, info: Info, id: str) -> OrderView | None:
        ctx = _ctx(info)
        id_ = lookup_gid(id, "Order")
        record = ctx.state.orders.get(id_) if id_ is not None else None
        if record is None or not record.visible():
            return None
        return OrderView(ctx, record)

    def orders(self, info: Info, **args: Any) -> dict[str, Any]:
        return orders_connection(_ctx(info), info, **args)

    def ordersCount(self, info: Info, query: str | None = None, limit: int = 10000) -> Any:
        from .search import compile_order_query

        ctx = _ctx(info)
        predicate, _ = compile_order_query(query)
        count = sum(1 for r in ctx.state.visible_orders() if predicate(r.rest))
        precision = "AT_LEAST" if count > limit else "EXACT"
        return {"count": min(count, limit), "precision": precision}

    def customer(self, info: Info, id: str) -> CustomerView | None:
        ctx = _ctx(info)
        id_ = lookup_gid(id, "Customer")
        record = ctx.state.customers.get(id_) if id_ is not None else None
        return CustomerView(ctx, record) if record else None

    def product(self, info: Info, id: str) -> ProductView | None:
        ctx = _ctx(info)
        id_ = lookup_gid(id, "Product")
        record = ctx.state.products.get(id_) if id_ is not None else None
        return ProductView(ctx, record) if record else None

    def collections(self, info: Info, query: str | None = None, **page: Any) -> Any:
        return collections_connection(_ctx(info), info, query=query, **page)

    def codeDiscountNode(self, info: Info, id: str) -> DiscountNodeView | None:
        record = self._discount(info, id)
        return DiscountNodeView(_ctx(info), record) if record else None

    def codeDiscountNodeByCode(self, info: Info, code: str) -> DiscountNodeView | None:
        ctx = _ctx(info)
        found = ctx.state.discount_by_code(code)
        return DiscountNodeView(ctx, found[0]) if found else None

    def codeDiscountNodes(self, info: Info, query: str | None = None, **page: Any) -> Any:
        ctx = _ctx(info)
        records = list(ctx.state.discounts.values())
        if query:
            needle = query.split(":", 1)[-1].strip("'\" ").casefold()
            records = [
                r
                for r in records
                if needle in r.title.casefold() or any(needle == c.code.casefold() for c in r.codes)
            ]
        views = [DiscountNodeView(ctx, r) for r in records]
        return paginate(views, key=lambda v: v.record.id, **page)

    def discountRedeemCodeBulkCreation(
        self,
        info: Info,
        id: str,
    ) -> BulkCreationView | None:
        ctx = _ctx(info)
        id_ = lookup_gid(id, "DiscountRedeemCodeBulkCreation")
        record = ctx.state.bulk_creations.get(id_) if id_ is not None else None
        return BulkCreationView(ctx, record) if record else None

    def webhookSubscription(self, info: Info, id: str) -> WebhookSubscriptionView | None:
        ctx = _ctx(info)
        id_ = lookup_gid(id, "WebhookSubscription")
        record = ctx.state.subscriptions.get(id_) if id_ is not None else None
        if record is None or record.source != "api":
            return None
        return WebhookSubscriptionView(ctx, record)

    def webhookSubscriptions(
        self,
        info: Info,
        topics: list[str] | None = None,
        callbackUrl: str | None = None,
        format: str | None = None,
        sortKey: str = "CREATED_AT",
        query: str | None = None,
        **page: Any,
    ) -> dict[str, Any]:
        ctx = _ctx(info)
        wanted = {topic_rest(t) for t in topics} if topics else None
        records = [
            r
            for r in ctx.state.subscriptions.values()
            if r.source == "api"
            and (wanted is None or r.topic in wanted)
            and (callbackUrl is None or r.uri == callbackUrl)
            and (format is None or r.format == format)
        ]
        records.sort(key=lambda r: (r.created_at, r.id))
        views = [WebhookSubscriptionView(ctx, r) for r in records]
        return paginate(views, key=lambda v: v.record.id, **page)

    # -- discounts -----------------------------------------------------------------------------

    def discountCodeBasicCreate(self, info: Info, basicCodeDiscount: dict[str, Any]) -> Any:
        return create_discount(_ctx(info), basicCodeDiscount, "basicCodeDiscount", "basic")

    def discountCodeFreeShippingCreate(
        self, info: Info, freeShippingCodeDiscount: dict[str, Any]
    ) -> Any:
        return create_discount(
            _ctx(info), freeShippingCodeDiscount, "freeShippingCodeDiscount", "free_shipping"
        )

    def _discount(self, info: Info, id_value: str) -> DiscountRecord | None:
        id_ = lookup_gid(id_value, "DiscountCodeNode", "DiscountNode")
        return _ctx(info).state.discounts.get(id_) if id_ is not None else None

    def discountCodeDeactivate(self, info: Info, id: str) -> Any:
        ctx = _ctx(info)
        record = self._discount(info, id)
        if record is None:
            return _no_discount("codeDiscountNode")
        moment = now_utc()
        if record.ends_at is None or record.ends_at > moment:
            record.ends_at = moment
            if record.starts_at > moment:
                record.starts_at = moment
            record.updated_at = moment
        return {"codeDiscountNode": DiscountNodeView(ctx, record), "userErrors": []}

    def discountCodeActivate(self, info: Info, id: str) -> Any:
        ctx = _ctx(info)
        record = self._discount(info, id)
        if record is None:
            return _no_discount("codeDiscountNode")
        moment = now_utc()
        if record.ends_at is not None and record.ends_at <= moment:
            record.ends_at = None
        if record.starts_at > moment:
            record.starts_at = moment
        record.updated_at = moment
        return {"codeDiscountNode": DiscountNodeView(ctx, record), "userErrors": []}

    def discountCodeDelete(self, info: Info, id: str) -> Any:
        ctx = _ctx(info)
        record = self._discount(info, id)
        if record is None:
            return _no_discount("deletedCodeDiscountId")
        del ctx.state.discounts[record.id]
        return {"deletedCodeDiscountId": record.gid, "userErrors": []}

    def discountRedeemCodeBulkAdd(
        self, info: Info, discountId: str, codes: list[dict[str, Any]]
    ) -> Any:
        ctx = _ctx(info)
        if len(codes) > 250:
            raise GraphQLError(
                f"The input array size of {len(codes)} is greater than the maximum allowed of 250.",
                extensions={"code": "MAX_INPUT_SIZE_EXCEEDED"},
            )
        record = self._discount(info, discountId)
        if record is None:
            return {
                "bulkCreation": None,
                "userErrors": [
                    _user_error(["discountId"], "Code discount does not exist.", "INVALID")
                ],
            }
        results: list[tuple[str, list[dict[str, Any]], int | None]] = []
        seen: set[str] = set()
        for entry in codes:
            code = str(entry.get("code") or "").strip()
            errors: list[dict[str, Any]] = []
            if not code:
                errors.append(_user_error(["code"], "Code can't be blank", "BLANK"))
            elif code.casefold() in seen or ctx.state.discount_by_code(code):
                errors.append(
                    _user_error(
                        ["code"], "Code must be unique. Please try a different code.", "TAKEN"
                    )
                )
            redeem_id = None
            if not errors:
                seen.add(code.casefold())
                redeem_id = ctx.state.new_id()
                record.codes.append(RedeemCode(redeem_id, code))
            results.append((code, errors, redeem_id))
        job = BulkCreation(
            id=ctx.state.new_id(),
            discount_id=record.id,
            codes=results,
            created_at=now_utc(),
            done_at=time.monotonic() + ctx.bulk_job_seconds,
        )
        ctx.state.bulk_creations[job.id] = job
        return {"bulkCreation": BulkCreationView(ctx, job), "userErrors": []}

    # -- metafields and tags ---------------------------------------------------------------

    def metafieldsSet(self, info: Info, metafields: list[dict[str, Any]]) -> Any:
        return set_metafields(_ctx(info), metafields)

    def _tag_target(self, info: Info, id_value: str) -> tuple[Any, str, int] | None:
        ctx = _ctx(info)
        parsed = parse_gid(id_value)
        if parsed is None:
            raise invalid_id(id_value)
        kind, id_ = parsed
        if kind == "Order" and id_ in ctx.state.orders and ctx.state.orders[id_].visible():
            return ctx.state.orders[id_], kind, id_
        if kind == "Customer" and id_ in ctx.state.customers:
            return ctx.state.customers[id_], kind, id_
        if kind == "Product" and id_ in ctx.state.products:
            return ctx.state.products[id_], kind, id_
        return None

    def _change_tags(self, info: Info, id_value: str, tags: list[str], *, add: bool) -> Any:
        ctx = _ctx(info)
        target = self._tag_target(info, id_value)
        if target is None:
            return {"node": None, "userErrors": [{"field": ["id"], "message": "Not Found"}]}
        record, kind, _ = target
        wanted = _split_tags(tags)
        too_long = [t for t in wanted if len(t) > 255]
        if too_long:
            return {
                "node": None,
                "userErrors": [
                    {"field": ["tags"], "message": f"Tag '{too_long[0][:20]}...' is too long"}
                ],
            }
        if kind == "Order":
            current = _split_tags(record.rest.get("tags"))
            if add:
                updated = current + [
                    t for t in wanted if t.casefold() not in map(str.casefold, current)
                ]
            else:
                drop = {t.casefold() for t in wanted}
                updated = [t for t in current if t.casefold() not in drop]
            if updated != current:
                record.rest["tags"] = ", ".join(updated)
                record.rest["updated_at"] = iso_rest(now_utc())
                ctx.emit([Event("orders/updated", json.loads(json.dumps(record.rest)))])
            return {"node": OrderView(ctx, record), "userErrors": []}
        current = list(record.tags)
        if add:
            record.tags = current + [t for t in wanted if t not in current]
        else:
            record.tags = [t for t in current if t not in wanted]
        view = CustomerView(ctx, record) if kind == "Customer" else ProductView(ctx, record)
        return {"node": view, "userErrors": []}

    def orderUpdate(self, info: Info, input: dict[str, Any]) -> Any:
        """Shopify's ``orderUpdate``: ``note``, ``tags`` and ``customAttributes`` each
        **overwrite** what the order had (OrderInput, Admin API 2025-10); fires
        ``orders/updated`` when something changed."""
        ctx = _ctx(info)
        id_value = str(input.get("id", ""))
        parsed = parse_gid(id_value)
        if parsed is None:
            raise invalid_id(id_value)
        kind, id_ = parsed
        record = ctx.state.orders.get(id_) if kind == "Order" else None
        if record is None or not record.visible():
            return {
                "order": None,
                "userErrors": [{"field": ["id"], "message": "Order does not exist"}],
            }
        rest = record.rest
        before = json.dumps(rest, sort_keys=True, default=str)
        if "note" in input:
            rest["note"] = input["note"]
        if "tags" in input:
            rest["tags"] = ", ".join(_split_tags(input["tags"] or []))
        if "customAttributes" in input:
            rest["note_attributes"] = [
                {"name": a["key"], "value": a["value"]} for a in input["customAttributes"] or []
            ]
        for field, key in (("email", "email"), ("phone", "phone"), ("poNumber", "po_number")):
            if field in input:
                rest[key] = input[field]
        if json.dumps(rest, sort_keys=True, default=str) != before:
            rest["updated_at"] = iso_rest(now_utc())
            ctx.emit([Event("orders/updated", json.loads(json.dumps(rest)))])
        return {"order": OrderView(ctx, record), "userErrors": []}

    def customerEmailMarketingConsentUpdate(self, info: Info, input: dict[str, Any]) -> Any:
        return update_email_consent(_ctx(info), input)

    def tagsAdd(self, info: Info, id: str, tags: list[str]) -> Any:
        return self._change_tags(info, id, tags, add=True)

    def tagsRemove(self, info: Info, id: str, tags: list[str]) -> Any:
        return self._change_tags(info, id, tags, add=False)

    # -- webhook subscriptions -------------------------------------------------------------

    def webhookSubscriptionCreate(
        self, info: Info, topic: str, webhookSubscription: dict[str, Any]
    ) -> Any:
        ctx = _ctx(info)
        spec = webhookSubscription
        address = spec.get("uri") or spec.get("callbackUrl")
        field_name = "uri" if spec.get("uri") else "callbackUrl"
        path = ["webhookSubscription", field_name]

        def refuse(message: str) -> dict[str, Any]:
            return {
                "webhookSubscription": None,
                "userErrors": [{"field": path, "message": message}],
            }

        if not address:
            return refuse("Address can't be blank")
        parts = urlsplit(str(address))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return refuse("Address is invalid")
        if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
            # Shopify only delivers over HTTPS; the sandbox also allows plain HTTP on loopback.
            return refuse("Address protocol http:// is not supported")
        if (spec.get("format") or "JSON") != "JSON":
            return {
                "webhookSubscription": None,
                "userErrors": [
                    {
                        "field": ["webhookSubscription", "format"],
                        "message": "The sandbox delivers JSON only",
                    }
                ],
            }
        rest_topic = topic_rest(topic)
        for existing in ctx.state.subscriptions.values():
            if existing.source == "api" and (existing.topic, existing.uri) == (rest_topic, address):
                return refuse("Address for this topic has already been taken")
        record = SubscriptionRecord(
            id=ctx.state.new_id(),
            topic=rest_topic,
            uri=str(address),
            api_version=ctx.version,
            include_fields=list(spec.get("includeFields") or []),
            metafield_namespaces=list(spec.get("metafieldNamespaces") or []),
            filter=spec.get("filter"),
        )
        ctx.state.subscriptions[record.id] = record
        return {"webhookSubscription": WebhookSubscriptionView(ctx, record), "userErrors": []}

    def webhookSubscriptionDelete(self, info: Info, id: str) -> Any:
        ctx = _ctx(info)
        id_ = lookup_gid(id, "WebhookSubscription")
        record = ctx.state.subscriptions.get(id_) if id_ is not None else None
        if record is None or record.source != "api":
            return {
                "deletedWebhookSubscriptionId": None,
                "userErrors": [{"field": ["id"], "message": "Webhook subscription does not exist"}],
            }
        del ctx.state.subscriptions[record.id]
        return {"deletedWebhookSubscriptionId": record.gid, "userErrors": []}
