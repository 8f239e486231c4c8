"""REST API key authentication exactly as ``WC_REST_Authentication`` performs it.

Source: woocommerce/woocommerce ``plugins/woocommerce/includes/class-wc-rest-authentication.php``.

* Over HTTPS, Basic auth first: ``?consumer_key=&consumer_secret=`` if both are in the query
  string, else the ``Authorization: Basic`` header. An unknown key fails silently (the request
  continues unauthenticated and the controller answers 401 ``woocommerce_rest_cannot_*``); a
  known key with a wrong secret is 401 "Consumer secret is invalid.".
* Then (over HTTP always, over HTTPS when Basic did not authenticate) OAuth 1.0a one-legged, with
  the parameters in the query string (or an ``Authorization: OAuth`` header): all five
  ``oauth_*`` parameters required, HMAC-SHA1 or HMAC-SHA256 over
  ``METHOD&rawurlencode(home_url + path)&`` + the sorted, double-encoded parameters, key
  ``consumer_secret + "&"``; the timestamp within ±15 minutes; a nonce already used within the
  window is refused. Nonces are remembered per key **by timestamp** (``$used_nonces[$timestamp] =
  $nonce``), as WooCommerce does, so two requests signed in the same second keep only the later
  nonce.
* Read-only keys get 401 on POST/PUT/PATCH/DELETE ("does not have write permissions").
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, unquote_plus, urlsplit

from .errors import RestError
from .phpquery import rawurlencode

__all__ = ["ApiKey", "AuthOutcome", "Authenticator", "oauth_signature"]

#: Seconds either side of now that an ``oauth_timestamp`` may be, and how long nonces are kept.
VALID_WINDOW = 15 * 60
_OAUTH_PARAMS = (
    "oauth_consumer_key",
    "oauth_timestamp",
    "oauth_nonce",
    "oauth_signature",
    "oauth_signature_method",
)
_HEADER_PARAM = re.compile(r'(oauth_[a-z_-]*)=(:?"([^"]*)"|([^,]*))')


def _auth_error(message: str) -> RestError:
    return RestError("woocommerce_rest_authentication_error", message, 401)


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A REST key pair as stored in ``wp_woocommerce_api_keys``."""

    key_id: int
    consumer_key: str
    consumer_secret: str
    #: ``read``, ``write`` or ``read_write``.
    permissions: str = "read_write"
    user_id: int = 1
    description: str = ""


@dataclass(frozen=True, slots=True)
class AuthOutcome:
    key: ApiKey | None = None
    error: RestError | None = None


def _php_empty(value: Any) -> bool:
    return value is None or value == "" or value == "0" or value == {} or value == []


def _encode_rfc3986(value: Any) -> Any:
    """``wc_rest_urlencode_rfc3986``: rawurlencode, recursing into arrays (keys kept)."""
    if isinstance(value, dict):
        return {key: _encode_rfc3986(item) for key, item in value.items()}
    return rawurlencode(str(value)).replace("+", " ").replace("%7E", "~")


def _join_with_equals_sign(
    params: Mapping[str, Any], query_params: list[str], key: str = ""
) -> list[str]:
    for param_key, param_value in params.items():
        if key:
            param_key = f"{key}%5B{param_key}%5D"
        if isinstance(param_value, dict):
            _join_with_equals_sign(param_value, query_params, param_key)
        else:
            query_params.append(_encode_rfc3986(f"{param_key}={param_value}"))
    return query_params


def string_to_sign(method: str, base_uri: str, params: Mapping[str, Any]) -> str:
    """The OAuth base string as ``check_oauth_signature`` builds it (``oauth_signature`` out)."""
    ordered = {k: params[k] for k in sorted(params, key=lambda k: k.encode("utf-8"))}
    normalized = {_encode_rfc3986(k): _encode_rfc3986(v) for k, v in ordered.items()}
    query = "%26".join(_join_with_equals_sign(normalized, []))
    return f"{method.upper()}&{rawurlencode(base_uri)}&{query}"


def oauth_signature(
    method: str, base_uri: str, params: Mapping[str, Any], secret: str, algorithm: str
) -> str:
    """Base64 HMAC of :func:`string_to_sign` with ``secret + "&"``; ``algorithm`` sha1/sha256."""
    digest = hmac.new(
        (secret + "&").encode("utf-8"),
        string_to_sign(method, base_uri, params).encode("utf-8"),
        getattr(hashlib, algorithm),
    ).digest()
    return base64.b64encode(digest).decode("ascii")


def _parse_oauth_header(header: str) -> dict[str, str]:
    if not header.startswith("OAuth "):
        return {}
    params: dict[str, str] = {}
    for match in _HEADER_PARAM.finditer(header):
        quoted, bare = match.group(3), match.group(4)
        params[match.group(1)] = unquote_plus(quoted if quoted else (bare or ""))
    return params


def _basic_credentials(header: str) -> tuple[str, str]:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    user, _, password = decoded.partition(":")
    return user, password


