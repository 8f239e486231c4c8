"""The staff note's line and marker: a stable format, because a retry recognises the note it
wrote by the marker, also a retry that runs after an upgrade."""

from __future__ import annotations

import pytest

from aftersale_kit.core.platform import note_marker, staff_note


def test_marker_is_pinned_ten_hex_digits_of_the_keys_sha256() -> None:
    # sha256("kaffee.myshopify.com:1001:probe:0") begins 1319170582
    assert note_marker("kaffee.myshopify.com:1001:probe:0") == "[aftersale-kit 1319170582]"


def test_line_is_the_text_on_one_line_then_the_marker() -> None:
    line = staff_note(
        "  Probierpäckchen\n Espresso  beilegen ", "kaffee.myshopify.com:1001:probe:0"
    )
    assert line == "Probierpäckchen Espresso beilegen [aftersale-kit 1319170582]"


def test_keys_of_one_order_get_different_markers() -> None:
    assert note_marker("s:1:probe:0") != note_marker("s:1:probe:1")


@pytest.mark.parametrize(("text", "key"), [("", "s:1:a:0"), (" \n", "s:1:a:0"), ("x", " ")])
def test_empty_text_or_key_is_refused(text: str, key: str) -> None:
    with pytest.raises(ValueError):
        staff_note(text, key)
