"""The links of the follow-up e-mails: ``follow_up.link``/``link_text`` and the shop's
``booking_url``/``review_url``, loaded, kept with the planned message, or every mistake pinned."""

from __future__ import annotations

import pytest
import yaml
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from aftersale_kit.core.config import load_config_text
from aftersale_kit.core.contact.follow_up import FollowUp
from aftersale_kit.core.errors import ConfigError
from aftersale_kit.core.schema import config_json_schema
from aftersale_kit.service.followups import message_data

from .builders import follow_up_campaign, order

P = "campaigns[0].actions[0].follow_up"
REMINDER = "kind: service_reminder\nafter: {months: 3}\n"
BOOKING = "https://elektro.example.de/service/termin"


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config_text(text, filename="shop.yaml")
    return [str(p) for p in info.value.problems]


def action(body: str, head: str = "") -> FollowUp:
    config = load_config_text(follow_up_campaign(body, head=head), filename="shop.yaml")
    found = config.campaigns[0].actions[0]
    assert isinstance(found, FollowUp)
    return found


def test_a_link_and_its_text_load_and_go_with_the_planned_message() -> None:
    found = action(f"{REMINDER}link: '  {BOOKING} '\nlink_text: ' Prüftermin buchen '")
    assert (found.link, found.link_text) == (BOOKING, "Prüftermin buchen")
    assert found.summary()["link"] == BOOKING
    data = message_data(order(), found)
    assert (data["booking_url"], data["link_text"]) == (BOOKING, "Prüftermin buchen")


@pytest.mark.parametrize(
    ("kind", "key"),
    [("review_request", "review_url"), ("points_reminder", "shop_url")],
)
def test_each_kind_keeps_its_link_under_the_key_its_e_mail_reads(kind: str, key: str) -> None:
    found = action(f"kind: {kind}\nafter: {{days: 21}}\nlink: https://elektro.example.de/x")
    data = message_data(order(), found)
    assert data[key] == "https://elektro.example.de/x" and "link_text" not in data
    assert "booking_url" not in data or key == "booking_url"


def test_without_a_link_the_message_keeps_none_and_a_loopback_http_link_is_fine() -> None:
    assert "booking_url" not in message_data(order(), action(REMINDER))
    local = action(f"{REMINDER}link: http://localhost:8080/termin")
    assert local.link == "http://localhost:8080/termin"


def test_the_shop_links_load() -> None:
    head = f"  booking_url: {BOOKING}\n  review_url: https://elektro.example.de/bewertungen\n"
    config = load_config_text(follow_up_campaign(REMINDER, head=head), filename="shop.yaml")
    assert config.settings.booking_url == BOOKING
    assert config.settings.review_url == "https://elektro.example.de/bewertungen"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "link: javascript:alert(document.cookie)",
            f"shop.yaml:13:17: {P}.link: a link must open a web page (https://...), not a "
            "javascript: address",
        ),
        (
            "link: 'data:text/html,<script>alert(1)</script>'",
            f"shop.yaml:13:17: {P}.link: the address contains spaces, quotes or other "
            "characters a link cannot have; write it as the browser shows it, e.g. "
            "https://shop.example/service/termin",
        ),
        (
            "link: data:text/html;base64,PHNjcmlwdD4=",
            f"shop.yaml:13:17: {P}.link: a link must open a web page (https://...), not a "
            "data: address",
        ),
        (
            "link: http://elektro.example.de/termin",
            f"shop.yaml:13:17: {P}.link: plain http:// is only allowed for localhost; write "
            "'https://elektro.example.de/termin'",
        ),
        (
            "link: elektro.example.de/termin",
            f"shop.yaml:13:17: {P}.link: write the address with https://, e.g. "
            "'https://elektro.example.de/termin'",
        ),
        (
            "link: https://",
            f"shop.yaml:13:17: {P}.link: write the page's full address with its host, e.g. "
            "https://shop.example/service/termin",
        ),
        (
            "link: https://kunde:geheim@elektro.example.de/termin",
            f"shop.yaml:13:17: {P}.link: write the address without a user name or password",
        ),
        (
            f"link: {BOOKING}?x={'a' * 2000}",
            f"shop.yaml:13:17: {P}.link: the address has 2044 characters; at most 2000 are allowed",
        ),
        (
            f"link: {BOOKING}\nlink_text: '{'x' * 61}'",
            f"shop.yaml:14:22: {P}.link_text: the text has 61 characters; a button takes at "
            "most 60",
        ),
        (
            f'link: {BOOKING}\nlink_text: "Termin\\nBcc: x@example.org"',
            f"shop.yaml:14:22: {P}.link_text: write the button's text on one line, without "
            "control characters",
        ),
        (
            "link_text: Termin buchen",
            f"shop.yaml:13:22: {P}.link_text: link_text is the text of the link's button; add "
            "link: https://shop.example/service/termin",
        ),
        (
            f"booking_url: {BOOKING}",
            f"shop.yaml:13:11: {P}: unknown key 'booking_url' (did you mean 'link'?)",
        ),
    ],
)
def test_link_mistakes(body: str, expected: str) -> None:
    assert problems(follow_up_campaign(REMINDER + body)) == [expected]


