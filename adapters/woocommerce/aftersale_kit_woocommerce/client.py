"""The REST transport: the official ``woocommerce`` client with status checks, retries and
error translation. Every response passes through here; nothing above it sees ``requests``.

The client (``woocommerce.API`` 3.0.0) never raises on 4xx/5xx and hands back a raw
``requests.Response``; this module turns each outcome into a :class:`WooResponse` or one of the
project's errors::

    401, 403                      NotAuthorizedError
    404                           NotFoundError
    429                           retried after Retry-After (up to ``max_retry_after``), then
                                  RateLimitedError(retry_after=...)
    5xx, ConnectionError, Timeout retried with exponential backoff (idempotent calls only), then
                                  PlatformUnavailableError
    other 4xx                     InvalidRequestError(code=<WooCommerce's code>, message)
    2xx that is not JSON          PlatformUnavailableError (a WAF or maintenance page)

Secrets: ``query_string_auth`` makes the client put ``consumer_key``/``consumer_secret`` into the
URL and into the ``params`` dict it is given, and OAuth 1.0a over plain HTTP puts the consumer key
into the URL. So every call gets a fresh ``params`` dict, messages name the endpoint but never a
URL, the exceptions chained with ``raise ... from`` are scrubbed, and a logging filter scrubs the
request lines urllib3 logs at DEBUG.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from html import unescape
from typing import Any

from aftersale_kit import __version__
from aftersale_kit.core.errors import (
    InvalidRequestError,
    MissingExtraError,
    NotAuthorizedError,
    NotFoundError,
    PlatformError,
    PlatformUnavailableError,
    RateLimitedError,
)

from .webhooks import normalize_store

try:
    import requests
    from woocommerce import API
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise MissingExtraError("The WooCommerce adapter", "woocommerce") from exc

__all__ = ["DEFAULT_USER_AGENT", "WooClient", "WooResponse", "scrub"]

PLATFORM = "woocommerce"
#: Hosts and WAFs refuse the client's default user agent (wc-api-python issue #56).
DEFAULT_USER_AGENT = f"aftersale-kit/{__version__} (+woocommerce; python-requests)"

log = logging.getLogger("aftersale_kit_woocommerce")

_SECRET_PARAMS = re.compile(
    r"(?i)\b(consumer_key|consumer_secret|oauth_consumer_key|oauth_signature|oauth_nonce)"
    r"(=|%3D)[^&\s\"'<>)]*"
)
_TAGS = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with credential query parameters and the given secret values replaced by ``***``."""
    out = _SECRET_PARAMS.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)
    for secret in secrets:
        if secret and len(secret) >= 4:
            out = out.replace(secret, "***")
    return out


