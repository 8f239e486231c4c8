"""A small WordPress REST server: routes, parameters, validation messages, pagination headers.

Behaviour follows ``WP_REST_Server`` / ``WP_REST_Request`` (wordpress-develop
``src/wp-includes/rest-api/``): routes match case-insensitively with the trailing slash removed;
a route with no handler for the method is the same 404 ``rest_no_route`` as an unknown one;
parameters are looked up in the order JSON body, form body, query string, URL; invalid arguments
are collected into one 400 ``rest_invalid_param``; collections send ``X-WP-Total``,
``X-WP-TotalPages`` and a ``Link`` header with ``prev``/``next`` only (``WC_REST_CRUD_Controller::
get_items``), built from the request's own query string (OAuth parameters included, as on the
platform).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, TypeVar

from .auth import ApiKey
from .errors import RestError, invalid_id, invalid_params, missing_params
from .phpquery import build_query
from .state import SiteSettings
from .values import DATE_FORMAT

if TYPE_CHECKING:
    from .state import Store
    from .webhooks import WebhookDispatcher

__all__ = [
    "Args",
    "CollectionArgs",
    "Crud",
    "RestContext",
    "RestRequest",
    "RestResponse",
    "Router",
    "collection_response",
    "created",
    "links",
    "lookup",
    "require_key",
    "rest_url",
]

T = TypeVar("T")
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


def _parse_list(value: Any) -> list[Any]:
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
        for index, item in enumerate(_parse_list(value)):
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
        values = _parse_list(raw)
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
        values = [str(item) for item in _parse_list(raw)]
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


@dataclass
class Page:
    items: list[Any]
    total: int
    pages: int
    page: int


class CollectionArgs:
    """The arguments every ``WC_REST_CRUD_Controller`` collection takes, validated in order."""

    def __init__(
        self,
        args: Args,
        *,
        orderby: Sequence[str] = ("date", "id", "include", "title", "slug", "modified"),
        default_orderby: str = "date",
        default_order: str = "desc",
        dates: bool = True,
    ) -> None:
        self.context = args.string("context", default="view", enum=("view", "edit"))
        self.page = args.integer("page", default=1, minimum=1) or 1
        self.per_page = args.integer("per_page", default=10, minimum=1, maximum=100) or 10
        self.search = args.string("search")
        if dates:
            self.after = args.date("after")
            self.before = args.date("before")
            self.modified_after = args.date("modified_after")
            self.modified_before = args.date("modified_before")
            self.dates_are_gmt = bool(args.boolean("dates_are_gmt", default=False))
        self.exclude = args.int_list("exclude") or []
        self.include = args.int_list("include") or []
        self.offset = args.integer("offset")
        self.order = args.string("order", default=default_order, enum=("asc", "desc")) or ""
        self.orderby = args.string("orderby", default=default_orderby, enum=orderby) or ""

    def select(self, rows: list[T], record_id: Callable[[T], int]) -> list[T]:
        """``include`` and ``exclude`` applied to ``rows``."""
        if self.include:
            rows = [row for row in rows if record_id(row) in self.include]
        if self.exclude:
            rows = [row for row in rows if record_id(row) not in self.exclude]
        return rows

    def dated(
        self,
        created: tuple[str | None, str | None],
        modified: tuple[str | None, str | None],
        utc_offset: float,
    ) -> bool:
        """Whether a record's (local, GMT) dates pass ``after``/``before`` and the modified pair."""
        return date_matches(
            created,
            after=self.after,
            before=self.before,
            use_gmt=self.dates_are_gmt,
            utc_offset=utc_offset,
        ) and date_matches(
            modified,
            after=self.modified_after,
            before=self.modified_before,
            use_gmt=self.dates_are_gmt,
            utc_offset=utc_offset,
        )

    def page_of(
        self, records: list[dict[str, Any]], keys: dict[str, Callable[[dict[str, Any]], Any]]
    ) -> Page:
        """``records`` sorted by ``orderby``/``order`` (see :func:`sort_records`), then paged."""
        ordered = sort_records(
            records, orderby=self.orderby, order=self.order, include=self.include, keys=keys
        )
        total = len(ordered)
        start = self.offset if self.offset is not None else (self.page - 1) * self.per_page
        pages = -(-total // self.per_page)
        return Page(ordered[start : start + self.per_page], total, pages, self.page)


def collection_response(
    ctx: RestContext, request: RestRequest, page: Page, data: list[Any]
) -> RestResponse:
    """``X-WP-Total``, ``X-WP-TotalPages`` and the ``prev``/``next`` ``Link`` header."""
    headers = [("X-WP-Total", str(page.total)), ("X-WP-TotalPages", str(page.pages))]
    base_params = dict(request.query)
    link_parts: list[str] = []

    def page_link(number: int) -> str:
        params = dict(base_params)
        params["page"] = number
        return rest_url(ctx.site, request.route.rstrip("/")) + "?" + build_query(params)

    if page.page > 1:
        link_parts.append(f'<{page_link(min(page.page - 1, page.pages))}>; rel="prev"')
    if page.pages > page.page:
        link_parts.append(f'<{page_link(page.page + 1)}>; rel="next"')
    if link_parts:
        headers.append(("Link", ", ".join(link_parts)))
    return RestResponse(200, data, headers)


def date_matches(
    stamps: tuple[str | None, str | None],
    *,
    after: datetime | None,
    before: datetime | None,
    use_gmt: bool,
    utc_offset: float,
) -> bool:
    """WP_Date_Query ``after``/``before`` (exclusive) against a record's (local, GMT) dates.

    A value with an offset is compared as an instant; a naive one in the column's own time
    (site-local, or GMT with ``dates_are_gmt``).
    """
    local_text, gmt_text = stamps
    text = gmt_text if use_gmt else local_text
    if text is None:
        return after is None and before is None
    value = datetime.strptime(text, DATE_FORMAT)
    for bound, is_after in ((after, True), (before, False)):
        if bound is None:
            continue
        if bound.tzinfo is not None:
            utc = bound.astimezone(UTC).replace(tzinfo=None)
            limit = utc if use_gmt else utc + timedelta(hours=utc_offset)
        else:
            limit = bound
        if is_after and not value > limit:
            return False
        if not is_after and not value < limit:
            return False
    return True


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


def sort_records(
    records: list[dict[str, Any]],
    *,
    orderby: str,
    order: str,
    include: list[int],
    keys: dict[str, Callable[[dict[str, Any]], Any]],
) -> list[dict[str, Any]]:
    """WP_Query ordering; ``date``/``modified`` break ties by ID as WooCommerce adds it."""
    if orderby == "include" and include:
        position = {rid: i for i, rid in enumerate(include)}
        return sorted(records, key=lambda r: position.get(int(r["id"]), len(position)))
    key = keys.get(orderby, keys.get("id", lambda r: r["id"]))
    return sorted(
        records,
        key=lambda r: (key(r), int(r["id"])),
        reverse=order == "desc",
    )


# -- the item routes of a WC_REST_CRUD_Controller ------------------------------------------------


def created(ctx: RestContext, path: str, data: Any) -> RestResponse:
    """201 with ``Location`` pointing at the new resource."""
    return RestResponse(201, data, [("Location", rest_url(ctx.site, path))])


def lookup(records: Mapping[int, T], record_id: int, post_type: str, status: int = 404) -> T:
    """The record, or ``woocommerce_rest_{post_type}_invalid_id`` (404 on read/delete, 400 on
    update, as the controllers answer)."""
    record = records.get(record_id)
    if record is None:
        raise invalid_id(post_type, status)
    return record


Write = Callable[[RestContext, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Crud:
    """Create, update, delete and batch of one resource, with its controller's argument and
    permission checks; reading and listing stay with the resource (their arguments differ).

    Update and delete check the key only when the record exists (``wc_rest_check_post_permissions``
    runs on a found object; a missing one falls through to the callback's invalid-ID error);
    ``delete_checks_key_first`` checks it first whatever the ID (the webhooks controller).
    """

    base: str
    schema: dict[str, dict[str, Any]]
    exists: Callable[[RestContext, int], bool]
    create: Write
    update: Callable[[RestContext, int, dict[str, Any]], dict[str, Any]]
    delete: Callable[[RestContext, int, bool], dict[str, Any]]
    required: tuple[str, ...] = ()
    delete_checks_key_first: bool = False

    def create_item(self, ctx: RestContext, request: RestRequest) -> RestResponse:
        args = Args(request)
        if self.required:
            args.required(*self.required)
        args.schema(self.schema)
        args.done()
        require_key(request, "create")
        data = self.create(ctx, request.body())
        return created(ctx, f"{self.base}/{data['id']}", data)

    def update_item(self, ctx: RestContext, request: RestRequest) -> RestResponse:
        args = Args(request)
        args.schema(self.schema)
        args.done()
        record_id = request.url_id()
        if self.exists(ctx, record_id):
            require_key(request, "edit")
        return RestResponse(200, self.update(ctx, record_id, request.body()))

    def delete_item(self, ctx: RestContext, request: RestRequest) -> RestResponse:
        args = Args(request)
        force = args.boolean("force", default=False)
        args.done()
        record_id = request.url_id()
        if self.delete_checks_key_first or self.exists(ctx, record_id):
            require_key(request, "delete")
        return RestResponse(200, self.delete(ctx, record_id, bool(force)))

    def batch(self, ctx: RestContext, request: RestRequest) -> RestResponse:
        require_key(request, "batch")
        return run_batch(
            request,
            create=lambda body: self.create(ctx, body),
            update=lambda record_id, body: self.update(ctx, record_id, body),
            delete=lambda record_id: self.delete(ctx, record_id, True),
        )

    def register(self, router: Router, *, list_items: Handler, get_item: Handler) -> None:
        item = self.base + "/(?P<id>[\\d]+)"
        router.add(self.base, "GET", list_items)
        router.add(self.base, "POST", self.create_item)
        router.add(item, "GET", get_item)
        router.add(item, "POST,PUT,PATCH", self.update_item)
        router.add(item, "DELETE", self.delete_item)
        router.add(self.base + "/batch", "POST,PUT,PATCH", self.batch)


def _batch_id(body: dict[str, Any]) -> int:
    try:
        return int(body.get("id") or 0)
    except (TypeError, ValueError):
        return 0


def run_batch(
    request: RestRequest,
    *,
    create: Callable[[dict[str, Any]], Any],
    update: Callable[[int, dict[str, Any]], Any],
    delete: Callable[[int], Any],
) -> RestResponse:
    """``WC_REST_Controller::batch_items``: 100 items at most, errors per item inside a 200."""
    params = request.params()
    items = {k: params[k] for k in ("create", "update", "delete") if params.get(k)}
    total = sum(len(v) for v in items.values() if isinstance(v, list | dict))
    limit = 100
    if total > limit:
        raise RestError(
            "woocommerce_rest_request_entity_too_large",
            f"Unable to accept more than {limit} items for this request.",
            413,
        )

    def error_entry(item_id: Any, error: RestError) -> dict[str, Any]:
        return {
            "id": item_id,
            "error": {"code": error.code, "message": error.message, "data": error.as_data()},
        }

    response: dict[str, list[Any]] = {}
    for item in _parse_list(items.get("create", [])):
        try:
            response.setdefault("create", []).append(create(item if isinstance(item, dict) else {}))
        except RestError as error:
            response.setdefault("create", []).append(error_entry(0, error))
    for item in _parse_list(items.get("update", [])):
        body = item if isinstance(item, dict) else {}
        try:
            response.setdefault("update", []).append(update(_batch_id(body), body))
        except RestError as error:
            response.setdefault("update", []).append(error_entry(body.get("id"), error))
    for raw_id in _parse_list(items.get("delete", [])):
        try:
            item_id = int(float(str(raw_id)))
        except ValueError:
            item_id = 0
        if item_id == 0:
            continue
        try:
            response.setdefault("delete", []).append(delete(item_id))
        except RestError as error:
            response.setdefault("delete", []).append(error_entry(item_id, error))
    # An empty PHP array encodes as [] (no batch keys at all).
    return RestResponse(200, response)
