"""Fixtures: sandboxes over plain HTTP and HTTPS, and a real webhook receiver."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aftersale_kit_woocommerce.sandbox import WooCommerceSandbox, running_sandbox

from aftersale_kit.testing.httpserver import Request, Response, SandboxHTTPServer

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "woocommerce"


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A webhook endpoint on loopback that records raw requests and answers ``status``."""

    status: int = 200
    requests: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    server: SandboxHTTPServer | None = None

    def __call__(self, request: Request) -> Response:
        with self._lock:
            self.requests.append(
                Received(
                    request.method,
                    request.path,
                    {k: v for k, v in request.headers.items()},
                    request.body,
                )
            )
            return Response(self.status, b"ok")

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url + "/hooks/woocommerce"

    def deliveries(self) -> list[Received]:
        """Everything but pings."""
        with self._lock:
            return [r for r in self.requests if "X-WC-Webhook-Topic" in r.headers]

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.deliveries()
            if len(found) >= count:
                return found
            time.sleep(0.01)
        return self.deliveries()


@pytest.fixture
def shop() -> Iterator[WooCommerceSandbox]:
    with running_sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def tls_shop(tmp_path: Path) -> Iterator[WooCommerceSandbox]:
    with running_sandbox(https=True, cert_dir=tmp_path) as sandbox:
        yield sandbox


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    target = Receiver()
    with SandboxHTTPServer(target) as server:
        target.server = server
        yield target


def fixture_json(name: str) -> Any:
    import json

    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))
