"""The WooCommerce sandbox: a WordPress REST front (``/wp-json/``) over the sandbox store.

Request handling follows ``WP_REST_Server::serve_request``: authentication errors first (before
route matching), then the key's read/write permission (``rest_pre_dispatch``), then the route,
argument validation, the controller's permission check and the callback. Responses are PHP JSON
with WordPress's headers; ``_fields`` trims them.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from aftersale_kit.testing.httpserver import CONTROL_PREFIX, Request, Response

from . import (
    phpjson,
    routes_catalog,
    routes_coupons,
    routes_customers,
    routes_orders,
    routes_webhooks,
)
from .auth import ApiKey, Authenticator
from .errors import RestError
from .phpquery import parse_str
from .rest import RestContext, RestRequest, RestResponse, Router, rest_url
from .state import Store, WebhookRecord
from .webhooks import WebhookDispatcher

__all__ = ["RestApp"]

_ERROR_PAGE = (
    "<!DOCTYPE html><html><head><title>Page not found</title></head>"
    "<body><h1>Not Found</h1><p>The page you requested could not be found.</p></body></html>"
)
_WAF_PAGE = (
    "<!DOCTYPE html><html><head><title>403 Forbidden</title></head>"
    "<body><h1>Forbidden</h1><p>Request blocked by the web application firewall.</p>"
    "</body></html>"
)
_NOCACHE = [
    ("Expires", "Wed, 11 Jan 1984 05:00:00 GMT"),
    ("Cache-Control", "no-cache, must-revalidate, max-age=0, no-store, private"),
]


def build_router() -> Router:
    router = Router()
    routes_coupons.register(router)
    routes_orders.register(router)
    routes_catalog.register(router)
    routes_webhooks.register(router)
    routes_customers.register(router)
    return router


def _fields(data: Any, fields: list[str]) -> Any:
    """``rest_filter_response_fields``: top-level and dotted nested keys."""
    if isinstance(data, list):
        return [_fields(item, fields) for item in data]
    if not isinstance(data, dict):
        return data
    result: dict[str, Any] = {}
    for key, value in data.items():
        nested = [f.split(".", 1)[1] for f in fields if f.startswith(key + ".")]
        if key in fields:
            result[key] = value
        elif nested:
            result[key] = _fields(value, nested)
    return result


class RestApp:
    """The HTTP application: ``__call__(Request) -> Response`` for the sandbox server."""

    def __init__(
        self,
        store: Store,
        authenticator: Authenticator,
        dispatcher: WebhookDispatcher,
        *,
        control: Callable[[Request], Response],
        blocked_user_agents: tuple[str, ...] = (),
        is_ssl: bool = False,
    ) -> None:
        self.store = store
        self.auth = authenticator
        self.webhooks = dispatcher
        self.router = build_router()
        self.context = RestContext(store=store, webhooks=dispatcher)
        self.control = control
        self.blocked_user_agents = blocked_user_agents
        self.is_ssl = is_ssl
        self._log_lock = threading.Lock()
        #: Every API request: method, path, query, parsed body, auth method, status.
        self.request_log: list[dict[str, Any]] = []

    # -- the HTTP entry point ---------------------------------------------------------------

    def __call__(self, request: Request) -> Response:
        if request.path.startswith(CONTROL_PREFIX):
            return self.control(request)
        query = parse_str(request.query_string)
        entry: dict[str, Any] = {
            "at": time.time(),
            "method": request.method,
            "path": request.path,
            "query": query,
            "status": None,
            "auth": None,
            "body": None,
        }
        try:
            response = self._serve(request, query, entry)
        finally:
            with self._log_lock:
                self.request_log.append(entry)
                del self.request_log[:-10000]
        entry["status"] = response.status
        return response

    def _serve(self, request: Request, query: dict[str, Any], entry: dict[str, Any]) -> Response:
        user_agent = request.headers.get("User-Agent", "") or ""
        if any(blocked in user_agent for blocked in self.blocked_user_agents):
            return Response(403, _WAF_PAGE.encode(), [("Content-Type", "text/html; charset=UTF-8")])
        route = self._route_of(request.path, query)
        if route is None:
            return Response(
                404, _ERROR_PAGE.encode(), [("Content-Type", "text/html; charset=UTF-8")]
            )
        method = request.method
        override = query.get("_method") or request.headers.get("X-HTTP-Method-Override")
        if override:
            method = str(override).upper()
        headers = {k.lower(): v for k, v in request.headers.items()}
        key: ApiKey | None = None
        try:
            json_body, form = self._parse_body(request, headers)
            entry["body"] = json_body if json_body is not None else form or None
            if route.strip("/").startswith(("wc/", "wc-")):
                outcome = self.auth.authenticate(
                    method=request.method,
                    path=request.path,
                    query=query,
                    headers=headers,
                    is_ssl=self.is_ssl,
                    home_url=self.store.site.home_url,
                )
                if outcome.error is not None:
                    raise outcome.error
                key = outcome.key
                if key is not None:
                    entry["auth"] = self._auth_kind(query, headers)
                    denied = self.auth.check_permissions(key, method)
                    if denied is not None:
                        raise denied
            result = self.dispatch(
                RestRequest(method=method, route=route, query=query, json=json_body, form=form),
                key=key,
            )
        except RestError as error:
            result = RestResponse(error.status, error.body())
        extra_headers = _NOCACHE if key is not None else []
        return self._encode(result, query, extra_headers, head=method == "HEAD")

    def logged_requests(self) -> list[dict[str, Any]]:
        with self._log_lock:
            return copy.deepcopy(self.request_log)

    def clear_log(self) -> None:
        with self._log_lock:
            self.request_log.clear()

    def dispatch(self, request: RestRequest, *, key: ApiKey | None) -> RestResponse:
        """Route and run one REST request (also used to build webhook payloads)."""
        route = request.route.rstrip("/") or "/"
        if route in ("/", "/wc/v3"):
            return RestResponse(200, self._index(route))
        handler, url_params = self.router.match(request.method, route)
        request.url_params = url_params
        request.key = key
        try:
            with self.webhooks.request_scope():
                return handler(self.context, request)
        except RestError as error:
            return RestResponse(error.status, error.body())

    # -- helpers ----------------------------------------------------------------------------

    def _route_of(self, path: str, query: dict[str, Any]) -> str | None:
        home_path = urlsplit(self.store.site.home_url).path.rstrip("/")
        if home_path and path.startswith(home_path):
            path = path[len(home_path) :]
        if path == "/wp-json" or path.startswith("/wp-json/"):
            return path[len("/wp-json") :] or "/"
        if path in ("", "/", "/index.php"):
            rest_route = query.get("rest_route")
            if isinstance(rest_route, str):
                return "/" + rest_route.lstrip("/")
        return None

    @staticmethod
    def _parse_body(request: Request, headers: dict[str, str]) -> tuple[Any, dict[str, Any]]:
        content_type = headers.get("content-type", "")
        if not request.body:
            return None, {}
        if "json" in content_type:
            try:
                return json.loads(request.body.decode("utf-8")), {}
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise RestError(
                    "rest_invalid_json",
                    "Invalid JSON body passed.",
                    400,
                    json_error_code=4,
                    json_error_message="Syntax error",
                ) from exc
        if "application/x-www-form-urlencoded" in content_type:
            return None, parse_str(request.body.decode("utf-8", errors="replace"))
        return None, {}

    @staticmethod
    def _auth_kind(query: dict[str, Any], headers: dict[str, str]) -> str:
        if "oauth_signature" in query or headers.get("authorization", "").startswith("OAuth"):
            return "oauth1"
        if "consumer_key" in query:
            return "query_string"
        return "basic"

    def _index(self, route: str) -> dict[str, Any]:
        site = self.store.site
        if route == "/wc/v3":
            return {
                "namespace": "wc/v3",
                "routes": {},
                "_links": {"up": [{"href": rest_url(site, "/")}]},
            }
        return {
            "name": "aftersale-kit WooCommerce sandbox",
            "description": "",
            "url": site.home_url,
            "home": site.home_url,
            "gmt_offset": self.store.clock.utc_offset,
            "timezone_string": "",
            "namespaces": ["wc/v3"],
            "authentication": [],
            "routes": {},
        }

    def _encode(
        self,
        result: RestResponse,
        query: dict[str, Any],
        extra_headers: list[tuple[str, str]],
        *,
        head: bool,
    ) -> Response:
        data = result.data
        fields = query.get("_fields")
        if fields and result.status < 400:
            wanted = [f.strip() for f in str(fields).split(",") if f.strip()]
            data = _fields(data, wanted)
        body = b"" if head else phpjson.dumps(data)
        headers = [
            ("Content-Type", "application/json; charset=UTF-8"),
            ("X-Robots-Tag", "noindex"),
            ("X-Content-Type-Options", "nosniff"),
            ("Access-Control-Expose-Headers", "X-WP-Total, X-WP-TotalPages, Link"),
            (
                "Access-Control-Allow-Headers",
                "Authorization, X-WP-Nonce, Content-Disposition, Content-MD5, Content-Type",
            ),
            *extra_headers,
        ]
        if not any(name == "Link" for name, _ in result.headers):
            api_root = rest_url(self.store.site, "/")
            headers.append(("Link", f'<{api_root}>; rel="https://api.w.org/"'))
        headers.extend(result.headers)
        return Response(result.status, body, headers)

    # -- webhook payloads -------------------------------------------------------------------

    def build_payload(self, webhook: WebhookRecord, resource_id: int) -> Any:
        """The REST response for the resource, as the webhook's owner would get it now."""
        owner = ApiKey(key_id=0, consumer_key="", consumer_secret="", user_id=webhook.user_id)
        request = RestRequest(method="GET", route=f"/wc/v3/{webhook.resource}s/{resource_id}")
        return self.dispatch(request, key=owner).data
