"""How the service connects shops whose credentials it keeps: the encrypted credential store.

Shops whose ``auth.method`` is one the platform marks ``stored`` (tokens fetched or installed
through an app, keys approved in the shop's admin) keep them in the ``credentials`` table,
encrypted with the key in ``AFTERSALE_CREDENTIALS_KEY`` (:mod:`aftersale_kit.storage.credentials`).
Shops that read static credentials from the environment (and every shop file without ``auth:``)
need no key and never touch the table.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from ..core import registry as platforms
from ..core.campaign import ShopSettings
from ..storage import Store
from ..storage.credentials import CredentialCipher, CredentialStore
from .shops import ShopRegistry

__all__ = ["attach_credentials", "keeps_credentials"]


def keeps_credentials(settings: ShopSettings) -> bool:
    """Whether the shop's auth method keeps its credentials in the store."""
    spec = platforms.find(settings.platform)
    method = spec.auth_method(settings.auth_method) if spec is not None else None
    return method is not None and method.stored


def attach_credentials(
    registry: ShopRegistry, store: Store, *, env: Mapping[str, str] | None = None
) -> CredentialStore | None:
    """Give every shop that stores credentials the encrypted store; ``None`` when none does.

    Raises :class:`~aftersale_kit.storage.credentials.CredentialKeyError` when such a shop
    exists and the key is missing or malformed (at start-up, not at the first API call)."""
    needing = [e for e in registry if keeps_credentials(e.config.settings)]
    if not needing:
        return None
    cipher = CredentialCipher.from_env(os.environ if env is None else env)
    credentials = CredentialStore(store.db, cipher)
    for entry in needing:
        entry.credentials = credentials
    return credentials
