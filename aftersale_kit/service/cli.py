"""``aftersale-kit serve``, ``aftersale-kit worker`` and ``aftersale-kit reconcile``.

Exit codes: 0 success, 1 a problem with the configuration or the database (printed without a
traceback), 2 wrong usage.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..core.errors import AftersaleKitError
from .failures import report_failure as _fail

if TYPE_CHECKING:
    from .bootstrap import Wiring

__all__ = ["reconcile_main", "serve_main", "worker_main"]


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", required=True, help="a shop's config file, or a folder with one file per shop"
    )
    parser.add_argument(
        "--db",
        default=None,
        help="database URL (sqlite:///./aftersale.db or postgresql://user@host/db); "
        "default: ./aftersale.db",
    )
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning"])


def _worker_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--threads", type=int, default=4, help="worker threads (default 4)")
    parser.add_argument(
        "--lease-seconds",
        type=float,
        default=60.0,
        help="how long a claimed job is held before another worker may take it over",
    )
    parser.add_argument("--export-dir", default=None, help="folder for customer data exports")


def _open(args: argparse.Namespace) -> Wiring:
    """The service's parts for a command: the shops, logging that masks their secrets, then
    the store and the rest (:func:`~aftersale_kit.service.bootstrap.bootstrap`)."""
    from .bootstrap import bootstrap
    from .logs import configure_logging
    from .shops import load_shops

    registry = load_shops(args.config)
    configure_logging(
        secrets=[v for entry in registry for v in entry.secrets.values()],
        level=getattr(logging, args.log_level.upper()),
    )
    return bootstrap(
        registry=registry, db_url=args.db, export_dir=getattr(args, "export_dir", None) or None
    )


def serve_main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="aftersale-kit serve", description="webhook intake, thank-you blocks and the worker"
    )
    _common(parser)
    _worker_options(parser)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--no-worker", action="store_true", help="intake only (run workers apart)")
    parser.add_argument("--max-body-bytes", type=int, default=None, help="default 1 MiB")
    args = parser.parse_args(list(argv))
    try:
        import uvicorn

        wiring = _open(args)
        registry, store = wiring.registry, wiring.store
        worker = (
            None
            if args.no_worker
            else wiring.worker(
                threads=args.threads,
                lease_seconds=args.lease_seconds,
                retention=registry.settings.retention,
            )
        )
        app = wiring.app(worker=worker, max_body_bytes=args.max_body_bytes)
    except AftersaleKitError as exc:
        return _fail("aftersale-kit serve", exc)
    # uvicorn shuts down gracefully on SIGTERM/SIGINT (the lifespan stops the worker), then
    # raises the signal again under the handlers it found: with the defaults the process would
    # die by the signal (exit 143) before the store is closed. With these it returns here.
    _ignore_stop_signals()
    server = uvicorn.Server(
        uvicorn.Config(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    )
    announce = threading.Thread(
        target=_log_start,
        args=(server, args, registry, store),
        kwargs={"worker": not args.no_worker},
        daemon=True,
    )
    announce.start()
    server.run()
    store.close()
    if not server.started:  # uvicorn has said why (e.g. the port is taken)
        return 1
    return 0


def _log_start(
    server: Any, args: argparse.Namespace, registry: Any, store: Any, *, worker: bool
) -> None:
    """One line once the socket is bound: where the service listens, which shops and which
    database it serves (the URL without its password)."""
    from .logs import log_event

    while not server.started:
        if server.should_exit:
            return
        time.sleep(0.02)

    host = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{host}:{args.port}"
    shops = [f"{entry.domain} ({entry.platform})" for entry in registry]
    log_event(
        logging.INFO,
        f"aftersale-kit serve: listening on {url} (webhooks at {url}/webhooks/<platform>); "
        f"{len(shops)} shop(s): {', '.join(shops)}; database {store.db.url}; "
        + (f"worker with {args.threads} threads" if worker else "no worker (--no-worker)"),
        url=url,
        shops=shops,
        database=store.db.url,
        worker_threads=args.threads if worker else 0,
    )


def _ignore_stop_signals() -> None:
    def stopped(_signum: int, _frame: object) -> None:
        pass

    signal.signal(signal.SIGTERM, stopped)
    signal.signal(signal.SIGINT, stopped)


def worker_main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="aftersale-kit worker", description="run jobs from the database (no HTTP)"
    )
    _common(parser)
    _worker_options(parser)
    args = parser.parse_args(list(argv))
    try:
        wiring = _open(args)
        store = wiring.store
        worker = wiring.worker(
            threads=args.threads,
            lease_seconds=args.lease_seconds,
            retention=wiring.registry.settings.retention,
        )
    except AftersaleKitError as exc:
        return _fail("aftersale-kit worker", exc)
    done = threading.Event()

    def stop(_signum: int, _frame: object) -> None:
        done.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    worker.start()
    print("aftersale-kit worker: running", file=sys.stderr, flush=True)
    done.wait()
    worker.stop()
    store.close()
    return 0


def _since(text: str) -> datetime:
    units = {"m": "minutes", "h": "hours", "d": "days"}
    if text and text[-1] in units and text[:-1].isdigit():
        return datetime.now(UTC) - timedelta(**{units[text[-1]]: int(text[:-1])})
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            "expected an ISO time like 2026-05-01T00:00:00+00:00 or a span like 6h/2d, "
            f"got {text!r}"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def reconcile_main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="aftersale-kit reconcile",
        description="process orders the webhooks missed (idempotent; safe to repeat)",
    )
    _common(parser)
    parser.add_argument("--since", required=True, type=_since, help="ISO time or span (6h, 2d)")
    parser.add_argument(
        "--no-jobs", action="store_true", help="only decide; leave the effects to the workers"
    )
    args = parser.parse_args(list(argv))
    try:
        from .reconcile import reconcile

        wiring = _open(args)
        store = wiring.store
        report = reconcile(wiring.processor, since=args.since)
        if not args.no_jobs:
            wiring.worker(threads=1).run_until_idle(timeout=600)
    except AftersaleKitError as exc:
        return _fail("aftersale-kit reconcile", exc)
    print(
        f"seen {report.seen} orders: {report.decided} decided now, {report.already} already "
        f"decided, {report.reversed} clawed back, {len(report.errors)} errors"
    )
    for error in report.errors:
        print(f"aftersale-kit reconcile: {error}", file=sys.stderr)
    store.close()
    return 1 if report.errors else 0
