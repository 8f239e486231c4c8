"""Tokenizer refusals of conditions not pinned elsewhere: input limits, invisible characters,
non-ASCII letters outside quotes, stray braces, and the whitespace a condition may contain."""

from __future__ import annotations

import pytest

from aftersale_kit.core.conditions import compile_condition
from aftersale_kit.core.errors import ConditionSyntaxError


@pytest.mark.parametrize(
    ("text", "column", "message", "suggestion"),
    [
        (
            "subtotal > 5 " + " " * 2000,
            2000,
            "the condition is 2013 characters long, more than 2000; split it into several "
            "conditions",
            None,
        ),
        (
            "subtotal >\u200b 5",
            10,
            "invisible or control character U+200B ZERO WIDTH SPACE; remove it",
            None,
        ),
        ("subtotal > " + "1" * 31, 11, "number longer than 30 digits", None),
        (
            "shipping_country in {DE}",
            20,
            'unexpected character \'{\'; write lists in square brackets, e.g. ["DE", "AT"]',
            None,
        ),
        ("subtotal > 5 ?", 13, "unexpected character '?'", None),
        (
            "ｓｕｂｔｏｔａｌ > 5",
            0,
            "unexpected character 'ｓ' (U+FF53 FULLWIDTH LATIN SMALL LETTER S); field names and "
            "operators are plain ASCII, other letters only inside quotes",
            "subtotal",
        ),
        ("subtotal > 5 or 'x' == " + "'" + "y" * 501 + "'", 23, "text longer than 500", None),
    ],
)
def test_refusals(text: str, column: int, message: str, suggestion: str | None) -> None:
    with pytest.raises(ConditionSyntaxError) as caught:
        compile_condition(text)
    assert caught.value.column == column
    assert caught.value.message.startswith(message), caught.value.message
    assert caught.value.suggestion == suggestion


def test_tabs_and_newlines_separate_tokens() -> None:
    # when a condition spans lines and tabs, with a quoted text next to an operator
    compiled = compile_condition('subtotal\t>=\n50 and\r\nshipping_country=="DE"')
    # then it reads the same fields as written on one line
    one_line = compile_condition('subtotal >= 50 and shipping_country == "DE"')
    assert compiled.fields == one_line.fields
    assert compiled.fields == {"order.subtotal", "order.shipping_country"}
