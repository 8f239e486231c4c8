"""The README runs: its Python blocks as written, its campaign example on a shipped order, and the
commands it shows exist."""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from pathlib import Path

import pytest

from aftersale_kit.cli import COMMANDS, main
from aftersale_kit.evaluation import evaluate_payload, load_shop_config, read_json_file

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
KAFFEE = ROOT / "examples" / "kaffeeroesterei-shopify"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", README, re.MULTILINE | re.DOTALL)


def test_the_python_blocks_run_as_written(monkeypatch: pytest.MonkeyPatch) -> None:
    # given the README's Python blocks, run from the checkout's root as the README says
    blocks = _blocks("python")
    assert blocks, "the README has no Python block"
    monkeypatch.chdir(ROOT)
    printed = io.StringIO()
    # when each runs in a fresh namespace
    with contextlib.redirect_stdout(printed):
        for number, block in enumerate(blocks, start=1):
            exec(compile(block, f"README.md python block {number}", "exec"), {})
    # then the developer sees the first-order campaign fire with a coupon code, and why others
    # do not
    lines = printed.getvalue().splitlines()
    assert re.fullmatch(
        r"danke-erstkunde True fired \(variant '(betrag|prozent)'\): coupon DANKE-[A-Z0-9]{8} .*",
        lines[0],
    )
    assert "danke-stammkunde False condition 1 `customer.orders_count >= 2` is false" in lines
    assert "anmeldebonus False the campaign is disabled" in lines
    assert re.fullmatch(r"coupon DANKE-[A-Z0-9]{8} for danke-erstkunde", lines[-1])


def _readme_shop(tmp_path: Path, *, max_share: str | None = None) -> Path:
    text = _blocks("yaml")[0]  # the campaign example; later YAML blocks are fragments
    if max_share is not None:
        text = text.replace("max_share: 0.5", f"max_share: {max_share}")
    path = tmp_path / "shop.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _detail(config_path: Path, order: str, *, enrich: bool = True) -> tuple[bool, str]:
    config = load_shop_config(config_path)
    _, decision = evaluate_payload(
        config,
        read_json_file(KAFFEE / "orders" / f"{order}.json"),
        enrichment=read_json_file(KAFFEE / "enrichment" / f"{order}.json") if enrich else None,
        code_secret=b"readme",
    )
    (outcome,) = decision.outcomes
    return outcome.fired, f"{outcome.reason.value}: {outcome.detail}"


def test_the_campaign_example_fires_on_the_shipped_first_order(tmp_path: Path) -> None:
    shop = _readme_shop(tmp_path)
    # the campaign fires on the first order, with its enrichment
    fired, detail = _detail(shop, "01-erstbestellung")
    assert fired
    assert re.search(r"coupon DANKE-[A-Z0-9]{8} \(10% off\); block 'coupon'", detail)
    # and the README's explanation holds: with max_share 0.3 the margin guard refuses
    fired, detail = _detail(_readme_shop(tmp_path, max_share="0.3"), "01-erstbestellung")
    assert not fired
    assert detail == (
        "margin_guard: the offer costs 4.27 EUR, more than 30% of this order's margin "
        "12.81 EUR (at most 3.84 EUR)"
    )
    # and without enrichment the first-order condition is unknown
    fired, detail = _detail(shop, "01-erstbestellung", enrich=False)
    assert not fired
    assert detail.startswith("field_unknown: condition 2 `first_order`: unknown field")


def test_the_commands_it_shows_exist(capsys: pytest.CaptureFixture[str]) -> None:
    shown: set[tuple[str, ...]] = set()
    for block in _blocks("sh"):
        for line in block.splitlines():
            words = shlex.split(line.partition("#")[0])
            if words[:1] == ["aftersale-kit"] and len(words) > 1:
                name = words[1]
                sub = (words[2],) if name in ("shops", "sandbox") else ()
                shown.add((name, *sub))
    assert ("shops", "register-webhooks") in shown
    for command in sorted(shown):
        assert command[0] in COMMANDS, command
        with pytest.raises(SystemExit) as exited:
            main([*command, "--help"])
        assert exited.value.code == 0, command
    capsys.readouterr()
