"""Errors of the mail layer: a message that cannot be built, a transport that cannot start."""

from __future__ import annotations

from aftersale_kit.core.errors import AftersaleKitError

__all__ = ["MailError"]


class MailError(AftersaleKitError):
    """A message cannot be built or sent as configured; the message says what to fix."""
