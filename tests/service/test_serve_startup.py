"""``aftersale-kit serve`` says at start-up where it listens, which shops and which database."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import write_shopify_config, write_woocommerce_config
from .harness import free_port, wait_for

pytestmark = pytest.mark.slow  # `serve` as a process

ROOT = Path(__file__).resolve().parents[2]


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def test_serve_logs_address_shops_and_database_once_listening(
    shopify_sandbox: Any, woocommerce_sandbox: Any, tmp_path: Path
) -> None:
    # given two shops in one folder and a SQLite database
    folder = tmp_path / "shops"
    _, shopify_env = write_shopify_config(folder / "kaffee", shopify_sandbox)
    _, woo_env = write_woocommerce_config(folder / "elektro", woocommerce_sandbox)
    (folder / "kaffee" / "shop.yaml").rename(folder / "kaffee.yaml")
    (folder / "elektro" / "shop.yaml").rename(folder / "elektro.yaml")
    db = f"sqlite:///{tmp_path / 'svc.db'}"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "serve.log"
    command = [sys.executable, "-m", "aftersale_kit", "serve", "--config", str(folder)]
    command += ["--db", db, "--port", str(port), "--threads", "2"]
    environment = {**os.environ, **shopify_env, **woo_env, "PYTHONPATH": str(ROOT)}
    with log_path.open("wb") as log:
        proc = subprocess.Popen(command, env=environment, stdout=log, stderr=log)
        try:
            # when it is up
            wait_for(lambda: proc.poll() is not None or _healthy(url), timeout=30)
            assert proc.poll() is None, log_path.read_text()
            wait_for(lambda: "listening on" in log_path.read_text(), timeout=5)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(20)
    # then one JSON line says where, which shops and which database, and nothing is a traceback
    text = log_path.read_text()
    assert "Traceback" not in text
    lines = [json.loads(line) for line in text.splitlines() if "listening on" in line]
    assert len(lines) == 1
    line = lines[0]
    shops = sorted([f"{shopify_sandbox.shop_domain} (shopify)", "127.0.0.1 (woocommerce)"])
    assert line["url"] == url
    assert sorted(line["shops"]) == shops
    # the URL as opened: with its driver, and without a password
    served = db.replace("sqlite://", "sqlite+pysqlite://")
    assert line["database"] == served
    assert line["worker_threads"] == 2
    assert line["msg"].startswith(
        f"aftersale-kit serve: listening on {url} (webhooks at {url}/webhooks/<platform>); "
        "2 shop(s): "
    )
    assert line["msg"].endswith(f"; database {served}; worker with 2 threads")
