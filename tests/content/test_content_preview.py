"""``aftersale-kit preview CONFIG ORDER.json --out DIR``: config, order, decision, files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from aftersale_kit.content import preview

DATA = Path(__file__).resolve().parent / "data"
CONFIG = DATA / "preview-shop.yaml"
ORDER = DATA / "preview-order.json"
NOW = ["--now", "2025-11-21T10:05:00"]
CODE = re.compile(r"DANKE-[A-Z0-9]{8}")


@pytest.fixture(autouse=True)
def _no_code_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(preview.CODE_SECRET_ENV, raising=False)


def test_preview_writes_page_and_email(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # when the preview is made
    code = preview.main([str(CONFIG), str(ORDER), "--out", str(tmp_path / "out"), *NOW])
    # then the three files are there and their paths printed, after what fired and why
    assert code == 0
    out = capsys.readouterr().out
    paths = [tmp_path / "out" / name for name in ("index.html", "email.html", "email.txt")]
    assert out.splitlines()[-3:] == [str(p) for p in paths]
    assert "campaign danke-gutschein: fired: coupon DANKE-" in out
    page, html, text = (p.read_text(encoding="utf-8") for p in paths)
    # and the page, the HTML e-mail and the text e-mail show the same coupon
    codes = {m.group(0) for part in (page, html, text) for m in CODE.finditer(part)}
    assert len(codes) == 1
    assert page.startswith("<!DOCTYPE html>")
    assert "Vielen Dank, Anna!" in page
    assert "Vorschau" in page
    assert "Gültig bis 28.11.2025" in text
    assert "Di., 25.11. – Mi., 26.11." in text


@pytest.mark.slow
def test_demo_secret_gives_stable_codes_and_the_shop_secret_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def code_of(run: str) -> str:
        out = tmp_path / run
        assert preview.main([str(CONFIG), str(ORDER), "--out", str(out), *NOW]) == 0
        found = CODE.search((out / "email.txt").read_text(encoding="utf-8"))
        assert found is not None
        return found.group(0)

    first, again = code_of("a"), code_of("b")
    monkeypatch.setenv(preview.CODE_SECRET_ENV, "the-shops-own-secret")
    assert first == again != code_of("c")


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"config": "shop:\n  platform: shopify\n  bogus: 1\n"}, "config.yaml:"),
        ({"order": '{\n  "id": 1,\n  oops\n}'}, "order.json:3:3: not JSON"),
        ({"order": "[1, 2]"}, "an order must be a JSON object"),
        ({"order": '{"id": 1}'}, "not an order of Shopify or WooCommerce"),
    ],
)
def test_bad_input_is_named_and_exits_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    files: dict[str, str],
    message: str,
) -> None:
    config, order = CONFIG, ORDER
    if "config" in files:
        config = tmp_path / "config.yaml"
        config.write_text(files["config"], encoding="utf-8")
    if "order" in files:
        order = tmp_path / "order.json"
        order.write_text(files["order"], encoding="utf-8")
    code = preview.main([str(config), str(order), "--out", str(tmp_path / "out"), *NOW])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("aftersale-kit preview: ")
    assert message in err
    assert not (tmp_path / "out").exists()


def test_bad_now_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = preview.main([str(CONFIG), str(ORDER), "--out", str(tmp_path), "--now", "morgen"])
    assert code == 2
    assert "--now must be a date and time like 2025-11-21T10:00, got 'morgen'" in (
        capsys.readouterr().err
    )


def test_missing_order_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = preview.main([str(CONFIG), str(tmp_path / "none.json"), "--out", str(tmp_path)])
    assert code == 2
    assert "none.json: cannot read the order" in capsys.readouterr().err


def test_bad_block_value_is_named_with_its_position(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a survey link that would run a script
    config = tmp_path / "shop.yaml"
    text = CONFIG.read_text(encoding="utf-8") + (
        "  - id: umfrage\n"
        "    actions:\n"
        "      - show_block: {block: survey, params: {url: 'javascript:alert(1)'}}\n"
    )
    config.write_text(text, encoding="utf-8")
    line = text.count("\n")
    # when the preview is asked for
    code = preview.main([str(config), str(ORDER), "--out", str(tmp_path / "out"), *NOW])
    # then the config loader reports it at its place, with what to write instead
    assert code == 2
    err = capsys.readouterr().err
    assert f"shop.yaml:{line}:" in err
    assert "url must start with https://" in err
