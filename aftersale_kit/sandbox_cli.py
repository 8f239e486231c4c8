"""``aftersale-kit sandbox shopify|woocommerce [options]``: run a platform sandbox on loopback.

Each platform package brings its own sandbox command; this only picks the platform and names the
extra to install when its package is missing.
"""

from __future__ import annotations

import difflib
import importlib
import sys
from collections.abc import Callable
from typing import cast

__all__ = ["main"]

_TARGETS = {
    "shopify": ("aftersale_kit_shopify.sandbox.cli", "sandbox"),
    "woocommerce": ("aftersale_kit_woocommerce.sandbox.cli", "sandbox"),
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help"}:
        print("usage: aftersale-kit sandbox {shopify,woocommerce} [--port N] [--https] [...]")
        print("  run 'aftersale-kit sandbox shopify --help' for a platform's options")
        return 0 if argv else 2
    platform, rest = argv[0], argv[1:]
    if platform not in _TARGETS:
        close = difflib.get_close_matches(platform, list(_TARGETS), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        print(f"aftersale-kit sandbox: unknown platform {platform!r}{hint}", file=sys.stderr)
        return 2
    module_name, extra = _TARGETS[platform]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        missing = f" ({exc.name})" if exc.name else ""
        print(
            f"aftersale-kit sandbox {platform}: needs an optional dependency{missing}: "
            f"pip install 'aftersale-kit[{extra}]'",
            file=sys.stderr,
        )
        return 1
    run = cast(Callable[[list[str]], int], module.main)
    return run(rest)
