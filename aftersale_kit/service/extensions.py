"""What a platform adds to the service: routes, and how a thank-you block request is authenticated.

A platform's spec names its extension module (``PlatformSpec.service``); the service imports it
on first use and asks it, never naming a platform itself. The module provides, as plain
functions (each optional):

``routes(ctx: ExtensionContext) -> list[Route]``
    Routes of the platform's own flows (an install link, a key-approval callback, a companion
    plugin's endpoints), served by ``serve``. Called once per platform that some configured
    shop is on.
``authorize_block(request: BlockRequest, lookup: BlockLookup) -> Order | BlockDenial | BlockGrant``
    Authenticates ``GET /v1/blocks/{platform}/{shop}/{order_id}`` (see :mod:`.blocks`) and says
    which order it is for: the order (its blocks are served, decided first if need be), a
    denial (status and message), or a :class:`BlockGrant` (an order id the service looks up).
    No platform call may happen before the request is verified.
``connect_link(ctx: ExtensionContext, domain: str, *, public_url: str) -> str``
    The link that connects a store whose auth method is approved in the store's admin
    (``aftersale-kit shops connect PLATFORM DOMAIN``); a message (``ValueError``) when the shop
    cannot be connected that way.

Extension modules may import :mod:`aftersale_kit.service` (the import contract allows it for
these modules only).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol

from ..core import registry as platforms
from ..core.model import Order

if TYPE_CHECKING:
    from ..storage import Store
    from .effects import Processor
    from .shops import ShopEntry, ShopRegistry

__all__ = [
    "BlockDenial",
    "BlockGrant",
    "BlockLookup",
    "BlockRequest",
    "ExtensionContext",
    "extension",
]


@dataclass(frozen=True, slots=True)
class ExtensionContext:
    registry: ShopRegistry
    store: Store
    processor: Processor | None = None


@dataclass(frozen=True, slots=True)
class BlockRequest:
    """One block request, as received: the shop's entry, the order id as the platform's spec
    read it (``None``: not an order id), and the request's credentials."""

    entry: ShopEntry
    order_id: str | None
    authorization: str | None
    token: str | None
    order_key: str | None
    #: The platforms' service-wide options (``service.yaml``), e.g. an app's client id.
    options: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class BlockDenial:
    status: int
    message: str
    #: 202 pending answers carry a ``Retry-After``.
    pending: bool = False


@dataclass(frozen=True, slots=True)
class BlockGrant:
    """The request may see order ``order_id``: the service serves its stored blocks when
    ``use_stored`` and there are any; otherwise it fetches the order (202 pending while the
    platform does not know it yet) and, with ``verify``, serves it only when ``verify`` returns
    no denial (e.g. the order must be the logged-in customer's)."""

    order_id: str
    use_stored: bool = True
    verify: Callable[[Order], BlockDenial | None] | None = None


class BlockLookup(Protocol):
    """What an extension may look up while authenticating a block request."""

    def order(self, order_id: str) -> Order | None:
        """The order (fetched through the adapter when not known); ``None``: not found."""
        ...

    def order_key(self, order_id: str) -> str | None:
        """The order key the intake kept from the order's webhook, ``None`` if none yet."""
        ...


_loaded: dict[str, ModuleType | None] = {}


def extension(platform: str) -> Any:
    """The platform's service extension module, ``None`` when it declares none."""
    if platform not in _loaded:
        spec = platforms.find(platform)
        _loaded[platform] = (
            importlib.import_module(spec.service) if spec is not None and spec.service else None
        )
    return _loaded[platform]
