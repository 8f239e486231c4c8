"""aftersale-kit for WooCommerce: the REST ``wc/v3`` adapter and its sandbox.

:class:`~aftersale_kit_woocommerce.adapter.WooCommerceAdapter` implements the platform port
(:class:`aftersale_kit.core.platform.Platform`); it is found through the ``aftersale_kit.platforms``
entry point ``woocommerce``. Importing this package loads neither the ``woocommerce`` client nor
``requests``: the adapter is imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .adapter import WooCommerceAdapter

__all__ = ["WooCommerceAdapter"]


def __getattr__(name: str) -> Any:
    if name == "WooCommerceAdapter":
        from .adapter import WooCommerceAdapter

        return WooCommerceAdapter
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
