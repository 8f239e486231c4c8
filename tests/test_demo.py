"""``python -m aftersale_kit.demo`` runs the live path end to end: sandboxes, service, worker."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_live_demo_creates_coupons_on_both_platforms_and_stops_everything(
    tmp_path: Path,
) -> None:
    # given: the examples of this checkout; previews go to a temporary folder
    out_dir = tmp_path / "demo-out"

    # when
    result = subprocess.run(
        [sys.executable, "-m", "aftersale_kit.demo", "--out", str(out_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )

    # then
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert out.rstrip().endswith("demo ok: 2 shops")
    shopify = re.search(r"^coupons in shopify sandbox: (\d+)$", out, re.MULTILINE)
    woo = re.search(r"^coupons in woocommerce sandbox: (\d+)$", out, re.MULTILINE)
    assert shopify is not None and int(shopify.group(1)) > 0, out
    assert woo is not None and int(woo.group(1)) > 0, out
    assert "'dead': 0" in out
    assert re.search(r"^   \S+: FIRED: ", out, re.MULTILINE)
    assert "blocks coupon" in out
    ports_line = re.search(r"^ports: ([\d ]+)$", out, re.MULTILINE)
    assert ports_line is not None, out
    ports = [int(p) for p in ports_line.group(1).split()]
    assert len(ports) == 3
    assert not any(_listening(p) for p in ports)
    pages = sorted(p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*.html"))
    assert "shopify/01-erstbestellung.html" in pages
    assert "woocommerce/07-erstkunde-zubehoer.html" in pages
    assert len(pages) == 12


def test_offline_demo_still_decides_every_example() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "aftersale_kit.demo", "--offline"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "decided offline" in result.stdout
    assert "== live" not in result.stdout
    assert result.stdout.rstrip().endswith("demo ok: 2 shops")
