"""PHP's reading and writing of query strings, for URLs that match Laravel's byte for byte.

Laravel builds page URLs from PHP's parsed `$_GET` (`parse_str`) with `http_build_query(...,
PHP_QUERY_RFC3986)`: keys like `filter[a]` are grouped under their base name at its first
appearance, the last of repeated keys wins, and everything outside RFC 3986's unreserved set is
percent-encoded (spaces as %20).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, unquote

_SUBKEY_RE = re.compile(r"\[([^\]]*)\]")

PhpValue = str | dict[str, Any]


def raw_query_string(request: Any) -> str:
    """The query string as sent: WSGI hands it over as latin-1, bytes are UTF-8 (or junk)."""
    raw: str = request.META.get("QUERY_STRING", "")
    try:
        return raw.encode("latin-1").decode("utf-8", errors="surrogateescape")
    except UnicodeEncodeError:
        return raw


def text_problem(value: str) -> str | None:
    """What makes `value` unfit for a query, in Laravel's words ("The x field must ..."), or
    None: PostgreSQL rejects NUL in text, and broken UTF-8 arrives as lone surrogates."""
    if "\x00" in value:
        return "not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "be valid UTF-8"
    return None


def _split_key(raw_key: str) -> tuple[str, list[str]] | None:
    """`filter[a][b]` -> ("filter", ["a", "b"]); PHP's mangling of the base name included."""
    bracket = raw_key.find("[")
    subkeys: list[str]
    if bracket <= 0:
        base, subkeys = raw_key, []
    else:
        base, rest = raw_key[:bracket], raw_key[bracket:]
        subkeys = []
        position = 0
        while position < len(rest):
            match = _SUBKEY_RE.match(rest, position)
            if match is None:
                break  # PHP ignores what follows an unbalanced bracket
            subkeys.append(match.group(1))
            position = match.end()
        if not subkeys:
            base = raw_key
    base = base.lstrip(" ")
    if not base:
        return None
    # PHP turns spaces, dots and a lone "[" in variable names into underscores.
    base = base.replace(" ", "_").replace(".", "_").replace("[", "_")
    return base, subkeys


def parse_str(query_string: str) -> dict[str, PhpValue]:
    """PHP's `parse_str`: an ordered, nested mapping of the query string."""
    result: dict[str, Any] = {}
    for pair in query_string.split("&"):
        if not pair:
            continue
        raw_key, _, raw_value = pair.partition("=")
        key = unquote(raw_key.replace("+", " "), errors="surrogateescape")
        value = unquote(raw_value.replace("+", " "), errors="surrogateescape")
        split = _split_key(key)
        if split is None:
            continue
        base, subkeys = split
        if not subkeys:
            result[base] = value
            continue
        container = result.get(base)
        if not isinstance(container, dict):
            container = {}
            result[base] = container
        for depth, subkey in enumerate(subkeys):
            is_last = depth == len(subkeys) - 1
            if subkey == "":
                subkey = str(_next_index(container))
            if is_last:
                container[subkey] = value
            else:
                child = container.get(subkey)
                if not isinstance(child, dict):
                    child = {}
                    container[subkey] = child
                container = child
    return result


def _next_index(container: dict[str, Any]) -> int:
    indexes = [int(key) for key in container if key.lstrip("-").isdigit()]
    return max(indexes) + 1 if indexes else 0


def _encode(text: str) -> str:
    return quote(text.encode("utf-8", errors="surrogateescape"), safe="-_.~")


def http_build_query(data: dict[str, PhpValue]) -> str:
    """PHP's `http_build_query($data, '', '&', PHP_QUERY_RFC3986)`."""
    parts: list[str] = []

    def walk(prefix: str, value: PhpValue) -> None:
        if isinstance(value, dict):
            for subkey, subvalue in value.items():
                walk(f"{prefix}[{subkey}]", subvalue)
        else:
            parts.append(f"{_encode(prefix)}={_encode(value)}")

    for key, value in data.items():
        walk(key, value)
    return "&".join(parts)
