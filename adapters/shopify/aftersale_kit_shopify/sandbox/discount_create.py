"""``discountCodeBasicCreate`` / ``discountCodeFreeShippingCreate``: the input checked one field
group at a time, each by a small function that records Shopify-style ``userErrors`` and returns
the part of the :class:`DiscountRecord` it owns. The errors come back in the order Shopify lists
them: title, code, dates, context, value, items, minimum, usage limit, combinations.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from .state import DiscountRecord, RedeemCode, ShopState
from .util import SandboxError, gid, parse_gid, parse_time, to_decimal, user_error
from .views import Context, DiscountNodeView

__all__ = ["create_discount"]


class _Errors:
    """The ``userErrors`` of one mutation; paths are relative to the input argument."""

    def __init__(self, input_name: str) -> None:
        self.input_name = input_name
        self.items: list[dict[str, Any]] = []

    def __call__(self, path: list[str], message: str, code: str) -> None:
        self.items.append(user_error([self.input_name, *path], message, code))


def _check_title(data: dict[str, Any], err: _Errors) -> None:
    title = data.get("title")
    if title is None or not str(title).strip():
        err(["title"], "Title can't be blank", "BLANK")
    elif len(str(title)) > 255:
        err(["title"], "Title is too long (maximum is 255 characters)", "TOO_LONG")


def _check_code(data: dict[str, Any], state: ShopState, err: _Errors) -> None:
    code = data.get("code")
    if code is None or not str(code).strip():
        err(["code"], "Code can't be blank", "BLANK")
    elif len(str(code)) > 255:
        err(["code"], "Code is too long (maximum is 255 characters)", "TOO_LONG")
    elif "\n" in str(code) or "\r" in str(code):
        err(["code"], "Code cannot contain newline characters.", "INVALID")
    elif state.discount_by_code(str(code)) is not None:
        err(["code"], "Code must be unique. Please try a different code.", "TAKEN")


def _time(data: dict[str, Any], key: str, label: str, err: _Errors) -> datetime | None:
    try:
        return parse_time(data.get(key))
    except ValueError:
        err([key], f"{label} is invalid", "INVALID")
        return None


def _dates(data: dict[str, Any], err: _Errors) -> tuple[datetime | None, datetime | None]:
    starts_at = _time(data, "startsAt", "Starts at", err)
    if data.get("startsAt") is None:
        err(["startsAt"], "Starts at can't be blank", "BLANK")
    ends_at = _time(data, "endsAt", "Ends at", err)
    if starts_at and ends_at and ends_at <= starts_at:
        err(["endsAt"], "Ends at needs to be after starts_at", "INVALID")
    return starts_at, ends_at


def _gid_ids(values: list[Any] | None, kind: str) -> list[int]:
    return [p[1] for p in (parse_gid(v) for v in values or []) if p is not None and p[0] == kind]


def _customers_context(
    source: dict[str, Any], source_name: str, state: ShopState, err: _Errors
) -> dict[str, Any] | None:
    added = list(source["customers"].get("add") or [])
    missing = [
        value
        for value in added
        if (parsed := parse_gid(value)) is None
        or parsed[0] != "Customer"
        or parsed[1] not in state.customers
    ]
    path = [source_name, "customers", "add"]
    if not added:
        err(path, "Customers can't be blank", "BLANK")
    elif missing:
        err(path, f"Customer {missing[0]} does not exist", "INVALID")
    else:
        return {"customers": added}
    return None


def _context(ctx: Context, data: dict[str, Any], err: _Errors) -> dict[str, Any]:
    """Who may use it: ``context`` (2025-10 on) or the deprecated ``customerSelection``."""
    has_context = data.get("context") is not None
    has_selection = data.get("customerSelection") is not None
    if has_context and has_selection:
        err(["context"], "Only one of context or customerSelection can be provided.", "INVALID")
        return {"all": True}
    if not has_context and not has_selection:
        if ctx.version >= "2025-10":
            err(["context"], "Context can't be blank", "BLANK")
        else:
            err(["customerSelection"], "Customer selection can't be blank", "BLANK")
        return {"all": True}
    source_name = "context" if has_context else "customerSelection"
    source = data[source_name]
    chosen = [k for k in ("all", "customers", "customerSegments") if source.get(k)]
    if len(chosen) != 1:
        err(
            [source_name],
            "Exactly one of all, customers or customerSegments must be provided.",
            "INVALID",
        )
    elif chosen[0] == "customers":
        return _customers_context(source, source_name, ctx.state, err) or {"all": True}
    elif chosen[0] == "customerSegments":
        return {"segments": list(source["customerSegments"].get("add") or [])}
    return {"all": True}


def _percentage(percentage: Any, err: _Errors) -> dict[str, Any]:
    if not 0 < float(percentage) <= 1:
        err(
            ["customerGets", "value", "percentage"],
            "Value must be between 0.0 and 1.0",
            "VALUE_OUTSIDE_RANGE",
        )
    return {"percentage": float(percentage)}


def _amount(amount: dict[str, Any], err: _Errors) -> dict[str, Any]:
    try:
        money = to_decimal(amount.get("amount"), what="amount")
    except SandboxError:
        money = Decimal("-1")
    if money <= 0:
        err(
            ["customerGets", "value", "discountAmount", "amount"],
            "Value must be greater than 0",
            "GREATER_THAN",
        )
    return {
        "amount": money,
        "applies_on_each_item": bool(amount.get("appliesOnEachItem") or False),
    }


def _value(gets: dict[str, Any], err: _Errors) -> dict[str, Any]:
    raw_value = gets.get("value") or {}
    percentage = raw_value.get("percentage")
    amount = raw_value.get("discountAmount")
    if percentage is None and amount is None:
        err(["customerGets", "value"], "Value can't be blank", "BLANK")
        return {}
    if percentage is not None and amount is not None:
        err(
            ["customerGets", "value"],
            "Only one of percentage or discountAmount can be provided.",
            "INVALID",
        )
        return {}
    if percentage is not None:
        return _percentage(percentage, err)
    assert amount is not None
    return _amount(amount, err)


def _product_items(raw: dict[str, Any], state: ShopState, err: _Errors) -> dict[str, Any]:
    ids = _gid_ids(raw["products"].get("productsToAdd"), "Product")
    unknown = [i for i in ids if i not in state.products]
    if unknown:
        err(
            ["customerGets", "items", "products", "productsToAdd"],
            f"Product {gid('Product', unknown[0])} does not exist",
            "INVALID",
        )
    return {"products": ids}


def _collection_items(raw: dict[str, Any], state: ShopState, err: _Errors) -> dict[str, Any]:
    ids = _gid_ids(raw["collections"].get("add"), "Collection")
    unknown = [i for i in ids if state.collection_by_id(i) is None]
    if unknown:
        err(
            ["customerGets", "items", "collections", "add"],
            f"Collection {gid('Collection', unknown[0])} does not exist",
            "INVALID",
        )
    return {"collections": ids}


def _all_items(raw: dict[str, Any], state: ShopState, err: _Errors) -> dict[str, Any]:
    return {"all": True}


#: ``customerGets.items``: the first key set wins, in this order.
_ITEMS: dict[str, Callable[[dict[str, Any], ShopState, _Errors], dict[str, Any]]] = {
    "all": _all_items,
    "products": _product_items,
    "collections": _collection_items,
}


def _items(gets: dict[str, Any], state: ShopState, err: _Errors) -> dict[str, Any]:
    raw_items = gets.get("items")
    if raw_items is not None:
        for key, handler in _ITEMS.items():
            if raw_items.get(key):
                return handler(raw_items, state, err)
    err(["customerGets", "items"], "Items can't be blank", "BLANK")
    return {"all": True}


def _customer_gets(
    data: dict[str, Any], state: ShopState, err: _Errors
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(value, items)`` of a basic discount."""
    gets = data.get("customerGets")
    if gets is None:
        err(["customerGets"], "Customer gets can't be blank", "BLANK")
        return {}, {"all": True}
    return _value(gets, err), _items(gets, state, err)


