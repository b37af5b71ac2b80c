"""Production settings: security headers, no DEBUG, `check --deploy` clean.

Production settings cannot be loaded into the test process (they would replace its database), so
one child process boots Django with them and reports what it sees; the tests read that report.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]

PROBE = r"""
import io, json, django
django.setup()
from django.conf import settings
from django.core.management import call_command
from django.test import Client

report = {"debug": settings.DEBUG}
out = io.StringIO()
try:
    call_command("check", deploy=True, fail_level="WARNING", stdout=out, stderr=out)
    report["check_deploy"] = "ok: " + out.getvalue()
except Exception as exc:  # SystemCheckError: the text lists every warning
    report["check_deploy"] = f"{type(exc).__name__}: {exc}"

client = Client()
def seen(response):
    return {"status": response.status_code, "headers": dict(response.headers)}
report["api_https"] = seen(client.get("/api/v2/platform/ambassadors/1/orders", secure=True))
report["api_http"] = seen(client.get("/api/v2/platform/ambassadors/1/orders"))
report["healthz_http"] = seen(client.get("/healthz"))
report["missing_https"] = seen(client.get("/nowhere", secure=True))
print(json.dumps(report))
"""


@pytest.fixture(scope="module")
def production():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "platform_api.settings.production",
        "SECRET_KEY": "x" * 64 + "-not-a-real-secret-but-long-and-random-enough-9f8e7d",
        "ALLOWED_HOSTS": "testserver,api.example.com",
        "DATABASE_URL": "sqlite:////nonexistent/never-opened.sqlite3",
        # every attempt to switch DEBUG on must be ignored
        "DEBUG": "1",
        # without limits production needs no Redis (tests/platform_api/test_throttling.py)
        "RATE_LIMIT": "off",
        "RATE_LIMIT_ADDRESS": "off",
    }
    for name in ("SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_PRELOAD"):
        env.pop(name, None)
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", PROBE],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_debug_cannot_be_switched_on_in_production(production):
    assert production["debug"] is False


def test_check_deploy_has_no_warnings(production):
    assert production["check_deploy"].startswith("ok"), production["check_deploy"]


def test_hsts_over_https(production):
    hsts = production["api_https"]["headers"]["Strict-Transport-Security"]

    assert "max-age=31536000" in hsts
    assert "includeSubDomains" in hsts


@pytest.mark.parametrize("response", ["api_https", "missing_https", "healthz_http"])
def test_nosniff_and_frame_denial_on_every_answer(production, response):
    headers = production[response]["headers"]

    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("response", ["api_https", "api_http", "healthz_http", "missing_https"])
def test_the_app_leaks_no_server_software(production, response):
    headers = {name.lower() for name in production[response]["headers"]}

    assert "server" not in headers
    assert "x-powered-by" not in headers


def test_plain_http_is_redirected_but_probes_are_not(production):
    assert production["api_http"]["status"] == 301
    assert production["api_http"]["headers"]["Location"].startswith("https://")
    assert production["healthz_http"]["status"] == 200
    # HSTS is only meaningful, and only sent, over TLS
    assert "Strict-Transport-Security" not in production["healthz_http"]["headers"]


def test_api_answers_carry_the_request_id_and_no_cookies(db):
    # Under test settings too: an API answer never sets a session or CSRF cookie.
    response = Client().get("/api/v2/platform/ambassadors/1/orders")

    assert response.status_code == 401
    assert not response.cookies
    assert response["X-Request-ID"]
