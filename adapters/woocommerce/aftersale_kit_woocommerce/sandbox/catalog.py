"""Products, product categories and product tags.

Sources: woocommerce/woocommerce ``includes/rest-api/Controllers/Version2/
class-wc-rest-products-v2-controller.php`` (``get_product_data``),
``Version3/class-wc-rest-terms-controller.php``, ``class-wc-rest-product-categories-controller.php``
and the docs' "Retrieve a product" example (key order).

Order line items carry no categories or tags; enrichment reads them here
(``GET products?include=<ids>``). The seed catalogue (``seed/catalog.json``, synthesized) has a
product for every line item of the vendor order payloads.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from .errors import RestError
from .rest import links
from .state import Store

__all__ = [
    "blank_product",
    "category_response",
    "ensure_term",
    "product_response",
    "slugify",
    "tag_response",
]


def slugify(name: str) -> str:
    """``sanitize_title``: accents removed, lower case, runs of other characters to ``-``."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9_]+", "-", text.lower()).strip("-")


def terms_of(store: Store, taxonomy: str) -> dict[int, dict[str, Any]]:
    return store.categories if taxonomy == "product_cat" else store.tags


def product_field(taxonomy: str) -> str:
    """The product's field holding its terms of ``taxonomy``."""
    return "categories" if taxonomy == "product_cat" else "tags"


def ensure_term(store: Store, taxonomy: str, name: str, *, parent: int = 0) -> dict[str, Any]:
    """The term with this name (case-insensitive), created when missing."""
    terms = terms_of(store, taxonomy)
    for term in terms.values():
        if term["name"].lower() == name.lower() and term.get("parent", 0) == parent:
            return term
    return create_term(store, taxonomy, {"name": name, "parent": parent})


def create_term(store: Store, taxonomy: str, body: dict[str, Any]) -> dict[str, Any]:
    terms = terms_of(store, taxonomy)
    name = str(body.get("name", "")).strip()
    if not name:
        raise RestError("empty_term_name", "A name is required for this term.", 400)
    parent = int(body.get("parent") or 0)
    for existing in terms.values():
        if existing["name"].lower() == name.lower() and existing.get("parent", 0) == parent:
            raise RestError(
                "term_exists",
                "A term with the name provided already exists with this parent.",
                400,
                resource_id=existing["id"],
            )
    slug = slugify(str(body.get("slug") or name)) or str(store.new_term_id())
    if any(t["slug"] == slug for t in terms.values()):
        raise RestError(
            "duplicate_term_slug",
            f"The slug \u201c{slug}\u201d is already in use by another term.",
            400,
        )
    term_id = store.new_term_id()
    term: dict[str, Any] = {"id": term_id, "name": name, "slug": slug}
    if taxonomy == "product_cat":
        term.update(
            {
                "parent": parent,
                "description": str(body.get("description", "")),
                "display": str(body.get("display", "default")),
                "image": body.get("image"),
                "menu_order": int(body.get("menu_order") or 0),
            }
        )
    else:
        term["description"] = str(body.get("description", ""))
    terms[term_id] = term
    return term


def _term_count(store: Store, taxonomy: str, term_id: int) -> int:
    key = product_field(taxonomy)
    return sum(
        1
        for product in store.products.values()
        if product["status"] == "publish" and any(t["id"] == term_id for t in product[key])
    )


def category_response(store: Store, term: dict[str, Any]) -> dict[str, Any]:
    data = dict(term)
    data["count"] = _term_count(store, "product_cat", term["id"])
    extra = {"up": f"/wc/v3/products/categories/{term['parent']}"} if term.get("parent") else None
    data["_links"] = links(
        store.site,
        f"/wc/v3/products/categories/{term['id']}",
        "/wc/v3/products/categories",
        extra=extra,
    )
    return data


def tag_response(store: Store, term: dict[str, Any]) -> dict[str, Any]:
    data = dict(term)
    data["count"] = _term_count(store, "product_tag", term["id"])
    data["_links"] = links(store.site, f"/wc/v3/products/tags/{term['id']}", "/wc/v3/products/tags")
    return data


