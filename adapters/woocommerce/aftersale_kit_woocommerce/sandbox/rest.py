"""A small WordPress REST server: routes, parameters, validation messages, links, key checks.

Behaviour follows ``WP_REST_Server`` / ``WP_REST_Request`` (wordpress-develop
``src/wp-includes/rest-api/``): routes match case-insensitively with the trailing slash removed;
a route with no handler for the method is the same 404 ``rest_no_route`` as an unknown one;
parameters are looked up in the order JSON body, form body, query string, URL; invalid arguments
are collected into one 400 ``rest_invalid_param``. Collections are in :mod:`.collection`, the
item routes shared by the resources in :mod:`.crud`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from .auth import ApiKey
from .errors import RestError, invalid_params, missing_params
from .state import SiteSettings

if TYPE_CHECKING:
    from .state import Store
    from .webhooks import WebhookDispatcher

__all__ = [
    "Args",
    "Handler",
    "RestContext",
    "RestRequest",
    "RestResponse",
    "Router",
    "links",
    "parse_list",
    "require_key",
    "rest_url",
]

_DATE_TIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?"
    r"(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?$"
)


@dataclass
class RestRequest:
    method: str
    #: The route without the ``/wp-json`` prefix, e.g. ``/wc/v3/orders/727``.
    route: str
    query: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    form: dict[str, Any] = field(default_factory=dict)
    url_params: dict[str, str] = field(default_factory=dict)
    key: ApiKey | None = None

    def _sources(self) -> list[dict[str, Any]]:
        sources: list[dict[str, Any]] = []
        if self.method != "GET":
            if isinstance(self.json, dict):
                sources.append(self.json)
            sources.append(self.form)
        sources.append(self.query)
        sources.append(self.url_params)
        return sources

    def has(self, name: str) -> bool:
        """``isset( $request[ name ] )``: present and not null."""
        return any(source.get(name) is not None for source in self._sources())

    def get(self, name: str, default: Any = None) -> Any:
        for source in self._sources():
            if name in source and source[name] is not None:
                return source[name]
        return default

    def url_id(self, name: str = "id") -> int:
        return int(self.url_params[name])

    def body(self) -> dict[str, Any]:
        """The JSON object body, else the form body (what the controllers' setters read)."""
        return self.json if isinstance(self.json, dict) else dict(self.form)

    def params(self) -> dict[str, Any]:
        """``$request->get_params()``: every source merged, the earlier ones winning."""
        merged: dict[str, Any] = {}
        for source in reversed(self._sources()):
            merged.update(source)
        return merged


@dataclass
class RestResponse:
    status: int = 200
    data: Any = None
    headers: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class RestContext:
    store: Store
    webhooks: WebhookDispatcher

    @property
    def site(self) -> SiteSettings:
        return self.store.site


Handler = Callable[[RestContext, RestRequest], RestResponse]


class Router:
    def __init__(self) -> None:
        self._routes: list[tuple[re.Pattern[str], dict[str, Handler]]] = []

    def add(self, pattern: str, methods: str, handler: Handler) -> None:
        compiled = re.compile("^" + pattern + "$", re.IGNORECASE)
        for existing, handlers in self._routes:
            if existing.pattern == compiled.pattern:
                for method in methods.split(","):
                    handlers[method.strip()] = handler
                return
        self._routes.append((compiled, {method.strip(): handler for method in methods.split(",")}))

    def match(self, method: str, route: str) -> tuple[Handler, dict[str, str]]:
        path = route.rstrip("/") or "/"
        for pattern, handlers in self._routes:
            found = pattern.match(path)
            if found is None:
                continue
            checked = "GET" if method == "HEAD" and "HEAD" not in handlers else method
            if checked in handlers:
                return handlers[checked], found.groupdict()
        raise RestError(
            "rest_no_route", "No route was found matching the URL and request method.", 404
        )


# -- links -----------------------------------------------------------------------------------


def rest_url(site: SiteSettings, path: str) -> str:
    return site.home_url.rstrip("/") + "/wp-json" + path


def links(
    site: SiteSettings,
    self_path: str,
    collection_path: str | None,
    *,
    allow: Sequence[str] = ("GET", "POST", "PUT", "PATCH", "DELETE"),
    target_hints: bool | None = None,
    extra: dict[str, str] | None = None,
) -> dict[str, Any]:
    """``_links`` with ``self`` (plus ``targetHints.allow`` on WordPress 6.7+) and friends."""
    hints = site.target_hints if target_hints is None else target_hints
    self_link: dict[str, Any] = {"href": rest_url(site, self_path)}
    if hints:
        self_link["targetHints"] = {"allow": list(allow)}
    result: dict[str, Any] = {"self": [self_link]}
    if collection_path is not None:
        result["collection"] = [{"href": rest_url(site, collection_path)}]
    for rel, path in (extra or {}).items():
        result[rel] = [{"href": rest_url(site, path)}]
    return result


# -- arguments -------------------------------------------------------------------------------


def _wp_list(values: Sequence[str]) -> str:
    """``wp_sprintf( '%l', ... )``: "a and b", "a, b, and c"."""
    if len(values) == 1:
        return values[0]
    if len(values) == 2:
        return f"{values[0]} and {values[1]}"
    return ", ".join(values[:-1]) + ", and " + values[-1]


def parse_list(value: Any) -> list[Any]:
    """``wp_parse_list``: arrays as they are, strings split on commas and whitespace."""
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, list):
        return value
    return [part for part in re.split(r"[\s,]+", str(value)) if part]


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        return value.is_integer()
    try:
        return float(str(value)).is_integer()
    except ValueError:
        return False


