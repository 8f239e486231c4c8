"""The operator's read-only dashboard: a shop's results as a page and as JSON.

=======  =========================================  ==========================================
GET      /admin/{platform}/{shop}                   the results page (German or English)
GET      /admin/{platform}/{shop}/report.json       the same figures as JSON
=======  =========================================  ==========================================

Optional ``?since=YYYY-MM-DD&until=YYYY-MM-DD`` (days in the shop's time zone, ``until``
included; default: the last 90 days up to now) and ``?lang=de|en`` (default: the browser's
``Accept-Language``, else the shop's locale).

Who may look: whoever sends the operator token of :data:`ENV_TOKEN` (the service's environment)
as ``Authorization: Bearer <token>``, or as the password of HTTP Basic (any user name) so a
browser's own login prompt works. Nothing in the address ever authenticates (no ``?token=``, no
cookie made from a link): a customer sees addresses, never this header. A customer's checkout
session token or a block request's order token is just a wrong token here.

Answers, in this order, so that nothing about a shop reaches someone without the token:

- 404 ``the dashboard is off`` while no token is configured (nobody can log in, so no login
  prompt is offered);
- 401 with ``WWW-Authenticate: Basic`` and the same short body for every shop, known or not;
- 404 for a platform or shop this service does not serve, 400 naming a bad date;
- 200 with the page or JSON; 503 naming the reason when the figures cannot be computed (a
  missing extra, the database).

Every answer is ``no-store``, may not be framed, and the page's Content-Security-Policy allows
no script at all.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..core.campaign import ShopConfig
from ..core.errors import AftersaleKitError
from ..results.html import language, render_html
from ..results.json_report import render_json
from ..storage import Store
from .admin_access import ENV_TOKEN, MIN_TOKEN_CHARS, AdminAccess
from .logs import log_event
from .shops import ShopRegistry

__all__ = ["ADMIN_HEADERS", "admin_routes"]

#: Days shown when ``since`` is not given.
DEFAULT_DAYS = 90
#: The days a range may name (beyond them the arithmetic of time zones overflows).
_FIRST_DAY = date(1970, 1, 1)
_LAST_DAY = date(9998, 12, 31)
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_REALM = 'Basic realm="aftersale-kit admin", charset="UTF-8"'

#: Sent with every answer of these routes: no script, no frames, no caching, no referrer.
ADMIN_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; form-action 'none'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Vary": "Authorization",
}


class _BadQuery(ValueError):
    pass


def _text(status: int, message: str, extra: Mapping[str, str] | None = None) -> Response:
    headers = {**ADMIN_HEADERS, **(extra or {})}
    return Response(message + "\n", status, headers, media_type="text/plain; charset=utf-8")


_OFF = (
    "The dashboard is off: set "
    + ENV_TOKEN
    + " in the service's environment to a secret of at least "
    + str(MIN_TOKEN_CHARS)
    + " characters."
)
_LOGIN = "Log in with the operator token (HTTP Basic password, or Authorization: Bearer)."


def _zone(config: ShopConfig) -> ZoneInfo:
    try:
        return ZoneInfo(config.settings.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _day(request: Request, name: str) -> date | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        # only YYYY-MM-DD: fromisoformat also takes 20261101 and 2026-W45
        day = date.fromisoformat(raw) if _DAY.fullmatch(raw) else None
    except ValueError:
        day = None
    if day is None or not _FIRST_DAY <= day <= _LAST_DAY:
        raise _BadQuery(
            f"{name}: expected a day as YYYY-MM-DD between {_FIRST_DAY} and {_LAST_DAY}, "
            "for example 2026-11-01"
        )
    return day


def _range(request: Request, config: ShopConfig, now: datetime) -> tuple[datetime, datetime]:
    """``since`` (start of that day) and ``until`` (end of that day, or now) in the shop's
    time zone."""
    zone = _zone(config)
    since_day, until_day = _day(request, "since"), _day(request, "until")
    until = (
        datetime.combine(until_day + timedelta(days=1), time(), zone)
        if until_day
        else now.astimezone(zone)
    )
    since = (
        datetime.combine(since_day, time(), zone)
        if since_day
        else until - timedelta(days=DEFAULT_DAYS)
    )
    if since >= until:
        raise _BadQuery("since: must be a day before until")
    return since, until


def _lang(request: Request, config: ShopConfig) -> str:
    asked = request.query_params.get("lang")
    if asked:
        return language(asked)
    accept = request.headers.get("accept-language", "").split(",", 1)[0].split(";", 1)[0]
    return language(accept.strip() or config.settings.locale)


def _endpoint(
    registry: ShopRegistry, store: Store, access: AdminAccess, *, as_json: bool
) -> Callable[[Request], Awaitable[Response]]:
    async def admin(request: Request) -> Response:
        if access.token is None:
            return _text(404, _OFF)
        if not access.allows(request.headers.get("authorization")):
            return _text(401, _LOGIN, {"WWW-Authenticate": _REALM})
        entry = registry.get(request.path_params["platform"], request.path_params["shop"])
        if entry is None:
            return _text(404, "No such shop in this service.")
        now = access.clock()
        try:
            since, until = _range(request, entry.config, now)
        except _BadQuery as exc:
            return _text(400, str(exc))
        try:
            results = await run_in_threadpool(
                access.collect, store, entry.config, since=since, until=until, now=now
            )
        except (AftersaleKitError, ImportError) as exc:
            log_event(logging.WARNING, "results not computed", shop=entry.domain, error=str(exc))
            return _text(503, f"The figures cannot be computed: {exc}")
        if as_json:
            body = render_json(results)
            return Response(body, 200, ADMIN_HEADERS, media_type="application/json")
        page = render_html(results, lang=_lang(request, entry.config))
        return Response(page, 200, ADMIN_HEADERS, media_type="text/html; charset=utf-8")

    return admin


def admin_routes(*, registry: ShopRegistry, store: Store, access: AdminAccess) -> list[Route]:
    return [
        Route(
            "/admin/{platform}/{shop}/report.json",
            _endpoint(registry, store, access, as_json=True),
            methods=["GET"],
        ),
        Route(
            "/admin/{platform}/{shop}",
            _endpoint(registry, store, access, as_json=False),
            methods=["GET"],
        ),
    ]
