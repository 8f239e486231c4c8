"""PHP ``wp_json_encode`` compatibility: the bytes WordPress sends and signs."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest
from aftersale_kit_woocommerce.sandbox.phpjson import dumps, encode

from .conftest import FIXTURES

SAMPLES: list[Any] = [
    "https://example.com/a/b",
    'quote " backslash \\ tab \t newline \n bell \x07 del \x7f',
    "Lữ, Diêm and Diêm – Đà Nẵng €",
    "emoji 😀 and 𝄞",
    [3.0, 343.61, 480.59000000000003, 0.1 + 0.2, 1e-4, 2.5e-7, 1e16, 1e17, -0.0, 5e-324],
    [1.2345678901234568e17, 1.5e300, 100.0, -3.0, 0.5],
    {"empty_map": {}, "empty_list": [], "listish": {"0": "a", "1": "b"}, "gap": {"1": "x"}},
    {"nested": {"deep": [True, False, None, 0, -1, 9007199254740993]}},
]


def test_the_golden_webhook_body_re_encodes_byte_for_byte() -> None:
    raw = (FIXTURES / "webhook_order_updated_body.raw.json").read_bytes()
    assert dumps(json.loads(raw)) == raw


def test_known_php_renderings() -> None:
    assert encode("a/b é 😀") == '"a\\/b \\u00e9 \\ud83d\\ude00"'
    assert (
        encode([3.0, 343.61, 1e25, 0.00001, 1e15]) == "[3,343.61,1.0e+25,1.0e-5,1000000000000000]"
    )
    assert encode({}) == "[]"
    assert encode({"0": "a", "1": "b"}) == '["a","b"]'
    with pytest.raises(ValueError, match="PHP cannot JSON-encode"):
        encode(float("nan"))


@pytest.mark.skipif(shutil.which("php") is None, reason="php is not installed")
@pytest.mark.parametrize("value", SAMPLES, ids=range(len(SAMPLES)))
def test_encoding_matches_php_itself(value: Any) -> None:
    # PHP decodes the value (objects become arrays, as WordPress holds data) and re-encodes it.
    php = subprocess.run(
        ["php", "-r", "echo json_encode(json_decode($argv[1], true));", json.dumps(value)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert encode(value) == php
