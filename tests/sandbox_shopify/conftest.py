"""Fixtures for the Shopify sandbox tests: a running sandbox, a real webhook receiver, and
ShopifyAPI pointed at the sandbox."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import shopify
from aftersale_kit_shopify.sandbox import ShopifySandbox, activate, running_sandbox
from shopify_receiver import Receiver

from aftersale_kit.testing.httpserver import SandboxHTTPServer

#: 4 hours of Shopify retries become about 1.4 s.
FAST = 1e-4


@pytest.fixture
def sandbox() -> Iterator[ShopifySandbox]:
    with running_sandbox(secret="sandbox-client-secret-for-the-tests", time_scale=FAST) as running:
        yield running


@pytest.fixture
def receiver(sandbox: ShopifySandbox) -> Iterator[Receiver]:
    endpoint = Receiver(secret=sandbox.secret)
    with SandboxHTTPServer(endpoint) as server:
        endpoint.server = server
        yield endpoint


@pytest.fixture
def gql(sandbox: ShopifySandbox) -> Iterator[Callable[..., dict[str, Any]]]:
    """``gql(query, **variables)`` through ``shopify.GraphQL().execute``, parsed."""
    with activate(sandbox):
        client = shopify.GraphQL()

        def run(document: str, /, **variables: Any) -> dict[str, Any]:
            result: dict[str, Any] = json.loads(
                client.execute(document, variables=variables or None)
            )
            return result

        yield run