def _type_ok(value: Any, kind: str) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        return _is_integer(value)
    if kind == "number":
        try:
            float(str(value))
        except ValueError:
            return False
        return not isinstance(value, bool | dict | list)
    if kind == "boolean":
        return isinstance(value, bool) or (
            not isinstance(value, dict | list) and str(value).lower() in ("true", "false", "0", "1")
        )
    if kind == "array":
        return isinstance(value, list | dict | str)
    if kind == "object":
        return isinstance(value, dict) or value == "" or value == []
    return True


def _check_value(name: str, value: Any, rules: dict[str, Any]) -> str | None:
    kind = rules.get("type")
    if kind is not None and not _type_ok(value, kind):
        return f"{name} is not of type {kind}."
    enum = rules.get("enum")
    if enum is not None and value not in enum:
        return f"{name} is not one of {_wp_list([str(e) for e in enum])}."
    if kind == "array" and "items" in rules:
        for index, item in enumerate(parse_list(value)):
            problem = _check_value(f"{name}[{index}]", item, rules["items"])
            if problem is not None:
                return problem
    if kind == "object" and isinstance(value, dict):
        for key, sub_rules in rules.get("properties", {}).items():
            if value.get(key) is not None:
                problem = _check_value(f"{name}[{key}]", value[key], sub_rules)
                if problem is not None:
                    return problem
    return None


def parse_date(value: str) -> datetime | None:
    """An RFC 3339 date as ``rest_parse_date`` accepts it; aware when it carried an offset."""
    found = _DATE_TIME.match(value)
    if found is None:
        return None
    year, month, day, hour, minute, second = (int(found.group(i)) for i in range(1, 7))
    try:
        parsed = datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None
    if found.group(8):
        return parsed.replace(tzinfo=UTC)
    if found.group(9):
        sign = 1 if found.group(9) == "+" else -1
        minutes = int(found.group(10)) * 60 + int(found.group(11) or 0)
        return parsed.replace(tzinfo=timezone(sign * timedelta(minutes=minutes)))
    return parsed


