"""The preview page in a real headless Chromium: scripts run, the coupon and the contact show.

Needs the ``chromium`` binary (Debian package ``chromium``). Without it the tests are skipped
with the reason, except under ``CI=true`` where they fail.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from png_pixels import read_png

from aftersale_kit.content import preview

pytestmark = pytest.mark.slow  # headless Chromium

DATA = Path(__file__).resolve().parent / "data"
NOW = "2025-11-21T10:05:00"  # five minutes after the order, Berlin time
COUPON_BG = (0xFF, 0xF7, 0xE0)  # --ak-coupon-bg in page/style.css
ACCENT = (0x0F, 0x6B, 0x5C)  # --ak-accent: the contact's avatar
WINDOW = (1200, 2200)
SCALE = 0.5  # screenshots at half resolution keep the pure-Python PNG check fast

# Test-only: records where the coupon and the contact are, after the page's own scripts ran.
_MEASURE = """<script>
addEventListener("load", function () {
  var out = {};
  ["coupon", "contact_person"].forEach(function (name) {
    var r = document.querySelector('[data-ak-block="' + name + '"]').getBoundingClientRect();
    out[name] = [r.left, r.top, r.right, r.bottom];
  });
  document.body.setAttribute("data-test-rects", JSON.stringify(out));
  var button = document.querySelector("[data-ak-copy]");
  button.click();
  setTimeout(function () {
    document.body.setAttribute("data-test-copy", button.textContent);
  }, 300);
});
</script>"""


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    message = "headless Chromium is not installed (Debian: apt-get install chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def _run_chromium(binary: str, *args: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory() as profile:
        command = [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--force-color-profile=srgb",
            f"--user-data-dir={profile}",
            *args,
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return result


@pytest.fixture(scope="module")
def preview_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # given the preview of a German WooCommerce order, made with the demo code secret
    out = tmp_path_factory.mktemp("preview")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = preview.main(
            [
                str(DATA / "preview-shop.yaml"),
                str(DATA / "preview-order.json"),
                "--out",
                str(out),
                "--now",
                NOW,
            ]
        )
    assert code == 0
    return out


@pytest.fixture(scope="module")
def measured_page(preview_dir: Path) -> Path:
    page = (preview_dir / "index.html").read_text(encoding="utf-8")
    path = preview_dir / "measured.html"
    path.write_text(page.replace("</body>", _MEASURE + "</body>"), encoding="utf-8")
    return path


def test_scripts_run_countdown_ticks_and_copy_button_works(measured_page: Path) -> None:
    binary = _chromium()
    # when the page is loaded and its scripts have run for three seconds
    dom = _run_chromium(
        binary, "--virtual-time-budget=3000", "--dump-dom", measured_page.as_uri()
    ).stdout
    # then the coupon shows its code and a countdown that moved past the static text
    assert re.search(r"DANKE-[A-Z0-9]{8}", dom)
    assert re.search(r"Noch 6 Tage 23:59:5\d gültig", dom), "the countdown did not tick"
    # and the copy button was revealed and answered the click
    assert 'data-ak-ready="1"' in dom
    button = re.search(r"<button[^>]*data-ak-copy[^>]*>", dom)
    assert button is not None and " hidden" not in button.group(0)
    copied = re.search(r'data-test-copy="([^"]*)"', dom)
    assert copied is not None and copied.group(1) in {"Kopiert!", "Bitte markieren und kopieren"}
    # and the reassuring content is there
    assert "Miriam Kästner" in dom
    assert 'href="tel:+49301234567"' in dom
    assert "Di., 25.11. – Mi., 26.11." in dom


def test_screenshot_shows_the_coupon_and_the_contact(measured_page: Path, tmp_path: Path) -> None:
    binary = _chromium()
    size = f"--window-size={WINDOW[0]},{WINDOW[1]}"
    scale = f"--force-device-scale-factor={SCALE}"
    # given where the page puts the coupon and the contact
    dom = _run_chromium(binary, size, scale, "--dump-dom", measured_page.as_uri()).stdout
    rects_json = re.search(r'data-test-rects="([^"]*)"', dom)
    assert rects_json is not None
    rects = json.loads(rects_json.group(1).replace("&quot;", '"'))
    # when the page is photographed
    shot = tmp_path / "page.png"
    _run_chromium(binary, size, scale, f"--screenshot={shot}", measured_page.as_uri())
    png = read_png(shot.read_bytes())

    def box(name: str) -> tuple[int, int, int, int]:
        left, top, right, bottom = (round(v * SCALE) for v in rects[name])
        return (left, top, right, bottom)

    # then the coupon's box is filled with its colour, and the contact shows its avatar
    coupon = box("coupon")
    coupon_area = (coupon[2] - coupon[0]) * (coupon[3] - coupon[1])
    assert coupon_area > 0 and coupon[3] <= png.height
    assert png.count(COUPON_BG, coupon) > coupon_area * 0.3
    contact = box("contact_person")
    assert contact[3] <= png.height, "the contact is below the screenshot"
    assert png.count(ACCENT, contact) > 300  # the initials' disc (68 px, at half scale)
    assert png.count(COUPON_BG, contact) == 0
