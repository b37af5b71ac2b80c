"""The Bearer API's lean middleware path: its requests skip the site's browser middleware.

`/api/v2/platform/` answers Bearer-token calls: no session, no cookie, no CSRF form, no static
file, no admin login. The middleware listed between `ApiShortcut` and `ApiShortcutEnd` in
`MIDDLEWARE` (WhiteNoise, sessions, CommonMiddleware, CSRF, authentication, messages) serve the
admin and the docs; an API request jumps from `ApiShortcut` straight to what follows
`ApiShortcutEnd`. Everything outside the pair (the request log and id, SecurityMiddleware's
headers and HTTPS redirect, X-Frame-Options, the database error answers, the statement
timeout, django-axes) runs for every request, and every name stays in `MIDDLEWARE`, so Django's
system checks (admin, `check --deploy`, axes) see the stack they require.

On the API path the answers are the same bytes and headers as through the full stack
(tests/platform_api/test_api_path.py): of the skipped middleware only CommonMiddleware changes
an API answer, by adding `Content-Length`, which `ApiShortcut` adds the same way. What this saves
is docs/scaling.md's ("The request path").
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponseBase

API_PATH_PREFIX = "/api/v2/platform/"

Handler = Callable[[HttpRequest], HttpResponseBase]

# Django builds a handler's middleware from the last to the first, in one thread: the
# `ApiShortcutEnd` just built waits here for the `ApiShortcut` built after it.
_built = threading.local()


class ApiShortcutEnd:
    """Where an API request resumes: the middleware after this one, then the view."""

    sync_capable = True
    async_capable = False

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response
        _built.end = self

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)


class ApiShortcut:
    """API requests skip the middleware up to the `ApiShortcutEnd` listed after this one."""

    sync_capable = True
    async_capable = False

    def __init__(self, get_response: Handler) -> None:
        end: ApiShortcutEnd | None = getattr(_built, "end", None)
        if end is None:
            raise ImproperlyConfigured(
                "platform_api.api_path.ApiShortcut needs platform_api.api_path.ApiShortcutEnd "
                "after it in MIDDLEWARE."
            )
        _built.end = None
        self.get_response = get_response
        self.api_response = end.get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not request.path_info.startswith(API_PATH_PREFIX):
            return self.get_response(request)
        response = self.api_response(request)
        # As CommonMiddleware (skipped here) would: the body's length, so that the server
        # need not chunk the answer.
        if not response.streaming and not response.has_header("Content-Length"):
            response.headers["Content-Length"] = str(len(response.content))  # type: ignore[attr-defined]
        return response
