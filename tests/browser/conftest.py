"""A real browser against a real server: Debian's Chromium driven by Playwright (Python).

The session starts its own server (`manage.py runserver`, local settings) on a free port, on
its own database (PostgreSQL beside the suite's when DATABASE_URL points there, else a SQLite
file), loaded by `seed_demo` with enough orders for many pages, plus a few rows the flows look
for: an ambassador named Olga Smith, orders from 2019, date-times with microseconds. Playwright
launches /usr/bin/chromium (never a downloaded browser). A failed test leaves a screenshot and
the page's HTML in var/browser-artifacts/. With BROWSER_PGBOUNCER=1 (CI's PostgreSQL run) the
server reaches its database through a real PgBouncer in transaction mode.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dj_database_url
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("BROWSER_EXECUTABLE", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "var" / "browser-artifacts"
ADMIN_USER, ADMIN_PASSWORD = "browser-admin", "browser-admin-password"
ORDERS = 3000  # 60 pages of 50
SERVER_START_SECONDS = 60
VIEWPORT = {"width": 1400, "height": 900}

# Rows the flows look for, made once the demo data is loaded (run by `manage.py shell`).
FIXTURE_ROWS = """
from datetime import UTC, datetime, timedelta
from django.db.models import F
from ambassadors.models import Ambassador
from orders.models import Order
Ambassador.objects.filter(pk=1).update(
    firstname="Olga", lastname="Smith", email="olga.smith@example.com", anonymized=False
)
old = list(Order.objects.order_by("id_order").values_list("pk", flat=True)[:5])
Order.objects.filter(pk__in=old).update(date_order=datetime(2019, 3, 5, 9, 30, 15, 250000, UTC))
Order.objects.update(date_update=F("date_update") + timedelta(microseconds=123457))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _manage(env: dict[str, str], *args: str, timeout: int = 300) -> str:
    done = subprocess.run(  # noqa: S603 - this interpreter, manage.py, the tests' arguments
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _postgres_database(url: str, worker: str) -> tuple[str, Any]:
    """A fresh database beside the suite's one, and how to drop it."""
    import psycopg

    config = dj_database_url.parse(url)
    name = f"test_{config['NAME']}_browser{worker}"
    admin_url = url.rsplit("/", 1)[0] + "/postgres"

    def execute(sql: str) -> None:
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(sql)

    execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + "/" + name, lambda: execute(
        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    )


@pytest.fixture(scope="session")
def server_env(tmp_path_factory, worker_id) -> Iterator[dict[str, str]]:
    """The environment of the server and of the commands that prepare its data."""
    suite_url = os.environ.get("DATABASE_URL", "")
    worker = "" if worker_id == "master" else f"_{worker_id}"
    drop = None
    if suite_url.startswith(("postgres://", "postgresql://")):
        url, drop = _postgres_database(suite_url, worker)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'db.sqlite3'}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "platform_api.settings.local",
        "DATABASE_URL": url,
        "DJANGO_SUPERUSER_PASSWORD": ADMIN_PASSWORD,
        "PYTHONUNBUFFERED": "1",
    }
    _manage(env, "migrate", "--noinput", "-v", "0")
    _manage(env, "seed_demo", "--orders", str(ORDERS), "--ambassadors", "300", timeout=600)
    _manage(env, "shell", "-c", FIXTURE_ROWS)
    _manage(
        env, "createsuperuser", "--noinput", "--username", ADMIN_USER, "--email", "b@example.com"
    )
    yield env
    if drop is not None:
        drop()


@pytest.fixture(scope="session")
def database_route(server_env, tmp_path_factory) -> Iterator[dict[str, str]]:
    """The server's database settings: the database itself, or, with BROWSER_PGBOUNCER=1 on
    PostgreSQL (CI's PostgreSQL run), a real PgBouncer in transaction mode in front of it, so
    that every admin flow (login sessions, lockouts, saves with inlines, deletes, exports) runs
    as it would behind a transaction pooler."""
    url = server_env["DATABASE_URL"]
    if os.environ.get("BROWSER_PGBOUNCER") != "1" or not url.startswith("postgres"):
        yield {}
        return
    from bench import pgbouncer

    log = tmp_path_factory.mktemp("pgbouncer") / "pgbouncer.log"
    with pgbouncer.running(url, pool_mode="transaction", pool_size=4, log=log) as bouncer:
        name = str(dj_database_url.parse(url)["NAME"])
        yield {"DATABASE_URL": bouncer.url(name), "DATABASE_POOLER": "transaction"}


@pytest.fixture(scope="session")
def base_url(server_env, database_route, tmp_path_factory) -> Iterator[str]:
    """The server's address; the server runs for the whole session."""
    port = _free_port()
    log = (tmp_path_factory.mktemp("server") / "server.log").open("w")
    server = subprocess.Popen(  # noqa: S603 - this interpreter running manage.py runserver
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env={**server_env, **database_route},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + SERVER_START_SECONDS
    try:
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the server did not start: see {log.name}") from None
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def logged_in_state(browser, base_url, tmp_path_factory) -> str:
    """Cookies of a logged-in admin, logging in once through the login form."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(f"{base_url}/admin/")
    page.fill("#id_username", ADMIN_USER)
    page.fill("#id_password", ADMIN_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")
    assert page.url.rstrip("/").endswith("/admin")
    path = str(tmp_path_factory.mktemp("state") / "state.json")
    context.storage_state(path=path)
    context.close()
    return path


@pytest.fixture
def page(browser, logged_in_state) -> Iterator[Any]:
    """A logged-in admin's tab, 1,400 px wide."""
    context = browser.new_context(
        viewport=VIEWPORT, storage_state=logged_in_state, accept_downloads=True
    )
    context.set_default_timeout(30_000)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    tab = item.funcargs.get("page") if hasattr(item, "funcargs") else None
    if report.when == "call" and report.failed and tab is not None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        stem = ARTIFACTS / item.name.replace("/", "_")
        try:
            tab.screenshot(path=f"{stem}.png", full_page=True)
            Path(f"{stem}.html").write_text(tab.content())
        except Exception as exc:
            report.sections.append(("browser artifacts", f"no screenshot: {exc}"))
        else:
            report.sections.append(("browser artifacts", f"{stem}.png, {stem}.html"))


@pytest.fixture
def manage(server_env) -> Any:
    """Runs a management command against the server's database; returns its output."""
    return lambda *args: _manage(server_env, *args)
