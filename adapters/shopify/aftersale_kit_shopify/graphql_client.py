"""The GraphQL Admin API transport: ShopifyAPI's session, our own bounded, throttle-aware POST.

Why not ``shopify.GraphQL().execute``: it calls ``urlopen`` without a timeout, ``print``s the body
of every HTTP error to stdout (consuming it) and knows nothing of retries or query cost. What is
kept from ShopifyAPI is what it is for: the :class:`shopify.Session` (shop domain, API version
path, access-token header) activated on :class:`shopify.ShopifyResource` and a fresh
:class:`shopify.GraphQL` per call, which captures the endpoint and headers. The POST itself is
a ``urllib`` request with a timeout, made by this module.

ShopifyAPI keeps the active session in class attributes *and* thread-local state, and
``Session.temp`` does not restore it when its body raises. So the capture runs under a
process-wide lock inside our own ``try/finally``, which puts back whatever session the thread
had before (usually none). The request itself runs outside the lock: several shops can be
served from several threads at once without cross-talk.

Retry policy (all bounded by ``max_attempts`` and ``max_total_wait``):

* ``THROTTLED`` (in a 200 or a 429): wait ``(requested - currentlyAvailable) / restoreRate``
  seconds from ``extensions.cost`` (https://shopify.dev/docs/api/usage/rate-limits);
* HTTP 429: wait ``Retry-After`` (a float string such as ``"2.0"``);
* HTTP 5xx, timeouts, connection errors, a body that is not JSON: exponential back-off;
* then :class:`RateLimitedError` (``retry_after`` set) or :class:`PlatformUnavailableError`.

401/403 -> NotAuthorizedError, 404 -> NotFoundError, other 4xx and GraphQL errors ->
InvalidRequestError, never retried.
"""

from __future__ import annotations

import http.client
import json
import logging
import random
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import Message
from typing import Any

from aftersale_kit.core.errors import (
    InvalidRequestError,
    MissingExtraError,
    NotAuthorizedError,
    NotFoundError,
    PlatformError,
    PlatformUnavailableError,
    RateLimitedError,
)

from .errors import Redactor, error_codes, platform_message
from .tokens import StaticToken, TokenSource

__all__ = ["GraphQLClient", "RetryPolicy", "ThrottleStatus"]

PLATFORM = "shopify"
log = logging.getLogger("aftersale_kit_shopify")

