"""Liveness and readiness probes: no authentication, cheap, JSON."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from platform_api.errors import UNAVAILABLE_MESSAGE, method_not_allowed_response
from platform_api.php_json import PhpJsonResponse
from platform_api.pooler import pooler_mode

Probe = Callable[[HttpRequest], HttpResponse]


def require_safe(view: Probe) -> Probe:
    """GET and HEAD only; anything else is a JSON 405 (Django's own decorator answers HTML)."""

    @csrf_exempt  # no form, no cookie: CSRF's HTML 403 would answer a POST before the 405
    @wraps(view)
    def wrapper(request: HttpRequest) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            return method_not_allowed_response(request)
        return view(request)

    return wrapper


@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """The process is alive; touches nothing else."""
    return PhpJsonResponse({"status": "ok"})


@require_safe
def readyz(request: HttpRequest) -> HttpResponse:
    """The database answers and every migration is applied; and which pooler mode is in force
    on this process's connection (`platform_api/pooler.py`)."""
    try:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        mode = pooler_mode(connection.alias)
    except DatabaseError:
        # The service-wide 503 shape (`message`), plus the probe's own fields.
        response = PhpJsonResponse(
            {"message": UNAVAILABLE_MESSAGE, "status": "unavailable", "database": "unreachable"},
            status=503,
        )
        response["Retry-After"] = "5"
        return response
    pooling = {
        "pooler": mode.pooling.value,
        "prepared_statements": mode.prepared_statements,
        "server_side_cursors": mode.server_side_cursors,
    }
    if pending:
        return PhpJsonResponse(
            {
                "status": "unavailable",
                "database": "ok",
                "pending_migrations": len(pending),
                **pooling,
            },
            status=503,
        )
    return PhpJsonResponse({"status": "ok", "database": "ok", **pooling})
