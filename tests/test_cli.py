"""The ``aftersale-kit`` command, run as the installed console script and as ``python -m``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from aftersale_kit.cli import COMMANDS, available_commands, main
from aftersale_kit.core.schema import config_json_schema

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = Path(__file__).resolve().parent / "data" / "configs"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
KAFFEE = ROOT / "examples" / "kaffeeroesterei-shopify"
ELEKTRO = ROOT / "examples" / "elektronik-woocommerce"
SCRIPT = Path(sys.executable).parent / "aftersale-kit"


def run(
    *args: str | Path, cwd: Path = ROOT, env: dict[str, str] | None = None, module: bool = False
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "aftersale_kit"] if module else [str(SCRIPT)]
    environment = {k: v for k, v in os.environ.items() if k != "AFTERSALE_CODE_SECRET"}
    environment.update(env or {})
    return subprocess.run(
        [*command, *(str(a) for a in args)],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def evaluate_json(*args: str | Path) -> dict[str, Any]:
    result = run("evaluate", *args, "--json")
    assert result.returncode == 0, result.stderr
    decoded: dict[str, Any] = json.loads(result.stdout)
    return decoded


# -- validate -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_validate_five_mistakes_prints_five_positions_and_exits_1() -> None:
    # when the console script validates the config with five mistakes
    result = run("validate", "five_mistakes.yaml", cwd=CONFIGS)
    # then it exits 1 with exactly five file:line:col lines, and no traceback
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "five_mistakes.yaml:7:16: shop.secrets.api_token: this looks like the secret itself; put "
        "it in an environment variable and write the variable's name here, e.g. "
        "SHOPIFY_ACCESS_TOKEN",
        "five_mistakes.yaml:10:5: campaigns[0]: unknown key 'trigerr' (did you mean 'trigger'?)",
        "five_mistakes.yaml:11:13: campaigns[0].when[0]: unknown field 'subtotl' "
        "(did you mean 'subtotal'?)",
        "five_mistakes.yaml:13:49: campaigns[0].actions[0].issue_coupon.value: expected a "
        "percentage above 0 and at most 100, got 'zehn'",
        "five_mistakes.yaml:14:47: campaigns[0].actions[1].show_block.params: block 'shipping' "
        "needs the parameter 'transit_days'",
    ]
    assert result.stderr == "5 problems in 1 file\n"


@pytest.mark.slow
def test_validate_the_examples_with_python_dash_m() -> None:
    result = run(
        "validate", KAFFEE / "shop.yaml", ELEKTRO / "shop.yaml", cwd=ROOT / "examples", module=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        f"ok: {KAFFEE / 'shop.yaml'} (shopify, bohnenglueck-kaffee.myshopify.com): 11 campaigns, "
        "10 enabled",
        f"ok: {ELEKTRO / 'shop.yaml'} (woocommerce, elektro-krause.de): 11 campaigns, 11 enabled",
    ]


def test_validate_bad_files_without_traceback(tmp_path: Path) -> None:
    (tmp_path / "leer.yaml").write_text("", encoding="utf-8")
    (tmp_path / "kaputt.yaml").write_text("shop: [\n", encoding="utf-8")
    (tmp_path / "werte.yaml").write_text(
        "shop:\n  platform: shopify\n  domain: a.myshopify.com\n  currency: EUR\n"
        "campaigns:\n  - id: a\n    actions:\n"
        "      - show_block: {block: shipping, params: {handling_days: 1, transit_days: bald}}\n",
        encoding="utf-8",
    )
    result = run("validate", "leer.yaml", "kaputt.yaml", "fehlt.yaml", "werte.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "leer.yaml:1:1: the file is empty; it needs a shop: section and campaigns:"
    assert lines[1].startswith("kaputt.yaml:2:1: YAML syntax error: ")
    assert lines[2] == "fehlt.yaml:1:1: cannot read the file: No such file or directory"
    # block parameter values are checked by the content layer, at the value's position
    assert lines[3] == (
        "werte.yaml:8:80: campaigns[0].actions[0].show_block.params.transit_days: transit_days "
        "must be a number of days like 2 or a range like '1-3', got 'bald'"
    )
    assert len(lines) == 4
    assert result.stderr == "4 problems in 4 files\n"


# -- evaluate -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_evaluate_an_example_in_words() -> None:
    result = run(
        "evaluate",
        KAFFEE / "shop.yaml",
        KAFFEE / "orders" / "02-stammkunde-grosseinkauf.json",
        "--enrich",
        KAFFEE / "enrichment" / "02-stammkunde-grosseinkauf.json",
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout.splitlines()
    assert out[0] == (
        "Order #1042 (id 5902118273002) of bohnenglueck-kaffee.myshopify.com [shopify]"
    )
    assert out[1] == "Event order_paid at 2026-11-10T18:05:44+01:00: 4 of 11 campaigns fire"
    assert any(line.startswith("  FIRED  vip-vorverkauf") for line in out)
    assert any(line.startswith("    -    danke-erstkunde       condition_failed: ") for line in out)
    assert "Planned actions:" in out
    assert out[-1] == "  total cost: 6.80 EUR"
    # no code secret in the environment: a warning, and the demo secret
    assert result.stderr == (
        "warning: environment variable AFTERSALE_CODE_SECRET is not set; coupon codes are made "
        "with a fixed demo secret (guessable, for trying out only)\n"
    )


@pytest.mark.slow
def test_evaluate_json_for_both_examples() -> None:
    kaffee = evaluate_json(
        KAFFEE / "shop.yaml",
        KAFFEE / "orders" / "01-erstbestellung.json",
        "--enrich",
        KAFFEE / "enrichment" / "01-erstbestellung.json",
    )
    assert kaffee["platform"] == "shopify"
    assert kaffee["event"] == "order_paid"
    assert len(kaffee["outcomes"]) == 11
    assert "danke-erstkunde" in kaffee["fired"]
    coupon = next(a for a in kaffee["actions"] if a["coupon_code"])
    assert coupon["coupon_code"].startswith("DANKE-")
    assert coupon["kind"] == "issue_coupon"
    assert coupon["details"]["type"] in ("percentage", "fixed_amount")
    assert coupon["cost"]["currency"] == "EUR"
    elektro = evaluate_json(
        ELEKTRO / "shop.yaml",
        ELEKTRO / "orders" / "03-notebook-versendet.json",
        "--enrich",
        ELEKTRO / "enrichment" / "03-notebook-versendet.json",
    )
    assert elektro["platform"] == "woocommerce"
    # a completed WooCommerce order is the fulfilled event
    assert elektro["event"] == "order_fulfilled"
    assert elektro["fired"] == ["service-check", "umfrage-nach-lieferung"]
    assert elektro["actions"][0]["kind"] == "show_block"
    assert elektro["actions"][0]["details"] == {
        "block": "service_check",
        "params": {
            "interval_months": 3,
            "headline": "Kostenloser Geräte-Check alle 3 Monate",
            "booking_url": "https://elektro-krause.de/service/termin",
        },
        "variant": None,
    }


@pytest.mark.slow
def test_evaluate_options_now_event_and_code_secret() -> None:
    args = (KAFFEE / "shop.yaml", KAFFEE / "orders" / "01-erstbestellung.json")
    before = evaluate_json(*args)
    # the advent offer runs from 2026-11-27: outside the window at the order's own time ...
    assert before["outcomes"][2]["reason"] == "outside_window"
    # ... inside it as of --now
    during = evaluate_json(*args, "--now", "2026-12-01T10:00:00")
    assert during["decided_at"] == "2026-12-01T10:00:00+01:00"
    assert "advents-angebot" in during["fired"]
    fulfilled = evaluate_json(*args, "--event", "order_fulfilled")
    assert fulfilled["fired"] == ["umfrage-nach-versand", "punkte-erinnerung"]
    # a code secret from the environment makes other codes than the demo secret
    plain = run("evaluate", *args, "--json", "--now", "2026-12-01T10:00:00")
    keyed = run(
        "evaluate",
        *args,
        "--json",
        "--now",
        "2026-12-01T10:00:00",
        env={"AFTERSALE_CODE_SECRET": "geheim-nur-fuer-den-test"},
    )
    assert keyed.returncode == 0
    assert keyed.stderr == ""

    def codes(output: str) -> list[str]:
        return [a["coupon_code"] for a in json.loads(output)["actions"] if a["coupon_code"]]

    assert codes(plain.stdout) and codes(keyed.stdout)
    assert codes(plain.stdout) != codes(keyed.stdout)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("fixture", "event", "fired"),
    [
        ("shopify/shopify_python_api_order.json", "order_created", ["on-created"]),
        ("shopify/shopify_sample_webhook_order_2019.json", "order_cancelled", ["sorry-cancelled"]),
        ("shopify/shopify_sample_webhook_order_2025.json", "order_cancelled", ["sorry-cancelled"]),
    ],
)
def test_evaluate_shopify_vendor_fixtures(fixture: str, event: str, fired: list[str]) -> None:
    decision = evaluate_json(CONFIGS / "vendor_shopify.yaml", FIXTURES / fixture)
    assert decision["platform"] == "shopify"
    assert decision["event"] == event
    assert decision["fired"] == fired


@pytest.mark.slow
@pytest.mark.parametrize(
    ("fixture", "event", "fired"),
    [
        ("woocommerce/wc_v3_order_727.json", "order_paid", ["guests"]),
        ("woocommerce/wc96_recorded_order_77.json", "order_fulfilled", ["on-fulfilled"]),
        ("woocommerce/webhook_order_updated_body.raw.json", "order_paid", ["guests"]),
    ],
)
def test_evaluate_woocommerce_vendor_fixtures(fixture: str, event: str, fired: list[str]) -> None:
    decision = evaluate_json(CONFIGS / "vendor_woocommerce.yaml", FIXTURES / fixture)
    assert decision["platform"] == "woocommerce"
    assert decision["event"] == event
    assert decision["fired"] == fired


def test_evaluate_a_vendor_order_as_paid_issues_a_coupon() -> None:
    decision = evaluate_json(
        CONFIGS / "vendor_shopify.yaml",
        FIXTURES / "shopify" / "shopify_python_api_order.json",
        "--event",
        "order_paid",
        "--platform",
        "shopify",
    )
    assert decision["fired"] == ["thanks-big-order"]
    [coupon, block] = decision["actions"]
    assert coupon["coupon_code"].startswith("THANKS-")
    assert coupon["idempotency_key"].startswith("jsmith.myshopify.com:450789469:thanks-big-order")
    assert block["details"]["block"] == "coupon"


@pytest.mark.slow
def test_evaluate_refuses_unusable_input(tmp_path: Path) -> None:
    (tmp_path / "kaputt.json").write_text('{"id": 1,\n  "x" 2}\n', encoding="utf-8")
    cases: list[tuple[list[str | Path], str | None]] = [
        # an order of the other platform
        (
            [KAFFEE / "shop.yaml", FIXTURES / "woocommerce" / "wc_v3_order_727.json"],
            f"this is a woocommerce order, but {KAFFEE / 'shop.yaml'} is for a shopify shop\n",
        ),
        # not JSON
        (
            [KAFFEE / "shop.yaml", tmp_path / "kaputt.json"],
            f"{tmp_path / 'kaputt.json'}:2:7: not valid JSON: Expecting ':' delimiter\n",
        ),
        # JSON, but a coupon rather than an order
        (
            [
                CONFIGS / "vendor_woocommerce.yaml",
                FIXTURES / "woocommerce" / "wc_v3_coupon_719.json",
                "--platform",
                "woocommerce",
            ],
            None,
        ),
        # a config with mistakes
        ([CONFIGS / "five_mistakes.yaml", KAFFEE / "orders" / "01-erstbestellung.json"], None),
    ]
    for args, expected in cases:
        result = run("evaluate", *args)
        assert result.returncode == 1, args
        assert "Traceback" not in result.stderr
        if expected is not None:
            assert result.stderr == expected
    coupon = run(
        "evaluate",
        CONFIGS / "vendor_woocommerce.yaml",
        FIXTURES / "woocommerce" / "wc_v3_coupon_719.json",
        "--platform",
        "woocommerce",
    )
    assert coupon.stderr.startswith(
        f"{FIXTURES / 'woocommerce' / 'wc_v3_coupon_719.json'}: not a usable order"
    )


@pytest.mark.slow
def test_evaluate_enrichment_file_mistakes_are_named(tmp_path: Path) -> None:
    bad = tmp_path / "enrich.json"
    bad.write_text('{"customer": {"orders_count": "viele"}}', encoding="utf-8")
    result = run(
        "evaluate",
        KAFFEE / "shop.yaml",
        KAFFEE / "orders" / "01-erstbestellung.json",
        "--enrich",
        bad,
    )
    assert result.returncode == 1
    assert result.stderr.endswith(
        f"{bad}: customer.orders_count: expected a whole number of at least 1\n"
    )


# -- schema and dispatch ------------------------------------------------------------------------


def test_schema_command_prints_the_schema() -> None:
    result = run("schema")
    assert result.returncode == 0
    assert json.loads(result.stdout) == config_json_schema()


@pytest.mark.slow
def test_usage_version_and_unknown_commands() -> None:
    usage = run("--help")
    assert usage.returncode == 0
    for name in ("validate", "evaluate", "schema"):
        assert f"  {name}" in usage.stdout
    assert run().returncode == 2
    version = run("--version", module=True)
    assert version.stdout.startswith("aftersale-kit ")
    unknown = run("valdate", "x.yaml")
    assert unknown.returncode == 2
    assert unknown.stderr.splitlines()[0] == (
        "aftersale-kit: unknown command 'valdate' (did you mean 'validate'?)"
    )


def test_dispatch_table_offers_only_commands_whose_module_exists(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a plugged-in command whose module is installed and one whose module is not
    monkeypatch.setitem(COMMANDS, "hello", ("tests.cli_plugin_absent:main", "absent"))
    monkeypatch.setitem(COMMANDS, "ping", ("aftersale_kit.cli:schema_main", "prints the schema"))
    # then only the installed one is offered, and it is called with the remaining arguments
    assert "hello" not in available_commands()
    assert "ping" in available_commands()
    assert main(["ping"]) == 0
    assert json.loads(capsys.readouterr().out) == config_json_schema()
    assert main(["hello"]) == 2


def test_a_command_whose_module_lacks_a_dependency_names_the_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a plugged-in command whose module imports something that is really not installed
    (tmp_path / "needs_missing_dep.py").write_text(
        "import aftersale_kit_no_such_dependency\n\ndef main(argv):\n    return 0\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(COMMANDS, "extra", ("needs_missing_dep:main", "needs an extra"))
    # when it is run, then it says what is missing instead of a traceback
    assert main(["extra"]) == 1
    assert capsys.readouterr().err == (
        "aftersale-kit extra: module 'aftersale_kit_no_such_dependency' is not installed; "
        "install the extra that brings it, e.g. pip install 'aftersale-kit[all]'\n"
    )


@pytest.mark.slow
def test_evaluate_warns_when_order_and_shop_currency_differ() -> None:
    result = run(
        "evaluate",
        KAFFEE / "shop.yaml",
        FIXTURES / "shopify" / "shopify_sample_webhook_order_2025.json",
        "--event",
        "order_paid",
    )
    assert result.returncode == 0
    assert result.stderr.splitlines()[0] == (
        "warning: the order is in USD, the shop in EUR; the shop file gives no exchange rate for "
        "USD, so conditions on amounts, margin guards and costs that depend on them are unknown"
    )
    # the USD amounts are not compared as if they were EUR: `subtotal >= 40` is unknown, so the
    # sample pack (1.80 EUR) does not fire and only the content campaign costs anything
    assert (
        "probierpaeckchen      field_unknown: condition 1 `subtotal >= 40`: amounts unknown in "
        "EUR: the order is in USD"
    ) in result.stdout
    assert result.stdout.splitlines()[-1] == "  total cost: 0.00 EUR"
