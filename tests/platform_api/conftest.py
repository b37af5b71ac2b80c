"""A real PgBouncer (Debian's) in transaction mode, in front of the test database's server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection

from bench import pgbouncer
from platform_api.postgresql.base import DatabaseWrapper


def _server_url() -> str:
    settings = connection.settings_dict
    auth = settings["USER"] or "postgres"
    if settings["PASSWORD"]:
        auth += f":{settings['PASSWORD']}"
    return f"postgres://{auth}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/"


@pytest.fixture(scope="session")
def bouncer(django_db_setup) -> Iterator[pgbouncer.Bouncer]:
    """PgBouncer in transaction mode with 2 server connections, for the whole session."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL=postgres://...)")
    if pgbouncer.executable() is None:
        pytest.skip("needs Debian's pgbouncer (apt-get install pgbouncer; .ci/run installs it)")
    with pgbouncer.running(_server_url(), pool_mode="transaction", pool_size=2) as running:
        yield running


@pytest.fixture
def through_bouncer(bouncer) -> Iterator[Any]:
    """`make(**settings)`: a connection of the project's backend to the test database through
    PgBouncer, with these settings over the test database's; closed afterwards."""
    made: list[DatabaseWrapper] = []

    def make(**overrides: Any) -> DatabaseWrapper:
        settings = {
            **connection.settings_dict,
            "HOST": "127.0.0.1",
            "PORT": str(bouncer.port),
            "PASSWORD": "",
            **overrides,
        }
        settings["OPTIONS"] = {
            **connection.settings_dict["OPTIONS"],
            **overrides.get("OPTIONS", {}),
        }
        wrapper = DatabaseWrapper(settings, alias=f"through_bouncer_{len(made)}")
        made.append(wrapper)
        return wrapper

    yield make
    for wrapper in made:
        wrapper.close()
        wrapper.close_pool()
