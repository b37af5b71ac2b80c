"""Read replicas: the endpoint's reads go to a replica; tokens, writes and admin to the primary.

A replica alias is added for these tests as Django's test runner adds a `TEST: {"MIRROR": ...}`
alias: a second, separate connection to the same test database. Queries are captured per
connection, so each assertion is about where a query really went. The tests are transactional:
a replica connection, like a real replica, only sees committed data.
"""

from __future__ import annotations

import copy

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from ambassadors.models import Ambassador, ApiToken
from orders.models import Order
from platform_api.db_router import ReplicaRouter, reading_from_replica, replica_aliases
from tests.conftest import bearer
from tests.factories import AmbassadorFactory, ApiTokenFactory, OrderFactory, OrderProductFactory

REPLICA = "replica_0"
TOKEN_TABLE = ApiToken._meta.db_table


def _add_mirror(alias: str) -> None:
    primary = connections["default"].settings_dict
    settings.DATABASES[alias] = {**copy.deepcopy(primary), "TEST": {"MIRROR": "default"}}
    # What django.test.utils.setup_databases does for a MIRROR alias.
    connections[alias].creation.set_as_test_mirror(primary)
    # Django's test case refuses to open connections to aliases it was not told about when the
    # test started (this one did not exist yet); connected here, the alias is then used freely.
    connections[alias].connect()


def _remove(alias: str) -> None:
    connections[alias].close()
    del connections[alias]
    del settings.DATABASES[alias]


@pytest.fixture
def replica(transactional_db):
    """A replica alias mirroring the primary (settings.DATABASES is the connection handler's)."""
    assert replica_aliases() == []
    _add_mirror(REPLICA)
    yield REPLICA
    _remove(REPLICA)


def sql_of(captured: CaptureQueriesContext) -> list[str]:
    return [query["sql"] for query in captured.captured_queries]


def test_the_endpoint_reads_from_the_replica_and_checks_the_token_on_the_primary(replica):
    # given: committed data (the replica connection sees only that)
    ambassador = AmbassadorFactory.create()
    for order in OrderFactory.create_batch(3, ambassador=ambassador):
        OrderProductFactory(order=order)
    token = ApiTokenFactory.create(brand=ambassador.brand)
    client = APIClient()
    client.credentials(**bearer(token))

    # when
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections[replica]) as replica_queries,
    ):
        response = client.get(f"/api/v2/platform/ambassadors/{ambassador.pk}/orders")

    # then
    assert response.status_code == 200
    assert response.json()["total"] == 3
    # The primary: the token lookup and its first last-used write, nothing about orders.
    primary_sql = sql_of(primary)
    assert len(primary_sql) == 2
    assert primary_sql[0].startswith("SELECT")
    assert TOKEN_TABLE in primary_sql[0]
    assert primary_sql[1].startswith("UPDATE")
    assert "last_used_at" in primary_sql[1]
    # The replica: every read of the endpoint itself (ambassador + count, page, lines; on
    # PostgreSQL all in one statement).
    replica_sql = sql_of(replica_queries)
    assert len(replica_sql) >= 1
    assert all(sql.startswith(("SELECT", "WITH")) for sql in replica_sql)
    assert any(Order._meta.db_table in sql for sql in replica_sql)
    assert not any(TOKEN_TABLE in sql for sql in replica_sql)


def test_a_revoked_token_is_refused_at_once_whatever_the_replica_says(replica):
    # Token checks read the primary: replica lag cannot let a revoked token through.
    token = ApiTokenFactory.create()
    ambassador = AmbassadorFactory.create(brand=token.brand)
    ApiToken.objects.filter(pk=token.pk).update(revoked_at="2000-01-01T00:00:00Z")
    client = APIClient()
    client.credentials(**bearer(token))

    with CaptureQueriesContext(connections[replica]) as replica_queries:
        response = client.get(f"/api/v2/platform/ambassadors/{ambassador.pk}/orders")

    assert response.status_code == 401
    assert sql_of(replica_queries) == []


def test_admin_reads_and_writes_the_primary(replica):
    user = get_user_model().objects.create_superuser("admin", "admin@example.com", "pw")
    OrderFactory()
    client = APIClient()
    client.force_login(user)

    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections[replica]) as replica_queries,
    ):
        response = client.get(f"/{settings.ADMIN_URL}orders/order/")

    assert response.status_code == 200
    assert sql_of(replica_queries) == []
    assert any(Order._meta.db_table in sql for sql in sql_of(primary))


def test_router_decisions(replica):
    router = ReplicaRouter()

    assert router.db_for_read(Order) == "default"
    with reading_from_replica():
        assert router.db_for_read(Order) == replica
        # Writes never go to a replica, even inside the replica block.
        assert router.db_for_write(Order) == "default"
    assert router.db_for_read(Order) == "default"  # the block is over
    assert router.allow_migrate("default", "orders") is True
    assert router.allow_migrate(replica, "orders") is False


def test_a_write_inside_the_replica_block_lands_on_the_primary(replica):
    token = ApiTokenFactory.create()

    with (
        reading_from_replica(),
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections[replica]) as replica_queries,
    ):
        ApiToken.objects.filter(pk=token.pk).update(name="renamed")

    assert [sql.split()[0] for sql in sql_of(primary)] == ["UPDATE"]
    assert sql_of(replica_queries) == []


def test_reads_spread_over_several_replicas(replica):
    _add_mirror("replica_1")
    try:
        router = ReplicaRouter()
        with reading_from_replica():
            chosen = {router.db_for_read(Order) for _ in range(200)}
    finally:
        _remove("replica_1")

    assert chosen == {"replica_0", "replica_1"}


@pytest.mark.django_db
def test_without_replicas_the_replica_block_reads_the_primary():
    assert replica_aliases() == []
    with reading_from_replica():
        assert ReplicaRouter().db_for_read(Order) == "default"


@pytest.mark.parametrize("path", ["ambassadors", "ambassadors/{id}"])
def test_the_ambassador_routes_read_from_the_replica(replica, path):
    ambassador = AmbassadorFactory.create()
    token = ApiTokenFactory.create(brand=ambassador.brand)
    client = APIClient()
    client.credentials(**bearer(token))
    client.get("/api/v2/platform/ambassadors")  # the token's first use is written once

    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections[replica]) as replica_queries,
    ):
        response = client.get("/api/v2/platform/" + path.format(id=ambassador.pk))

    assert response.status_code == 200
    primary_sql = sql_of(primary)
    assert len(primary_sql) == 1
    assert TOKEN_TABLE in primary_sql[0]
    replica_sql = sql_of(replica_queries)
    assert replica_sql
    assert all(Ambassador._meta.db_table in sql for sql in replica_sql)
    assert not any(TOKEN_TABLE in sql for sql in replica_sql)
