"""``aftersale-kit sandbox shopify``: prints what to use, serves, and stops cleanly on signals."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from aftersale_kit_shopify.sandbox.cli import main

RUN = "import sys; from aftersale_kit_shopify.sandbox.cli import main; sys.exit(main(sys.argv[1:]))"


def start(*args: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    process = subprocess.Popen(
        [sys.executable, "-c", RUN, "sandbox", "shopify", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    printed: dict[str, str] = {}
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        match = re.match(r"\s+([a-zA-Z ]+):\s+(\S+)", line)
        if match:
            printed[match.group(1).strip()] = match.group(2)
        if line.startswith("Press Ctrl+C"):
            return process, printed
    process.kill()
    _, errors = process.communicate(timeout=10)
    raise AssertionError(f"the sandbox did not start: {errors}")


def stop(process: subprocess.Popen[str], sig: signal.Signals) -> tuple[int, str]:
    process.send_signal(sig)
    out, _ = process.communicate(timeout=10)
    return process.returncode, out


@pytest.mark.slow
def test_serves_until_sigterm_then_exits_cleanly() -> None:
    # given the CLI started with a known token and secret
    process, printed = start("--port", "0", "--shop", "demo", "--token", "tok", "--secret", "sec")
    try:
        # then it printed what a client needs
        assert printed["shop domain"] == "demo.myshopify.com"
        assert printed["access token"] == "tok"
        assert printed["client secret"] == "sec"
        assert printed["admin URL"].startswith("http://127.0.0.1:")
        assert printed["admin URL"].endswith("/admin/api/2025-10")
        # and it answers GraphQL with that token
        answer = requests.post(
            printed["GraphQL URL"],
            json={"query": "{ shop { myshopifyDomain } }"},
            headers={"X-Shopify-Access-Token": "tok"},
            timeout=5,
        )
        assert answer.json()["data"]["shop"] == {"myshopifyDomain": "demo.myshopify.com"}
    finally:
        # when it is told to stop
        code, out = stop(process, signal.SIGTERM)
    # then it stops cleanly
    assert code == 0
    assert "Shopify sandbox stopped." in out


@pytest.mark.slow
def test_https_prints_the_ca_to_trust_and_stops_on_ctrl_c() -> None:
    process, printed = start("--https", "--token", "tok")
    try:
        ca_file = printed["CA file"]
        assert Path(ca_file).is_file()
        assert printed["admin URL"].startswith("https://127.0.0.1:")
        answer = requests.post(
            printed["GraphQL URL"],
            json={"query": "{ shop { name } }"},
            headers={"X-Shopify-Access-Token": "tok"},
            timeout=5,
            verify=ca_file,
        )
        assert answer.json()["data"]["shop"]["name"] == "sandbox-shop"
    finally:
        code, out = stop(process, signal.SIGINT)
    assert code == 0
    assert "Shopify sandbox stopped." in out


def test_bad_arguments_are_refused_with_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sandbox", "shopify", "--shop", "Not A Shop"]) == 2
    assert "shop must be the part before .myshopify.com" in capsys.readouterr().err
    assert main(["--api-version", "latest"]) == 2
    assert "YYYY-MM" in capsys.readouterr().err
