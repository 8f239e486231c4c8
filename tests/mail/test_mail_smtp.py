"""Delivery to a real SMTP server on loopback (aiosmtpd): accepted, retried, failed, encrypted."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from datetime import timedelta

import pytest
import trustme

from aftersale_kit.core.mail_settings import SmtpSecurity, SmtpSettings
from aftersale_kit.mail import (
    DeliveryStatus,
    MailComposer,
    Mailer,
    MailError,
    MailLinks,
    RetryPolicy,
    SendRateLimiter,
    SmtpTransport,
    TransportError,
)

from .conftest import SHOP, Clock, mail_settings, reminder_request, survey_request
from .smtp_sink import Sink, free_port, smtp_sink


def plain(port: int) -> SmtpTransport:
    return SmtpTransport(SmtpSettings("127.0.0.1", port, SmtpSecurity.NONE, timeout_seconds=5))


@pytest.fixture
def mailer(sink: Sink, clock: Clock) -> Iterator[Mailer]:
    m = Mailer(plain(sink.port), shop=SHOP, rate_per_minute=600, clock=clock)
    yield m
    m.close()


HOSTILE = "Eve <b>x</b>\r\nBcc: victim@example.org\r\nX-Injected: yes"


def test_a_message_arrives_with_its_headers_and_envelope(
    sink: Sink, mailer: Mailer, composer: MailComposer, links: MailLinks
) -> None:
    mail = composer.compose(reminder_request(links, to_name=HOSTILE))
    delivery = mailer.deliver(mail)
    assert (delivery.status, delivery.attempt, delivery.reason) == (
        DeliveryStatus.SENT,
        1,
        "accepted",
    )
    [got] = sink.received
    assert (got.mail_from, got.rcpt_tos) == ("hallo@bohne.example", ["kim@example.com"])
    message = got.message
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["From"].addresses[0].addr_spec == "hallo@bohne.example"
    assert message["Reply-To"] == "service@bohne.example"
    assert message["Message-ID"] == mail.message_id == delivery.message_id
    assert str(message["List-Unsubscribe"]).startswith("<https://after.bohne.example/v1/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # the hostile name added no header and no recipient
    assert "Bcc" not in message and "X-Injected" not in message
    html = message.get_body(("html",))
    assert html is not None and "<b>x</b>" not in html.get_content()


def test_a_subject_with_line_breaks_adds_no_header_at_the_server(
    sink: Sink, mailer: Mailer, composer: MailComposer, links: MailLinks
) -> None:
    number = "#1001\r\nBcc: victim@example.org\r\n\r\n<script>x</script>"
    data = {"order_number": number, "rating_urls": links.survey_answers(shop=SHOP, subject="o")}
    assert mailer.deliver(composer.compose(survey_request(links, data=data))).status == "sent"
    [got] = sink.received
    assert got.rcpt_tos == ["kim@example.com"] and "Bcc" not in got.message
    assert got.message["Subject"] == (
        "Wie zufrieden waren Sie mit Ihrer Bestellung #1001 Bcc: victim@example.org "
        "<script>x</script>?"
    )
    html = got.message.get_body(("html",))
    assert html is not None and "<script>" not in html.get_content()


def test_a_resend_after_a_crash_carries_the_same_message_id(
    sink: Sink, mailer: Mailer, composer: MailComposer, links: MailLinks, clock: Clock
) -> None:
    first = composer.compose(survey_request(links))
    assert mailer.deliver(first).status is DeliveryStatus.SENT
    # the worker died before recording "sent"; after the restart the message is built again
    clock.now += timedelta(minutes=3)
    again = composer.compose(survey_request(links))
    assert mailer.deliver(again).status is DeliveryStatus.SENT
    ids = sink.message_ids()
    assert len(ids) == 2 and ids[0] == ids[1] == first.message_id


def test_a_4xx_reply_is_retried_later_then_succeeds(
    sink: Sink, mailer: Mailer, composer: MailComposer, links: MailLinks, clock: Clock
) -> None:
    sink.data_replies.append("451 4.3.0 Mail server temporarily rejected message")
    mail = composer.compose(survey_request(links))
    first = mailer.deliver(mail, attempt=1)
    assert first.status is DeliveryStatus.RETRY and first.reason == "transient"
    assert (first.code, first.next_attempt) == (451, 2)
    assert first.reply == "4.3.0 Mail server temporarily rejected message"
    assert first.retry_at == clock.now + timedelta(minutes=1)
    assert sink.received == []
    second = mailer.deliver(mail, attempt=first.next_attempt or 0)
    assert (second.status, second.attempt) == (DeliveryStatus.SENT, 2)
    assert sink.message_ids() == [mail.message_id]


def test_a_4xx_at_rcpt_is_transient_too(
    sink: Sink, mailer: Mailer, composer: MailComposer, links: MailLinks
) -> None:
    sink.rcpt_replies.append("450 4.2.1 Mailbox busy")
    delivery = mailer.deliver(composer.compose(survey_request(links)))
    assert (delivery.status, delivery.code, delivery.reply) == (
        DeliveryStatus.RETRY,
        450,
        "4.2.1 Mailbox busy",
    )


@pytest.mark.parametrize(
    ("where", "reply", "code", "text"),
    [
        ("data", "554 5.7.1 Message rejected as spam", 554, "5.7.1 Message rejected as spam"),
        ("rcpt", "550 5.1.1 No such user here", 550, "5.1.1 No such user here"),
    ],
)
def test_a_5xx_reply_is_a_permanent_failure_with_the_servers_text(
    sink: Sink,
    mailer: Mailer,
    composer: MailComposer,
    links: MailLinks,
    where: str,
    reply: str,
    code: int,
    text: str,
) -> None:
    (sink.data_replies if where == "data" else sink.rcpt_replies).append(reply)
    delivery = mailer.deliver(composer.compose(survey_request(links)), attempt=1)
    assert (delivery.status, delivery.reason, delivery.code, delivery.reply) == (
        DeliveryStatus.FAILED,
        "permanent",
        code,
        text,
    )
    assert delivery.retry_at is None and sink.received == []
    # the connection is reopened for the next message
    assert mailer.deliver(composer.compose(reminder_request(links))).status is DeliveryStatus.SENT


def test_retries_are_bounded(
    sink: Sink, composer: MailComposer, links: MailLinks, clock: Clock
) -> None:
    policy = RetryPolicy(max_attempts=3, first_delay=timedelta(minutes=1), factor=4)
    mailer = Mailer(plain(sink.port), shop=SHOP, retry=policy, clock=clock)
    sink.data_replies.extend(["421 4.7.0 Try later"] * 3)
    mail = composer.compose(survey_request(links))
    outcomes = [mailer.deliver(mail, attempt=n) for n in (1, 2, 3)]
    assert [o.status for o in outcomes] == ["retry", "retry", "failed"]
    assert [o.retry_at for o in outcomes[:2]] == [
        clock.now + timedelta(minutes=1),
        clock.now + timedelta(minutes=4),
    ]
    assert (outcomes[2].reason, outcomes[2].code) == ("gave_up", 421)
    mailer.close()


def test_a_refused_connection_is_transient(
    composer: MailComposer, links: MailLinks, clock: Clock
) -> None:
    mailer = Mailer(plain(free_port()), shop=SHOP, clock=clock)
    delivery = mailer.deliver(composer.compose(survey_request(links)))
    assert (delivery.status, delivery.code) == (DeliveryStatus.RETRY, None)
    assert "ConnectionRefusedError" in delivery.reply


def test_the_send_rate_defers_without_counting_an_attempt(
    sink: Sink, composer: MailComposer, links: MailLinks, clock: Clock
) -> None:
    seconds = [1000.0]
    limiter = SendRateLimiter(clock=lambda: seconds[0])
    mailer = Mailer(plain(sink.port), shop=SHOP, rate_per_minute=2, limiter=limiter, clock=clock)
    mails = [composer.compose(survey_request(links, idempotency_key=f"k{n}")) for n in range(3)]
    first, second, third = (mailer.deliver(m, attempt=1) for m in mails)
    assert (first.status, second.status) == (DeliveryStatus.SENT, DeliveryStatus.SENT)
    assert (third.status, third.reason, third.next_attempt) == (
        DeliveryStatus.RETRY,
        "rate_limited",
        1,
    )
    assert third.retry_at == clock.now + timedelta(seconds=30)
    assert len(sink.received) == 2
    # another shop has its own bucket
    other = Mailer(plain(sink.port), shop="other.example", rate_per_minute=2, limiter=limiter)
    assert other.deliver(mails[2]).status is DeliveryStatus.SENT
    other.close()
    seconds[0] += 30
    assert mailer.deliver(mails[2]).status is DeliveryStatus.SENT
    mailer.close()


# -- encryption and login ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


def client_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


ENV = {"BOHNE_SMTP_USER": "bohne", "BOHNE_SMTP_PASSWORD": "s3cret-pass"}


def tls_settings(port: int, security: SmtpSecurity) -> SmtpSettings:
    return SmtpSettings(
        "127.0.0.1", port, security, "BOHNE_SMTP_USER", "BOHNE_SMTP_PASSWORD", timeout_seconds=5
    )


def test_starttls_with_a_login_from_the_environment(
    ca: trustme.CA, composer: MailComposer, links: MailLinks, clock: Clock
) -> None:
    with smtp_sink(starttls=server_context(ca), login=("bohne", "s3cret-pass")) as sink:
        settings = mail_settings(smtp=tls_settings(sink.port, SmtpSecurity.STARTTLS))
        mailer = Mailer.for_settings(
            SHOP, settings, environ=ENV, ssl_context=client_context(ca), clock=clock
        )
        delivery = mailer.deliver(composer.compose(survey_request(links)))
        mailer.close()
        assert delivery.status is DeliveryStatus.SENT
        assert sink.logins == ["bohne"] and len(sink.received) == 1
        # a wrong password is the shop's setting, not the message's fault: retried later
        wrong = Mailer.for_settings(
            SHOP,
            settings,
            environ={**ENV, "BOHNE_SMTP_PASSWORD": "nope"},
            ssl_context=client_context(ca),
            clock=clock,
        )
        refused = wrong.deliver(composer.compose(survey_request(links)))
        assert (refused.status, refused.code) == (DeliveryStatus.RETRY, 535)
        # a certificate the client does not trust: nothing is sent
        untrusted = Mailer.for_settings(SHOP, settings, environ=ENV, clock=clock)
        failed = untrusted.deliver(composer.compose(survey_request(links)))
        assert failed.status is DeliveryStatus.RETRY and "CERTIFICATE_VERIFY_FAILED" in failed.reply
        assert len(sink.received) == 1


def test_starttls_is_required_never_skipped(
    sink: Sink, ca: trustme.CA, composer: MailComposer, links: MailLinks
) -> None:
    # the loopback sink offers no STARTTLS: the transport refuses to go on in plain text
    settings = SmtpSettings("127.0.0.1", sink.port, SmtpSecurity.STARTTLS, timeout_seconds=5)
    mailer = Mailer(SmtpTransport(settings, ssl_context=client_context(ca)), shop=SHOP)
    delivery = mailer.deliver(composer.compose(survey_request(links)))
    assert delivery.status is DeliveryStatus.RETRY and "STARTTLS" in delivery.reply
    assert sink.received == []


def test_implicit_tls(ca: trustme.CA, composer: MailComposer, links: MailLinks) -> None:
    with smtp_sink(implicit_tls=server_context(ca)) as sink:
        settings = SmtpSettings("127.0.0.1", sink.port, SmtpSecurity.TLS, timeout_seconds=5)
        mailer = Mailer(SmtpTransport(settings, ssl_context=client_context(ca)), shop=SHOP)
        assert mailer.deliver(composer.compose(survey_request(links))).status == "sent"
        mailer.close()
        assert len(sink.received) == 1


def test_missing_credentials_and_plain_text_off_the_machine_are_refused() -> None:
    settings = tls_settings(587, SmtpSecurity.STARTTLS)
    with pytest.raises(MailError, match="BOHNE_SMTP_PASSWORD is not set"):
        SmtpTransport.from_settings(settings, environ={"BOHNE_SMTP_USER": "bohne"})
    with pytest.raises(MailError, match="only allowed for 127"):
        SmtpTransport(SmtpSettings("smtp.example.com", 25, SmtpSecurity.NONE))


def test_a_refused_hand_over_leaves_the_server_nothing_and_the_next_send_works(
    sink: Sink, composer: MailComposer, links: MailLinks
) -> None:
    transport = plain(sink.port)
    mail = composer.compose(reminder_request(links))
    seen: list[int] = []

    def refuse() -> bool:
        seen.append(len(sink.received))
        return False

    try:
        with pytest.raises(TransportError) as refused:
            transport.send(mail, before_end=refuse)
        assert refused.value.transient and "lease was lost" in refused.value.reply
        assert seen == [0]  # asked once, after the text and before the end of data
        assert sink.received == []  # the connection closed in the middle of data
        reply = transport.send(mail, before_end=lambda: True)
        assert reply.startswith("250")
        assert sink.message_ids() == [mail.message_id]
        assert sink.received[0].message.get_body(("plain",)) is not None
    finally:
        transport.close()


def test_a_line_starting_with_a_dot_arrives_as_written(
    sink: Sink, composer: MailComposer, links: MailLinks
) -> None:
    transport = plain(sink.port)
    mail = composer.compose(reminder_request(links))
    mail.message.get_body(("plain",)).set_content(".\n..zwei\nende\n")  # type: ignore[union-attr]
    try:
        transport.send(mail)
    finally:
        transport.close()
    [got] = sink.received
    body = got.message.get_body(("plain",))
    assert body is not None
    assert body.get_content().replace("\r\n", "\n") == ".\n..zwei\nende\n"
