"""The dashboard over the service's own records: codes the service issued and later sandbox
orders that use them (one by another customer than the code's), read back through
``shop_results``; the page and report.json show those figures, and the campaign's hostile
description and the customer's hostile name and e-mail stay text."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from dashboard_sample import HOSTILE

from aftersale_kit.core.config import load_config
from aftersale_kit.results.collect import shop_results
from aftersale_kit.results.export import to_data

from .dashboard_support import TOKEN, codes, pay, settle, shop_folder
from .harness import running_service, wait_for

pytestmark = pytest.mark.slow

CAMPAIGNS = f"""\
  - id: danke
    description: {json.dumps("Danke " + HOSTILE)}
    when: subtotal >= 20
    actions:
      - issue_coupon: {{type: fixed_amount, value: 5, valid_days: 30, code_prefix: DANKE}}
"""
DESCRIPTION = "Danke " + HOSTILE
EVIL_EMAIL = 'bo"><script>alert(1)</script>@example.com'


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.handlers: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.handlers += [name for name, _ in attrs if name.startswith("on")]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_the_dashboard_shows_the_stores_figures_with_hostile_text_inert(
    shopify_sandbox: Any, tmp_path: Path, db_url: str
) -> None:
    sandbox = shopify_sandbox
    config, env = shop_folder(tmp_path / "shops", sandbox, CAMPAIGNS)
    shop = sandbox.shop_domain
    since = datetime.now(UTC) - timedelta(days=1)
    with running_service(config=config, db_url=db_url, env=env) as svc:
        # given Ada's order earns a code, and Bo (hostile name and e-mail) uses it
        first = sandbox.create_order(
            line_items=[{"title": HOSTILE, "price": "80.00", "quantity": 1}],
            customer={"first_name": "Ada", "email": "ada@example.com"},
        )
        pay(svc, sandbox, first)
        wait_for(lambda: codes(svc, shop, str(first["id"])) != [])
        (code,) = codes(svc, shop, str(first["id"]))
        second = sandbox.create_order(
            line_items=[{"title": HOSTILE, "price": "50.00", "quantity": 1}],
            customer={"first_name": HOSTILE, "email": EVIL_EMAIL},
            discount_codes=[{"code": code, "amount": "5.00", "type": "fixed_amount"}],
        )
        pay(svc, sandbox, second)
        wait_for(lambda: codes(svc, shop, str(second["id"])) != [])
        settle(svc)
        # when the operator opens the page and the JSON for the last day and today
        login = {"Authorization": f"Bearer {TOKEN}"}
        days = {"since": f"{since:%Y-%m-%d}", "until": f"{datetime.now(UTC):%Y-%m-%d}"}
        page = httpx.get(f"{svc.url}/admin/shopify/{shop}", headers=login, params=days)
        data = httpx.get(f"{svc.url}/admin/shopify/{shop}/report.json", headers=login, params=days)
        # and the same figures are computed straight from the store
        loaded = load_config(config / "shop.yaml")
        body = data.json()
        direct = shop_results(
            svc.store,
            loaded,
            since=datetime.fromisoformat(body["since"]),
            until=datetime.fromisoformat(body["until"]),
            now=datetime.fromisoformat(body["generated_at"]),
        )
    assert page.status_code == 200, page.text
    assert data.status_code == 200, data.text
    # then report.json is exactly the store's figures
    assert body == to_data(direct)
    (danke,) = body["campaigns"]
    assert (danke["issued"], danke["redeemed"], danke["leaks"]) == (2, 1, 1)
    assert danke["name"] == DESCRIPTION
    # and the page shows them, the hostile texts as text and nothing else
    parsed = _Elements()
    parsed.feed(page.text)
    assert "script" not in parsed.tags and "img" not in parsed.tags
    assert parsed.handlers == []
    text = "".join(parsed.text)
    assert DESCRIPTION in text
    assert code in text  # the shared code, in the leaks table
    assert "5,00\xa0$" in text  # its discount cost
    assert "<" not in data.text
