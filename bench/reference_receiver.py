"""The minimal reference for P2: a bare Starlette endpoint that checks the Shopify HMAC and
inserts the body into SQLite (WAL, ``synchronous=NORMAL`` like the service's store), served by
uvicorn exactly as ``aftersale-kit serve`` serves the service.

``python -m bench.reference_receiver --db FILE --port N --secret S``. The database work runs in
Starlette's thread pool (one sqlite3 connection per thread), as the service's does.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import sqlite3
import threading

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

SCHEMA = "CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, body BLOB NOT NULL)"


def create_app(db: str, secret: str) -> Starlette:
    local = threading.local()
    key = secret.encode()

    def connection() -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout=5000")
            conn.execute("PRAGMA synchronous=NORMAL")
            local.conn = conn
        return conn

    def insert(body: bytes) -> None:
        connection().execute("INSERT INTO events (body) VALUES (?)", (body,))

    async def webhook(request: Request) -> Response:
        body = await request.body()
        given = request.headers.get("x-shopify-hmac-sha256", "")
        expected = base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()
        if not hmac.compare_digest(given, expected):
            return Response(b'{"status":"rejected"}', 401, media_type="application/json")
        await run_in_threadpool(insert, body)
        return Response(b'{"status":"accepted"}', 200, media_type="application/json")

    async def healthz(request: Request) -> Response:
        return Response(b'{"status":"ok"}', 200, media_type="application/json")

    return Starlette(
        routes=[
            Route("/webhooks/shopify", webhook, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )


def prepare(db: str) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(SCHEMA)


def count(db: str) -> int:
    with sqlite3.connect(db) as conn:
        (n,) = conn.execute("SELECT count(*) FROM events").fetchone()
        return int(n)


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m bench.reference_receiver")
    parser.add_argument("--db", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", required=True)
    args = parser.parse_args()
    prepare(args.db)
    uvicorn.run(
        create_app(args.db, args.secret),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
