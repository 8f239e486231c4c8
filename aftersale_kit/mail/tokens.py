"""Signed tokens for the links in e-mails: unsubscribe, survey answers, newsletter confirmation.

A token is ``<payload>.<signature>``, both base64url without padding. The payload is a compact
JSON array ``[2, purpose, shop, subject, expires, nonce, kid]``; the signature is HMAC-SHA256
over the payload's text with the key named ``kid`` (:class:`LinkKeys`: the first key signs,
every key verifies, so a new key can be added in front before the old one is removed). Tokens
of version 1, ``[1, purpose, shop, subject, expires, nonce]``, name no key: they were signed
before key ids existed and verify with the legacy key. Verifying reads the version and key id
from the (not yet authenticated) payload to pick the key, checks the signature (with
:func:`hmac.compare_digest`), then the purpose, the shop and the expiry against an injected
clock; each refusal has its own :class:`Refusal` reason (an unknown key id:
``unknown_key``).

Tokens are not encrypted: the subject (e.g. an order or customer id) is readable by whoever holds
the link, so never put an e-mail address or a name in it. Single use is the store's job: it
records :attr:`LinkClaims.nonce` when a token is spent.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from aftersale_kit.core.errors import AftersaleKitError

__all__ = [
    "KEY_ID_PATTERN",
    "LinkClaims",
    "LinkKeyError",
    "LinkKeys",
    "LinkSigner",
    "Purpose",
    "Refusal",
    "TokenRefused",
    "parse_link_keys",
]

_LEGACY_VERSION = 1
_VERSION = 2
_MIN_KEY_BYTES = 32
#: What a key id may be: 1 to 32 letters, digits, ``-``, ``_`` or ``.``.
KEY_ID_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,32}")
_NONCE_BYTES = 12
_MAX_TOKEN = 2048


class Purpose(StrEnum):
    """What a link may do; a token made for one purpose is refused for any other."""

    UNSUBSCRIBE = "unsubscribe"
    SURVEY = "survey"
    NEWSLETTER_CONFIRM = "newsletter-confirm"
    #: The one-click signup in the thank-you content: sends the confirmation e-mail.
    NEWSLETTER_SIGNUP = "newsletter-signup"


class Refusal(StrEnum):
    """Why a token was refused."""

    #: Not a token at all (wrong shape, not base64url, too long, unknown version).
    MALFORMED = "malformed"
    #: The signature does not match: changed, cut, or signed with another key.
    TAMPERED = "tampered"
    WRONG_PURPOSE = "wrong_purpose"
    OTHER_SHOP = "other_shop"
    EXPIRED = "expired"
    #: The token names a key id that is not (or no longer) among the keys.
    UNKNOWN_KEY = "unknown_key"


class TokenRefused(AftersaleKitError):
    """A token that must not be honoured; :attr:`reason` says why."""

    def __init__(self, reason: Refusal, detail: str) -> None:
        self.reason = reason
        super().__init__(f"{reason.value}: {detail}")


class LinkKeyError(AftersaleKitError, ValueError):
    """The link keys are not usable (too short, a bad or repeated key id)."""


@dataclass(frozen=True, slots=True)
class LinkKeys:
    """The keys of the links: ``legacy`` verifies tokens without a key id (and signs when there
    are no ``kids``); ``kids`` are ``(key id, key)`` pairs, the first signs, all verify."""

    legacy: bytes
    kids: tuple[tuple[str, bytes], ...] = ()

    def __post_init__(self) -> None:
        if len(self.legacy) < _MIN_KEY_BYTES:
            raise LinkKeyError(f"the link key needs at least {_MIN_KEY_BYTES} bytes")
        seen: set[str] = set()
        for kid, key in self.kids:
            if not KEY_ID_PATTERN.fullmatch(kid):
                raise LinkKeyError(
                    f"link key id {kid!r}: use 1 to 32 letters, digits, '-', '_' or '.'"
                )
            if kid in seen:
                raise LinkKeyError(f"link key id {kid!r} appears twice")
            seen.add(kid)
            if len(key) < _MIN_KEY_BYTES:
                raise LinkKeyError(
                    f"the secret of link key id {kid!r} has {len(key)} bytes, "
                    f"needs at least {_MIN_KEY_BYTES}"
                )

    def key_of(self, kid: str | None) -> bytes | None:
        """The key that verifies tokens naming ``kid`` (``None``: the legacy key)."""
        if kid is None:
            return self.legacy
        return dict(self.kids).get(kid)


def parse_link_keys(text: str, *, variable: str) -> tuple[tuple[str, bytes], ...]:
    """``kid1:secret1,kid2:secret2`` as ``(kid, secret)`` pairs, in order; ``variable`` names
    the setting in the messages (which never show a secret)."""
    entries = [e.strip() for e in text.split(",")]
    if not any(entries):
        raise LinkKeyError(f"{variable} is set but empty: write kid1:secret1,kid2:secret2")
    pairs: list[tuple[str, bytes]] = []
    for number, entry in enumerate(entries, start=1):
        kid, colon, secret = entry.partition(":")
        if not colon or not kid.strip() or not secret:
            raise LinkKeyError(
                f"{variable}: entry {number} is not kid:secret "
                "(key id, a colon, a secret of at least 32 bytes; entries separated by commas)"
            )
        pairs.append((kid.strip(), secret.encode("utf-8")))
    try:
        LinkKeys(b"x" * _MIN_KEY_BYTES, tuple(pairs))
    except LinkKeyError as exc:
        raise LinkKeyError(f"{variable}: {exc}") from None
    return tuple(pairs)


@dataclass(frozen=True, slots=True)
class LinkClaims:
    """What a verified token says."""

    purpose: Purpose
    shop: str
    subject: str
    expires: datetime
    #: Random, unique per token: the store records it to make a link single-use.
    nonce: str
    #: The key id it was signed with (``None``: a token from before key ids).
    kid: str | None = None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not text or any(c not in _ALPHABET for c in text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


class LinkSigner:
    """Makes and checks link tokens with one secret key (at least 32 bytes) or with
    :class:`LinkKeys` (key ids for rotation).

    ``clock`` returns the current time (aware); tests pass a fixed or stepping clock.
    """

    def __init__(
        self, key: bytes | LinkKeys, *, clock: Callable[[], datetime] | None = None
    ) -> None:
        self._keys = key if isinstance(key, LinkKeys) else LinkKeys(key)
        self._clock = clock or (lambda: datetime.now(UTC))

    @property
    def keys(self) -> LinkKeys:
        """The keys (for a signer of the same keys with another clock)."""
        return self._keys

    @property
    def key_bytes(self) -> bytes:
        """The key that signs."""
        kids = self._keys.kids
        return kids[0][1] if kids else self._keys.legacy

    def sign(
        self,
        purpose: Purpose,
        *,
        shop: str,
        subject: str,
        valid_for: timedelta,
        nonce: str | None = None,
    ) -> str:
        """A token for ``purpose`` at ``shop`` about ``subject``, valid for ``valid_for``."""
        if valid_for <= timedelta(0):
            raise ValueError("valid_for must be positive")
        expires = int((self._clock() + valid_for).timestamp())
        nonce = nonce if nonce is not None else _b64(secrets.token_bytes(_NONCE_BYTES))
        body: list[object] = [purpose.value, shop, subject, expires, nonce]
        kids = self._keys.kids
        body = [_VERSION, *body, kids[0][0]] if kids else [_LEGACY_VERSION, *body]
        payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        return f"{_b64(payload)}.{_b64(_mac(self.key_bytes, payload))}"

    def verify(self, token: str, *, purpose: Purpose, shop: str) -> LinkClaims:
        """The claims of a genuine, unexpired token for ``purpose`` at ``shop``.

        Raises :class:`TokenRefused` with the reason otherwise.
        """
        payload = self._authentic_payload(token)
        claims = _claims(payload)
        if claims.purpose is not purpose:
            raise TokenRefused(
                Refusal.WRONG_PURPOSE,
                f"the link is for {claims.purpose.value}, not {purpose.value}",
            )
        if not hmac.compare_digest(claims.shop.encode("utf-8"), shop.encode("utf-8")):
            raise TokenRefused(Refusal.OTHER_SHOP, "the link belongs to another shop")
        if self._clock() >= claims.expires:
            raise TokenRefused(Refusal.EXPIRED, f"the link expired at {claims.expires.isoformat()}")
        return claims

    def _authentic_payload(self, token: str) -> bytes:
        if len(token) > _MAX_TOKEN or token.count(".") != 1:
            raise TokenRefused(Refusal.MALFORMED, "not a link token")
        head, tail = token.split(".")
        try:
            payload, signature = _unb64(head), _unb64(tail)
        except (ValueError, binascii.Error):
            raise TokenRefused(Refusal.MALFORMED, "not a link token") from None
        key = self._keys.key_of(_kid_of(payload))
        if key is None:
            raise TokenRefused(Refusal.UNKNOWN_KEY, "the link names a key that is not configured")
        if not hmac.compare_digest(signature, _mac(key, payload)):
            raise TokenRefused(Refusal.TAMPERED, "the signature does not match")
        return payload


def _mac(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).digest()


def _kid_of(payload: bytes) -> str | None:
    """The key id a payload names, read before its signature is checked (only to pick the
    key): ``None`` for a version 1 token; a payload that is not a token is malformed."""
    try:
        body = json.loads(payload.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise TokenRefused(Refusal.MALFORMED, "not a link token") from None
    if not isinstance(body, list) or not body:
        raise TokenRefused(Refusal.MALFORMED, "not a link token")
    if body[0] == _LEGACY_VERSION:
        return None
    if body[0] == _VERSION and len(body) == 7 and isinstance(body[6], str):
        return body[6]
    raise TokenRefused(Refusal.MALFORMED, "not a token of a known version")


def _claims(payload: bytes) -> LinkClaims:
    """The claims of an authentic payload (one we signed, version 1 or 2)."""
    try:
        body = json.loads(payload.decode("utf-8"))
        kid = str(body.pop()) if body[0] == _VERSION else None
        version, purpose, shop, subject, expires, nonce = body
        if version not in (_LEGACY_VERSION, _VERSION) or not isinstance(expires, int):
            raise ValueError("unknown version")
        return LinkClaims(
            purpose=Purpose(purpose),
            shop=str(shop),
            subject=str(subject),
            expires=datetime.fromtimestamp(expires, UTC),
            nonce=str(nonce),
            kid=kid,
        )
    except (ValueError, TypeError, IndexError, AttributeError, UnicodeDecodeError):
        raise TokenRefused(Refusal.MALFORMED, "not a token of this version") from None
