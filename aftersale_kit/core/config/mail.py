"""The ``mail:`` section: sender, reply-to, support address, SMTP server, send rate, dry run.

::

    mail:
      sender: "Kaffeerösterei Bohne <hallo@bohne.example>"
      reply_to: service@bohne.example
      support_address: support@bohne.example
      smtp:
        host: smtp.bohne.example
        port: 587
        security: starttls          # starttls | tls | none (none: loopback only)
        username_env: BOHNE_SMTP_USER
        password_env: BOHNE_SMTP_PASSWORD
        timeout_seconds: 30
      rate_per_minute: 60
      dry_run: outbox/              # instead of sending: one .eml file per message

Every mistake is reported with its file:line:column, path and a suggestion, like the rest of the
file. Credentials are names of environment variables, checked as ``shop.auth`` checks them.
"""

from __future__ import annotations

import re

import yaml

from ..mail_settings import DEFAULT_PORTS, LOOPBACK_HOSTS, MailSettings, SmtpSecurity, SmtpSettings
from ..schema_mail import mail_keys
from .auth import check_env_name
from .checker import Entry, found
from .context import Context

__all__ = ["read_mail"]

_P = "mail"
_ADDRESS = re.compile(r"^[^@\s<>()\[\],;:\"]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_NAMED = re.compile(r"^(.*?)\s*<([^<>]*)>$")
_HOST = re.compile(r"^(\[[0-9A-Fa-f:]+\]|::1|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)$")
_SYNONYMS = {
    "from": "sender",
    "reply-to": "reply_to",
    "replyto": "reply_to",
    "support": "support_address",
    "server": "smtp",
    "rate": "rate_per_minute",
    "dryrun": "dry_run",
    "user_env": "username_env",
    "ssl": "security",
    "tls": "security",
    "timeout": "timeout_seconds",
}


def read_mail(ctx: Context, node: yaml.Node) -> MailSettings | None:
    start = ctx.c.mark()
    e = ctx.c.mapping(node, _P, allowed=mail_keys(), required=("sender",), synonyms=_SYNONYMS)
    if e is None:
        return None
    sender = _named_address(ctx, e["sender"].value, f"{_P}.sender") if "sender" in e else None
    reply_to = _address(ctx, e, "reply_to")
    support = _address(ctx, e, "support_address")
    smtp = _smtp(ctx, e["smtp"].value, f"{_P}.smtp") if "smtp" in e else None
    rate = ctx.c.optional_integer(
        e,
        "rate_per_minute",
        _P,
        default=60,
        minimum=1,
        maximum=100000,
        expected="a whole number of messages per minute from 1 to 100000",
    )
    dry_run = None
    if "dry_run" in e:
        dry_run = ctx.c.text(e["dry_run"].value, f"{_P}.dry_run", expected="a folder, e.g. outbox/")
    if "smtp" not in e and "dry_run" not in e:
        ctx.c.report(
            node,
            _P,
            "say how messages leave: smtp: {host: ...} to send them, or dry_run: outbox/ to "
            "write them to a folder",
        )
    if not ctx.c.clean_since(start) or sender is None:
        return None
    return MailSettings(
        sender_address=sender[1],
        sender_name=sender[0],
        reply_to=reply_to,
        support_address=support,
        smtp=smtp,
        rate_per_minute=rate,
        dry_run=dry_run,
    )


def _named_address(ctx: Context, node: yaml.Node, path: str) -> tuple[str | None, str] | None:
    """``'Name <a@b.example>'`` or ``a@b.example``: ``(name or None, address)``."""
    value = ctx.c.text(node, path, expected="an e-mail address or 'Name <address>'")
    if value is None:
        return None
    if any(ch in value for ch in "\r\n"):
        ctx.c.report(node, path, "expected one line: an e-mail address or 'Name <address>'")
        return None
    named = _NAMED.match(value.strip())
    name, address = (named.group(1), named.group(2)) if named else ("", value.strip())
    name = name.strip().strip('"').strip()
    if not (address.isascii() and _ADDRESS.match(address)):
        ctx.c.report(
            node,
            path,
            f"expected an e-mail address such as shop@example.com or "
            f"'Shop name <shop@example.com>', got {found(node)}",
        )
        return None
    return (name or None, address)


def _address(ctx: Context, e: dict[str, Entry], key: str) -> str | None:
    if key not in e:
        return None
    node = e[key].value
    path = f"{_P}.{key}"
    value = ctx.c.text(node, path, expected="an e-mail address")
    if value is None:
        return None
    if not (value.isascii() and _ADDRESS.match(value.strip())):
        ctx.c.report(
            node, path, f"expected an e-mail address such as service@example.com, got {found(node)}"
        )
        return None
    return value.strip()


def _smtp(ctx: Context, node: yaml.Node, path: str) -> SmtpSettings | None:
    start = ctx.c.mark()
    e = ctx.c.mapping(node, path, allowed=mail_keys("smtp"), required=("host",), synonyms=_SYNONYMS)
    if e is None:
        return None
    host = _host(ctx, e["host"].value, f"{path}.host") if "host" in e else None
    security = SmtpSecurity.STARTTLS
    if "security" in e:
        chosen = ctx.c.choice(
            e["security"].value,
            f"{path}.security",
            [s.value for s in SmtpSecurity],
            what="security",
            synonyms={"ssl": "tls", "smtps": "tls", "plain": "none", "start_tls": "starttls"},
        )
        security = SmtpSecurity(chosen) if chosen is not None else security
    port = ctx.c.optional_integer(
        e, "port", path, default=DEFAULT_PORTS[security], minimum=1, maximum=65535,
        expected="a port number from 1 to 65535",
    )  # fmt: skip
    timeout = ctx.c.optional_integer(
        e, "timeout_seconds", path, default=30, minimum=1, maximum=600,
        expected="a whole number of seconds from 1 to 600",
    )  # fmt: skip
    username, password = _credentials(ctx, e, node, path)
    if host is not None and security is SmtpSecurity.NONE and host not in LOOPBACK_HOSTS:
        ctx.c.report(
            e["security"].value,
            f"{path}.security",
            "security: none sends passwords and mail unencrypted; it is only allowed for a "
            "server on 127.0.0.1 or localhost. Use starttls (port 587) or tls (port 465)",
        )
    if not ctx.c.clean_since(start) or host is None:
        return None
    return SmtpSettings(host, port, security, username, password, timeout)


def _host(ctx: Context, node: yaml.Node, path: str) -> str | None:
    value = ctx.c.text(node, path, expected="a host name such as smtp.example.com")
    if value is None:
        return None
    if "://" in value or not _HOST.match(value):
        ctx.c.report(
            node,
            path,
            "expected a host name such as smtp.example.com (no scheme, no port), "
            f"got {found(node)}",
        )
        return None
    return value.lower()


def _credentials(
    ctx: Context, e: dict[str, Entry], node: yaml.Node, path: str
) -> tuple[str | None, str | None]:
    names: dict[str, str | None] = {}
    for key, example in (
        ("username_env", "SHOP_SMTP_USER"),
        ("password_env", "SHOP_SMTP_PASSWORD"),
    ):
        names[key] = (
            check_env_name(ctx.c, e[key].value, f"{path}.{key}", example) if key in e else None
        )
    present = [key for key in names if key in e]
    if len(present) == 1:
        missing = "password_env" if present[0] == "username_env" else "username_env"
        ctx.c.report(
            node,
            path,
            f"{present[0]} needs {missing} too: name both environment variables of the login, "
            "or neither for a server without login",
        )
    return names["username_env"], names["password_env"]
