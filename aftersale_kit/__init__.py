"""aftersale-kit: the after-sales engine for online shops.

"Nach dem Kauf ist vor dem Kauf": campaigns written by shop owners decide, per order, which
coupon, confirmation content or gift follows a purchase, within budgets, margin guards and
contact limits. The pure decision core lives in :mod:`aftersale_kit.core`; platform adapters
(Shopify, WooCommerce) are found through the ``aftersale_kit.platforms`` entry points.

Importing this package performs no I/O.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
