"""`aftersale-kit sandbox PLATFORM` runs a real sandbox and stops cleanly on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

SCRIPT = Path(sys.executable).parent / "aftersale-kit"


def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(SCRIPT), "sandbox", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _read_until(process: subprocess.Popen[str], marker: str) -> list[str]:
    assert process.stdout is not None
    lines: list[str] = []
    for line in process.stdout:
        lines.append(line.rstrip("\n"))
        if marker in line:
            return lines
    raise AssertionError(f"no {marker!r} in {lines}")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("platform", "marker", "probe"),
    [
        ("shopify", "control API:", "state"),
        ("woocommerce", "control API:", "state"),
    ],
)
def test_sandbox_command_serves_until_terminated(platform: str, marker: str, probe: str) -> None:
    # given the sandbox started from the command line
    process = _start(platform, "--port", "0")
    try:
        lines = _read_until(process, marker)
        control = next(line for line in lines if marker in line).split(marker, 1)[1].strip()
        base = control.split("/_sandbox/", 1)[0]
        # when its control API is asked for its state over a real socket
        response = requests.get(f"{base}/_sandbox/{probe}", timeout=5)
        # then it answers
        assert response.status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=10)  # waits, and closes the pipes
        code = process.returncode
    # and it stops cleanly on SIGTERM
    assert code == 0


def test_unknown_platform_gets_a_suggestion() -> None:
    result = subprocess.run(
        [str(SCRIPT), "sandbox", "shopfy"], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert "did you mean 'shopify'?" in result.stderr
