"""The dashboard in headless Chromium: without a login it is a 401 page that shows nothing of the
shop; with the operator's login (the Authorization header the browser sends after its Basic
prompt, set here over the DevTools protocol because a password in the address is exactly what
the dashboard refuses) the charts render as SVG with a real size, no script runs and hostile text
is text. ``docs/dashboard.png`` is this test's picture (``UPDATE_DOCS_PICTURES=1`` writes it
again), from the sample figures without hostile text.

Needs the ``chromium`` binary; skipped without it, except under ``CI=true`` where it fails.
"""

from __future__ import annotations

import base64
import os
import shutil
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from cdp_pipe import Browser
from dashboard_sample import HOSTILE, sample_results

from aftersale_kit.core.campaign import ShopConfig
from aftersale_kit.results.figures import ShopResults
from aftersale_kit.service.admin_access import ENV_TOKEN

from .conftest import write_shopify_config
from .harness import running_service

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "operator-" + "x7Kq2mN9pR4tV8wZ"


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
    """The sample figures, with hostile text in every field while ``hostile`` is set."""

    hostile = True

    def __call__(
        self, store: Any, config: ShopConfig, *, since: datetime, until: datetime, now: datetime
    ) -> ShopResults:
        results = sample_results(hostile=HOSTILE if self.hostile else None)
        return replace(results, shop=config.settings.domain)


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


def test_the_dashboard_in_chromium(shopify_sandbox: Any, tmp_path: Path) -> None:
    binary = _chromium()
    config, env = write_shopify_config(tmp_path / "shops", shopify_sandbox)
    figures = Figures()
    with (
        running_service(
            config=config,
            db_url=f"sqlite:///{tmp_path / 'admin.db'}",
            env={**env, ENV_TOKEN: TOKEN},
            admin_collect=figures,
            worker=False,
        ) as svc,
        Browser(binary) as browser,
    ):
        browser.call("Page.enable")
        browser.call("Network.enable")
        browser.call(
            "Emulation.setDeviceMetricsOverride",
            width=1240,
            height=900,
            deviceScaleFactor=1,
            mobile=False,
        )
        page = f"{svc.url}/admin/shopify/{shopify_sandbox.shop_domain}"
        # without a login: a 401 page with nothing of the shop
        assert _status(browser, page) == 401
        refused = browser.evaluate(_LOOK)
        assert shopify_sandbox.shop_domain not in refused["text"]
        assert refused["sizes"] == []
        # with the operator's login
        login = base64.b64encode(f"operator:{TOKEN}".encode()).decode()
        browser.call("Network.setExtraHTTPHeaders", headers={"Authorization": f"Basic {login}"})
        assert _status(browser, page) == 200
        hostile = browser.evaluate(_LOOK)
        figures.hostile = False
        assert _status(browser, page + "?lang=de") == 200
        seen = browser.evaluate(_LOOK)
        shot = browser.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
    # hostile text is text: no script, no image, no handler, the title untouched
    assert (hostile["scripts"], hostile["images"], hostile["handlers"]) == (0, 0, 0)
    assert "pwned" not in hostile["title"]
    assert HOSTILE in hostile["text"]
    # the charts: two bar charts, an interval, the budget and care gauges, each with a size
    kinds = [s["cls"] for s in seen["sizes"]]
    assert kinds.count("bars") == 2
    assert "interval above" in kinds
    assert kinds.count("gauge") + kinds.count("gauge over") == 4
    for size in seen["sizes"]:
        assert size["w"] > 50 and size["h"] > 10, size
    assert sum(1 for h in seen["bars"] if h > 1) >= 8
    assert "Umsatz netto und Rabattkosten je Aktion" in seen["text"]
    assert "noch zu wenig Daten" in seen["text"]
    picture = base64.b64decode(shot["data"])
    (tmp_path / "dashboard.png").write_bytes(picture)
    if os.environ.get("UPDATE_DOCS_PICTURES") == "1":
        (ROOT / "docs" / "dashboard.png").write_bytes(picture)
    assert (ROOT / "docs" / "dashboard.png").is_file()
