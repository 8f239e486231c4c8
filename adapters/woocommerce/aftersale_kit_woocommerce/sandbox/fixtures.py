"""For the pytest plugin: a started sandbox for the duration of a ``with`` block."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .server import WooCommerceSandbox

__all__ = ["running_sandbox"]


@contextmanager
def running_sandbox(**options: Any) -> Iterator[WooCommerceSandbox]:
    """``WooCommerceSandbox(**options)``, started; stopped (threads joined) on exit."""
    sandbox = WooCommerceSandbox(**options)
    sandbox.start()
    try:
        yield sandbox
    finally:
        sandbox.stop()
