"""The links the mail sweep puts in its e-mails verify at the routes, end to end: a step plans a
survey and a monthly marketing reminder, the service's own worker sends what is due to a real
SMTP server on loopback, the survey's rating link clicked over HTTP records the rating, and the
unsubscribe link of a marketing e-mail, POSTed one-click (RFC 8058), cancels the customer's
waiting messages. With the service's link key and with the key derived from ``code_secret``; on
SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from mail.smtp_sink import Sink, smtp_sink

from aftersale_kit.core.model import EventKind
from aftersale_kit.storage import MessageState

from .conftest import write_shopify_config
from .followup_support import LINK_KEY, add_mail, follow, link_in, path_of, shop_of
from .harness import running_service, wait_for

pytestmark = pytest.mark.slow

FOLLOW_UPS = """  - id: umfrage
    trigger: order_paid
    actions:
      - follow_up: {kind: survey, template: survey, after: {days: 3}, purpose: transactional}
  - id: pflege
    trigger: order_paid
    actions:
      - follow_up:
          kind: service_reminder
          template: service_reminder
          after: {days: 7}
          repeat: {every: {days: 30}, times: 3}
"""


@pytest.fixture
def sink() -> Iterator[Sink]:
    with smtp_sink() as running:
        yield running


def _text(received: Any) -> str:
    return str(received.message.get_body(("plain",)).get_content())


@pytest.mark.parametrize("key", ["service key", "derived from code_secret"])
def test_the_sweeps_survey_and_unsubscribe_links_work_at_the_routes(
    shopify_sandbox: Any, tmp_path: Path, db_url: str, sink: Sink, key: str
) -> None:
    sandbox = shopify_sandbox
    created = sandbox.create_order(
        email="kim@example.com",
        customer={"first_name": "Kim", "email": "kim@example.com"},
        shipping_title="DHL Paket",
        line_items=[{"title": "Kaffeemühle", "price": "120.00"}],
    )
    order_id = str(created["id"])
    config, env = write_shopify_config(tmp_path / "shops", sandbox)
    add_mail(config, sink.port)
    shop_file = config / "shop.yaml"
    shop_file.write_text(shop_file.read_text(encoding="utf-8") + FOLLOW_UPS, encoding="utf-8")
    env = {**env, "AFTERSALE_PUBLIC_URL": "http://127.0.0.1:9"}
    if key == "service key":
        env["AFTERSALE_LINK_KEY"] = LINK_KEY
    with running_service(config=config, db_url=db_url, env=env) as svc:
        shop = shop_of(svc)
        entry = svc.registry.by_domain(shop)
        assert entry is not None
        # the order was paid 40 days ago: the survey (3 days) and two reminders (7 and 37
        # days) are due, two more reminders (67 and 97 days) wait
        order = svc.processor.order(entry, order_id)
        paid = datetime.now(UTC) - timedelta(days=40)
        customer = dataclasses.replace(order.customer, accepts_marketing=True)
        order = dataclasses.replace(order, paid_at=paid, created_at=paid, customer=customer)
        svc.processor.process_order(entry, order, EventKind.ORDER_PAID)
        wait_for(lambda: len(sink.received) == 3, timeout=30)
        assert all(r.rcpt_tos == ["kim@example.com"] for r in sink.received)
        survey = next(r for r in sink.received if "/v1/survey/" in _text(r))
        marketing = [r for r in sink.received if r is not survey]
        assert len(marketing) == 2
        # when the customer clicks "4" in the survey e-mail
        rating = link_in(_text(survey), "/v1/survey/")
        rating = rating.replace("rating=1", "rating=4")
        page = follow(svc, rating)
        assert page.status_code == 200 and "Ihre Bewertung: 4 von 5." in page.text
        answer = svc.store.survey_answer(shop, order_id)
        assert answer is not None and answer.rating == 4
        assert answer.shipping_method == "DHL Paket"
        # and unsubscribes with the one-click POST of a marketing e-mail's header
        header = str(marketing[0].message["List-Unsubscribe"])
        assert marketing[0].message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        url = header.split("<", 1)[1].split(">", 1)[0]
        done = httpx.post(
            f"{svc.url}/{path_of(url)}",
            content=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=10,
        )
        assert done.status_code == 200 and "Sie sind abgemeldet" in done.text
        rows = svc.store.messages(shop, order_id=order_id)
        suppressed = svc.store.suppression(shop, "kim@example.com")
    # then the survey and two reminders were sent, the waiting reminders are cancelled
    states = {(r.kind, r.state.value, r.reason or "") for r in rows}
    assert states == {
        ("service_reminder", "cancelled", "unsubscribed: unsubscribe_link"),
        ("service_reminder", "sent", ""),
        ("survey", "sent", ""),
    }
    assert [r.kind for r in rows if r.state is MessageState.SENT].count("service_reminder") == 2
    assert suppressed is not None and suppressed.reason == "unsubscribe_link"
    assert suppressed.subject in {str(r.id) for r in rows if r.state is MessageState.SENT}
    assert len(sink.received) == 3
