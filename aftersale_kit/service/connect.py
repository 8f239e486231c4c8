"""How the service connects shops whose credentials it keeps: the encrypted credential store.

Shops with ``auth.method`` ``client_credentials`` or ``oauth`` (Shopify) or ``approve``
(WooCommerce) keep their tokens or keys in the ``credentials`` table, encrypted with the key in
``AFTERSALE_CREDENTIALS_KEY`` (:mod:`aftersale_kit.storage.credentials`). Shops that read
static credentials from the environment (``token``, ``keys``, and every shop file without
``auth:``) need no key and never touch the table.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from ..storage import Store
from ..storage.credentials import CredentialCipher, CredentialStore
from .shops import ShopRegistry

__all__ = ["STORED_METHODS", "attach_credentials"]

#: Auth methods whose credentials live in the store.
STORED_METHODS = frozenset({"client_credentials", "oauth", "approve"})


def attach_credentials(
    registry: ShopRegistry, store: Store, *, env: Mapping[str, str] | None = None
) -> CredentialStore | None:
    """Give every shop that stores credentials the encrypted store; ``None`` when none does.

    Raises :class:`~aftersale_kit.storage.credentials.CredentialKeyError` when such a shop
    exists and the key is missing or malformed (at start-up, not at the first API call)."""
    needing = [e for e in registry if e.config.settings.auth_method in STORED_METHODS]
    if not needing:
        return None
    cipher = CredentialCipher.from_env(os.environ if env is None else env)
    credentials = CredentialStore(store.db, cipher)
    for entry in needing:
        entry.credentials = credentials
    return credentials
