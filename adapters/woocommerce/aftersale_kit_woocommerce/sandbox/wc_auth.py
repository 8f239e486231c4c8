"""WooCommerce's application authentication endpoint, as ``WC_Auth`` performs it.

Source: woocommerce/woocommerce ``plugins/woocommerce/includes/class-wc-auth.php`` and
https://developer.woocommerce.com/docs/apis/rest-api/authentication/.

* ``GET /wc-auth/v1/authorize?app_name=&scope=&user_id=&return_url=&callback_url=``: every
  parameter required ("Missing parameter X"), ``scope`` one of ``read``, ``write``,
  ``read_write``, both URLs valid, ``callback_url`` over HTTPS ("The callback_url needs to be
  over SSL"); failures are ``wp_die`` pages with status 401 ("Error: ...."). The sandbox's
  store manager is logged in, so the answer is the grant page with its "Approve" link
  (``/wc-auth/v1/access_granted?...&wc_auth_nonce=``) and a "Deny" link (``return_url`` with
  ``success=0&user_id=``).
* ``GET /wc-auth/v1/access_granted?...&wc_auth_nonce=``: creates a key pair (``ck_`` and ``cs_``
  plus 40 hex digits) with the scope's permissions, POSTs ``{"key_id", "user_id",
  "consumer_key", "consumer_secret", "key_permissions"}`` as JSON to ``callback_url``; unless that
  answers 200 the key is deleted and the page says so (401); else 302 to ``return_url`` with
  ``success=1&user_id=``.

``allow_http_callback`` (for a test service on loopback without TLS) lifts the HTTPS rule.
"""

from __future__ import annotations

import html
import json
import re
import secrets
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

from aftersale_kit.testing.httpserver import Request, Response

from .auth import Authenticator

__all__ = ["WcAuth", "approve"]

PREFIX = "/wc-auth/v1/"
_PARAMS = ("app_name", "user_id", "return_url", "callback_url", "scope")
_URL = re.compile(r"^https?://[^\s/?#]+[^\s]*$")


def _die(message: str) -> Response:
    page = f"<html><body><p>Error: {html.escape(message)}.</p></body></html>"
    return Response(401, page.encode(), [("Content-Type", "text/html; charset=UTF-8")])


def _with(url: str, **params: str) -> str:
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query) + list(params.items())
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


class WcAuth:
    """The ``/wc-auth/v1/`` routes of one sandbox store."""

    def __init__(
        self,
        authenticator: Authenticator,
        *,
        home_url: Callable[[], str],
        allow_http_callback: bool = False,
    ) -> None:
        self.auth = authenticator
        self.home_url = home_url
        self.allow_http_callback = allow_http_callback
        self._lock = threading.Lock()
        self._nonces: set[str] = set()
        #: Keys created and accepted by their callback: ``(user_id, consumer_key)``.
        self.created: list[tuple[str, str]] = []

    def __call__(self, request: Request) -> Response:
        route = request.path[len(PREFIX) :].strip("/")
        query = {k: v[0] for k, v in urllib.parse.parse_qs(request.query_string).items()}
        problem = self._validate(query)
        if problem is not None:
            return _die(problem)
        if route == "authorize":
            return self._grant_page(query)
        if route == "access_granted":
            return self._granted(query)
        return _die("You do not have permission to access this page")

    def _validate(self, query: dict[str, str]) -> str | None:
        for name in _PARAMS:
            if not query.get(name):
                return f"Missing parameter {name}"
        if query["scope"] not in ("read", "write", "read_write"):
            return f"Invalid scope {query['scope']}"
        for name in ("return_url", "callback_url"):
            if not _URL.match(query[name]):
                return f"The {query[name]} is not a valid URL"
        if not query["callback_url"].lower().startswith("https://") and not (
            self.allow_http_callback
        ):
            return "The callback_url needs to be over SSL"
        return None

    def _grant_page(self, query: dict[str, str]) -> Response:
        nonce = secrets.token_hex(5)
        with self._lock:
            self._nonces.add(nonce)
        params = {k: query[k] for k in _PARAMS}
        granted = f"{self.home_url()}{PREFIX}access_granted?" + urllib.parse.urlencode(
            {**params, "wc_auth_nonce": nonce}
        )
        deny = _with(query["return_url"], success="0", user_id=query["user_id"])
        page = (
            f"<html><body><h1>{html.escape(query['app_name'])} would like to connect to your "
            f"store</h1><p>Access: {html.escape(query['scope'])}</p>"
            f'<a class="wc-auth-approve" href="{html.escape(granted)}">Approve</a> '
            f'<a class="wc-auth-deny" href="{html.escape(deny)}">Deny</a></body></html>'
        )
        return Response(200, page.encode(), [("Content-Type", "text/html; charset=UTF-8")])

    def _granted(self, query: dict[str, str]) -> Response:
        with self._lock:
            known = query.get("wc_auth_nonce", "") in self._nonces
            self._nonces.discard(query.get("wc_auth_nonce", ""))
        if not known:
            return _die("Invalid nonce verification")
        consumer_key = "ck_" + secrets.token_hex(20)
        consumer_secret = "cs_" + secrets.token_hex(20)
        key = self.auth.add_key(
            consumer_key,
            consumer_secret,
            permissions=query["scope"],
            description=f"{query['app_name'][:170]} - API",
        )
        data = {
            "key_id": key.key_id,
            "user_id": query["user_id"],
            "consumer_key": consumer_key,
            "consumer_secret": consumer_secret,
            "key_permissions": query["scope"],
        }
        if not _post(query["callback_url"], data):
            self.auth.remove_key(consumer_key)
            return _die(
                "An error occurred in the request and at the time were unable to send the "
                "consumer data"
            )
        with self._lock:
            self.created.append((query["user_id"], consumer_key))
        target = _with(query["return_url"], success="1", user_id=query["user_id"])
        return Response(302, b"", [("Location", target)])


def _post(url: str, data: dict[str, Any]) -> bool:
    request = urllib.request.Request(
        url,
        data=json.dumps(data).encode(),
        headers={"Content-Type": "application/json;charset=UTF-8"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return int(response.status) == 200
    except (urllib.error.URLError, OSError):
        return False


def approve(authorize_url: str, *, timeout: float = 60.0) -> tuple[int, str]:
    """The store manager's clicks: open the authorize URL and follow its "Approve" link.
    Returns the final status and the ``Location`` (the ``return_url``) or the page."""
    with urllib.request.urlopen(authorize_url, timeout=timeout) as page:
        text = page.read().decode()
    match = re.search(r'class="wc-auth-approve" href="([^"]+)"', text)
    if match is None:
        return 200, text
    granted = html.unescape(match.group(1))

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(granted, timeout=timeout) as response:
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as exc:
        with exc:
            location = exc.headers.get("Location")
            return exc.code, location if location else exc.read().decode()
