"""Database outages: 503 `{"message": ...}` with `Retry-After`, never a 500 page; and recovery by
itself once the database is back (health-checked persistent connections)."""

from __future__ import annotations

import io
import logging
import socket
from collections.abc import Iterator
from typing import Any
from unittest import mock
from wsgiref.util import setup_testing_defaults

import pytest
from django.contrib.auth import get_user_model
from django.core.handlers.wsgi import WSGIHandler
from django.db import OperationalError, ProgrammingError, connection, connections
from django.test import Client

from platform_api.settings.base import database_config
from tests.conftest import bearer
from tests.factories import AmbassadorFactory, ApiTokenFactory

UNAVAILABLE = {"message": "The service is temporarily unavailable. Please retry shortly."}

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL (set DATABASE_URL=postgres://...)"
)


def assert_unavailable(response) -> None:
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert int(response["Retry-After"]) > 0
    body = response.json()
    assert isinstance(body["message"], str)
    assert "Traceback" not in response.content.decode()


@pytest.fixture
def token_and_url(db):
    token = ApiTokenFactory()
    ambassador: Any = AmbassadorFactory(brand=token.brand)
    return token, f"/api/v2/platform/ambassadors/{ambassador.pk}/orders"


@pytest.fixture
def staff_client(db):
    user = get_user_model().objects.create_user("staff", password="pw", is_staff=True)
    client = Client()
    client.force_login(user)
    return client


def authorization(token: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token.secret}"}


def database_refuses(error: type[Exception] = OperationalError):
    """Every attempt to reach the database fails as a refused connection does."""
    return mock.patch(
        "django.db.backends.base.base.BaseDatabaseWrapper.cursor",
        side_effect=error("connection refused: is the server running on 127.0.0.1:5432?"),
    )


# --- the database refuses: inside DRF and outside it -------------------------------------------


def test_orders_endpoint_answers_503_when_the_database_is_down(token_and_url):
    token, url = token_and_url

    with database_refuses():
        response = Client().get(url, headers=authorization(token))

    assert_unavailable(response)
    assert response.json() == UNAVAILABLE


def test_readyz_answers_503_when_the_database_is_down(db):
    with database_refuses():
        response = Client().get("/readyz")

    assert_unavailable(response)


def test_admin_answers_503_when_the_database_is_down(staff_client):
    with database_refuses():
        response = staff_client.get("/admin/")

    assert_unavailable(response)
    assert response.json() == UNAVAILABLE


def test_healthz_does_not_need_the_database(db):
    with database_refuses():
        response = Client().get("/healthz")

    assert response.status_code == 200


def test_a_query_bug_is_a_500_in_json_not_a_503(token_and_url):
    # Only an unreachable database is "retry later"; a broken query is a bug.
    token, url = token_and_url

    with database_refuses(ProgrammingError):
        response = Client(raise_request_exception=False).get(url, headers=authorization(token))

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"message": "Server Error"}


# --- a real unreachable server: a closed port ---------------------------------------------------


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def database_at_closed_port(transactional_db) -> Iterator[None]:
    """The default connection pointed at a port nobody listens on, then put back."""
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT=str(closed_port()))
    connection.settings_dict["OPTIONS"] = {**saved["OPTIONS"], "connect_timeout": 2}
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


@postgres_only
@pytest.mark.parametrize(
    ("path", "authenticated"),
    [("/api/v2/platform/ambassadors/1/orders", True), ("/readyz", False)],
)
def test_unreachable_server_is_a_503(database_at_closed_port, path, authenticated):
    headers = {"Authorization": "Bearer pat_aaaaaaaaaa_" + "A" * 43} if authenticated else {}

    response = Client().get(path, headers=headers)

    assert_unavailable(response)


# --- recovery: a connection killed under the service is replaced on the next request ------------


def test_persistent_connections_are_health_checked():
    config = database_config("postgres://app@db.internal:5432/platform")

    assert config["CONN_MAX_AGE"] > 0
    assert config["CONN_HEALTH_CHECKS"] is True
    assert config["OPTIONS"]["connect_timeout"] <= 5


