"""pytest plugin (entry point ``pytest11``): fixtures that start the platform sandboxes.

Loaded by pytest automatically once aftersale-kit is installed. It imports nothing heavy until a
fixture is used, so it costs nothing in test suites that do not use it.

Fixtures (function scope; each test gets a fresh, started sandbox that is stopped afterwards):

``shopify_sandbox``
    a :class:`aftersale_kit_shopify.sandbox.ShopifySandbox` over plain HTTP
    (needs ``pip install 'aftersale-kit[sandbox]'``; ``[shopify]`` too to drive it with ShopifyAPI).
``woocommerce_sandbox``
    a :class:`aftersale_kit_woocommerce.sandbox.WooCommerceSandbox` over plain HTTP, OAuth 1.0a
    (the official client for it comes with ``pip install 'aftersale-kit[woocommerce]'``).

Options can be passed through indirect parametrisation, e.g.
``@pytest.mark.parametrize("shopify_sandbox", [{"https": True}], indirect=True)``.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import pytest

from aftersale_kit.core.errors import MissingExtraError


def _options(request: pytest.FixtureRequest) -> dict[str, Any]:
    param = getattr(request, "param", None)
    return dict(param) if isinstance(param, dict) else {}


def _running(request: pytest.FixtureRequest, platform: str) -> Iterator[Any]:
    """Start ``aftersale_kit_<platform>``'s sandbox with the test's options; stop it after."""
    try:
        fixtures = importlib.import_module(f"aftersale_kit_{platform}.sandbox.fixtures")
    except ImportError as exc:
        raise MissingExtraError(f"the {platform}_sandbox fixture", "sandbox") from exc
    with fixtures.running_sandbox(**_options(request)) as sandbox:
        yield sandbox


@pytest.fixture
def shopify_sandbox(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A started Shopify sandbox (GraphQL Admin API, signed webhooks, faults, control API)."""
    yield from _running(request, "shopify")


@pytest.fixture
def woocommerce_sandbox(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A started WooCommerce sandbox (REST wc/v3, signed webhooks, faults, control API)."""
    yield from _running(request, "woocommerce")
