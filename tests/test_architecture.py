"""The core stays pure: it imports no SDK, database driver, web framework or template engine."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parent.parent / "aftersale_kit" / "core"

# The only third-party import the core may use: the YAML parser for shop owners' files.
ALLOWED_THIRD_PARTY = {"yaml"}


def _top_level_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_core_imports_only_stdlib_and_itself() -> None:
    # given every module of the core
    offenders: dict[str, set[str]] = {}
    for path in sorted(CORE.rglob("*.py")):
        # when its imports are read
        foreign = {
            name
            for name in _top_level_imports(path)
            if name not in sys.stdlib_module_names
            and name not in ALLOWED_THIRD_PARTY
            and name != "aftersale_kit"
        }
        if foreign:
            offenders[str(path.relative_to(CORE))] = foreign
    # then nothing foreign is imported
    assert offenders == {}


def test_core_does_not_reach_outside_the_core() -> None:
    # The core may import aftersale_kit.core.* only, never storage, service or adapters.
    offenders = []
    for path in sorted(CORE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                mod = node.module
                if mod.startswith("aftersale_kit") and not mod.startswith("aftersale_kit.core"):
                    offenders.append(f"{path.name}: {mod}")
    assert offenders == []
