"""``metafieldsSet``: each input entry checked in Shopify's order (owner, namespace, key, type,
value); any error refuses the whole call, with the entry's index. Value checks are a table of
small functions per metafield type.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .state import MetafieldRecord
from .util import SandboxError, gid, now_utc, parse_gid, parse_time, to_decimal
from .views import Context, MetafieldView, invalid_id

__all__ = ["set_metafields"]

_LIMIT = 25

#: metafieldsSet: types the sandbox validates values for; other Shopify types are accepted as is.
_METAFIELD_TYPES = {
    "boolean",
    "color",
    "date",
    "date_time",
    "json",
    "money",
    "multi_line_text_field",
    "number_decimal",
    "number_integer",
    "single_line_text_field",
    "url",
    "rich_text_field",
    "rating",
    "weight",
    "volume",
    "dimension",
    "product_reference",
    "variant_reference",
    "collection_reference",
    "customer_reference",
    "order_reference",
    "page_reference",
    "file_reference",
    "metaobject_reference",
}
_OWNER_TYPES = {
    "Order": "ORDER",
    "Customer": "CUSTOMER",
    "Product": "PRODUCT",
    "Shop": "SHOP",
    "DiscountCodeNode": "DISCOUNT",
    "DiscountNode": "DISCOUNT",
    "Collection": "COLLECTION",
}


@dataclass(frozen=True)
class _Planned:
    existing_id: int
    owner_gid: str
    owner_type: str
    namespace: str
    key: str
    value: str
    type: str


@dataclass(frozen=True)
class _Problem:
    field: str
    message: str
    code: str


def _check_integer(value: str) -> str | None:
    int(value)
    return None


def _check_decimal(value: str) -> str | None:
    to_decimal(value)
    return None


def _check_boolean(value: str) -> str | None:
    return None if value in ("true", "false") else "Value must be true or false."


def _check_json(value: str) -> str | None:
    json.loads(value)
    return None


def _check_single_line(value: str) -> str | None:
    if "\n" in value or "\r" in value:
        return "Value must be a single line text string."
    return None


def _check_time(value: str) -> str | None:
    parse_time(value)
    return None


def _check_url(value: str) -> str | None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https", "mailto", "sms", "tel") or not (
        parts.netloc or parts.path
    ):
        return "Value must be a valid URL."
    return None


#: A check returns a message or raises ValueError / SandboxError ("Value is invalid for type").
_VALUE_CHECKS: dict[str, Callable[[str], str | None]] = {
    "number_integer": _check_integer,
    "number_decimal": _check_decimal,
    "boolean": _check_boolean,
    "json": _check_json,
    "money": _check_json,
    "rating": _check_json,
    "weight": _check_json,
    "volume": _check_json,
    "dimension": _check_json,
    "single_line_text_field": _check_single_line,
    "date": _check_time,
    "date_time": _check_time,
    "url": _check_url,
}


def _value_problem(type_: str, value: str) -> str | None:
    check = _VALUE_CHECKS.get(type_) or (_check_json if type_.startswith("list.") else None)
    if check is None:
        return None
    try:
        return check(value)
    except (ValueError, SandboxError):
        return f"Value is invalid for type {type_}."


def _name_problem(ctx: Context, namespace: str, key: str) -> _Problem | None:
    if namespace.startswith("app--") and not (
        namespace == ctx.app_namespace or namespace.startswith(ctx.app_namespace + "--")
    ):
        return _Problem(
            "namespace",
            "Access to this namespace and key on Metafields for this resource type is not allowed.",
            "APP_NOT_AUTHORIZED",
        )
    if len(namespace) < 3:
        return _Problem(
            "namespace", "Namespace is too short (minimum is 3 characters)", "TOO_SHORT"
        )
    if len(key) < 2:
        return _Problem("key", "Key is too short (minimum is 2 characters)", "TOO_SHORT")
    if len(key) > 64:
        return _Problem("key", "Key is too long (maximum is 64 characters)", "TOO_LONG")
    return None


def _existing(ctx: Context, owner_gid: str, namespace: str, key: str) -> MetafieldRecord | None:
    return next(
        (
            m
            for m in ctx.state.metafields.values()
            if (m.owner_gid, m.namespace, m.key) == (owner_gid, namespace, key)
        ),
        None,
    )


def _type_problem(type_: str | None) -> _Problem | None:
    if not type_:
        return _Problem("type", "Type can't be blank", "BLANK")
    if type_ not in _METAFIELD_TYPES and not type_.startswith("list."):
        return _Problem("type", f"Type '{type_}' is not a valid metafield type", "INVALID_TYPE")
    return None


def _plan(ctx: Context, entry: dict[str, Any]) -> _Planned | _Problem:
    parsed = parse_gid(str(entry.get("ownerId", "")))
    if parsed is None:
        raise invalid_id(str(entry.get("ownerId")))
    kind, owner_id = parsed
    if kind not in _OWNER_TYPES or not ctx.state.owner_exists(kind, owner_id):
        return _Problem("ownerId", "Owner does not exist.", "INVALID")
    namespace = ctx.resolve_namespace(entry.get("namespace"))
    key = str(entry.get("key") or "")
    problem = _name_problem(ctx, namespace, key)
    if problem:
        return problem
    owner_gid = gid(kind, owner_id)
    existing = _existing(ctx, owner_gid, namespace, key)
    type_ = entry.get("type") or (existing.type if existing else None)
    problem = _type_problem(type_)
    if problem:
        return problem
    assert type_
    value = str(entry.get("value"))
    message = _value_problem(type_, value)
    if message:
        return _Problem("value", message, "INVALID_VALUE")
    existing_id = existing.id if existing else 0
    return _Planned(existing_id, owner_gid, _OWNER_TYPES[kind], namespace, key, value, type_)


def _user_error(index: int | None, path: list[str], message: str, code: str) -> dict[str, Any]:
    return {"field": ["metafields", *path], "message": message, "code": code, "elementIndex": index}


def _save(ctx: Context, planned: list[_Planned]) -> list[MetafieldView]:
    saved: list[MetafieldView] = []
    moment = now_utc()
    for plan in planned:
        if plan.existing_id:
            record = ctx.state.metafields[plan.existing_id]
            record.value = plan.value
            record.type = plan.type
            record.updated_at = moment
        else:
            record = MetafieldRecord(
                ctx.state.new_id(),
                plan.owner_gid,
                plan.owner_type,
                plan.namespace,
                plan.key,
                plan.value,
                plan.type,
            )
            ctx.state.metafields[record.id] = record
        saved.append(MetafieldView(ctx, record))
    return saved


def set_metafields(ctx: Context, metafields: list[dict[str, Any]]) -> Any:
    """The ``metafieldsSet`` payload: all entries saved, or none and their user errors."""
    if len(metafields) > _LIMIT:
        message = f"Exceeded the maximum metafields input limit of {_LIMIT}."
        return {
            "metafields": [],
            "userErrors": [_user_error(None, [], message, "LESS_THAN_OR_EQUAL_TO")],
        }
    errors: list[dict[str, Any]] = []
    planned: list[_Planned] = []
    for index, entry in enumerate(metafields):
        outcome = _plan(ctx, entry)
        if isinstance(outcome, _Problem):
            path = [str(index), outcome.field]
            errors.append(_user_error(index, path, outcome.message, outcome.code))
        else:
            planned.append(outcome)
    if errors:
        return {"metafields": [], "userErrors": errors}
    return {"metafields": _save(ctx, planned), "userErrors": []}
