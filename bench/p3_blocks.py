"""P3: ``GET /v1/blocks/{platform}/{shop}/{order_id}`` at a fixed 1,000 requests/s.

Setup: the Shopify sandbox (a real HTTP server on loopback) holds a paid order built from the
vendor sample; the service (``aftersale-kit serve --no-worker`` on SQLite) has the sandbox as the
shop's ``api_base_url``. One GET with a valid session token makes the service fetch the order,
decide it and store its blocks (the page-before-webhook path); the load then reads the stored
blocks. The session token is what the checkout extension sends: an HS256 JWT signed with the
app's client secret, ``aud`` = the client id, ``dest`` = ``https://{shop}``, ``exp``/``nbf``.

Load: open loop (see :mod:`bench._load`): a constant 1,000 req/s for 10 s from a separate
process, latency measured from each request's scheduled send time. wrk is closed-loop and would
hide stalls (coordinated omission); wrk2's ``-R`` is not packaged, and a Lua delay in wrk only
spaces a connection's own requests, it does not keep the schedule when the server stalls.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import jwt

from ._load import (
    OpenLoopResult,
    free_port,
    machine,
    open_loop,
    python,
    serving,
    token_auth_shop,
    uvicorn_stack,
)
from .p2_intake import ENV, SECRET, SHOP

TITLE = "## P3: block endpoint"
RATE = float(os.environ.get("BENCH_RATE", "1000"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
WARMUP = float(os.environ.get("BENCH_WARMUP", "2"))
CLIENT_ID = "bench-client-id"
FIXTURE = "shopify_sample_webhook_order_2025.json"
#: The vendor sample is a voided, cancelled test order: made a live paid one here.
ORDER = {
    "fixture": FIXTURE,
    "new_id": True,
    "overrides": {"financial_status": "paid", "cancelled_at": None, "test": False},
}
_SANDBOX = (
    "import sys; from aftersale_kit_shopify.sandbox.cli import main; sys.exit(main(sys.argv[1:]))"
)


def _call(
    url: str, *, method: str = "GET", data: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    body = json.dumps(data).encode() if data is not None else None
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    if body is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def session_token(*, lifetime: float = 300) -> str:
    now = int(time.time())
    claims = {
        "iss": f"https://{SHOP}/admin",
        "dest": f"https://{SHOP}",
        "aud": CLIENT_ID,
        "exp": now + int(lifetime),
        "nbf": now - 5,
        "iat": now,
        "jti": "bench",
    }
    return jwt.encode(claims, SECRET, algorithm="HS256")


def _config(tmp: Path, sandbox_url: str) -> Path:
    path = tmp / "shop.yaml"
    path.write_text(token_auth_shop(api_base_url=sandbox_url), encoding="utf-8")
    return path


@contextlib.contextmanager
def prepared() -> Any:
    """Sandbox + service running, one paid order decided with its blocks stored."""
    with tempfile.TemporaryDirectory(prefix="bench-p3-") as folder:
        tmp = Path(folder)
        sp = free_port()
        sandbox_argv = [
            python(), "-c", _SANDBOX, "--port", str(sp), "--shop", SHOP.split(".")[0],
            "--token", ENV["SHOPIFY_ACCESS_TOKEN"], "--secret", SECRET, "--api-version", "2026-01",
        ]  # fmt: skip
        with serving(sandbox_argv, port=sp, probe="/_sandbox/state"):
            sandbox = f"http://127.0.0.1:{sp}"
            status, created = _call(
                f"{sandbox}/_sandbox/orders",
                method="POST",
                data=ORDER,
            )
            if status != 201:
                raise RuntimeError(f"sandbox refused the order: {status} {created}")
            order_id = str(created["order"]["id"])
            if created["order"].get("financial_status") != "paid":
                _call(f"{sandbox}/_sandbox/orders/{order_id}/pay", method="POST", data={})
            db = tmp / "service.db"
            port = free_port()
            argv = [
                python(), "-m", "aftersale_kit", "serve", "--config", str(_config(tmp, sandbox)),
                "--db", f"sqlite:///{db}", "--port", str(port), "--no-worker",
                "--log-level", "warning",
            ]  # fmt: skip
            with serving(argv, port=port, env={**ENV, "SHOPIFY_API_KEY": CLIENT_ID}):
                url = f"http://127.0.0.1:{port}/v1/blocks/shopify/{SHOP}/{order_id}"
                headers = {"Authorization": f"Bearer {session_token()}"}
                status, first = _call(url, headers=headers)
                if status != 200 or first.get("status") != "ready":
                    raise RuntimeError(f"block endpoint answered {status}: {first}")
                with contextlib.closing(sqlite3.connect(db)) as conn:
                    (stored,) = conn.execute("SELECT count(*) FROM blocks").fetchone()
                if stored != 1:
                    raise RuntimeError(f"expected the order's blocks stored, found {stored} rows")
                yield url, headers, first


def measure() -> tuple[OpenLoopResult, dict[str, Any]]:
    with prepared() as (url, headers, first):
        open_loop(url, headers=headers, rate=RATE, seconds=WARMUP)
        result = open_loop(url, headers=headers, rate=RATE, seconds=SECONDS)
        return result, first


def render(result: OpenLoopResult, first: dict[str, Any]) -> str:
    p99 = result.percentile(99)
    met = result.errors == 0 and p99 < 10 and result.rate >= 0.98 * RATE
    blocks = first.get("blocks", [])
    size = len(json.dumps(first).encode())
    return "\n".join(
        [
            TITLE,
            "",
            f"Machine: {machine()}; {uvicorn_stack()}.",
            "",
            "State: a paid order (vendor sample) in the Shopify sandbox; the service "
            "(`aftersale-kit serve --no-worker`, SQLite) fetched, decided and stored its "
            f"{len(blocks)} blocks ({size:,}-byte JSON answer) on a first GET; the load reads "
            "the stored blocks with a valid HS256 session token (signature, `aud`, `dest`, "
            "`exp`/`nbf` checked on every request).",
            "",
            f"Load: open loop, {RATE:,.0f} GET/s for {SECONDS:g} s after a {WARMUP:g} s warm-up, "
            "from a separate process (asyncio, keep-alive connections: a new one when all are "
            "busy, at most 64, then requests wait for one); latency from each request's "
            "scheduled send time, so stalls are not hidden (wrk is closed-loop and would "
            "under-report them).",
            "",
            "| planned | completed | achieved req/s | p50 ms | p90 ms | p99 ms | p99.9 ms "
            "| max ms | errors | connections |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            f"| {result.planned:,} | {result.completed:,} | {result.rate:,.0f} "
            f"| {result.percentile(50):.2f} | {result.percentile(90):.2f} | {p99:.2f} "
            f"| {result.percentile(99.9):.2f} | {result.latencies_ms[-1]:.1f} | {result.errors} "
            f"| {result.connections} |",
            "",
            f"- Target p99 < 10 ms at {RATE:,.0f} req/s with no errors: "
            f"**{'met' if met else 'missed'}** (statuses: {result.statuses}).",
            "",
        ]
    )


def run() -> str:
    return render(*measure())
