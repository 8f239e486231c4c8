"""A real SMTP server on loopback for the mail tests (aiosmtpd in a thread), scriptable replies."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = BytesParser(policy=policy.default).parsebytes(self.raw)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Sink:
    """What the server received, and the replies it gives to the next DATA commands."""

    port: int = 0
    received: list[Received] = field(default_factory=list)
    #: Replies for the next DATA commands, in order ("451 ...", "554 ..."); then "250 OK".
    data_replies: list[str] = field(default_factory=list)
    #: Replies for the next RCPT commands; then accepted.
    rcpt_replies: list[str] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.rcpt_replies:
            return self.rcpt_replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_replies:
            return self.data_replies.pop(0)
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
        )
        return "250 2.0.0 queued"

    def message_ids(self) -> list[str]:
        return [str(r.message["Message-ID"]) for r in self.received]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Logins:
    """Accepts one user and password; records who logged in."""

    def __init__(self, sink: Sink, user: str, password: str) -> None:
        self.sink, self.user, self.password = sink, user, password

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        if isinstance(data, LoginPassword):
            user, password = data.login.decode(), data.password.decode()
            if (user, password) == (self.user, self.password):
                self.sink.logins.append(user)
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)


@contextmanager
def smtp_sink(
    *,
    starttls: ssl.SSLContext | None = None,
    implicit_tls: ssl.SSLContext | None = None,
    login: tuple[str, str] | None = None,
) -> Iterator[Sink]:
    """An SMTP server on 127.0.0.1: plain, STARTTLS (required) or implicit TLS, with a login."""
    sink = Sink(port=free_port())
    kwargs: dict[str, Any] = {}
    if starttls is not None:
        kwargs.update(tls_context=starttls, require_starttls=True)
    if implicit_tls is not None:
        kwargs.update(ssl_context=implicit_tls)
    if login is not None:
        kwargs.update(authenticator=_Logins(sink, *login), auth_required=True)
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port, **kwargs)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()
