"""The request as a default Laravel application's controller sees it, and the URLs it writes.

- The query: PHP's `$_GET` (`php_query.parse_str`), then Laravel's default global middleware
  `TrimStrings` and `ConvertEmptyStringsToNull` (Illuminate\\Foundation\\Http\\Middleware).
- `$request->url()`: Symfony's `getSchemeAndHttpHost()` (scheme and host lowercased, the
  default port dropped) and the path as the client sent it, percent-encoding kept, trailing
  `/` trimmed; `$request->path()` for Laravel's 404/405 messages.
- `PageUrls`: `AbstractPaginator::url()` / `CursorPaginator::url()` — the middleware's query in
  its order (PHP's `array_merge` renumbering integer top-level keys), the page (or cursor)
  parameter last, `http_build_query(..., PHP_QUERY_RFC3986)`. Every paginator uses it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.http import HttpRequest
from django.utils.encoding import escape_uri_path

from platform_api.php_query import (
    PhpArray,
    http_build_query,
    integer_key,
    parse_str,
    raw_query_bytes,
    rawurlencode,
)


def _characters(*ranges: tuple[int, int]) -> str:
    return "".join(chr(code) for first, last in ranges for code in range(first, last + 1))


# PCRE2's `\s` in PHP's UTF mode (`/u` sets PCRE2_UCP), as PHP 8.2 on Debian matches it.
_PCRE_SPACE = _characters(
    (0x09, 0x0D), (0x20, 0x20), (0x85, 0x85), (0xA0, 0xA0), (0x1680, 0x1680), (0x180E, 0x180E),
    (0x2000, 0x200A), (0x2028, 0x2029), (0x202F, 0x202F), (0x205F, 0x205F), (0x3000, 0x3000),
)  # fmt: skip
# Str::INVISIBLE_CHARACTERS (Laravel 12).
_INVISIBLE = _characters(
    (0x09, 0x09), (0x20, 0x20), (0xA0, 0xA0), (0xAD, 0xAD), (0x34F, 0x34F), (0x61C, 0x61C),
    (0x115F, 0x1160), (0x17B4, 0x17B5), (0x180E, 0x180E), (0x2000, 0x200F), (0x202F, 0x202F),
    (0x205F, 0x2065), (0x206A, 0x206F), (0x3000, 0x3000), (0x2800, 0x2800), (0x3164, 0x3164),
    (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0x1D159, 0x1D159), (0x1D173, 0x1D17A),
    (0xE0020, 0xE0020),
)  # fmt: skip
# `Str::trim()`'s `$trimDefaultCharacters`, which are also PHP's own trim() default.
_PHP_TRIM = " \n\r\t\v\x00"
LARAVEL_TRIM = "".join(sorted(set(_PCRE_SPACE + _INVISIBLE + _PHP_TRIM)))
_ASCII_TRIM = "".join(c for c in LARAVEL_TRIM if c.isascii())

# TrimStrings' `$except`: these top-level keys keep their spaces.
TRIM_EXCEPT = frozenset({"current_password", "password", "password_confirmation"})


def laravel_trim(value: str) -> str:
    """`Str::trim($value)`: its Unicode class at both ends; PHP's plain `trim()` when the
    value is not valid UTF-8 (preg_replace fails on it and Laravel falls back)."""
    if value.isascii():
        return value.strip(_ASCII_TRIM)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # invalid bytes, kept as surrogate escapes
        return value.strip(_PHP_TRIM)
    return value.strip(LARAVEL_TRIM)


def _clean(data: PhpArray, prefix: str) -> PhpArray:
    # TransformsRequest::cleanArray; nesting is at most PHP's 64 levels (parse_str drops deeper).
    cleaned = PhpArray()
    for key, value in data.items():
        dotted = prefix + key
        if isinstance(value, PhpArray):
            cleaned[key] = _clean(value, dotted + ".")
        elif value is None:
            cleaned[key] = None
        else:
            trimmed = value if dotted in TRIM_EXCEPT else laravel_trim(value)
            cleaned[key] = None if trimmed == "" else trimmed  # ConvertEmptyStringsToNull
    cleaned.next_free = data.next_free
    return cleaned


def laravel_middleware(query: PhpArray) -> PhpArray:
    """TrimStrings then ConvertEmptyStringsToNull over a parsed query, as Laravel runs them."""
    return _clean(query, "")


_QUERY_ATTRIBUTE = "_laravel_query"


def laravel_query(request: Any) -> PhpArray:
    """`$request->query()` after Laravel's default middleware; parsed once per request."""
    http_request: HttpRequest = getattr(request, "_request", request)
    cached: PhpArray | None = getattr(http_request, _QUERY_ATTRIBUTE, None)
    if cached is None:
        cached = laravel_middleware(parse_str(raw_query_bytes(http_request)))
        setattr(http_request, _QUERY_ATTRIBUTE, cached)
    return cached


