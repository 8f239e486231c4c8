"""Handing messages over: SMTP (STARTTLS, TLS, or plain on loopback) or a dry-run folder.

:meth:`Mailer.deliver` sends one message and classifies what happened, without ever sleeping:

* ``SENT``: the server accepted it (or the dry run wrote it).
* ``RETRY`` with ``retry_at``: a 4xx reply, a broken or refused connection, a timeout, a refused
  login, or the shop's send rate is used up (that one does not count as an attempt). Bounded by
  :class:`RetryPolicy`; the last transient failure becomes ``FAILED``.
* ``FAILED``: a 5xx reply, recorded with the server's code and reply text.

``before_end`` (given by the sweep) is called after the whole message has gone to the server
and before the end of data (``<CRLF>.<CRLF>``), the moment the server takes responsibility for
it (RFC 5321 section 4.1.1.4; a connection that closes before that moment leaves no message).
The sweep records the hand-over there; if it returns ``False`` the connection is dropped and
the server discards the message (docs/follow-ups.md, "A crash while sending").
"""

from __future__ import annotations

import os
import re
import smtplib
import socket
import ssl
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from aftersale_kit.core.mail_settings import (
    LOOPBACK_HOSTS,
    MailSettings,
    SmtpSecurity,
    SmtpSettings,
)

from .compose import OutgoingMail
from .errors import MailError
from .ratelimit import SendRateLimiter

__all__ = [
    "BeforeEnd",
    "Delivery",
    "DeliveryStatus",
    "DryRunTransport",
    "Mailer",
    "RetryPolicy",
    "SmtpTransport",
    "Transport",
    "TransportError",
]

_IDLE_CHECK_SECONDS = 5.0
_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9._@-]")
_LINE_START_DOT = re.compile(rb"(?m)^\.")

#: Called just before the end of data; ``False``: do not let the server take the message.
BeforeEnd = Callable[[], bool]


class DeliveryStatus(StrEnum):
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Delivery:
    """The outcome of one :meth:`Mailer.deliver`."""

    status: DeliveryStatus
    message_id: str
    #: The attempt this was (1 for the first).
    attempt: int
    #: For ``RETRY``: when to try again, and the attempt number to pass then.
    retry_at: datetime | None = None
    next_attempt: int | None = None
    #: The server's reply code (``None``: no reply, e.g. the connection failed).
    code: int | None = None
    #: The server's reply text, or what went wrong without one.
    reply: str = ""
    #: ``accepted``, ``written``, ``transient``, ``permanent``, ``rate_limited``, ``gave_up``.
    reason: str = ""


class TransportError(Exception):
    """One failed hand-over; ``transient`` says whether trying again later can help."""

    def __init__(self, *, transient: bool, code: int | None, reply: str) -> None:
        self.transient = transient
        self.code = code
        self.reply = reply
        super().__init__(f"{code} {reply}" if code is not None else reply)


class Transport(Protocol):
    #: Whether the shop's send rate applies (an SMTP server: yes; a folder: no).
    rate_limited: bool

    def send(self, mail: OutgoingMail, *, before_end: BeforeEnd | None = None) -> str:
        """Hand ``mail`` over; the server's reply. Raises :class:`TransportError`."""
        ...

    def close(self) -> None: ...


def _text(raw: bytes | str) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


