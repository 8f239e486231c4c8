"""Platform adapters found by name through the ``aftersale_kit.platforms`` entry-point group.

The built-in adapters (``shopify``, ``woocommerce``) are declared in this package's metadata;
third-party packages add their own under the same group::

    [project.entry-points."aftersale_kit.platforms"]
    shopware = "aftersale_kit_shopware.adapter:ShopwareAdapter"

Nothing is imported until :func:`load_platform` is called for a name, so a shop that runs on
WooCommerce never needs the Shopify SDK installed. A missing SDK raises
:class:`~aftersale_kit.core.errors.MissingExtraError` with the exact ``pip install`` command.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from importlib.metadata import EntryPoint, entry_points

from .core.errors import AftersaleKitError, MissingExtraError

__all__ = [
    "ENTRY_POINT_GROUP",
    "PlatformLoadError",
    "UnknownPlatformError",
    "available_platforms",
    "load_platform",
]

ENTRY_POINT_GROUP = "aftersale_kit.platforms"

#: The optional-dependency extra that brings each built-in adapter's SDK.
_EXTRAS = {"shopify": "shopify", "woocommerce": "woocommerce"}


class UnknownPlatformError(AftersaleKitError, LookupError):
    """No adapter is registered under the requested name."""

    def __init__(self, name: str, known: Iterable[str]) -> None:
        self.name = name
        self.known = tuple(sorted(known))
        close = difflib.get_close_matches(name.lower(), self.known, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        listed = ", ".join(self.known) or "none"
        super().__init__(f"unknown platform {name!r}{hint}; installed platforms: {listed}")


class PlatformLoadError(AftersaleKitError, ImportError):
    """A third-party adapter is registered but cannot be imported, or is not a class."""


def _registered(source: Iterable[EntryPoint] | None) -> dict[str, EntryPoint]:
    found = entry_points(group=ENTRY_POINT_GROUP) if source is None else source
    return {ep.name: ep for ep in found}


def available_platforms(*, source: Iterable[EntryPoint] | None = None) -> tuple[str, ...]:
    """Names of the registered platforms, sorted. Imports nothing."""
    return tuple(sorted(_registered(source)))


def load_platform(name: str, *, source: Iterable[EntryPoint] | None = None) -> type:
    """The adapter class registered as ``name``, imported now.

    ``source`` replaces the installed entry points (for tests and embedding applications).
    Raises :class:`UnknownPlatformError` for a name nobody registered, :class:`MissingExtraError`
    when a built-in adapter's SDK is not installed, :class:`PlatformLoadError` when a third-party
    adapter cannot be imported.
    """
    registered = _registered(source)
    entry = registered.get(name)
    if entry is None:
        raise UnknownPlatformError(name, registered)
    try:
        loaded = entry.load()
    except ModuleNotFoundError as exc:
        missing = exc.name or str(exc)
        if name in _EXTRAS:
            what = f"the {name} platform (module {missing!r} not found)"
            raise MissingExtraError(what, _EXTRAS[name]) from exc
        dist = entry.dist.name if entry.dist is not None else "the package that registers it"
        raise PlatformLoadError(
            f"platform {name!r} ({entry.value}) cannot be imported: module {missing!r} not "
            f"found; reinstall {dist}"
        ) from exc
    except ImportError as exc:
        raise PlatformLoadError(
            f"platform {name!r} ({entry.value}) cannot be imported: {exc}"
        ) from exc
    except AttributeError as exc:
        raise PlatformLoadError(
            f"platform {name!r} points at {entry.value}, which does not exist"
        ) from exc
    if not isinstance(loaded, type):
        raise PlatformLoadError(f"platform {name!r} points at {entry.value}, which is not a class")
    return loaded
