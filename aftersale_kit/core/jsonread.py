"""JSON from outside, read with a size and a nesting limit (webhook bodies, CLI files, tokens).

:func:`read_json` is :func:`json.loads` with two limits checked first, so a hostile or broken
input is a :class:`JSONInputError` naming the reason, never a ``RecursionError`` or a process
that swallows gigabytes:

* **size**: more than ``max_bytes`` bytes (UTF-8) is refused before parsing;
* **depth**: arrays and objects nested more than ``max_depth`` levels deep are refused before
  parsing. Python's parser recurses once per level and raises ``RecursionError`` somewhere near
  the interpreter's recursion limit (wherever the caller's stack happens to be); the limit here
  is the same for every caller. Orders nest about six levels; 64 leaves room for plugins' meta
  data.

The depth is measured on the raw text without parsing it (pure C string operations: escapes
dropped, everything but quotes and brackets dropped, strings removed, then innermost ``[]`` /
``{}`` pairs removed once per level), which costs a fraction of the parse itself.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .errors import AftersaleKitError

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_MAX_DEPTH", "JSONInputError", "read_json"]

#: The nesting limit (arrays and objects) unless the caller passes another.
DEFAULT_MAX_DEPTH = 64
#: The size limit unless the caller passes another: 16 MiB.
DEFAULT_MAX_BYTES = 16 * 1024 * 1024

_DROP = bytes(c for c in range(256) if c not in b'"[]{}')
#: ``{`` and ``}`` read as ``[`` and ``]``: the depth does not depend on the kind of bracket.
_SQUARE = bytes.maketrans(b"{}", b"[]")
_STRING = re.compile(rb'"[^"]*"')


class JSONInputError(AftersaleKitError, ValueError):
    """The input is not JSON, or exceeds a limit. ``reason``: ``too_large``, ``too_deep``,
    ``not_utf8`` or ``not_json``; the message names what was read and what to fix."""

    def __init__(
        self,
        message: str,
        *,
        reason: str,
        parser_message: str = "",
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        #: What the parser said and where it stopped, 1-based (``not_json`` only).
        self.parser_message = parser_message
        self.line = line
        self.column = column


def read_json(
    data: bytes | str,
    *,
    what: str = "the JSON input",
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> Any:
    """Parse ``data`` as JSON within the limits; ``what`` names the input in error messages."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if len(raw) > max_bytes:
        raise JSONInputError(
            f"{what} is {len(raw):,} bytes, more than the limit of {max_bytes:,}",
            reason="too_large",
        )
    if _deeper_than(raw, max_depth):
        raise JSONInputError(
            f"{what} is JSON nested too deeply: more than {max_depth} levels of arrays and "
            "objects (the limit)",
            reason="too_deep",
        )
    try:
        text = raw.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        raise JSONInputError(
            f"{what} is not UTF-8 text (byte {exc.start}): JSON must be UTF-8", reason="not_utf8"
        ) from None
    try:
        return json.loads(text)
    except RecursionError:  # not reached after the depth check; kept as a guard
        raise JSONInputError(f"{what} nests too deeply to parse", reason="too_deep") from None
    except json.JSONDecodeError as exc:
        raise JSONInputError(
            f"{what} is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
            reason="not_json",
            parser_message=exc.msg,
            line=exc.lineno,
            column=exc.colno,
        ) from None


def _deeper_than(raw: bytes, limit: int) -> bool:
    """Whether the arrays/objects in ``raw`` nest more than ``limit`` levels (exact for valid
    JSON; for invalid JSON an estimate, which the parser then refuses anyway)."""
    if len(raw) <= limit:
        return False
    if b"\\" in raw:  # escaped backslashes first, then escaped quotes: neither ends a string
        raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    # Quotes and brackets only; adjacent quote pairs are strings without brackets in them.
    shape = raw.translate(_SQUARE, _DROP).replace(b'""', b"")
    if b'"' in shape:  # some string holds a bracket: remove the strings exactly
        shape = _STRING.sub(b"", shape)
    if shape.count(b"[") <= limit:
        return False
    for _level in range(limit):
        inner = shape.replace(b"[]", b"")  # one scan removes exactly the innermost level
        if len(inner) == len(shape):
            return False
        shape = inner
    return b"[]" in shape
