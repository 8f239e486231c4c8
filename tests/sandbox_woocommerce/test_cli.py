"""``aftersale-kit sandbox woocommerce``: prints what to use, serves, stops cleanly."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from aftersale_kit_woocommerce.sandbox.cli import main
from woocommerce import API

_RUN = (
    "import sys; from aftersale_kit_woocommerce.sandbox.cli import main; "
    "sys.exit(main(sys.argv[1:]))"
)


def _start(*args: str) -> tuple[subprocess.Popen[str], list[str]]:
    process = subprocess.Popen(
        [sys.executable, "-c", _RUN, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    lines: list[str] = []
    for line in process.stdout:
        lines.append(line.rstrip("\n"))
        if line.startswith("Press Ctrl+C"):
            break
    return process, lines


def _value(lines: list[str], label: str) -> str:
    for line in lines:
        if line.strip().startswith(label):
            return line.split(":", 1)[1].strip().split()[0]
    raise AssertionError(f"{label} not printed: {lines}")


@pytest.mark.slow
@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_serves_until_interrupted(stop_signal: signal.Signals) -> None:
    key, secret = "ck_" + "1" * 40, "cs_" + "2" * 40
    process, lines = _start("--port", "0", "--key", key, "--secret", secret)
    try:
        url = _value(lines, "store URL")
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
        assert _value(lines, "consumer key") == key
        assert _value(lines, "consumer secret") == secret
        api = API(url, key, secret, timeout=10)
        assert api.post("coupons", {"code": "cli"}).status_code == 201
    finally:
        process.send_signal(stop_signal)
        out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert "stopped" in out


def test_https_prints_the_ca_to_verify_with(tmp_path: Path) -> None:
    process, lines = _start("--port", "0", "--https", "--cert-dir", str(tmp_path))
    try:
        url = _value(lines, "store URL")
        ca = _value(lines, "CA certificate")
        assert url.startswith("https://") and Path(ca).is_file()
        api = API(
            url, _value(lines, "consumer key"), _value(lines, "consumer secret"), verify_ssl=ca
        )
        assert api.get("orders").status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=10)
    assert process.returncode == 0


def test_malformed_keys_are_refused_with_the_fix(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sandbox", "woocommerce", "--key", "abc"]) == 2
    assert "ck_" in capsys.readouterr().err
