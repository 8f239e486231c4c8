"""A small threaded HTTP(S) server on loopback, the base of both platform sandboxes.

The sandboxes are real servers on real sockets: the official clients (ShopifyAPI over urllib,
``woocommerce`` over requests) talk to them exactly as to the platforms. Standard library only,
so that a user's test suite needs nothing more than the platform extra.

Faults (:class:`~aftersale_kit.testing.faults.FaultPlan`) are applied to API paths, never to the
control API under ``/_sandbox/``.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .faults import FaultPlan

__all__ = ["Request", "Response", "SandboxHTTPServer", "json_response"]

CONTROL_PREFIX = "/_sandbox/"


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    #: The path without the query string, percent-decoding left to the handler.
    path: str
    #: The raw query string (as sent: signatures are computed over it).
    query_string: str
    headers: Message
    body: bytes
    #: ``https`` or ``http``; the host:port the client addressed.
    scheme: str = "http"
    host: str = ""

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(self.query_string, keep_blank_values=True)

    def param(self, name: str, default: str | None = None) -> str | None:
        """The last value of a query parameter (as PHP does with repeated keys)."""
        values = self.query.get(name)
        return values[-1] if values else default

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


@dataclass(slots=True)
class Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)


def json_response(status: int, payload: Any, headers: Iterable[tuple[str, str]] = ()) -> Response:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return Response(status, body, [("Content-Type", "application/json; charset=utf-8"), *headers])


App = Callable[[Request], Response]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return  # quiet: tests read the sandbox's own records instead

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=parts.path,
            query_string=parts.query,
            headers=self.headers,
            body=body,
            scheme="https" if self.server.tls else "http",
            host=self.headers.get("Host", ""),
        )
        faults = self.server.faults
        if faults is not None and not parts.path.startswith(CONTROL_PREFIX):
            injected = faults.draw()
            if injected.latency:
                time.sleep(injected.latency)
            if injected.hang:
                # A timeout as the client sees it: no answer, then the connection closes.
                time.sleep(injected.hang)
                self.close_connection = True
                return
            if injected.response is not None:
                self._send(injected.response)
                return
        try:
            response = self.server.app(request)
        except Exception as exc:  # a sandbox bug must show as a 500, not a hung client
            response = json_response(500, {"errors": f"sandbox error: {exc!r}"})
        self._send(response)

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        names = {name.lower() for name, _ in response.headers}
        for name, value in response.headers:
            self.send_header(name, value)
        if "content-length" not in names:
            self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        app: App,
        *,
        faults: FaultPlan | None,
        tls: ssl.SSLContext | None,
    ) -> None:
        self.app = app
        self.faults = faults
        self.tls = tls
        super().__init__(address, _Handler)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        # The TLS handshake runs in the connection's own thread, never in the accept loop.
        if self.tls is not None:
            try:
                request = self.tls.wrap_socket(request, server_side=True)
            except (OSError, ssl.SSLError):
                self.shutdown_request(request)
                return
        super().process_request_thread(request, client_address)


class SandboxHTTPServer:
    """Runs an :data:`App` on ``host:port`` (0: a free port) in a background thread."""

    def __init__(
        self,
        app: App,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: FaultPlan | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self._app = app
        self._host = host
        self._port = port
        self.faults = faults
        self._tls = tls
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the sandbox server is not running")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        scheme = "https" if self._tls is not None else "http"
        return f"{scheme}://{self._host}:{self.port}"

    def start(self) -> SandboxHTTPServer:
        if self._server is not None:
            return self
        self._server = _Server(
            (self._host, self._port), self._app, faults=self.faults, tls=self._tls
        )
        self._thread = threading.Thread(
            # A short poll interval: stop() returns at once instead of after up to 0.5 s.
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"sandbox-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> SandboxHTTPServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