def classify(exc: BaseException) -> TransportError:
    """What an smtplib or socket failure means for the message."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(exc.recipients.values()), (-1, b"recipient refused"))
        return _by_code(code, _text(reply))
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        # The login is the shop's setting, not this message's fault: try again later.
        return TransportError(transient=True, code=exc.smtp_code, reply=_text(exc.smtp_error))
    if isinstance(exc, smtplib.SMTPResponseException):
        return _by_code(exc.smtp_code, _text(exc.smtp_error))
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return TransportError(transient=True, code=None, reply=f"not supported: {exc}")
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return TransportError(transient=True, code=None, reply=f"disconnected: {exc}")
    if isinstance(exc, OSError | smtplib.SMTPException):
        return TransportError(transient=True, code=None, reply=f"{type(exc).__name__}: {exc}")
    raise exc


def _by_code(code: int, reply: str) -> TransportError:
    permanent = 500 <= code <= 599
    return TransportError(transient=not permanent, code=code if code > 0 else None, reply=reply)


_NOT_HANDED_OVER = "not handed over: the message's lease was lost before the end of data"


class _NotHandedOver(Exception):
    pass


def _transaction(conn: smtplib.SMTP, mail: OutgoingMail, before_end: BeforeEnd | None) -> str:
    """One mail transaction (MAIL, RCPT, DATA) with ``before_end`` called before the end of
    data; the server's reply. ``smtplib``'s ``sendmail`` sends the data and its end in one
    write, which leaves no moment to record the hand-over in between."""
    conn.ehlo_or_helo_if_needed()
    code, reply = conn.mail(mail.sender)
    if code != 250:
        conn.rset()
        raise smtplib.SMTPSenderRefused(code, reply, mail.sender)
    code, reply = conn.rcpt(mail.recipient)
    if code not in (250, 251):
        conn.rset()
        raise smtplib.SMTPRecipientsRefused({mail.recipient: (code, reply)})
    conn.putcmd("data")
    code, reply = conn.getreply()
    if code != 354:
        conn.rset()
        raise smtplib.SMTPDataError(code, reply)
    conn.send(_data(mail))
    if before_end is not None and not before_end():
        raise _NotHandedOver(_NOT_HANDED_OVER)
    conn.send(b".\r\n")
    code, reply = conn.getreply()
    if code != 250:
        conn.rset()
        raise smtplib.SMTPDataError(code, reply)
    return f"{code} {_text(reply)}"


def _data(mail: OutgoingMail) -> bytes:
    """The message as DATA carries it: CRLF line ends, a dot doubled at a line's start, ending
    in CRLF (the end of data is sent apart)."""
    raw = _LINE_START_DOT.sub(b"..", mail.as_bytes())
    return raw if raw.endswith(b"\r\n") else raw + b"\r\n"


def _no_delay(conn: smtplib.SMTP) -> None:
    """Send each write at once (``TCP_NODELAY``). A transaction writes the text, then, after
    the hand-over is recorded, the short end of data; with Nagle's algorithm the end would wait
    for the server's acknowledgement of the text, which the server delays (up to 40 ms on
    Linux) because it has nothing to reply yet."""
    sock = conn.sock
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class SmtpTransport:
    """One SMTP server, one connection kept open between messages (reopened after a failure)."""

    rate_limited = True

    def __init__(
        self,
        settings: SmtpSettings,
        *,
        username: str | None = None,
        password: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if settings.security is SmtpSecurity.NONE and settings.host not in LOOPBACK_HOSTS:
            raise MailError("mail.smtp.security: none is only allowed for 127.0.0.1 or localhost")
        self.settings = settings
        self._login = (username, password) if username is not None else None
        self._ssl = ssl_context
        self._conn: smtplib.SMTP | None = None
        self._used_at = 0.0

    @classmethod
    def from_settings(
        cls,
        settings: SmtpSettings,
        *,
        environ: Mapping[str, str] | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> SmtpTransport:
        """With the login read from the environment variables the settings name."""
        env = os.environ if environ is None else environ
        values: list[str | None] = []
        for key, name in (
            ("username_env", settings.username_env),
            ("password_env", settings.password_env),
        ):
            if name is None:
                values.append(None)
                continue
            value = env.get(name)
            if not value:
                raise MailError(f"mail.smtp.{key}: the environment variable {name} is not set")
            values.append(value)
        return cls(settings, username=values[0], password=values[1], ssl_context=ssl_context)

    def _open(self) -> smtplib.SMTP:
        s = self.settings
        conn: smtplib.SMTP
        if self._ssl is None and s.security is not SmtpSecurity.NONE:
            self._ssl = ssl.create_default_context()
        if s.security is SmtpSecurity.TLS:
            conn = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_seconds, context=self._ssl)
        else:
            conn = smtplib.SMTP(s.host, s.port, timeout=s.timeout_seconds)
        try:
            _no_delay(conn)
            conn.ehlo()
            if s.security is SmtpSecurity.STARTTLS:
                if not conn.has_extn("starttls"):
                    raise smtplib.SMTPNotSupportedError("the server does not offer STARTTLS")
                conn.starttls(context=self._ssl)
                conn.ehlo()
            if self._login is not None:
                conn.login(self._login[0] or "", self._login[1] or "")
        except BaseException:
            conn.close()
            raise
        return conn

    def _connection(self) -> smtplib.SMTP:
        now = time.monotonic()
        if self._conn is not None and now - self._used_at > _IDLE_CHECK_SECONDS:
            try:
                alive = self._conn.noop()[0] == 250
            except (smtplib.SMTPException, OSError):
                alive = False
            if not alive:
                self.close()
        if self._conn is None:
            self._conn = self._open()
        self._used_at = now
        return self._conn

    def send(self, mail: OutgoingMail, *, before_end: BeforeEnd | None = None) -> str:
        try:
            conn = self._connection()
            reply = _transaction(conn, mail, before_end)
        except _NotHandedOver as exc:
            self._drop()
            raise TransportError(transient=True, code=None, reply=str(exc)) from exc
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise classify(exc) from exc
        self._used_at = time.monotonic()
        return reply

    def _drop(self) -> None:
        """Close without QUIT: in the middle of data a QUIT would be part of the message."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.quit()
        except (smtplib.SMTPException, OSError):
            conn.close()


