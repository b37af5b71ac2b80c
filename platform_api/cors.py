"""CORS as a default Laravel 12 application answers it: `HandleCors` with the framework's
default `config/cors.php` (fruitcake/php-cors' `CorsService`).

The default configuration: paths `api/*` and `sanctum/csrf-cookie`, every origin, method and
header allowed, no credentials, nothing exposed, `max_age` 0. So:

- every answer on those paths (200s and errors alike) carries `Access-Control-Allow-Origin: *`,
  whether the request sent an `Origin` or not;
- a preflight (an OPTIONS request with `Access-Control-Request-Method`) is answered before
  routing, authentication and the rate limit: 204, no body, the requested method and headers
  echoed back, `Access-Control-Max-Age: 0`. A browser's call with a Bearer token is preceded by
  one, so without it no browser could call the API;
- any other OPTIONS request is routed as usual (CONTRACT.md: 405) and gets
  `Vary: Access-Control-Request-Method` besides.

docs/laravel-exact.md, "CORS", has the sources this follows.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from urllib.parse import unquote_to_bytes

from django.http import HttpRequest, HttpResponse, HttpResponseBase

from platform_api.laravel_request import raw_path_bytes
from platform_api.php_json import CACHE_CONTROL

# `config/cors.php`'s `paths`, matched as `Request::is()` matches them: `Str::is()` on the
# decoded path, `*` any characters (newlines too since Laravel 12), the path valid UTF-8.
CORS_PATHS = re.compile(r"api/.*|sanctum/csrf-cookie", re.DOTALL)


def has_cors_path(request: HttpRequest) -> bool:
    """Laravel's `HandleCors::hasMatchingPath`: `rawurldecode(trim($pathInfo, '/'))`."""
    decoded = unquote_to_bytes(raw_path_bytes(request).strip(b"/"))
    try:
        path = decoded.decode("utf-8")
    except UnicodeDecodeError:  # preg_match with the `u` flag fails on it: no match
        return False
    return CORS_PATHS.fullmatch(path) is not None


def add_vary(response: HttpResponseBase, header: str) -> None:
    """fruitcake's `varyHeader`: appended with `, ` unless that exact name is listed."""
    vary = response.headers.get("Vary")
    if vary is None:
        response.headers["Vary"] = header
    elif header not in vary.split(", "):
        response.headers["Vary"] = f"{vary}, {header}"


# PHP 8's strtoupper changes ASCII letters only (Python's str.upper would change é too).
_ASCII_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)


def preflight_response(request: HttpRequest) -> HttpResponse:
    """`CorsService::handlePreflightRequest`, then HandleCors' own `Vary`."""
    response = HttpResponse(status=204)
    del response.headers["Content-Type"]  # Symfony's prepare() drops it from an empty answer
    response.headers["Cache-Control"] = CACHE_CONTROL  # Symfony's default, as on every answer
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Allow-Methods"] = request.headers.get(
        "Access-Control-Request-Method", ""
    ).translate(_ASCII_UPPER)
    add_vary(response, "Access-Control-Request-Method")
    response.headers["Access-Control-Allow-Headers"] = request.headers.get(
        "Access-Control-Request-Headers", ""
    )
    add_vary(response, "Access-Control-Request-Headers")
    response.headers["Access-Control-Max-Age"] = "0"
    return response


class LaravelCorsMiddleware:
    """Laravel's global `HandleCors` middleware, with its default configuration."""

    sync_capable = True
    async_capable = False

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not has_cors_path(request):
            return self.get_response(request)
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            return preflight_response(request)
        response = self.get_response(request)
        if request.method == "OPTIONS":
            add_vary(response, "Access-Control-Request-Method")
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response