def raw_path_bytes(request: HttpRequest) -> bytes:
    """The path's bytes as the client sent them (gunicorn's RAW_URI, or REQUEST_URI),
    percent-encoding kept; re-encoded from the decoded path when the server does not pass it
    on (Django's test client)."""
    raw = request.META.get("RAW_URI") or request.META.get("REQUEST_URI")
    if not raw:
        return escape_uri_path(request.path).encode()
    if not raw.startswith("/"):  # absolute-form request target: http://host/path
        raw = urlsplit(raw).path or "/"
    # The server hands the bytes over as latin-1.
    return raw.split("?", 1)[0].split("#", 1)[0].encode("latin-1", errors="replace")


def raw_path(request: HttpRequest) -> str:
    """`raw_path_bytes` as text. A body must be valid UTF-8 (PHP's json_encode would fail on
    such a path and answer 500; the replacement character is kinder)."""
    return raw_path_bytes(request).decode("utf-8", errors="replace")


def _scheme_and_http_host(request: HttpRequest) -> str:
    """Symfony's `getSchemeAndHttpHost()`: lowercase host, port only when not the default."""
    scheme = request.scheme or "http"
    host = request.get_host()  # validated against ALLOWED_HOSTS; proxies as configured
    close = host.rfind("]")
    colon = host.find(":", close + 1) if host.startswith("[") else host.rfind(":")
    port_text = host[colon + 1 :] if colon >= 0 else ""
    if colon >= 0:
        host = host[:colon]
    # PHP reads the port with (int), and "" or "0" as no port at all.
    port = int(port_text) if port_text.isdigit() and port_text != "0" else None
    default = 443 if scheme == "https" else 80
    authority = host.lower() if port in (None, default) else f"{host.lower()}:{port}"
    return f"{scheme}://{authority}"


def request_url(request: Any) -> str:
    """Laravel's `$request->url()`: no query string, no trailing slash."""
    http_request: HttpRequest = getattr(request, "_request", request)
    return (_scheme_and_http_host(http_request) + raw_path(http_request)).rstrip("/")


def request_path(request: Any) -> str:
    """Laravel's `$request->path()`: the raw path without its surrounding slashes, or `/`."""
    http_request: HttpRequest = getattr(request, "_request", request)
    return raw_path(http_request).strip("/") or "/"


def _array_merge_head(query: PhpArray, parameter: str) -> PhpArray:
    """`array_merge($query, [$parameter => ...])` without the parameter itself: integer keys
    renumbered from 0 in their order, string keys kept (the paginator drops `$parameter`)."""
    merged = PhpArray()
    index = 0
    for key, value in query.items():
        if key == parameter:
            continue
        if integer_key(key) is not None:
            merged[str(index)] = value
            index += 1
        else:
            merged[key] = value
    return merged


class PageUrls:
    """The URLs of one paginated answer, differing only in `parameter`'s value.

    The rest of the query is encoded once: a length-aware envelope writes up to 17 URLs."""

    def __init__(self, path: str, query: PhpArray, parameter: str) -> None:
        self.path = path
        others = http_build_query(_array_merge_head(query, parameter))
        self._head = f"{path}?{others}{'&' if others else ''}{parameter}="

    def url(self, value: str | int) -> str:
        """The URL with `parameter=value` last (the value percent-encoded as PHP does)."""
        return self._head + (str(value) if isinstance(value, int) else rawurlencode(value))


def request_page_urls(request: Any, parameter: str) -> PageUrls:
    """`PageUrls` for this request's URL and Laravel query."""
    return PageUrls(request_url(request), laravel_query(request), parameter)
