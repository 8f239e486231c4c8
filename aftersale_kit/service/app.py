"""The Starlette application of the service (the composition root is :func:`create_app`).

=======  ======================================  ===========================================
POST     /webhooks/shopify, /webhooks/woocommerce  intake (:mod:`.intake`)
GET      /v1/blocks/{platform}/{shop}/{order_id}   thank-you blocks (:mod:`.blocks`), with CORS
OPTIONS  /v1/blocks/...                            CORS preflight
GET      /healthz                                  200 when the database answers, else 503
GET      /metrics                                  Prometheus text format
=======  ======================================  ===========================================

The database work of a request runs in Starlette's thread pool, so the event loop never waits
on a lock. With ``worker=`` the app starts and stops the job loop with its lifespan.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..storage import Store
from .blocks import BlockService
from .effects import Processor
from .intake import Intake
from .logs import log_event
from .metrics import CONTENT_TYPE_LATEST, Metrics
from .shops import ShopRegistry
from .worker import Worker

__all__ = ["create_app"]

_PLATFORMS = ("shopify", "woocommerce")
_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
    "Access-Control-Max-Age": "600",
}
_OK = Response(b'{"status":"ok"}', 200, media_type="application/json")


class _TooLarge(Exception):
    pass


async def _read_limited(request: Request, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _status(code: int, result: str) -> Response:
    return Response(f'{{"status":"{result}"}}'.encode(), code, media_type="application/json")


def create_app(
    *,
    registry: ShopRegistry,
    store: Store,
    processor: Processor | None = None,
    metrics: Metrics | None = None,
    worker: Worker | None = None,
    max_body_bytes: int | None = None,
) -> Starlette:
    metrics = metrics or (worker.metrics if worker is not None else Metrics())
    processor = processor or (worker.processor if worker is not None else None)
    processor = processor or Processor(registry=registry, store=store)
    intake = Intake(registry=registry, store=store, processor=processor, metrics=metrics)
    blocks = BlockService(registry=registry, processor=processor, metrics=metrics)
    limit = max_body_bytes or registry.settings.max_body_bytes

    async def webhook(request: Request) -> Response:
        platform = request.path_params["platform"]
        if platform not in _PLATFORMS:
            return _status(404, "unknown platform")
        declared = request.headers.get("content-length")
        if declared is not None:
            try:
                too_big = int(declared) > limit
            except ValueError:
                metrics.rejected(platform, "malformed")
                return _status(400, "bad content-length")
            if too_big:
                metrics.rejected(platform, "too_large")
                return _status(413, "too large")
        try:
            body = await _read_limited(request, limit)
        except _TooLarge:
            metrics.rejected(platform, "too_large")
            return _status(413, "too large")
        headers = dict(request.headers)
        result = await run_in_threadpool(intake.receive, platform, headers, body)
        return _status(result.status, result.result)

    async def block(request: Request) -> Response:
        if request.method == "OPTIONS":
            return Response(status_code=204, headers=_CORS)
        p = request.path_params
        result = await run_in_threadpool(
            blocks.get,
            p["platform"],
            p["shop"],
            p["order_id"],
            authorization=request.headers.get("authorization"),
            token=request.query_params.get("token"),
        )
        return JSONResponse(
            dict(result.body),
            result.status,
            headers={**_CORS, "Cache-Control": "no-store"},
        )

    def _db_ok() -> bool:
        try:
            with store.db.read() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:
            log_event(logging.ERROR, "health check failed", error=type(exc).__name__)
            return False
        return True

    async def healthz(request: Request) -> Response:
        if await run_in_threadpool(_db_ok):
            return _OK
        return _status(503, "database unreachable")

    async def metrics_endpoint(request: Request) -> Response:
        return Response(metrics.render(), 200, media_type=CONTENT_TYPE_LATEST)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if worker is not None:
            worker.start()
        try:
            yield
        finally:
            if worker is not None:
                await run_in_threadpool(worker.stop)

    app = Starlette(
        routes=[
            Route("/webhooks/{platform}", webhook, methods=["POST"]),
            Route(
                "/v1/blocks/{platform}/{shop}/{order_id:path}", block, methods=["GET", "OPTIONS"]
            ),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.processor = processor
    app.state.metrics = metrics
    app.state.intake = intake
    return app
