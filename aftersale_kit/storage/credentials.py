"""Shop credentials at rest: tokens and keys encrypted with Fernet, shared by every process.

The key comes from the environment variable :data:`KEY_ENV` (``AFTERSALE_CREDENTIALS_KEY``):
one or more Fernet keys (``Fernet.generate_key()``, 32 url-safe base64 bytes) separated by
commas. The **first** encrypts, **every** key decrypts (:class:`cryptography.fernet.MultiFernet`,
https://cryptography.io/en/latest/fernet/#cryptography.fernet.MultiFernet). Rotation:

1. put a new key first: ``AFTERSALE_CREDENTIALS_KEY=<new>,<old>`` and restart the processes;
2. ``aftersale-kit shops rotate-key`` re-encrypts every stored credential with the new key
   (:meth:`CredentialStore.rotate`);
3. drop the old key from the variable and restart.

A credential is a small JSON object (``{"access_token": ...}`` or ``{"consumer_key": ...,
"consumer_secret": ...}``). Nothing here logs a value, and a value never appears in an error
message: a ciphertext that no key opens raises :class:`CredentialKeyError` naming the shop only.

:meth:`CredentialStore.refresh` is the one place a token is fetched: in one write transaction
under a per-shop lock (PostgreSQL advisory lock; SQLite's write lock) it reads the stored token
and calls the fetch only when that token is missing, expiring or the one the caller saw refused.
So service and worker processes fetch once per expiry, not once each.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, insert, select, update

from ..core.errors import AftersaleKitError, MissingExtraError
from .tables import credentials

if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet

    from .db import Database

__all__ = [
    "KEY_ENV",
    "CredentialCipher",
    "CredentialKeyError",
    "CredentialStore",
    "StoredCredential",
]

KEY_ENV = "AFTERSALE_CREDENTIALS_KEY"


class CredentialKeyError(AftersaleKitError):
    """The credentials key is missing or wrong (names the variable or the shop, never a value)."""


class CredentialCipher:
    """Fernet over one or more keys: the first encrypts, all decrypt."""

    def __init__(self, keys: list[str]) -> None:
        try:
            from cryptography.fernet import Fernet, MultiFernet
        except ImportError as exc:  # pragma: no cover - the server extra brings it
            raise MissingExtraError("encrypted shop credentials", "server") from exc
        if not keys:
            raise CredentialKeyError(
                f"{KEY_ENV} is not set: it holds the key shop credentials are encrypted with; "
                "make one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'"
            )
        fernets = []
        for i, key in enumerate(keys, start=1):
            try:
                fernets.append(Fernet(key.encode()))
            except (ValueError, TypeError):
                raise CredentialKeyError(
                    f"{KEY_ENV}: key {i} of {len(keys)} is not a Fernet key (32 url-safe "
                    "base64-encoded bytes, as Fernet.generate_key() makes)"
                ) from None
        self._fernet: MultiFernet = MultiFernet(fernets)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> CredentialCipher:
        raw = env.get(KEY_ENV, "")
        return cls([k.strip() for k in raw.split(",") if k.strip()])

    def encrypt(self, value: Mapping[str, str]) -> str:
        return self._fernet.encrypt(json.dumps(dict(value)).encode()).decode("ascii")

    def decrypt(self, ciphertext: str, *, shop: str) -> dict[str, str]:
        from cryptography.fernet import InvalidToken

        try:
            data = json.loads(self._fernet.decrypt(ciphertext.encode("ascii")))
        except (InvalidToken, ValueError):
            raise CredentialKeyError(
                f"the stored credentials of {shop} cannot be opened with any key in {KEY_ENV} "
                "(was the key replaced instead of rotated? put the old key after the new one)"
            ) from None
        return {str(k): str(v) for k, v in data.items()}

    def rotate(self, ciphertext: str) -> str:
        return self._fernet.rotate(ciphertext.encode("ascii")).decode("ascii")


@dataclass(frozen=True, slots=True)
class StoredCredential:
    shop: str
    kind: str
    value: Mapping[str, str] = field(repr=False)
    expires_at: datetime | None
    updated_at: datetime

    def fresh(self, now: datetime, margin: timedelta) -> bool:
        return self.expires_at is None or self.expires_at - margin > now


#: What a fetch returns: the credential and when it expires (``None``: never).
Fetched = tuple[Mapping[str, str], datetime | None]


def _lock_name(shop: str, kind: str) -> str:
    return f"credential/{shop}/{kind}"


class CredentialStore:
    """The ``credentials`` table through one cipher."""

    def __init__(self, db: Database, cipher: CredentialCipher) -> None:
        self.db = db
        self.cipher = cipher

    def _row(self, conn: Connection, shop: str, kind: str) -> StoredCredential | None:
        row = conn.execute(
            select(credentials).where(credentials.c.shop == shop, credentials.c.kind == kind)
        ).first()
        if row is None:
            return None
        m = row._mapping
        return StoredCredential(
            shop=shop,
            kind=kind,
            value=self.cipher.decrypt(m["ciphertext"], shop=shop),
            expires_at=m["expires_at"],
            updated_at=m["updated_at"],
        )

    def _write(
        self,
        conn: Connection,
        *,
        shop: str,
        kind: str,
        value: Mapping[str, str],
        expires_at: datetime | None,
        now: datetime,
    ) -> StoredCredential:
        values: dict[str, Any] = {
            "ciphertext": self.cipher.encrypt(value),
            "expires_at": expires_at,
            "updated_at": now,
        }
        where = (credentials.c.shop == shop, credentials.c.kind == kind)
        if conn.execute(update(credentials).where(*where).values(**values)).rowcount == 0:
            conn.execute(insert(credentials).values(shop=shop, kind=kind, **values))
        return StoredCredential(
            shop=shop, kind=kind, value=dict(value), expires_at=expires_at, updated_at=now
        )

    def get(self, shop: str, kind: str) -> StoredCredential | None:
        with self.db.read() as conn:
            return self._row(conn, shop, kind)

    def put(
        self,
        shop: str,
        kind: str,
        value: Mapping[str, str],
        *,
        expires_at: datetime | None = None,
        now: datetime | None = None,
    ) -> StoredCredential:
        with self.db.write() as conn:
            self.db.lock(conn, _lock_name(shop, kind))
            return self._write(
                conn,
                shop=shop,
                kind=kind,
                value=value,
                expires_at=expires_at,
                now=now or datetime.now(UTC),
            )

    def delete(self, shop: str) -> int:
        """Forget every credential of the shop (uninstall, ``shop/redact``)."""
        with self.db.write() as conn:
            return conn.execute(delete(credentials).where(credentials.c.shop == shop)).rowcount

    def refresh(
        self,
        shop: str,
        kind: str,
        fetch: Callable[[], Fetched],
        *,
        margin: timedelta | Callable[[Mapping[str, str]], timedelta],
        refused: str | None = None,
        field_name: str = "access_token",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> StoredCredential:
        """The stored credential, fetched anew (under the shop's lock) only when it is missing,
        expires within ``margin`` (or ``margin(value)``), or its ``field_name`` is ``refused``
        (the platform said 401 to it). A process that waited for the lock finds the token
        another one just fetched."""
        with self.db.write() as conn:
            self.db.lock(conn, _lock_name(shop, kind))
            current = self._row(conn, shop, kind)
            stale = current is not None and current.value.get(field_name) == refused
            if current is not None and not stale:
                keep = margin(current.value) if callable(margin) else margin
                if current.fresh(clock(), keep):
                    return current
            value, expires_at = fetch()
            return self._write(
                conn, shop=shop, kind=kind, value=value, expires_at=expires_at, now=clock()
            )

    def rotate(self) -> int:
        """Re-encrypt every stored credential with the first key; returns how many."""
        with self.db.write() as conn:
            rows = conn.execute(
                select(credentials.c.shop, credentials.c.kind, credentials.c.ciphertext)
            ).all()
            for shop, kind, ciphertext in rows:
                conn.execute(
                    update(credentials)
                    .where(credentials.c.shop == shop, credentials.c.kind == kind)
                    .values(ciphertext=self.cipher.rotate(ciphertext))
                )
        return len(rows)

    def raw_ciphertexts(self) -> list[str]:
        """Every stored ciphertext (for checks that nothing is stored in the clear)."""
        with self.db.read() as conn:
            return [str(v) for v in conn.execute(select(credentials.c.ciphertext)).scalars()]
