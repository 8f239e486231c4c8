"""aftersale-kit for Shopify: the platform adapter (GraphQL Admin API) and its sandbox.

:class:`ShopifyAdapter` implements :class:`aftersale_kit.core.platform.Platform`; it is found
through the ``aftersale_kit.platforms`` entry point ``shopify``. Importing this package performs
no I/O.
"""

from .adapter import DEFAULT_API_VERSION, ShopifyAdapter
from .graphql_client import RetryPolicy, ThrottleStatus
from .webhooks import sign_body

__all__ = ["DEFAULT_API_VERSION", "RetryPolicy", "ShopifyAdapter", "ThrottleStatus", "sign_body"]
