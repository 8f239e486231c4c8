"""An unsubscribe withdraws the marketing consent on the platform, over real HTTP, on SQLite
and PostgreSQL, with both sandboxes: after the one-click POST the sandbox customer is
unsubscribed (Shopify's e-mail marketing consent; WooCommerce's user meta, withdrawn with its
time); a second click writes nothing new; during a platform outage the page still answers and
the withdrawal is written once the platform is back; a guest's unsubscribe writes nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from aftersale_kit_woocommerce.adapter import CONSENT_META_KEY, NEWSLETTER_META_KEY

from aftersale_kit.core.platform import MarketingConsent
from aftersale_kit.service.followups import WITHDRAWAL
from aftersale_kit.storage import Job, JobStatus

from .conftest import write_shopify_config, write_woocommerce_config
from .followup_support import link_env, links, planned_message, shop_of
from .harness import Service, running_service, wait_for
from .test_service_flow import FAST_RETRY

pytestmark = pytest.mark.slow
WOO_FAST = {"max_retries": 0, "backoff": 0.01}

OPTED_IN = MarketingConsent(
    opted_in=True, at=datetime(2026, 3, 2, 9, 30, tzinfo=UTC), source="thank_you",
    text_version="newsletter-v1",
)  # fmt: skip


def _jobs(svc: Service, status: JobStatus) -> list[Job]:
    return [j for j in svc.store.jobs(status=status, limit=100) if j.kind == WITHDRAWAL]


def _settled(svc: Service) -> bool:
    return not _jobs(svc, JobStatus.PENDING) and not _jobs(svc, JobStatus.CLAIMED)


def _one_click(svc: Service, url: str) -> httpx.Response:
    return httpx.post(
        f"{svc.url}/v1/unsubscribe/{url.rsplit('/', 1)[1]}",
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )


def _unsubscribe_link(svc: Service, order_id: str, email: str, customer: str | None) -> str:
    message = planned_message(svc, order_id, email, customer_key=customer)
    return links(svc).unsubscribe(shop=shop_of(svc), subject=message)


def test_shopify_unsubscribe_withdraws_the_consent_once(
    shopify_sandbox: Any, tmp_path: Path, db_url: str
) -> None:
    sandbox = shopify_sandbox
    order = sandbox.create_order(
        customer={"first_name": "Kim", "email": "kim@example.com"},
        line_items=[{"title": "Espresso", "price": "40.00"}],
    )
    customer = str(order["customer"]["id"])
    config, env = write_shopify_config(tmp_path / "shops", sandbox)
    with running_service(config=config, db_url=db_url, env=link_env(env)) as svc:
        # given a customer subscribed on the platform (a confirmed double opt-in)
        (entry,) = list(svc.registry)
        assert entry.adapter.record_marketing_consent(customer, "kim@example.com", OPTED_IN)
        assert sandbox.email_marketing_consent(int(customer))["marketing_state"] == "SUBSCRIBED"
        url = _unsubscribe_link(svc, str(order["id"]), "kim@example.com", customer)
        # when the one-click POST arrives
        assert _one_click(svc, url).status_code == 200
        wait_for(lambda: len(_jobs(svc, JobStatus.DONE)) == 1 and _settled(svc))
        first = sandbox.email_marketing_consent(int(customer))
        requests = sandbox.faults.requests
        # and again (a second click, and the page's button)
        assert _one_click(svc, url).status_code == 200
        assert "abgemeldet" in httpx.get(f"{svc.url}/v1/unsubscribe/{url.rsplit('/', 1)[1]}").text
        wait_for(lambda: _settled(svc))
        done, dead = _jobs(svc, JobStatus.DONE), _jobs(svc, JobStatus.DEAD)
        after = sandbox.email_marketing_consent(int(customer))
        suppressed = svc.store.suppression(shop_of(svc), "kim@example.com")
    # then the customer is unsubscribed on the platform as of the unsubscribe, written once
    assert first["marketing_state"] == "UNSUBSCRIBED"
    assert suppressed is not None
    assert datetime.fromisoformat(str(first["consent_updated_at"])) == suppressed.created_at
    assert len(done) == 1 and dead == []
    assert after == first and sandbox.faults.requests == requests


def test_shopify_outage_keeps_the_page_and_writes_when_back(
    shopify_sandbox: Any, tmp_path: Path, db_url: str
) -> None:
    sandbox = shopify_sandbox
    order = sandbox.create_order(
        customer={"first_name": "Kim", "email": "kim@example.com"},
        line_items=[{"title": "Espresso", "price": "40.00"}],
    )
    customer = str(order["customer"]["id"])
    config, env = write_shopify_config(tmp_path / "shops", sandbox)
    with running_service(
        config=config, db_url=db_url, env=link_env(env), adapter_options=FAST_RETRY
    ) as svc:
        (entry,) = list(svc.registry)
        assert entry.adapter.record_marketing_consent(customer, "kim@example.com", OPTED_IN)
        url = _unsubscribe_link(svc, str(order["id"]), "kim@example.com", customer)
        # given the platform is down
        sandbox.faults.fail_next("5xx", -1)
        # when the customer unsubscribes: the page answers at once
        page = _one_click(svc, url)
        assert page.status_code == 200 and "Sie sind abgemeldet" in page.text
        # and the withdrawal waits, retried (not lost, not dead)
        wait_for(lambda: any(j.attempts >= 2 for j in svc.store.jobs(limit=100)
                             if j.kind == WITHDRAWAL))  # fmt: skip
        assert sandbox.email_marketing_consent(int(customer))["marketing_state"] == "SUBSCRIBED"
        # when the platform is back
        sandbox.faults.clear_script()
        wait_for(lambda: len(_jobs(svc, JobStatus.DONE)) == 1 and _settled(svc), timeout=30)
        dead = _jobs(svc, JobStatus.DEAD)
    assert dead == []
    assert sandbox.email_marketing_consent(int(customer))["marketing_state"] == "UNSUBSCRIBED"


def test_woocommerce_unsubscribe_withdraws_the_user_meta_once(
    woocommerce_sandbox: Any, tmp_path: Path, db_url: str
) -> None:
    sandbox = woocommerce_sandbox
    sandbox.add_customer(5, "ada@example.com")
    config, env = write_woocommerce_config(tmp_path / "shops", sandbox)
    with running_service(config=config, db_url=db_url, env=link_env(env)) as svc:
        (entry,) = list(svc.registry)
        assert entry.adapter.record_marketing_consent("5", "ada@example.com", OPTED_IN)
        url = _unsubscribe_link(svc, "727", "ada@example.com", "5")
        guest = _unsubscribe_link(svc, "728", "guest@example.com", "email:guest@example.com")
        # when the customer and a guest unsubscribe, the customer twice
        assert _one_click(svc, url).status_code == 200
        assert _one_click(svc, guest).status_code == 200
        wait_for(lambda: len(_jobs(svc, JobStatus.DONE)) == 2 and _settled(svc))
        first = sandbox.customer_meta(5)
        assert _one_click(svc, url).status_code == 200
        wait_for(lambda: _settled(svc))
        done, dead = _jobs(svc, JobStatus.DONE), _jobs(svc, JobStatus.DEAD)
        suppressed = svc.store.suppression(shop_of(svc), "ada@example.com")
    # then the user meta says withdrawn, with the unsubscribe's time, written once
    meta = {r["key"]: r["value"] for r in first}
    proof = json.loads(meta[CONSENT_META_KEY])
    assert meta[NEWSLETTER_META_KEY] == "no"
    assert (proof["state"], proof["opted_in"], proof["source"]) == (
        "withdrawn", False, "unsubscribe_link"
    )  # fmt: skip
    assert suppressed is not None
    assert datetime.fromisoformat(proof["at"]) == suppressed.created_at
    assert sandbox.customer_meta(5) == first
    # and the guest's job wrote nothing (no customer account), one job each
    assert len(done) == 2 and dead == []


def test_woocommerce_outage_keeps_the_page_and_writes_when_back(
    woocommerce_sandbox: Any, tmp_path: Path, db_url: str
) -> None:
    sandbox = woocommerce_sandbox
    sandbox.add_customer(5, "ada@example.com")
    config, env = write_woocommerce_config(tmp_path / "shops", sandbox)
    with running_service(
        config=config,
        db_url=db_url,
        env=link_env(env),
        adapter_options=WOO_FAST,
    ) as svc:
        (entry,) = list(svc.registry)
        assert entry.adapter.record_marketing_consent("5", "ada@example.com", OPTED_IN)
        url = _unsubscribe_link(svc, "727", "ada@example.com", "5")
        sandbox.faults.fail_next("5xx", -1)
        page = _one_click(svc, url)
        assert page.status_code == 200
        wait_for(lambda: any(j.attempts >= 2 for j in svc.store.jobs(limit=100)
                             if j.kind == WITHDRAWAL))  # fmt: skip
        meta = {r["key"]: r["value"] for r in sandbox.customer_meta(5)}
        assert meta[NEWSLETTER_META_KEY] == "yes"
        sandbox.faults.clear_script()
        wait_for(lambda: len(_jobs(svc, JobStatus.DONE)) == 1 and _settled(svc), timeout=30)
        dead = _jobs(svc, JobStatus.DEAD)
    assert dead == []
    meta = {r["key"]: r["value"] for r in sandbox.customer_meta(5)}
    assert meta[NEWSLETTER_META_KEY] == "no"
