"""What the project declares about itself holds: one version, a licence file for the declared
licence, a type marker in every package, each dependency named once per install."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

import aftersale_kit

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _name(requirement: str) -> str:
    """The normalised distribution name of a requirement (``PyJWT>=2.8; ...`` -> ``pyjwt``)."""
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
    assert match is not None, requirement
    return re.sub(r"[-_.]+", "-", match.group(0)).lower()


def test_the_version_is_written_once_in_the_package() -> None:
    # given the project table, the version is not written there but read from the package
    assert "version" not in PYPROJECT["project"]
    assert "version" in PYPROJECT["project"]["dynamic"]
    assert PYPROJECT["tool"]["hatch"]["version"]["path"] == "aftersale_kit/__init__.py"
    # then the installed distribution reports what the package says
    assert importlib.metadata.version("aftersale-kit") == aftersale_kit.__version__


def test_the_declared_mit_licence_has_its_file() -> None:
    assert PYPROJECT["project"]["license"] == {"text": "MIT"}
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n")
    assert "Permission is hereby granted, free of charge" in text


def test_every_shipped_package_carries_the_typed_marker() -> None:
    # given the packages the wheel ships (aftersale_kit and the two adapters)
    packages = PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    assert len(packages) == 3
    # then each has py.typed (PEP 561), so users' type checkers read its annotations
    missing = [package for package in packages if not (ROOT / package / "py.typed").is_file()]
    assert missing == []


def test_no_extra_repeats_a_dependency_of_the_core() -> None:
    # given the core's dependencies
    core = {_name(r) for r in PYPROJECT["project"]["dependencies"]}
    # when each extra's own requirements are read (not the extras it includes)
    repeats = {
        extra: sorted(core & {_name(r) for r in requirements})
        for extra, requirements in PYPROJECT["project"]["optional-dependencies"].items()
    }
    # then none names one again: each is listed once, where it is needed
    assert {extra: names for extra, names in repeats.items() if names} == {}


def test_the_sandboxes_are_their_own_extra() -> None:
    extras = PYPROJECT["project"]["optional-dependencies"]
    # graphql-core is what only the Shopify sandbox needs: it is in [sandbox], not in [shopify]
    assert "graphql-core" in {_name(r) for r in extras["sandbox"]}
    assert "graphql-core" not in {_name(r) for r in extras["shopify"]}
    # and the demo (which runs both sandboxes) brings it in
    assert "aftersale-kit[shopify,woocommerce,server,sandbox]" in extras["demo"]


def test_the_development_tools_are_a_dependency_group() -> None:
    # given PEP 735 groups, `make venv` installs them with `pip install --group dev`
    tools = {_name(r) for r in PYPROJECT["dependency-groups"]["dev"]}
    assert {"pytest", "ruff", "mypy", "import-linter"} <= tools
    assert "dev" not in PYPROJECT["project"]["optional-dependencies"]
    assert "--group dev" in (ROOT / "Makefile").read_text(encoding="utf-8")
