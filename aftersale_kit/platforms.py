"""Platform adapters found by name through the ``aftersale_kit.platforms`` entry-point group.

Each entry point names a :class:`~aftersale_kit.core.platform_spec.PlatformSpec` (what the product
needs to know about the platform without its SDK); the spec names the adapter class, which is
imported by :func:`load_platform`. The built-in adapters (``shopify``, ``woocommerce``) are
declared in this package's metadata; third-party packages add their own under the same group::

    [project.entry-points."aftersale_kit.platforms"]
    shopware = "aftersale_kit_shopware.spec:SPEC"

or, in code, with :func:`aftersale_kit.core.registry.register`. Nothing is imported until it is
asked for, so a shop that runs on WooCommerce never needs the Shopify SDK installed. A missing
SDK raises :class:`~aftersale_kit.core.errors.MissingExtraError` with the exact ``pip install``
command. (An entry point naming an adapter class directly, as before specs, still loads.)
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from importlib.metadata import EntryPoint, entry_points

from .core import registry
from .core.errors import MissingExtraError
from .core.platform_spec import PlatformSpec
from .core.registry import ENTRY_POINT_GROUP, PlatformLoadError, UnknownPlatformError

__all__ = [
    "ENTRY_POINT_GROUP",
    "PlatformLoadError",
    "UnknownPlatformError",
    "available_platforms",
    "load_platform",
]

#: The optional-dependency extra of each built-in platform, for an entry point that cannot
#: be imported at all (a spec names its own extra).
_EXTRAS = {"shopify": "shopify", "woocommerce": "woocommerce"}


def _registered(source: Iterable[EntryPoint] | None) -> dict[str, EntryPoint]:
    found = entry_points(group=ENTRY_POINT_GROUP) if source is None else source
    return {ep.name: ep for ep in found}


def available_platforms(*, source: Iterable[EntryPoint] | None = None) -> tuple[str, ...]:
    """Names of the registered platforms, sorted. Imports nothing."""
    names = set(_registered(source))
    if source is None:
        names |= set(registry.registered_in_code())
    return tuple(sorted(names))


def _missing(
    name: str, exc: ModuleNotFoundError, value: str, extra: str | None, dist: str
) -> Exception:
    missing = exc.name or str(exc)
    if extra is not None:
        return MissingExtraError(f"the {name} platform (module {missing!r} not found)", extra)
    return PlatformLoadError(
        f"platform {name!r} ({value}) cannot be imported: module {missing!r} not found; "
        f"reinstall {dist}"
    )


def _import(name: str, value: str, *, extra: str | None, dist: str) -> object:
    module, _, attr = value.partition(":")
    try:
        loaded: object = importlib.import_module(module)
        for part in attr.split(".") if attr else ():
            loaded = getattr(loaded, part)
    except ModuleNotFoundError as exc:
        raise _missing(name, exc, value, extra, dist) from exc
    except ImportError as exc:
        raise PlatformLoadError(f"platform {name!r} ({value}) cannot be imported: {exc}") from exc
    except AttributeError as exc:
        raise PlatformLoadError(
            f"platform {name!r} points at {value}, which does not exist"
        ) from exc
    return loaded


def load_platform(name: str, *, source: Iterable[EntryPoint] | None = None) -> type:
    """The adapter class of platform ``name``, imported now.

    ``source`` replaces the installed entry points (for tests and embedding applications);
    without it, platforms registered in code count too. Raises :class:`UnknownPlatformError`
    for a name nobody registered, :class:`MissingExtraError` when a built-in adapter's SDK is
    not installed, :class:`PlatformLoadError` when a third-party adapter cannot be imported.
    """
    registered = _registered(source)
    entry = registered.get(name)
    if entry is None:
        spec = registry.find(name) if source is None else None
        if spec is None:
            known = set(registered) | (set(registry.names()) if source is None else set())
            raise UnknownPlatformError(name, known)
        loaded: object = spec
    else:
        dist = entry.dist.name if entry.dist is not None else "the package that registers it"
        loaded = _import(name, entry.value, extra=_EXTRAS.get(name), dist=dist)
    if isinstance(loaded, PlatformSpec):
        loaded = _import(
            name, loaded.adapter, extra=loaded.extra, dist="the package that registers it"
        )
    if not isinstance(loaded, type):
        value = entry.value if entry is not None else name
        raise PlatformLoadError(f"platform {name!r} points at {value}, which is not a class")
    return loaded
