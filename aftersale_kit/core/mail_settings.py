"""The shop's ``mail:`` section as read from the config: sender, SMTP server, send rate, dry run.

Plain values only; the delivery itself (templates, SMTP, signed links) lives in
:mod:`aftersale_kit.mail`. Credentials are never here: only the *names* of the environment
variables that hold them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["DEFAULT_PORTS", "LOOPBACK_HOSTS", "MailSettings", "SmtpSecurity", "SmtpSettings"]

#: The hosts a ``security: none`` connection may go to (nothing leaves the machine unencrypted).
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class SmtpSecurity(StrEnum):
    """How the connection to the SMTP server is protected."""

    #: Plain connect, then ``STARTTLS`` (required: never falls back to plain text). Port 587.
    STARTTLS = "starttls"
    #: TLS from the first byte ("implicit TLS", SMTPS). Port 465.
    TLS = "tls"
    #: No encryption; only allowed for a server on this machine (127.0.0.1, localhost, ::1).
    NONE = "none"


DEFAULT_PORTS = {SmtpSecurity.STARTTLS: 587, SmtpSecurity.TLS: 465, SmtpSecurity.NONE: 25}


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str
    port: int
    security: SmtpSecurity = SmtpSecurity.STARTTLS
    #: Names of the environment variables with the login (both or neither).
    username_env: str | None = None
    password_env: str | None = None
    timeout_seconds: int = 30


@dataclass(frozen=True, slots=True)
class MailSettings:
    """``mail:``. Either ``smtp`` or ``dry_run`` (a folder for .eml files) is set; with both,
    the dry run wins and nothing is sent."""

    sender_address: str
    sender_name: str | None = None
    reply_to: str | None = None
    #: Where complaints (e.g. a low survey rating) are sent.
    support_address: str | None = None
    smtp: SmtpSettings | None = None
    #: Messages per minute this shop may send (a token bucket; bursts up to the same number).
    rate_per_minute: int = 60
    #: A folder (relative: to the config file's folder) that receives .eml files instead.
    dry_run: str | None = None