def _minimum(data: dict[str, Any], err: _Errors) -> dict[str, Any] | None:
    raw_minimum = data.get("minimumRequirement")
    if not raw_minimum:
        return None
    subtotal = (raw_minimum.get("subtotal") or {}).get("greaterThanOrEqualToSubtotal")
    quantity = (raw_minimum.get("quantity") or {}).get("greaterThanOrEqualToQuantity")
    if subtotal is not None and quantity is not None:
        err(
            ["minimumRequirement"],
            "Minimum subtotal and quantity range cannot both be present.",
            "MINIMUM_SUBTOTAL_AND_QUANTITY_RANGE_BOTH_PRESENT",
        )
        return None
    if subtotal is not None:
        minimum = to_decimal(subtotal, what="greaterThanOrEqualToSubtotal")
        if minimum <= 0:
            err(
                ["minimumRequirement", "subtotal", "greaterThanOrEqualToSubtotal"],
                "Minimum subtotal must be greater than 0",
                "GREATER_THAN",
            )
        return {"subtotal": minimum}
    if quantity is not None:
        count = int(quantity)
        if count <= 0:
            err(
                ["minimumRequirement", "quantity", "greaterThanOrEqualToQuantity"],
                "Minimum quantity must be greater than 0",
                "GREATER_THAN",
            )
        return {"quantity": count}
    return None


