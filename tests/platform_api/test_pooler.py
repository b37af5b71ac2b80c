"""The pooler mode: decided per connection, from the settings and what answers; multiplexed
connections never prepare statements nor open server-side cursors; contradictions refused."""

from __future__ import annotations

import logging
from typing import Any
from unittest import mock

import psycopg
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import OperationalError, connection

from platform_api import pooler
from platform_api.pooler import Pooling, decide, needs_probe, pooler_mode

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL (set DATABASE_URL=postgres://...)"
)


def settings(**values: Any) -> dict[str, Any]:
    return {"POOLER": "auto", "PREPARED_STATEMENTS": None, "SERVER_SIDE_CURSORS": None, **values}


# --- the decision ---------------------------------------------------------------------------


def test_auto_uses_session_features_when_postgresql_answers_directly():
    mode = decide(settings(), key_pid=4242, backend_pid=4242)

    assert (mode.pooling, mode.prepared_statements, mode.server_side_cursors) == (
        Pooling.NONE,
        True,
        True,
    )
    assert not mode.multiplexed
    assert "directly" in mode.reason


def test_auto_treats_a_pooler_as_multiplexing():
    mode = decide(settings(), key_pid=-1276520992, backend_pid=4242)

    assert (mode.pooling, mode.prepared_statements, mode.server_side_cursors) == (
        Pooling.TRANSACTION,
        False,
        False,
    )
    assert mode.multiplexed
    assert "a pooler answers" in mode.reason


@pytest.mark.parametrize(
    ("forced", "named"),
    [
        ({"PREPARED_STATEMENTS": True}, "DATABASE_SERVER_SIDE_BINDING=1"),
        ({"SERVER_SIDE_CURSORS": True}, "DATABASE_DISABLE_SERVER_SIDE_CURSORS=0"),
    ],
)
def test_a_session_feature_forced_on_behind_a_pooler_is_refused(forced, named):
    with pytest.raises(ImproperlyConfigured, match=named) as refused:
        decide(settings(**forced), key_pid=1, backend_pid=2)

    assert "transaction pooler" in str(refused.value)


def test_operator_turned_features_off_stay_off_on_a_direct_connection():
    mode = decide(
        settings(PREPARED_STATEMENTS=False, SERVER_SIDE_CURSORS=False), key_pid=7, backend_pid=7
    )

    assert (mode.prepared_statements, mode.server_side_cursors) == (False, False)


def test_none_is_checked_against_what_answers():
    assert decide(settings(POOLER="none"), key_pid=7, backend_pid=7).pooling is Pooling.NONE
    with pytest.raises(ImproperlyConfigured, match="DATABASE_POOLER=none, but a pooler answers"):
        decide(settings(POOLER="none"), key_pid=1, backend_pid=2)


def test_session_and_transaction_are_taken_as_configured_without_a_probe():
    session = decide(settings(POOLER="session"))
    transaction = decide(settings(POOLER="transaction"))

    assert (session.pooling, session.prepared_statements) == (Pooling.SESSION, True)
    assert (transaction.pooling, transaction.prepared_statements) == (Pooling.TRANSACTION, False)
    assert not needs_probe(settings(POOLER="session"))
    assert not needs_probe(settings(POOLER="transaction"))
    assert needs_probe(settings())
    assert needs_probe(settings(POOLER="none"))


def test_sqlite_has_no_pooler():
    if connection.vendor == "postgresql":
        pytest.skip("the SQLite answer")
    assert pooler_mode() == pooler.NOT_POSTGRESQL


# --- real connections -----------------------------------------------------------------------


@postgres_only
@pytest.mark.django_db
def test_the_test_database_is_reached_directly_and_prepares():
    mode = pooler_mode()

    assert mode.pooling is Pooling.NONE
    assert mode.reason.startswith("detected: PostgreSQL answers directly")
    assert connection.connection.prepare_threshold == 5


@postgres_only
@pytest.mark.django_db
def test_behind_pgbouncer_nothing_is_prepared_and_cursors_are_client_side(through_bouncer):
    wrapper = through_bouncer()

    with wrapper.cursor() as cursor:
        for _ in range(10):  # past psycopg's threshold (5), a direct connection would prepare
            cursor.execute("SELECT %s::int + 1", [1])
            assert cursor.fetchone() == (2,)

    assert wrapper.pooler_mode.pooling is Pooling.TRANSACTION
    assert wrapper.connection.prepare_threshold is None
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        assert cursor.fetchone() == (0,)
    chunked = wrapper.chunked_cursor()
    try:
        assert not isinstance(chunked.cursor, psycopg.ServerCursor)
        chunked.execute("SELECT generate_series(1, 3)")
        assert [row[0] for row in chunked.fetchall()] == [1, 2, 3]
    finally:
        chunked.close()


@postgres_only
@pytest.mark.django_db
def test_directly_iterator_uses_a_server_side_cursor():
    chunked = connection.chunked_cursor()
    try:
        assert isinstance(chunked.cursor, psycopg.ServerCursor)
    finally:
        chunked.close()


@postgres_only
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"PREPARED_STATEMENTS": True}, "DATABASE_SERVER_SIDE_BINDING=1"),
        ({"POOLER": "none"}, "DATABASE_POOLER=none, but a pooler answers"),
    ],
)
def test_a_contradiction_behind_pgbouncer_refuses_the_connection(
    through_bouncer, overrides, message
):
    wrapper = through_bouncer(**overrides)

    with pytest.raises(ImproperlyConfigured, match=message):
        wrapper.ensure_connection()

    assert wrapper.connection is None  # nothing half-configured is kept for the next use


@postgres_only
@pytest.mark.django_db
def test_with_a_pool_each_physical_connection_is_probed_once(through_bouncer):
    wrapper = through_bouncer(
        CONN_MAX_AGE=0, OPTIONS={"pool": {"min_size": 1, "max_size": 1, "timeout": 5}}
    )

    with mock.patch.object(pooler, "decide", wraps=pooler.decide) as decided:
        for _ in range(3):
            wrapper.ensure_connection()
            assert wrapper.pooler_mode.multiplexed
            assert wrapper.connection.prepare_threshold is None
            wrapper.close()  # back to the pool

    assert decided.call_count == 1


# --- the startup log ------------------------------------------------------------------------


@pytest.mark.django_db
def test_startup_logs_the_mode_of_each_database(caplog):
    with caplog.at_level(logging.INFO, logger="platform_api.pooler"):
        pooler.log_database_modes()

    (record,) = [r for r in caplog.records if r.getMessage() == "database pooler mode"]
    fields: Any = record.fields
    assert fields["alias"] == "default"
    assert fields["pooling"] == "none"
    assert fields["reason"]


@pytest.mark.django_db
def test_startup_with_the_database_down_logs_and_carries_on(caplog):
    with (
        mock.patch.object(pooler, "pooler_mode", side_effect=OperationalError("refused")),
        caplog.at_level(logging.INFO, logger="platform_api.pooler"),
    ):
        pooler.log_database_modes()

    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert "decided when it answers" in caplog.records[0].getMessage()
