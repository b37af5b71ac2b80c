"""The base of every platform route: what the routes share is declared here once.

A route subclasses `PlatformView` and declares its permission, its id's name in the URL (if it
has one) and a handler of a few lines that calls its app's orchestration function.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import Any, ClassVar

from django.http import HttpRequest, HttpResponseBase
from rest_framework import exceptions, viewsets
from rest_framework.request import Request

from ambassadors.models import ApiToken
from platform_api.errors import BadQuery, UnprocessableQuery, not_found
from platform_api.ids import parse_id
from platform_api.negotiation import JsonOnlyNegotiation
from platform_api.permissions import caller_token
from platform_api.php_json import CACHE_CONTROL
from platform_api.routing import encoded_trailing_slash
from platform_api.throttling import RateLimitedViewMixin


class PlatformView(RateLimitedViewMixin, viewsets.GenericViewSet[Any]):
    """JSON only, GET and HEAD only (405 before 401), the path's id parsed once; the rate limit
    spent before authentication can fail, and `X-RateLimit-*` on every answer (throttling.py)."""

    content_negotiation_class = JsonOnlyNegotiation
    http_method_names = ["get", "head"]
    # The URL keyword holding the route's id (`ambassador_id`), or "" for a route without one.
    id_kwarg: ClassVar[str] = ""

    @property
    def default_response_headers(self) -> dict[str, str]:
        # Laravel's headers, not DRF's: Symfony's Cache-Control on every answer, and `Allow`
        # only on a 405 (platform_api/errors.py adds it there).
        return {"Cache-Control": CACHE_CONTROL}

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if encoded_trailing_slash(request):
            return not_found(request)  # no route, as Laravel's router sees the path
        return super().dispatch(request, *args, **kwargs)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # Laravel matches the method with the route before any middleware runs: another
        # method is 405 for everyone, never 401 for an anonymous caller.
        if (request.method or "").lower() not in self.http_method_names:
            raise exceptions.MethodNotAllowed(request.method or "")
        super().initial(request, *args, **kwargs)

    @cached_property
    def path_id(self) -> int | None:
        """The path's id, or None when it names nothing (not a positive 64-bit integer)."""
        return parse_id(str(self.kwargs.get(self.id_kwarg, "")))

    @property
    def token(self) -> ApiToken:
        """The caller's token: handlers run after the permission let an authenticated one in."""
        token = caller_token(self.request)
        assert token is not None
        return token


@contextmanager
def found_before_query_errors(is_found: Callable[[], bool], not_found: str) -> Iterator[None]:
    """As Laravel's route binding: the path's object is resolved before the query string is
    validated, so a malformed query (400/422) about an object the caller may not see is its 404.

    `is_found` runs only when a query error was raised in the block.
    """
    try:
        yield
    except (BadQuery, UnprocessableQuery):
        if not is_found():
            raise exceptions.NotFound(not_found) from None
        raise
