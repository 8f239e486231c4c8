"""The Starlette application of the service, :func:`create_app` (built by
:meth:`aftersale_kit.service.bootstrap.Wiring.app`).

=======  ======================================  ===========================================
POST     /webhooks/{platform}                      intake (:mod:`.intake`)
GET      /v1/blocks/{platform}/{shop}/{order_id}   thank-you blocks (:mod:`.blocks`), with CORS
OPTIONS  /v1/blocks/...                            CORS preflight
GET      /v1/loyalty/{platform}/{shop}/balance     a customer's points (:mod:`.loyalty_routes`)
POST     /v1/loyalty/{platform}/{shop}/redeem      redeem points for a coupon (same auth)
...      /v1/unsubscribe, /v1/survey, /v1/newsletter  the follow-up links (:mod:`.link_routes`)
GET      /healthz                                  200 when the database answers, else 503
GET      /metrics                                  Prometheus text format
GET      /admin/{platform}/{shop}[/report.json]    the operator's dashboard (:mod:`.admin_routes`)
...      the platforms' own routes                 install links, approval callbacks, a
                                                   plugin's export/erase (:mod:`.auth_routes`)
=======  ======================================  ===========================================

Bad input never reaches a 5xx: a body larger than the limit is a 413, one that does not arrive
in full within ``body_timeout_seconds`` (service settings) a 408, JSON too deep or not JSON a 400
naming the reason (``{"status": "rejected", "reason": ..., "error": ...}`` once the signature
is verified); a client that goes away mid-body is one log line. 503 (with ``Retry-After``)
means "try again": the database or the platform did not answer.

The event loop does no database work and waits on no lock: a webhook is screened on the loop
(signature and JSON, pure CPU; bodies above 64 KiB in a thread) and stored by the intake's
group-commit writer thread, which answers it once its batch is committed; the block endpoint
reads in Starlette's thread pool. With ``worker=`` the app starts and stops the job loop with
its lifespan; the writer thread stops with it too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..core import registry as platforms
from ..results.collect import campaign_gauges
from ..storage import Store
from .admin_access import AdminAccess
from .admin_routes import admin_routes
from .auth_routes import auth_routes
from .blocks import BlockService
from .effects import Processor
from .intake import GroupCommit, Intake, IntakeResult, Screened
from .link_routes import link_routes
from .logs import log_event
from .loyalty_routes import loyalty_routes
from .metrics import CONTENT_TYPE_LATEST, Metrics
from .shops import ShopRegistry
from .worker import Worker

__all__ = ["create_app"]

_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
    "Access-Control-Max-Age": "600",
}
_BLOCK_HEADERS = {**_CORS, "Cache-Control": "no-store"}
#: Seconds a 503 asks the sender to wait before retrying.
_RETRY_AFTER = "5"
_OK = Response(b'{"status":"ok"}', 200, media_type="application/json")
#: Bodies up to this size are screened on the event loop (HMAC and ``json.loads`` of 64 KiB
#: take well under a millisecond); larger ones in the thread pool.
_INLINE_BODY = 64 * 1024


class _TooLarge(Exception):
    pass


async def _read_limited(request: Request, limit: int, timeout: float) -> bytes:
    """The body, at most ``limit`` bytes (:class:`_TooLarge`), in full within ``timeout``
    seconds (:class:`TimeoutError`)."""
    chunks: list[bytes] = []
    size = 0
    async with asyncio.timeout(timeout):
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _TooLarge
            chunks.append(chunk)
    return b"".join(chunks)


_STATUS: dict[tuple[int, str], Response] = {}


def _status(code: int, result: str) -> Response:
    """``{"status": result}`` with ``code``; built once per pair (a Response can be sent many
    times: it only holds the body and the headers)."""
    response = _STATUS.get((code, result))
    if response is None:
        body = f'{{"status":"{result}"}}'.encode()
        headers = {"Retry-After": _RETRY_AFTER} if code == 503 else None
        response = _STATUS.setdefault(
            (code, result), Response(body, code, headers, media_type="application/json")
        )
    return response


def _answer(result: IntakeResult) -> Response:
    """The intake's answer: ``{"status": ...}``, with ``reason`` and ``error`` for a refused
    signed delivery (a 400) and the reason of a quarantine."""
    if result.status == 400 or result.result == "quarantined":
        body = {"status": result.result, "reason": result.reason}
        if result.detail:
            body["error"] = result.detail
        return JSONResponse(body, result.status)
    return _status(result.status, result.result)


async def _received(
    request: Request, platform: str, metrics: Metrics, limit: int, timeout: float
) -> bytes | Response:
    """The body of a delivery, or the answer when it cannot be read in full within limits."""
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
        return await _read_limited(request, limit, timeout)
    except _TooLarge:
        metrics.rejected(platform, "too_large")
        return _status(413, "too large")
    except TimeoutError:
        metrics.rejected(platform, "body_timeout")
        log_event(logging.WARNING, "webhook body too slow", platform=platform)
        return _status(408, "body not received in time")
    except ClientDisconnect:
        metrics.rejected(platform, "client_gone")
        log_event(logging.INFO, "client went away before its body arrived", platform=platform)
        return _status(400, "client went away")


def _webhook_endpoint(
    intake: Intake,
    writer: GroupCommit[Screened, IntakeResult],
    metrics: Metrics,
    *,
    limit: int,
    body_timeout: float,
) -> Callable[[Request], Awaitable[Response]]:
    async def webhook(request: Request) -> Response:
        platform = request.path_params["platform"]
        if platforms.find(platform) is None:
            return _status(404, "unknown platform")
        body = await _received(request, platform, metrics, limit, body_timeout)
        if isinstance(body, Response):
            return body
        headers = dict(request.headers)
        if len(body) <= _INLINE_BODY:
            screened = intake.screen(platform, headers, body)
        else:
            screened = await run_in_threadpool(intake.screen, platform, headers, body)
        if isinstance(screened, IntakeResult):
            return _answer(screened)
        try:
            result = await writer.submit(screened)
        except Exception as exc:  # not stored: the platform retries on a 503
            log_event(logging.ERROR, "webhook not stored", platform=platform, error=repr(exc))
            metrics.rejected(platform, "storage")
            return _status(503, "not stored, retry")
        return _answer(result)

    return webhook


def _block_endpoint(blocks: BlockService) -> Callable[[Request], Awaitable[Response]]:
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
            order_key=request.query_params.get("key"),
        )
        if result.raw is not None:  # the stored JSON, passed on as stored
            return Response(result.raw, result.status, _BLOCK_HEADERS, "application/json")
        headers = _BLOCK_HEADERS
        if result.retry_after is not None:
            headers = {**_BLOCK_HEADERS, "Retry-After": str(result.retry_after)}
        return JSONResponse(dict(result.body), result.status, headers)

    return block


def _health_endpoint(store: Store) -> Callable[[Request], Awaitable[Response]]:
    def db_ok() -> bool:
        try:
            with store.db.read() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:
            log_event(logging.ERROR, "health check failed", error=type(exc).__name__)
            return False
        return True

    async def healthz(request: Request) -> Response:
        if await run_in_threadpool(db_ok):
            return _OK
        return _status(503, "database unreachable")

    return healthz


def _count_campaigns(store: Store, registry: ShopRegistry, metrics: Metrics) -> None:
    """The campaigns' redemption, revenue and budget gauges, per shop (one aggregate read
    each); a shop whose read fails keeps its last values."""
    now = datetime.now(UTC)
    for entry in registry:
        try:
            metrics.count_campaigns(entry.domain, campaign_gauges(store, entry.config, now=now))
        except Exception as exc:
            log_event(
                logging.WARNING,
                "campaigns not counted",
                shop=entry.domain,
                error=type(exc).__name__,
            )


def _metrics_endpoint(
    store: Store, metrics: Metrics, registry: ShopRegistry
) -> Callable[[Request], Awaitable[Response]]:
    def count_quarantined() -> None:
        try:
            counts = store.quarantined_open()
        except Exception as exc:  # the metrics still answer; the gauge keeps its last value
            log_event(logging.WARNING, "quarantine not counted", error=type(exc).__name__)
            return
        for platform in platforms.names():
            metrics.quarantined.labels(platform).set(counts.get(platform, 0))
        try:
            metrics.count_messages({k.value: n for k, n in store.message_counts().items()})
        except Exception as exc:  # as above: the gauges keep their last values
            log_event(logging.WARNING, "messages not counted", error=type(exc).__name__)

    async def endpoint(request: Request) -> Response:
        await run_in_threadpool(count_quarantined)
        await run_in_threadpool(_count_campaigns, store, registry, metrics)
        return Response(metrics.render(), 200, media_type=CONTENT_TYPE_LATEST)

    return endpoint


def _lifespan(
    worker: Worker | None, writer: GroupCommit[Screened, IntakeResult]
) -> Callable[[Starlette], contextlib.AbstractAsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if worker is not None:
            worker.start()
        try:
            yield
        finally:
            await run_in_threadpool(writer.close)
            if worker is not None:
                await run_in_threadpool(worker.stop)

    return lifespan


def create_app(
    *,
    registry: ShopRegistry,
    store: Store,
    processor: Processor | None = None,
    metrics: Metrics | None = None,
    worker: Worker | None = None,
    max_body_bytes: int | None = None,
    admin: AdminAccess | None = None,
) -> Starlette:
    """``admin``: the operator token of the dashboard (none: the dashboard answers that it is
    off)."""
    metrics = metrics or (worker.metrics if worker is not None else Metrics())
    processor = processor or (worker.processor if worker is not None else None)
    processor = processor or Processor(registry=registry, store=store)
    intake = Intake(registry=registry, store=store, processor=processor, metrics=metrics)
    blocks = BlockService(registry=registry, processor=processor, metrics=metrics)
    writer: GroupCommit[Screened, IntakeResult] = GroupCommit(
        intake.commit, writers=4 if store.dialect == "postgresql" else 1, name="intake-writer"
    )
    webhook = _webhook_endpoint(
        intake,
        writer,
        metrics,
        limit=max_body_bytes or registry.settings.max_body_bytes,
        body_timeout=registry.settings.body_timeout_seconds,
    )
    app = Starlette(
        routes=[
            Route("/webhooks/{platform}", webhook, methods=["POST"]),
            Route(
                "/v1/blocks/{platform}/{shop}/{order_id:path}",
                _block_endpoint(blocks),
                methods=["GET", "OPTIONS"],
            ),
            *loyalty_routes(blocks),
            *link_routes(processor),
            *auth_routes(registry=registry, store=store, processor=processor),
            *admin_routes(registry=registry, store=store, access=admin or AdminAccess()),
            Route("/healthz", _health_endpoint(store), methods=["GET"]),
            Route("/metrics", _metrics_endpoint(store, metrics, registry), methods=["GET"]),
        ],
        lifespan=_lifespan(worker, writer),
    )
    app.state.processor = processor
    app.state.metrics = metrics
    app.state.intake = intake
    return app
