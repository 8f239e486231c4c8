"""``aftersale-kit preview ... --screenshot FILE.png``: the picture of ``docs/preview.png`` is made
from a shipped example order by the command itself, in headless Chromium.

Needs the ``chromium`` binary; skipped without it, except under ``CI=true`` where it fails.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from png_pixels import read_png

from aftersale_kit.content import preview

pytestmark = pytest.mark.slow  # headless Chromium

ROOT = Path(__file__).resolve().parents[2]
KAFFEE = ROOT / "examples" / "kaffeeroesterei-shopify"
COUPON_BG = (0xFF, 0xF7, 0xE0)  # --ak-coupon-bg in page/style.css
ARGS = [
    str(KAFFEE / "shop.yaml"),
    str(KAFFEE / "orders" / "01-erstbestellung.json"),
    "--enrich",
    str(KAFFEE / "enrichment" / "01-erstbestellung.json"),
]


def _need_chromium() -> None:
    if any(shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome")):
        return
    message = "headless Chromium is not installed (Debian: apt-get install chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(autouse=True)
def _demo_code_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (preview.CODE_SECRET_ENV, "AFTERSALE_CODE_SECRET"):
        monkeypatch.delenv(name, raising=False)


def test_screenshot_of_the_shipped_first_order_shows_its_coupon(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _need_chromium()
    shot = tmp_path / "docs" / "preview.png"
    # when the preview of the shipped first order is photographed
    assert preview.main([*ARGS, "--out", str(tmp_path / "out"), "--screenshot", str(shot)]) == 0
    # then the picture has the documented size and its path is printed after the pages
    png = read_png(shot.read_bytes())
    assert (png.width, png.height) == preview.SCREENSHOT_SIZE == (1200, 1272)
    assert capsys.readouterr().out.splitlines()[-1] == str(shot)
    # and the coupon of the first-order campaign fills a large box near the top
    assert png.count(COUPON_BG, (0, 150, 800, 600)) > 100_000
    # and the picture in the docs is one of this command (same size)
    docs = read_png((ROOT / "docs" / "preview.png").read_bytes())
    assert (docs.width, docs.height) == preview.SCREENSHOT_SIZE


def test_without_chromium_the_screenshot_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    code = preview.main([*ARGS, "--out", str(tmp_path / "out"), "--screenshot", "x.png"])
    assert code == 2
    assert capsys.readouterr().err == (
        "aftersale-kit preview: --screenshot needs headless Chromium (chromium, "
        "chromium-browser or google-chrome on the PATH), e.g. apt-get install chromium\n"
    )
