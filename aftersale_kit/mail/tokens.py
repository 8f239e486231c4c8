"""Signed tokens for the links in e-mails: unsubscribe, survey answers, newsletter confirmation.

A token is ``<payload>.<signature>``, both base64url without padding. The payload is a compact
JSON array ``[version, purpose, shop, subject, expires, nonce]``; the signature is HMAC-SHA256
over the payload's text with the service's link key. Verifying checks the signature first (with
:func:`hmac.compare_digest`), then the purpose, the shop and the expiry against an injected
clock; each refusal has its own :class:`Refusal` reason.

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
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from aftersale_kit.core.errors import AftersaleKitError

__all__ = [
    "LinkClaims",
    "LinkSigner",
    "Purpose",
    "Refusal",
    "TokenRefused",
]

_VERSION = 1
_MIN_KEY_BYTES = 32
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


class TokenRefused(AftersaleKitError):
    """A token that must not be honoured; :attr:`reason` says why."""

    def __init__(self, reason: Refusal, detail: str) -> None:
        self.reason = reason
        super().__init__(f"{reason.value}: {detail}")


@dataclass(frozen=True, slots=True)
class LinkClaims:
    """What a verified token says."""

    purpose: Purpose
    shop: str
    subject: str
    expires: datetime
    #: Random, unique per token: the store records it to make a link single-use.
    nonce: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not text or any(c not in _ALPHABET for c in text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


class LinkSigner:
    """Makes and checks link tokens with one secret key (at least 32 bytes).

    ``clock`` returns the current time (aware); tests pass a fixed or stepping clock.
    """

    def __init__(self, key: bytes, *, clock: Callable[[], datetime] | None = None) -> None:
        if len(key) < _MIN_KEY_BYTES:
            raise ValueError(f"the link key needs at least {_MIN_KEY_BYTES} bytes")
        self._key = key
        self._clock = clock or (lambda: datetime.now(UTC))

    @property
    def key_bytes(self) -> bytes:
        """The key (for a signer of the same key with another clock)."""
        return self._key

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()

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
        body = [_VERSION, purpose.value, shop, subject, expires, nonce]
        payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        return f"{_b64(payload)}.{_b64(self._mac(payload))}"

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
        if not hmac.compare_digest(signature, self._mac(payload)):
            raise TokenRefused(Refusal.TAMPERED, "the signature does not match")
        return payload


def _claims(payload: bytes) -> LinkClaims:
    """The claims of an authentic payload (one we signed; old versions are refused)."""
    try:
        body = json.loads(payload.decode("utf-8"))
        version, purpose, shop, subject, expires, nonce = body
        if version != _VERSION or not isinstance(expires, int):
            raise ValueError("unknown version")
        return LinkClaims(
            purpose=Purpose(purpose),
            shop=str(shop),
            subject=str(subject),
            expires=datetime.fromtimestamp(expires, UTC),
            nonce=str(nonce),
        )
    except (ValueError, TypeError, UnicodeDecodeError):
        raise TokenRefused(Refusal.MALFORMED, "not a token of this version") from None
