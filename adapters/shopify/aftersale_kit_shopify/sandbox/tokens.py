"""The sandbox's token endpoint: the client credentials grant, with tokens that expire.

``POST /admin/oauth/access_token`` with ``grant_type=client_credentials``, ``client_id`` and
``client_secret`` (form-encoded; JSON is accepted too, as Shopify's own libraries send it)
answers ``{"access_token", "scope", "expires_in"}``
(https://shopify.dev/docs/apps/build/authentication-authorization/client-secrets). A wrong
client id or secret gets 400 ``{"error": "invalid_client", "error_description": ...}``, the
OAuth 2.0 error of RFC 6749 section 5.2 that Shopify's token endpoint answers with.

The install flow (authorization code grant,
https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/authorization-code-grant):
``GET /admin/oauth/authorize?client_id=&scope=&redirect_uri=&state=`` is approved at once and
redirects to ``redirect_uri`` with ``code``, ``hmac``, ``shop``, ``state`` and ``timestamp``;
``POST /admin/oauth/access_token`` with ``client_id``, ``client_secret`` and ``code`` answers an
offline token ``{"access_token", "scope"}`` (a code works once).

Tokens live ``token_lifetime`` seconds on a scaled clock: ``expires_in`` says the scaled
lifetime (``86399 * time_scale`` by default, so 0.0001 makes a day last 8.6 s), and the Admin
API answers an expired token with Shopify's 401 body. :meth:`TokenIssuer.expire_all` ends every
token at once (an injected 401). Every token request is counted with its time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass

from aftersale_kit.testing.httpserver import Request, Response, json_response

__all__ = ["DAY_SECONDS", "TokenIssuer", "TokenRequest", "sign_query"]

#: What Shopify's client credentials tokens live (peers report 24 hours; ``expires_in`` 86399).
DAY_SECONDS = 86399
SCOPES = (
    "read_customers,write_customers,read_discounts,write_discounts,read_orders,write_orders,"
    "read_products"
)
INVALID_CLIENT = {
    "error": "invalid_client",
    "error_description": "Client authentication failed due to unknown client, no client "
    "authentication included, or unsupported authentication method.",
}


@dataclass(frozen=True, slots=True)
class TokenRequest:
    at: float
    granted: bool


class TokenIssuer:
    """Issues and checks the shop's expiring tokens; thread-safe."""

    def __init__(
        self, *, client_id: str, client_secret: str, lifetime: float, scope: str = SCOPES
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.lifetime = lifetime
        self.scope = scope
        self._lock = threading.Lock()
        self._tokens: dict[str, float] = {}
        self._codes: dict[str, str] = {}
        #: How many installs the merchant approved.
        self.authorized = 0
        self.requests: list[TokenRequest] = []

    def handle(self, request: Request) -> Response:
        if request.method != "POST":
            return json_response(405, {"errors": "Method Not Allowed"})
        form = _form(request)
        if "code" in form and "grant_type" not in form:
            return self._exchange(form)
        granted = (
            form.get("grant_type") == "client_credentials"
            and secrets.compare_digest(form.get("client_id", ""), self.client_id)
            and secrets.compare_digest(form.get("client_secret", ""), self.client_secret)
        )
        with self._lock:
            self.requests.append(TokenRequest(at=time.monotonic(), granted=granted))
        if form.get("grant_type") != "client_credentials":
            return json_response(400, {"error": "unsupported_grant_type"})
        if not granted:
            return json_response(400, INVALID_CLIENT)
        return json_response(200, self.issue())

    def issue(self) -> dict[str, object]:
        token = "shpat_" + secrets.token_hex(16)
        with self._lock:
            self._tokens[token] = time.monotonic() + self.lifetime
        return {"access_token": token, "scope": self.scope, "expires_in": round(self.lifetime)}

    # -- authorization code grant (the install flow) -------------------------------------------

    def authorize(self, request: Request, *, shop: str) -> Response:
        """``GET /admin/oauth/authorize``: the merchant approves at once; 302 to ``redirect_uri``
        with ``code``, ``hmac``, ``shop``, ``state`` and ``timestamp`` (the hex HMAC-SHA256 of
        the other parameters, sorted, ``k=v`` joined by ``&``, keyed with the client secret)."""
        query = {k: v[0] for k, v in urllib.parse.parse_qs(request.query_string).items()}
        if query.get("client_id") != self.client_id or not query.get("redirect_uri"):
            return json_response(400, {"errors": "Oauth error invalid_request: unknown client"})
        code = secrets.token_hex(16)
        with self._lock:
            self._codes[code] = query.get("scope", "")
            self.authorized += 1
        params = {"code": code, "shop": shop, "timestamp": str(int(time.time()))}
        if "state" in query:
            params["state"] = query["state"]
        params["hmac"] = sign_query(params, self.client_secret)
        target = query["redirect_uri"] + "?" + urllib.parse.urlencode(params)
        return Response(302, b"", [("Location", target)])

    def _exchange(self, form: dict[str, str]) -> Response:
        """``POST /admin/oauth/access_token`` with ``client_id``, ``client_secret``, ``code``:
        an offline token that does not expire, ``{"access_token", "scope"}``; a code works once."""
        client_ok = secrets.compare_digest(
            form.get("client_id", ""), self.client_id
        ) and secrets.compare_digest(form.get("client_secret", ""), self.client_secret)
        with self._lock:
            scope = self._codes.pop(form["code"], None) if client_ok else None
        if not client_ok:
            return json_response(400, INVALID_CLIENT)
        if scope is None:
            return json_response(
                400,
                {
                    "error": "invalid_request",
                    "error_description": "The authorization code was not found or was already used",
                },
            )
        token = "shpat_" + secrets.token_hex(16)
        with self._lock:
            self._tokens[token] = float("inf")
        return json_response(200, {"access_token": token, "scope": scope})

    def knows(self, token: str) -> bool:
        with self._lock:
            return token in self._tokens

    def valid(self, token: str) -> bool:
        with self._lock:
            until = self._tokens.get(token)
        return until is not None and time.monotonic() < until

    def expire_all(self) -> int:
        """End every issued token now (the next API call with one gets 401)."""
        with self._lock:
            now = time.monotonic()
            live = [t for t, until in self._tokens.items() if until > now]
            for token in live:
                self._tokens[token] = now
        return len(live)

    def issued(self) -> list[str]:
        """Every token issued so far."""
        with self._lock:
            return list(self._tokens)

    def granted(self) -> list[float]:
        with self._lock:
            return [r.at for r in self.requests if r.granted]


def _form(request: Request) -> dict[str, str]:
    text = request.body.decode("utf-8", errors="replace")
    if "json" in request.headers.get("Content-Type", ""):
        try:
            data = json.loads(text)
        except ValueError:
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
    return {k: v[0] for k, v in urllib.parse.parse_qs(text).items()}


def sign_query(params: dict[str, str], secret: str) -> str:
    """Shopify's ``hmac`` of an OAuth redirect: hex HMAC-SHA256 of the sorted ``k=v`` pairs
    without ``hmac``, joined by ``&`` (``%``, ``&`` and ``=`` escaped as Shopify escapes them)."""
    pairs = sorted(
        f"{k.replace('%', '%25').replace('=', '%3D')}={v.replace('%', '%25')}".replace("&", "%26")
        for k, v in params.items()
        if k != "hmac"
    )
    return hmac.new(secret.encode(), "&".join(pairs).encode(), hashlib.sha256).hexdigest()
