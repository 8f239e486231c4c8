"""Query strings read and written the way PHP and WordPress do.

* :func:`parse_str` is PHP's ``$_GET``: ``+`` and ``%XX`` decoded, ``a[b]=1`` nested, ``a[]=1``
  appended, and a repeated key keeps its first position but takes the **last** value (the
  ``woocommerce`` client sends every parameter twice over plain HTTP; this is why that works).
* :func:`rawurlencode` is PHP's ``rawurlencode`` (RFC 3986: only ``A-Za-z0-9-_.~`` kept).
* :func:`build_query` is WordPress ``add_query_arg`` / ``build_query`` (``urlencode`` values).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, quote_plus, unquote_plus

__all__ = ["build_query", "parse_str", "rawurlencode"]

_BRACKETS = re.compile(r"\[([^\]]*)\]")


def rawurlencode(value: str) -> str:
    return quote(value, safe="-_.~")


def _key_path(raw_key: str) -> list[str] | None:
    key = raw_key.lstrip(" ")
    if not key:
        return None
    first = key.find("[")
    if first <= 0 or "]" not in key[first:]:
        # PHP turns '.', ' ' (and an unmatched '[') in a top-level name into '_'.
        return [re.sub(r"[. \[]", "_", key)]
    base = re.sub(r"[. ]", "_", key[:first])
    path = [base]
    rest = key[first:]
    position = 0
    while position < len(rest):
        match = _BRACKETS.match(rest, position)
        if match is None:
            break  # PHP ignores anything after the last well-formed [..] group
        path.append(match.group(1))
        position = match.end()
    return path


def _assign(target: dict[str, Any], path: list[str], value: str) -> None:
    node = target
    for depth, part in enumerate(path):
        last = depth == len(path) - 1
        if part == "" and depth > 0:
            numeric = [int(k) for k in node if str(k).lstrip("-").isdigit()]
            part = str(max(numeric) + 1 if numeric else 0)
        if last:
            node[part] = value
            return
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child


def parse_str(query_string: str) -> dict[str, Any]:
    """``$_GET`` for ``query_string``: strings and nested dicts (lists as ``{"0": ..}``)."""
    result: dict[str, Any] = {}
    for pair in query_string.split("&"):
        if not pair:
            continue
        raw_key, _, raw_value = pair.partition("=")
        path = _key_path(unquote_plus(raw_key))
        if path is None:
            continue
        _assign(result, path, unquote_plus(raw_value))
    return result


def _urlencode(text: str) -> str:
    """PHP ``urlencode``: like ``quote_plus`` but ``~`` is encoded too."""
    return quote_plus(text, safe="").replace("~", "%7E")


def _flatten(prefix: str, value: Any) -> list[tuple[str, str]]:
    if isinstance(value, dict):
        pairs: list[tuple[str, str]] = []
        for key, item in value.items():
            pairs.extend(_flatten(f"{prefix}%5B{_urlencode(str(key))}%5D", item))
        return pairs
    if isinstance(value, list):
        return _flatten(prefix, {str(i): item for i, item in enumerate(value)})
    if value is True:
        text = "1"
    elif value is False or value is None:
        text = ""
    else:
        text = str(value)
    return [(prefix, _urlencode(text))]


def build_query(params: dict[str, Any]) -> str:
    """``build_query(urlencode_deep($params))`` as WordPress ``add_query_arg`` writes it."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        pairs.extend(_flatten(_urlencode(str(key)), value))
    return "&".join(f"{key}={value}" for key, value in pairs)