def _check_usage_limit(data: dict[str, Any], err: _Errors) -> None:
    usage_limit = data.get("usageLimit")
    if usage_limit is not None and usage_limit < 1:
        err(["usageLimit"], "Usage limit must be greater than 0", "GREATER_THAN")


def _combines(data: dict[str, Any], kind: str, err: _Errors) -> dict[str, bool]:
    combines = {
        "orderDiscounts": False,
        "productDiscounts": False,
        "shippingDiscounts": False,
    }
    for name, flag in (data.get("combinesWith") or {}).items():
        if flag is not None:
            combines[name] = bool(flag)
    if kind == "free_shipping" and combines["shippingDiscounts"]:
        err(
            ["combinesWith"],
            "The combinesWith settings are not valid for the discount class.",
            "INVALID_COMBINES_WITH_FOR_DISCOUNT_CLASS",
        )
    return combines


def _shipping(data: dict[str, Any]) -> tuple[dict[str, Any], Decimal | None]:
    """``(destination, maximum shipping price)`` of a free-shipping discount."""
    destination: dict[str, Any] = {"all": True}
    countries = (data.get("destination") or {"all": True}).get("countries")
    if countries:
        destination = {
            "all": False,
            "countries": list(countries.get("add") or []),
            "rest_of_world": bool(countries.get("includeRestOfWorld") or False),
        }
    maximum: Decimal | None = None
    if data.get("maximumShippingPrice") is not None:
        maximum = to_decimal(data["maximumShippingPrice"], what="maximumShippingPrice")
    return destination, maximum


def _one_time_purchase(data: dict[str, Any]) -> bool:
    flag = data.get("appliesOnOneTimePurchase")
    return True if flag is None else bool(flag)


def create_discount(ctx: Context, data: dict[str, Any], input_name: str, kind: str) -> Any:
    """The payload of a code-discount create mutation; ``kind`` is ``basic`` or
    ``free_shipping``."""
    err = _Errors(input_name)
    state = ctx.state
    _check_title(data, err)
    _check_code(data, state, err)
    starts_at, ends_at = _dates(data, err)
    context = _context(ctx, data, err)
    value: dict[str, Any] = {}
    items: dict[str, Any] = {"all": True}
    if kind == "basic":
        value, items = _customer_gets(data, state, err)
    minimum = _minimum(data, err)
    _check_usage_limit(data, err)
    combines = _combines(data, kind, err)
    destination: dict[str, Any] = {"all": True}
    maximum_shipping: Decimal | None = None
    if kind == "free_shipping":
        destination, maximum_shipping = _shipping(data)
    if err.items:
        return {"codeDiscountNode": None, "userErrors": err.items}
    assert starts_at is not None
    record = DiscountRecord(
        id=state.new_id(),
        kind=kind,
        title=str(data.get("title")),
        codes=[RedeemCode(state.new_id(), str(data.get("code")).strip())],
        starts_at=starts_at,
        ends_at=ends_at,
        usage_limit=data.get("usageLimit"),
        applies_once_per_customer=bool(data.get("appliesOncePerCustomer") or False),
        recurring_cycle_limit=data.get("recurringCycleLimit"),
        value=value,
        items=items,
        minimum=minimum,
        combines_with=combines,
        context=context,
        destination=destination,
        maximum_shipping_price=maximum_shipping,
        applies_on_one_time_purchase=_one_time_purchase(data),
        applies_on_subscription=bool(data.get("appliesOnSubscription") or False),
        currency=state.currency,
    )
    state.discounts[record.id] = record
    return {"codeDiscountNode": DiscountNodeView(ctx, record), "userErrors": []}
