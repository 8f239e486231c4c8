"""The command line never shows a traceback: missing extras, closed pipes, unexpected errors;
``preview`` and ``evaluate`` decide alike for the same order and options."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from aftersale_kit.cli import COMMANDS, main
from aftersale_kit.content import preview

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).parent / "aftersale-kit"
EXAMPLES = ROOT / "examples"


def _plug(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, source: str) -> None:
    """A plugged-in command ``name`` whose module is ``source``."""
    module = f"cli_probe_{name}_{tmp_path.name.replace('-', '_')}"  # a fresh module per test
    (tmp_path / f"{module}.py").write_text(source, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(COMMANDS, name, (f"{module}:main", "probe"))


def test_closed_pipe_ends_quietly() -> None:
    # when the schema is piped into `head -1`, which closes the pipe after one line
    result = subprocess.run(
        ["bash", "-c", f"'{SCRIPT}' schema | head -1"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # then the first line is there and nothing else is said
    assert result.stdout == "{\n"
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("module", "extra"),
    [
        ("uvicorn", "server"),
        ("sqlalchemy", "server"),
        ("shopify", "shopify"),
        ("graphql", "sandbox"),
        ("httpx", "demo"),
    ],
)
def test_a_missing_module_of_a_known_extra_is_one_line_with_the_pip_command(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    module: str,
    extra: str,
) -> None:
    # given a command that imports an optional dependency only when it runs, as `serve` does
    _plug(
        tmp_path,
        monkeypatch,
        "needy",
        f'def main(argv):\n    raise ModuleNotFoundError("no {module}", name="{module}.sub")\n',
    )
    # when it runs on an install without it
    assert main(["needy", "--config", "x"]) == 1
    # then one line names the module, the extra and the command to install it
    assert capsys.readouterr().err == (
        f"aftersale-kit needy: needs an optional dependency (module '{module}' is not "
        f"installed): pip install 'aftersale-kit[{extra}]'\n"
    )


def test_a_missing_extra_at_import_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a command module that needs the storage at import, as `shops` does
    _plug(
        tmp_path,
        monkeypatch,
        "stored",
        "from aftersale_kit.core.errors import MissingExtraError\n"
        "raise MissingExtraError('aftersale_kit.storage', 'server')\n",
    )
    assert main(["stored", "--help"]) == 1
    assert capsys.readouterr().err == (
        "aftersale-kit stored: aftersale_kit.storage needs an optional dependency: "
        "pip install 'aftersale-kit[server]'\n"
    )


def test_an_unexpected_error_is_one_line_and_its_traceback_on_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _plug(tmp_path, monkeypatch, "buggy", "def main(argv):\n    return {}['key']\n")
    monkeypatch.delenv("AFTERSALE_KIT_TRACEBACK", raising=False)
    assert main(["buggy"]) == 70
    assert capsys.readouterr().err == (
        "aftersale-kit buggy: internal error (KeyError: 'key'); please report it "
        "(AFTERSALE_KIT_TRACEBACK=1 shows the traceback)\n"
    )
    monkeypatch.setenv("AFTERSALE_KIT_TRACEBACK", "1")
    with pytest.raises(KeyError):
        main(["buggy"])


@pytest.mark.slow
def test_an_order_nested_too_deeply_is_one_line(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    shop = EXAMPLES / "kaffeeroesterei-shopify" / "shop.yaml"
    for command in (["evaluate"], ["preview", "--out", str(tmp_path / "out")]):
        result = subprocess.run(
            [str(SCRIPT), *command, str(shop), str(deep)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode in (1, 2)
        assert "Traceback" not in result.stderr
        assert len(result.stderr.splitlines()) == 1
        assert "nested too deeply" in result.stderr


# -- preview and evaluate agree --------------------------------------------------------------

ORDERS = sorted(EXAMPLES.glob("*/orders/*.json"))


@pytest.fixture
def no_code_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (preview.CODE_SECRET_ENV, "AFTERSALE_CODE_SECRET", "ELEKTRO_CODE_SECRET"):
        monkeypatch.delenv(name, raising=False)


def _outcomes_of_evaluate(args: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    assert main(["evaluate", *args, "--json"]) == 0
    decided = json.loads(capsys.readouterr().out)
    return {
        o["campaign_id"]: (
            o["detail"] if o["fired"] else f"not fired ({o['reason']}): {o['detail']}"
        )
        for o in decided["outcomes"]
    }


def _outcomes_of_preview(
    args: list[str], out: Path, capsys: pytest.CaptureFixture[str]
) -> dict[str, str]:
    assert main(["preview", *args, "--out", str(out)]) == 0
    found = re.findall(r"^campaign ([\w-]+): (.*)$", capsys.readouterr().out, re.MULTILINE)
    return dict(found)


@pytest.mark.slow
@pytest.mark.parametrize("order", ORDERS, ids=lambda p: f"{p.parent.parent.name}/{p.stem}")
@pytest.mark.usefixtures("no_code_secret")
def test_preview_and_evaluate_agree_on_every_example_order(
    order: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given an example order with its enrichment, and no options beyond it (the defaults)
    shop = order.parent.parent
    args = [str(shop / "shop.yaml"), str(order), "--enrich", str(shop / "enrichment" / order.name)]
    # then both commands decide the same: per campaign fired or not, why, and the coupon codes
    by_preview = _outcomes_of_preview(args, tmp_path / "out", capsys)
    assert by_preview == _outcomes_of_evaluate(args, capsys)
    assert by_preview  # every campaign of the shop is listed


@pytest.mark.usefixtures("no_code_secret")
def test_preview_and_evaluate_agree_with_the_same_now_and_event(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shop = EXAMPLES / "kaffeeroesterei-shopify"
    args = [
        str(shop / "shop.yaml"),
        str(shop / "orders" / "04-advent-stammkunde.json"),
        "--enrich",
        str(shop / "enrichment" / "04-advent-stammkunde.json"),
        "--now",
        "2026-11-28T10:00",
        "--event",
        "order_fulfilled",
    ]
    by_preview = _outcomes_of_preview(args, tmp_path / "out", capsys)
    assert by_preview == _outcomes_of_evaluate(args, capsys)
    # the fulfilled event: only the survey after shipping runs, the paid campaigns wait
    assert by_preview["umfrage-nach-versand"].startswith("fired")
    assert by_preview["danke-erstkunde"].startswith("not fired (other_trigger)")
