"""Conditions, step 1: the text read into tokens, refusing what has no place in a condition.

Invisible and control characters are refused anywhere; a character that is not part of the
language gets an error with its column and, where a shop owner's habit explains it (``=``, ``&&``,
``€``, a decimal comma), what to write instead.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Final

from ..errors import ConditionSyntaxError
from ..fields import canonical_name, suggest_field

MAX_LENGTH: Final = 2000
MAX_TEXT_LENGTH: Final = 500
MAX_NUMBER_LENGTH: Final = 30


class Kind(Enum):
    NAME = "name"
    KEYWORD = "keyword"
    NUMBER = "number"
    TEXT = "text"
    OP = "operator"
    PUNCT = "punctuation"
    END = "end"


@dataclass(frozen=True, slots=True)
class Token:
    kind: Kind
    text: str
    column: int
    value: object = None


_KEYWORDS: Final = frozenset(
    {"and", "or", "not", "in", "is", "empty", "any", "all", "none", "true", "false", "contains"}
)
_NAME_RE: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*", re.ASCII)
_NUMBER_RE: Final = re.compile(r"-?[0-9]+(?:\.[0-9]+)?", re.ASCII)
_OPERATORS: Final = ("==", "!=", "<=", ">=", "<", ">")
_MISTAKES: Final = {
    "<>": "use != for 'is not equal'",
    "=": "use == to compare",
    "!": "use not",
    "&&": "use and",
    "&": "use and",
    "||": "use or",
    "|": "use or",
}
_REFUSED_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_WHITESPACE: Final = frozenset(" \t\r\n")


def _char_name(ch: str) -> str:
    return f"U+{ord(ch):04X} {unicodedata.name(ch, 'unnamed character')}"


def _word_at(text: str, pos: int) -> tuple[int, str]:
    """The run of letters, digits, '_' and '.' around ``pos`` (any script)."""
    start = pos
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_."):
        start -= 1
    end = pos
    while end < len(text) and (text[end].isalnum() or text[end] in "_."):
        end += 1
    return start, text[start:end]


def _non_ascii_error(text: str, pos: int) -> ConditionSyntaxError:
    ch = text[pos]
    _, word = _word_at(text, pos)
    folded = unicodedata.normalize("NFKC", word)
    suggestion = folded.lower() if folded.isascii() and canonical_name(folded) else None
    if suggestion is None and word:
        ascii_word = "".join(c if c.isascii() else "?" for c in folded)
        suggestion = suggest_field(ascii_word)
    return ConditionSyntaxError(
        f"unexpected character {ch!r} ({_char_name(ch)}); field names and operators are plain "
        "ASCII, other letters only inside quotes",
        column=pos,
        suggestion=suggestion,
    )


def _check_input(text: str) -> None:
    if len(text) > MAX_LENGTH:
        raise ConditionSyntaxError(
            f"the condition is {len(text)} characters long, more than {MAX_LENGTH}; split it "
            "into several conditions",
            column=MAX_LENGTH,
        )
    for pos, ch in enumerate(text):
        if ch not in _WHITESPACE and unicodedata.category(ch) in _REFUSED_CATEGORIES:
            raise ConditionSyntaxError(
                f"invisible or control character {_char_name(ch)}; remove it", column=pos
            )


def _read_quoted(text: str, pos: int, tokens: list[Token]) -> int | None:
    return _read_text(text, pos, tokens) if text[pos] in "\"'" else None


def _read_number(text: str, pos: int, tokens: list[Token]) -> int | None:
    m = _NUMBER_RE.match(text, pos)
    if not m:
        return None
    end = m.end()
    if end < len(text) and (text[end].isalnum() or text[end] in "_."):
        raise ConditionSyntaxError(
            f"malformed number {text[pos : end + 1]!r}: write amounts as plain numbers "
            "with a decimal point, e.g. 49.90 (no currency, no exponent)",
            column=pos,
        )
    if end - pos > MAX_NUMBER_LENGTH:
        raise ConditionSyntaxError(f"number longer than {MAX_NUMBER_LENGTH} digits", column=pos)
    tokens.append(Token(Kind.NUMBER, m.group(), pos, Decimal(m.group())))
    return end


def _read_name(text: str, pos: int, tokens: list[Token]) -> int | None:
    m = _NAME_RE.match(text, pos)
    if not m:
        return None
    end = m.end()
    if end < len(text) and not text[end].isascii() and text[end].isalnum():
        raise _non_ascii_error(text, end)
    word = m.group()
    kind = Kind.KEYWORD if word.lower() in _KEYWORDS else Kind.NAME
    tokens.append(Token(kind, word, pos, word.lower()))
    return end


def _read_symbol(text: str, pos: int, tokens: list[Token]) -> int | None:
    """An operator or punctuation; a known mistake (longer than any operator there) is refused."""
    op = next((o for o in _OPERATORS if text.startswith(o, pos)), None)
    mistake = next((m_ for m_ in _MISTAKES if text.startswith(m_, pos)), None)
    if mistake is not None and (op is None or len(mistake) > len(op)):
        raise ConditionSyntaxError(f"unexpected {mistake!r}: {_MISTAKES[mistake]}", column=pos)
    if op is not None:
        tokens.append(Token(Kind.OP, op, pos, op))
        return pos + len(op)
    ch = text[pos]
    if ch in "()[],":
        tokens.append(Token(Kind.PUNCT, ch, pos, ch))
        return pos + 1
    return None


_HINTS = {
    "+-*/%": "conditions have no arithmetic",
    "{}": 'write lists in square brackets, e.g. ["DE", "AT"]',
    "€$£": "write amounts as plain numbers in the shop currency",
}


def _unexpected(text: str, pos: int) -> ConditionSyntaxError:
    ch = text[pos]
    extra = next((h for chars, h in _HINTS.items() if ch in chars), "")
    if not extra and not ch.isascii():
        return _non_ascii_error(text, pos)
    return ConditionSyntaxError(
        f"unexpected character {ch!r}" + (f"; {extra}" if extra else ""), column=pos
    )


#: Tried in order at each position; each appends its token and returns the end, or None.
_READERS: tuple[Callable[[str, int, list[Token]], int | None], ...] = (
    _read_quoted,
    _read_number,
    _read_name,
    _read_symbol,
)


def _read_token(text: str, pos: int, tokens: list[Token]) -> int:
    for read in _READERS:
        end = read(text, pos, tokens)
        if end is not None:
            return end
    raise _unexpected(text, pos)


def tokenize(text: str) -> list[Token]:
    _check_input(text)
    tokens: list[Token] = []
    pos, n = 0, len(text)
    while pos < n:
        if text[pos] in _WHITESPACE:
            pos += 1
            continue
        pos = _read_token(text, pos, tokens)
    tokens.append(Token(Kind.END, "", len(text)))
    return tokens


def _read_text(text: str, start: int, tokens: list[Token]) -> int:
    quote = text[start]
    pos = start + 1
    chars: list[str] = []
    while pos < len(text):
        ch = text[pos]
        if ch == quote:
            value = "".join(chars)
            if len(value) > MAX_TEXT_LENGTH:
                raise ConditionSyntaxError(
                    f"text longer than {MAX_TEXT_LENGTH} characters", column=start
                )
            tokens.append(Token(Kind.TEXT, text[start : pos + 1], start, value))
            return pos + 1
        if ch in "\r\n":
            break
        if ch == "\\":
            nxt = text[pos + 1] if pos + 1 < len(text) else ""
            if nxt not in ("\\", '"', "'"):
                raise ConditionSyntaxError(
                    f"unknown escape '\\{nxt}' in text: only \\\\, \\\" and \\' are allowed",
                    column=pos,
                )
            chars.append(nxt)
            pos += 2
            continue
        chars.append(ch)
        pos += 1
    raise ConditionSyntaxError(f"text starting here is not closed with {quote}", column=start)
