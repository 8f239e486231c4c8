"""What a platform adapter declares about itself, so that nothing above it names a platform.

A :class:`PlatformSpec` is a plain value an adapter package exports (and registers through the
``aftersale_kit.platforms`` entry points, or :func:`aftersale_kit.core.registry.register`). The
config loader, the JSON Schema, the field check, the order reader and the service read a
platform's rules from it: its name, the secrets and auth methods it knows, its shop-domain and
API-version rules, the condition fields and triggers it can supply, how its order JSON becomes
the neutral :class:`~.model.Order`, how a webhook names its shop and topic, and where its adapter
and its service extension (block-request auth, install routes) live. Importing a spec loads no
SDK: the adapter class and the service extension are named by import path and loaded on use.

Pure: standard library only, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .model import EventKind, Order

__all__ = [
    "AuthMethod",
    "HeaderReader",
    "PlatformSpec",
    "WebhookHeaders",
    "any_host",
]

_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[0-9]+)?$")


def any_host(domain: str) -> str | None:
    """The default domain rule: any host name (``None``: fine; else what is wrong)."""
    return None if _HOST.match(domain) else "expected a host name"


def any_version(version: str) -> str | None:
    """The default API-version rule: anything non-empty."""
    return None if version.strip() else "expected an API version"


@dataclass(frozen=True, slots=True)
class AuthMethod:
    """One ``shop.auth.method``: its name, the environment-variable entries it reads (by the
    secret names the adapter knows them under) and what it is, for help texts."""

    name: str
    reads: tuple[str, ...]
    help: str
    #: The entry whose value also signs webhooks when ``webhook_secret`` is not given (an app
    #: whose client secret signs them); ``None``: ``webhook_secret`` is required.
    webhook_secret_from: str | None = None
    #: The credentials live in the service's encrypted credential store (fetched, installed
    #: or approved), not in the environment.
    stored: bool = False
    #: Other names shop owners write for this method (suggested in messages).
    synonyms: tuple[str, ...] = ()


#: Reads one header of a delivery (names in lower case); ``""`` when absent.
HeaderReader = Callable[[Mapping[str, str]], str]


@dataclass(frozen=True, slots=True)
class WebhookHeaders:
    """How the intake reads a delivery before any adapter is built: which configured shop it
    names, its topic, which headers are kept with the stored delivery, and whether it is an
    unsigned handshake to answer 200 and store nowhere."""

    shop: HeaderReader
    topic: HeaderReader
    #: Lower-case prefixes of the headers kept with a stored delivery (no signatures).
    kept_prefixes: tuple[str, ...] = ()
    #: ``(headers, body) -> True`` for a handshake ping (not a webhook to verify).
    is_handshake: Callable[[Mapping[str, str], bytes], bool] = field(
        default=lambda _h, _b: False, repr=False
    )


@dataclass(frozen=True, slots=True)
class PlatformSpec:
    """Everything the product needs to know about a platform without its SDK."""

    #: The name a shop file writes as ``shop.platform``; lower case.
    name: str
    #: How people write it, for messages ("My Platform").
    title: str
    #: ``secret name -> what it is``: the names ``shop.secrets`` may use.
    secrets: Mapping[str, str]
    #: The ``shop.auth.method`` values; the first is what a shop without ``auth:`` uses.
    auth_methods: tuple[AuthMethod, ...]
    #: Condition fields the platform can supply for its orders (incl. by enrichment).
    fields: frozenset[str]
    #: Order triggers its webhooks deliver.
    triggers: frozenset[EventKind]
    #: Reads the platform's order JSON (``(payload, *, shop) -> Order``; raises PayloadError).
    normalize: Callable[..., Order]
    #: ``module:Class`` of the adapter (imported on first use).
    adapter: str
    #: How the intake reads this platform's deliveries.
    webhook: WebhookHeaders
    #: The optional-dependency extra that brings the adapter's SDK (``None``: no extra).
    extra: str | None = None
    #: ``secret or auth entry -> an example environment variable name`` for messages.
    env_examples: Mapping[str, str] = field(default_factory=dict)
    #: What ``shop.domain`` is on this platform, for help texts.
    domain_help: str = "the host name of the shop"
    #: ``domain -> None`` when acceptable, else what is wrong (with an example).
    check_domain: Callable[[str], str | None] = any_host
    #: What ``shop.api_version`` is on this platform, for help texts.
    api_version_help: str = "the platform's API version"
    #: ``version -> None`` when acceptable, else what is wrong.
    check_api_version: Callable[[str], str | None] = any_version
    #: For a trigger the platform never delivers: ``(what to write instead, why)``.
    trigger_notes: Mapping[EventKind, tuple[EventKind, str]] = field(default_factory=dict)
    #: ``payload -> True`` when an order JSON is recognisably this platform's.
    recognizes: Callable[[Mapping[str, Any]], bool] = field(default=lambda _p: False, repr=False)
    #: What :attr:`recognizes` looks for, for the message when no platform recognises a body.
    recognizes_help: str = ""
    #: A block request's order id as written by the page -> the plain id (``None``: not one).
    order_id: Callable[[str], str | None] = field(
        default=lambda raw: raw if raw.isdigit() else None, repr=False
    )
    #: The shop key deliveries and requests carry for a configured ``shop.domain``.
    shop_key: Callable[[str], str] = field(default=lambda domain: domain.lower(), repr=False)
    #: ``module`` of the service extension (block-request auth, extra routes); ``None``: none.
    service: str | None = None
    #: Secret prefixes that give a value away as a credential rather than a variable name.
    secret_prefixes: tuple[str, ...] = ()
    #: The secrets that key thank-you block tokens, the first one set wins.
    block_secrets: tuple[str, ...] = ("webhook_secret",)
    #: Service-wide settings of this platform: ``service.yaml`` key -> environment variable.
    service_options: Mapping[str, str] = field(default_factory=dict)
    #: A sentence ``shops register-webhooks`` adds for this platform (e.g. what it cannot do).
    register_note: str = ""

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9_]*", self.name):
            raise ValueError(f"a platform name is lower case letters, digits and _: {self.name!r}")
        if not self.auth_methods:
            raise ValueError(f"platform {self.name!r} declares no auth method")

    @property
    def default_auth(self) -> str:
        """The method of a shop without ``auth:``."""
        return self.auth_methods[0].name

    def auth_method(self, name: str) -> AuthMethod | None:
        for method in self.auth_methods:
            if method.name == name:
                return method
        return None
