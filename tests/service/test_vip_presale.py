"""The VIP pre-sale end to end over real HTTP, with the shops' sandboxes, a real SMTP server
on loopback and injected time, on SQLite and PostgreSQL: a qualifying order tags the sandbox
customer once however often its webhook arrives (and whatever further orders qualify), the
announcement arrives once when the pre-sale starts, never without marketing consent, never for
a customer outside the segment; a hostile customer name stays inert in the e-mail."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from mail.smtp_sink import Sink, smtp_sink

from aftersale_kit.service.mail_sweep import MessageSender
from aftersale_kit.storage import JobStatus, MessageState
from aftersale_kit.storage.decisions import TAG_CUSTOMER, UNTAG_CUSTOMER

from .conftest import write_shopify_config, write_woocommerce_config
from .followup_support import add_mail, link_env, shop_of
from .harness import Service, running_service, shopify_delivery, wait_for, woocommerce_delivery

HOSTILE = '<script>alert("x")</script>'
TAG = "vip-fruehjahr"
BERLIN = ZoneInfo("Europe/Berlin")
#: The pre-sale starts ten days from now at 09:00 in Berlin (the jobs run on real time; the
#: mail sweep is then asked at injected moments around the start).
START = datetime.combine(
    datetime.now(BERLIN).date() + timedelta(days=10), time(9, 0), tzinfo=BERLIN
).astimezone(UTC)
END_DAY = (START + timedelta(days=6)).astimezone(BERLIN).date()
PRESALE = f"""campaigns:
  - id: vip
    trigger: order_paid
    when: 'customer.orders_count >= 3'
    actions:
      - vip_presale:
          name: Frühjahrs-Vorverkauf
          starts: {START.astimezone(BERLIN):%Y-%m-%dT%H:%M}
          ends: {END_DAY.isoformat()}
          tag: vip-fruehjahr
          url: https://bohne.example/pages/vip
"""
pytestmark = pytest.mark.slow


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _inject(svc: Service) -> Clock:
    """The service's clock from now on: the sweeps are asked at chosen moments."""
    clock = Clock(datetime.now(UTC))
    svc.processor.clock = clock
    return clock


@pytest.fixture
def sink() -> Iterator[Sink]:
    with smtp_sink() as running:
        yield running


def _with_presale(config: Path, port: int, *, locale: str | None = None) -> None:
    add_mail(config, port, locale=locale)
    path = config / "shop.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("  locale:", "  timezone: Europe/Berlin\n  locale:", 1)
    path.write_text(text[: text.index("campaigns:")] + PRESALE, encoding="utf-8")


def _idle(svc: Service) -> bool:
    """Nothing to do now (a tag's removal waits for the pre-sale's end)."""
    busy = (JobStatus.PENDING, JobStatus.CLAIMED)
    return not any(
        j.kind != UNTAG_CUSTOMER for s in busy for j in svc.store.jobs(status=s, limit=100)
    )


def _sender(svc: Service, env: dict[str, str]) -> MessageSender:
    return MessageSender(svc.processor, public_url="http://127.0.0.1:9", environ=link_env(env))


def _announcements(svc: Service) -> list[Any]:
    return [m for m in svc.store.messages(shop_of(svc), limit=1000) if m.kind == "vip_presale"]


def _sweep_at(svc: Service, clock: Clock, sender: MessageSender, moment: datetime) -> None:
    """Sweep at ``moment`` and close the SMTP connection (a later sweep opens a new one)."""
    clock.now = moment
    try:
        sender.sweep_until_idle()
    finally:
        sender.close()