def test_a_survey_takes_no_link() -> None:
    text = follow_up_campaign(f"kind: survey\nafter: {{days: 7}}\nlink: {BOOKING}")
    assert problems(text) == [
        f"shop.yaml:13:17: {P}.link: a survey's links are its five rating links; remove link:"
    ]


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (
            "  booking_url: javascript:alert(1)\n",
            "shop.yaml:6:16: shop.booking_url: a link must open a web page (https://...), not "
            "a javascript: address",
        ),
        (
            "  review_url: http://elektro.example.de/bewertungen\n",
            "shop.yaml:6:15: shop.review_url: plain http:// is only allowed for localhost; "
            "write 'https://elektro.example.de/bewertungen'",
        ),
        (
            "  review_url: [https://a.example]\n",
            "shop.yaml:6:15: shop.review_url: expected a web address such as "
            "https://shop.example/bewertungen, got a list",
        ),
    ],
)
def test_shop_link_mistakes(head: str, expected: str) -> None:
    assert problems(follow_up_campaign(REMINDER, head=head)) == [expected]


def test_the_schema_has_the_links_and_refuses_what_the_loader_refuses() -> None:
    validator = Draft202012Validator(config_json_schema())
    head = f"  booking_url: {BOOKING}\n  review_url: https://elektro.example.de/bewertungen\n"
    head += "  contact: {phone: '+49 30 1234567', email: s@elektro.example.de, hours: Mo-Fr}\n"
    body = f"{REMINDER}link: {BOOKING}\nlink_text: Prüftermin buchen"
    document = yaml.safe_load(follow_up_campaign(body, head=head))
    assert list(validator.iter_errors(document)) == []
    follow_up = document["campaigns"][0]["actions"][0]["follow_up"]
    for bad in ("javascript:alert(1)", "http://elektro.example.de/x", "https://"):
        follow_up["link"] = bad
        document["shop"]["booking_url"] = bad
        assert len(list(validator.iter_errors(document))) == 2, bad
    follow_up["link"] = "http://127.0.0.1:8080/x"
    document["shop"]["booking_url"] = BOOKING
    follow_up["link_text"] = "x" * 61
    assert len(list(validator.iter_errors(document))) == 1
    del follow_up["link_text"]
    document["shop"]["contact"]["phone"] = "call us"
    document["shop"]["contact"]["fax"] = "030 1"
    assert len(list(validator.iter_errors(document))) == 2


def test_the_shop_contact_block_loads() -> None:
    head = (
        "  contact:\n    phone: '+49 30 1234567'\n    email: service@elektro.example.de\n"
        "    hours: Mo-Fr 9-18 Uhr\n"
    )
    config = load_config_text(follow_up_campaign(REMINDER, head=head), filename="shop.yaml")
    contact = config.settings.contact
    assert contact is not None
    assert (contact.phone, contact.email, contact.hours) == (
        "+49 30 1234567",
        "service@elektro.example.de",
        "Mo-Fr 9-18 Uhr",
    )
    only_phone = load_config_text(
        follow_up_campaign(REMINDER, head="  contact: {phone: 030 123456}\n"), filename="shop.yaml"
    ).settings.contact
    assert only_phone is not None and (only_phone.phone, only_phone.email) == ("030 123456", None)


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (
            "  contact: {phone: call us}\n",
            "shop.yaml:6:20: shop.contact.phone: expected a phone number such as "
            "+49 30 1234567, got 'call us'",
        ),
        (
            "  contact: {email: 'x@y'}\n",
            "shop.yaml:6:20: shop.contact.email: expected an e-mail address such as "
            "service@shop.example, got 'x@y'",
        ),
        (
            f"  contact: {{hours: '{'9-18 ' * 25}'}}\n",
            "shop.yaml:6:20: shop.contact.hours: expected one line of at most 120 characters, "
            "e.g. Mo-Fr 9-18 Uhr, got '9-18 9-18 9-18 9-18 9-18 9-18 9-18 9-18 9-18 9-18 9-18 "
            "9-...'",
        ),
        (
            "  contact: {fax: '030 1'}\n",
            "shop.yaml:6:13: shop.contact: unknown key 'fax'",
        ),
    ],
)
def test_shop_contact_mistakes(head: str, expected: str) -> None:
    assert problems(follow_up_campaign(REMINDER, head=head)) == [expected]
