"""Where the Admin API access token comes from: a static token, or the client credentials grant.

A Dev Dashboard app installed on its own organisation's store gets its token with the client
credentials grant
(https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/client-credentials-grant,
https://shopify.dev/docs/apps/build/authentication-authorization/client-secrets)::

    POST https://{shop}.myshopify.com/admin/oauth/access_token
    Content-Type: application/x-www-form-urlencoded

    grant_type=client_credentials&client_id={client_id}&client_secret={client_secret}

    200 {"access_token": "shpat_...", "scope": "read_products,...", "expires_in": 86399}

The token expires (24 hours, ``expires_in`` seconds) and is fetched again with the same
credentials. Wrong credentials are answered with an OAuth error object (``{"error":
"invalid_client", "error_description": ...}``), an expired token by the Admin API's 401
``{"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}``.

:class:`ClientCredentialsTokens` refreshes the token when less than a tenth of its lifetime
(at most 5 minutes) is left, and once when the API says 401 to it. The token is shared through
``shared`` (the service passes its encrypted credential store), whose ``refresh`` fetches under
a per-shop lock: every service and worker process uses the same token, and concurrent refreshes
make one request.
"""

from __future__ import annotations

import http.client
import json
import logging
import ssl
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from aftersale_kit.core.errors import NotAuthorizedError, PlatformUnavailableError

from .errors import Redactor

__all__ = [
    "SCOPES",
    "ClientCredentialsTokens",
    "InstalledToken",
    "MemoryTokens",
    "SharedTokens",
    "StaticToken",
    "TokenSource",
]

log = logging.getLogger("aftersale_kit_shopify")
PLATFORM = "shopify"
KIND = "access_token"
#: Refresh when this share of the token's lifetime is left, but at most :data:`MAX_MARGIN`.
MARGIN_SHARE = 0.1
MAX_MARGIN = timedelta(minutes=5)

Fetched = tuple[Mapping[str, str], datetime | None]

#: The access scopes the features need, in one place (the install link asks for these; a Dev
#: Dashboard app selects them on its version): coupons (discounts), orders (read, tags, notes
#: and the confirmation-page metafield), customers (first order, order count; written: the
#: loyalty balance metafield and the confirmed newsletter consent), products (categories and
#: costs of line items). "Any scope that writes a resource also grants read access to it":
#: https://shopify.dev/docs/api/usage/access-scopes
SCOPES = ("write_discounts", "write_orders", "write_customers", "read_products")


class TokenSource(Protocol):
    """What the GraphQL transport asks for its ``X-Shopify-Access-Token``."""

    def current(self) -> str: ...

    def refused(self, token: str) -> bool:
        """The API said 401 to ``token``: whether a new one is worth a retry."""
        ...


class StaticToken:
    """A legacy admin-created app's token: the same until the merchant revokes it."""

    def __init__(self, token: str) -> None:
        self._token = token

    def current(self) -> str:
        return self._token

    def refused(self, token: str) -> bool:
        return False


class Stored(Protocol):
    @property
    def value(self) -> Mapping[str, str]: ...

    @property
    def expires_at(self) -> datetime | None: ...


class SharedTokens(Protocol):
    """A store of tokens shared by processes (``aftersale_kit.storage.credentials``)."""

    def refresh(
        self,
        shop: str,
        kind: str,
        fetch: Callable[[], Fetched],
        *,
        margin: Callable[[Mapping[str, str]], timedelta],
        refused: str | None = None,
    ) -> Stored: ...


@dataclass(frozen=True, slots=True)
class _Held:
    value: Mapping[str, str]
    expires_at: datetime | None


