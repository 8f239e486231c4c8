"""Top-level JSON values of a file, one at a time, without reading the file whole.

A file may hold one JSON array (a REST page: its elements are yielded), or values one after
another (a pretty-printed order, concatenated pages). Values are decoded by the C decoder from a
sliding text window (:data:`CHUNK` characters read at a time), so memory is bounded by the
largest single order (:data:`MAX_VALUE` characters), not by the file.

A value that does not decode is one bad row; reading resumes after its closing brace (found by
a scan that respects strings). A value that never closes, a file cut off in the middle, or a
byte that is not UTF-8 ends the file with one bad row.
"""

from __future__ import annotations

import codecs
import json
import re
import zlib
from collections.abc import Iterator
from typing import Any

from ..history import BadRow, BadRowSink
from ._io import CUT_OFF, damage, open_binary

__all__ = ["CHUNK", "MAX_VALUE", "json_values"]

CHUNK = 1 << 20
MAX_VALUE = 64 << 20
_DECODER = json.JSONDecoder()
_SPACE = " \t\r\n"


class _Window:
    """The undecoded text of a file and the line number of its first character."""

    def __init__(self, path: str, on_bad: BadRowSink) -> None:
        self.path = path
        self.on_bad = on_bad
        self.raw = open_binary(path)
        self.decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self.text = ""
        self.pos = 0
        self.line = 1  # line of text[counted]
        self.counted = 0
        self.eof = False
        self.broken = False

    def close(self) -> None:
        self.raw.close()

    def line_at(self, pos: int) -> int:
        self.line += self.text.count("\n", self.counted, pos)
        self.counted = pos
        return self.line

    def more(self) -> bool:
        """Read the next chunk; ``False`` at the end of the file (or when it cannot be read)."""
        if self.eof:
            return False
        if self.pos > CHUNK:
            self.line_at(self.pos)
            self.text = self.text[self.pos :]
            self.counted -= self.pos
            self.pos = 0
        try:
            data = self.raw.read(CHUNK)
            piece = self.decoder.decode(data, final=not data)
        except UnicodeDecodeError:
            return self._stop("not UTF-8 text here; save the file as UTF-8 and read it again")
        except (EOFError, OSError, ValueError, zlib.error):
            return self._stop(CUT_OFF)
        if not data:
            self.eof = True
            if damage(self.raw):
                return self._stop(CUT_OFF)
        self.text += piece
        return bool(data)

    def _stop(self, reason: str) -> bool:
        self.on_bad(BadRow(self.path, self.line_at(len(self.text)), reason))
        self.eof = self.broken = True
        return False

    def skip_space(self, *, commas: bool) -> bool:
        """Move past blanks (and commas); ``False`` when nothing but blanks is left."""
        while True:
            text, n = self.text, len(self.text)
            pos = self.pos
            while pos < n and (text[pos] in _SPACE or (commas and text[pos] == ",")):
                pos += 1
            self.pos = pos
            if pos < n:
                return True
            if not self.more():
                return False


def _incomplete(w: _Window) -> bool:
    """Whether the value at ``w.pos`` merely runs past the text read so far."""
    if w.eof or len(w.text) - w.pos >= MAX_VALUE:
        return False
    if w.text[w.pos] not in "{[":
        return w.text.find("\n", w.pos) < 0
    return _value_end(w.text, w.pos) is None


#: What the scan for a value's end stops at: a string's quote or a bracket.
_SPECIAL = re.compile(r'["{}\[\]]')


def _value_end(text: str, start: int) -> int | None:
    """The index after the object or array starting at ``start``; ``None`` if it does not close
    within ``text`` (strings and escapes respected; iterative, so depth is no problem).

    The scan is repeated from the value's start for each chunk read while the value is open, so
    it jumps (a regular-expression search to the next quote or bracket, ``str.find`` to a
    string's end) instead of stepping through characters in Python, which made one order of
    50 MB take minutes."""
    depth = 0
    pos = start
    while (found := _SPECIAL.search(text, pos)) is not None:
        i = found.start()
        c = text[i]
        if c == '"':
            end = _string_end(text, i)
            if end is None:
                return None
            pos = end
            continue
        pos = i + 1
        depth += 1 if c in "{[" else -1
        if depth == 0:
            return pos
    return None


def _string_end(text: str, quote: int) -> int | None:
    """The index after the string whose opening quote is at ``quote``; ``None`` if it does not
    close within ``text`` (a quote after an odd number of backslashes is escaped)."""
    j = text.find('"', quote + 1)
    while j >= 0:
        k = j - 1
        while text[k] == "\\":
            k -= 1
        if (j - 1 - k) % 2 == 0:
            return j + 1
        j = text.find('"', j + 1)
    return None


def json_values(path: str, on_bad: BadRowSink) -> Iterator[tuple[int, Any]]:
    """``(line, value)`` for each order-level JSON value of ``path`` (array elements unpacked)."""
    w = _Window(path, on_bad)
    try:
        yield from _values(w)
    finally:
        w.close()


def _values(w: _Window) -> Iterator[tuple[int, Any]]:
    in_array = False
    while w.skip_space(commas=in_array):
        c = w.text[w.pos]
        if c == "[" and not in_array:
            in_array = True
            w.pos += 1
            continue
        if c == "]" and in_array:
            in_array = False
            w.pos += 1
            continue
        line = w.line_at(w.pos)
        found = _decode_one(w, line)
        if found is None:
            if w.broken:
                return
            continue
        yield line, found[0]
    if in_array and not w.broken:
        w.on_bad(
            BadRow(
                w.path, w.line_at(w.pos), "the file ends before the list's closing ']' (cut off?)"
            )
        )


def _decode_one(w: _Window, line: int) -> tuple[Any] | None:
    """Decode the value at ``w.pos`` (reading more as needed); ``None`` after a bad row."""
    while True:
        try:
            value, end = _DECODER.raw_decode(w.text, w.pos)
        except json.JSONDecodeError as exc:
            if _incomplete(w) and w.more():
                continue
            _skip_bad(w, line, f"not valid JSON ({exc.msg})")
            return None
        except RecursionError:
            _skip_bad(w, line, "the JSON is nested too deeply to be an order")
            return None
        w.pos = end
        return (value,)


def _skip_bad(w: _Window, line: int, reason: str) -> None:
    while True:
        if w.text[w.pos] in "{[":
            end = _value_end(w.text, w.pos)
        else:  # not an object: skip to the end of the line
            newline = w.text.find("\n", w.pos)
            end = newline if newline >= 0 else None
        if end is not None:
            w.on_bad(BadRow(w.path, line, reason))
            w.pos = end
            return None
        if len(w.text) - w.pos >= MAX_VALUE or not w.more():
            if w.broken:  # the file's end was reported already
                return None
            w.on_bad(
                BadRow(w.path, line, f"{reason}; it does not end, the rest of the file is skipped")
            )
            w.pos = len(w.text)
            w.broken = True
            return None
