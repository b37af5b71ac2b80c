"""Every log line is one JSON object, from every logger the service configures, tracebacks
included (settings LOGGING; gunicorn's own loggers: tests/docker/test_gunicorn_conf.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from django.conf import settings

EMIT = r"""
import logging, warnings, django
django.setup()
logging.getLogger("platform_api.request").info("request", extra={"fields": {"status": 200}})
try:
    raise ValueError("boom\nwith a second line")
except ValueError:
    logging.getLogger("django.request").error("Internal Server Error: /x", exc_info=True)
logging.getLogger("django.security.DisallowedHost").error("Invalid HTTP_HOST header")
logging.getLogger("django.server").info('"GET / HTTP/1.1" 200 2')
logging.getLogger("some.library").warning("a library's warning", stack_info=True)
warnings.warn("a deprecation", DeprecationWarning, stacklevel=1)
"""


def stderr_of_local_python(code: str, *options: str) -> str:
    """What `python -c code` writes to stderr with the local settings' logging."""
    result = subprocess.run(  # noqa: S603
        [sys.executable, *options, "-c", code],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "platform_api.settings.local"},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stderr


def test_every_line_from_every_logger_is_one_json_object():
    lines = stderr_of_local_python(EMIT, "-W", "always").splitlines()
    records = [json.loads(line) for line in lines]  # fails on any line that is not JSON
    assert [r["logger"] for r in records] == [
        "platform_api.request",
        "django.request",
        "django.security.DisallowedHost",
        "django.server",
        "some.library",
        "py.warnings",
    ]
    assert "ValueError: boom\nwith a second line" in records[1]["exception"]
    assert records[0]["status"] == 200
    assert "stack" in records[4]


BAD_HOST = r"""
import django
django.setup()
from django.test import Client
status = Client().get("/healthz", HTTP_HOST="evil.example").status_code
assert status == 400, status
"""


def test_a_request_for_an_unknown_host_is_one_warning_without_a_traceback():
    # given the service's logging, when a client sends a Host outside ALLOWED_HOSTS
    stderr = stderr_of_local_python(BAD_HOST)

    # then the client's error is a WARNING naming the host, not an ERROR with Django's frames
    records = [json.loads(line) for line in stderr.splitlines()]
    (record,) = [r for r in records if r["logger"] == "django.security.DisallowedHost"]
    assert record["level"] == "WARNING"
    assert "evil.example" in record["message"]
    assert "exception" not in record
