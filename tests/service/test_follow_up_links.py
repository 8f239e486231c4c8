"""The follow-up links end to end over real HTTP, on SQLite and PostgreSQL, with the shops'
sandboxes and a real SMTP server on loopback: a survey rating recorded once, a low rating's
complaint (support e-mail, note and tag) raised exactly once, the short form, the newsletter
double opt-in (one confirmation e-mail; only its confirmation records consent, visible on the
sandbox customer) and the unsubscribe page and one-click POST; hostile data inert; bad input
answered 4xx, never 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mail.smtp_sink import Sink, smtp_sink

from aftersale_kit.mail import Purpose
from aftersale_kit.service.followups import COMPLAINT_TAG
from aftersale_kit.storage import JobStatus

from .conftest import write_shopify_config, write_woocommerce_config
from .followup_support import (
    SUPPORT,
    add_mail,
    expired_token,
    follow,
    link_env,
    link_in,
    links,
    planned_message,
    shop_of,
)
from .harness import Service, running_service, wait_for

HOSTILE = '<script>alert("x")</script>'
pytestmark = pytest.mark.slow


@pytest.fixture
def sink() -> Iterator[Sink]:
    with smtp_sink() as running:
        yield running


def _jobs_done(svc: Service) -> bool:
    pending = svc.store.jobs(status=JobStatus.PENDING, limit=100)
    running = svc.store.jobs(status=JobStatus.CLAIMED, limit=100)
    return not pending and not running


def _dead(svc: Service) -> list[Any]:
    return list(svc.store.jobs(status=JobStatus.DEAD, limit=100))


def _shopify_service(sandbox: Any, tmp_path: Path, db_url: str, sink: Sink) -> Any:
    config, env = write_shopify_config(tmp_path / "shops", sandbox)
    add_mail(config, sink.port)
    return running_service(config=config, db_url=db_url, env=link_env(env))


def test_shopify_rating_1_complains_once_and_the_form_is_stored_once(
    shopify_sandbox: Any, tmp_path: Path, db_url: str, sink: Sink
) -> None:
    sandbox = shopify_sandbox
    order = sandbox.create_order(
        email="kim@example.com",
        customer={"first_name": HOSTILE, "last_name": "Weber", "email": "kim@example.com"},
        shipping_title="DHL Paket",
        line_items=[{"title": "Espresso", "price": "40.00"}],
    )
    order_id = str(order["id"])
    with _shopify_service(sandbox, tmp_path, db_url, sink) as svc:
        shop = shop_of(svc)
        rating_urls = links(svc).survey_answers(shop=shop, subject=order_id)
        # when the customer clicks "1" in the survey e-mail
        first = follow(svc, rating_urls[0])
        assert first.status_code == 200
        assert "Ihre Bewertung: 1 von 5." in first.text
        assert '<form method="post"' in first.text and "<script" not in first.text
        assert "script-src" not in first.headers["content-security-policy"]
        assert "default-src 'none'" in first.headers["content-security-policy"]
        wait_for(lambda: len(sink.received) == 1 and _jobs_done(svc))
        # and again, then "5" (the same question set)
        again = follow(svc, rating_urls[0])
        other = follow(svc, rating_urls[4])
        assert "Ihre Bewertung: 1 von 5." in again.text and "Ihre Bewertung: 1 von 5." in other.text
        # then the form: delivery "no", a hostile comment
        form = {
            "satisfied": "no",
            "delivery": "no",
            "payment": "yes",
            "wait": "much_longer",
            "comment": f"Karton nass {HOSTILE}",
        }
        posted = httpx.post(f"{svc.url}/v1/survey/{_token(rating_urls[0])}", data=form)
        assert posted.status_code == 200
        assert "&lt;script&gt;" in posted.text and HOSTILE not in posted.text
        assert "Viel zu lange" in posted.text
        # a second form stores nothing new
        second = httpx.post(
            f"{svc.url}/v1/survey/{_token(rating_urls[0])}", data={**form, "comment": "anders"}
        )
        assert "Karton nass" in second.text and "anders" not in second.text
        wait_for(lambda: _jobs_done(svc))
        answer = svc.store.survey_answer(shop, order_id)
        dead = _dead(svc)
    # then one rating, stored with the shipping method, and the form as first sent
    assert answer is not None and answer.rating == 1 and answer.shipping_method == "DHL Paket"
    assert answer.form.delivery_ok is False and answer.form.comment == f"Karton nass {HOSTILE}"
    assert dead == []
    # and exactly one complaint e-mail, to the support address, hostile name escaped
    (mail,) = sink.received
    assert mail.rcpt_tos == [SUPPORT]
    message = mail.message
    assert "Bewertung 1 von 5" in str(message["Subject"])
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert HOSTILE not in html and "&lt;script&gt;" in html
    # and the note and the tag on the sandbox order, once
    note = sandbox.order(order_id)["note"] or ""
    assert note.count("Survey complaint: rating 1/5") == 1
    assert COMPLAINT_TAG in sandbox.tags()[f"gid://shopify/Order/{order_id}"]


def _token(url: str) -> str:
    return url.split("/v1/survey/", 1)[1].split("?", 1)[0]


def test_woocommerce_rating_1_complains_with_note_and_tag(
    woocommerce_sandbox: Any, tmp_path: Path, db_url: str, sink: Sink
) -> None:
    sandbox = woocommerce_sandbox
    config, env = write_woocommerce_config(tmp_path / "shops", sandbox)
    add_mail(config, sink.port, locale="en_GB")
    order = sandbox.create_order("wc_v3_order_727", customer_id=5, email="ada@example.com")
    order_id = str(order["id"])
    sandbox.pay(int(order_id))
    with running_service(config=config, db_url=db_url, env=link_env(env)) as svc:
        url = links(svc).survey_answers(shop=shop_of(svc), subject=order_id)[0]
        page = follow(svc, url)
        assert page.status_code == 200 and "Your rating: 1 of 5." in page.text
        wait_for(lambda: len(sink.received) == 1 and _jobs_done(svc))
        follow(svc, url)
        wait_for(lambda: _jobs_done(svc))
        dead = _dead(svc)
    assert dead == []
    (mail,) = sink.received
    assert mail.rcpt_tos == [SUPPORT] and "rating 1 of 5" in str(mail.message["Subject"])
    notes = [n for n in sandbox.notes(int(order_id)) if "Survey complaint" in n["note"]]
    assert len(notes) == 1 and notes[0]["customer_note"] is False
    tags = {m["key"]: m["value"] for m in sandbox.order_meta(int(order_id))}
    assert COMPLAINT_TAG in tags.get("aftersale_kit_tags", "")


def test_shopify_newsletter_signup_sends_one_confirmation_and_only_it_records_consent(
    shopify_sandbox: Any, tmp_path: Path, db_url: str, sink: Sink
) -> None:
    sandbox = shopify_sandbox
    order = sandbox.create_order(
        customer={"first_name": "Kim", "email": "kim@example.com"},
        line_items=[{"title": "Espresso", "price": "40.00"}],
    )
    order_id, customer_id = str(order["id"]), int(order["customer"]["id"])
    with _shopify_service(sandbox, tmp_path, db_url, sink) as svc:
        shop = shop_of(svc)
        signup = links(svc).newsletter_signup(shop=shop, subject=order_id)
        # when the signup link is clicked three times
        pages = [follow(svc, signup) for _ in range(3)]
        assert [p.status_code for p in pages] == [200, 200, 200]
        assert "Fast geschafft" in pages[0].text
        wait_for(lambda: len(sink.received) == 1 and _jobs_done(svc))
        # then one confirmation e-mail, and no consent yet
        requested = svc.store.consent(shop, order_id)
        assert requested is not None and requested.confirmed_at is None
        assert sandbox.email_marketing_consent(customer_id)["marketing_state"] == "NOT_SUBSCRIBED"
        (mail,) = sink.received
        assert mail.rcpt_tos == ["kim@example.com"]
        text = mail.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        confirm = link_in(text, "/v1/newsletter/confirm/")
        # when the customer confirms (twice)
        confirmed = [follow(svc, confirm) for _ in range(2)]
        assert [c.status_code for c in confirmed] == [200, 200]
        assert "Anmeldung bestätigt" in confirmed[0].text
        wait_for(lambda: _jobs_done(svc))
        consent = svc.store.confirmed_consent(shop, "kim@example.com")
        dead = _dead(svc)
    assert dead == [] and len(sink.received) == 1
    assert consent is not None and consent.confirmed_at is not None
    assert (consent.source, consent.text_version) == ("thank_you", "newsletter-v1")
    on_platform = sandbox.email_marketing_consent(customer_id)
    assert on_platform["marketing_state"] == "SUBSCRIBED"
    assert on_platform["opt_in_level"] == "CONFIRMED_OPT_IN"


def test_unsubscribe_page_then_one_click_and_bad_links(
    shopify_sandbox: Any, tmp_path: Path, db_url: str, sink: Sink
) -> None:
    with _shopify_service(shopify_sandbox, tmp_path, db_url, sink) as svc:
        shop = shop_of(svc)
        # an unsubscribe link names a message (its row id), never the address
        message = planned_message(svc, "5001", "Kim@Example.com")
        url = links(svc).unsubscribe(shop=shop, subject=message)
        # a GET shows a button and changes nothing (mail filters fetch links)
        page = follow(svc, url)
        assert page.status_code == 200 and 'name="List-Unsubscribe"' in page.text
        assert svc.store.suppression(shop, "kim@example.com") is None
        # the RFC 8058 one-click POST unsubscribes
        target = f"{svc.url}/v1/unsubscribe/{url.rsplit('/', 1)[1]}"
        done = httpx.post(
            target,
            content=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert done.status_code == 200 and "Sie sind abgemeldet" in done.text
        assert httpx.post(target, content=b"List-Unsubscribe=One-Click").status_code == 200
        found = svc.store.suppression(shop, "kim@example.com")
        assert found is not None and found.reason == "unsubscribe_link"
        assert found.subject == message
        (row,) = svc.store.messages(shop, order_id="5001")
        assert (row.state.value, row.reason) == ("cancelled", "unsubscribed: unsubscribe_link")
        assert "Sie sind abgemeldet" in follow(svc, url).text
        # a link naming no message of the shop is a 404
        unknown = links(svc).unsubscribe(shop=shop, subject="999999")
        assert follow(svc, unknown).status_code == 404
        # bad links: 4xx pages, never a 5xx
        survey = links(svc).survey_answers(shop=shop, subject="1")[0]
        token = survey.split("/v1/survey/", 1)[1].split("?", 1)[0]
        answers = {
            "tampered": httpx.get(f"{svc.url}/v1/survey/{token[:-2]}xx?rating=1"),
            "garbage": httpx.get(f"{svc.url}/v1/survey/%00%ff..?rating=1"),
            "wrong purpose": httpx.get(f"{svc.url}/v1/unsubscribe/{token}"),
            "expired": httpx.get(
                f"{svc.url}/v1/survey/{expired_token(svc, Purpose.SURVEY, '1')}?rating=1"
            ),
            "rating 9": httpx.get(f"{svc.url}/v1/survey/{token}?rating=9"),
            "no rating": httpx.get(f"{svc.url}/v1/survey/{token}"),
            "form before rating": httpx.post(f"{svc.url}/v1/survey/{token}", data={"wait": "x"}),
            "huge form": httpx.post(f"{svc.url}/v1/survey/{token}", content=b"a=" + b"x" * 9000),
            "not utf-8": httpx.post(f"{svc.url}/v1/survey/{token}", content=b"comment=\xff\xfe"),
            "confirm without signup": follow(
                svc, links(svc).newsletter_confirm(shop=shop, subject="nope")
            ),
        }
        statuses = {name: r.status_code for name, r in answers.items()}
    assert statuses == {
        "tampered": 404,
        "garbage": 404,
        "wrong purpose": 404,
        "expired": 410,
        "rating 9": 400,
        "no rating": 400,
        "form before rating": 400,
        "huge form": 400,
        "not utf-8": 400,
        "confirm without signup": 404,
    }
    assert all(r.headers["content-type"].startswith("text/html") for r in answers.values())


NEWSLETTER_CAMPAIGN = """\
campaigns:
  - id: news
    trigger: order_paid
    actions:
      - show_block: {block: newsletter, params: {signup_url: "https://bohne.example/news"}}
