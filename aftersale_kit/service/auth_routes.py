"""The routes platforms add to the service (install links, approval callbacks, plugin endpoints).

Each platform's service extension (:mod:`.extensions`) returns its routes; this module collects
them for the platforms the configured shops are on, and holds what the flows share: the
service's public address and how an :class:`Outcome` becomes an answer.

The public address is ``$AFTERSALE_PUBLIC_URL`` (the service's address as the platforms reach
it), else the address the request came to.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from ..storage import Store
from .extensions import ExtensionContext, extension
from .shops import ShopRegistry

if TYPE_CHECKING:
    from .effects import Processor

__all__ = ["PUBLIC_URL_ENV", "Outcome", "auth_routes", "public_url", "respond"]

PUBLIC_URL_ENV = "AFTERSALE_PUBLIC_URL"


@dataclass(frozen=True, slots=True)
class Outcome:
    status: int
    text: str
    location: str | None = None


def public_url(request: Request) -> str:
    configured = os.environ.get(PUBLIC_URL_ENV, "").strip().rstrip("/")
    return configured or str(request.base_url).rstrip("/")


def respond(outcome: Outcome) -> Response:
    if outcome.location is not None:
        return RedirectResponse(outcome.location, status_code=302)
    return PlainTextResponse(outcome.text + "\n", status_code=outcome.status)


def auth_routes(
    *, registry: ShopRegistry, store: Store, processor: Processor | None = None
) -> list[Route]:
    """The routes of the platforms some configured shop is on."""
    ctx = ExtensionContext(registry=registry, store=store, processor=processor)
    routes: list[Route] = []
    for platform in sorted({entry.platform for entry in registry}):
        build = getattr(extension(platform), "routes", None)
        if build is not None:
            routes.extend(build(ctx))
    return routes
