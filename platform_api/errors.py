"""One error shape for the whole service: `{"message": ...}`, plus `errors` for validation (422).

DRF's own handler runs first, so its headers (`WWW-Authenticate`, `Retry-After`) and its
transaction rollback are kept; this module only reshapes bodies and covers what DRF does not
(database outages, Django-level 400/403/404/500).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.db import DatabaseError, DataError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from platform_api.admin_tools import refused_lookup_response
from platform_api.laravel_request import request_path
from platform_api.permissions import FORBIDDEN_MESSAGE
from platform_api.php_json import PhpJsonResponse
from platform_api.statement_timeout import is_statement_timeout, timeout_message

logger = logging.getLogger("platform_api.errors")

UNAUTHORIZED_MESSAGE = "Unauthorized."
TOO_MANY_ATTEMPTS_MESSAGE = "Too Many Attempts."
UNAVAILABLE_MESSAGE = "The service is temporarily unavailable. Please retry shortly."
UNAVAILABLE_RETRY_AFTER = "5"
SERVER_ERROR_MESSAGE = "Server Error"  # Laravel's, without a period
SUPPORTED_METHODS = ("GET", "HEAD")


def route_not_found_message(request: HttpRequest) -> str:
    """Laravel's NotFoundHttpException message for a path no route matches."""
    return f"The route {request_path(request)} could not be found."


def method_not_allowed_message(request: HttpRequest, supported: Sequence[str]) -> str:
    """Laravel's MethodNotAllowedHttpException message (RouteCollection)."""
    return (
        f"The {request.method} method is not supported for route {request_path(request)}. "
        f"Supported methods: {', '.join(supported)}."
    )


def method_not_allowed_response(
    request: HttpRequest, supported: Sequence[str] = SUPPORTED_METHODS
) -> PhpJsonResponse:
    """405 with Laravel's message and `Allow`, for views outside DRF."""
    response = PhpJsonResponse(
        {"message": displayable(method_not_allowed_message(request, supported))}, status=405
    )
    response["Allow"] = ", ".join(supported)
    return response


class UnprocessableQuery(exceptions.APIException):
    """Laravel's validation failure: 422, the first message, and every message per parameter."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The given data was invalid."

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        first = next(iter(errors.values()))[0]
        others = sum(len(messages) for messages in errors.values()) - 1
        # Laravel: "<first error> (and N more error[s])".
        if others:
            first += f" (and {others} more error{'s' if others > 1 else ''})"
        super().__init__(detail=first)


class BadQuery(exceptions.APIException):
    """A query parameter this route does not know (unknown filter or sort)."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "Bad request."


def _message(exc: exceptions.APIException, context: dict[str, Any]) -> str:
    request = context.get("request")
    if isinstance(exc, exceptions.MethodNotAllowed) and request is not None:
        return displayable(method_not_allowed_message(request, _supported(context)))
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        return UNAUTHORIZED_MESSAGE
    if isinstance(exc, exceptions.PermissionDenied):
        return FORBIDDEN_MESSAGE
    if isinstance(exc, exceptions.Throttled):
        return TOO_MANY_ATTEMPTS_MESSAGE
    detail = exc.detail
    if isinstance(detail, list | dict):
        return str(exc.default_detail)
    return displayable(str(detail))


def displayable(text: str) -> str:
    """Text safe to put in a JSON body: messages may echo what the caller sent, and broken
    UTF-8 in the query string arrives as lone surrogates, which no JSON encoder accepts."""
    return text.encode("utf-8", errors="surrogatepass").decode("utf-8", errors="replace")


def _supported(context: dict[str, Any]) -> list[str]:
    view = context.get("view")
    methods = getattr(view, "allowed_methods", SUPPORTED_METHODS)
    return [method for method in methods if method != "OPTIONS"]


# SQLSTATEs that mean "the database cannot serve now, retry": connection exceptions (08),
# insufficient resources (53: too many connections, out of memory), operator intervention
# (57P: shutting down, starting up). Protocol violation (08P01) is also what PostgreSQL answers
# to a statement it rejects (a prepared statement's parameters not matching): a bug, not an
# outage, unless it ends the session.
_UNAVAILABLE_SQLSTATE_PREFIXES = ("08", "53", "57P")
_STATEMENT_SQLSTATES = {"08P01"}
_SESSION_ENDING_SEVERITIES = {"FATAL", "PANIC"}