def blank_product(store: Store, product_id: int, name: str) -> dict[str, Any]:
    local, gmt = store.clock.stamps()
    slug = slugify(name)
    return {
        "id": product_id,
        "name": name,
        "slug": slug,
        "permalink": f"{store.site.home_url.rstrip('/')}/product/{slug}/",
        "date_created": local,
        "date_created_gmt": gmt,
        "date_modified": local,
        "date_modified_gmt": gmt,
        "type": "simple",
        "status": "publish",
        "featured": False,
        "catalog_visibility": "visible",
        "description": "",
        "short_description": "",
        "sku": "",
        "price": "",
        "regular_price": "",
        "sale_price": "",
        "date_on_sale_from": None,
        "date_on_sale_from_gmt": None,
        "date_on_sale_to": None,
        "date_on_sale_to_gmt": None,
        "price_html": "",
        "on_sale": False,
        "purchasable": False,
        "total_sales": 0,
        "virtual": False,
        "downloadable": False,
        "downloads": [],
        "download_limit": -1,
        "download_expiry": -1,
        "external_url": "",
        "button_text": "",
        "tax_status": "taxable",
        "tax_class": "",
        "manage_stock": False,
        "stock_quantity": None,
        "stock_status": "instock",
        "backorders": "no",
        "backorders_allowed": False,
        "backordered": False,
        "low_stock_amount": None,
        "sold_individually": False,
        "weight": "",
        "dimensions": {"length": "", "width": "", "height": ""},
        "shipping_required": True,
        "shipping_taxable": True,
        "shipping_class": "",
        "shipping_class_id": 0,
        "reviews_allowed": True,
        "average_rating": "0.00",
        "rating_count": 0,
        "related_ids": [],
        "upsell_ids": [],
        "cross_sell_ids": [],
        "parent_id": 0,
        "purchase_note": "",
        "categories": [],
        "tags": [],
        "images": [],
        "attributes": [],
        "default_attributes": [],
        "variations": [],
        "grouped_products": [],
        "menu_order": 0,
        "meta_data": [],
    }


def set_price(product: dict[str, Any], price: str) -> None:
    product["regular_price"] = price
    product["price"] = price if not product.get("sale_price") else product["sale_price"]
    product["purchasable"] = product["price"] != ""
    symbol_price = product["price"]
    product["price_html"] = (
        '<span class="woocommerce-Price-amount amount"><bdi>'
        '<span class="woocommerce-Price-currencySymbol">&#36;</span>'
        f"{symbol_price}</bdi></span>"
        if symbol_price
        else ""
    )


def set_terms(
    store: Store, product: dict[str, Any], *, categories: Any = None, tags: Any = None
) -> None:
    """Categories/tags given as ``[{"id": N}]`` (REST), names, or ids."""
    for key, taxonomy, value in (
        ("categories", "product_cat", categories),
        ("tags", "product_tag", tags),
    ):
        if value is None:
            continue
        chosen: list[dict[str, Any]] = []
        for entry in value if isinstance(value, list) else [value]:
            term: dict[str, Any] | None
            if isinstance(entry, dict) and entry.get("id"):
                term = terms_of(store, taxonomy).get(int(entry["id"]))
            elif isinstance(entry, dict) and entry.get("name"):
                term = ensure_term(store, taxonomy, str(entry["name"]))
            elif isinstance(entry, int) or (isinstance(entry, str) and entry.isdigit()):
                term = terms_of(store, taxonomy).get(int(entry))
            else:
                term = ensure_term(store, taxonomy, str(entry))
            if term is not None and all(c["id"] != term["id"] for c in chosen):
                chosen.append(term)
        product[key] = [{"id": t["id"], "name": t["name"], "slug": t["slug"]} for t in chosen]


def product_response(store: Store, product: dict[str, Any]) -> dict[str, Any]:
    data = dict(product)
    # Term names and slugs are read live, as get_product_data does.
    for key, taxonomy in (("categories", "product_cat"), ("tags", "product_tag")):
        terms = terms_of(store, taxonomy)
        data[key] = [
            {"id": t["id"], "name": terms[t["id"]]["name"], "slug": terms[t["id"]]["slug"]}
            for t in product[key]
            if t["id"] in terms
        ]
    extra = {"up": f"/wc/v3/products/{product['parent_id']}"} if product.get("parent_id") else None
    data["_links"] = links(
        store.site, f"/wc/v3/products/{product['id']}", "/wc/v3/products", extra=extra
    )
    return data


def seed_catalog(store: Store, catalog: dict[str, Any]) -> None:
    """Load ``seed/catalog.json``: categories, tags, then products with their terms."""
    for entry in catalog.get("categories", []):
        term = {
            "id": entry["id"],
            "name": entry["name"],
            "slug": entry.get("slug") or slugify(entry["name"]),
            "parent": entry.get("parent", 0),
            "description": "",
            "display": "default",
            "image": None,
            "menu_order": 0,
        }
        store.categories[entry["id"]] = term
    for entry in catalog.get("tags", []):
        store.tags[entry["id"]] = {
            "id": entry["id"],
            "name": entry["name"],
            "slug": entry.get("slug") or slugify(entry["name"]),
            "description": "",
        }
    for entry in catalog.get("products", []):
        product = blank_product(store, entry["id"], entry["name"])
        product["type"] = entry.get("type", "simple")
        product["sku"] = entry.get("sku", "")
        product["variations"] = entry.get("variations", [])
        product["parent_id"] = entry.get("parent_id", 0)
        product["images"] = entry.get("images", [])
        set_price(product, entry.get("price", ""))
        set_terms(
            store, product, categories=entry.get("categories", []), tags=entry.get("tags", [])
        )
        store.products[entry["id"]] = product
