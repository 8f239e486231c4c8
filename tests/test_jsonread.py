"""The bounded JSON reader: size and nesting limits checked before parsing, on every path."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aftersale_kit.core.jsonread import JSONInputError, read_json

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "kaffeeroesterei-shopify" / "shop.yaml"


def _depth(value: Any) -> int:
    """Nesting of arrays/objects, counted the slow and obvious way."""
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


_TEXT = st.text(alphabet='ab[]{}"\\/ü\n', max_size=6)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=40,
)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(value=_JSON, ascii_only=st.booleans())
def test_the_depth_limit_is_exact_whatever_the_strings_hold(value: Any, ascii_only: bool) -> None:
    # given any JSON, with brackets, quotes and backslashes inside its strings
    text = json.dumps(value, ensure_ascii=ascii_only)
    depth = _depth(value)
    # then a limit of its depth reads it, and one less refuses it as too deep
    assert read_json(text, max_depth=depth) == value
    if depth > 0:
        with pytest.raises(JSONInputError) as refused:
            read_json(text, max_depth=depth - 1)
        assert refused.value.reason == "too_deep"


def test_limits_and_reasons_are_named() -> None:
    # given inputs that break each rule
    cases = {
        "too_deep": b"[" * 100 + b"]" * 100,
        "too_large": b'"' + b"x" * 2000 + b'"',
        "not_json": b'{"id": 1,',
        "not_utf8": b'{"id": "\xff"}',
    }
    # then each is refused with its reason and a message naming the input
    messages = {}
    for reason, data in cases.items():
        with pytest.raises(JSONInputError) as refused:
            read_json(data, what="order.json", max_bytes=1000)
        assert refused.value.reason == reason
        messages[reason] = str(refused.value)
    assert messages == {
        "too_deep": "order.json is JSON nested too deeply: more than 64 levels of arrays and "
        "objects (the limit)",
        "too_large": "order.json is 2,002 bytes, more than the limit of 1,000",
        "not_json": "order.json is not JSON: Expecting property name enclosed in double quotes "
        "at line 1 column 10",
        "not_utf8": "order.json is not UTF-8 text (byte 8): JSON must be UTF-8",
    }


def test_an_unbalanced_deep_input_is_refused_not_a_recursion_error() -> None:
    with pytest.raises(JSONInputError) as refused:
        read_json(b"[" * 200_000)
    assert refused.value.reason in ("too_deep", "not_json")


def test_a_deep_input_is_refused_quickly() -> None:
    data = b'{"a": ' * 50_000 + b"1" + b"}" * 50_000
    started = time.perf_counter()
    with pytest.raises(JSONInputError, match="more than 64 levels"):
        read_json(data)
    assert time.perf_counter() - started < 1.0


@pytest.mark.slow
def test_evaluate_on_a_100000_deep_file_prints_one_line(tmp_path: Path) -> None:
    # given an order file nesting arrays 100,000 deep
    deep = tmp_path / "deep.json"
    deep.write_bytes(b"[" * 100_000 + b"]" * 100_000)
    # when the CLI evaluates it
    done = subprocess.run(
        [sys.executable, "-m", "aftersale_kit", "evaluate", str(EXAMPLE), str(deep)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    # then it says so on one line, without a traceback
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        f"{deep} is JSON nested too deeply: more than 64 levels of arrays and objects (the limit)"
    ]
