"""PHP's reading and writing of query strings, for answers that match Laravel's byte for byte.

Laravel sees the query string as PHP 8.2 parsed it into `$_GET` (`php_default_treat_data` and
`php_register_variable_ex` in php-src's main/php_variables.c), and builds page URLs with
`http_build_query(..., PHP_QUERY_RFC3986)`. This module follows that C code rule for rule:

- keys and values are bytes, `+` and `%XX` decoded; a key ends at its first NUL;
- `a[b][]` nests under the base name `a` at its first appearance; `[]` (or `[ ]`) appends at the
  array's next free integer index, and is dropped when that index is taken (PHP_INT_MAX);
- keys that read as canonical integers (`5`, `-5`, not `05`, `-0` or beyond 64 bits) are
  integer keys, which decide the next index; only ASCII digits count;
- spaces and dots in the base name become `_`, leading spaces are dropped, an unclosed `[`
  becomes `_`, anything after the last `]` that is not another `[` is ignored;
- PHP's default limits: a variable nested deeper than 64 levels removes its whole base name,
  and pairs past the 1,000th are not read.

Keys are kept as Python strings (integer keys in their canonical decimal form, which is how PHP
prints them), values as strings (invalid UTF-8 as surrogate escapes, so the bytes survive), and
`None` is PHP's null (what Laravel's ConvertEmptyStringsToNull makes of an empty string).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, unquote_to_bytes

PHP_INT_MAX = 2**63 - 1
PHP_INT_MIN = -(2**63)
MAX_INPUT_VARS = 1000  # php.ini max_input_vars
MAX_INPUT_NESTING_LEVEL = 64  # php.ini max_input_nesting_level

# Zend's ZEND_HANDLE_NUMERIC_STR: a canonical decimal integer, ASCII digits only.
_INTEGER_KEY_RE = re.compile(r"-?(?:0|[1-9][0-9]{0,18})")
# PHP's FILTER_VALIDATE_INT: surrounding " \t\n\r\v" ignored, optional sign, no leading zeros.
_PHP_INT_RE = re.compile(r"[ \t\n\r\v]*([+-]?)(0|[1-9][0-9]*)[ \t\n\r\v]*")


class PhpArray(dict[str, "PhpValue"]):
    """An ordered PHP array: insertion order, string keys, and the next free integer index."""

    __slots__ = ("next_free",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Zend's nNextFreeElement: PHP_INT_MIN until an integer key is inserted (then the
        # next append is 0); in PHP 8.2 a negative key -5 makes the next append -4.
        self.next_free = PHP_INT_MIN
        for key in self:
            self._saw(key)

    def set(self, key: str, value: PhpValue) -> None:
        """`$array[$key] = $value` (an existing key keeps its position)."""
        self[key] = value
        self._saw(key)

    def append(self, value: PhpValue) -> str | None:
        """`$array[] = $value`; the key used, or None when PHP drops the value."""
        index = 0 if self.next_free == PHP_INT_MIN else self.next_free
        key = str(index)
        if key in self:
            return None  # the next index is taken: only after PHP_INT_MAX
        self.set(key, value)
        return key

    def _saw(self, key: str) -> None:
        index = integer_key(key)
        if index is not None and index >= self.next_free:
            self.next_free = index + 1 if index < PHP_INT_MAX else PHP_INT_MAX


PhpValue = str | None | PhpArray


def integer_key(key: str) -> int | None:
    """The integer PHP stores `key` as in an array, or None when it stays a string key."""
    if not _INTEGER_KEY_RE.fullmatch(key) or key == "-0":
        return None
    number = int(key)
    return number if PHP_INT_MIN <= number <= PHP_INT_MAX else None


def php_int(value: Any) -> int | None:
    """The integer PHP's `filter_var($value, FILTER_VALIDATE_INT)` accepts, or None."""
    if not isinstance(value, str):
        return None
    match = _PHP_INT_RE.fullmatch(value)
    if match is None:
        return None
    number = int(match.group(2))
    if match.group(1) == "-":
        number = -number
    if not PHP_INT_MIN <= number <= PHP_INT_MAX:
        return None
    return number


def raw_query_bytes(request: Any) -> bytes:
    """The query string as the client sent it: WSGI hands its bytes over as latin-1."""
    raw: str = request.META.get("QUERY_STRING", "")
    try:
        return raw.encode("latin-1")
    except UnicodeEncodeError:  # not from a WSGI server: already text
        return raw.encode("utf-8", errors="surrogateescape")