def test_shopify_tags_once_and_announces_once_at_the_start(
    shopify_sandbox: Any, tmp_path: Path, db_url: str, sink: Sink
) -> None:
    sandbox = shopify_sandbox
    config, env = write_shopify_config(tmp_path / "shops", sandbox)
    _with_presale(config, sink.port)
    kim = sandbox.set_customer(first_name=HOSTILE, email="kim@example.com", orders_count=4)
    loyal = {"id": kim["legacy_id"], "email": "kim@example.com"}
    first = sandbox.create_order(
        customer=loyal, buyer_accepts_marketing=True, email="kim@example.com",
        line_items=[{"title": "Espresso", "price": "40.00"}],
    )  # fmt: skip
    again = sandbox.create_order(
        customer=loyal, buyer_accepts_marketing=True, email="kim@example.com",
        line_items=[{"title": "Filter", "price": "20.00"}],
    )  # fmt: skip
    silent = sandbox.create_order(
        customer={"email": "jo@example.com", "orders_count": 5}, email="jo@example.com",
        buyer_accepts_marketing=False, line_items=[{"title": "Tee", "price": "9.00"}],
    )  # fmt: skip
    new = sandbox.create_order(
        customer={"email": "ben@example.com", "orders_count": 1}, email="ben@example.com",
        buyer_accepts_marketing=True, line_items=[{"title": "Tasse", "price": "12.00"}],
    )  # fmt: skip
    with running_service(config=config, db_url=db_url, env=link_env(env)) as svc:
        endpoint = f"{svc.url}/webhooks/shopify"

        def deliver(order: dict[str, Any], event: str) -> None:
            headers, raw = shopify_delivery(
                topic="orders/paid", body=order, shop=sandbox.shop_domain,
                secret=sandbox.secret, event_id=event,
            )  # fmt: skip
            assert httpx.post(endpoint, headers=headers, content=raw).status_code == 200

        # when the first order's paid webhook arrives three times, and once more as a new event
        for _ in range(3):
            deliver(first, "evt-first")
        deliver(first, "evt-first-resent")
        # and a second qualifying order of the same customer, and two other customers
        for order in (again, silent, new):
            deliver(order, f"evt-{order['id']}")
        wait_for(lambda: _idle(svc) and len(_announcements(svc)) == 2)
        tag_jobs = svc.store.jobs(kind=TAG_CUSTOMER, limit=100)
        assert svc.store.jobs(status=JobStatus.DEAD, limit=10) == []
        planned = {m.email: m for m in _announcements(svc)}
        sender, clock = _sender(svc, env), _inject(svc)
        # then nothing goes out before the start
        _sweep_at(svc, clock, sender, START - timedelta(minutes=1))
        assert sink.received == []
        # and at the start, the consenting customer's one announcement
        _sweep_at(svc, clock, sender, START)
        wait_for(lambda: len(sink.received) == 1)
        _sweep_at(svc, clock, sender, START + timedelta(days=1))
        states = {m.email: (m.state, m.reason) for m in _announcements(svc)}
    # one tag job per tagged customer: Kim and Jo, not Ben (outside the segment)
    assert sorted(str(j.payload["customer_id"]) for j in tag_jobs) == sorted(
        [str(first["customer"]["id"]), str(silent["customer"]["id"])]
    )
    tags = sandbox.tags()
    assert tags[f"gid://shopify/Customer/{first['customer']['id']}"].count(TAG) == 1
    assert TAG in tags[f"gid://shopify/Customer/{silent['customer']['id']}"]
    assert TAG not in tags.get(f"gid://shopify/Customer/{new['customer']['id']}", [])
    # one announcement per customer (not per order), due at the start
    assert set(planned) == {"kim@example.com", "jo@example.com"}
    assert planned["kim@example.com"].due_at.astimezone(UTC) == START
    assert states["kim@example.com"][0] is MessageState.SENT
    jo_state, jo_reason = states["jo@example.com"]
    assert jo_state is MessageState.HELD_BACK and "consent" in (jo_reason or "")
    (mail,) = sink.received
    assert mail.rcpt_tos == ["kim@example.com"]
    message = mail.message
    # in the order's language (the sandbox's orders are in English), times on the shop's clock
    day = f"{START.astimezone(BERLIN):%Y-%m-%d}"
    assert str(message["Subject"]) == f"Your VIP pre-sale: Frühjahrs-Vorverkauf from {day}"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert f"From {day} 09:00 until {END_DAY:%Y-%m-%d}." in text
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "exclusive early access" in html and "https://bohne.example/pages/vip" in html
    assert HOSTILE not in html and "&lt;script&gt;" in html
    assert "List-Unsubscribe" in message


