"""JSON bytes exactly as Laravel's `JsonResponse` writes them: PHP `json_encode`, default flags.

PHP escapes `/` as `\\/` and every non-ASCII character as `\\uXXXX` (lowercase hex, a surrogate
pair beyond U+FFFF); the rest — `\\"`, `\\\\`, `\\b \\f \\n \\r \\t`, other controls as `\\u00xx`,
DEL raw, no spaces — is what orjson already writes. So the body is orjson's (fast, and able to
splice the JSON PostgreSQL rendered, `orjson.Fragment`), then rewritten: in valid JSON, `/` and
non-ASCII bytes occur only inside strings, so both rewrites are safe on the whole document and
apply to both renderers at once. Numbers keep orjson's forms (`42.0`), as the contract says.
"""

from __future__ import annotations

import codecs
from typing import Any

import orjson
from django.http import HttpResponse

_ERRORS = "php-json-unicode"
_CACHED = 4096


class _Escapes(dict[str, str]):
    """PHP's escape of each non-ASCII character, computed once per character (the first
    `_CACHED` distinct ones: error messages echo what callers send)."""

    def __missing__(self, character: str) -> str:
        code = ord(character)
        if code > 0xFFFF:
            code -= 0x10000
            escape = f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
        else:
            escape = f"\\u{code:04x}"
        if len(self) < _CACHED:
            self[character] = escape
        return escape


_ESCAPES = _Escapes()


def _escape_unicode(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: a run of non-ASCII characters as PHP's `\\uXXXX` escapes."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    run = error.object[error.start : error.end]
    return "".join([_ESCAPES[character] for character in run]), error.end


codecs.register_error(_ERRORS, _escape_unicode)


# Bodies are mostly ASCII with a few accented names: only the blocks holding non-ASCII bytes
# are transcoded (bytes.isascii() is word-at-a-time; encoding a whole UCS-2 string is not).
_BLOCK = 2048


def php_json_escape(body: bytes) -> bytes:
    """orjson's compact JSON (or PostgreSQL's, written the same way) as PHP writes it."""
    if b"/" in body:
        body = body.replace(b"/", b"\\/")
    if body.isascii():
        return body
    blocks = []
    start, size = 0, len(body)
    while start < size:
        end = start + _BLOCK
        while end < size and 0x80 <= body[end] < 0xC0:  # never split a UTF-8 sequence
            end += 1
        block = body[start:end]
        if not block.isascii():
            block = block.decode("utf-8").encode("ascii", errors=_ERRORS)
        blocks.append(block)
        start = end
    return b"".join(blocks)


def php_json_dumps(data: Any) -> bytes:
    """`json_encode($data)` with PHP's default flags, as bytes."""
    return php_json_escape(orjson.dumps(data))


# Symfony's ResponseHeaderBag writes it on every answer that sets no cache header of its own
# (`computeCacheControlValue()`), so every Laravel JSON answer carries it.
CACHE_CONTROL = "no-cache, private"


class PhpJsonResponse(HttpResponse):
    """Django's JsonResponse writes `{"a": 1}` with spaces; Laravel writes `{"a":1}`."""

    def __init__(self, data: Any, **kwargs: Any) -> None:
        kwargs.setdefault("content_type", "application/json")
        super().__init__(content=php_json_dumps(data), **kwargs)
        self.headers.setdefault("Cache-Control", CACHE_CONTROL)
