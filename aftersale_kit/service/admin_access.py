"""Who may open the operator's dashboard (:mod:`.admin_routes`): the operator token from the
service's environment, offered as ``Authorization: Bearer <token>`` or as the password of HTTP
Basic. Kept apart from the routes so :func:`~.bootstrap.bootstrap` checks the token at start
without loading the web framework."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from ..core.campaign import ShopConfig
from ..results.figures import ShopResults
from ..storage import Store
from .shops import ServiceConfigError

__all__ = ["ENV_TOKEN", "MIN_TOKEN_CHARS", "AdminAccess", "Collect"]

#: The environment variable that holds the operator token (also the Basic password).
ENV_TOKEN = "AFTERSALE_ADMIN_TOKEN"
MIN_TOKEN_CHARS = 16


class Collect(Protocol):
    """What computes a shop's figures (:func:`aftersale_kit.results.collect.shop_results`)."""

    def __call__(
        self, store: Store, config: ShopConfig, *, since: datetime, until: datetime, now: datetime
    ) -> ShopResults: ...


def _shop_results(
    store: Store, config: ShopConfig, *, since: datetime, until: datetime, now: datetime
) -> ShopResults:
    # Imported on the first request: the statistics' dependencies are not loaded at start.
    from ..results.collect import shop_results

    return shop_results(store, config, since=since, until=until, now=now)


def _now() -> datetime:
    return datetime.now(UTC)


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).digest()


def _offered(authorization: str) -> str | None:
    """The token in a Bearer header, or the password of a Basic one (any user name)."""
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer":
        return value or None
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    _, colon, password = decoded.partition(":")
    return password if colon and password else None


@dataclass(frozen=True)
class AdminAccess:
    """The operator token (``None``: the dashboard is off) and what computes the figures."""

    token: str | None = field(default=None, repr=False)
    collect: Collect = _shop_results
    clock: Callable[[], datetime] = _now

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AdminAccess:
        """The token of :data:`ENV_TOKEN`; one shorter than :data:`MIN_TOKEN_CHARS` stops the
        start (a guessable password would guard every shop's figures)."""
        token = env.get(ENV_TOKEN, "").strip() or None
        if token is not None and len(token) < MIN_TOKEN_CHARS:
            raise ServiceConfigError(
                f"{ENV_TOKEN}: use at least {MIN_TOKEN_CHARS} characters, for example the output "
                "of: python -c 'import secrets; print(secrets.token_urlsafe(24))'"
            )
        return cls(token=token)

    def allows(self, authorization: str | None) -> bool:
        """Whether the ``Authorization`` header carries the token (Bearer, or the Basic
        password); compared in constant time over hashes of equal length."""
        if self.token is None or not authorization:
            return False
        offered = _offered(authorization)
        if offered is None:
            return False
        return hmac.compare_digest(_digest(offered), _digest(self.token))
