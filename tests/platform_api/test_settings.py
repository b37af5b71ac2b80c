"""Production settings: refuse to start without their required variables (saying which),
never run with DEBUG on, and pass `manage.py check --deploy` without a warning.

Each case starts a fresh interpreter with a controlled environment, as a deployment would.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings

MANAGE = str(settings.BASE_DIR / "manage.py")
# Long and varied enough for Django's own check of SECRET_KEY (security.W009).
GOOD_SECRET_KEY = "k7P2-vQ9x_Lr4mZ8sT1wY6bN3cF0hJ5dG8aE2uR7iO4pK9lX1zV6nB3mQ0tS5yW"
REQUIRED = {
    "SECRET_KEY": GOOD_SECRET_KEY,
    "ALLOWED_HOSTS": "api.example.com",
    "DATABASE_URL": "sqlite:////tmp/platform-api-settings-check.sqlite3",
    # rate-limit budgets shared by every worker (nothing connects to it in these checks)
    "CACHE_URL": "redis://127.0.0.1:6379/0",
}


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(settings.BASE_DIR)),
        "DJANGO_SETTINGS_MODULE": "platform_api.settings.production",
        **env,
    }
    return subprocess.run(  # noqa: S603
        [sys.executable, *args],
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=str(settings.BASE_DIR),
        check=False,
    )


@pytest.mark.parametrize("missing", list(REQUIRED))
@pytest.mark.parametrize("how", ["unset", "blank"])
def test_production_refuses_to_start_without_a_required_variable(missing, how):
    env = {name: value for name, value in REQUIRED.items() if name != missing}
    if how == "blank":
        env[missing] = "  "

    result = _run([MANAGE, "check"], **env)

    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert "ImproperlyConfigured" in last_line
    assert f"The environment variable {missing} is required" in last_line


def test_allowed_hosts_made_only_of_separators_counts_as_missing():
    result = _run([MANAGE, "check"], **{**REQUIRED, "ALLOWED_HOSTS": " , ,"})

    assert result.returncode != 0
    assert "ALLOWED_HOSTS is required" in result.stderr


@pytest.mark.parametrize("debug", ["1", "true", "on"])
def test_debug_cannot_be_switched_on_in_production(debug):
    code = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"

    result = _run(["-c", code], **REQUIRED, DEBUG=debug)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_check_deploy_passes_without_warnings():
    result = _run([MANAGE, "check", "--deploy", "--fail-level", "WARNING"], **REQUIRED)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


@pytest.mark.parametrize("cache_url", ["locmem://", "dummy://"])
def test_production_refuses_per_process_rate_limit_budgets(cache_url):
    result = _run([MANAGE, "check"], **{**REQUIRED, "CACHE_URL": cache_url})

    assert result.returncode != 0
    assert "The environment variable CACHE_URL is required" in result.stderr


def test_production_without_rate_limits_needs_no_redis():
    env = {**REQUIRED, "CACHE_URL": "locmem://", "RATE_LIMIT": "off", "RATE_LIMIT_ADDRESS": "off"}

    result = _run([MANAGE, "check"], **env)

    assert result.returncode == 0, result.stderr
