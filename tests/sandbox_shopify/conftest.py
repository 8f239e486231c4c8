"""Fixtures for the Shopify sandbox tests: a running sandbox, a real webhook receiver, and
ShopifyAPI pointed at the sandbox."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import shopify

from aftersale_kit.testing.httpserver import Request, Response, SandboxHTTPServer
from aftersale_kit_shopify.sandbox import ShopifySandbox, activate, running_sandbox

#: 4 hours of Shopify retries become about 1.4 s.
FAST = 1e-4


@dataclass
class Received:
    topic: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    at: float

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A webhook endpoint that recomputes the HMAC from the raw bytes, as an app must."""

    secret: str
    #: Status per call (by call index); default 200.
    answer: Callable[[int, Request], int] = lambda index, request: 200
    #: Seconds to hold each request before answering.
    hold: float = 0.0
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: SandboxHTTPServer | None = None

    def __call__(self, request: Request) -> Response:
        expected = base64.b64encode(
            hmac.new(self.secret.encode(), request.body, hashlib.sha256).digest()
        ).decode()
        header = request.headers.get("X-Shopify-Hmac-Sha256") or ""
        verified = hmac.compare_digest(expected, header)
        with self.lock:
            index = len(self.received)
            self.received.append(
                Received(
                    topic=request.headers.get("X-Shopify-Topic", ""),
                    headers={k: v for k, v in request.headers.items()},
                    body=request.body,
                    verified=verified,
                    at=time.monotonic(),
                )
            )
        if self.hold:
            time.sleep(self.hold)
        if not verified:
            return Response(401)
        return Response(self.answer(index, request))

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url + "/webhooks"

    def topics(self) -> list[str]:
        with self.lock:
            return [r.topic for r in self.received]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.01)
        with self.lock:
            raise AssertionError(f"expected {count} deliveries, got {len(self.received)}")


@pytest.fixture
def sandbox() -> Iterator[ShopifySandbox]:
    with running_sandbox(secret="hush", time_scale=FAST) as running:
        yield running


@pytest.fixture
def receiver(sandbox: ShopifySandbox) -> Iterator[Receiver]:
    endpoint = Receiver(secret=sandbox.secret)
    with SandboxHTTPServer(endpoint) as server:
        endpoint.server = server
        yield endpoint


@pytest.fixture
def gql(sandbox: ShopifySandbox) -> Iterator[Callable[..., dict[str, Any]]]:
    """``gql(query, **variables)`` through ``shopify.GraphQL().execute``, parsed."""
    with activate(sandbox):
        client = shopify.GraphQL()

        def run(document: str, /, **variables: Any) -> dict[str, Any]:
            result: dict[str, Any] = json.loads(
                client.execute(document, variables=variables or None)
            )
            return result

        yield run