class DryRunTransport:
    """Writes each message to ``folder/<Message-ID>.eml`` instead of sending it. Writing the same
    message again (same Message-ID) leaves the first file as it is."""

    rate_limited = False

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    def path_for(self, mail: OutgoingMail) -> Path:
        name = _UNSAFE_FILE_CHARS.sub("_", mail.message_id.strip("<>"))
        return self.folder / f"{name}.eml"

    def send(self, mail: OutgoingMail, *, before_end: BeforeEnd | None = None) -> str:
        target = self.path_for(mail)
        if target.exists():
            return f"already written: {target.name}"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".tmp")
            with os.fdopen(fd, "wb") as out:
                out.write(mail.as_bytes())
            if before_end is not None and not before_end():
                os.unlink(temp)
                raise TransportError(transient=True, code=None, reply=_NOT_HANDED_OVER)
            os.replace(temp, target)
        except OSError as exc:
            raise TransportError(transient=True, code=None, reply=f"cannot write: {exc}") from exc
        return f"written: {target.name}"

    def close(self) -> None:
        return None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """At most ``max_attempts`` hand-overs; waits ``first_delay`` times ``factor`` per attempt,
    at most ``max_delay`` (defaults: 1, 4, 16, 64 minutes, then failed)."""

    max_attempts: int = 5
    first_delay: timedelta = timedelta(minutes=1)
    factor: float = 4.0
    max_delay: timedelta = timedelta(hours=2)

    def delay(self, attempt: int) -> timedelta:
        """The wait after failed attempt number ``attempt`` (1-based)."""
        seconds = self.first_delay.total_seconds() * self.factor ** max(attempt - 1, 0)
        return min(timedelta(seconds=seconds), self.max_delay)


class Mailer:
    """Delivers one shop's messages through ``transport`` at the shop's send rate."""

    def __init__(
        self,
        transport: Transport,
        *,
        shop: str,
        rate_per_minute: int = 60,
        limiter: SendRateLimiter | None = None,
        retry: RetryPolicy | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.transport = transport
        self.shop = shop
        self.rate_per_minute = rate_per_minute
        self.limiter = limiter or SendRateLimiter()
        self.retry = retry or RetryPolicy()
        self.clock = clock or (lambda: datetime.now(UTC))

    @classmethod
    def for_settings(
        cls,
        shop: str,
        settings: MailSettings,
        *,
        base_dir: str | os.PathLike[str] | None = None,
        environ: Mapping[str, str] | None = None,
        ssl_context: ssl.SSLContext | None = None,
        limiter: SendRateLimiter | None = None,
        retry: RetryPolicy | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> Mailer:
        """The transport the ``mail:`` section asks for: the dry-run folder (relative to
        ``base_dir``, the config file's folder) when set, else the SMTP server."""
        transport: Transport
        if settings.dry_run is not None:
            folder = Path(settings.dry_run)
            if not folder.is_absolute() and base_dir is not None:
                folder = Path(base_dir) / folder
            transport = DryRunTransport(folder)
        elif settings.smtp is not None:
            transport = SmtpTransport.from_settings(
                settings.smtp, environ=environ, ssl_context=ssl_context
            )
        else:
            raise MailError("mail: needs smtp: or dry_run:")
        return cls(
            transport,
            shop=shop,
            rate_per_minute=settings.rate_per_minute,
            limiter=limiter,
            retry=retry,
            clock=clock,
        )

    def deliver(
        self, mail: OutgoingMail, *, attempt: int = 1, before_end: BeforeEnd | None = None
    ) -> Delivery:
        """Hand ``mail`` over once (``attempt``: 1 the first time, then ``next_attempt``);
        ``before_end`` as the module says."""
        if attempt < 1:
            raise ValueError("attempt starts at 1")
        if self.transport.rate_limited:
            wait = self.limiter.acquire(self.shop, self.rate_per_minute)
            if wait > 0:
                return Delivery(
                    DeliveryStatus.RETRY,
                    mail.message_id,
                    attempt,
                    retry_at=self.clock() + timedelta(seconds=wait),
                    next_attempt=attempt,
                    reason="rate_limited",
                )
        try:
            reply = self.transport.send(mail, before_end=before_end)
        except TransportError as exc:
            return self._failure(mail, attempt, exc)
        reason = "written" if not self.transport.rate_limited else "accepted"
        return Delivery(DeliveryStatus.SENT, mail.message_id, attempt, reply=reply, reason=reason)

    def _failure(self, mail: OutgoingMail, attempt: int, exc: TransportError) -> Delivery:
        if not exc.transient:
            return Delivery(
                DeliveryStatus.FAILED, mail.message_id, attempt, code=exc.code,
                reply=exc.reply, reason="permanent",
            )  # fmt: skip
        if attempt >= self.retry.max_attempts:
            return Delivery(
                DeliveryStatus.FAILED, mail.message_id, attempt, code=exc.code,
                reply=exc.reply, reason="gave_up",
            )  # fmt: skip
        return Delivery(
            DeliveryStatus.RETRY,
            mail.message_id,
            attempt,
            retry_at=self.clock() + self.retry.delay(attempt),
            next_attempt=attempt + 1,
            code=exc.code,
            reply=exc.reply,
            reason="transient",
        )

    def close(self) -> None:
        self.transport.close()
