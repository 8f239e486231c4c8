"""Checking one YAML node at a time, collecting every problem with its file:line:column.

:class:`Checker` is the toolbox of :mod:`aftersale_kit.core.config`: each reader (``text``,
``integer``, ``amount``, ``choice``, ...) returns the value, or ``None`` after recording a
:class:`~aftersale_kit.core.errors.ConfigProblem` that says what was expected and what was found.
Nothing stops at the first mistake.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import yaml
from yaml.constructor import SafeConstructor

from ..errors import ConfigProblem
from .source import scalar_kind, text_position

_D = TypeVar("_D", int, None)

__all__ = ["Checker", "Entry", "did_you_mean", "join_path"]

_NUMBER_TEXT = re.compile(r"^[+-]?([0-9][0-9_]*)?(\.[0-9_]*)?([eE][+-]?[0-9]+)?$")
_COMMA_DECIMAL = re.compile(r"^[+-]?[0-9]+,[0-9]+$")
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
# Whole numbers as people write them. YAML 1.1 also reads 0x1F, 0o17, 0b101 and 1:30 (= 90) as
# integers; those are refused where a number is expected and kept as text elsewhere.
_DECIMAL_INT = re.compile(r"^[-+]?[0-9][0-9_]*$")


def did_you_mean(
    word: str, choices: Iterable[str], synonyms: Mapping[str, str] | None = None
) -> str:
    """`` (did you mean 'x'?)`` for a near miss or a known synonym, else ``""``."""
    if synonyms and word.lower() in synonyms:
        return f" (did you mean {synonyms[word.lower()]!r}?)"
    options = list(choices)
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in options}
        close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
        close = [lowered[c] for c in close]
    return f" (did you mean {close[0]!r}?)" if close else ""


def join_path(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    part = key if _PLAIN_KEY.match(key) else repr(key)
    if not path:
        return part
    return f"{path}.{part}" if _PLAIN_KEY.match(key) else f"{path}[{part}]"


def found(node: yaml.Node) -> str:
    """How a value is named in a message: ``'zehn'``, ``10``, ``a list``, ``nothing``."""
    if isinstance(node, yaml.MappingNode):
        return "a mapping (key: value)"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    value = str(node.value)
    kind = scalar_kind(node) if isinstance(node, yaml.ScalarNode) else "str"
    if kind == "null":
        return "nothing (an empty value)" if value in ("", "~") else value
    if len(value) > 60:
        value = value[:57] + "..."
    if kind == "str":
        return repr(value)
    return value


@dataclass(frozen=True, slots=True)
class Entry:
    """One ``key: value`` of a mapping. An empty value is placed at its key for messages."""

    key: yaml.ScalarNode
    value: yaml.Node


class Checker:
    """Reads values from nodes and records every problem."""

    def __init__(self, *, text: str, filename: str) -> None:
        self.source = text
        self.file = filename
        self.problems: list[ConfigProblem] = []
        self._constructor = SafeConstructor()

    # -- recording ---------------------------------------------------------------------------

    def report(self, node: yaml.Node, path: str, message: str) -> None:
        mark = node.start_mark
        self.problems.append(
            ConfigProblem(self.file, mark.line + 1, mark.column + 1, path, message)
        )

    def report_in_text(self, node: yaml.ScalarNode, offset: int, path: str, message: str) -> None:
        """A problem at character ``offset`` of a scalar's value (e.g. inside a condition)."""
        line, column = text_position(self.source, node, offset)
        self.problems.append(ConfigProblem(self.file, line, column, path, message))

    def mark(self) -> int:
        return len(self.problems)

    def clean_since(self, mark: int) -> bool:
        return len(self.problems) == mark

    def sorted_problems(self) -> list[ConfigProblem]:
        unique = list(dict.fromkeys(self.problems))
        return sorted(unique, key=lambda p: (p.line, p.column))

    # -- structure ---------------------------------------------------------------------------

    def mapping(
        self,
        node: yaml.Node,
        path: str,
        *,
        allowed: Sequence[str] | None,
        required: Sequence[str] = (),
        synonyms: Mapping[str, str] | None = None,
        expected: str = "a mapping (key: value lines)",
    ) -> dict[str, Entry] | None:
        """The entries of a mapping; unknown keys, duplicates and missing keys are reported."""
        if not isinstance(node, yaml.MappingNode):
            self.report(node, path, f"expected {expected}, got {found(node)}")
            return None
        entries: dict[str, Entry] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.report(key_node, path, f"a key must be a plain word, got {found(key_node)}")
                continue
            key = str(key_node.value)
            if key in entries:
                first = entries[key].key.start_mark.line + 1
                self.report(key_node, path, f"duplicate key {key!r} (first at line {first})")
                continue
            if allowed is not None and key not in allowed:
                hint = did_you_mean(key, allowed, synonyms)
                self.report(key_node, path, f"unknown key {key!r}{hint}")
            entries[key] = Entry(key_node, _placed(value_node, key_node))
        for key in required:
            if key not in entries:
                self.report(node, path, f"missing required key {key!r}")
        return entries

    def sequence(self, node: yaml.Node, path: str, *, expected: str = "a list") -> list[yaml.Node]:
        if isinstance(node, yaml.SequenceNode):
            return list(node.value)
        self.report(node, path, f"expected {expected}, got {found(node)}")
        return []

    # -- scalars -----------------------------------------------------------------------------

    def _scalar(self, node: yaml.Node, path: str, expected: str) -> yaml.ScalarNode | None:
        if isinstance(node, yaml.ScalarNode) and scalar_kind(node) != "null":
            return node
        self.report(node, path, f"expected {expected}, got {found(node)}")
        return None

    def text(
        self,
        node: yaml.Node,
        path: str,
        *,
        expected: str = "text",
        pattern: str | None = None,
        pattern_help: str | None = None,
    ) -> str | None:
        """Any scalar as written (``2024`` is the text ``"2024"``, ``no`` is ``"no"``)."""
        scalar = self._scalar(node, path, expected)
        if scalar is None:
            return None
        value = str(scalar.value)
        if value.strip() == "":
            self.report(node, path, f"expected {expected}, got an empty text")
            return None
        if pattern is not None and not re.fullmatch(pattern, value):
            self.report(node, path, f"expected {pattern_help or expected}, got {found(node)}")
            return None
        return value

    def boolean(self, node: yaml.Node, path: str) -> bool | None:
        if isinstance(node, yaml.ScalarNode) and scalar_kind(node) == "bool":
            return bool(self._constructor.construct_yaml_bool(node))
        self.report(node, path, f"expected true or false, got {found(node)}")
        return None

    def integer(
        self,
        node: yaml.Node,
        path: str,
        *,
        minimum: int | None = None,
        maximum: int | None = None,
        expected: str = "a whole number",
    ) -> int | None:
        if not (
            isinstance(node, yaml.ScalarNode)
            and scalar_kind(node) == "int"
            and _DECIMAL_INT.match(str(node.value))
        ):
            hint = ""
            if isinstance(node, yaml.ScalarNode) and re.fullmatch(r"\s*[0-9]+\s*", node.value):
                hint = " (write the number without quotes)"
            self.report(node, path, f"expected {expected}, got {found(node)}{hint}")
            return None
        value = int(str(node.value).replace("_", ""))
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            self.report(node, path, f"expected {expected}, got {value}")
            return None
        return value

    def optional_integer(
        self,
        entries: Mapping[str, Entry],
        key: str,
        path: str,
        *,
        default: _D,
        minimum: int | None = None,
        maximum: int | None = None,
        expected: str = "a whole number",
    ) -> int | _D:
        """``entries[key]`` read by :meth:`integer` at ``path.key``; ``default`` when it is not
        there or is reported as wrong (so that checking carries on)."""
        if key not in entries:
            return default
        value = self.integer(
            entries[key].value,
            f"{path}.{key}",
            minimum=minimum,
            maximum=maximum,
            expected=expected,
        )
        return default if value is None else value

    def number(self, node: yaml.Node, path: str, *, expected: str) -> Decimal | None:
        """A decimal from a YAML number (through its text, never float) or a quoted number."""
        scalar = self._scalar(node, path, expected)
        if scalar is None:
            return None
        kind = scalar_kind(scalar)
        raw = str(scalar.value).strip()
        if (
            kind in ("int", "float", "str")
            and _NUMBER_TEXT.match(raw)
            and any(c.isdigit() for c in raw)
        ):
            try:
                value = Decimal(raw.replace("_", ""))
            except InvalidOperation:
                value = None
            if value is not None and value.is_finite():
                return value
        hint = ""
        if _COMMA_DECIMAL.match(raw):
            hint = f" (write a decimal point: {raw.replace(',', '.')})"
        elif raw.endswith("%"):
            hint = " (write the number without %)"
        self.report(node, path, f"expected {expected}, got {found(node)}{hint}")
        return None

    def bounded(
        self,
        node: yaml.Node,
        path: str,
        *,
        expected: str,
        low: Decimal | None = None,
        low_inclusive: bool = True,
        high: Decimal | None = None,
        high_inclusive: bool = True,
    ) -> Decimal | None:
        value = self.number(node, path, expected=expected)
        if value is None:
            return None
        too_low = low is not None and (value < low or (value == low and not low_inclusive))
        too_high = high is not None and (value > high or (value == high and not high_inclusive))
        if too_low or too_high:
            self.report(node, path, f"expected {expected}, got {found(node)}")
            return None
        return value

    def choice(
        self,
        node: yaml.Node,
        path: str,
        choices: Sequence[str],
        *,
        what: str,
        synonyms: Mapping[str, str] | None = None,
    ) -> str | None:
        value = self.text(node, path, expected=f"one of {', '.join(choices)}")
        if value is None:
            return None
        if value in choices:
            return value
        hint = did_you_mean(value, choices, synonyms)
        self.report(
            node, path, f"unknown {what} {value!r}{hint}; expected one of {', '.join(choices)}"
        )
        return None

    def plain_value(self, node: yaml.Node) -> Any:
        """A block parameter as a Python value: text, int, bool, Decimal, None, tuple, dict."""
        if isinstance(node, yaml.MappingNode):
            return {
                str(k.value): self.plain_value(v)
                for k, v in node.value
                if isinstance(k, yaml.ScalarNode)
            }
        if isinstance(node, yaml.SequenceNode):
            return tuple(self.plain_value(item) for item in node.value)
        if not isinstance(node, yaml.ScalarNode):
            return None
        kind = scalar_kind(node)
        if kind == "null":
            return None
        if kind == "bool":
            return bool(self._constructor.construct_yaml_bool(node))
        if kind == "int" and _DECIMAL_INT.match(str(node.value)):
            return int(str(node.value).replace("_", ""))
        if kind == "float":
            try:
                return Decimal(str(node.value).replace("_", ""))
            except InvalidOperation:
                return str(node.value)
        return str(node.value)

    def timestamp(self, node: yaml.ScalarNode) -> Any:
        """A YAML date or date-time, or ``None`` if it is not a real one (2026-13-45)."""
        try:
            return self._constructor.construct_yaml_timestamp(node)
        except ValueError:
            return None


def _placed(value: yaml.Node, key: yaml.ScalarNode) -> yaml.Node:
    """An empty value (``key:`` and nothing) has no useful position; give it the key's."""
    if (
        isinstance(value, yaml.ScalarNode)
        and value.style is None
        and value.value == ""
        and scalar_kind(value) == "null"
    ):
        return yaml.ScalarNode(value.tag, "", key.start_mark, key.end_mark, style=None)
    return value
