"""The survey page and the unsubscribe page in headless Chromium: readable (the questions and
the button visible at a readable size), hostile text inert (no element, no script), and the
pictures in ``docs/`` (``docs/survey.png``, ``docs/unsubscribe.png``) are this test's
(``UPDATE_DOCS_PICTURES=1`` writes them again).

Needs the ``chromium`` binary; skipped without it, except under ``CI=true`` where it fails.
"""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cdp_pipe import Browser
from mail.smtp_sink import Sink, smtp_sink

from .conftest import write_shopify_config
from .followup_support import add_mail, link_env, links, path_of, planned_message, shop_of
from .harness import running_service

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = '<img src=x onerror="document.title=\'pwned\'"><script>document.title="pwned"</script>'


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    message = "headless Chromium is not installed (Debian: apt-get install chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def sink() -> Iterator[Sink]:
    with smtp_sink() as running:
        yield running


def _open(browser: Browser, url: str) -> dict[str, Any]:
    browser.call("Page.navigate", url=url)
    browser.wait_event("Page.loadEventFired")
    found: dict[str, Any] = browser.evaluate(
        """(() => {
          const main = document.querySelector('main');
          const style = getComputedStyle(document.body);
          const button = document.querySelector('button');
          return {
            title: document.title,
            text: document.body.innerText,
            images: document.images.length,
            scripts: document.scripts.length,
            font: parseFloat(style.fontSize),
            mainWidth: main ? main.getBoundingClientRect().width : 0,
            button: button ? button.getBoundingClientRect().height : 0,
            radios: document.querySelectorAll('input[type=radio]').length,
          };
        })()"""
    )
    return found


def _shoot(browser: Browser, target: Path) -> None:
    shot = browser.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
    target.write_bytes(base64.b64decode(shot["data"]))


def test_survey_and_unsubscribe_pages_are_readable_and_inert(
    shopify_sandbox: Any, tmp_path: Path, sink: Sink
) -> None:
    binary = _chromium()
    sandbox = shopify_sandbox
    order = sandbox.create_order(
        customer={"first_name": HOSTILE, "email": "kim@example.com"},
        line_items=[{"title": HOSTILE, "price": "40.00"}],
    )
    config, env = write_shopify_config(tmp_path / "shops", sandbox)
    add_mail(config, sink.port)
    db = f"sqlite:///{tmp_path / 'pages.db'}"
    with (
        running_service(config=config, db_url=db, env=link_env(env)) as svc,
        Browser(binary) as browser,
    ):
        browser.call("Page.enable")
        browser.call(
            "Emulation.setDeviceMetricsOverride",
            width=800,
            height=900,
            deviceScaleFactor=1,
            mobile=False,
        )
        shop = shop_of(svc)
        rating = links(svc).survey_answers(shop=shop, subject=str(order["id"]))[1]
        survey = _open(browser, f"{svc.url}/{path_of(rating)}")
        _shoot(browser, tmp_path / "survey.png")
        # the customer answers the form with a hostile comment (a plain form POST)
        token = rating.split("/v1/survey/", 1)[1].split("?", 1)[0]
        httpx.post(f"{svc.url}/v1/survey/{token}", data={"delivery": "yes", "comment": HOSTILE})
        answered = _open(browser, f"{svc.url}/{path_of(rating)}")
        message = planned_message(svc, str(order["id"]), "kim@example.com")
        unsubscribe = _open(
            browser,
            f"{svc.url}/{path_of(links(svc).unsubscribe(shop=shop, subject=message))}",
        )
        _shoot(browser, tmp_path / "unsubscribe.png")
    # the survey page: the seeds' questions, radio buttons, a button, a readable size
    for question in (
        "Waren Sie mit unserem Service zufrieden?",
        "Hat bei der Lieferung alles geklappt?",
        "Hat bei der Zahlung alles geklappt?",
        "Wie lange mussten Sie auf das Produkt warten?",
    ):
        assert question in survey["text"]
    assert survey["radios"] == 10 and survey["button"] >= 30 and survey["font"] >= 15
    assert 400 <= survey["mainWidth"] <= 800
    # the answered page shows the hostile comment as text: no element, no script ran
    assert HOSTILE in answered["text"]
    assert answered["images"] == 0 and answered["scripts"] == 0
    assert answered["title"] != "pwned" and survey["title"] != "pwned"
    # the unsubscribe page: a sentence and one button
    assert "Möchten Sie keine weiteren E-Mails" in unsubscribe["text"]
    assert unsubscribe["button"] >= 30 and unsubscribe["title"] == "Abmelden"
    # the pictures in the docs are of these pages (same size: 800 wide, the page's height)
    for picture in ("survey.png", "unsubscribe.png"):
        shot = (tmp_path / picture).read_bytes()
        if os.environ.get("UPDATE_DOCS_PICTURES") == "1":
            (ROOT / "docs" / picture).write_bytes(shot)
        docs = (ROOT / "docs" / picture).read_bytes()
        assert shot[:8] == docs[:8] == b"\x89PNG\r\n\x1a\n"
        assert _size(shot) == _size(docs) and _size(shot)[0] == 800


def _size(png: bytes) -> tuple[int, int]:
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
