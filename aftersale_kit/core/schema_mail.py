"""The JSON Schema of the ``mail:`` section (sender, SMTP server, send rate, dry run).

Merged into :mod:`aftersale_kit.core.schema`; the reader (:mod:`aftersale_kit.core.config.mail`)
takes its allowed keys from here (:func:`mail_keys`), so the two cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from .mail_settings import SmtpSecurity

__all__ = ["mail_keys", "mail_schema"]

_ENV = r"^[A-Z_][A-Z0-9_]*$"


def _text(description: str) -> dict[str, Any]:
    return {"type": "string", "description": description, "minLength": 1}


def _env(description: str) -> dict[str, Any]:
    return {"type": "string", "description": description, "pattern": _ENV}


def _smtp() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "The SMTP server the messages are handed to.",
        "properties": {
            "host": _text("The server's host name, e.g. smtp.example.com."),
            "port": {
                "type": "integer",
                "description": "The port (default 587 with starttls, 465 with tls, 25 with none).",
                "minimum": 1,
                "maximum": 65535,
            },
            "security": {
                "type": "string",
                "description": "starttls (default), tls (implicit TLS, port 465) or none "
                "(only for a server on 127.0.0.1 or localhost).",
                "enum": [s.value for s in SmtpSecurity],
            },
            "username_env": _env("Name of the environment variable with the login name."),
            "password_env": _env("Name of the environment variable with the password."),
            "timeout_seconds": {
                "type": "integer",
                "description": "Seconds to wait for the server (default 30).",
                "minimum": 1,
                "maximum": 600,
            },
        },
        "required": ["host"],
        "additionalProperties": False,
    }


def mail_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "Follow-up e-mails: the shop's sender and how messages are delivered.",
        "properties": {
            "sender": _text("From: an address, or 'Name <address>'."),
            "reply_to": _text("Reply-To: where the customer's answers go."),
            "support_address": _text("Where complaints (e.g. a low survey rating) are sent."),
            "smtp": _smtp(),
            "rate_per_minute": {
                "type": "integer",
                "description": "At most this many messages per minute for this shop (default 60).",
                "minimum": 1,
                "maximum": 100000,
            },
            "dry_run": _text(
                "A folder that receives each message as an .eml file instead of sending it."
            ),
        },
        "required": ["sender"],
        "additionalProperties": False,
    }


def mail_keys(*path: str) -> tuple[str, ...]:
    """The keys allowed in ``mail`` (no argument) or ``mail.smtp`` (``"smtp"``)."""
    node = mail_schema()
    for name in path:
        node = node["properties"][name]
    return tuple(node["properties"])
