"""The platforms this installation knows, by name: their :class:`~.platform_spec.PlatformSpec`.

Specs come from the ``aftersale_kit.platforms`` entry points (each names a spec object,
``myplatform = "aftersale_kit_myplatform.spec:SPEC"``), read on first use, and from
:func:`register`, for an application or a test that defines a platform in code::

    from aftersale_kit.core.registry import register
    register(MY_PLATFORM_SPEC)

The config loader, the schema, the order reader and the service ask this module; none of them
names a platform. Importing it reads nothing; the entry points are read on the first question.
A spec module imports no SDK (the adapter is named by import path), so reading the specs is
cheap and works without the platforms' extras installed.
"""

from __future__ import annotations

import difflib
import threading
from collections.abc import Iterable, Mapping
from importlib.metadata import EntryPoint, entry_points
from types import MappingProxyType

from .errors import AftersaleKitError
from .platform_spec import PlatformSpec

__all__ = [
    "ENTRY_POINT_GROUP",
    "PlatformLoadError",
    "UnknownPlatformError",
    "find",
    "generation",
    "names",
    "register",
    "registered_in_code",
    "spec_of",
    "specs",
    "unregister",
]

ENTRY_POINT_GROUP = "aftersale_kit.platforms"


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
    """A platform is registered but its spec or adapter cannot be imported."""


_lock = threading.Lock()
_registered: dict[str, PlatformSpec] = {}
_from_entry_points: dict[str, PlatformSpec] | None = None
_broken: dict[str, PlatformLoadError] = {}
_generation = 0
#: The merged, sorted view :func:`specs` answers with; rebuilt after :func:`register` and
#: :func:`unregister` (the intake and the block endpoint ask on every request).
_merged: Mapping[str, PlatformSpec] | None = None


def _load_entry(entry: EntryPoint) -> PlatformSpec | None:
    """The spec an entry point names; ``None`` for an entry naming an adapter class (a
    third-party adapter from before specs: it can be loaded, but no config can name it)."""
    try:
        loaded = entry.load()
    except (ImportError, AttributeError) as exc:
        raise PlatformLoadError(
            f"platform {entry.name!r} ({entry.value}) cannot be imported: {exc}"
        ) from exc
    if isinstance(loaded, PlatformSpec):
        if loaded.name != entry.name:
            raise PlatformLoadError(
                f"platform {entry.name!r} ({entry.value}) declares itself as {loaded.name!r}"
            )
        return loaded
    return None


def _entry_point_specs() -> dict[str, PlatformSpec]:
    global _from_entry_points
    if _from_entry_points is None:
        found: dict[str, PlatformSpec] = {}
        for entry in entry_points(group=ENTRY_POINT_GROUP):
            try:
                spec = _load_entry(entry)
            except PlatformLoadError as exc:
                _broken[entry.name] = exc
                continue
            if spec is not None:
                found[entry.name] = spec
        _from_entry_points = found
    return _from_entry_points


def specs() -> Mapping[str, PlatformSpec]:
    """Every known platform's spec by name (registered in code over entry points)."""
    global _merged
    merged = _merged
    if merged is None:
        with _lock:
            both = {**_entry_point_specs(), **_registered}
            merged = _merged = MappingProxyType(dict(sorted(both.items())))
    return merged


def names() -> tuple[str, ...]:
    """The known platform names, sorted."""
    return tuple(specs())


def find(name: str) -> PlatformSpec | None:
    """The spec of ``name``, ``None`` when no platform has that name."""
    return specs().get(name)


def spec_of(name: str) -> PlatformSpec:
    """The spec of ``name``; :class:`UnknownPlatformError` (with the closest name) if none,
    :class:`PlatformLoadError` when it is installed but cannot be imported."""
    known = specs()
    spec = known.get(name)
    if spec is not None:
        return spec
    broken = _broken.get(name)
    if broken is not None:
        raise broken
    raise UnknownPlatformError(name, known)


def register(spec: PlatformSpec) -> None:
    """Add or replace a platform defined in code (for embedding applications and tests)."""
    global _generation
    global _merged
    with _lock:
        _registered[spec.name] = spec
        _generation += 1
        _merged = None


def unregister(name: str) -> None:
    """Forget a platform added with :func:`register` (entry points stay)."""
    global _generation
    global _merged
    with _lock:
        _registered.pop(name, None)
        _generation += 1
        _merged = None


def registered_in_code() -> tuple[str, ...]:
    """The names added with :func:`register` (reads no entry point, imports nothing)."""
    with _lock:
        return tuple(sorted(_registered))


def generation() -> int:
    """A number that changes whenever :func:`register` or :func:`unregister` ran (for caches
    of things derived from the specs, such as the JSON Schema)."""
    return _generation