"""


def test_the_thank_you_newsletter_block_carries_the_one_click_signup(
    shopify_sandbox: Any, tmp_path: Path, db_url: str, sink: Sink
) -> None:
    sandbox = shopify_sandbox
    config, env = write_shopify_config(tmp_path / "shops", sandbox)
    add_mail(config, sink.port)
    path = config / "shop.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index("campaigns:")] + NEWSLETTER_CAMPAIGN, encoding="utf-8")
    with running_service(config=config, db_url=db_url, env=link_env(env)) as svc:
        sandbox.subscribe("orders/paid", f"{svc.url}/webhooks/shopify")
        order = sandbox.create_order(
            customer={"first_name": "Kim", "email": "kim@example.com"},
            line_items=[{"title": "Espresso", "price": "40.00"}],
        )
        order_id = str(order["id"])
        assert sandbox.wait_for_deliveries(10)
        wait_for(lambda: svc.store.blocks_json(shop_of(svc), order_id) is not None)
        wait_for(lambda: _jobs_done(svc))
        blocks = (svc.store.blocks_json(shop_of(svc), order_id) or b"").decode()
        # then the block links to the signed signup, not to the configured page
        assert "/v1/newsletter/signup/" in blocks and "bohne.example/news" not in blocks
        signup = link_in(blocks.replace("\\u0026", "&"), "/v1/newsletter/signup/")
        assert follow(svc, signup).status_code == 200
        wait_for(lambda: len(sink.received) == 1 and _jobs_done(svc))
        dead = _dead(svc)
    assert dead == []
    assert sink.received[0].rcpt_tos == ["kim@example.com"]