class Authenticator:
    """Keys, nonces and the checks. Thread-safe; ``clock`` gives Unix seconds."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, ApiKey] = {}
        self._nonces: dict[int, dict[int, str]] = {}

    # -- keys -------------------------------------------------------------------------------

    def add_key(
        self,
        consumer_key: str,
        consumer_secret: str,
        *,
        permissions: str = "read_write",
        description: str = "",
    ) -> ApiKey:
        if permissions not in ("read", "write", "read_write"):
            raise ValueError(f"permissions must be read, write or read_write, not {permissions!r}")
        with self._lock:
            key = ApiKey(
                key_id=len(self._keys) + 1,
                consumer_key=consumer_key,
                consumer_secret=consumer_secret,
                permissions=permissions,
                description=description,
            )
            self._keys[consumer_key] = key
            return key

    def remove_key(self, consumer_key: str) -> bool:
        """Delete a key (WooCommerce deletes a created key its callback did not accept)."""
        with self._lock:
            return self._keys.pop(consumer_key, None) is not None

    def keys(self) -> list[ApiKey]:
        with self._lock:
            return list(self._keys.values())

    def forget_nonces(self) -> None:
        with self._lock:
            self._nonces.clear()

    # -- checks -----------------------------------------------------------------------------

    def authenticate(
        self,
        *,
        method: str,
        path: str,
        query: Mapping[str, Any],
        headers: Mapping[str, str],
        is_ssl: bool,
        home_url: str,
    ) -> AuthOutcome:
        error: RestError | None = None
        if is_ssl:
            key, error = self._basic(query, headers)
            if key is not None:
                return AuthOutcome(key=key)
        key, oauth_error = self._oauth(method, path, query, headers, is_ssl, home_url)
        if key is not None:
            return AuthOutcome(key=key)
        return AuthOutcome(error=oauth_error or error)

    @staticmethod
    def check_permissions(key: ApiKey, method: str) -> RestError | None:
        """``check_permissions``: what the key's read/write setting allows for ``method``."""
        if method in ("HEAD", "GET"):
            if key.permissions not in ("read", "read_write"):
                return _auth_error("The API key provided does not have read permissions.")
            return None
        if method in ("POST", "PUT", "PATCH", "DELETE"):
            if key.permissions not in ("write", "read_write"):
                return _auth_error("The API key provided does not have write permissions.")
            return None
        if method == "OPTIONS":
            return None
        return _auth_error("Unknown request method.")

    def _basic(
        self, query: Mapping[str, Any], headers: Mapping[str, str]
    ) -> tuple[ApiKey | None, RestError | None]:
        consumer_key: Any = ""
        consumer_secret: Any = ""
        if not _php_empty(query.get("consumer_key")) and not _php_empty(
            query.get("consumer_secret")
        ):
            consumer_key, consumer_secret = query["consumer_key"], query["consumer_secret"]
        if not consumer_key:
            user, password = _basic_credentials(headers.get("authorization", ""))
            if user and password:
                consumer_key, consumer_secret = user, password
        if not consumer_key or not consumer_secret:
            return None, None
        with self._lock:
            key = self._keys.get(str(consumer_key))
        if key is None:
            return None, None
        if not hmac.compare_digest(key.consumer_secret, str(consumer_secret)):
            return None, _auth_error("Consumer secret is invalid.")
        return key, None

    def _oauth(
        self,
        method: str,
        path: str,
        query: Mapping[str, Any],
        headers: Mapping[str, str],
        is_ssl: bool,
        home_url: str,
    ) -> tuple[ApiKey | None, RestError | None]:
        params: dict[str, Any] = dict(query)
        header = headers.get("authorization", "").strip()
        if header:
            params.update(_parse_oauth_header(header))
        missing = [name for name in _OAUTH_PARAMS if _php_empty(params.get(name))]
        if len(missing) == len(_OAUTH_PARAMS):
            return None, None  # not even trying OAuth
        if missing:
            noun = "parameter" if len(missing) == 1 else "parameters"
            return None, RestError(
                "woocommerce_rest_authentication_missing_parameter",
                f"Missing OAuth {noun} {', '.join(missing)}",
                401,
            )
        with self._lock:
            key = self._keys.get(str(params["oauth_consumer_key"]))
        if key is None:
            return None, _auth_error("Consumer key is invalid.")
        error = self._check_signature(key, method, path, params, is_ssl, home_url)
        if error is None:
            error = self._check_timestamp_and_nonce(
                key, params["oauth_timestamp"], params["oauth_nonce"]
            )
        if error is not None:
            return None, error
        return key, None

    @staticmethod
    def _check_signature(
        key: ApiKey,
        method: str,
        path: str,
        params: dict[str, Any],
        is_ssl: bool,
        home_url: str,
    ) -> RestError | None:
        home = urlsplit(home_url)
        home_path = home.path.rstrip("/") + "/"
        relative = path[len(home_path) :] if path.startswith(home_path) else path
        scheme = "https" if is_ssl else "http"
        base_uri = f"{scheme}://{home.netloc}{home_path}{relative.lstrip('/')}"
        provided = unquote(str(params.pop("oauth_signature")).replace(" ", "+"))
        signature_method = str(params.get("oauth_signature_method", ""))
        if signature_method not in ("HMAC-SHA1", "HMAC-SHA256"):
            return _auth_error("Invalid signature - signature method is invalid.")
        algorithm = signature_method.removeprefix("HMAC-").lower()
        expected = oauth_signature(method, base_uri, params, key.consumer_secret, algorithm)
        if not hmac.compare_digest(expected.encode(), provided.encode()):
            return _auth_error("Invalid signature - provided signature does not match.")
        return None

    def _check_timestamp_and_nonce(
        self, key: ApiKey, raw_timestamp: Any, nonce: Any
    ) -> RestError | None:
        now = int(self._clock())
        try:
            timestamp = int(float(str(raw_timestamp)))
        except ValueError:
            return _auth_error("Invalid timestamp.")
        if timestamp < now - VALID_WINDOW or timestamp > now + VALID_WINDOW:
            return _auth_error("Invalid timestamp.")
        with self._lock:
            used = self._nonces.setdefault(key.key_id, {})
            if str(nonce) in used.values():
                return _auth_error("Invalid nonce - nonce has already been used.")
            used[timestamp] = str(nonce)
            for stamp in [s for s in used if s < now - VALID_WINDOW]:
                del used[stamp]
        return None
