"""Platform order JSON -> the neutral :class:`~aftersale_kit.core.model.Order`.

Each platform's reader lives with its adapter and is declared in its
:class:`~aftersale_kit.core.platform_spec.PlatformSpec` (``normalize``); this module finds it by
name through :mod:`aftersale_kit.core.registry`, or recognises the platform from the payload.
The readers are pure functions over decoded JSON: no SDK, no I/O. Fields a payload does not
carry (customer history, product taxonomy) stay ``None`` for the adapters to fill in. Anything
that is not an order, or an order field of the wrong type, raises
:class:`~aftersale_kit.core.errors.PayloadError` naming the field.

>>> order = normalize_order(json.loads(body))                  # doctest: +SKIP
>>> order = normalize_order(body_dict, platform="myplatform", shop="https://shop.example/")
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import registry
from ..errors import PayloadError
from ..model import Order
from .reading import describe

__all__ = ["guess_platform", "normalize_order"]


def guess_platform(payload: Mapping[str, Any]) -> str:
    """The name of the platform whose order ``payload`` is, by what each platform's spec
    recognises (``recognizes``). The REST wrapper ``{"order": {...}}`` is looked into.
    Coupons, price rules and other bodies that are not orders are refused."""
    if not isinstance(payload, Mapping):
        raise PayloadError(f"an order payload must be a JSON object, got {describe(payload)}")
    body = payload
    inner = payload.get("order")
    if "id" not in payload and isinstance(inner, Mapping):
        body = inner
    known = registry.specs()
    for name, spec in known.items():
        if spec.recognizes(body):
            return name
    names = sorted(str(k) for k in body)
    keys = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "") if names else "none"
    titles = " or ".join(spec.title for spec in known.values()) or "any installed platform"
    looked = ", and ".join(
        f"for {spec.title}'s {spec.recognizes_help}"
        for spec in known.values()
        if spec.recognizes_help
    )
    raise PayloadError(
        f"not an order of {titles}: looked {looked or 'for an order'}; found keys: {keys}"
    )


def normalize_order(
    payload: Mapping[str, Any], *, platform: str | None = None, shop: str | None = None
) -> Order:
    """The neutral order from a platform's order payload.

    ``platform`` is guessed with :func:`guess_platform` when ``None``. ``shop`` is passed on to
    the platform's reader (each documents its default).
    """
    name = guess_platform(payload) if platform is None else platform.strip().lower()
    spec = registry.find(name)
    if spec is None:
        raise PayloadError(
            f"unknown platform {platform!r}: expected one of {', '.join(registry.names())}",
            field="platform",
        )
    order: Order = spec.normalize(payload, shop=shop)
    return order
