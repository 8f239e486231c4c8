"""The shops a service serves: their config files, resolved secrets and (lazily) adapters.

``--config`` names one shop file or a folder with one ``*.yaml``/``*.yml`` file per shop. A file
named ``service.yaml`` in that folder is not a shop: it holds :class:`ServiceSettings`, among
them the service-wide options each platform declares
(:attr:`~aftersale_kit.core.platform_spec.PlatformSpec.service_options`, e.g. the app's client id
that checkout-extension tokens carry), each also readable from its environment variable.

Secrets are the environment variables the shop file names (``shop.secrets``); a missing one is a
:class:`ServiceConfigError` naming the variable and the file. ``code_secret`` is the key coupon
codes are derived from (required); the key of thank-you block tokens is the first of the
platform's :attr:`~aftersale_kit.core.platform_spec.PlatformSpec.block_secrets` that is set.

Adapters are built on first use through :func:`aftersale_kit.platforms.load_platform`, so a
service for one platform's shops never imports another platform's SDK.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from ..core import registry as platforms
from ..core.campaign import ShopConfig
from ..core.errors import AftersaleKitError, ConfigError
from ..core.platform import Platform
from .retention import Retention, retention_from

if TYPE_CHECKING:
    from ..content import ContentRenderer

__all__ = [
    "SERVICE_FILE",
    "ServiceConfigError",
    "ServiceSettings",
    "ShopEntry",
    "ShopRegistry",
    "load_shops",
    "normalize_domain",
]

SERVICE_FILE = "service.yaml"
_SERVICE_KEYS = (
    "max_body_bytes",
    "raw_body_retention_days",
    "dedupe_key_retention_days",
    "prune_interval_minutes",
    "body_timeout_seconds",
)
_DEFAULT_MAX_BODY = 1024 * 1024
_DEFAULT_BODY_TIMEOUT = 10.0


class ServiceConfigError(AftersaleKitError):
    """The service cannot start with this configuration (names the file or variable to fix)."""


@dataclass(frozen=True, slots=True)
class ServiceSettings:
    #: The platforms' service-wide options by ``service.yaml`` key (e.g. an app's client id).
    platform_options: Mapping[str, str] = field(default_factory=dict)
    #: Largest webhook body accepted (413 above).
    max_body_bytes: int = _DEFAULT_MAX_BODY
    #: How long raw webhook bodies and dedupe keys are kept (:mod:`.retention`).
    retention: Retention = field(default_factory=Retention)
    #: How long a webhook body may take to arrive in full (408 after that): a client sending
    #: a byte every few seconds holds a connection no longer than this.
    body_timeout_seconds: float = _DEFAULT_BODY_TIMEOUT

    def option(self, key: str) -> str | None:
        """A platform's service-wide option, ``None`` when not set."""
        return self.platform_options.get(key)


def normalize_domain(platform: str, value: str) -> str:
    """The key a shop is found under: what the platform's spec makes of a domain
    (:attr:`~aftersale_kit.core.platform_spec.PlatformSpec.shop_key`); the lower-case text for
    a platform nobody registered."""
    spec = platforms.find(platform)
    return spec.shop_key(value) if spec is not None else value.strip().lower()


AdapterBuilder = Callable[["ShopEntry"], Platform]


