"""Read a shop owner's YAML file into PyYAML's node tree, which keeps where every value stood.

Only plain YAML is accepted: no anchors or aliases (``&name`` / ``*name``: they make "billion
laughs" files possible and hide where a value came from), no tags (``!!python/...``, ``!foo``).
Every node keeps its ``start_mark`` (0-based line and column); :func:`text_position` maps an offset
inside a scalar's *value* back to the line and column in the file, through quotes and escapes, so
that an error in a condition points at the offending token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

__all__ = [
    "YamlSyntaxError",
    "compose",
    "scalar_kind",
    "text_position",
]

#: Files larger than this are refused before parsing (a config is a few kilobytes).
MAX_BYTES = 1_000_000
#: Deeper nesting is refused (a config needs about six levels; PyYAML composes recursively).
MAX_DEPTH = 64

_TAG_PREFIX = "tag:yaml.org,2002:"


@dataclass(frozen=True, slots=True)
class YamlSyntaxError(Exception):
    """The file is not readable YAML; ``line``/``column`` are 1-based."""

    message: str
    line: int
    column: int


class _Refused(Exception):
    def __init__(self, message: str, mark: Any) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark


class _PlainLoader(yaml.SafeLoader):
    """A safe loader that refuses anchors, aliases, explicit tags and deep nesting."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(
                f"aliases (*{event.anchor}) are not supported; write the value out in full",
                event.start_mark,
            )
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise _Refused(
                f"anchors (&{anchor}) are not supported; write each value out in full",
                event.start_mark,
            )
        tag = getattr(event, "tag", None)
        if tag is not None:
            shown = "!!" + tag[len(_TAG_PREFIX) :] if tag.startswith(_TAG_PREFIX) else tag
            raise _Refused(
                f"tags ({shown}) are not supported; put the value in quotes if it is text",
                event.start_mark,
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(f"nested deeper than {MAX_DEPTH} levels", event.start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _hint(problem: str) -> str:
    if "'\\t'" in problem:
        return "found a tab character (indent with spaces, not tabs)"
    if "mapping values are not allowed" in problem:
        return problem + " (check the indentation, or put a value that contains ': ' in quotes)"
    return problem


def _describe(exc: yaml.MarkedYAMLError) -> str:
    problem = _hint((exc.problem or "not valid YAML").removeprefix("but "))
    if exc.context and "tab character" not in problem:
        where = f" at line {exc.context_mark.line + 1}" if exc.context_mark else ""
        return f"{problem} ({exc.context}{where})"
    return problem


def compose(text: str) -> yaml.Node | None:
    """The node tree of ``text`` (``None`` for an empty document).

    Raises :class:`YamlSyntaxError` for anything that is not plain, single-document YAML.
    """
    if len(text.encode("utf-8", errors="replace")) > MAX_BYTES:
        raise YamlSyntaxError(f"file is larger than {MAX_BYTES} bytes", 1, 1)
    loader: _PlainLoader | None = None
    try:
        loader = _PlainLoader(text)
        return loader.get_single_node()
    except _Refused as exc:
        line, column = (exc.mark.line + 1, exc.mark.column + 1) if exc.mark else (1, 1)
        raise YamlSyntaxError(exc.message, line, column) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise YamlSyntaxError(f"YAML syntax error: {_describe(exc)}", line, column) from None
    except yaml.YAMLError as exc:
        position = getattr(exc, "position", None)
        line, column = 1, 1
        if isinstance(position, int):
            line = text.count("\n", 0, position) + 1
            column = position - (text.rfind("\n", 0, position) + 1) + 1
        reason = getattr(exc, "reason", None) or "not readable"
        raise YamlSyntaxError(f"YAML error: {reason}", line, column) from None
    finally:
        if loader is not None:
            loader.dispose()


def scalar_kind(node: yaml.ScalarNode) -> str:
    """The resolved YAML type of a scalar: ``null``, ``bool``, ``int``, ``float``, ``timestamp``
    or ``str`` (quoted values are always ``str``)."""
    tag = node.tag
    if tag.startswith(_TAG_PREFIX):
        return tag[len(_TAG_PREFIX) :]
    return "str"


_SIMPLE_ESCAPES = frozenset('0abtnvfre "/\\N_LP\t')
_HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}


def _value_to_source(source: str, node: yaml.ScalarNode) -> list[int]:
    """For every character of ``node.value``, its index in ``source`` (best effort for folding)."""
    value: str = node.value
    start = node.start_mark.index
    end = node.end_mark.index if node.end_mark is not None else len(source)
    style = node.style
    pos = start
    if style in ("'", '"'):
        pos += 1
    elif style in ("|", ">"):
        newline = source.find("\n", pos)
        pos = end if newline == -1 else newline + 1
    result: list[int] = []
    for char in value:
        if style == "'" and source.startswith("''", pos) and char == "'":
            result.append(pos)
            pos += 2
            continue
        if style == '"' and pos < end and source[pos] == "\\":
            result.append(pos)
            escape = source[pos + 1 : pos + 2]
            if escape in _HEX_ESCAPES:
                pos += 2 + _HEX_ESCAPES[escape]
            elif escape in _SIMPLE_ESCAPES:
                pos += 2
            else:
                pos += 1
            continue
        probe = pos
        while probe < end and source[probe] != char and source[probe] in " \t\r\n\\":
            probe += 1
        if probe < end and source[probe] == char:
            pos = probe
        result.append(min(pos, max(end - 1, start)))
        pos += 1
    return result


def text_position(source: str, node: yaml.ScalarNode, offset: int) -> tuple[int, int]:
    """1-based (line, column) in ``source`` of character ``offset`` of the scalar's value.

    Accounts for the opening quote, ``''`` in single-quoted and backslash escapes in double-quoted
    scalars, and the header line of block scalars. An offset at or past the end of the value maps
    just behind its last character.
    """
    mapping = _value_to_source(source, node)
    if not mapping:
        index = node.start_mark.index
    elif offset < len(mapping):
        index = mapping[max(offset, 0)]
    else:
        index = mapping[-1] + 1
    line_start = source.rfind("\n", 0, index) + 1
    line = source.count("\n", 0, index) + 1
    return line, index - line_start + 1
