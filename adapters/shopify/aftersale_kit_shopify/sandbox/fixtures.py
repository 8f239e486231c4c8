"""A context manager that runs a sandbox for a test (used by the pytest plugin)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aftersale_kit.testing.tls import make_test_certificate

from .app import ShopifySandbox

__all__ = ["running_sandbox"]


@contextmanager
def running_sandbox(*, https: bool = False, **options: Any) -> Iterator[ShopifySandbox]:
    """Start a :class:`ShopifySandbox` with ``options``; stop it afterwards.

    ``https=True`` serves HTTPS with a throw-away CA; its file is ``sandbox.ca_file`` (and
    ``client.activate(sandbox)`` trusts it by itself).
    """
    with tempfile.TemporaryDirectory(prefix="shopify-sandbox-") as folder:
        if https and "tls" not in options:
            cert = make_test_certificate(Path(folder))
            options["tls"] = cert.server_context
            options.setdefault("ca_file", cert.ca_file)
        sandbox = ShopifySandbox(**options)
        sandbox.start()
        try:
            yield sandbox
        finally:
            sandbox.stop()