def is_database_unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the database cannot be reached or cannot serve now (a 503: retry),
    rather than that it refused a statement (a 500: a bug, logged)."""
    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    sqlstate, severity = _diagnosis(exc)
    if sqlstate is None or severity in _SESSION_ENDING_SEVERITIES:
        # No server answer (refused, timed out, connection lost), or the server ended it.
        return True
    return sqlstate.startswith(_UNAVAILABLE_SQLSTATE_PREFIXES) and (
        sqlstate not in _STATEMENT_SQLSTATES
    )


def _diagnosis(exc: BaseException) -> tuple[str | None, str | None]:
    """The SQLSTATE and severity of the driver's error behind Django's (psycopg's `diag`)."""
    cause = exc.__cause__ or exc
    diag = getattr(cause, "diag", None)
    sqlstate = getattr(cause, "sqlstate", None) or getattr(diag, "sqlstate", None)
    severity = getattr(diag, "severity_nonlocalized", None) or getattr(diag, "severity", None)
    return sqlstate, severity


def log_database_error(exc: DatabaseError) -> None:
    """Why a statement failed (the 500 body says nothing), for the operator."""
    sqlstate, severity = _diagnosis(exc)
    cause = exc.__cause__ or exc
    logger.error(
        "database error: %s",
        cause.__class__.__name__,
        exc_info=exc,
        extra={
            "fields": {
                "sqlstate": sqlstate,
                "severity": severity,
                "reason": str(cause).strip().splitlines()[0][:500] if str(cause) else "",
            }
        },
    )


def is_database_timeout(exc: BaseException) -> bool:
    """A statement cancelled by DATABASE_STATEMENT_TIMEOUT_MS: the database is up, the request
    asked too much of it, so no Retry-After."""
    return isinstance(exc, OperationalError) and is_statement_timeout(exc)


def is_unusable_value(exc: BaseException) -> bool:
    """Whether `exc` says a value could not become SQL (a NUL in PostgreSQL text, an integer
    beyond the driver's or the column's range, an address that is none) rather than that the
    database failed: a DataError, or a ValueError/OverflowError raised inside Django's ORM or
    the driver under it while a query was built or sent."""
    if isinstance(exc, DataError):
        return True
    if not isinstance(exc, ValueError | OverflowError):
        return False
    frame = exc.__traceback__
    while frame is not None:
        if frame.tb_frame.f_globals.get("__name__", "").startswith("django.db."):
            return True
        frame = frame.tb_next
    return False


def unavailable_response() -> PhpJsonResponse:
    response = PhpJsonResponse({"message": UNAVAILABLE_MESSAGE}, status=503)
    response["Retry-After"] = UNAVAILABLE_RETRY_AFTER
    return response


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER."""
    if isinstance(exc, DatabaseError) and is_database_timeout(exc):
        set_rollback()
        logger.warning("statement timeout: %s", context["request"].path)
        return Response({"message": timeout_message()}, status=503)
    if isinstance(exc, DatabaseError) and is_database_unavailable(exc):
        set_rollback()
        logger.warning("database unavailable: %s", exc.__class__.__name__)
        return Response(
            {"message": UNAVAILABLE_MESSAGE},
            status=503,
            headers={"Retry-After": UNAVAILABLE_RETRY_AFTER},
        )
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response  # a bug: Django's 500 handler answers, in JSON, without details
    body: dict[str, Any] = {"message": _message(exc, context)}
    if isinstance(exc, UnprocessableQuery):
        body["errors"] = exc.errors
    if isinstance(exc, exceptions.MethodNotAllowed):
        response["Allow"] = ", ".join(_supported(context))
    response.data = body
    return response


class DatabaseUnavailableMiddleware:
    """Outside DRF (admin, health checks), a database outage is a 503 too, not a 500 page;
    an admin list given a value the database cannot hold is answered as Django answers
    unusable lookups (a 400 on other admin GETs); otherwise a statement the database refused
    is a logged 500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if is_database_timeout(exc):
            logger.warning("statement timeout: %s", request.path)
            if request.path.startswith(f"/{settings.ADMIN_URL}"):
                # An admin page answers a page an admin can read, in the admin's frame.
                context = {"title": "This page took too long", "message": timeout_message()}
                return TemplateResponse(
                    request, "admin/statement_timeout.html", context, status=503
                ).render()
            return PhpJsonResponse({"message": timeout_message()}, status=503)
        if is_database_unavailable(exc):
            logger.warning("database unavailable: %s", exc.__class__.__name__)
            return unavailable_response()
        if request.path.startswith(f"/{settings.ADMIN_URL}") and is_unusable_value(exc):
            # An admin list's filters and its action's selected ids, a page's search term or
            # initial values come from the request: a value the database cannot hold is bad
            # input, not a 500. (A change form validates what it saves: that stays a 500.)
            refused = refused_lookup_response(request)
            if refused is None and request.method in SUPPORTED_METHODS:
                refused = bad_request(request)
            if refused is not None:
                logger.warning("admin query refused: %s: %s", exc.__class__.__name__, exc)
                return refused
        if isinstance(exc, DatabaseError):
            # Django's 500 handler answers (JSON, no details); the reason goes to the log.
            log_database_error(exc)
        return None


# Django-level handlers (urls.py): even unknown routes and crashes answer JSON, in Laravel's words.
def bad_request(request: HttpRequest, exception: Exception | None = None) -> PhpJsonResponse:
    return PhpJsonResponse({"message": "Bad request."}, status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> PhpJsonResponse:
    return PhpJsonResponse({"message": FORBIDDEN_MESSAGE}, status=403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> PhpJsonResponse:
    return PhpJsonResponse({"message": displayable(route_not_found_message(request))}, status=404)


def server_error(request: HttpRequest) -> PhpJsonResponse:
    return PhpJsonResponse({"message": SERVER_ERROR_MESSAGE}, status=500)
