"""A real webhook endpoint for the Shopify sandbox tests: it checks the HMAC over the raw bytes
as an app must, records every call, and answers as told."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aftersale_kit.testing.httpserver import Request, Response, SandboxHTTPServer


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
    #: Seconds to hold a request (by call index) before answering.
    hold: Callable[[int], float] = lambda index: 0.0
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
        pause = self.hold(index)
        if pause:
            time.sleep(pause)
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