def test_woocommerce_tags_the_customer_meta_once_and_needs_consent(
    woocommerce_sandbox: Any, tmp_path: Path, db_url: str, sink: Sink
) -> None:
    sandbox = woocommerce_sandbox
    config, env = write_woocommerce_config(tmp_path / "shops", sandbox)
    _with_presale(config, sink.port, locale="en_GB")
    sandbox.set_customer_history(5, orders_count=4, total_spent="600.00", email="ada@example.com")
    order = sandbox.create_order("wc_v3_order_727", customer_id=5, email="ada@example.com")
    order_id = int(order["id"])
    with running_service(config=config, db_url=db_url, env=link_env(env)) as svc:
        endpoint = f"{svc.url}/webhooks/woocommerce"
        sandbox.pay(order_id)
        body = json.dumps(sandbox.order(order_id)).encode()
        # when the paid order arrives three times
        for _ in range(3):
            headers, _ = woocommerce_delivery(
                body=body, source=sandbox.home_url + "/", secret=env["WOO_WEBHOOK_SECRET"]
            )
            assert httpx.post(endpoint, headers=headers, content=body).status_code == 200
        wait_for(lambda: _idle(svc) and len(_announcements(svc)) == 1)
        tag_jobs = svc.store.jobs(kind=TAG_CUSTOMER, limit=100)
        assert svc.store.jobs(status=JobStatus.DEAD, limit=10) == []
        sender, clock = _sender(svc, env), _inject(svc)
        # then without consent (WooCommerce has no field of its own) nothing is sent
        _sweep_at(svc, clock, sender, START)
        (held,) = _announcements(svc)
    assert len(tag_jobs) == 1 and str(tag_jobs[0].payload["customer_id"]) == "5"
    meta = {m["key"]: m["value"] for m in sandbox.customer_meta(5)}
    assert meta["aftersale_kit_tags"] == TAG
    assert held.state is MessageState.HELD_BACK and "consent" in (held.reason or "")
    assert sink.received == []


def test_woocommerce_with_a_confirmed_opt_in_announces_at_once_during_the_sale(
    woocommerce_sandbox: Any, tmp_path: Path, db_url: str, sink: Sink
) -> None:
    sandbox = woocommerce_sandbox
    config, env = write_woocommerce_config(tmp_path / "shops", sandbox)
    _with_presale(config, sink.port)
    sandbox.set_customer_history(6, orders_count=3, total_spent="300.00", email="bob@example.com")
    order = sandbox.create_order("wc_v3_order_727", customer_id=6, email="bob@example.com")
    order_id = int(order["id"])
    with running_service(config=config, db_url=db_url, env=link_env(env)) as svc:
        shop = shop_of(svc)
        # given Bob confirmed the newsletter double opt-in
        svc.store.request_consent(
            shop=shop, subject="signup-bob", email="bob@example.com", customer_id="6",
            source="thank_you", text_version="newsletter-v1",
        )  # fmt: skip
        svc.store.confirm_consent(shop=shop, subject="signup-bob")
        # when his order is paid while the pre-sale runs (the clock two days into it)
        clock = _inject(svc)
        clock.now = START + timedelta(days=2)
        sandbox.pay(order_id)
        body = json.dumps(sandbox.order(order_id)).encode()
        headers, _ = woocommerce_delivery(
            body=body, source=sandbox.home_url + "/", secret=env["WOO_WEBHOOK_SECRET"]
        )
        assert httpx.post(f"{svc.url}/webhooks/woocommerce", headers=headers, content=body)
        wait_for(lambda: len(_announcements(svc)) == 1)
        (planned,) = _announcements(svc)
        _sweep_at(svc, clock, _sender(svc, env), clock.now)
        wait_for(lambda: len(sink.received) == 1)
    # then the announcement is due at once and goes out, in the shop's German
    assert planned.due_at.astimezone(UTC) == START + timedelta(days=2)
    (mail,) = sink.received
    assert mail.rcpt_tos == ["bob@example.com"]
    day = f"{START.astimezone(BERLIN):%d.%m.%Y}"
    assert str(mail.message["Subject"]) == f"Ihr VIP-Vorverkauf: Frühjahrs-Vorverkauf ab {day}"
    text = mail.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "exklusiven Zugang" in text
    assert f"Vom {day}, 09:00 Uhr bis {END_DAY:%d.%m.%Y}." in text


# -- the tag comes off at the end ----------------------------------------------------------------

END_AT = datetime.combine(END_DAY + timedelta(days=1), time(0, 0), tzinfo=BERLIN).astimezone(UTC)


def _untag_jobs(svc: Service) -> list[Any]:
    return svc.store.jobs(kind=UNTAG_CUSTOMER, limit=100)


def _work_off_at(svc: Service, moment: datetime) -> int:
    """Claim the due removals at ``moment`` and run them as the worker does."""
    jobs = svc.store.claim(worker_id="end", kinds=[UNTAG_CUSTOMER], now=moment)
    for job in jobs:
        svc.processor.handle(job)
        assert svc.store.complete(job, now=moment)
    return len(jobs)