def wsgi_get(path: str, headers: dict[str, str]) -> tuple[str, bytes]:
    """A request through Django's real WSGI handler: unlike the test client, it runs the
    request-start hook that checks persistent connections."""
    environ: dict[str, object] = {"PATH_INFO": path, "REQUEST_METHOD": "GET"}
    environ.update(headers)
    environ["wsgi.input"] = io.BytesIO()
    setup_testing_defaults(environ)
    statuses: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        statuses.append(status)

    body = WSGIHandler()(environ, start_response)
    return statuses[0], b"".join(body)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_service_recovers_by_itself_when_its_connection_dies():
    token = ApiTokenFactory()
    ambassador: Any = AmbassadorFactory(brand=token.brand)
    path = f"/api/v2/platform/ambassadors/{ambassador.pk}/orders"
    saved = {key: connection.settings_dict[key] for key in ("CONN_MAX_AGE", "CONN_HEALTH_CHECKS")}
    connection.close()
    connection.settings_dict.update(CONN_MAX_AGE=60, CONN_HEALTH_CHECKS=True)
    killer = connections.create_connection("default")
    try:
        status, _ = wsgi_get(path, bearer(token))
        assert status.startswith("200")
        pid = connection.connection.info.backend_pid

        # given the server drops the service's connection (as a PostgreSQL restart does)
        with killer.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])  # waits for it

        # then the very next request gets a fresh connection and succeeds
        status, body = wsgi_get(path, bearer(token))
        assert status.startswith("200"), body[:200]
        assert connection.connection.info.backend_pid != pid
    finally:
        killer.close()
        connection.close()
        connection.settings_dict.update(saved)


# --- a statement the server rejects is a 500 with its reason logged, not "unavailable" --------


def django_error_from(error: Exception) -> Exception:
    """`error` as Django raises it (wrapped, the driver's error as its cause)."""
    try:
        with connection.wrap_database_errors:
            raise error
    except Exception as wrapped:
        return wrapped
    raise AssertionError("not raised")


def rejected_prepared_statement() -> Exception:
    """What PostgreSQL answers when a prepared statement's parameters do not match (a pooler
    mixing clients' statements): ERROR 08P01 protocol_violation."""
    import psycopg
    from psycopg import pq

    settings = connection.settings_dict
    with psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"] or "postgres",
        password=settings["PASSWORD"] or None,
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
    ) as raw:
        raw.pgconn.prepare(b"two_params", b"SELECT $1::int + $2::int")
        result = raw.pgconn.exec_prepared(b"two_params", [b"1"])
        assert result.status == pq.ExecStatus.FATAL_ERROR
        return psycopg.errors.error_from_result(result, encoding="utf-8")


@postgres_only
@pytest.mark.django_db
def test_a_statement_the_server_rejects_is_a_logged_500(token_and_url, caplog):
    token, url = token_and_url
    rejected = django_error_from(rejected_prepared_statement())
    assert isinstance(rejected, OperationalError)  # psycopg's class for SQLSTATE 08...

    with (
        caplog.at_level(logging.ERROR, logger="platform_api.errors"),
        database_refuses(lambda *args: rejected),
    ):
        response = Client(raise_request_exception=False).get(url, headers=authorization(token))

    assert response.status_code == 500
    assert response.json() == {"message": "Server Error"}
    (record,) = [r for r in caplog.records if r.name == "platform_api.errors"]
    fields: Any = record.fields
    assert (fields["sqlstate"], fields["severity"]) == ("08P01", "ERROR")
    assert "bind message supplies 1 parameters" in fields["reason"]
    assert "two_params" in fields["reason"]


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_session_the_server_ends_is_unavailable():
    from platform_api.errors import is_database_unavailable

    victim = connections.create_connection("default")
    killer = connections.create_connection("default")
    try:
        victim.ensure_connection()
        with killer.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(%s, 5000)", [victim.connection.info.backend_pid]
            )
        with pytest.raises(OperationalError) as ended, victim.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        victim.close()
        killer.close()

    assert is_database_unavailable(ended.value)


@postgres_only
def test_unavailable_means_no_answer_or_a_session_ended_or_a_server_that_cannot_serve():
    import psycopg
    from psycopg import errors

    from platform_api.errors import is_database_unavailable

    assert is_database_unavailable(django_error_from(psycopg.OperationalError("refused")))
    assert is_database_unavailable(django_error_from(errors.TooManyConnections("full")))
    assert is_database_unavailable(django_error_from(errors.CannotConnectNow("starting")))
    assert not is_database_unavailable(django_error_from(errors.ProtocolViolation("bind")))
    assert not is_database_unavailable(django_error_from(errors.SyntaxError("typo")))
