"""The bytes of a composed e-mail: 7-bit clean, short lines, names and subjects read back as
written (the message is written directly, not by the ``email`` package's generator)."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from aftersale_kit.mail import MailComposer, MailLinks
from aftersale_kit.mail.wire import address_line, header_line, multipart_alternative

from .conftest import reminder_request, survey_request

LONG_NAME = 'Jürgen "Größe" <Überlänge> von und zu einem sehr langen Namen über die Zeile'


def parsed(raw: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    return message


def test_non_ascii_names_and_subjects_come_back_exactly_and_the_bytes_stay_7_bit(
    composer: MailComposer, links: MailLinks
) -> None:
    raw = composer.compose(reminder_request(links, to_name=LONG_NAME)).as_bytes()
    assert raw.isascii()
    lines = raw.split(b"\r\n")
    assert b"\n" not in b"".join(lines) and max(len(line) for line in lines) <= 998
    _, body = raw.split(b"\r\n\r\n", 1)
    assert all(len(line) <= 78 for line in body.split(b"\r\n"))
    message = parsed(raw)
    assert message["To"].addresses[0].display_name == LONG_NAME
    assert message["From"].addresses[0].display_name == "Kaffeerösterei Bohne"
    assert str(message["Subject"]) == "Zeit für die kostenlose Überprüfung"
    text = message.get_body(("plain",))
    assert text is not None and text["Content-Transfer-Encoding"] == "quoted-printable"
    assert "Wir bieten Ihnen alle 3 Monate eine kostenlose Überprüfung an" in text.get_content()


def test_ascii_text_is_sent_as_7bit_and_each_message_has_its_own_boundary() -> None:
    headers = [header_line("Subject", "Hello"), address_line("To", "Kim, W.", "kim@example.com")]
    first = multipart_alternative(headers, "Hello Kim,\r\nbye", "<p>Hello</p>")
    second = multipart_alternative(headers, "Hello Kim,\r\nbye", "<p>Hello</p>")
    a, b = parsed(first), parsed(second)
    assert a.get_boundary() != b.get_boundary()
    assert a["To"].addresses[0].display_name == "Kim, W."
    text = a.get_body(("plain",))
    assert text is not None and text["Content-Transfer-Encoding"] == "7bit"
    assert text.get_content() == "Hello Kim,\nbye\n"


def test_the_parsed_message_is_what_is_sent_from_then_on(
    composer: MailComposer, links: MailLinks
) -> None:
    mail = composer.compose(survey_request(links))
    assert mail.message["Message-ID"] == mail.message_id
    mail.message.replace_header("Subject", "Geändert")
    assert str(parsed(mail.as_bytes())["Subject"]) == "Geändert"
