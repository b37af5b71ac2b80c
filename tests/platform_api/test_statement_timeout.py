"""The per-request statement timeout: set on the server for web requests only, kept behind a
transaction-mode pooler, and answered with a clear message when a statement hits it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import OperationalError, connection, connections, transaction
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.test import Client, RequestFactory

from platform_api.errors import DatabaseUnavailableMiddleware, api_exception_handler
from platform_api.statement_timeout import (
    StatementTimeout,
    StatementTimeoutMiddleware,
    is_statement_timeout,
    is_transaction_pooled,
    timeout_message,
)
from tests.factories import AmbassadorFactory, ApiTokenFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL (set DATABASE_URL=postgres://...)",
    ),
]

TIMEOUT_MS = 150


def show_timeout() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        return str(cursor.fetchone()[0])


def run_in_request(view, path: str = "/api/v2/platform/x") -> HttpResponse:
    middleware = StatementTimeoutMiddleware(view)
    return middleware(RequestFactory().get(path))


@pytest.fixture
def short_timeout(settings):
    settings.DATABASE_STATEMENT_TIMEOUT_MS = TIMEOUT_MS
    connection.close()  # a fresh session: nothing set on it yet
    yield
    connection.close()  # do not hand a bounded session to the next test


@pytest.fixture
def transaction_pooled(monkeypatch):
    # What platform_api.pooler decides behind PgBouncer in transaction mode (its own tests
    # run a real one); the next connection is made in that mode.
    monkeypatch.setitem(connection.settings_dict, "POOLER", "transaction")
    monkeypatch.setitem(connection.settings_dict, "PREPARED_STATEMENTS", False)
    connection.close()
    yield
    connection.close()


def timed_out_error() -> OperationalError:
    """A real cancellation from the server, as Django raises it."""
    try:
        # A savepoint: the cancellation aborts only it, not the test's transaction.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = 20")
            cursor.execute("SELECT pg_sleep(1)")
    except OperationalError as exc:
        return exc
    raise AssertionError("pg_sleep(1) was not cancelled")


@pytest.mark.django_db(transaction=True)
def test_a_request_runs_bounded_and_other_code_does_not(short_timeout):
    # given a fresh connection, outside any request
    assert show_timeout() == "0"
    seen: list[str] = []

    def view(request: HttpRequest) -> HttpResponse:
        seen.append(show_timeout())
        return HttpResponse("ok")

    # when a request runs a statement
    run_in_request(view)

    # then the statement ran under the bound
    assert seen == [f"{TIMEOUT_MS}ms"]


@pytest.mark.django_db(transaction=True)
def test_a_slow_statement_is_cancelled(short_timeout):
    def view(request: HttpRequest) -> HttpResponse:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(2)")
        return HttpResponse("not reached")

    with pytest.raises(OperationalError) as caught:
        run_in_request(view)

    assert is_statement_timeout(caught.value)


@pytest.mark.django_db(transaction=True)
def test_a_session_the_server_ended_before_the_bound_is_set_answers_503(short_timeout, monkeypatch):
    # given a persistent connection that passed its health check, then was ended by the server
    # (a restart, pg_terminate_backend) before the request's first statement: the bound's SET
    # is the first thing sent on it
    token = ApiTokenFactory()
    ambassador: Any = AmbassadorFactory(brand=token.brand)
    monkeypatch.setitem(connection.settings_dict, "CONN_HEALTH_CHECKS", False)
    connection.ensure_connection()
    killer = connections.create_connection("default")
    try:
        with killer.cursor() as cursor:
            pid = connection.connection.info.backend_pid
            cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])
    finally:
        killer.close()

    # when the API runs its first statement on it
    response = Client(raise_request_exception=False).get(
        f"/api/v2/platform/ambassadors/{ambassador.pk}/orders",
        headers={"Authorization": f"Bearer {token.secret}"},
    )

    # then the database is unavailable (503, retry), not a bug (500), and the dead connection
    # is marked so that Django closes it rather than reuse it
    assert response.status_code == 503, response.content[:200]
    assert response.json() == {
        "message": "The service is temporarily unavailable. Please retry shortly."
    }
    assert connection.errors_occurred


@pytest.mark.django_db(transaction=True)
def test_behind_a_transaction_pooler_the_bound_is_local_to_each_transaction(
    short_timeout, transaction_pooled
):
    seen: list[str] = []

    def view(request: HttpRequest) -> HttpResponse:
        seen.append(show_timeout())
        seen.append(show_timeout())
        assert is_transaction_pooled(connection)
        return HttpResponse("ok")

    run_in_request(view)

    # Each autocommit statement got its own SET LOCAL; the session itself was never changed,
    # so a pooler handing this server connection to another client hands no setting with it.
    assert seen == [f"{TIMEOUT_MS}ms", f"{TIMEOUT_MS}ms"]
    assert show_timeout() == "0"


@pytest.mark.django_db
def test_inside_a_transaction_the_bound_is_set_locally(settings):
    # pytest-django's test transaction: a rollback must not silently lose the bound
    settings.DATABASE_STATEMENT_TIMEOUT_MS = TIMEOUT_MS
    seen: list[str] = []

    def view(request: HttpRequest) -> HttpResponse:
        seen.append(show_timeout())
        return HttpResponse("ok")

    run_in_request(view)

    assert seen == [f"{TIMEOUT_MS}ms"]


@pytest.mark.django_db(transaction=True)
def test_a_streamed_body_is_bounded_while_it_streams(short_timeout):
    def rows():
        yield show_timeout()

    def view(request: HttpRequest) -> Any:
        return StreamingHttpResponse(rows())

    response = run_in_request(view)
    connection.close()  # the view ran nothing: the body starts on a fresh session

    assert b"".join(response.streaming_content) == f"{TIMEOUT_MS}ms".encode()


@pytest.mark.django_db(transaction=True)
def test_zero_turns_the_bound_off(settings):
    settings.DATABASE_STATEMENT_TIMEOUT_MS = 0
    connection.close()
    seen: list[str] = []

    def view(request: HttpRequest) -> HttpResponse:
        seen.append(show_timeout())
        return HttpResponse("ok")

    run_in_request(view)

    assert seen == ["0"]


@pytest.mark.django_db
def test_the_api_answers_a_timeout_with_its_message(settings):
    settings.DATABASE_STATEMENT_TIMEOUT_MS = 20_000
    request = RequestFactory().get("/api/v2/platform/ambassadors/1/orders")

    response = api_exception_handler(timed_out_error(), {"request": request})

    assert response is not None
    assert response.status_code == 503
    assert response.data == {"message": timeout_message()}
    assert "20 s" in timeout_message()
    assert "Retry-After" not in response


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/admin/orders/order/", "text/html"), ("/readyz", "application/json")],
)
def test_outside_the_api_a_timeout_answers_a_page_saying_so(path, content_type):
    middleware = DatabaseUnavailableMiddleware(lambda request: HttpResponse())
    request = RequestFactory().get(path)

    response = middleware.process_exception(request, timed_out_error())

    assert response is not None
    assert response.status_code == 503
    assert response["Content-Type"].startswith(content_type)
    if content_type == "application/json":
        assert json.loads(response.content) == {"message": timeout_message()}
    else:
        assert timeout_message().encode() in response.content


@pytest.fixture
def bounced(through_bouncer):
    """A connection through a real PgBouncer in transaction mode, known to `connections` (as
    the service's own would be), so that the guard can open transactions on it."""
    wrapper = through_bouncer()
    connections[wrapper.alias] = wrapper
    yield wrapper
    del connections[wrapper.alias]


@pytest.mark.django_db
def test_behind_pgbouncer_every_statement_is_bounded_and_nothing_leaks(bounced, through_bouncer):
    guard = StatementTimeout(TIMEOUT_MS)

    with bounced.execute_wrapper(guard), bounced.cursor() as cursor:
        seen = []
        for _ in range(4):  # the pool has 2 server connections: both are used in turn
            cursor.execute("SHOW statement_timeout")
            seen.append(cursor.fetchone()[0])
        with pytest.raises(OperationalError) as caught:
            cursor.execute("SELECT pg_sleep(2)")

    assert bounced.pooler_mode.multiplexed
    assert seen == [f"{TIMEOUT_MS}ms"] * 4
    assert is_statement_timeout(caught.value)
    # another client of the same server connections finds them unbounded: a session SET
    # would have been left there for it
    with through_bouncer().cursor() as other:
        for _ in range(4):
            other.execute("SHOW statement_timeout")
            assert other.fetchone()[0] == "0"
