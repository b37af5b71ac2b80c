"""Routes matched as Laravel's router matches them: the slashes a path ends with are ignored.

Laravel's `UriValidator` matches `rawurldecode(rtrim($request->getPathInfo(), '/'))` against
the route, so `/api/v2/platform/ambassadors/` and `.../ambassadors/1/orders//` are those routes
(and `$request->url()`, hence every page URL, has no trailing slash either). Only the slashes
the client wrote are trimmed: an encoded one (`%2F`) at the end is decoded after the trim and
names no route. Django matches the decoded path, so `platform_route` trims the decoded slashes
and `encoded_trailing_slash` tells the view when one of them was encoded.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from django.http import HttpRequest
from django.urls import URLPattern
from django.urls.resolvers import RoutePattern

from platform_api.laravel_request import raw_path


class TrailingSlashesRoutePattern(RoutePattern):
    """`django.urls.path()`'s pattern, matched with the path's trailing slashes trimmed."""

    def match(self, path: str) -> Any:
        return super().match(path.rstrip("/") if path.endswith("/") else path)


def platform_route(route: str, view: Any, *, name: str) -> URLPattern:
    """`path(route, view, name=name)`, matching as Laravel's router does."""
    return URLPattern(
        TrailingSlashesRoutePattern(route, name=name, is_endpoint=True), view, name=name
    )


def encoded_trailing_slash(request: HttpRequest) -> bool:
    """Whether the route matched only because a slash the client encoded was trimmed: the
    raw path, without the slashes it ends with, still ends with one once decoded."""
    if not request.path_info.endswith("/"):
        return False
    return unquote(raw_path(request).rstrip("/")).endswith("/")
