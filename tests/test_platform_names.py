"""No platform is named in the core (config loader and schema included) or the service: they ask
the registry (:mod:`aftersale_kit.core.registry`). Two checks: the text of every module (a grep:
docstrings and comments included; platform particulars and their sources live with the
adapters), and, so that a failure points at code, the strings, names and imports of the code."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "aftersale_kit"
SCOPES = ("core", "service")
PLATFORM = re.compile(r"shopify|woocommerce|\bwc_|x-wc-", re.IGNORECASE)


def _docstrings(tree: ast.AST) -> set[int]:
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def platform_names_in(source: str) -> list[tuple[int, str]]:
    """``(line, text)`` of each string, name or import in ``source`` that names a platform."""
    tree = ast.parse(source)
    docs = _docstrings(tree)
    hits: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        texts: list[str] = []
        if isinstance(node, ast.Constant) and isinstance(node.value, str | bytes):
            if id(node) not in docs:
                value = node.value
                texts.append(value.decode("latin-1") if isinstance(value, bytes) else value)
        elif isinstance(node, ast.Name):
            texts.append(node.id)
        elif isinstance(node, ast.Attribute):
            texts.append(node.attr)
        elif isinstance(node, ast.alias):
            texts.append(node.name)
        elif isinstance(node, ast.ImportFrom):
            texts.append(node.module or "")
        elif isinstance(node, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef | ast.arg):
            texts.append(node.name if not isinstance(node, ast.arg) else node.arg)
        hits.extend((getattr(node, "lineno", 0), t) for t in texts if PLATFORM.search(t))
    return hits


def test_the_core_and_the_service_name_no_platform_at_all() -> None:
    files = [p for scope in SCOPES for p in sorted((ROOT / scope).rglob("*.py"))]
    found = [
        f"{path.relative_to(ROOT.parent)}:{number}: {line.strip()}"
        for path in files
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if PLATFORM.search(line)
    ]
    assert found == []


def test_the_core_and_the_service_name_no_platform_in_code() -> None:
    files = [p for scope in SCOPES for p in sorted((ROOT / scope).rglob("*.py"))]
    assert len(files) > 50
    found = {
        f"{path.relative_to(ROOT.parent)}:{line}": text
        for path in files
        for line, text in platform_names_in(path.read_text(encoding="utf-8"))
    }
    assert found == {}


@pytest.mark.parametrize(
    "planted",
    [
        'if platform == "shopify":\n    pass\n',
        "from aftersale_kit_woocommerce.tokens import block_token\n",
        "SHOPIFY_GID = 1\n",
        'headers.get("x-wc-webhook-source")\n',
        "def woocommerce_token(): ...\n",
    ],
)
def test_the_check_finds_a_planted_platform_name(planted: str) -> None:
    assert platform_names_in('"""Shopify and WooCommerce may be cited here."""\n' + planted)


def test_docstrings_may_cite_a_platform() -> None:
    assert platform_names_in('"""See https://shopify.dev/docs."""\nx = 1\n') == []
