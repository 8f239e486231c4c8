"""The built wheel in fresh virtual environments, as a user installs it: the core alone,
``[shopify]`` and ``[all]``. Every subcommand's ``--help`` and one typical misuse each answer
without a traceback; on the core alone, a command that needs an extra says which in one line with
the ``pip install``; ``python -m aftersale_kit.demo`` runs from the ``[all]`` install with its
packaged examples.

``[shopify]`` is the production install of the Shopify adapter: it brings neither graphql-core
nor loads a sandbox module (those are the ``[sandbox]`` extra).

Slow (a wheel build and three installs from the package index, about a minute). Pip needs an index
that holds the dependencies; without one the installs fail and so do these tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


@dataclass(frozen=True)
class Install:
    name: str
    bin: Path
    examples: Path

    def run(self, *args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        # a clean environment: nothing of this checkout or its venv leaks in
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
        env["PATH"] = f"{self.bin}{os.pathsep}{env.get('PATH', '')}"
        for name in ("AFTERSALE_CODE_SECRET", "AFTERSALE_KIT_CODE_SECRET"):
            env.pop(name, None)
        return subprocess.run(
            list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
        )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    (found,) = out.glob("aftersale_kit-*.whl")
    return found


def _install(
    tmp_path_factory: pytest.TempPathFactory, wheel: Path, name: str, extras: str
) -> Install:
    home = tmp_path_factory.mktemp(f"venv-{name}")
    venv.EnvBuilder(with_pip=True).create(home)
    bin_dir = home / "bin"
    done = subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "-q", f"{wheel}{extras}"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    where = subprocess.run(
        [
            str(bin_dir / "python"),
            "-c",
            "import aftersale_kit.demo as d; print(d.default_examples_dir())",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=home,
    )
    assert where.returncode == 0, where.stderr
    examples = Path(where.stdout.strip())
    # the examples come from the installed package, not from this checkout
    assert examples.is_relative_to(home) and (examples / "kaffeeroesterei-shopify").is_dir()
    return Install(name=name, bin=bin_dir, examples=examples)


@pytest.fixture(scope="module", params=["core", "all"])
def install(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, wheel: Path
) -> Iterator[Install]:
    extras = "" if request.param == "core" else "[all]"
    yield _install(tmp_path_factory, wheel, request.param, extras)


SUBCOMMANDS = [
    ("validate",),
    ("evaluate",),
    ("schema",),
    ("preview",),
    ("backtest",),
    ("sandbox",),
    ("sandbox", "shopify"),
    ("sandbox", "woocommerce"),
    ("serve",),
    ("worker",),
    ("reconcile",),
    ("shops",),
    ("shops", "status"),
    ("shops", "activate"),
    ("shops", "register-webhooks"),
]

#: Commands that need an extra the core does not have, and which (the WooCommerce sandbox is
#: plain Python: only the adapter needs the WooCommerce client library).
NEEDS_EXTRA = {
    ("sandbox", "shopify"): "sandbox",
    ("serve",): "server",
    ("worker",): "server",
    ("reconcile",): "server",
    ("shops",): "server",
    ("shops", "status"): "server",
    ("shops", "activate"): "server",
    ("shops", "register-webhooks"): "server",
}


#: Of those, the ones whose module needs the extra already for ``--help`` (the service commands
#: import it only when they run).
HELP_NEEDS_EXTRA = {
    ("sandbox", "shopify"),
    ("shops",),
    ("shops", "status"),
    ("shops", "activate"),
    ("shops", "register-webhooks"),
}


def _one_line_extra(result: subprocess.CompletedProcess[str], extra: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "needs an optional dependency" in lines[0]
    assert lines[0].endswith(f"pip install 'aftersale-kit[{extra}]'"), lines[0]


def _no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr + result.stdout, result.stderr[-3000:]


def test_every_subcommand_help_without_traceback(install: Install, tmp_path: Path) -> None:
    for command in SUBCOMMANDS:
        result = install.run("aftersale-kit", *command, "--help", cwd=tmp_path)
        _no_traceback(result)
        extra = NEEDS_EXTRA.get(command)
        if install.name == "core" and command in HELP_NEEDS_EXTRA and extra is not None:
            _one_line_extra(result, extra)
        else:
            assert result.returncode == 0, (command, result.stderr)
            assert "usage:" in result.stdout, command


def _misuses(examples: Path) -> dict[tuple[str, ...], list[str]]:
    shop = str(examples / "kaffeeroesterei-shopify" / "shop.yaml")
    order = str(examples / "kaffeeroesterei-shopify" / "orders" / "01-erstbestellung.json")
    return {
        ("validate",): ["validate", "missing.yaml"],
        ("evaluate",): ["evaluate", shop, "missing.json"],
        ("schema",): ["schema", "--bogus"],
        ("preview",): ["preview", shop, order, "--out", "out", "--now", "morgen"],
        ("backtest",): ["backtest", shop, "missing.csv"],
        ("sandbox",): ["sandbox", "shopfy"],
        ("sandbox", "shopify"): ["sandbox", "shopify", "--port", "x"],
        ("sandbox", "woocommerce"): ["sandbox", "woocommerce", "--port", "x"],
        # the example's secrets are not set in the environment
        ("serve",): ["serve", "--config", shop, "--port", "0"],
        ("worker",): ["worker", "--config", shop],
        ("reconcile",): ["reconcile", "--config", shop, "--since", "yesterday"],
        ("shops",): ["shops", "frobnicate"],
        ("shops", "status"): ["shops", "status", "--config", shop],
        ("shops", "activate"): ["shops", "activate", "x.myshopify.com", "--config", shop],
        ("shops", "register-webhooks"): [
            *("shops", "register-webhooks", "x.myshopify.com", "--config", shop),
            *("--public-url", "ftp://example.com"),
        ],
    }


def test_one_typical_misuse_of_each_subcommand_is_a_message(
    install: Install, tmp_path: Path
) -> None:
    for command, argv in _misuses(install.examples).items():
        result = install.run("aftersale-kit", *argv, cwd=tmp_path)
        _no_traceback(result)
        extra = NEEDS_EXTRA.get(command)
        if install.name == "core" and extra is not None and command != ("reconcile",):
            _one_line_extra(result, extra)
            continue
        # (reconcile's bad --since is a usage error, told before anything is imported)
        # a problem with the input (1) or wrong usage (2), said on stderr
        assert result.returncode in (1, 2), (command, result.stdout, result.stderr)
        assert result.stderr.strip(), command
    # and a closed pipe ends quietly
    piped = install.run("bash", "-c", "aftersale-kit schema | head -1", cwd=tmp_path)
    assert (piped.stdout, piped.stderr) == ("{\n", "")


def test_the_demo_runs_from_the_installed_wheel(install: Install, tmp_path: Path) -> None:
    if install.name == "core":
        # offline it needs nothing beyond the core
        result = install.run("python", "-m", "aftersale_kit.demo", "--offline", cwd=tmp_path)
    else:
        # the live run: both sandboxes, the service and its worker, on loopback ports
        result = install.run("python", "-m", "aftersale_kit.demo", cwd=tmp_path, timeout=300)
    _no_traceback(result)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


#: What the production import path of the Shopify adapter prints: the adapter class the entry point
#: names, whether graphql-core is installed at all, and every module then loaded.
_SHOPIFY_IMPORT = """
import importlib.util, json, sys
from aftersale_kit.platforms import load_platform
adapter = load_platform("shopify")
import shopify  # the extra's SDK is there
print(json.dumps({
    "adapter": f"{adapter.__module__}.{adapter.__qualname__}",
    "graphql_installed": importlib.util.find_spec("graphql") is not None,
    "modules": sorted(sys.modules),
}))
"""


def test_the_shopify_extra_brings_no_sandbox_and_no_graphql_core(
    tmp_path_factory: pytest.TempPathFactory, wheel: Path, tmp_path: Path
) -> None:
    # given the wheel installed with the Shopify extra only, in a fresh venv
    shop = _install(tmp_path_factory, wheel, "shopify", "[shopify]")
    # when the adapter is loaded the way the service finds it, by its entry point
    result = shop.run("python", "-c", _SHOPIFY_IMPORT, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout)
    # then it is the Shopify adapter, graphql-core was never installed, and no sandbox or test
    # helper module was imported on the way
    assert seen["adapter"] == "aftersale_kit_shopify.adapter.ShopifyAdapter"
    assert seen["graphql_installed"] is False
    assert "shopify" in seen["modules"]
    loaded = [
        name
        for name in seen["modules"]
        if name.split(".")[0] == "graphql"
        or ".sandbox" in name
        or name.startswith("aftersale_kit.testing")
    ]
    assert loaded == []
