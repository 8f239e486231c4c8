"""``aftersale-kit preview ... --then LATER.json``: the content of all of an order's steps."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from aftersale_kit.content import preview

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "kaffeeroesterei-shopify"
CONFIG = EXAMPLE / "shop.yaml"
PAID = EXAMPLE / "orders" / "01-erstbestellung.json"
FULFILLED = EXAMPLE / "orders" / "05-versendet.json"
ENRICH = EXAMPLE / "enrichment" / "01-erstbestellung.json"
CODE = re.compile(r"DANKE-[A-Z0-9]{8}")


@pytest.fixture(autouse=True)
def _no_code_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(preview.CODE_SECRET_ENV, raising=False)


def _blocks(page: str) -> list[str]:
    return re.findall(r'class="ak-block ak-([a-z_-]+)', page)


def _cancelled(tmp_path: Path) -> Path:
    order = json.loads(PAID.read_text(encoding="utf-8"))
    order = order.get("order", order)
    order["cancelled_at"] = "2026-11-05T10:00:00+01:00"
    order["financial_status"] = "voided"
    path = tmp_path / "01-storniert.json"
    path.write_text(json.dumps(order), encoding="utf-8")
    return path


def run(tmp_path: Path, *later: Path) -> tuple[str, str]:
    out = tmp_path / f"out{len(later)}"
    args = [str(CONFIG), str(PAID), "--enrich", str(ENRICH), "--out", str(out)]
    for path in later:
        args += ["--then", str(path)]
    assert preview.main(args) == 0
    return (out / "index.html").read_text(encoding="utf-8"), str(out)


@pytest.mark.slow
def test_a_later_state_keeps_the_blocks_and_a_cancellation_takes_the_offers_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given the first order of the coffee shop: paid (coupon, gift, shipping, contact, FAQ)
    paid_page, _ = run(tmp_path)
    # when it is fulfilled, and then cancelled
    fulfilled_page, _ = run(tmp_path, FULFILLED)
    capsys.readouterr()
    cancelled_page, _ = run(tmp_path, FULFILLED, _cancelled(tmp_path))
    out = capsys.readouterr().out
    # then the fulfilled page shows what paid showed (the survey after shipping is an e-mail a
    # week later, not a block); the confirmation ends with the bonus program: points, balance,
    # tier
    loyalty = ["loyalty"] * 3
    assert _blocks(paid_page) == ["coupon", "gift", "shipping", "contact", "faq", *loyalty]
    assert _blocks(fulfilled_page) == _blocks(paid_page)
    assert CODE.search(fulfilled_page) is not None
    # and the cancellation takes the coupon and the gift back; the other blocks stay
    assert _blocks(cancelled_page) == ["shipping", "contact", "faq", *loyalty]
    assert CODE.search(cancelled_page) is None
    assert "then order_cancelled at 2026-11-05T10:00:00+01:00: fired nothing" in out
    assert "  taken back: danke-erstkunde: the order was cancelled" in out


def test_a_later_state_of_another_order_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = EXAMPLE / "orders" / "03-gastbestellung.json"
    args = [str(CONFIG), str(PAID), "--then", str(other), "--out", str(tmp_path / "o")]
    assert preview.main(args) == 2
    err = capsys.readouterr().err
    assert "is not order" in err and "03-gastbestellung.json" in err