def raw_query_string(request: Any) -> str:
    """The query string as text: UTF-8, invalid bytes as surrogate escapes."""
    return _text(raw_query_bytes(request))


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


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="surrogateescape")


def _url_decode(raw: bytes) -> bytes:
    """PHP's `php_url_decode`: `+` is a space, `%XX` a byte, a broken escape stays as it is."""
    return unquote_to_bytes(raw.replace(b"+", b" "))


def _mangle(name: bytes) -> bytes:
    return name.replace(b" ", b"_").replace(b".", b"_")


def parse_str(query: bytes | str) -> PhpArray:
    """PHP 8.2's `parse_str` (and `$_GET`): the query string as an ordered, nested PhpArray."""
    raw = query.encode("utf-8", errors="surrogateescape") if isinstance(query, str) else query
    # PHP reads the query string as a C string: a raw NUL byte ends it.
    raw = raw.split(b"\x00", 1)[0]
    result = PhpArray()
    count = 0
    for pair in raw.split(b"&"):
        if not pair:
            continue  # PHP's strtok skips empty pairs: they do not count
        count += 1
        if count > MAX_INPUT_VARS:
            break
        raw_key, has_value, raw_value = pair.partition(b"=")
        value = _text(_url_decode(raw_value)) if has_value else ""
        _register(result, _url_decode(raw_key).split(b"\x00", 1)[0], value)
    return result


def _register(result: PhpArray, name: bytes, value: str) -> None:
    """`php_register_variable_ex` for one decoded name."""
    name = name.lstrip(b" ")
    bracket = name.find(b"[")
    base = _mangle(name if bracket < 0 else name[:bracket])
    if not base:
        return
    if bracket < 0:
        result.set(_text(base), value)
        return
    indexes: list[bytes | None] = []  # None: an append (`[]`)
    position = bracket
    while True:
        if len(indexes) + 1 > MAX_INPUT_NESTING_LEVEL:
            result.pop(_text(base), None)
            return
        start = position + 1
        scan = start + 1 if name[start : start + 1] == b" " else start
        if name[scan : scan + 1] == b"]":
            indexes.append(None)
            close = scan
        else:
            close = name.find(b"]", scan)
            if close < 0:
                if not indexes:
                    # Not an index after all: the "[" and what follows join the name.
                    result.set(
                        _text(base + b"_" + _mangle(name[start:]).replace(b"[", b"_")), value
                    )
                    return
                break  # the unclosed tail of a nested name is ignored
            indexes.append(name[start:close])
        if name[close + 1 : close + 2] != b"[":
            break
        position = close + 1
    _assign(result, _text(base), [None if i is None else _text(i) for i in indexes], value)


def _assign(result: PhpArray, base: str, indexes: list[str | None], value: str) -> None:
    """Walk (creating arrays as PHP does) to the last index and set or append `value`."""
    container = result
    key: str | None = base
    for index in indexes:
        child: PhpValue
        if key is None:
            child = PhpArray()
            if container.append(child) is None:
                return
        else:
            child = container.get(key)
            if not isinstance(child, PhpArray):
                # A string there is replaced by an array, in the same position.
                child = PhpArray()
                container.set(key, child)
        container, key = child, index
    if key is None:
        container.append(value)
    else:
        container.set(key, value)


def rawurlencode(text: str) -> str:
    """PHP's `rawurlencode`: every byte but RFC 3986's unreserved characters as `%XX`."""
    return quote(text.encode("utf-8", errors="surrogateescape"), safe="-_.~")


def http_build_query(data: PhpArray | dict[str, PhpValue]) -> str:
    """PHP's `http_build_query($data, '', '&', PHP_QUERY_RFC3986)`: nulls and empty arrays
    write nothing. Iterative, so no depth of nesting can exhaust the stack."""
    parts: list[str] = []
    stack: list[tuple[str, Any]] = [(rawurlencode(str(key)), value) for key, value in data.items()]
    stack.reverse()
    while stack:
        prefix, value = stack.pop()
        if value is None:
            continue
        if isinstance(value, dict):
            children = [(f"{prefix}%5B{rawurlencode(str(k))}%5D", v) for k, v in value.items()]
            stack.extend(reversed(children))
        else:
            parts.append(f"{prefix}={rawurlencode(value)}")
    return "&".join(parts)
