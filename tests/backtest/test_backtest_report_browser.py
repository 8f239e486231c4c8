"""The backtest report opened in headless Chromium: its charts render with a real size, the
month a budget ran out is visible on the first screen, and hostile names stay text.

Needs the ``chromium`` binary; skipped without it, except under ``CI=true`` where it fails.
"""

from __future__ import annotations

import os
import shutil
import struct
from pathlib import Path
from typing import Any

import pytest
from cdp_pipe import Browser

from aftersale_kit.backtest.report import write_report

from .backtest_samples import sample_result

pytestmark = pytest.mark.slow  # headless Chromium

PROBE = """(() => {
  const box = (el) => { const r = el.getBoundingClientRect();
                        return {w: r.width, h: r.height, top: r.top}; };
  const alert = document.querySelector('.alert');
  return {
    title: document.title,
    injected: document.querySelectorAll('script, img, iframe').length,
    charts: [...document.querySelectorAll('svg.chart')].map(
      (s) => ({label: s.getAttribute('aria-label'), ...box(s)})),
    redBars: [...document.querySelectorAll('rect.bar.exhausted')].map((r) => box(r).h),
    alert: alert ? {text: alert.innerText, ...box(alert)} : null,
    ranOutRows: [...document.querySelectorAll('table.budget tr.ran-out')].map(
      (tr) => ({text: tr.innerText, background: getComputedStyle(tr.cells[0]).backgroundColor})),
  };
})()"""


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    message = "headless Chromium is not installed (Debian: apt-get install chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def _open(page: Path) -> dict[str, Any]:
    with Browser(_chromium()) as browser:
        browser.call("Page.enable")
        browser.call("Emulation.setDeviceMetricsOverride", width=1100, height=900,
                     deviceScaleFactor=1, mobile=False)  # fmt: skip
        browser.call("Page.navigate", url=page.as_uri())
        browser.wait_event("Page.loadEventFired")
        found: dict[str, Any] = browser.evaluate(PROBE)
        return found


def test_charts_render_and_the_exhausted_month_is_visible(tmp_path: Path) -> None:
    # given a report in which one campaign's budget ran out in March and May 2025
    page = write_report(tmp_path, [sample_result()], lang="de", timezone="Europe/Berlin")
    # when the page is opened in Chromium
    found = _open(page)
    # then every chart is drawn with a real size
    assert [c["label"] for c in found["charts"]] == [
        "Kosten pro Monat und Budget: Dankeschön-Gutschein",
        "Kosten pro Monat und Budget: Treuepunkte",
        "Reichweite pro Aktion",
        "Kontakte pro Kunde",
    ]
    assert all(c["w"] > 300 and c["h"] > 100 for c in found["charts"])
    # and the two months that ran out are red bars of real height
    assert len(found["redBars"]) == 2 and min(found["redBars"]) > 20
    # and the alert on the first screen says which campaign ran out in which months
    alert = found["alert"]
    assert alert is not None and alert["top"] < 900 and alert["h"] > 40
    assert (
        "Dankeschön-Gutschein danke-10 – Budget aufgebraucht: März 2025, Mai 2025"
        in (alert["text"])
    )
    # and those periods are highlighted rows of the budget table
    assert [("März 2025" in r["text"], "Mai 2025" in r["text"]) for r in found["ranOutRows"]] == [
        (True, False),
        (False, True),
    ]
    assert {r["background"] for r in found["ranOutRows"]} == {"rgb(253, 236, 234)"}


def test_hostile_names_stay_inert_in_the_browser(tmp_path: Path) -> None:
    page = write_report(tmp_path, [sample_result(hostile=True)], lang="en")
    found = _open(page)
    assert found["title"] == "Backtest over past orders – kaffee-test.myshopify.com"
    assert found["injected"] == 0
    assert '<script>document.title="pwned"</script>' in found["alert"]["text"]


def test_the_picture_in_the_docs_is_referenced_from_the_readme() -> None:
    root = Path(__file__).resolve().parents[2]
    png = (root / "docs" / "backtest.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (1100, 1000)  # make backtest-png's --window-size
    assert "](docs/backtest.png)" in (root / "README.md").read_text(encoding="utf-8")
