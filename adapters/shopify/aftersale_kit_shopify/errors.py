"""Error translation for the Shopify seam: HTTP and GraphQL failures -> the project's error tree.

Shopify reports failures on three layers (https://shopify.dev/docs/api/usage/response-codes):
HTTP status (401/403/404/429/5xx), top-level ``errors[]`` in a 200 (syntax, ``THROTTLED``,
``ACCESS_DENIED``), and ``userErrors[]`` of a mutation (``TAKEN``, ``INVALID``, ...). Messages
built here pass through :class:`Redactor`, so no token, secret or full e-mail address reaches an
exception or a log record.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from aftersale_kit.core.errors import InvalidRequestError

__all__ = ["Redactor", "error_codes", "platform_message", "user_errors_error"]

PLATFORM = "shopify"
_MAX_MESSAGE = 300
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")


class Redactor:
    """Masks the given secrets and every e-mail address (``j***@example.com``) in a text."""

    def __init__(self, secrets: Iterable[str]) -> None:
        # Longest first, so that a secret containing another is masked whole.
        self._secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def add(self, secret: str) -> None:
        """Mask ``secret`` from now on too (a token fetched while running)."""
        if secret and len(secret) >= 4 and secret not in self._secrets:
            self._secrets = sorted([*self._secrets, secret], key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return _EMAIL.sub(r"\1***@\2", text)


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 3] + "..."


def platform_message(body: bytes | str | Mapping[str, Any] | None) -> tuple[str, str | None]:
    """Shopify's own message and code from an error body (``errors`` as text, list or object)."""
    data: Any = body
    if isinstance(body, bytes | str):
        try:
            data = json.loads(body)
        except ValueError:
            text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
            return _clip(text) or "no message", None
    if not isinstance(data, Mapping):
        return "no message", None
    errors = data.get("errors", data.get("error"))
    if isinstance(errors, str):
        return _clip(errors), None
    if isinstance(errors, Mapping):
        return _clip("; ".join(f"{k}: {v}" for k, v in errors.items())), None
    if isinstance(errors, list) and errors:
        messages: list[str] = []
        code: str | None = None
        for err in errors:
            if isinstance(err, Mapping):
                messages.append(str(err.get("message", "")))
                ext = err.get("extensions")
                if code is None and isinstance(ext, Mapping) and ext.get("code"):
                    code = str(ext["code"])
            else:
                messages.append(str(err))
        return _clip("; ".join(m for m in messages if m)) or "no message", code
    return "no message", None


def error_codes(errors: Sequence[Any]) -> list[str]:
    """The ``extensions.code`` values of GraphQL top-level errors."""
    codes: list[str] = []
    for err in errors:
        if isinstance(err, Mapping):
            ext = err.get("extensions")
            if isinstance(ext, Mapping) and ext.get("code"):
                codes.append(str(ext["code"]))
    return codes


def user_errors_error(
    operation: str, user_errors: Sequence[Mapping[str, Any]], *, shop: str, redact: Redactor
) -> InvalidRequestError:
    """An InvalidRequestError for a mutation's ``userErrors`` (first code, all messages)."""
    parts: list[str] = []
    code: str | None = None
    for err in user_errors:
        field = err.get("field")
        where = ".".join(str(f) for f in field) if isinstance(field, list) else ""
        message = str(err.get("message", ""))
        parts.append(f"{where}: {message}" if where else message)
        if code is None and err.get("code"):
            code = str(err["code"])
    text = redact(_clip("; ".join(parts)))
    suffix = f" [{code}]" if code else ""
    return InvalidRequestError(
        f"Shopify refused {operation} for {shop}: {text}{suffix}",
        platform=PLATFORM,
        status=200,
        code=code,
    )