class _ScrubFilter(logging.Filter):
    """Redacts credentials from records of urllib3's connection pool (it logs request lines)."""

    def __init__(self) -> None:
        super().__init__("aftersale_kit_woocommerce.scrub")
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def add(self, *secrets: str) -> None:
        with self._lock:
            self._secrets.update(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = tuple(self._secrets)
        try:
            message = record.getMessage()
        except Exception:  # a broken record is not ours to fix; let logging report it
            return True
        clean = scrub(message, secrets)
        if clean != message:
            record.msg = clean
            record.args = None
        return True


_FILTER = _ScrubFilter()
_FILTER_LOGGERS = ("urllib3.connectionpool", "urllib3.connection", "requests")
_filter_installed = False
_filter_lock = threading.Lock()


def _install_log_filter(*secrets: str) -> None:
    global _filter_installed
    _FILTER.add(*secrets)
    with _filter_lock:
        if not _filter_installed:
            for name in _FILTER_LOGGERS:
                logging.getLogger(name).addFilter(_FILTER)
            _filter_installed = True


def _scrub_chain(exc: BaseException, secrets: tuple[str, ...]) -> None:
    """Scrub the messages of ``exc`` and the exceptions it chains (they quote request URLs)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        current.args = tuple(
            scrub(str(a), secrets) if not isinstance(a, int | float) else a for a in current.args
        )
        if isinstance(current, requests.RequestException):
            current.request = None
            current.response = None
        for attr in ("url",):
            if isinstance(getattr(current, attr, None), str):
                setattr(current, attr, scrub(getattr(current, attr), secrets))
        current = current.__cause__ or current.__context__


@dataclass(frozen=True, slots=True)
class WooResponse:
    """A successful answer: the decoded JSON and the pagination headers."""

    status: int
    data: Any
    total: int | None = None
    total_pages: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def last_page(self, page: int, items: int, per_page: int) -> bool:
        """Whether page ``page`` (1-based) with ``items`` entries is the last one: by
        ``X-WP-TotalPages``, or without it (a proxy stripped it) by a short page."""
        if items == 0:
            return True
        if self.total_pages is not None:
            return page >= self.total_pages
        return items < per_page


def _int_header(response: requests.Response, name: str) -> int | None:
    value = response.headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _retry_after(response: requests.Response, default: float) -> float:
    value = response.headers.get("Retry-After")
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, when.timestamp() - time.time())


def _snippet(response: requests.Response) -> str:
    """A short readable excerpt of a non-JSON body (HTML tags stripped)."""
    text = response.text or ""
    text = _SPACE.sub(" ", unescape(_TAGS.sub(" ", text))).strip()
    return text[:160] + ("..." if len(text) > 160 else "") if text else "(empty body)"


class WooClient:
    """One store's REST API through ``woocommerce.API``. Safe to share between threads.

    ``max_retries``: further attempts after the first for retryable failures; ``backoff``: the
    first wait in seconds (doubled per attempt, with jitter); ``max_retry_after``: the longest
    Retry-After honoured by waiting (a longer one raises RateLimitedError at once).
    """

    def __init__(
        self,
        *,
        url: str,
        consumer_key: str,
        consumer_secret: str,
        version: str = "wc/v3",
        timeout: float = 15.0,
        verify_ssl: bool | str = True,
        query_string_auth: bool = False,
        user_agent: str = DEFAULT_USER_AGENT,
        max_retries: int = 2,
        backoff: float = 0.5,
        max_retry_after: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not consumer_key or not consumer_secret:
            raise NotAuthorizedError(
                f"WooCommerce store {_host(url)}: the REST consumer key and secret are required "
                "(shop.secrets consumer_key and consumer_secret)",
                platform=PLATFORM,
            )
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max(0, max_retries)
        self.backoff = max(0.0, backoff)
        self.max_retry_after = max(0.0, max_retry_after)
        self._sleep = sleep
        self._secrets = (consumer_key, consumer_secret)
        _install_log_filter(*self._secrets)
        self._api = API(
            url=self.url,
            consumer_key=consumer_key,
            consumer_secret=consumer_secret,
            version=version,
            timeout=timeout,
            verify_ssl=verify_ssl,
            query_string_auth=query_string_auth,
            user_agent=user_agent,
        )

    def __repr__(self) -> str:
        return f"WooClient(url={self.url!r})"

    # -- verbs ------------------------------------------------------------------------------

    def get(self, endpoint: str, *, params: Mapping[str, object] | None = None) -> WooResponse:
        return self.request("GET", endpoint, params=params)

    def post(
        self,
        endpoint: str,
        data: Mapping[str, Any],
        *,
        params: Mapping[str, object] | None = None,
        retry: bool = False,
    ) -> WooResponse:
        """POST is retried after 5xx/timeouts only with ``retry=True`` (the caller knows a
        repeat is harmless, e.g. a coupon whose second creation is answered "exists")."""
        return self.request("POST", endpoint, params=params, data=data, retry=retry)

    def put(
        self,
        endpoint: str,
        data: Mapping[str, Any],
        *,
        params: Mapping[str, object] | None = None,
    ) -> WooResponse:
        return self.request("PUT", endpoint, params=params, data=data)

    def delete(self, endpoint: str, *, params: Mapping[str, object] | None = None) -> WooResponse:
        return self.request("DELETE", endpoint, params=params)

    # -- the loop ---------------------------------------------------------------------------

    def request(
        self,
        method: str,
        endpoint: str,
        *,
        params: Mapping[str, object] | None = None,
        data: Mapping[str, Any] | None = None,
        retry: bool | None = None,
    ) -> WooResponse:
        """One call with bounded retries. ``retry``: retry 5xx/timeouts (default: not POST)."""
        retry_unavailable = method != "POST" if retry is None else retry
        what = f"{method} {endpoint}"
        attempt = 0
        while True:
            attempt += 1
            left = self.max_retries - attempt + 1
            try:
                response = self._send(method, endpoint, params=params, data=data)
            except (requests.ConnectionError, requests.Timeout) as exc:
                kind = type(exc).__name__
                if retry_unavailable and left > 0:
                    self._wait(self._backoff(attempt), what, f"failed ({kind})", attempt)
                    continue
                _scrub_chain(exc, self._secrets)
                raise PlatformUnavailableError(
                    f"WooCommerce store {_host(self.url)} did not answer {what}: {kind} "
                    f"(timeout {self.timeout:g} s, {attempt} attempt(s))",
                    platform=PLATFORM,
                ) from exc
            except requests.RequestException as exc:
                _scrub_chain(exc, self._secrets)
                raise PlatformUnavailableError(
                    f"WooCommerce store {_host(self.url)}: {what} failed: {type(exc).__name__}",
                    platform=PLATFORM,
                ) from exc
            status = response.status_code
            if status == 429:
                wait = _retry_after(response, self._backoff(attempt))
                if left > 0 and wait <= self.max_retry_after:
                    self._wait(wait, what, "was rate limited (429)", attempt)
                    continue
                raise RateLimitedError(
                    f"WooCommerce store {_host(self.url)} rate-limited {what} "
                    f"(Retry-After {wait:g} s, {attempt} attempt(s))",
                    platform=PLATFORM,
                    retry_after=wait,
                )
            if status >= 500 and retry_unavailable and left > 0:
                self._wait(self._backoff(attempt), what, f"answered {status}", attempt)
                continue
            return self._check(response, what)

    def _send(
        self,
        method: str,
        endpoint: str,
        *,
        params: Mapping[str, object] | None,
        data: Mapping[str, Any] | None,
    ) -> requests.Response:
        # A fresh dict on every attempt: with query_string_auth the client adds the consumer key
        # and secret to the dict it is given.
        fresh: dict[str, object] = dict(params or {})
        if method == "GET":
            return self._api.get(endpoint, params=fresh)  # type: ignore[no-any-return]
        if method == "POST":
            return self._api.post(endpoint, dict(data or {}), params=fresh)  # type: ignore[no-any-return]
        if method == "PUT":
            return self._api.put(endpoint, dict(data or {}), params=fresh)  # type: ignore[no-any-return]
        if method == "DELETE":
            return self._api.delete(endpoint, params=fresh)  # type: ignore[no-any-return]
        raise ValueError(f"unsupported method {method!r}")

    def _backoff(self, attempt: int) -> float:
        base: float = self.backoff * (2 ** (attempt - 1))
        return base + random.uniform(0, base / 4) if base > 0 else 0.0

    def _wait(self, seconds: float, what: str, why: str, attempt: int) -> None:
        log.warning(
            "WooCommerce %s %s %s; retry %d of %d in %.2f s",
            _host(self.url),
            what,
            why,
            attempt,
            self.max_retries,
            seconds,
        )
        self._sleep(seconds)

    # -- status check -----------------------------------------------------------------------

    def _check(self, response: requests.Response, what: str) -> WooResponse:
        status = response.status_code
        where = f"WooCommerce store {_host(self.url)}"
        try:
            data: Any = response.json() if response.content else None
            is_json = True
        except ValueError:  # requests.JSONDecodeError: a WAF page, a PHP fatal error
            data, is_json = None, False
        if 200 <= status < 300:
            if not is_json:
                raise PlatformUnavailableError(
                    f"{where} answered {what} with {status} but no JSON "
                    f"({response.headers.get('Content-Type', 'no content type')}): "
                    f"{scrub(_snippet(response), self._secrets)}",
                    platform=PLATFORM,
                    status=status,
                )
            return WooResponse(
                status=status,
                data=data,
                total=_int_header(response, "X-WP-Total"),
                total_pages=_int_header(response, "X-WP-TotalPages"),
                headers=dict(response.headers),
            )
        code, message = _error_fields(data)
        if message is None:
            message = _snippet(response) if not is_json else "no message"
        text = scrub(
            f"{where} refused {what}: {status}" + (f" {code}" if code else "") + f": {message}",
            self._secrets,
        )
        error: PlatformError
        if status in (401, 403):
            error = NotAuthorizedError(
                f"{text} (check the consumer key/secret, their read/write permission, and that "
                "the host passes the Authorization header; try query_string_auth)",
                platform=PLATFORM,
                status=status,
            )
        elif status == 404:
            error = NotFoundError(text, platform=PLATFORM, status=status)
        elif status >= 500:
            error = PlatformUnavailableError(text, platform=PLATFORM, status=status)
        else:
            error = InvalidRequestError(text, platform=PLATFORM, status=status, code=code)
        raise error


def _error_fields(data: Any) -> tuple[str | None, str | None]:
    """WooCommerce's ``{"code", "message", "data": {"params": {...}}}`` error body."""
    if not isinstance(data, Mapping):
        return None, None
    code = data.get("code") if isinstance(data.get("code"), str) else None
    message = data.get("message") if isinstance(data.get("message"), str) else None
    details = data.get("data")
    params = details.get("params") if isinstance(details, Mapping) else None
    if isinstance(params, Mapping) and params:
        extra = "; ".join(f"{k}: {v}" for k, v in params.items())
        message = f"{message} ({extra})" if message else extra
    return code, message


def _host(url: str) -> str:
    return normalize_store(url) or url
