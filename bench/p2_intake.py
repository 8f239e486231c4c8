"""P2: webhook intake under load. wrk (a second process, loopback) posts the 13 KB vendor order
body with valid Shopify headers and a unique event id per request, to three servers in turn:

1. the reference receiver (:mod:`bench.reference_receiver`: HMAC check + one SQLite insert);
2. the service (``aftersale-kit serve --no-worker``) on SQLite (WAL);
3. the service on PostgreSQL (a fresh database, dropped afterwards; skipped when unreachable).

Each gets a warm-up and then a fixed measured run with the same wrk settings. Afterwards the
stored events are counted: they must equal the 2xx responses (plus at most the requests that
were in flight when wrk stopped, which the server may still have committed).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ._load import (
    ROOT,
    WRK_DIR,
    WrkResult,
    free_port,
    machine,
    python,
    run_wrk,
    serving,
    token_auth_shop,
    uvicorn_stack,
)

TITLE = "## P2: webhook intake"
BODY = ROOT / "tests" / "fixtures" / "shopify" / "shopify_sample_webhook_order_2025.json"
CONFIG = Path(tempfile.gettempdir()) / f"bench-p2-shop-{os.getpid()}.yaml"
SHOP = "bohnenglueck-kaffee.myshopify.com"
SECRET = "bench-webhook-secret-0123456789abcdef"
ENV = {
    "SHOPIFY_WEBHOOK_SECRET": SECRET,
    "SHOPIFY_ACCESS_TOKEN": "shpat_bench",
    "AFTERSALE_CODE_SECRET": "bench-code-secret",
}
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
THREADS = int(os.environ.get("BENCH_WRK_THREADS", "1"))
CONNECTIONS = int(os.environ.get("BENCH_WRK_CONNECTIONS", "16"))
WARMUP = float(os.environ.get("BENCH_WARMUP", "2"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))


@dataclass(frozen=True)
class Row:
    name: str
    result: WrkResult | None
    stored: int = 0  # events stored during warm-up and measured run
    answered_2xx: int = 0  # 2xx over warm-up and measured run
    in_flight: int = 0  # sent but unanswered when wrk stopped (both runs)
    skipped: str = ""

    @property
    def count_ok(self) -> bool:
        return self.answered_2xx <= self.stored <= self.answered_2xx + self.in_flight


def _signature() -> str:
    from aftersale_kit_shopify.webhooks import sign_body

    return sign_body(BODY.read_bytes(), SECRET)


def _load(port: int, hmac: str, count: Callable[[], int], name: str) -> Row:
    url = f"http://127.0.0.1:{port}/webhooks/shopify"
    script = WRK_DIR / "shopify_intake.lua"

    def wrk(seconds: float) -> WrkResult:
        nonce = uuid.uuid4().hex[:12]
        return run_wrk(
            url,
            script=script,
            args=[str(BODY), hmac, SHOP, nonce],
            threads=THREADS,
            connections=CONNECTIONS,
            seconds=seconds,
        )

    warm = wrk(WARMUP)
    result = wrk(SECONDS)
    time.sleep(0.5)  # let requests still in flight when wrk stopped finish
    return Row(
        name=name,
        result=result,
        stored=count(),
        answered_2xx=warm.ok + result.ok,
        in_flight=(warm.sent - warm.requests) + (result.sent - result.requests),
    )


def _reference(tmp: Path, hmac: str) -> Row:
    db = str(tmp / "reference.db")
    port = free_port()
    argv = [python(), "-m", "bench.reference_receiver", "--db", db, "--port", str(port)]
    with serving([*argv, "--secret", SECRET], port=port):
        from .reference_receiver import count

        return _load(port, hmac, lambda: count(db), "reference receiver (SQLite)")


def _service(url: str, port: int) -> list[str]:
    CONFIG.write_text(token_auth_shop(), encoding="utf-8")
    return [
        python(),
        "-m",
        "aftersale_kit",
        "serve",
        "--config",
        str(CONFIG),
        "--db",
        url,
        "--port",
        str(port),
        "--no-worker",
        "--log-level",
        "warning",
    ]


def _service_sqlite(tmp: Path, hmac: str) -> Row:
    path = tmp / "service.db"
    port = free_port()

    def count() -> int:
        with contextlib.closing(sqlite3.connect(path)) as conn:
            (n,) = conn.execute("SELECT count(*) FROM events").fetchone()
            return int(n)

    with serving(_service(f"sqlite:///{path}", port), port=port, env=ENV):
        return _load(port, hmac, count, "service, SQLite (WAL)")


@contextlib.contextmanager
def _pg_database() -> Iterator[str]:
    import psycopg

    name = f"aftersale_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _service_postgres(hmac: str) -> Row:
    import psycopg

    name = "service, PostgreSQL"
    try:
        with psycopg.connect(PG_ADMIN, connect_timeout=3):
            pass
    except psycopg.Error as exc:
        return Row(name, None, skipped=f"PostgreSQL unreachable: {str(exc).strip()[:200]}")
    with _pg_database() as url:
        port = free_port()

        def count() -> int:
            with psycopg.connect(url) as conn:
                row = conn.execute("SELECT count(*) FROM events").fetchone()
                return int(row[0]) if row else 0

        with serving(_service(url, port), port=port, env=ENV):
            return _load(port, hmac, count, name)


def measure() -> list[Row]:
    hmac = _signature()
    with tempfile.TemporaryDirectory(prefix="bench-p2-") as tmp:
        rows = [_reference(Path(tmp), hmac), _service_sqlite(Path(tmp), hmac)]
    rows.append(_service_postgres(hmac))
    return rows


def _verdict(rows: list[Row]) -> list[str]:
    ref, lite, pg = rows
    out = []
    if ref.result and lite.result:
        ratio = lite.result.rate / ref.result.rate
        ok = ratio >= 0.75 and lite.result.p99_ms < 25
        out.append(
            f"- SQLite: {ratio:.2f}x the reference's throughput, p99 {lite.result.p99_ms:.1f} ms "
            f"(target ≥ 0.75x and p99 < 25 ms): **{'met' if ok else 'missed'}**."
        )
    if pg.result:
        ok = pg.result.rate >= 2000
        out.append(
            f"- PostgreSQL: {pg.result.rate:,.0f} req/s (target ≥ 2,000/s): "
            f"**{'met' if ok else 'missed'}**."
        )
    else:
        out.append(f"- PostgreSQL: not measured ({pg.skipped}).")
    bad = [r.name for r in rows if r.result and (r.result.non2xx or not r.count_ok)]
    out.append(
        "- Every response 2xx and stored events = 2xx responses: "
        + ("**yes**." if not bad else f"**no** for {', '.join(bad)}.")
    )
    return out


def render(rows: list[Row]) -> str:
    lines = [
        TITLE,
        "",
        f"Machine: {machine()}; {uvicorn_stack()} for every server.",
        "",
        f"Load: `wrk -t{THREADS} -c{CONNECTIONS} --latency` from a second process on loopback, "
        f"{WARMUP:g} s warm-up then {SECONDS:g} s measured per server; each request POSTs the "
        f"{BODY.stat().st_size:,}-byte vendor order body (`orders/paid`, valid HMAC) with a unique "
        "`X-Shopify-Event-Id`/`X-Shopify-Webhook-Id`, so every request is a new event (dedupe "
        "check, durable event, outbox job in one transaction). The service runs "
        "`aftersale-kit serve --no-worker`: intake measured alone, no job is worked off; it "
        "checks signature, shop, topic and JSON on the event loop (`peek_webhook`, the order is "
        "not normalised) and a group-commit writer stores what queued up in one transaction, "
        "answering each request after its commit. The reference is a bare Starlette endpoint on "
        "the same uvicorn stack: HMAC check and one SQLite insert (autocommit) in the thread pool.",
        "",
        "| server | req/s | p50 ms | p90 ms | p99 ms | max ms | non-2xx | socket errors "
        "| stored / 2xx |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        if r.result is None:
            lines.append(f"| {r.name} | skipped: {r.skipped} | | | | | | | |")
            continue
        w = r.result
        check = f"{r.stored:,} / {r.answered_2xx:,}"
        if r.stored != r.answered_2xx:
            check += f" (+{r.stored - r.answered_2xx} in flight at stop, of {r.in_flight})"
        lines.append(
            f"| {r.name} | {w.rate:,.0f} | {w.p50_ms:.2f} | {w.p90_ms:.2f} | {w.p99_ms:.2f} "
            f"| {w.max_ms:.1f} | {w.non2xx} | {w.socket_errors} | {check} "
            f"{'✓' if r.count_ok else '✗'} |"
        )
    lines += ["", *_verdict(rows)]
    return "\n".join(lines) + "\n"


def run() -> str:
    return render(measure())