class MemoryTokens:
    """:class:`SharedTokens` within one process (a library user without the service's store)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[tuple[str, str], _Held] = {}

    def refresh(
        self,
        shop: str,
        kind: str,
        fetch: Callable[[], Fetched],
        *,
        margin: Callable[[Mapping[str, str]], timedelta],
        refused: str | None = None,
    ) -> Stored:
        with self._lock:
            held = self._held.get((shop, kind))
            if (
                held is not None
                and held.value.get(KIND) != refused
                and (held.expires_at is None or held.expires_at - margin(held.value) > _now())
            ):
                return held
            value, expires_at = fetch()
            held = self._held[(shop, kind)] = _Held(value=dict(value), expires_at=expires_at)
            return held


def _now() -> datetime:
    return datetime.now(UTC)


def refresh_margin(value: Mapping[str, str]) -> timedelta:
    """How long before its expiry a token is replaced: a tenth of its lifetime, at most 5 min."""
    try:
        lifetime = float(value.get("expires_in", "86399"))
    except ValueError:
        lifetime = 86399.0
    return min(MAX_MARGIN, timedelta(seconds=lifetime * MARGIN_SHARE))


class ClientCredentialsTokens:
    """The token of one shop through the client credentials grant; thread-safe."""

    def __init__(
        self,
        *,
        shop: str,
        client_id: str,
        client_secret: str,
        base_url: str | None = None,
        shared: SharedTokens | None = None,
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = 10.0,
        redact: Redactor | None = None,
    ) -> None:
        self.shop = shop
        self._client_id = client_id
        self._client_secret = client_secret
        root = base_url.rstrip("/") if base_url else f"https://{shop}"
        self.token_url = f"{root}/admin/oauth/access_token"
        self._shared: SharedTokens = shared if shared is not None else MemoryTokens()
        handlers: list[urllib.request.BaseHandler] = []
        if ssl_context is not None:
            handlers.append(urllib.request.HTTPSHandler(context=ssl_context))
        self._opener = urllib.request.build_opener(*handlers)
        self._timeout = timeout
        self.redactor = redact or Redactor([client_secret])
        self.redactor.add(client_secret)
        self._lock = threading.Lock()
        self._held: _Held | None = None
        #: Token requests this process sent (the store may have saved others the trouble).
        self.fetches = 0

    def __repr__(self) -> str:
        return f"ClientCredentialsTokens(shop={self.shop!r})"

    def current(self) -> str:
        held = self._held
        if held is not None and (
            held.expires_at is None or held.expires_at - refresh_margin(held.value) > _now()
        ):
            return held.value[KIND]
        return self._refresh(refused=None)

    def refused(self, token: str) -> bool:
        self._refresh(refused=token)
        return True

    def _refresh(self, *, refused: str | None) -> str:
        with self._lock:
            stored = self._shared.refresh(
                self.shop, KIND, self._fetch, margin=refresh_margin, refused=refused
            )
            self._held = _Held(value=dict(stored.value), expires_at=stored.expires_at)
            token = stored.value[KIND]
            self.redactor.add(token)
            return token

    def _fetch(self) -> Fetched:
        body = urllib.parse.urlencode(
            {
                "grant_type": "client_credentials",
                "client_id": self._client_id,
                "client_secret": self._client_secret,
            }
        ).encode()
        request = urllib.request.Request(
            self.token_url,
            data=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
            method="POST",
        )
        self.fetches += 1
        status, payload = self._post(request)
        if status != 200 or not isinstance(payload.get(KIND), str) or not payload[KIND]:
            raise self._refusal(status, payload)
        try:
            expires_in = int(payload.get("expires_in", 86399))
        except (TypeError, ValueError):
            expires_in = 86399
        token = str(payload[KIND])
        self.redactor.add(token)
        log.info("shopify %s: access token fetched (expires in %d s)", self.shop, expires_in)
        value = {KIND: token, "scope": str(payload.get("scope", "")), "expires_in": str(expires_in)}
        return value, _now() + timedelta(seconds=expires_in)

    def _post(self, request: urllib.request.Request) -> tuple[int, dict[str, Any]]:
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                status, raw = int(response.status), response.read()
        except urllib.error.HTTPError as exc:
            status = exc.code
            try:
                raw = exc.read()
            except (OSError, http.client.HTTPException):
                raw = b""
            finally:
                exc.close()
        except (OSError, http.client.HTTPException, ValueError) as exc:
            raise PlatformUnavailableError(
                f"Shopify {self.shop}: the token endpoint is unreachable: "
                f"{self.redactor(type(exc).__name__ + ': ' + str(exc))}",
                platform=PLATFORM,
                status=None,
            ) from None
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            data = {}
        return status, data if isinstance(data, dict) else {}

    def _refusal(self, status: int, payload: Mapping[str, Any]) -> Exception:
        code = str(payload.get("error") or payload.get("errors") or "no token in the answer")
        detail = str(payload.get("error_description") or "")
        text = self.redactor(f"{code}: {detail}" if detail else code)
        if status >= 500 or status == 429:
            return PlatformUnavailableError(
                f"Shopify {self.shop}: the token endpoint failed (HTTP {status}): {text}",
                platform=PLATFORM,
                status=status,
            )
        return NotAuthorizedError(
            f"Shopify {self.shop} refused the app's client credentials (HTTP {status}, {text}); "
            "check the variables named in shop.auth.client_id and shop.auth.client_secret, and "
            "that the app is installed on this store",
            platform=PLATFORM,
            status=status,
        )


class StoredTokens(Protocol):
    def get(self, shop: str, kind: str) -> Stored | None: ...


class InstalledToken:
    """``auth: oauth``: the offline token the install flow stored (it does not expire). A 401
    re-reads the store: after a reinstall another process may have stored a new token."""

    def __init__(self, *, shop: str, store: StoredTokens, redact: Redactor | None = None) -> None:
        self.shop = shop
        self._store = store
        self.redactor = redact or Redactor([])
        self._token: str | None = None

    def __repr__(self) -> str:
        return f"InstalledToken(shop={self.shop!r})"

    def _load(self) -> str | None:
        stored = self._store.get(self.shop, KIND)
        token = stored.value.get(KIND) if stored is not None else None
        if token:
            self.redactor.add(token)
        self._token = token or None
        return self._token

    def current(self) -> str:
        token = self._token or self._load()
        if token is None:
            raise NotAuthorizedError(
                f"Shopify {self.shop} is not installed yet (no stored token): open the service's "
                f"/auth/shopify/install?shop={self.shop} and approve the app",
                platform=PLATFORM,
                status=None,
            )
        return token

    def refused(self, token: str) -> bool:
        fresh = self._load()
        return fresh is not None and fresh != token


def install_session(*, client_id: str, client_secret: str) -> type[Any]:
    """ShopifyAPI's :class:`shopify.Session` for one app: ``create_permission_url`` and
    ``validate_hmac`` read the app's key and secret from the class, so each app gets its own
    subclass (the base class keeps no state of ours, and apps do not see each other's secret)."""
    try:
        import shopify
    except ImportError as exc:  # pragma: no cover - the extra is installed with the adapter
        from aftersale_kit.core.errors import MissingExtraError

        raise MissingExtraError("the Shopify install flow", "shopify") from exc
    return type("AppSession", (shopify.Session,), {"api_key": client_id, "secret": client_secret})


def permission_url(
    *,
    shop: str,
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    state: str,
    base_url: str | None = None,
) -> str:
    """The authorize URL of the install flow (``/admin/oauth/authorize?client_id=&scope=
    &redirect_uri=&state=``, offline access: no ``grant_options[]``), from ShopifyAPI's
    ``create_permission_url``; ``base_url`` (a sandbox) replaces ``https://<shop>``."""
    # The API version plays no part in the URL; the Session wants a valid one.
    session = install_session(client_id=client_id, client_secret=client_secret)(shop, "2026-01")
    url = str(session.create_permission_url(list(SCOPES), redirect_uri, state=state))
    if base_url:
        url = base_url.rstrip("/") + url.removeprefix(f"https://{session.url}")
    return url


def valid_callback_hmac(params: Mapping[str, str], *, client_id: str, client_secret: str) -> bool:
    """ShopifyAPI's check of the callback's ``hmac`` (hex HMAC-SHA256 of the other parameters)."""
    session = install_session(client_id=client_id, client_secret=client_secret)
    return bool(session.validate_hmac(dict(params)))


def exchange_code(
    *,
    shop: str,
    client_id: str,
    client_secret: str,
    code: str,
    base_url: str | None = None,
    timeout: float = 10.0,
    ssl_context: ssl.SSLContext | None = None,
) -> tuple[str, str]:
    """The offline token for an install's ``code``: ``POST /admin/oauth/access_token`` with
    ``client_id``, ``client_secret`` and ``code`` (form-encoded, as ShopifyAPI's
    ``request_token`` sends them), answered ``{"access_token", "scope"}``. Returns
    ``(token, scope)``; a refusal raises :class:`NotAuthorizedError` naming no secret.

    Not ``Session.request_token`` itself: it always calls ``https://<shop>`` (no sandbox) and
    ``urlopen`` without a timeout."""
    root = base_url.rstrip("/") if base_url else f"https://{shop}"
    request = urllib.request.Request(
        f"{root}/admin/oauth/access_token",
        data=urllib.parse.urlencode(
            {"client_id": client_id, "client_secret": client_secret, "code": code}
        ).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
        method="POST",
    )
    tokens = ClientCredentialsTokens(
        shop=shop,
        client_id=client_id,
        client_secret=client_secret,
        base_url=base_url,
        ssl_context=ssl_context,
        timeout=timeout,
    )
    tokens.redactor.add(code)
    status, payload = tokens._post(request)
    token = payload.get(KIND)
    if status != 200 or not isinstance(token, str) or not token:
        raise tokens._refusal(status, payload)
    return token, str(payload.get("scope", ""))
