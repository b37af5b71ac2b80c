"""/healthz (alive, no database) and /readyz (database reachable, migrations applied)."""

from __future__ import annotations

import pytest
from django.db import OperationalError, connection
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client


@pytest.fixture
def client() -> Client:
    # No credentials on purpose: probes come from load balancers and orchestrators.
    return Client()


@pytest.mark.django_db
def test_healthz_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok"}


def test_healthz_stays_up_when_the_database_is_down(client, monkeypatch):
    # Liveness must not fail with the database: an orchestrator would restart healthy processes.
    monkeypatch.setattr(connection, "cursor", _refuse_connection)

    response = client.get("/healthz")

    assert response.status_code == 200


@pytest.mark.django_db
def test_readyz_is_ok_when_migrated(client, django_assert_max_num_queries):
    # Cheap: the migration table's existence and its rows, nothing else.
    with django_assert_max_num_queries(2):
        response = client.get("/readyz")

    assert response.status_code == 200
    # The test database is reached directly: PostgreSQL keeps prepared statements and cursors;
    # SQLite has neither. (Behind PgBouncer: tests/platform_api/test_pooler.py.)
    on_postgresql = connection.vendor == "postgresql"
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "pooler": "none",
        "prepared_statements": on_postgresql,
        "server_side_cursors": on_postgresql,
    }


@pytest.mark.django_db
def test_readyz_is_unavailable_while_a_migration_is_pending(client):
    # given: the newest migration of an app is not recorded as applied (rolled back after the test)
    latest = MigrationRecorder.Migration.objects.filter(app="orders").order_by("-id").first()
    assert latest is not None
    latest.delete()

    # when
    response = client.get("/readyz")

    # then
    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["database"], body["pending_migrations"]) == (
        "unavailable",
        "ok",
        1,
    )


@pytest.mark.django_db
def test_readyz_is_unavailable_when_the_database_is_unreachable(client, monkeypatch):
    monkeypatch.setattr(connection, "cursor", _refuse_connection)

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    body = response.json()
    assert (body["status"], body["database"]) == ("unavailable", "unreachable")


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_answer_head(client, path):
    response = client.head(path)

    assert response.status_code == 200
    assert response.content == b""


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_probes_refuse_other_methods_in_json(path, method, django_assert_num_queries):
    # As a real client meets them: CSRF checked (the test client skips it by default), which
    # answered Django's HTML 403 page before the view's 405.
    client = Client(enforce_csrf_checks=True)
    with django_assert_num_queries(0):
        response = getattr(client, method)(path)

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    # Laravel's MethodNotAllowedHttpException message.
    assert response.json() == {
        "message": f"The {method.upper()} method is not supported for route {path[1:]}. "
        "Supported methods: GET, HEAD."
    }


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_need_no_authentication_and_ignore_a_bad_token(client, path, db):
    response = client.get(path, HTTP_AUTHORIZATION="Bearer pat_nonsense")

    assert response.status_code == 200


def _refuse_connection(*args, **kwargs):
    raise OperationalError("connection refused (simulated)")