def test_shopify_removes_the_tag_it_added_when_the_presale_ends(
    shopify_sandbox: Any, tmp_path: Path, db_url: str, sink: Sink
) -> None:
    sandbox = shopify_sandbox
    config, env = write_shopify_config(tmp_path / "shops", sandbox)
    _with_presale(config, sink.port)
    kim = sandbox.set_customer(email="kim@example.com", orders_count=4, tags=["stamm"])
    jo = sandbox.set_customer(email="jo@example.com", orders_count=4, tags=[TAG])
    orders = [
        sandbox.create_order(
            customer={"id": c["legacy_id"], "email": c["email"]}, email=c["email"],
            line_items=[{"title": "Espresso", "price": "40.00"}],
        )
        for c in (kim, jo)
    ]  # fmt: skip
    with running_service(config=config, db_url=db_url, env=link_env(env)) as svc:
        for order in orders:
            headers, raw = shopify_delivery(
                topic="orders/paid", body=order, shop=sandbox.shop_domain,
                secret=sandbox.secret, event_id=f"evt-{order['id']}",
            )  # fmt: skip
            assert httpx.post(f"{svc.url}/webhooks/shopify", headers=headers, content=raw)
        wait_for(lambda: _idle(svc) and len(svc.store.jobs(kind=TAG_CUSTOMER, limit=9)) == 2)
        # then Kim (untagged before) has one removal queued for the end; Jo (tagged) none
        (removal,) = _untag_jobs(svc)
        tagged = sandbox.tags()
        # nothing is due a second before the end
        assert _work_off_at(svc, END_AT - timedelta(seconds=1)) == 0
        # at the end the removal runs once
        assert _work_off_at(svc, END_AT) == 1
        assert _work_off_at(svc, END_AT + timedelta(days=1)) == 0
        dead = svc.store.jobs(status=JobStatus.DEAD, limit=10)
    assert dead == []
    assert str(removal.payload["customer_id"]) == str(kim["legacy_id"])
    assert removal.run_at.astimezone(UTC) == END_AT
    assert tagged[kim["id"]] == ["stamm", TAG] and tagged[jo["id"]] == [TAG]
    after = sandbox.tags()
    # Kim's own tag stays; Jo had the tag before the pre-sale, so it stays
    assert after[kim["id"]] == ["stamm"]
    assert after[jo["id"]] == [TAG]


def test_woocommerce_removes_the_tag_from_the_user_meta_when_the_presale_ends(
    woocommerce_sandbox: Any, tmp_path: Path, db_url: str, sink: Sink
) -> None:
    sandbox = woocommerce_sandbox
    config, env = write_woocommerce_config(tmp_path / "shops", sandbox)
    _with_presale(config, sink.port, locale="en_GB")
    sandbox.set_customer_history(5, orders_count=4, total_spent="600.00", email="ada@example.com")
    order = sandbox.create_order("wc_v3_order_727", customer_id=5, email="ada@example.com")
    order_id = int(order["id"])
    with running_service(config=config, db_url=db_url, env=link_env(env)) as svc:
        (entry,) = list(svc.registry)
        assert entry.adapter.tag_customer("5", ["stamm"])
        sandbox.pay(order_id)
        body = json.dumps(sandbox.order(order_id)).encode()
        for _ in range(2):
            headers, _ = woocommerce_delivery(
                body=body, source=sandbox.home_url + "/", secret=env["WOO_WEBHOOK_SECRET"]
            )
            assert httpx.post(f"{svc.url}/webhooks/woocommerce", headers=headers, content=body)
        wait_for(lambda: _idle(svc) and len(_untag_jobs(svc)) == 1)
        during = {m["key"]: m["value"] for m in sandbox.customer_meta(5)}["aftersale_kit_tags"]
        assert _work_off_at(svc, END_AT - timedelta(seconds=1)) == 0
        assert _work_off_at(svc, END_AT) == 1
        assert _work_off_at(svc, END_AT) == 0
        removals = _untag_jobs(svc)
    assert during == f"stamm, {TAG}"
    assert len(removals) == 1
    meta = {m["key"]: m["value"] for m in sandbox.customer_meta(5)}
    assert meta["aftersale_kit_tags"] == "stamm"
