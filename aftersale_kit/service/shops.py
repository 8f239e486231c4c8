"""The shops a service serves: their config files, resolved secrets and (lazily) adapters.

``--config`` names one shop file or a folder with one ``*.yaml``/``*.yml`` file per shop. A file
named ``service.yaml`` in that folder is not a shop: it holds :class:`ServiceSettings` (for
example ``shopify_api_key``, the app's client id that checkout-extension tokens carry as ``aud``).

Secrets are the environment variables the shop file names (``shop.secrets``); a missing one is a
:class:`ServiceConfigError` naming the variable and the file. Which secret serves what:

* ``code_secret``: the key coupon codes are derived from (required);
* Shopify: ``client_secret`` signs checkout-extension session tokens (default: ``webhook_secret``,
  which is the same app client secret);
* WooCommerce: the thank-you block token key is the ``webhook_secret`` (the companion plugin
  knows it; see :mod:`.blocks`).

Adapters are built on first use through :func:`aftersale_kit.platforms.load_platform`, so a
service for WooCommerce shops never imports the Shopify SDK.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import yaml

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
#: Auth methods of a Shopify app whose client secret also signs its webhooks.
APP_METHODS = ("client_credentials", "oauth")
_SERVICE_KEYS = (
    "shopify_api_key",
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
    #: The Shopify app's client id (API key): the ``aud`` of checkout-extension tokens.
    shopify_api_key: str | None = None
    #: Largest webhook body accepted (413 above).
    max_body_bytes: int = _DEFAULT_MAX_BODY
    #: How long raw webhook bodies and dedupe keys are kept (:mod:`.retention`).
    retention: Retention = field(default_factory=Retention)
    #: How long a webhook body may take to arrive in full (408 after that): a client sending
    #: a byte every few seconds holds a connection no longer than this.
    body_timeout_seconds: float = _DEFAULT_BODY_TIMEOUT


def normalize_domain(platform: str, value: str) -> str:
    """The key a shop is found under: the lower-case host name, without ``www.`` for
    WooCommerce (its ``X-WC-Webhook-Source`` is ``https://host/``)."""
    text = value.strip().lower()
    if platform == "woocommerce":
        host = urlsplit(text if "://" in text else f"//{text}").hostname or ""
        return host.rstrip(".").removeprefix("www.")
    return text


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
        """Key of the thank-you block tokens (see :mod:`.blocks`)."""
        if self.platform == "shopify":
            return self.secrets.get("client_secret") or self.secrets["webhook_secret"]
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

    def get(self, platform: str, domain: str) -> ShopEntry | None:
        return self._shops.get((platform, normalize_domain(platform, domain)))

    def by_domain(self, domain: str) -> ShopEntry | None:
        """The shop with this config domain on any platform (jobs carry the domain only)."""
        for entry in self._shops.values():
            if entry.domain == domain or entry.key == domain:
                return entry
        return None

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
    if "webhook_secret" not in out and config.settings.auth_method in APP_METHODS:
        # A Dev Dashboard app signs its webhooks with its client secret.
        out["webhook_secret"] = out["client_secret"]
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
    if not isinstance(data, dict):
        raise ServiceConfigError(f"{path}: expected a mapping with {', '.join(_SERVICE_KEYS)}")
    unknown = sorted(set(data) - set(_SERVICE_KEYS))
    if unknown:
        raise ServiceConfigError(
            f"{path}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(_SERVICE_KEYS)}"
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
    key = data.get("shopify_api_key")
    return ServiceSettings(
        shopify_api_key=str(key) if key is not None else None,
        max_body_bytes=size,
        retention=_retention(path, data),
        body_timeout_seconds=float(timeout),
    )


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
    if settings.shopify_api_key is None and environ.get("SHOPIFY_API_KEY"):
        settings = dataclasses.replace(settings, shopify_api_key=environ["SHOPIFY_API_KEY"])
    return ShopRegistry(entries, settings=settings, builder=builder)
