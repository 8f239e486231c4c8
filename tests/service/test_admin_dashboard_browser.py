"""The dashboard in headless Chromium: without a login it is a 401 page that shows nothing of the
shop; with the operator's login (the Authorization header the browser sends after its Basic
prompt, set here over the DevTools protocol because a password in the address is exactly what
the dashboard refuses) the charts of a seeded store render as SVG with a real size, and with
hostile text in every field no script runs. ``docs/dashboard.png`` is the seeded store's page
(``UPDATE_DOCS_PICTURES=1`` writes it again): two campaigns, a holdout, codes the service
issued and later orders redeem, one by another customer, refunds.

Needs the ``chromium`` binary; skipped without it, except under ``CI=true`` where it fails.
"""

from __future__ import annotations

import base64
import os
import shutil
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cdp_pipe import Browser
from dashboard_sample import HOSTILE, sample_results

from aftersale_kit.core.campaign import ShopConfig
from aftersale_kit.results.figures import ShopResults
from aftersale_kit.service.admin_access import ENV_TOKEN

from .conftest import write_shopify_config
from .dashboard_support import TOKEN, codes, pay, refund, settle, shop_folder
from .harness import running_service

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    message = "headless Chromium is not installed (Debian: apt-get install chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


class Figures:
    """The sample figures with hostile text in every field."""

    def __call__(
        self, store: Any, config: ShopConfig, *, since: datetime, until: datetime, now: datetime
    ) -> ShopResults:
        return replace(sample_results(hostile=HOSTILE), shop=config.settings.domain)


_LOOK = """(() => {
  const sizes = [...document.querySelectorAll('svg')].map(s => {
    const r = s.getBoundingClientRect();
    return {cls: s.getAttribute('class'), w: r.width, h: r.height};
  });
  const bars = [...document.querySelectorAll('svg.bars rect')].map(r => r.getBBox().height);
  return {
    title: document.title,
    text: document.body.innerText,
    scripts: document.scripts.length,
    images: document.images.length,
    handlers: [...document.querySelectorAll('*')].filter(
      e => [...e.attributes].some(a => a.name.startsWith('on'))).length,
    sizes: sizes,
    bars: bars,
  };
})()"""


def _status(browser: Browser, url: str) -> int:
    browser.events.clear()
    browser.call("Page.navigate", url=url)
    browser.wait_event("Page.loadEventFired")
    while True:
        event = browser.wait_event("Network.responseReceived")
        if event["params"]["type"] == "Document":
            return int(event["params"]["response"]["status"])


def _browser(binary: str) -> Browser:
    browser = Browser(binary)
    browser.call("Page.enable")
    browser.call("Network.enable")
    browser.call(
        "Emulation.setDeviceMetricsOverride",
        width=1240,
        height=900,
        deviceScaleFactor=1,
        mobile=False,
    )
    return browser


def _login(browser: Browser, token: str) -> None:
    login = base64.b64encode(f"operator:{token}".encode()).decode()
    browser.call("Network.setExtraHTTPHeaders", headers={"Authorization": f"Basic {login}"})


CAMPAIGNS = """\
  - id: danke
    description: Danke-Gutschein 5 $
    when: subtotal >= 20
    budget: {amount: 60, period: month}
    split: {holdout: 0.2}
    actions:
      - issue_coupon: {type: fixed_amount, value: 5, valid_days: 60, code_prefix: DANKE}
  - id: stammkunde
    description: Stammkunden 10 %
    when: subtotal >= 60
    budget: {amount: 25, period: month}
    actions:
      - issue_coupon: {type: percentage, value: 10, valid_days: 60, code_prefix: STAMM}
"""
FIRST = ["24.90", "35.00", "62.50", "89.00", "45.00", "120.00", "29.90", "75.00", "54.00", "99.00"]


