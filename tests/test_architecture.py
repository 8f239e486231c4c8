"""The layers hold, and the checks that say so can fail.

The contracts live in ``pyproject.toml`` (``[tool.importlinter]``) and run with ``make contracts``,
part of ``make test``. These tests run them here too, plant the violations a review found the old
check blind to (relative imports from the core into storage and the service), and see them fail.
A second, independent reading of the core's imports (the standard library's ``ast``, relative
imports resolved) keeps the core pure even where import-linter is not installed.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "aftersale_kit" / "core"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"

# The only third-party import the core may use: the YAML parser for shop owners' files.
ALLOWED_THIRD_PARTY = {"yaml"}


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, *, module: str, is_package: bool = False) -> set[str]:
    """Every module ``source`` imports, relative imports resolved against ``module``."""
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                found.add(node.module or "")
                continue
            base = package.split(".")
            base = base[: len(base) - (node.level - 1)]
            found.add(".".join([*base, node.module] if node.module else base))
    return found


def core_offences(source: str, *, module: str, is_package: bool = False) -> set[str]:
    """The imports of a core module that leave the core: foreign libraries or other layers."""
    offences = set()
    for name in imported_modules(source, module=module, is_package=is_package):
        top = name.split(".")[0]
        if top == "aftersale_kit":
            if name != "aftersale_kit.core" and not name.startswith("aftersale_kit.core."):
                offences.add(name)
        elif top not in sys.stdlib_module_names and top not in ALLOWED_THIRD_PARTY:
            offences.add(name)
    return offences


def test_the_core_imports_only_the_standard_library_yaml_and_itself() -> None:
    # given every module of the core
    offenders: dict[str, set[str]] = {}
    for path in sorted(CORE.rglob("*.py")):
        # when its imports are read, relative ones resolved
        found = core_offences(
            path.read_text(encoding="utf-8"),
            module=_module_name(path, ROOT),
            is_package=path.name == "__init__.py",
        )
        if found:
            offenders[str(path.relative_to(ROOT))] = found
    # then nothing outside the core is imported
    assert offenders == {}


@pytest.mark.parametrize(
    ("module", "planted", "offence"),
    [
        (
            "aftersale_kit.core.engine",
            "from ..storage.store import Store",
            "aftersale_kit.storage.store",
        ),
        (
            "aftersale_kit.core.conditions._compile",
            "from ...service.cli import serve_main",
            "aftersale_kit.service.cli",
        ),
        ("aftersale_kit.core.money", "from aftersale_kit import cli", "aftersale_kit"),
        ("aftersale_kit.core.model", "import sqlalchemy.orm", "sqlalchemy.orm"),
        ("aftersale_kit.core.blocks", "from jinja2 import Template", "jinja2"),
    ],
)
def test_the_core_reading_sees_a_planted_import(module: str, planted: str, offence: str) -> None:
    # given a core module's real source with one forbidden import added
    path = ROOT / Path(*module.split(".")).with_suffix(".py")
    source = path.read_text(encoding="utf-8") + f"\n{planted}\n"
    # when it is read, then exactly that import is the offence
    assert core_offences(source, module=module) == {offence}


def _lint_imports(
    *, cwd: Path, pythonpath: list[Path] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(str(p) for p in pythonpath)
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


needs_import_linter = pytest.mark.skipif(
    not LINT_IMPORTS.exists(), reason="import-linter is not installed (the dev tools)"
)


@needs_import_linter
def test_the_import_contracts_are_kept() -> None:
    # when the contracts of pyproject.toml are checked against this tree
    result = _lint_imports(cwd=ROOT)
    # then every one is kept
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "0 broken" in result.stdout


def _copy_of_the_tree(target: Path) -> list[Path]:
    ignore = shutil.ignore_patterns("__pycache__", "seed", "*.json", "*.graphql")
    shutil.copytree(ROOT / "aftersale_kit", target / "aftersale_kit", ignore=ignore)
    roots = [target]
    for platform in ("shopify", "woocommerce"):
        package = f"aftersale_kit_{platform}"
        shutil.copytree(
            ROOT / "adapters" / platform / package,
            target / "adapters" / platform / package,
            ignore=ignore,
        )
        roots.append(target / "adapters" / platform)
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")
    return roots


@pytest.fixture(scope="module")
def tree_copy(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    """One copy of the package tree for the planting tests (each restores what it changed)."""
    target = tmp_path_factory.mktemp("tree")
    return target, _copy_of_the_tree(target)


@pytest.mark.slow
@needs_import_linter
@pytest.mark.parametrize(
    ("file", "planted", "broken"),
    [
        (
            "aftersale_kit/core/engine.py",
            "from ..storage.store import Store",
            "aftersale_kit.core.engine -> aftersale_kit.storage.store",
        ),
        (
            "aftersale_kit/core/conditions/_compile.py",
            "from ...service.cli import serve_main",
            "aftersale_kit.core.conditions._compile -> aftersale_kit.service.cli",
        ),
        (
            "aftersale_kit/core/money.py",
            "import jinja2",
            "aftersale_kit.core.money -> jinja2",
        ),
        (
            "aftersale_kit/storage/db.py",
            "from ..service import app",
            "aftersale_kit.storage.db -> aftersale_kit.service",
        ),
        (
            "adapters/shopify/aftersale_kit_shopify/mapping.py",
            "def _later() -> None:\n    from .sandbox import app",
            "aftersale_kit_shopify.mapping -> aftersale_kit_shopify.sandbox",
        ),
    ],
)
def test_a_planted_violation_breaks_the_contracts(
    tree_copy: tuple[Path, list[Path]], file: str, planted: str, broken: str
) -> None:
    # given a copy of the package tree with one import that crosses a layer
    root, roots = tree_copy
    path = root / file
    original = path.read_text(encoding="utf-8")
    path.write_text(f"{original}\n{planted}\n", encoding="utf-8")
    try:
        # when the contracts are checked against the copy
        result = _lint_imports(cwd=root, pythonpath=roots)
    finally:
        path.write_text(original, encoding="utf-8")
    # then they fail, naming the import
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    assert broken in result.stdout, result.stdout[-3000:]
