"""The health check asks the server only when the connection is not quiet."""

from __future__ import annotations

import select
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from django.db import connection, connections
from django.db.backends.postgresql import base as django_postgresql

from platform_api.postgresql.base import DatabaseWrapper
from tests.conftest import bearer
from tests.factories import AmbassadorFactory, ApiTokenFactory, OrderFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL (set DATABASE_URL=postgres://...)",
    ),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def wrapper() -> Iterator[Any]:
    """A connection of its own, outside the test's transaction."""
    own = connections.create_connection("default")
    own.ensure_connection()
    try:
        yield own
    finally:
        own.close()


@pytest.fixture
def other() -> Iterator[Any]:
    own = connections.create_connection("default")
    try:
        yield own
    finally:
        own.close()


def select_one_counted():
    """Django's own check (`SELECT 1`), counted."""
    return mock.patch.object(
        django_postgresql.DatabaseWrapper,
        "is_usable",
        autospec=True,
        side_effect=django_postgresql.DatabaseWrapper.is_usable,
    )


def test_the_project_uses_this_backend():
    assert isinstance(connections["default"], DatabaseWrapper)


def test_a_quiet_idle_connection_is_usable_without_a_round_trip(wrapper):
    with select_one_counted() as select_one:
        assert wrapper.is_usable() is True
    assert select_one.call_count == 0


def test_a_connection_the_server_dropped_is_not_usable(wrapper, other):
    pid = wrapper.connection.info.backend_pid
    with other.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])  # waits for it
    with select_one_counted() as select_one:
        assert wrapper.is_usable() is False
    assert select_one.call_count == 1


def test_data_waiting_on_a_live_connection_is_checked_and_passes(wrapper, other):
    # given: a notification arrives while the connection is idle
    with wrapper.cursor() as cursor:
        cursor.execute("LISTEN health_check_test")
    with other.cursor() as cursor:
        cursor.execute("NOTIFY health_check_test")
    readable, _, _ = select.select([wrapper.connection.fileno()], [], [], 5)
    assert readable
    # then: the server is asked, and the connection is fine
    with select_one_counted() as select_one:
        assert wrapper.is_usable() is True
    assert select_one.call_count == 1


def test_inside_a_transaction_the_server_is_asked(wrapper):
    wrapper.set_autocommit(False)
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT 1")
    with select_one_counted() as select_one:
        assert wrapper.is_usable() is True
    assert select_one.call_count == 1
    wrapper.rollback()
    wrapper.set_autocommit(True)


def test_a_closed_connection_is_not_usable(wrapper):
    wrapper.connection.close()
    assert wrapper.is_usable() is False


def test_the_orders_page_statement_is_parsed_once_not_per_request(client):
    # psycopg caches its placeholder conversion for texts up to a length: the page's one
    # statement must fit, or every request parses it again.
    token = ApiTokenFactory()
    ambassador: Any = AmbassadorFactory(brand=token.brand)
    OrderFactory(ambassador=ambassador)
    url = f"/api/v2/platform/ambassadors/{ambassador.pk}/orders"
    url += "?filter[placed_between]=2024-01-01,2024-12-31"
    client.get(url, **bearer(token))

    with mock.patch("psycopg._queries._query2pg_nocache") as uncached:
        response = client.get(url, **bearer(token))

    assert response.status_code == 200
    assert uncached.call_count == 0
