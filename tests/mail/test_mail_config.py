"""The mail: section: loaded, every mistake pinned with file:line:col, the JSON Schema agrees."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from aftersale_kit.core.config import load_config_text
from aftersale_kit.core.errors import ConfigError
from aftersale_kit.core.mail_settings import MailSettings, SmtpSecurity, SmtpSettings
from aftersale_kit.core.schema import config_json_schema

TOP = "shop:\n  platform: shopify\n  domain: bohne.myshopify.com\n  currency: EUR\ncampaigns: []\n"
FULL = """mail:
  sender: "Kaffeerösterei Bohne <hallo@bohne.example>"
  reply_to: service@bohne.example
  support_address: support@bohne.example
  smtp:
    host: smtp.bohne.example
    port: 465
    security: tls
    username_env: BOHNE_SMTP_USER
    password_env: BOHNE_SMTP_PASSWORD
    timeout_seconds: 20
  rate_per_minute: 120
  dry_run: outbox/
"""


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config_text(TOP + text, filename="shop.yaml")
    return [str(p) for p in info.value.problems]


def test_a_full_mail_section_loads() -> None:
    mail = load_config_text(TOP + FULL, filename="shop.yaml").mail
    assert mail == MailSettings(
        sender_address="hallo@bohne.example",
        sender_name="Kaffeerösterei Bohne",
        reply_to="service@bohne.example",
        support_address="support@bohne.example",
        smtp=SmtpSettings(
            "smtp.bohne.example",
            465,
            SmtpSecurity.TLS,
            "BOHNE_SMTP_USER",
            "BOHNE_SMTP_PASSWORD",
            20,
        ),
        rate_per_minute=120,
        dry_run="outbox/",
    )


def test_defaults_and_the_port_follows_the_security() -> None:
    text = "mail:\n  sender: hallo@bohne.example\n  smtp:\n    host: smtp.bohne.example\n"
    mail = load_config_text(TOP + text).mail
    assert mail is not None and mail.smtp is not None
    assert (mail.sender_name, mail.smtp.port, mail.smtp.security) == (None, 587, "starttls")
    assert (mail.rate_per_minute, mail.dry_run, mail.smtp.timeout_seconds) == (60, None, 30)
    tls = load_config_text(TOP + text + "    security: tls\n").mail
    assert tls is not None and tls.smtp is not None and tls.smtp.port == 465
    assert load_config_text(TOP).mail is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "mail:\n  sender: kein-at\n  dry_run: out\n",
            "shop.yaml:7:11: mail.sender: expected an e-mail address such as shop@example.com "
            "or 'Shop name <shop@example.com>', got 'kein-at'",
        ),
        (
            "mail:\n  sender: a@b.example\n",
            "shop.yaml:7:3: mail: say how messages leave: smtp: {host: ...} to send them, or "
            "dry_run: outbox/ to write them to a folder",
        ),
        (
            "mail:\n  from: a@b.example\n  dry_run: out\n",
            "shop.yaml:7:3: mail: unknown key 'from' (did you mean 'sender'?)\n"
            "shop.yaml:7:3: mail: missing required key 'sender'",
        ),
        (
            "mail:\n  sender: a@b.example\n  smtp: {host: smtp.example.com, security: none}\n",
            "shop.yaml:8:44: mail.smtp.security: security: none sends passwords and mail "
            "unencrypted; it is only allowed for a server on 127.0.0.1 or localhost. Use "
            "starttls (port 587) or tls (port 465)",
        ),
        (
            "mail:\n  sender: a@b.example\n  smtp: {host: smtp.example.com, security: ssl}\n",
            "shop.yaml:8:44: mail.smtp.security: unknown security 'ssl' (did you mean 'tls'?); "
            "expected one of starttls, tls, none",
        ),
        (
            "mail:\n  sender: a@b.example\n  smtp: {host: 'https://smtp.example.com'}\n",
            "shop.yaml:8:16: mail.smtp.host: expected a host name such as smtp.example.com (no "
            "scheme, no port), got 'https://smtp.example.com'",
        ),
        (
            "mail:\n  sender: a@b.example\n  smtp: {host: h.example, port: 70000}\n",
            "shop.yaml:8:33: mail.smtp.port: expected a port number from 1 to 65535, got 70000",
        ),
        (
            "mail:\n  sender: a@b.example\n  smtp: {host: h.example, username_env: SMTP_USER}\n",
            "shop.yaml:8:9: mail.smtp: username_env needs password_env too: name both "
            "environment variables of the login, or neither for a server without login",
        ),
        (
            "mail:\n  sender: a@b.example\n  smtp:\n    host: h.example\n"
            "    username_env: U\n    password_env: hunter2-Secret-Value-123\n",
            "shop.yaml:11:19: mail.smtp.password_env: this looks like the secret itself; put it "
            "in an environment variable and write the variable's name here, e.g. "
            "SHOP_SMTP_PASSWORD",
        ),
        (
            "mail:\n  sender: a@b.example\n  dry_run: out\n  rate_per_minute: 0\n",
            "shop.yaml:9:20: mail.rate_per_minute: expected a whole number of messages per "
            "minute from 1 to 100000, got 0",
        ),
        (
            "mail:\n  sender: a@b.example\n  reply_to: 'x@y.example, z@w.example'\n  dry_run: o\n",
            "shop.yaml:8:13: mail.reply_to: expected an e-mail address such as "
            "service@example.com, got 'x@y.example, z@w.example'",
        ),
        (
            "mail:\n  sender: a@b.example\n  support_address: müller@b.example\n  dry_run: o\n",
            "shop.yaml:8:20: mail.support_address: expected an e-mail address such as "
            "service@example.com, got 'müller@b.example'",
        ),
    ],
)
def test_each_mistake_is_pinned(text: str, expected: str) -> None:
    assert problems(text) == expected.split("\n")


def test_every_mistake_is_reported_at_once() -> None:
    text = "mail:\n  sender: nope\n  reply_to: nope\n  smtp: {host: h.example, port: x}\n"
    found = problems(text)
    assert [p.split(": ")[1] for p in found] == ["mail.sender", "mail.reply_to", "mail.smtp.port"]


def test_the_schema_knows_the_section_and_agrees_with_the_loader() -> None:
    schema = config_json_schema()
    validator = Draft202012Validator(schema)
    import yaml

    good = yaml.safe_load(TOP + FULL)
    assert list(validator.iter_errors(good)) == []
    bad = yaml.safe_load(TOP + "mail:\n  sender: a@b.example\n  colour: blue\n")
    assert list(validator.iter_errors(bad))
    assert set(schema["properties"]["mail"]["properties"]) == {
        "sender", "reply_to", "support_address", "smtp", "rate_per_minute", "dry_run",
    }  # fmt: skip
    smtp = schema["properties"]["mail"]["properties"]["smtp"]
    assert smtp["properties"]["security"]["enum"] == ["starttls", "tls", "none"]
