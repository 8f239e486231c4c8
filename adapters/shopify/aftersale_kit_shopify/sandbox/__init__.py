"""A local Shopify for tests: GraphQL Admin API, signed webhooks, faults, a control API.

Shipped inside the library (like moto for AWS or stripe-mock for Stripe) so that users' own tests
can run their Shopify integration against it::

    from aftersale_kit_shopify.sandbox import ShopifySandbox, activate
    import shopify

    with ShopifySandbox() as sandbox, activate(sandbox):
        print(shopify.GraphQL().execute("{ shop { name } }"))

Nothing is started or read at import time.
"""

from __future__ import annotations

try:
    import graphql as _graphql  # noqa: F401 - the sandbox's GraphQL engine (the sandbox extra)
except ImportError as _exc:  # pragma: no cover - depends on the installation
    from aftersale_kit.core.errors import MissingExtraError

    raise MissingExtraError("running the Shopify sandbox", "sandbox") from _exc

from .app import DEFAULT_API_VERSION, ShopifySandbox
from .client import activate, point_session_at, trusting_opener
from .fixtures import running_sandbox
from .util import SandboxError
from .webhooks import RETRY_SCHEDULE, sign

__all__ = [
    "DEFAULT_API_VERSION",
    "RETRY_SCHEDULE",
    "SandboxError",
    "ShopifySandbox",
    "activate",
    "point_session_at",
    "running_sandbox",
    "sign",
    "trusting_opener",
]