class Args:
    """Validates request arguments in registration order; :meth:`done` raises them all at once."""

    def __init__(self, request: RestRequest) -> None:
        self.request = request
        self.problems: dict[str, str] = {}

    def _raw(self, name: str) -> Any:
        return self.request.get(name)

    def integer(
        self,
        name: str,
        *,
        default: int | None = None,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> int | None:
        raw = self._raw(name)
        if raw is None:
            return default
        if not _is_integer(raw):
            self.problems[name] = f"{name} is not of type integer."
            return default
        value = int(float(str(raw)))
        if minimum is not None and maximum is not None and not minimum <= value <= maximum:
            self.problems[name] = (
                f"{name} must be between {minimum} (inclusive) and {maximum} (inclusive)"
            )
        elif minimum is not None and value < minimum:
            self.problems[name] = f"{name} must be greater than or equal to {minimum}"
        elif maximum is not None and value > maximum:
            self.problems[name] = f"{name} must be less than or equal to {maximum}"
        return value

    def string(
        self, name: str, *, default: str | None = None, enum: Sequence[str] | None = None
    ) -> str | None:
        raw = self._raw(name)
        if raw is None:
            return default
        if isinstance(raw, dict | list):
            self.problems[name] = f"{name} is not of type string."
            return default
        value = str(raw)
        if enum is not None and value not in enum:
            self.problems[name] = f"{name} is not one of {_wp_list(list(enum))}."
            return default
        return value

    def boolean(self, name: str, *, default: bool | None = None) -> bool | None:
        raw = self._raw(name)
        if raw is None:
            return default
        if isinstance(raw, bool):
            return raw
        text = str(raw).lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        self.problems[name] = f"{name} is not of type boolean."
        return default

    def int_list(self, name: str) -> list[int] | None:
        raw = self._raw(name)
        if raw is None:
            return None
        values = parse_list(raw)
        for index, item in enumerate(values):
            if not _is_integer(item):
                self.problems[name] = f"{name}[{index}] is not of type integer."
                return None
        return [int(float(str(item))) for item in values]

    def str_list(
        self, name: str, *, default: list[str] | None = None, enum: Sequence[str] | None = None
    ) -> list[str] | None:
        raw = self._raw(name)
        if raw is None:
            return default
        values = [str(item) for item in parse_list(raw)]
        if enum is not None:
            for index, item in enumerate(values):
                if item not in enum:
                    self.problems[name] = f"{name}[{index}] is not one of {_wp_list(list(enum))}."
                    return default
        return values

    def date(self, name: str) -> datetime | None:
        raw = self._raw(name)
        if raw is None:
            return None
        parsed = parse_date(str(raw))
        if parsed is None:
            self.problems[name] = "Invalid date."
        return parsed

    def schema(self, properties: dict[str, dict[str, Any]]) -> None:
        """``rest_validate_value_from_schema`` for each present, non-null body argument."""
        for name, rules in properties.items():
            value = self._raw(name)
            if value is not None:
                problem = _check_value(name, value, rules)
                if problem is not None:
                    self.problems[name] = problem

    def required(self, *names: str) -> None:
        missing = [name for name in names if self._raw(name) is None]
        if missing:
            raise missing_params(missing)

    def done(self) -> None:
        if self.problems:
            raise invalid_params(self.problems)


_DENIED = {
    "list": ("woocommerce_rest_cannot_view", "Sorry, you cannot list resources."),
    "create": ("woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources."),
    "read": ("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource."),
    "edit": ("woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource."),
    "delete": (
        "woocommerce_rest_cannot_delete",
        "Sorry, you are not allowed to delete this resource.",
    ),
    "batch": (
        "woocommerce_rest_cannot_batch",
        "Sorry, you are not allowed to batch manipulate this resource.",
    ),
}


def require_key(request: RestRequest, action: str) -> None:
    """The controllers' ``*_permissions_check``: no authenticated key, no access (401)."""
    if request.key is None:
        code, message = _DENIED[action]
        raise RestError(code, message, 401)
