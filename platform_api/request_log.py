"""Structured logs: one JSON line per request, with a request id echoed back to the caller."""

from __future__ import annotations

import json
import logging
import logging.config
import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger("platform_api.request")

_REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._:-]{1,128}")


class JsonFormatter(logging.Formatter):
    """A log record as one JSON object per line; extra fields under `fields` are merged in."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            payload.update(fields)
        if record.exc_info:
            # The traceback stays inside the one line: json.dumps escapes its newlines.
            payload["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            payload["stack"] = self.formatStack(record.stack_info)
        return json.dumps(payload, ensure_ascii=False, default=str)


class ClientErrorFilter(logging.Filter):
    """Django's security loggers report a client's malformed request (a Host outside
    ALLOWED_HOSTS, an oversized form...) at ERROR with a traceback of Django's own frames: the
    client's error, not the service's, and one line per scanner's probe. A WARNING naming it
    (the message says which host), without the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], SuspiciousOperation):
            record.levelno, record.levelname = (
                logging.WARNING,
                logging.getLevelName(logging.WARNING),
            )
            record.exc_info, record.exc_text = None, None
        return True


def configure_logging(config: dict[str, Any]) -> None:
    """Django's LOGGING_CONFIG: the settings' LOGGING, and Python warnings through logging (to
    the `py.warnings` logger, so that they too are JSON lines rather than bare text)."""
    logging.config.dictConfig(config)
    logging.captureWarnings(True)


def request_id_from(request: HttpRequest) -> str:
    """The caller's X-Request-ID when it is sane, else a new one."""
    candidate = request.META.get("HTTP_X_REQUEST_ID", "")
    if _REQUEST_ID_RE.fullmatch(candidate):
        return candidate
    return uuid.uuid4().hex


class RequestLogMiddleware:
    """Logs method, path (never the query string: it may carry secrets), status, duration,
    request id and the token's public prefix (never the secret)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        request_id = request_id_from(request)
        request.META["platform_api.request_id"] = request_id
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        token = getattr(request, "platform_api_token", None)
        logger.info(
            "request",
            extra={
                "fields": {
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "request_id": request_id,
                    "token_prefix": getattr(token, "prefix", None),
                }
            },
        )
        return response
