"""Fixtures of the content tests; the sample data lives in ``content_samples``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from aftersale_kit.content import ContentRenderer


@pytest.fixture(scope="session")
def renderer() -> ContentRenderer:
    return ContentRenderer.load()


@pytest.fixture
def write_templates(tmp_path: Path) -> Callable[[dict[str, str]], Path]:
    def write(files: dict[str, str]) -> Path:
        for name, text in files.items():
            path = tmp_path / "shop-templates" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return tmp_path / "shop-templates"

    return write
