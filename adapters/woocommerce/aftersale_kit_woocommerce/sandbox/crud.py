"""The item routes every resource shares: create (201), update, delete, batch, get-or-404.

Behaviour follows ``WC_REST_CRUD_Controller`` and ``WC_REST_Controller::batch_items``
(woocommerce/woocommerce ``includes/rest-api/Controllers/Version3/``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from .errors import RestError, invalid_id
from .rest import (
    Args,
    Handler,
    RestContext,
    RestRequest,
    RestResponse,
    Router,
    parse_list,
    require_key,
    rest_url,
)

__all__ = ["Crud", "created", "lookup", "run_batch"]

T = TypeVar("T")


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
    create: Callable[[RestContext, dict[str, Any]], dict[str, Any]]
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
    for item in parse_list(items.get("create", [])):
        try:
            response.setdefault("create", []).append(create(item if isinstance(item, dict) else {}))
        except RestError as error:
            response.setdefault("create", []).append(error_entry(0, error))
    for item in parse_list(items.get("update", [])):
        body = item if isinstance(item, dict) else {}
        try:
            response.setdefault("update", []).append(update(_batch_id(body), body))
        except RestError as error:
            response.setdefault("update", []).append(error_entry(body.get("id"), error))
    for raw_id in parse_list(items.get("delete", [])):
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