@dataclass(eq=False)
class ShopEntry:
    """One shop: its validated config, resolved secrets and lazily built adapter/renderer."""

    config: ShopConfig
    secrets: Mapping[str, str] = field(repr=False)
    builder: AdapterBuilder | None = field(default=None, repr=False)
    #: The encrypted credential store, for shops whose tokens or keys are stored
    #: (:func:`aftersale_kit.service.connect.attach_credentials`).
    credentials: Any = field(default=None, repr=False)
    _adapter: Platform | None = field(default=None, repr=False)
    _renderer: ContentRenderer | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def platform(self) -> str:
        return self.config.settings.platform

    @property
    def domain(self) -> str:
        return self.config.settings.domain

    @property
    def key(self) -> str:
        return normalize_domain(self.platform, self.domain)

    @property
    def code_secret(self) -> bytes:
        return self.secrets["code_secret"].encode()

    @property
    def token_secret(self) -> str:
        """Key of the thank-you block tokens (see :mod:`.blocks`): the first of the platform's
        ``block_secrets`` that is set."""
        spec = platforms.find(self.platform)
        for name in spec.block_secrets if spec is not None else ():
            if self.secrets.get(name):
                return self.secrets[name]
        return self.secrets["webhook_secret"]

    @property
    def adapter(self) -> Platform:
        with self._lock:
            if self._adapter is None:
                self._adapter = (self.builder or default_builder())(self)
            return self._adapter

    def forget_adapter(self) -> None:
        """Build the adapter anew on next use (its credentials changed)."""
        with self._lock:
            self._adapter = None

    @property
    def renderer(self) -> ContentRenderer:
        with self._lock:
            if self._renderer is None:
                from ..content import ContentRenderer

                self._renderer = ContentRenderer.for_config(self.config)
            return self._renderer


def default_builder(options: Mapping[str, Any] | None = None) -> AdapterBuilder:
    """Build adapters through the platform registry; ``options`` go to ``from_settings``."""
    extra = dict(options or {})

    def build(entry: ShopEntry) -> Platform:
        from ..platforms import load_platform

        cls: Any = load_platform(entry.platform)
        stored = {"credentials": entry.credentials} if entry.credentials is not None else {}
        adapter: Platform = cls.from_settings(
            entry.config.settings, secrets=entry.secrets, **stored, **extra
        )
        return adapter

    return build


class ShopRegistry:
    """The shops by platform and domain."""

    def __init__(
        self,
        shops: Iterable[ShopEntry],
        *,
        settings: ServiceSettings | None = None,
        builder: AdapterBuilder | None = None,
    ) -> None:
        self.settings = settings or ServiceSettings()
        self._shops: dict[tuple[str, str], ShopEntry] = {}
        for entry in shops:
            if builder is not None and entry.builder is None:
                entry.builder = builder
            key = (entry.platform, entry.key)
            if key in self._shops:
                raise ServiceConfigError(
                    f"{entry.config.source}: shop {entry.domain} ({entry.platform}) is already "
                    f"configured in {self._shops[key].config.source}; keep one file per shop"
                )
            self._shops[key] = entry
        # by_domain's answers: the first shop whose domain or normalised key it is
        self._by_domain: dict[str, ShopEntry] = {}
        for entry in self._shops.values():
            self._by_domain.setdefault(entry.domain, entry)
            self._by_domain.setdefault(entry.key, entry)

    def get(self, platform: str, domain: str) -> ShopEntry | None:
        return self._shops.get((platform, normalize_domain(platform, domain)))

    def by_domain(self, domain: str) -> ShopEntry | None:
        """The shop with this config domain on any platform (jobs carry the domain only); a
        lookup, not a walk over every shop (the mail sweep asks once per message)."""
        return self._by_domain.get(domain)

    def __iter__(self) -> Iterator[ShopEntry]:
        return iter(self._shops.values())

    def __len__(self) -> int:
        return len(self._shops)