#: Serialises activate/capture/clear of ShopifyAPI's class-level session state.
_SESSION_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounds for one GraphQL call: attempts, waits, and the socket timeout per attempt."""

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 8.0
    #: Sum of all waits between attempts; a wait that would exceed it is not made.
    max_total_wait: float = 20.0
    #: Seconds per attempt (connect and each read).
    timeout: float = 10.0


@dataclass(frozen=True, slots=True)
class ThrottleStatus:
    """The leaky bucket as the last response described it (``extensions.cost``)."""

    maximum_available: float
    currently_available: float
    restore_rate: float
    requested_cost: float | None
    actual_cost: float | None
    #: ``time.monotonic()`` when it was read.
    at: float


@dataclass(frozen=True, slots=True)
class _Retry:
    delay: float
    error: PlatformError
    reason: str


class GraphQLClient:
    """POSTs GraphQL documents to one shop; thread-safe."""

    def __init__(
        self,
        *,
        shop: str,
        token: str | TokenSource,
        api_version: str,
        base_url: str | None = None,
        retry: RetryPolicy | None = None,
        ssl_context: ssl.SSLContext | None = None,
        redact: Redactor | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.shop = shop
        self._tokens: TokenSource = StaticToken(token) if isinstance(token, str) else token
        self.api_version = api_version
        self.base_url = base_url.rstrip("/") if base_url else None
        self.retry = retry or RetryPolicy()
        self._redact = redact or Redactor([token] if isinstance(token, str) else [])
        self._sleep = sleep
        handlers: list[urllib.request.BaseHandler] = []
        if ssl_context is not None:
            handlers.append(urllib.request.HTTPSHandler(context=ssl_context))
        self._opener = urllib.request.build_opener(*handlers)
        self._lock = threading.Lock()
        self._throttle: ThrottleStatus | None = None
        self._rng = random.Random()
        self.requests_sent = 0

    def __repr__(self) -> str:
        return f"GraphQLClient(shop={self.shop!r}, api_version={self.api_version!r})"

    @property
    def throttle_status(self) -> ThrottleStatus | None:
        with self._lock:
            return self._throttle

    # -- ShopifyAPI session -------------------------------------------------------------------

    def _endpoint_and_headers(self, token: str) -> tuple[str, dict[str, str]]:
        """Endpoint and headers from a fresh ``shopify.GraphQL()`` under our session."""
        try:
            import shopify
        except ImportError as exc:  # pragma: no cover - the extra is installed in the project
            raise MissingExtraError("the Shopify adapter", "shopify") from exc

        with _SESSION_LOCK:
            resource = shopify.ShopifyResource
            local = resource._threadlocal
            # What this thread had active before (its own, not another thread's class state).
            previous = (
                getattr(local, "site", None),
                getattr(local, "url", None),
                getattr(local, "version", None),
                resource.get_headers().get("X-Shopify-Access-Token"),
            )
            try:
                session = shopify.Session(self.shop, self.api_version, token)
                resource.activate_session(session)
                if self.base_url is not None:
                    resource.site = session.api_version.api_path(self.base_url)
                graphql = shopify.GraphQL()
                endpoint = str(graphql.endpoint)
                headers = {str(k): str(v) for k, v in dict(graphql.headers).items()}
            finally:
                site, url, version, token = previous
                if site is not None and token is not None:
                    resource.site = site
                    resource.url = url
                    resource.version = version
                    resource.get_headers()["X-Shopify-Access-Token"] = token
                else:
                    resource.clear_session()
        return endpoint, headers

    # -- one call ------------------------------------------------------------------------------

    def execute(
        self, query: str, variables: Mapping[str, Any] | None = None, *, operation: str
    ) -> dict[str, Any]:
        """Run one GraphQL document; returns its ``data`` or raises a PlatformError."""
        payload = json.dumps(
            {"query": query, "variables": dict(variables or {}), "operationName": None}
        ).encode("utf-8")
        token = self._tokens.current()
        try:
            return self._execute(token, payload, operation=operation)
        except NotAuthorizedError as exc:
            # A token that expired or was replaced: once with a fresh one (client credentials).
            if exc.status != 401 or not self._tokens.refused(token):
                raise
            log.info("shopify %s %s: token refused (401); retrying once", self.shop, operation)
        return self._execute(self._tokens.current(), payload, operation=operation)

    def _execute(self, token: str, payload: bytes, *, operation: str) -> dict[str, Any]:
        endpoint, session_headers = self._endpoint_and_headers(token)
        headers = {
            "Accept": "application/json",
            "Content-Type": "application/json",
            **session_headers,
        }
        policy = self.retry
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            outcome = self._attempt(
                endpoint, headers, payload, operation=operation, attempt=attempt
            )
            if isinstance(outcome, dict):
                return outcome
            if attempt >= policy.max_attempts or waited + outcome.delay > policy.max_total_wait:
                log.warning(
                    "shopify %s %s: giving up after %d attempt(s), %.2f s waited: %s",
                    self.shop,
                    operation,
                    attempt,
                    waited,
                    outcome.reason,
                )
                raise outcome.error
            log.info(
                "shopify %s %s: %s; retry %d/%d in %.2f s",
                self.shop,
                operation,
                outcome.reason,
                attempt,
                policy.max_attempts - 1,
                outcome.delay,
            )
            self._sleep(outcome.delay)
            waited += outcome.delay

    def _backoff(self, attempt: int) -> float:
        base = min(self.retry.max_delay, self.retry.base_delay * 2.0 ** (attempt - 1))
        return base * (0.8 + 0.4 * self._rng.random())

    def _attempt(
        self,
        endpoint: str,
        headers: Mapping[str, str],
        payload: bytes,
        *,
        operation: str,
        attempt: int,
    ) -> dict[str, Any] | _Retry:
        request = urllib.request.Request(
            endpoint, data=payload, headers=dict(headers), method="POST"
        )
        with self._lock:
            self.requests_sent += 1
        try:
            with self._opener.open(request, timeout=self.retry.timeout) as response:
                status = int(response.status)
                response_headers: Message = response.headers
                body = response.read()
        except urllib.error.HTTPError as exc:
            status = exc.code
            response_headers = exc.headers
            try:
                body = exc.read()
            except (OSError, http.client.HTTPException):
                body = b""
            finally:
                exc.close()
        except (OSError, http.client.HTTPException, ValueError) as exc:
            # URLError (refused, DNS), TimeoutError, reset connections, incomplete reads.
            reason = _transport_reason(exc)
            return _Retry(
                delay=self._backoff(attempt),
                error=PlatformUnavailableError(
                    f"Shopify {self.shop} is unreachable ({operation}): {reason}",
                    platform=PLATFORM,
                    status=None,
                ),
                reason=reason,
            )
        return self._judge(status, response_headers, body, operation=operation, attempt=attempt)

    # -- judging a response --------------------------------------------------------------------

    def _judge(
        self, status: int, headers: Message, body: bytes, *, operation: str, attempt: int
    ) -> dict[str, Any] | _Retry:
        redact = self._redact
        if status == 429:
            retry_after = _retry_after(headers)
            cost_wait = self._throttle_wait(_json_or_none(body))
            delay = retry_after if retry_after is not None else cost_wait
            delay = delay if delay is not None else self._backoff(attempt)
            return _Retry(
                delay=delay,
                error=RateLimitedError(
                    f"Shopify {self.shop} rate-limited {operation} (HTTP 429); "
                    f"retry after {delay:.1f} s",
                    platform=PLATFORM,
                    retry_after=delay,
                ),
                reason=f"HTTP 429, Retry-After {delay:.2f} s",
            )
        if status >= 500:
            message, _ = platform_message(body)
            retry_after = _retry_after(headers)
            return _Retry(
                delay=retry_after if retry_after is not None else self._backoff(attempt),
                error=PlatformUnavailableError(
                    f"Shopify {self.shop} failed {operation} (HTTP {status}): {redact(message)}",
                    platform=PLATFORM,
                    status=status,
                ),
                reason=f"HTTP {status}",
            )
        if status in (401, 403):
            message, _ = platform_message(body)
            what = "the access token" if status == 401 else "access (missing scope?)"
            raise NotAuthorizedError(
                f"Shopify {self.shop} refused {what} for {operation} (HTTP {status}): "
                f"{redact(message)}",
                platform=PLATFORM,
                status=status,
            )
        if status == 404:
            raise NotFoundError(
                f"Shopify answered 404 for the GraphQL endpoint of {self.shop} "
                f"(API version {self.api_version}): check the shop domain and api_version",
                platform=PLATFORM,
                status=404,
            )
        if status != 200:
            message, code = platform_message(body)
            raise InvalidRequestError(
                f"Shopify {self.shop} refused {operation} (HTTP {status}): {redact(message)}",
                platform=PLATFORM,
                status=status,
                code=code,
            )

        data = _json_or_none(body)
        if not isinstance(data, dict):
            return _Retry(
                delay=self._backoff(attempt),
                error=PlatformUnavailableError(
                    f"Shopify {self.shop} answered {operation} with a body that is not JSON",
                    platform=PLATFORM,
                    status=status,
                ),
                reason="HTTP 200 without a JSON body",
            )
        self._record_cost(data)
        errors = data.get("errors")
        if errors:
            error_list = errors if isinstance(errors, list) else [errors]
            codes = error_codes(error_list)
            message, code = platform_message(data)
            message = redact(message)
            if "THROTTLED" in codes:
                delay = self._throttle_wait(data)
                delay = delay if delay is not None else self._backoff(attempt)
                return _Retry(
                    delay=delay,
                    error=RateLimitedError(
                        f"Shopify {self.shop} throttled {operation} (query cost); "
                        f"retry after {delay:.1f} s",
                        platform=PLATFORM,
                        retry_after=delay,
                        status=200,
                    ),
                    reason=f"THROTTLED, waiting {delay:.2f} s for the bucket",
                )
            if "ACCESS_DENIED" in codes:
                raise NotAuthorizedError(
                    f"Shopify {self.shop} denied {operation}: {message} (missing scope?)",
                    platform=PLATFORM,
                    status=200,
                )
            if "INTERNAL_SERVER_ERROR" in codes:
                return _Retry(
                    delay=self._backoff(attempt),
                    error=PlatformUnavailableError(
                        f"Shopify {self.shop} failed {operation}: {message}",
                        platform=PLATFORM,
                        status=200,
                    ),
                    reason="INTERNAL_SERVER_ERROR",
                )
            raise InvalidRequestError(
                f"Shopify {self.shop} refused {operation}: {message}",
                platform=PLATFORM,
                status=200,
                code=code,
            )
        result = data.get("data")
        if not isinstance(result, dict):
            raise InvalidRequestError(
                f"Shopify {self.shop} answered {operation} without data",
                platform=PLATFORM,
                status=200,
            )
        return result

    def _record_cost(self, data: Mapping[str, Any]) -> None:
        status = _throttle_from(data)
        if status is not None:
            with self._lock:
                self._throttle = status

    def _throttle_wait(self, data: Any) -> float | None:
        """``(requested - currentlyAvailable) / restoreRate`` from this body or the last one."""
        status = _throttle_from(data) if isinstance(data, Mapping) else None
        if status is not None:
            with self._lock:
                self._throttle = status
        else:
            status = self.throttle_status
        if status is None or status.restore_rate <= 0:
            return None
        requested = status.requested_cost
        if requested is None:
            return None
        missing = requested - status.currently_available
        return max(0.05, missing / status.restore_rate)


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _throttle_from(data: Mapping[str, Any]) -> ThrottleStatus | None:
    ext = data.get("extensions")
    cost = ext.get("cost") if isinstance(ext, Mapping) else None
    if not isinstance(cost, Mapping):
        return None
    bucket = cost.get("throttleStatus")
    if not isinstance(bucket, Mapping):
        return None
    maximum = _number(bucket.get("maximumAvailable"))
    available = _number(bucket.get("currentlyAvailable"))
    rate = _number(bucket.get("restoreRate"))
    if maximum is None or available is None or rate is None:
        return None
    return ThrottleStatus(
        maximum_available=maximum,
        currently_available=available,
        restore_rate=rate,
        requested_cost=_number(cost.get("requestedQueryCost")),
        actual_cost=_number(cost.get("actualQueryCost")),
        at=time.monotonic(),
    )


def _retry_after(headers: Message | None) -> float | None:
    """``Retry-After`` in seconds; Shopify sends float strings such as ``"2.0"``."""
    if headers is None:
        return None
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return max(0.0, seconds)


def _transport_reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.URLError):
        inner = exc.reason
        if isinstance(inner, TimeoutError):
            return "timed out"
        if isinstance(inner, BaseException):
            return type(inner).__name__
        return "connection failed"
    if isinstance(exc, TimeoutError):
        return "timed out"
    return type(exc).__name__
