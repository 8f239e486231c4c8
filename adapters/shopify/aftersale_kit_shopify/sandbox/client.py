"""Pointing ShopifyAPI (``import shopify``) at the sandbox.

ShopifyAPI builds every URL from the session's shop, which it forces to ``<name>.myshopify.com``
over HTTPS (``Session.__prepare_url``), so a session alone cannot reach a local server. But
``shopify.GraphQL()`` reads its endpoint from ``ShopifyResource.get_site()`` when it is created
(``resources/graphql.py``), so: activate the session (which sets the access-token header), then
overwrite ``ShopifyResource.site`` with the sandbox's admin URL, then create ``GraphQL()``.

ShopifyAPI calls ``urllib.request.urlopen`` without a context, so for HTTPS with a test CA either
install an opener that trusts it (``ca_file=`` here does that, for the duration) or export
``SSL_CERT_FILE=<ca file>`` before the process starts.
"""

from __future__ import annotations

import ssl
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aftersale_kit.core.errors import MissingExtraError

if TYPE_CHECKING:
    from .app import ShopifySandbox

__all__ = ["activate", "point_session_at", "trusting_opener"]


def _shopify() -> Any:
    try:
        import shopify
    except ImportError as exc:
        raise MissingExtraError("driving the Shopify sandbox with ShopifyAPI", "shopify") from exc
    return shopify


def point_session_at(sandbox: ShopifySandbox, session: Any) -> None:
    """Activate ``session`` (a ``shopify.Session``) and aim ShopifyAPI at ``sandbox``.

    Call it before creating ``shopify.GraphQL()``: the client copies site and headers when it is
    created. Affects the current thread's ShopifyAPI settings (and the class defaults).
    """
    shopify = _shopify()
    shopify.ShopifyResource.activate_session(session)
    shopify.ShopifyResource.site = sandbox.admin_url(str(session.api_version.name))


def trusting_opener(ca_file: str | Path) -> urllib.request.OpenerDirector:
    """A urllib opener that trusts the system's CAs and ``ca_file`` (a test CA)."""
    context = ssl.create_default_context()
    context.load_verify_locations(cafile=str(ca_file))
    return urllib.request.build_opener(urllib.request.HTTPSHandler(context=context))


@contextmanager
def activate(
    sandbox: ShopifySandbox,
    *,
    api_version: str | None = None,
    token: str | None = None,
    ca_file: str | Path | None = None,
) -> Iterator[Any]:
    """Within the block, ``shopify.GraphQL()`` talks to ``sandbox``; yields the session.

    ``ca_file`` (default: the sandbox's own, when it serves HTTPS) is trusted through a global
    urllib opener for the duration; the previous opener comes back afterwards. The session is
    cleared on exit even if the block raises (unlike ``shopify.Session.temp``).
    """
    shopify = _shopify()
    session = shopify.Session(
        sandbox.shop_domain, api_version or sandbox.api_version, token or sandbox.token
    )
    trust = ca_file if ca_file is not None else sandbox.ca_file
    previous = getattr(urllib.request, "_opener", None)
    if trust is not None:
        urllib.request.install_opener(trusting_opener(trust))
    try:
        point_session_at(sandbox, session)
        yield session
    finally:
        shopify.ShopifyResource.clear_session()
        if trust is not None:
            urllib.request._opener = previous  # type: ignore[attr-defined]