def _resolve_secrets(config: ShopConfig, env: Mapping[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    auth = config.settings.auth
    for ref in (*config.settings.secrets, *(auth.refs if auth is not None else ())):
        value = env.get(ref.env, "")
        if not value:
            section = "auth" if auth is not None and ref in auth.refs else "secrets"
            raise ServiceConfigError(
                f"{config.source}: shop.{section}.{ref.name}: environment variable {ref.env} is "
                f"not set (export {ref.env}=... before starting the service)"
            )
        out[ref.name] = value
    if "code_secret" not in out:
        raise ServiceConfigError(
            f"{config.source}: shop.secrets.code_secret is missing: name the environment variable "
            "that holds the key coupon codes are made from, e.g. code_secret: "
            "AFTERSALE_CODE_SECRET"
        )
    spec = platforms.find(config.settings.platform)
    method = spec.auth_method(config.settings.auth_method) if spec is not None else None
    if "webhook_secret" not in out and method is not None and method.webhook_secret_from:
        # An app whose client secret signs its webhooks.
        out["webhook_secret"] = out[method.webhook_secret_from]
    if "webhook_secret" not in out:
        raise ServiceConfigError(
            f"{config.source}: shop.secrets.webhook_secret is missing: the service cannot verify "
            "this shop's webhooks without it"
        )
    return out


def _load_service_file(path: Path) -> ServiceSettings:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ServiceConfigError(f"{path}: cannot read the service settings: {exc}") from None
    options = _platform_options()
    known = (*options, *_SERVICE_KEYS)
    if not isinstance(data, dict):
        raise ServiceConfigError(f"{path}: expected a mapping with {', '.join(known)}")
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ServiceConfigError(
            f"{path}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(known)}"
        )
    size = data.get("max_body_bytes", _DEFAULT_MAX_BODY)
    if not isinstance(size, int) or size < 1024:
        raise ServiceConfigError(f"{path}: max_body_bytes must be an integer >= 1024, got {size!r}")
    timeout = data.get("body_timeout_seconds", _DEFAULT_BODY_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= 300:
        raise ServiceConfigError(
            f"{path}: body_timeout_seconds must be a number of seconds above 0 and at most 300, "
            f"got {timeout!r}"
        )
    return ServiceSettings(
        platform_options={k: str(data[k]) for k in options if data.get(k) is not None},
        max_body_bytes=size,
        retention=_retention(path, data),
        body_timeout_seconds=float(timeout),
    )


def _platform_options() -> dict[str, str]:
    """``service.yaml`` key -> environment variable, over all platforms."""
    return {
        k: env for spec in platforms.specs().values() for k, env in spec.service_options.items()
    }


def _options_from_env(settings: ServiceSettings, environ: Mapping[str, str]) -> ServiceSettings:
    merged = dict(settings.platform_options)
    for key, env in _platform_options().items():
        if key not in merged and environ.get(env):
            merged[key] = environ[env]
    return dataclasses.replace(settings, platform_options=merged)


def _retention(path: Path, data: Mapping[str, Any]) -> Retention:
    try:
        return retention_from(path, data)
    except ValueError as exc:
        raise ServiceConfigError(str(exc)) from None


def load_shops(
    path: str | os.PathLike[str],
    *,
    env: Mapping[str, str] | None = None,
    builder: AdapterBuilder | None = None,
) -> ShopRegistry:
    """Load one shop file or a folder of them (plus an optional ``service.yaml``).

    Raises :class:`~aftersale_kit.core.errors.ConfigError` (every mistake of a shop file) or
    :class:`ServiceConfigError` (missing variable, duplicate shop, empty folder).
    """
    from ..evaluation import load_shop_config

    environ = os.environ if env is None else env
    root = Path(path)
    settings = ServiceSettings()
    if root.is_dir():
        files = sorted(
            p for p in root.iterdir() if p.suffix in (".yaml", ".yml") and p.name != SERVICE_FILE
        )
        if (root / SERVICE_FILE).is_file():
            settings = _load_service_file(root / SERVICE_FILE)
        if not files:
            raise ServiceConfigError(f"{root}: no shop files (*.yaml) in this folder")
    elif root.is_file():
        files = [root]
    else:
        raise ServiceConfigError(f"{root}: no such file or folder")
    problems = []
    entries = []
    for file in files:
        try:
            config = load_shop_config(file)
        except ConfigError as exc:
            problems.extend(exc.problems)
            continue
        entries.append(ShopEntry(config=config, secrets=_resolve_secrets(config, environ)))
    if problems:
        raise ConfigError(problems)
    settings = _options_from_env(settings, environ)
    return ShopRegistry(entries, settings=settings, builder=builder)
