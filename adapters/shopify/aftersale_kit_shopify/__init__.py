"""aftersale-kit for Shopify: the platform adapter (GraphQL Admin API) and its sandbox.

:class:`ShopifyAdapter` implements :class:`aftersale_kit.core.platform.Platform`; the platform
is declared by :data:`aftersale_kit_shopify.spec.SPEC`, found through the
``aftersale_kit.platforms`` entry point ``shopify``. Importing this package performs no I/O and
loads no SDK: the adapter and its client are imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .adapter import DEFAULT_API_VERSION, ShopifyAdapter
    from .graphql_client import RetryPolicy, ThrottleStatus
    from .webhooks import sign_body

__all__ = ["DEFAULT_API_VERSION", "RetryPolicy", "ShopifyAdapter", "ThrottleStatus", "sign_body"]

_LAZY = {
    "DEFAULT_API_VERSION": ".adapter",
    "ShopifyAdapter": ".adapter",
    "RetryPolicy": ".graphql_client",
    "ThrottleStatus": ".graphql_client",
    "sign_body": ".webhooks",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module, __name__), name)
