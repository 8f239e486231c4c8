"""The stamp card in a real headless Chromium, from a page without any script: the slots are
there, in words for screen readers and as filled discs on screen.

Needs the ``chromium`` binary; skipped without it (failed under ``CI=true``), as the other
browser tests of the content.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import pytest
from png_pixels import read_png
from test_content_browser import _chromium, _run_chromium

from aftersale_kit.content import preview

pytestmark = pytest.mark.slow  # headless Chromium

DATA = Path(__file__).resolve().parent / "data"
ACCENT = (0x0F, 0x6B, 0x5C)  # --ak-accent: a filled stamp
WINDOW = (1200, 1600)
SCALE = 0.5
_SCRIPT = re.compile(r"<script\b.*?</script>", re.S)

# Test-only, on a copy of the page: where the stamp card is (the page itself has no script).
_MEASURE = """<script>
addEventListener("load", function () {
  var r = document.querySelector('[data-ak-block="stamp_card"]').getBoundingClientRect();
  document.body.setAttribute("data-test-rect", JSON.stringify([r.left, r.top, r.right, r.bottom]));
});
</script>"""


def _page(tmp: Path, stamps: int) -> Path:
    out = tmp / f"stamps-{stamps}"
    with contextlib.redirect_stdout(io.StringIO()):
        code = preview.main(
            [
                str(DATA / "loyalty-shop.yaml"),
                str(DATA / "preview-order.json"),
                "--out",
                str(out),
                "--stamps",
                str(stamps),
            ]
        )
    assert code == 0
    return out / "index.html"


def _bare(page: Path) -> Path:
    """A copy of the page with every script taken out."""
    bare = page.with_name("bare.html")
    bare.write_text(_SCRIPT.sub("", page.read_text(encoding="utf-8")), encoding="utf-8")
    return bare


def _accent_in_card(binary: str, page: Path, tmp: Path) -> int:
    size, scale = f"--window-size={WINDOW[0]},{WINDOW[1]}", f"--force-device-scale-factor={SCALE}"
    measured = page.with_name("measured.html")
    measured.write_text(
        page.read_text(encoding="utf-8").replace("</body>", _MEASURE + "</body>"), "utf-8"
    )
    dom = _run_chromium(binary, size, scale, "--dump-dom", measured.as_uri()).stdout
    found = re.search(r'data-test-rect="([^"]*)"', dom)
    assert found is not None
    left, top, right, bottom = (round(v * SCALE) for v in json.loads(found.group(1)))
    shot = tmp / f"{page.parent.name}.png"
    bare = _bare(page)
    _run_chromium(binary, size, scale, f"--screenshot={shot}", bare.as_uri())
    png = read_png(shot.read_bytes())
    assert bottom <= png.height, "the stamp card is below the screenshot"
    return png.count(ACCENT, (left, top, right, bottom))


def test_the_stamp_card_needs_no_script(tmp_path: Path) -> None:
    binary = _chromium()
    page = _page(tmp_path, stamps=2)
    # when the page is loaded with every script taken out
    dom = _run_chromium(binary, "--dump-dom", _bare(page).as_uri()).stdout
    # then the card has its five slots, three filled, each named in words
    card = dom[dom.index('data-ak-block="stamp_card"') :]
    card = card[: card.index("</section>")]
    assert re.findall(r'data-ak-filled="(\w+)"', card) == ["true"] * 3 + ["false"] * 2
    assert 'aria-label="3 von 5 Stempeln gesammelt"' in card
    assert "Stempel 3: gesammelt" in card and "Stempel 4: offen" in card


def test_filled_stamps_show_as_filled_discs(tmp_path: Path) -> None:
    binary = _chromium()
    # given the card with this order's stamp only, and with three
    one = _accent_in_card(binary, _page(tmp_path, stamps=0), tmp_path)
    three = _accent_in_card(binary, _page(tmp_path, stamps=2), tmp_path)
    # then a filled stamp is a disc of the accent colour (44 px, at half scale), and three
    # stamps show about three times as much of it
    assert one > 150
    assert 2.5 * one < three < 3.5 * one
