"""``/wc/v3/products`` and ``/wc/v3/products/categories|tags``."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .catalog import (
    blank_product,
    category_response,
    create_term,
    product_field,
    product_response,
    set_price,
    set_terms,
    slugify,
    tag_response,
    terms_of,
)
from .collection import CollectionArgs, collection_response
from .crud import created, lookup
from .errors import RestError, trash_not_supported
from .rest import Args, RestContext, RestRequest, RestResponse, Router, require_key
from .state import Store
from .values import apply_meta_writes

__all__ = ["register"]

PRODUCT_STATUSES = ("draft", "pending", "private", "publish", "future", "trash")
PRODUCT_TYPES = ("simple", "grouped", "external", "variable")
_TERM_REF = {"type": "array", "items": {"type": "object"}}
PRODUCT_SCHEMA: dict[str, dict[str, Any]] = {
    "name": {"type": "string"},
    "slug": {"type": "string"},
    "type": {"type": "string", "enum": list(PRODUCT_TYPES)},
    "status": {"type": "string", "enum": list(PRODUCT_STATUSES)},
    "sku": {"type": "string"},
    "regular_price": {"type": "string"},
    "sale_price": {"type": "string"},
    "categories": _TERM_REF,
    "tags": _TERM_REF,
    "meta_data": {"type": "array", "items": {"type": "object"}},
}


def _apply_product(ctx: RestContext, product: dict[str, Any], body: dict[str, Any]) -> None:
    for key in ("name", "type", "status", "sku", "description", "short_description", "featured"):
        if body.get(key) is not None:
            product[key] = body[key]
    if body.get("slug") is not None:
        product["slug"] = slugify(str(body["slug"]))
    if body.get("sale_price") is not None:
        product["sale_price"] = str(body["sale_price"])
        product["on_sale"] = bool(product["sale_price"])
    if body.get("regular_price") is not None or body.get("sale_price") is not None:
        set_price(product, str(body.get("regular_price", product["regular_price"])))
    set_terms(ctx.store, product, categories=body.get("categories"), tags=body.get("tags"))
    if body.get("meta_data") is not None:
        apply_meta_writes(ctx.store, product["meta_data"], body["meta_data"])
    product["date_modified"], product["date_modified_gmt"] = ctx.store.clock.stamps()


def list_products(ctx: RestContext, request: RestRequest) -> RestResponse:
    args = Args(request)
    params = CollectionArgs(
        args,
        orderby=("date", "id", "include", "title", "slug", "price", "popularity", "rating"),
    )
    slug = args.string("slug")
    status = args.string("status", default="any", enum=("any", *PRODUCT_STATUSES))
    product_type = args.string("type", enum=PRODUCT_TYPES)
    sku = args.string("sku")
    category = args.string("category")
    tag = args.string("tag")
    args.done()
    require_key(request, "list")
    store = ctx.store
    with store.lock:
        rows = list(store.products.values())
        if status == "any":
            rows = [p for p in rows if p["status"] != "trash"]
        else:
            rows = [p for p in rows if p["status"] == status]
        rows = params.select(rows, lambda p: p["id"])
        if slug:
            rows = [p for p in rows if p["slug"] == slug]
        if product_type:
            rows = [p for p in rows if p["type"] == product_type]
        if sku:
            skus = set(sku.split(","))
            rows = [p for p in rows if p["sku"] in skus]
        if category:
            wanted = {int(c) for c in category.split(",") if c.strip().isdigit()}
            rows = [p for p in rows if any(c["id"] in wanted for c in p["categories"])]
        if tag:
            wanted = {int(t) for t in tag.split(",") if t.strip().isdigit()}
            rows = [p for p in rows if any(t["id"] in wanted for t in p["tags"])]
        if params.search:
            rows = [p for p in rows if params.search.lower() in p["name"].lower()]
        page = params.page_of(
            rows,
            {
                "date": lambda p: p["date_created_gmt"],
                "id": lambda p: p["id"],
                "title": lambda p: p["name"].lower(),
                "slug": lambda p: p["slug"],
                "price": lambda p: float(p["price"] or 0),
                "popularity": lambda p: p["total_sales"],
                "rating": lambda p: float(p["average_rating"]),
            },
        )
        data = [product_response(store, p) for p in page.items]
    return collection_response(ctx, request, page, data)


def get_product(ctx: RestContext, request: RestRequest) -> RestResponse:
    with ctx.store.lock:
        product = lookup(ctx.store.products, request.url_id(), "product")
        require_key(request, "read")
        return RestResponse(200, product_response(ctx.store, product))


def create_product(ctx: RestContext, request: RestRequest) -> RestResponse:
    args = Args(request)
    args.schema(PRODUCT_SCHEMA)
    args.done()
    require_key(request, "create")
    body = request.body()
    store = ctx.store
    with store.lock:
        product = blank_product(store, 0, str(body.get("name") or "Product"))
        _apply_product(ctx, product, body)
        product["id"] = store.new_post_id()
        store.products[product["id"]] = product
        store.emit("product", "created", product["id"])
        data = product_response(store, product)
    return created(ctx, f"/wc/v3/products/{data['id']}", data)


def update_product(ctx: RestContext, request: RestRequest) -> RestResponse:
    args = Args(request)
    args.schema(PRODUCT_SCHEMA)
    args.done()
    store = ctx.store
    with store.lock:
        product_id = request.url_id()
        current = lookup(store.products, product_id, "product", 400)
        require_key(request, "edit")
        changed = copy.deepcopy(current)
        _apply_product(ctx, changed, request.body())
        store.products[product_id] = changed
        store.emit("product", "updated", product_id)
        return RestResponse(200, product_response(store, changed))


# -- terms ------------------------------------------------------------------------------------


_TERM_SORT_KEYS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "id": lambda t: t["id"],
    "name": lambda t: t["name"].lower(),
    "slug": lambda t: t["slug"],
    "description": lambda t: t["description"],
    "count": lambda t: t["count"],
    "term_group": lambda t: 0,
}


@dataclass(frozen=True)
class _TermFilters:
    hide_empty: bool | None
    parent: int | None
    product: int | None
    slug: str | None
    search: str | None

    def apply(self, store: Store, taxonomy: str, terms: list[dict[str, Any]]) -> list[Any]:
        if self.hide_empty:
            terms = [t for t in terms if t["count"] > 0]
        if self.parent is not None:
            terms = [t for t in terms if t.get("parent", 0) == self.parent]
        if self.slug:
            terms = [t for t in terms if t["slug"] == self.slug]
        if self.search:
            search = self.search.lower()
            terms = [t for t in terms if search in t["name"].lower()]
        if self.product is not None:
            owner = store.products.get(self.product)
            ids = {t["id"] for t in owner[product_field(taxonomy)]} if owner else set()
            terms = [t for t in terms if t["id"] in ids]
        return terms


class _TermRoutes:
    """The REST routes of one taxonomy (``product_cat`` or ``product_tag``) under ``base``."""

    def __init__(self, taxonomy: str, base: str) -> None:
        self.taxonomy = taxonomy
        self.base = base
        self.respond = category_response if taxonomy == "product_cat" else tag_response

    def list_terms(self, ctx: RestContext, request: RestRequest) -> RestResponse:
        args = Args(request)
        params = CollectionArgs(
            args,
            orderby=("id", "include", "name", "slug", "term_group", "description", "count"),
            default_orderby="name",
            default_order="asc",
            dates=False,
        )
        hide_empty = args.boolean("hide_empty", default=False)
        parent = args.integer("parent") if self.taxonomy == "product_cat" else None
        product = args.integer("product")
        slug = args.string("slug")
        args.done()
        require_key(request, "list")
        filters = _TermFilters(hide_empty, parent, product, slug, params.search)
        store = ctx.store
        with store.lock:
            terms = [self.respond(store, t) for t in terms_of(store, self.taxonomy).values()]
            terms = params.select(terms, lambda t: t["id"])
            terms = filters.apply(store, self.taxonomy, terms)
            page = params.page_of(terms, _TERM_SORT_KEYS)
        return collection_response(ctx, request, page, page.items)

    def create(self, ctx: RestContext, request: RestRequest) -> RestResponse:
        args = Args(request)
        args.required("name")
        args.schema({"name": {"type": "string"}, "slug": {"type": "string"}})
        args.done()
        require_key(request, "create")
        with ctx.store.lock:
            term = create_term(ctx.store, self.taxonomy, request.body())
            data = self.respond(ctx.store, term)
        return created(ctx, f"{self.base}/{term['id']}", data)

    def _term(self, ctx: RestContext, request: RestRequest) -> dict[str, Any]:
        term = terms_of(ctx.store, self.taxonomy).get(request.url_id())
        if term is None:
            raise RestError("woocommerce_rest_term_invalid", "Resource does not exist.", 404)
        return term

    def get(self, ctx: RestContext, request: RestRequest) -> RestResponse:
        require_key(request, "read")
        with ctx.store.lock:
            return RestResponse(200, self.respond(ctx.store, self._term(ctx, request)))

    def update(self, ctx: RestContext, request: RestRequest) -> RestResponse:
        require_key(request, "edit")
        body = request.body()
        with ctx.store.lock:
            term = self._term(ctx, request)
            for key in ("name", "description", "display", "menu_order", "parent"):
                if body.get(key) is not None and (key in term):
                    term[key] = body[key]
            if body.get("slug") is not None:
                term["slug"] = slugify(str(body["slug"]))
            return RestResponse(200, self.respond(ctx.store, term))

    def delete(self, ctx: RestContext, request: RestRequest) -> RestResponse:
        args = Args(request)
        force = args.boolean("force", default=False)
        args.done()
        require_key(request, "delete")
        with ctx.store.lock:
            term = self._term(ctx, request)
            if not force:
                raise trash_not_supported("Resource does not support trashing.")
            data = self.respond(ctx.store, term)
            del terms_of(ctx.store, self.taxonomy)[term["id"]]
            key = product_field(self.taxonomy)
            for product in ctx.store.products.values():
                product[key] = [t for t in product[key] if t["id"] != term["id"]]
            return RestResponse(200, data)


def register(router: Router) -> None:
    for taxonomy, base in (
        ("product_cat", "/wc/v3/products/categories"),
        ("product_tag", "/wc/v3/products/tags"),
    ):
        terms = _TermRoutes(taxonomy, base)
        router.add(base, "GET", terms.list_terms)
        router.add(base, "POST", terms.create)
        router.add(base + "/(?P<id>[\\d]+)", "GET", terms.get)
        router.add(base + "/(?P<id>[\\d]+)", "POST,PUT,PATCH", terms.update)
        router.add(base + "/(?P<id>[\\d]+)", "DELETE", terms.delete)
    router.add("/wc/v3/products", "GET", list_products)
    router.add("/wc/v3/products", "POST", create_product)
    router.add("/wc/v3/products/(?P<id>[\\d]+)", "GET", get_product)
    router.add("/wc/v3/products/(?P<id>[\\d]+)", "POST,PUT,PATCH", update_product)
