"""The Shopify checkout/customer-account UI extension builds, stays under Shopify's 64 KB
compressed bundle limit and exports both targets.

Runs the real npm (packages from the registry, cached in the extension's node_modules) and the
real esbuild. Skipped when node/npm are missing, except under CI=true, where that fails.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

EXTENSION = Path(__file__).resolve().parent.parent / "examples" / "shopify-extension"
LIMIT = 64 * 1024
TARGETS = {
    "thank-you.js": "purchase.thank-you.block.render",
    "order-status.js": "customer-account.order-status.block.render",
}


def _npm() -> str:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node and npm:
        return npm
    reason = "node and npm are needed to build the Shopify extension"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: not skipping)")
    pytest.skip(reason)


def _run(args: list[str], *, timeout: float) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        args, cwd=EXTENSION, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def bundle() -> dict[str, bytes]:
    npm = _npm()
    installed = EXTENSION / "node_modules" / ".package-lock.json"
    # `npm ci` for a fresh checkout (exactly the lock file), a quick no-op install otherwise.
    command = ["install", "--prefer-offline"] if installed.exists() else ["ci"]
    _run([npm, *command, "--no-audit", "--no-fund"], timeout=50)
    _run([npm, "run", "build"], timeout=30)
    return {name: (EXTENSION / "dist" / name).read_bytes() for name in TARGETS}


def test_lock_file_pins_what_package_json_names() -> None:
    # given
    package = json.loads((EXTENSION / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((EXTENSION / "package-lock.json").read_text(encoding="utf-8"))
    # then: exact versions, and the lock file agrees
    for section in ("dependencies", "devDependencies"):
        for name, version in package[section].items():
            assert version[0].isdigit(), f"{name} is not pinned: {version}"
            assert lock["packages"][f"node_modules/{name}"]["version"] == version


@pytest.mark.slow
def test_bundles_are_under_the_compressed_limit(bundle: dict[str, bytes]) -> None:
    for name, raw in bundle.items():
        compressed = len(gzip.compress(raw, compresslevel=9))
        assert 0 < compressed < LIMIT, f"{name}: {compressed} bytes gzip (limit {LIMIT})"


@pytest.mark.slow
def test_each_bundle_registers_its_target(bundle: dict[str, bytes]) -> None:
    for name, target in TARGETS.items():
        assert target.encode() in bundle[name], f"{name} does not register {target}"
    toml = (EXTENSION / "shopify.extension.toml").read_text(encoding="utf-8")
    for target in TARGETS.values():
        assert f'target = "{target}"' in toml
    assert "network_access = true" in toml


def test_bundle_calls_the_block_endpoint_with_a_bearer_token_and_no_raw_html(
    bundle: dict[str, bytes],
) -> None:
    for raw in bundle.values():
        source = raw.decode("utf-8")
        assert "/v1/blocks/shopify/" in source
        assert "Bearer " in source
        # the vanilla API builds components; nothing injects markup
        assert "innerHTML" not in source
        assert "dangerouslySetInnerHTML" not in source
