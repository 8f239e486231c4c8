"""aftersale-kit: the after-sales engine for online shops.

"Nach dem Kauf ist vor dem Kauf": campaigns written by shop owners decide, per order, which
coupon, confirmation content or gift follows a purchase, within budgets, margin guards and
contact limits. The pure decision core lives in :mod:`aftersale_kit.core`; platform adapters
(Shopify, WooCommerce) are found through the ``aftersale_kit.platforms`` entry points.

The public API, for deciding on orders from Python (as ``aftersale-kit evaluate`` does)::

    from aftersale_kit import EventKind, InMemoryCounters, decide, load_config, normalize_order

    config = load_config("shop.yaml")                    # every check, ConfigError with positions
    order = normalize_order(payload, shop=config.settings.domain)  # raw Shopify/WooCommerce JSON
    order = load_enrichment(order, "enrichment.json")    # what the adapter would fetch
    decision = decide(config, order, event=EventKind.ORDER_PAID, counters=InMemoryCounters(),
                      now=order.paid_at, code_secret=b"...")

:func:`evaluate_payload` does all of that in one call with the defaults of the command line.

Importing this package performs no I/O and imports none of these until one is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .core.counters import InMemoryCounters
    from .core.decision import Decision
    from .core.engine import decide
    from .core.errors import AftersaleKitError, ConfigError, PayloadError
    from .core.model import EventKind, Order
    from .core.normalize import normalize_order
    from .evaluation import (
        EvaluationError,
        apply_enrichment,
        default_event,
        evaluate_payload,
        load_enrichment,
        read_json_file,
    )
    from .evaluation import load_shop_config as load_config

__all__ = [
    "AftersaleKitError",
    "ConfigError",
    "Decision",
    "EvaluationError",
    "EventKind",
    "InMemoryCounters",
    "Order",
    "PayloadError",
    "__version__",
    "apply_enrichment",
    "decide",
    "default_event",
    "evaluate_payload",
    "load_config",
    "load_enrichment",
    "normalize_order",
    "read_json_file",
]

#: public name -> (module, attribute there), imported on first access (PEP 562).
_LAZY: dict[str, tuple[str, str]] = {
    "AftersaleKitError": (".core.errors", "AftersaleKitError"),
    "ConfigError": (".core.errors", "ConfigError"),
    "PayloadError": (".core.errors", "PayloadError"),
    "Decision": (".core.decision", "Decision"),
    "EventKind": (".core.model", "EventKind"),
    "Order": (".core.model", "Order"),
    "InMemoryCounters": (".core.counters", "InMemoryCounters"),
    "decide": (".core.engine", "decide"),
    "normalize_order": (".core.normalize", "normalize_order"),
    "load_config": (".evaluation", "load_shop_config"),
    "EvaluationError": (".evaluation", "EvaluationError"),
    "apply_enrichment": (".evaluation", "apply_enrichment"),
    "default_event": (".evaluation", "default_event"),
    "evaluate_payload": (".evaluation", "evaluate_payload"),
    "load_enrichment": (".evaluation", "load_enrichment"),
    "read_json_file": (".evaluation", "read_json_file"),
}


def __getattr__(name: str) -> object:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(target[0], __name__), target[1])
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
