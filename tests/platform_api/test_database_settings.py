"""The connection policy chosen by configuration: persistent connections, a pool, PgBouncer."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from platform_api.settings.base import database_config

PG_URL = "postgres://app:pw@db.internal:5432/platform_api"
POLICY_VARIABLES = [
    "DATABASE_POOL_SIZE",
    "DATABASE_CONN_MAX_AGE",
    "DATABASE_SERVER_SIDE_BINDING",
    "DATABASE_CONNECT_TIMEOUT",
    "DATABASE_DISABLE_SERVER_SIDE_CURSORS",
    "DATABASE_REPLICA_URLS",
    "DATABASE_POOLER",
]
BASE_SETTINGS = Path(__file__).resolve().parents[2] / "platform_api" / "settings" / "base.py"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    for name in POLICY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_default_is_persistent_connections_with_health_checks():
    config = database_config(PG_URL)

    assert config["ENGINE"] == "platform_api.postgresql"
    assert (config["CONN_MAX_AGE"], config["CONN_HEALTH_CHECKS"]) == (60, True)
    assert config["OPTIONS"] == {
        "server_side_binding": True,
        "prepare_threshold": 5,
        "connect_timeout": 3,
    }
    assert config["DISABLE_SERVER_SIDE_CURSORS"] is False
    # Each connection finds out whether a pooler multiplexes it (platform_api/pooler.py).
    assert (config["POOLER"], config["PREPARED_STATEMENTS"], config["SERVER_SIDE_CURSORS"]) == (
        "auto",
        None,
        None,
    )


def test_a_declared_transaction_pooler_gets_no_session_features(monkeypatch):
    monkeypatch.setenv("DATABASE_POOLER", "transaction")

    config = database_config(PG_URL)

    assert config["POOLER"] == "transaction"
    assert config["OPTIONS"]["server_side_binding"] is False
    assert "prepare_threshold" not in config["OPTIONS"]
    assert config["DISABLE_SERVER_SIDE_CURSORS"] is True


@pytest.mark.parametrize(
    ("name", "value"),
    [("DATABASE_SERVER_SIDE_BINDING", "1"), ("DATABASE_DISABLE_SERVER_SIDE_CURSORS", "0")],
)
def test_a_session_feature_forced_behind_a_declared_transaction_pooler_stops_the_service(
    monkeypatch, name, value
):
    monkeypatch.setenv("DATABASE_POOLER", "transaction")
    monkeypatch.setenv(name, value)

    with pytest.raises(ImproperlyConfigured, match=f"{name}={value}.*transaction pooler"):
        database_config(PG_URL)


def test_prepared_statements_forced_on_are_kept_for_the_connection_to_check(monkeypatch):
    monkeypatch.setenv("DATABASE_SERVER_SIDE_BINDING", "1")

    config = database_config(PG_URL)

    assert config["PREPARED_STATEMENTS"] is True
    assert config["OPTIONS"]["server_side_binding"] is True


def test_connection_age_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("DATABASE_CONN_MAX_AGE", "0")

    assert database_config(PG_URL)["CONN_MAX_AGE"] == 0


def test_a_pool_size_switches_to_psycopg_pool_and_off_persistent_connections(monkeypatch):
    monkeypatch.setenv("DATABASE_POOL_SIZE", "8")
    monkeypatch.setenv("DATABASE_CONN_MAX_AGE", "600")  # ignored: Django refuses both at once

    config = database_config(PG_URL)

    assert config["OPTIONS"]["pool"] == {"min_size": 1, "max_size": 8, "timeout": 5}
    assert config["CONN_MAX_AGE"] == 0
    # Django hands the pool psycopg's check_connection only with health checks on.
    assert config["CONN_HEALTH_CHECKS"] is True


def test_pgbouncer_transaction_mode_settings(monkeypatch):
    monkeypatch.setenv("DATABASE_DISABLE_SERVER_SIDE_CURSORS", "1")
    monkeypatch.setenv("DATABASE_SERVER_SIDE_BINDING", "0")

    config = database_config(PG_URL)

    assert config["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert config["OPTIONS"]["server_side_binding"] is False


def test_server_side_binding_is_on_by_default_and_explicitly(monkeypatch):
    assert database_config(PG_URL)["OPTIONS"]["server_side_binding"] is True
    monkeypatch.setenv("DATABASE_SERVER_SIDE_BINDING", "1")

    assert database_config(PG_URL)["OPTIONS"]["server_side_binding"] is True


def test_a_connect_timeout_in_the_url_wins_over_the_default():
    config = database_config(PG_URL + "?connect_timeout=10")

    assert int(config["OPTIONS"]["connect_timeout"]) == 10


def test_sqlite_gets_none_of_the_postgresql_policy(monkeypatch):
    monkeypatch.setenv("DATABASE_POOL_SIZE", "8")

    config = database_config("sqlite:////tmp/x.sqlite3")

    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert "pool" not in config.get("OPTIONS", {})
    assert not config.get("DISABLE_SERVER_SIDE_CURSORS")
    assert "CONN_MAX_AGE" not in config or config["CONN_MAX_AGE"] == 0


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_POOL_SIZE", "eight"),
        ("DATABASE_DISABLE_SERVER_SIDE_CURSORS", "maybe"),
        ("DATABASE_POOLER", "pgbouncer"),
    ],
)
def test_a_malformed_value_stops_the_service(monkeypatch, name, value):
    monkeypatch.setenv(name, value)

    with pytest.raises(ImproperlyConfigured, match=name):
        database_config(PG_URL)


def _databases_with(monkeypatch, **env: str) -> dict:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    # The settings module read afresh: DATABASES is computed when it is imported.
    return runpy.run_path(str(BASE_SETTINGS))["DATABASES"]


def test_no_replica_by_default(monkeypatch):
    assert list(_databases_with(monkeypatch, DATABASE_URL=PG_URL)) == ["default"]


def test_each_replica_url_becomes_an_alias_with_the_same_policy(monkeypatch):
    databases = _databases_with(
        monkeypatch,
        DATABASE_URL=PG_URL,
        DATABASE_REPLICA_URLS="postgres://r@replica-a:5432/p, postgres://r@replica-b:5432/p",
        DATABASE_POOL_SIZE="4",
    )

    assert list(databases) == ["default", "replica_0", "replica_1"]
    assert [databases[a]["HOST"] for a in ("replica_0", "replica_1")] == ["replica-a", "replica-b"]
    assert all(db["OPTIONS"]["pool"]["max_size"] == 4 for db in databases.values())


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the pool is psycopg's")
@pytest.mark.django_db
@pytest.mark.parametrize("pool_size", ["0", "2"])
def test_each_policy_connects_for_real(monkeypatch, pool_size):
    # Django accepts the produced settings (it refuses, e.g., a pool with persistent connections)
    # and psycopg connects with them.
    from django.db.backends.postgresql.base import DatabaseWrapper

    monkeypatch.setenv("DATABASE_POOL_SIZE", pool_size)
    config = database_config("postgres://unused/unused")
    settings_dict = {
        **connection.settings_dict,
        **{k: config[k] for k in ("OPTIONS", "CONN_MAX_AGE")},
    }
    wrapper = DatabaseWrapper(settings_dict, alias=f"policy_{pool_size}")
    try:
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT 1")
            assert cursor.fetchone() == (1,)
        assert (wrapper.pool is not None) is (pool_size != "0")
    finally:
        wrapper.close()
        wrapper.close_pool()
