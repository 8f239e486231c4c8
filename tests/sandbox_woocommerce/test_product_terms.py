"""Product categories and tags over the REST API: list filters and order, create, read, update
and delete, as the sandbox answers them."""

from __future__ import annotations

from aftersale_kit_woocommerce.sandbox import WooCommerceSandbox


def test_category_filters_order_and_lifecycle(shop: WooCommerceSandbox) -> None:
    api = shop.client()
    shop.load_order("wc_v3_order_727")
    shop.set_product_terms(93, categories=["Footwear"], tags=["vip"])
    # given (besides the seeded ones) categories: one used by a product, one child, one unused
    listed = api.get("products/categories", params={"per_page": 100}).json()
    shoes = next(c for c in listed if c["name"] == "Footwear")
    boots = api.post("products/categories", {"name": "Boots", "parent": shoes["id"]})
    assert boots.status_code == 201
    boots_id = boots.json()["id"]
    made = api.post("products/categories", {"name": "Winter Sale", "slug": "Winter Sale!"})
    winter = made.json()
    assert winter["slug"] == "winter-sale"

    ours = {"Boots", "Footwear", "Winter Sale"}

    def names(**params: object) -> list[str]:
        found = api.get("products/categories", params={"per_page": 100, **params}).json()
        return [c["name"] for c in found if c["name"] in ours]

    # then each filter narrows the list, ordered by name unless told otherwise
    assert names() == ["Boots", "Footwear", "Winter Sale"]
    assert names(hide_empty="true") == ["Footwear"]
    assert names(parent=shoes["id"]) == ["Boots"]
    assert names(slug="winter-sale") == ["Winter Sale"]
    assert names(search="OOTS") == ["Boots"]
    assert names(product=93) == ["Footwear"]
    assert names(orderby="id", order="desc") == ["Winter Sale", "Boots", "Footwear"]
    # when a category is read, renamed and re-slugged
    assert api.get(f"products/categories/{boots_id}").json()["parent"] == shoes["id"]
    renamed = api.put(
        f"products/categories/{boots_id}", {"name": "Wellies", "slug": "Rain Boots"}
    ).json()
    assert (renamed["name"], renamed["slug"]) == ("Wellies", "rain-boots")
    # when a used category is deleted without force, it is refused; with force it goes
    refused = api.delete(f"products/categories/{shoes['id']}")
    assert refused.status_code == 501
    gone = api.delete(f"products/categories/{shoes['id']}", params={"force": "true"})
    assert gone.status_code == 200 and gone.json()["name"] == "Footwear"
    assert api.get("products/93").json()["categories"] == []
    missing = api.get(f"products/categories/{shoes['id']}")
    assert (missing.status_code, missing.json()["code"]) == (404, "woocommerce_rest_term_invalid")


def test_tags_have_no_parent_filter_and_their_own_shape(shop: WooCommerceSandbox) -> None:
    api = shop.client()
    created = api.post("products/tags", {"name": "Wrapped"})
    assert created.status_code == 201
    tag = created.json()
    assert "parent" not in tag
    assert api.get(f"products/tags/{tag['id']}").json()["slug"] == "wrapped"
    assert "Wrapped" in [t["name"] for t in api.get("products/tags").json()]
    assert api.put(f"products/tags/{tag['id']}", {"name": "Wrapping"}).json()["name"] == "Wrapping"
    duplicate = api.post("products/tags", {"name": "wrapping"})
    assert duplicate.json()["code"] == "term_exists"