def _seed(svc: Any, sandbox: Any) -> None:
    """Ten first orders; then whoever got a code buys again with it (one of them with a code
    issued to someone else), one such order is partly refunded and one fully."""
    shop = sandbox.shop_domain
    firsts = []
    for n, price in enumerate(FIRST):
        order = sandbox.create_order(
            line_items=[{"title": "Kaffee", "price": price, "quantity": 1}],
            customer={"first_name": f"Kunde {n}", "email": f"kunde{n}@example.com"},
        )
        pay(svc, sandbox, order)
        firsts.append(order)
    settle(svc)
    issued = [(n, codes(svc, shop, str(o["id"]))) for n, o in enumerate(firsts)]
    again = [(n, code) for n, found in issued for code in found][:7]
    assert len(again) >= 4, issued
    seconds = []
    for i, (n, code) in enumerate(again):
        buyer = n if i != 2 else 99  # the third code travels to a stranger
        goods = Decimal(["48.00", "64.00", "39.00", "82.00", "57.00", "71.00", "44.00"][i])
        off = (
            Decimal("5.00") if code.startswith("DANKE") else (goods / 10).quantize(Decimal("0.01"))
        )
        order = sandbox.create_order(
            line_items=[{"title": "Kaffee", "price": str(goods), "quantity": 1}],
            customer={"first_name": f"Kunde {buyer}", "email": f"kunde{buyer}@example.com"},
            discount_codes=[{"code": code, "amount": str(off), "type": "fixed_amount"}],
        )
        pay(svc, sandbox, order)
        seconds.append(str(order["id"]))
    settle(svc)
    refund(svc, sandbox, seconds[0], "20.00")
    refund(svc, sandbox, seconds[1], "57.60")
    settle(svc)


def test_the_dashboard_of_a_seeded_store_in_chromium(shopify_sandbox: Any, tmp_path: Path) -> None:
    binary = _chromium()
    config, env = shop_folder(tmp_path / "shops", shopify_sandbox, CAMPAIGNS)
    with (
        running_service(config=config, db_url=f"sqlite:///{tmp_path / 'admin.db'}", env=env) as svc,
        _browser(binary) as browser,
    ):
        _seed(svc, shopify_sandbox)
        page = f"{svc.url}/admin/shopify/{shopify_sandbox.shop_domain}"
        # without a login: a 401 page with nothing of the shop
        assert _status(browser, page) == 401
        refused = browser.evaluate(_LOOK)
        assert shopify_sandbox.shop_domain not in refused["text"]
        assert refused["sizes"] == []
        # with the operator's login
        _login(browser, TOKEN)
        assert _status(browser, page) == 200
        assert "Campaigns" in browser.evaluate(_LOOK)["text"]  # the browser's language
        assert _status(browser, page + "?lang=de") == 200
        seen = browser.evaluate(_LOOK)
        shot = browser.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
    # the charts: two bar charts, the budget gauges, each with a size
    kinds = [s["cls"] for s in seen["sizes"]]
    assert kinds.count("bars") == 2
    assert kinds.count("gauge") + kinds.count("gauge over") >= 2
    for size in seen["sizes"]:
        assert size["w"] > 50 and size["h"] > 10, size
    assert sum(1 for h in seen["bars"] if h > 1) >= 4
    assert (seen["scripts"], seen["images"], seen["handlers"]) == (0, 0, 0)
    assert "Umsatz netto und Rabattkosten je Aktion" in seen["text"]
    assert "Danke-Gutschein 5 $" in seen["text"]
    assert "noch zu wenig Daten" in seen["text"]  # ten customers are no experiment yet
    picture = base64.b64decode(shot["data"])
    (tmp_path / "dashboard.png").write_bytes(picture)
    if os.environ.get("UPDATE_DOCS_PICTURES") == "1":
        (ROOT / "docs" / "dashboard.png").write_bytes(picture)
    assert (ROOT / "docs" / "dashboard.png").is_file()


def test_hostile_text_on_the_dashboard_is_inert_in_chromium(
    shopify_sandbox: Any, tmp_path: Path
) -> None:
    binary = _chromium()
    config, env = write_shopify_config(tmp_path / "shops", shopify_sandbox)
    with (
        running_service(
            config=config,
            db_url=f"sqlite:///{tmp_path / 'admin.db'}",
            env={**env, ENV_TOKEN: TOKEN},
            admin_collect=Figures(),
            worker=False,
        ) as svc,
        _browser(binary) as browser,
    ):
        _login(browser, TOKEN)
        page = f"{svc.url}/admin/shopify/{shopify_sandbox.shop_domain}"
        assert _status(browser, page) == 200
        hostile = browser.evaluate(_LOOK)
    # hostile text is text: no script, no image, no handler, the title untouched
    assert (hostile["scripts"], hostile["images"], hostile["handlers"]) == (0, 0, 0)
    assert "pwned" not in hostile["title"]
    assert HOSTILE in hostile["text"]
    kinds = [s["cls"] for s in hostile["sizes"]]
    assert kinds.count("bars") == 2 and "interval above" in kinds
